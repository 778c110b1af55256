//! Reading manifest files for offline mode: files, directories (recursively: `*.yaml`, `*.yml`,
//! `*.json`) and standard input; multi-document YAML, JSON streams and `kind: List`.
//!
//! Documents are kept whole and in input order so `-o yaml` can print them back with only image
//! fields changed, together with the text they came from and where their `image:` scalars are,
//! so `rewrite` can edit the files in place. YAML is read as kubectl reads it (`manifest::load`).
//! Errors name the file, the line and what to fix. Never writes a file.

pub mod load;
pub mod split;
pub mod yaml11;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::manifest::load::ImageScalar;

/// Where a document came from, for messages: a path, or `<stdin>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: String,
    /// 1-based position among the file's non-empty documents.
    pub index: usize,
    pub value: Value,
    /// Where the document is in its source text; `None` for documents made in memory.
    pub layout: Option<Layout>,
}

/// A document's place in its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Index into `Manifests::files`.
    pub file: usize,
    pub images: Vec<ImageScalar>,
    /// How many aliases refer to each anchor of the document.
    pub alias_uses: HashMap<usize, usize>,
}

/// Every document read, and the text of every source they came from.
#[derive(Debug)]
pub struct Manifests {
    pub documents: Vec<Document>,
    pub files: Vec<SourceFile>,
}

/// One source as read: a file, or standard input.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub text: String,
}

/// A manifest that cannot be read or parsed; always exit code 1.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct ManifestError {
    pub source_name: String,
    pub message: String,
}

/// Reads every document of every source, in order. `-` reads `stdin` (once).
pub fn read_all(sources: &[PathBuf], stdin: &mut dyn Read) -> anyhow::Result<Vec<Document>> {
    Ok(read_files(sources, stdin)?.documents)
}

/// Like `read_all`, keeping the source texts.
pub fn read_files(sources: &[PathBuf], stdin: &mut dyn Read) -> anyhow::Result<Manifests> {
    let mut res = Manifests {
        documents: Vec::new(),
        files: Vec::new(),
    };
    for source in sources {
        if source.as_os_str() == "-" {
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .context("reading manifests from standard input")?;
            res.add("<stdin>".to_owned(), None, text, Format::Yaml)?;
            continue;
        }
        for path in expand(source)? {
            let text = std::fs::read_to_string(&path).map_err(|err| ManifestError {
                source_name: path.display().to_string(),
                message: format!("cannot read: {err}"),
            })?;
            let format = if path.extension().is_some_and(|ext| ext == "json") {
                Format::Json
            } else {
                Format::Yaml
            };
            res.add(path.display().to_string(), Some(path), text, format)?;
        }
    }
    Ok(res)
}

