//! Pre-loading YAML manifests at start (`--manifests PATH`, a file or a directory), like
//! `kubectl apply -f`: multi-document files, `kind: List`, namespaces and RBAC first; existing
//! objects are replaced. Never deletes objects.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{
    resources,
    storage::{Storage, WriteMode},
};

fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut out: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        out.sort();
        Ok(out)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Parses YAML text (one or more documents) into objects, flattening `kind: List`.
pub fn parse(text: &str) -> anyhow::Result<Vec<Value>> {
    // Seed files for scale tests hold thousands of documents: lift saphyr's default budget (1024).
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: usize::MAX,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
        },
    };
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options).context("parsing YAML")?;
    let mut out = Vec::new();
    for d in docs {
        if d.is_null() {
            continue;
        }
        if d.get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && let Some(items) = d.get("items").and_then(Value::as_array)
        {
            out.extend(items.iter().cloned());
        } else {
            out.push(d);
        }
    }
    Ok(out)
}

/// Reads every manifest under `paths`.
pub fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for p in paths {
        for f in files(p)? {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            out.extend(parse(&text).with_context(|| format!("in {}", f.display()))?);
        }
    }
    Ok(out)
}

fn priority(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "ClusterRole" | "Role" | "ServiceAccount" => 1,
        "ClusterRoleBinding"
        | "RoleBinding"
        | "ConfigMap"
        | "Secret"
        | "ValidatingAdmissionPolicy" => 2,
        "ValidatingAdmissionPolicyBinding" => 3,
        _ => 4,
    }
}

/// Creates (or replaces) every object.
pub fn apply(storage: &mut Storage, mut objects: Vec<Value>) -> anyhow::Result<()> {
    objects.sort_by_key(|o| priority(o.get("kind").and_then(Value::as_str).unwrap_or_default()));
    for o in objects {
        let av = o
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = o
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(def) = resources::by_kind(&av, &kind).filter(|d| !d.virtual_only) else {
            bail!("unsupported manifest kind {kind} ({av})");
        };
        let ns = o
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let name = o
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if !name.is_empty() && storage.get(def, &ns, &name).is_some() {
            storage
                .update(def, &ns, &name, o, WriteMode::Main, false)
                .with_context(|| format!("replacing {kind} {name}"))?;
        } else {
            storage
                .create(def, &ns, o, false)
                .with_context(|| format!("creating {kind} {name}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_and_lists() {
        let docs = parse("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n    namespace: a\n").unwrap();
        assert_eq!(docs.len(), 2);
        let mut s = Storage::new(10);
        apply(&mut s, docs.into_iter().rev().collect()).unwrap();
        assert!(
            s.get(resources::by_plural("configmaps").unwrap(), "a", "c")
                .is_some()
        );
    }
}
