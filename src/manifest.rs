//! Reading manifest files for offline mode: files, directories (recursively: `*.yaml`, `*.yml`,
//! `*.json`) and standard input; multi-document YAML, JSON streams and `kind: List`.
//!
//! Documents are kept whole and in input order so `-o yaml` can print them back with only image
//! fields changed. Errors name the file, the line and what to fix.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

/// Where a document came from, for messages: a path, or `<stdin>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: String,
    /// 1-based position among the file's non-empty documents.
    pub index: usize,
    pub value: Value,
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
    let mut documents = Vec::new();
    for source in sources {
        if source.as_os_str() == "-" {
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .context("reading manifests from standard input")?;
            documents.extend(parse("<stdin>", &text, Format::Yaml)?);
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
            documents.extend(parse(&path.display().to_string(), &text, format)?);
        }
    }
    Ok(documents)
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
    let values = match format {
        Format::Json => parse_json(text),
        Format::Yaml => parse_yaml(text),
    }
    .map_err(|message| ManifestError {
        source_name: source_name.to_owned(),
        message,
    })?;
    let mut documents = Vec::with_capacity(values.len());
    for (position, value) in values.into_iter().enumerate() {
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

fn parse_yaml(text: &str) -> Result<Vec<Value>, String> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: usize::MAX,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
        },
    };
    let values: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|err| {
            let reason = first_line(&err.without_snippet().to_string());
            match err.location() {
                Some(location) => format!(
                    "line {}, column {}: invalid YAML: {reason}",
                    location.line(),
                    location.column()
                ),
                None => format!("invalid YAML: {reason}"),
            }
        })?;
    Ok(values
        .into_iter()
        .filter(|value| !value.is_null())
        .collect())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    // saphyr appends its own " at line N column M"; the caller reports the location once.
    match line.find(" at line ") {
        Some(idx) => line[..idx].to_owned(),
        None => line.to_owned(),
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
        };
        let out = to_yaml(&[document]).unwrap();
        let again = yaml(&out).unwrap();
        assert_eq!(again[0], docs[0]);
        assert!(out.find("b:").unwrap() < out.find("a:").unwrap(), "{out}");
    }
}
