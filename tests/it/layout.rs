//! The architecture's invariants (ARCHITECTURE.md), checked on the source tree: no import cycles
//! between the top-level modules of `src/`, no stage imports `output`, only `output` prints, the
//! pure stages do no I/O, every module says what it is for, and no source file is over the size a
//! reader takes in at once. Reads files only; never builds or runs anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Longest source file, in lines, in `src/` and in the simulator's `src/` ("about 400").
const MAX_LINES: usize = 420;

/// Top-level modules that must stay pure: no files, no network, no clock, no printing.
const PURE: &[&str] = &["plan"];

/// What pure code must not mention.
const IO: &[&str] = &[
    "std::fs",
    "tokio::",
    "kube::Api",
    "kube::Client",
    "std::net",
    "std::process",
    "Instant::now",
    "SystemTime::now",
    "std::io::stdout",
    "std::io::stderr",
];

/// What printing looks like outside `output`.
const PRINTING: &[&str] = &[
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "io::stdout",
    "io::stderr",
    "dbg!(",
];

/// One source file: its path under `src/`, its top-level module, and its code without tests.
struct Source {
    path: PathBuf,
    top: String,
    code: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// Modules declared behind `#[cfg(test)]` (`mod tests;`, `mod fuzz;`): test code, not the product.
fn test_modules(text: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "#[cfg(test)]")
        .filter_map(|pair| {
            let rest = pair[1].strip_prefix("pub ").unwrap_or(pair[1]);
            rest.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_owned)
        })
        .collect()
}

/// The product's code in `src/`: test-only files are left out, and each file is cut at its first
/// `#[cfg(test)]` (inline test modules sit at the end of a file).
fn product_sources() -> Vec<Source> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable source");
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "main.rs")
        {
            file.parent().expect("a folder").to_path_buf()
        } else {
            file.with_extension("")
        };
        for name in test_modules(&text) {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name));
        }
    }
    files
        .into_iter()
        .filter(|file| !test_only.iter().any(|t| file.starts_with(t)))
        .map(|file| {
            let text = fs::read_to_string(&file).expect("readable source");
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            let relative = file.strip_prefix(&src).expect("under src").to_path_buf();
            let first = relative.components().next().expect("a component");
            let top = Path::new(first.as_os_str())
                .file_stem()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            Source {
                path: relative,
                top,
                code,
            }
        })
        .collect()
}

/// The top-level modules one file's code names through `crate::`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            // `use crate::{a::B, c, d::{E, F}}`: the first segment of each item, at depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for ch in group[..end].chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        push_first_segment(&item, &mut names);
                        item.clear();
                    }
                    _ if depth == 0 => item.push(ch),
                    _ => {}
                }
            }
            push_first_segment(&item, &mut names);
        } else {
            push_first_segment(rest, &mut names);
        }
    }
    names
}

fn push_first_segment(text: &str, names: &mut BTreeSet<String>) {
    let name: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() && name != "self" {
        names.insert(name);
    }
}

/// Top-level module → the top-level modules it uses (itself and `main` left out).
fn module_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources.iter().filter(|s| s.top != "main") {
        let uses = graph.entry(source.top.clone()).or_default();
        for name in crate_references(&source.code) {
            if name != source.top {
                uses.insert(name);
            }
        }
    }
    graph
}

/// One cycle in the graph, if there is any (depth-first search with a path stack).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_have_no_import_cycles() {
    let graph = module_graph(&product_sources());
    assert!(graph.len() > 3, "the tree was read: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between top-level modules: {}\n(shared types move down into the module \
             that owns them)",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph).expect("a cycle"),
        ["a", "b", "c", "a"].map(str::to_owned)
    );
    let acyclic: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(find_cycle(&acyclic), None);
    assert_eq!(
        crate_references("use crate::{a::B, c, d::{E, F}};\nlet x = crate::e::f();"),
        ["a", "c", "d", "e"].map(str::to_owned).into()
    );
}

#[test]
fn no_stage_imports_output() {
    let offenders: Vec<String> = product_sources()
        .iter()
        .filter(|s| s.top != "output" && s.top != "main")
        .filter(|s| crate_references(&s.code).contains("output"))
        .map(|s| s.path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "stages report through the event sink, never by calling `output`: {offenders:?}"
    );
}

#[test]
fn only_output_prints() {
    let mut offenders = Vec::new();
    for source in product_sources().iter().filter(|s| s.top != "output") {
        for needle in PRINTING {
            if source.code.contains(needle) {
                offenders.push(format!("{} uses `{needle}`", source.path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "only `output` prints: {offenders:?}");
}

#[test]
fn pure_stages_do_no_io() {
    let sources = product_sources();
    let mut offenders = Vec::new();
    for pure in PURE {
        let files: Vec<&Source> = sources.iter().filter(|s| s.top == *pure).collect();
        assert!(!files.is_empty(), "the pure module `{pure}` exists");
        for source in files {
            for needle in IO {
                if source.code.contains(needle) {
                    offenders.push(format!("{} mentions `{needle}`", source.path.display()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "pure stages do no I/O: {offenders:?}");
}

#[test]
fn every_module_says_what_it_is_for() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("tests/fake-cluster/src"), &mut files);
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = fs::read_to_string(file).expect("readable source");
            !text.trim_start().starts_with("//!")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "every module opens with a `//!` comment saying what it is for and what it never does: \
         {undocumented:?}"
    );
}

#[test]
fn no_source_file_is_over_the_size_a_reader_takes_in() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("tests/fake-cluster/src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = fs::read_to_string(file)
                .expect("readable source")
                .lines()
                .count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by responsibility (at most {MAX_LINES} lines): {long:?}"
    );
}