impl Manifests {
    fn add(
        &mut self,
        name: String,
        path: Option<PathBuf>,
        text: String,
        format: Format,
    ) -> Result<(), ManifestError> {
        let file = self.files.len();
        let documents = parse(&name, &text, format).map_err(|err| {
            if text.contains("{{") {
                ManifestError {
                    source_name: name.clone(),
                    message: "looks like a Helm template (`{{ … }}`), which kubectl-update does not read or edit; render it first (`helm template … > rendered.yaml`) or set the image in the chart's values".to_owned(),
                }
            } else {
                err
            }
        })?;
        for mut document in documents {
            if let Some(layout) = &mut document.layout {
                layout.file = file;
            }
            self.documents.push(document);
        }
        self.files.push(SourceFile { name, path, text });
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

/// A file stands for itself; a directory for its manifest files, recursively, sorted by path.
fn expand(source: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let metadata = std::fs::metadata(source).map_err(|err| ManifestError {
        source_name: source.display().to_string(),
        message: format!("cannot read: {err}; check the path given to -f"),
    })?;
    if !metadata.is_dir() {
        return Ok(vec![source.to_owned()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![source.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|err| ManifestError {
            source_name: dir.display().to_string(),
            message: format!("cannot list directory: {err}"),
        })?;
        for entry in entries {
            let path = entry
                .map_err(|err| ManifestError {
                    source_name: dir.display().to_string(),
                    message: format!("cannot list directory: {err}"),
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml" || ext == "json")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn parse(source_name: &str, text: &str, format: Format) -> Result<Vec<Document>, ManifestError> {
    let loaded = match format {
        Format::Json => parse_json(text).map(|values| {
            // JSON is read as JSON; the YAML reader only finds where the images are written.
            let mut layouts = load::load(text).ok().unwrap_or_default();
            if layouts.len() != values.len() {
                layouts.clear();
            }
            let mut layouts = layouts.into_iter();
            values
                .into_iter()
                .map(|value| (value, layouts.next().map(|it| (it.images, it.alias_uses))))
                .collect::<Vec<_>>()
        }),
        Format::Yaml => load::load(text).map(|loaded| {
            loaded
                .into_iter()
                .map(|it| (it.value, Some((it.images, it.alias_uses))))
                .collect()
        }),
    }
    .map_err(|message| ManifestError {
        source_name: source_name.to_owned(),
        message,
    })?;
    let mut documents = Vec::with_capacity(loaded.len());
    for (position, (value, layout)) in loaded.into_iter().enumerate() {
        let index = position + 1;
        if !value.is_object() {
            return Err(ManifestError {
                source_name: source_name.to_owned(),
                message: format!(
                    "document {index} is not a Kubernetes object (a mapping with apiVersion and kind)"
                ),
            });
        }
        documents.push(Document {
            source: source_name.to_owned(),
            index,
            value,
            layout: Some(Layout {
                file: 0,
                images: layout.as_ref().map(|it| it.0.clone()).unwrap_or_default(),
                alias_uses: layout.map(|it| it.1).unwrap_or_default(),
            }),
        });
    }
    Ok(documents)
}

/// A stream of JSON values (kubectl accepts several objects in one `.json` file).
fn parse_json(text: &str) -> Result<Vec<Value>, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            format!(
                "line {}, column {}: invalid JSON: {}",
                err.line(),
                err.column(),
                json_reason(&err)
            )
        })
}

fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(idx) => text[..idx].to_owned(),
        None => text,
    }
}

/// The objects inside a document: the document itself, or each item of a `kind: List`. Returned
/// as JSON pointers into the document ("" for the document itself).
pub fn object_pointers(document: &Value) -> Vec<String> {
    let is_list = document
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"));
    match document.get("items").and_then(Value::as_array) {
        Some(items) if is_list => (0..items.len())
            .map(|idx| format!("/items/{idx}"))
            .collect(),
        _ => vec![String::new()],
    }
}

/// Serialises documents back to multi-document YAML, separated by `---`.
pub fn to_yaml(documents: &[Document]) -> anyhow::Result<String> {
    let mut out = String::new();
    for (idx, document) in documents.iter().enumerate() {
        if idx > 0 {
            out.push_str("---\n");
        }
        out.push_str(
            &serde_saphyr::to_string(&document.value).context("serialising a manifest to YAML")?,
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn yaml(text: &str) -> Result<Vec<Value>, String> {
        parse("test.yaml", text, Format::Yaml)
            .map(|docs| docs.into_iter().map(|d| d.value).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn multi_document_yaml_with_empty_documents_and_comments() {
        let docs = yaml(
            r#"
# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
# only a comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b # trailing
"#,
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["metadata"]["name"], "b");
    }

    #[test]
    fn yaml_errors_name_file_and_line() {
        let err = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n").unwrap_err();
        assert!(err.starts_with("test.yaml: line "), "{err}");
        assert!(err.contains("invalid YAML"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn scalars_are_not_objects() {
        let err = yaml("just a string\n").unwrap_err();
        assert!(
            err.contains("document 1 is not a Kubernetes object"),
            "{err}"
        );
    }

    #[test]
    fn json_streams_and_errors() {
        let docs = parse("x.json", r#"{"kind":"A"} {"kind":"B"}"#, Format::Json).unwrap();
        assert_eq!(docs.len(), 2);
        let err = parse("x.json", "{\n\"kind\": }", Format::Json)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.json: line 2, column"), "{err}");
    }

    #[test]
    fn list_items_are_objects() {
        let list =
            json!({"apiVersion": "v1", "kind": "List", "items": [{"kind": "A"}, {"kind": "B"}]});
        assert_eq!(object_pointers(&list), vec!["/items/0", "/items/1"]);
        assert_eq!(object_pointers(&json!({"kind": "Deployment"})), vec![""]);
    }

    #[test]
    fn yaml_round_trip_keeps_key_order() {
        let docs = yaml("b: 1\na: {z: x, y: '010'}\n").unwrap();
        let document = Document {
            source: "t".into(),
            index: 1,
            value: docs[0].clone(),
            layout: None,
        };
        let out = to_yaml(&[document]).unwrap();
        let again = yaml(&out).unwrap();
        assert_eq!(again[0], docs[0]);
        assert!(out.find("b:").unwrap() < out.find("a:").unwrap(), "{out}");
    }
}
