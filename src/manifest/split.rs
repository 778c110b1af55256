//! Where a large YAML stream may be cut so its parts load on every core: at kubectl's document
//! separators. kubectl (apimachinery's `YAMLReader`) splits a stream into documents by text before
//! parsing any of them: a line that starts with `---` followed by nothing but blanks or a comment.
//! YAML agrees that such a line ends whatever came before it. Streams with directives (`%YAML`,
//! `%TAG`) are not cut, as a directive applies to the document after it. Pure; reads text only.

use std::ops::Range;

/// Parts smaller than this are not worth a thread.
const MIN_PART: usize = 256 * 1024;

/// The parts of `text` to load separately, at most `threads`, each starting at the beginning of the
/// text or of a separator line, together covering all of it. One part when the text is small, has
/// directives, or has no separator.
pub fn parts(text: &str, threads: usize) -> Vec<Range<usize>> {
    let wanted = threads.min(text.len() / MIN_PART).max(1);
    if wanted == 1 {
        return whole(text);
    }
    let mut cuts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('%') {
            return whole(text);
        }
        if offset > 0 && is_separator(line) {
            cuts.push(offset);
        }
        offset += line.len();
    }
    // The separators nearest to even shares of the text.
    let mut starts = vec![0];
    for share in 1..wanted {
        let target = text.len() * share / wanted;
        let nearest = cuts.partition_point(|it| *it < target);
        if let Some(&cut) = cuts.get(nearest)
            && cut > *starts.last().unwrap_or(&0)
        {
            starts.push(cut);
        }
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(text.len());
    starts.into_iter().zip(ends).map(|(a, b)| a..b).collect()
}

/// The whole text as the only part.
fn whole(text: &str) -> Vec<Range<usize>> {
    std::iter::once(0..text.len()).collect()
}

/// `---` at the start of a line, then only blanks or a comment (kubectl's separator).
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        rest.is_empty() || rest.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(documents: usize) -> String {
        (0..documents)
            .map(|it| {
                format!(
                    "---\nkind: ConfigMap\nmetadata:\n  name: cm-{it}\ndata:\n  k: '{}'\n",
                    "x".repeat(200)
                )
            })
            .collect()
    }

    #[test]
    fn small_texts_are_one_part() {
        assert_eq!(parts("a: 1\n---\nb: 2\n", 8), whole("a: 1\n---\nb: 2\n"));
        assert_eq!(whole("ab"), vec![(0..2)]);
    }

    #[test]
    fn large_texts_are_cut_at_separators_into_covering_parts() {
        let text = stream(10_000);
        let parts = parts(&text, 4);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].start, 0);
        assert_eq!(parts.last().map(|it| it.end), Some(text.len()));
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert!(text[pair[1].clone()].starts_with("---\n"));
        }
    }

    #[test]
    fn directives_and_separators_with_content_are_not_cut() {
        let text = format!("%YAML 1.1\n{}", stream(10_000));
        assert_eq!(parts(&text, 4).len(), 1);
        let text = stream(10_000).replace("---\n", "--- !!map\n");
        assert_eq!(parts(&text, 4).len(), 1);
        assert!(is_separator("--- # first\n"));
        assert!(is_separator("---\r\n"));
        assert!(!is_separator("----\n"));
        assert!(!is_separator("--- a: 1\n"));
    }
}
