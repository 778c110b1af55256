//! Offline mode (`-f`): read manifests, plan, and produce the preview — the report, for `-o yaml`
//! the manifests with only image fields changed, and for `--write` / `-o diff` the list of image
//! edits that `rewrite` splices into the files. Never contacts a cluster; never writes a file.

pub mod rewrite;

use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use crate::config::Config;
use crate::error::{Exit, Failure};
use crate::manifest::{self, Document, SourceFile};
use crate::plan::Namespaces;
use crate::plan::workload::{self, Kind};
use crate::plan::{self, Candidate, Plan};

/// The outcome of an offline preview.
#[derive(Debug)]
pub struct Preview {
    pub plan: Plan,
    /// Every input document, with the planned image changes applied.
    pub updated: Vec<Document>,
    pub n_documents: usize,
    /// The sources read, for `--write` and `-o diff`.
    pub files: Vec<SourceFile>,
    /// Every image change, in input order.
    pub edits: Vec<Edit>,
    /// What the reader should know, e.g. Kustomize image transformers left alone.
    pub warnings: Vec<String>,
}

/// One image field to change: the document (index into `updated`), the JSON pointer and the value.
#[derive(Debug, Clone)]
pub struct Edit {
    pub document: usize,
    pub pointer: String,
    pub to: String,
}

/// An object found in a document: where it is and how to plan it.
struct Located {
    document: usize,
    pointer: String,
    namespace: String,
    kind: Kind,
}

pub fn preview(
    config: &Config,
    sources: &[PathBuf],
    stdin: &mut dyn Read,
) -> anyhow::Result<Preview> {
    let manifest::Manifests { documents, files } = manifest::read_files(sources, stdin)?;
    let default_namespace = match &config.namespaces {
        Namespaces::Listed(listed) => listed[0].clone(),
        Namespaces::All | Namespaces::Default => "default".to_owned(),
    };
    let located = locate(&documents, &files, &default_namespace)?;
    let in_scope: Vec<&Located> = located
        .iter()
        .filter(|it| config.namespaces.includes(&it.namespace))
        .collect();
    let candidates: Vec<Candidate<'_>> = in_scope
        .iter()
        .enumerate()
        .map(|(origin, it)| Candidate {
            origin,
            namespace: &it.namespace,
            kind: it.kind,
            object: object_at(&documents[it.document].value, &it.pointer),
        })
        .collect();
    let plan = plan::plan(&config.request, &candidates)
        .map_err(|err| Failure::new(Exit::Failed, err.to_string()))?;
    if config.refuse_managed
        && let Some(refusal) = plan::owners::refusal(&plan)
    {
        return Err(refusal.into());
    }
    let mut updated = documents;
    let mut edits = Vec::new();
    // Edits in input order (the plan lists workloads sorted by name).
    let mut changed: Vec<&plan::WorkloadPlan> = plan.changed_workloads().collect();
    changed.sort_by_key(|it| it.origin);
    for workload in changed {
        let at = in_scope[workload.origin];
        for change in &workload.changes {
            let pointer = format!("{}{}", at.pointer, change.pointer);
            if let Some(field) = updated[at.document].value.pointer_mut(&pointer) {
                *field = Value::String(change.to.clone());
            }
            edits.push(Edit {
                document: at.document,
                pointer,
                to: change.to.clone(),
            });
        }
    }
    edits.sort_by_key(|it| it.document);
    let mut warnings: Vec<String> = files
        .iter()
        .filter(|it| it.text.contains("{{"))
        .map(|it| {
            format!(
                "{}: looks like a Helm template (`{{{{ … }}}}`); templated images are neither read nor changed (render it with `helm template`, or set the image in the chart's values)",
                it.name
            )
        })
        .collect();
    warnings.extend(updated
        .iter()
        .filter(|it| {
            it.value.get("kind").and_then(Value::as_str) == Some("Kustomization")
                && it.value.get("images").is_some()
        })
        .map(|it| {
            format!(
                "{}: document {}: Kustomize `images:` transformers are not changed by kubectl-update (use `kustomize edit set image`)",
                it.source, it.index
            )
        }));
    let n_documents = updated.len();
    Ok(Preview {
        plan,
        updated,
        n_documents,
        files,
        edits,
        warnings,
    })
}

