//! `--write` and `-o diff`: the manifest files with only the image scalars of the changed
//! containers replaced, byte for byte. Comments, quoting, indentation, key order, document
//! separators, CRLF line endings and a missing final newline all stay, because nothing but the
//! scalars' own bytes (found by `manifest::load`) is touched. Everything is planned before anything is
//! written; each file is written atomically (a temporary file in the same directory, renamed over
//! it, with the same permissions). Never re-serialises a document; never prints.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::ops::Range;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::error::{Exit, Failure};
use crate::manifest::load::Style;
use crate::manifest::yaml11;
use crate::preview::Preview;

/// A file whose text changes.
#[derive(Debug)]
pub struct Rewrite {
    /// As given, for messages and diff headers.
    pub name: String,
    /// `None` for standard input (only for `-o diff`).
    pub path: Option<PathBuf>,
    pub before: String,
    pub after: String,
}

/// Plans the new text of every file with a change. Any image that cannot be edited safely (a
/// Helm template, an anchor shared with fields that do not change, a block scalar) fails the
/// whole run, before any file is written (exit 1).
pub fn plan(preview: &Preview) -> Result<Vec<Rewrite>, Failure> {
    // File index → (byte range → new text).
    let mut splices: BTreeMap<usize, BTreeMap<usize, (Range<usize>, String)>> = BTreeMap::new();
    let mut anchors: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for edit in &preview.edits {
        let document = &preview.updated[edit.document];
        let fail = |message: String| {
            Failure::new(
                Exit::Failed,
                format!(
                    "{}: document {}: {message}",
                    document.source, document.index
                ),
            )
        };
        let layout = document
            .layout
            .as_ref()
            .ok_or_else(|| fail("no source text to edit".to_owned()))?;
        let file = &preview.files[layout.file];
        if !splices.contains_key(&layout.file) && file.text.contains("{{") {
            return Err(Failure::new(
                Exit::Failed,
                format!(
                    "{}: looks like a Helm template (`{{{{ … }}}}`); kubectl-update does not edit templates: set the image in the chart's values instead",
                    file.name
                ),
            ));
        }
        let Some(scalar) = layout.images.iter().find(|it| it.pointer == edit.pointer) else {
            return Err(fail(format!(
                "cannot find where the image at {} is written (a `<<` merge key?); change it by hand",
                edit.pointer
            )));
        };
        let replacement = match scalar.style {
            Style::Plain if needs_quotes(&edit.to) => double_quoted(&edit.to),
            Style::Plain => edit.to.clone(),
            Style::SingleQuoted => format!("'{}'", edit.to.replace('\'', "''")),
            Style::DoubleQuoted => double_quoted(&edit.to),
            Style::Block => {
                return Err(fail(format!(
                    "line {}: the image is a block scalar (`|` or `>`); write it on one line to let kubectl-update change it",
                    scalar.line
                )));
            }
        };
        if scalar.anchor != 0 {
            *anchors.entry((edit.document, scalar.anchor)).or_default() += 1;
        }
        let file_splices = splices.entry(layout.file).or_default();
        match file_splices.get(&scalar.range.start) {
            Some((_, existing)) if *existing != replacement => {
                return Err(fail(format!(
                    "line {}: the image is an anchor shared by containers that get different images; change it by hand",
                    scalar.line
                )));
            }
            _ => {
                file_splices.insert(scalar.range.start, (scalar.range.clone(), replacement));
            }
        }
    }
    for ((document_idx, anchor), n_changed) in anchors {
        let document = &preview.updated[document_idx];
        let Some(layout) = &document.layout else {
            continue;
        };
        let n_uses = 1 + layout.alias_uses.get(&anchor).copied().unwrap_or(0);
        if n_changed != n_uses {
            let line = layout
                .images
                .iter()
                .find(|it| it.anchor == anchor)
                .map_or(0, |it| it.line);
            return Err(Failure::new(
                Exit::Failed,
                format!(
                    "{}: document {}: line {line}: the image is an anchor (`&`) also used by fields that do not change; change it by hand",
                    document.source, document.index
                ),
            ));
        }
    }
    let mut res = Vec::new();
    for (file_idx, file_splices) in splices {
        let file = &preview.files[file_idx];
        let mut after = String::with_capacity(file.text.len() + 64);
        let mut cursor = 0;
        for (range, replacement) in file_splices.values() {
            after.push_str(&file.text[cursor..range.start]);
            after.push_str(replacement);
            cursor = range.end;
        }
        after.push_str(&file.text[cursor..]);
        if after != file.text {
            res.push(Rewrite {
                name: file.name.clone(),
                path: file.path.clone(),
                before: file.text.clone(),
                after,
            });
        }
    }
    Ok(res)
}

/// A unified diff of every rewrite, `a/NAME` against `b/NAME`, three lines of context.
pub fn diff(rewrites: &[Rewrite]) -> String {
    let mut res = String::new();
    for rewrite in rewrites {
        // Patience: every unique line (a name, a comment) anchors the diff, so a file with
        // thousands of changed image lines is diffed in about linear time, not Myers' O(N·D).
        let text = similar::TextDiff::configure()
            .algorithm(similar::Algorithm::Patience)
            // Past this, a coarser but still correct diff rather than a hang.
            .deadline(std::time::Instant::now() + std::time::Duration::from_secs(5))
            .diff_lines(&rewrite.before, &rewrite.after)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{}", rewrite.name),
                &format!("b/{}", rewrite.name),
            )
            .to_string();
        res.push_str(&text);
    }
    res
}

/// Writes every rewrite, each atomically, keeping the file's permissions.
pub fn write(rewrites: &[Rewrite]) -> anyhow::Result<()> {
    for rewrite in rewrites {
        let Some(path) = &rewrite.path else {
            continue;
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let permissions = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot read its permissions", rewrite.name))?
            .permissions();
        let mut temporary = tempfile::Builder::new()
            .prefix(".kubectl-update-")
            .tempfile_in(&dir)
            .with_context(|| {
                format!(
                    "{}: cannot create a temporary file in {}",
                    rewrite.name,
                    dir.display()
                )
            })?;
        temporary
            .write_all(rewrite.after.as_bytes())
            .and_then(|()| temporary.as_file().sync_all())
            .and_then(|()| std::fs::set_permissions(temporary.path(), permissions))
            .with_context(|| format!("{}: cannot write the temporary file", rewrite.name))?;
        temporary
            .persist(path)
            .with_context(|| format!("{}: cannot replace the file", rewrite.name))?;
    }
    Ok(())
}

/// A plain scalar that would not read back as this exact string (kubectl's YAML 1.1 rules, or
/// YAML syntax) is written double-quoted instead.
fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || !matches!(yaml11::resolve(text), yaml11::Scalar::Str(_))
        || text.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        || text.ends_with([' ', ':'])
        || text.contains(": ")
        || text.contains(" #")
        || text.contains([',', '[', ']', '{', '}', '\n', '\t'])
}

fn double_quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}