/// The updated documents as multi-document YAML, exactly as `manifest::to_yaml` writes them,
/// serialised in chunks on every core: documents are independent, and `to_yaml` of a chunk
/// starts without a separator, so the chunks joined with `---` are the same bytes.
pub fn updated_yaml(preview: &Preview) -> anyhow::Result<String> {
    let documents = &preview.updated;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(documents.len() / 256)
        .max(1);
    if threads == 1 {
        return manifest::to_yaml(documents);
    }
    let chunk = documents.len().div_ceil(threads);
    let parts: Vec<anyhow::Result<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = documents
            .chunks(chunk)
            .map(|part| scope.spawn(move || manifest::to_yaml(part)))
            .collect();
        handles
            .into_iter()
            .map(|it| {
                it.join()
                    .unwrap_or_else(|_| Err(anyhow::format_err!("a YAML writer panicked")))
            })
            .collect()
    });
    let mut out = String::new();
    for (idx, part) in parts.into_iter().enumerate() {
        if idx > 0 {
            out.push_str("---\n");
        }
        out.push_str(&part?);
    }
    Ok(out)
}

fn object_at<'a>(document: &'a Value, pointer: &str) -> &'a Value {
    document.pointer(pointer).unwrap_or(document)
}

/// Finds the objects of known kinds, checking each is well formed. Documents are independent, so
/// a long stream is checked in chunks on every core; the first problem in input order is reported.
fn locate(
    documents: &[Document],
    files: &[SourceFile],
    default_namespace: &str,
) -> Result<Vec<Located>, Failure> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(documents.len() / 512)
        .max(1);
    if threads == 1 {
        return locate_in(0, documents, files, default_namespace);
    }
    let chunk = documents.len().div_ceil(threads);
    let parts: Vec<Result<Vec<Located>, Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = documents
            .chunks(chunk)
            .enumerate()
            .map(|(idx, part)| {
                scope.spawn(move || locate_in(idx * chunk, part, files, default_namespace))
            })
            .collect();
        handles
            .into_iter()
            .map(|it| {
                it.join().unwrap_or_else(|_| {
                    Err(Failure::new(Exit::Failed, "a manifest checker panicked"))
                })
            })
            .collect()
    });
    let mut res = Vec::new();
    for part in parts {
        res.extend(part?);
    }
    Ok(res)
}

/// `locate` for consecutive documents, the first of which is the `first`-th of the input.
fn locate_in(
    first: usize,
    documents: &[Document],
    files: &[SourceFile],
    default_namespace: &str,
) -> Result<Vec<Located>, Failure> {
    let mut res = Vec::new();
    for (document_idx, document) in (first..).zip(documents) {
        for pointer in manifest::object_pointers(&document.value) {
            let object = object_at(&document.value, &pointer);
            let place = || {
                let item = if pointer.is_empty() {
                    String::new()
                } else {
                    format!(" item {}", &pointer["/items/".len()..])
                };
                format!("{}: document {}{item}", document.source, document.index)
            };
            let field = |name: &str| {
                object
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|it| !it.is_empty())
            };
            let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
                return Err(Failure::new(
                    Exit::Failed,
                    format!(
                        "{}: missing apiVersion or kind; every manifest needs both",
                        place()
                    ),
                ));
            };
            let kind = match Kind::recognise(api_version, kind) {
                None => continue,
                Some(Ok(kind)) => kind,
                Some(Err(expected)) => {
                    return Err(Failure::new(
                        Exit::Failed,
                        format!(
                            "{}: {kind} has apiVersion {api_version}; kubectl-update reads {expected} (change the manifest's apiVersion)",
                            place()
                        ),
                    ));
                }
            };
            if let Err(problem) = kind.validate(object) {
                let name = workload::name_of(object);
                // Name the line of the offending value: `spec.replicas: invalid type …`.
                let line = problem
                    .split_once(": ")
                    .and_then(|(path, _)| {
                        let layout = document.layout.as_ref()?;
                        let pointer = format!("{pointer}{}", path_to_pointer(path)?);
                        crate::manifest::load::line_of(
                            &files.get(layout.file)?.text,
                            document.index,
                            &pointer,
                        )
                    })
                    .map(|line| format!(" line {line}:"))
                    .unwrap_or_default();
                return Err(Failure::new(
                    Exit::Failed,
                    format!("{}:{line} {kind} {name:?} is malformed: {problem}", place()),
                ));
            }
            let namespace = workload::namespace_of(object)
                .unwrap_or(default_namespace)
                .to_owned();
            res.push(Located {
                document: document_idx,
                pointer,
                namespace,
                kind,
            });
        }
    }
    Ok(res)
}

/// `spec.volumes[0].secret` (serde_path_to_error's path) as a JSON pointer.
fn path_to_pointer(path: &str) -> Option<String> {
    let mut res = String::new();
    for segment in path.split('.') {
        let (name, indices) = segment.split_once('[').unwrap_or((segment, ""));
        if !name.is_empty() {
            res.push('/');
            res.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        for index in indices.split('[').filter(|it| !it.is_empty()) {
            let index = index.strip_suffix(']')?;
            index.parse::<usize>().ok()?;
            res.push('/');
            res.push_str(index);
        }
    }
    Some(res)
}

#[cfg(test)]
mod tests;
