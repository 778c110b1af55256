//! `metadata.managedFields`: which field manager owns which fields (`FieldsV1`), recorded on
//! every write, and server-side apply ownership with conflict detection (409 unless `force`).
//!
//! Simplifications: a field set is the set of leaf paths of an object (atomic lists and scalars
//! are leaves; keyed list items and maps also record their `.` entry); fields an applier stops
//! applying are not removed from the object.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::{
    errors::ApiError,
    patch::strategic::{ListStrategy, list_strategy},
};

/// One path in `FieldsV1` notation: `f:spec`, `k:{"name":"app"}`, `v:"x"`, `.`.
pub type FieldPath = Vec<String>;

/// Who writes, as recorded in `managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    pub name: String,
    /// `/status` writes record `subresource: status`.
    pub subresource: Option<String>,
}

const SKIP_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "matchLabels",
    "nodeSelector",
    "data",
    "stringData",
    "binaryData",
    "limits",
    "requests",
];

fn item_key(item: &Value, key: &str, field: &str) -> String {
    let mut k = Map::new();
    if field == "ports" && item.get("containerPort").is_some() {
        k.insert("containerPort".into(), item["containerPort"].clone());
        k.insert(
            "protocol".into(),
            item.get("protocol").cloned().unwrap_or(json!("TCP")),
        );
    } else {
        k.insert(key.into(), item.get(key).cloned().unwrap_or(Value::Null));
    }
    format!("k:{}", Value::Object(k))
}

fn walk(
    value: &Value,
    path: &mut FieldPath,
    names: &mut Vec<String>,
    out: &mut BTreeMap<FieldPath, Value>,
) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            if names
                .last()
                .is_some_and(|n| MAP_FIELDS.contains(&n.as_str()))
            {
                path.push(".".into());
                out.insert(path.clone(), json!(true));
                path.pop();
            }
            for (k, v) in m {
                if path.len() == 1 && path[0] == "f:metadata" && SKIP_META.contains(&k.as_str()) {
                    continue;
                }
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                path.push(format!("f:{k}"));
                names.push(k.clone());
                walk(v, path, names, out);
                names.pop();
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let field = names.last().cloned().unwrap_or_default();
            let parents = names[..names.len().saturating_sub(1)].to_vec();
            match list_strategy(&parents, &field) {
                ListStrategy::MergeByKey(key) => {
                    for item in items {
                        path.push(item_key(item, key, &field));
                        path.push(".".into());
                        out.insert(path.clone(), json!(true));
                        path.pop();
                        walk(item, path, names, out);
                        path.pop();
                    }
                }
                ListStrategy::MergePrimitives => {
                    for item in items {
                        path.push(format!("v:{item}"));
                        out.insert(path.clone(), json!(true));
                        path.pop();
                    }
                }
                ListStrategy::Replace => {
                    out.insert(path.clone(), value.clone());
                }
            }
        }
        _ => {
            if !path.is_empty() {
                out.insert(path.clone(), value.clone());
            }
        }
    }
}

/// The leaf paths of an object with their values.
pub fn leaves(object: &Value) -> BTreeMap<FieldPath, Value> {
    let mut out = BTreeMap::new();
    walk(object, &mut Vec::new(), &mut Vec::new(), &mut out);
    out
}

/// Renders a set of paths as a `fieldsV1` object.
pub fn to_fields_v1(paths: &BTreeSet<FieldPath>) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut node = &mut root;
        for seg in p {
            node = node
                .entry(seg.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("fieldsV1 node");
        }
    }
    Value::Object(root)
}

/// Parses a `fieldsV1` object into its set of leaf paths.
pub fn from_fields_v1(fields: &Value) -> BTreeSet<FieldPath> {
    fn go(v: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    go(child, path, out);
                    path.pop();
                }
            }
            _ => {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    go(fields, &mut Vec::new(), &mut out);
    out
}

/// `.spec.template.spec.containers[name="app"].image`, as conflict messages print paths.
pub fn render_path(path: &FieldPath) -> String {
    let mut out = String::new();
    for seg in path {
        if let Some(f) = seg.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let inner: Vec<String> = parsed
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", inner.join(",")));
        } else if let Some(v) = seg.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}

struct Entry {
    manager: String,
    operation: String,
    subresource: Option<String>,
    api_version: String,
    time: String,
    fields: BTreeSet<FieldPath>,
}

fn entries(object: &Value) -> Vec<Entry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| Entry {
                    manager: e
                        .get("manager")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    operation: e
                        .get("operation")
                        .and_then(Value::as_str)
                        .unwrap_or("Update")
                        .to_string(),
                    subresource: e
                        .get("subresource")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    api_version: e
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    time: e
                        .get("time")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn render(list: Vec<Entry>) -> Value {
    Value::Array(
        list.into_iter()
            .filter(|e| !e.fields.is_empty())
            .map(|e| {
                let mut v = json!({
                    "manager": e.manager,
                    "operation": e.operation,
                    "apiVersion": e.api_version,
                    "time": e.time,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": to_fields_v1(&e.fields),
                });
                if let Some(s) = e.subresource {
                    v["subresource"] = json!(s);
                }
                v
            })
            .collect(),
    )
}

fn now() -> String {
    crate::storage::now_rfc3339()
}

fn upsert(list: &mut Vec<Entry>, manager: &Manager, operation: &str, api_version: &str) -> usize {
    if let Some(i) = list.iter().position(|e| {
        e.manager == manager.name
            && e.operation == operation
            && e.subresource == manager.subresource
    }) {
        list[i].time = now();
        list[i].api_version = api_version.to_string();
        return i;
    }
    list.push(Entry {
        manager: manager.name.clone(),
        operation: operation.to_string(),
        subresource: manager.subresource.clone(),
        api_version: api_version.to_string(),
        time: now(),
        fields: BTreeSet::new(),
    });
    list.len() - 1
}

/// The managedFields after an Update-style write (create, update, non-apply patch) by `manager`:
/// it takes the fields it changed; removed fields are dropped from every manager.
pub fn record_update(
    old: Option<&Value>,
    new: &Value,
    manager: &Manager,
    api_version: &str,
) -> Value {
    let mut list = old.map(entries).unwrap_or_default();
    let before = old.map(leaves).unwrap_or_default();
    let after = leaves(new);
    let changed: BTreeSet<FieldPath> = after
        .iter()
        .filter(|(p, v)| before.get(*p) != Some(*v))
        .map(|(p, _)| p.clone())
        .collect();
    for e in &mut list {
        e.fields
            .retain(|p| after.contains_key(p) && !changed.contains(p));
    }
    if !changed.is_empty() {
        let i = upsert(&mut list, manager, "Update", api_version);
        list[i].fields.extend(changed);
    }
    render(list)
}

/// Server-side apply ownership: checks conflicts against other managers (409 unless `force`)
/// and returns the new managedFields with `manager` owning exactly the applied fields.
pub fn record_apply(
    current: &Value,
    applied: &Value,
    merged: &Value,
    manager: &Manager,
    api_version: &str,
    force: bool,
) -> Result<Value, ApiError> {
    let mut list = entries(current);
    let applied_leaves = leaves(applied);
    let current_leaves = leaves(current);
    let mut conflicts: BTreeMap<(String, String), Vec<FieldPath>> = BTreeMap::new();
    for e in &list {
        if e.manager == manager.name && e.operation == "Apply" {
            continue;
        }
        for (p, v) in &applied_leaves {
            if e.fields.contains(p) && current_leaves.get(p).is_some_and(|c| c != v) {
                conflicts
                    .entry((e.manager.clone(), e.api_version.clone()))
                    .or_default()
                    .push(p.clone());
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(current, &conflicts));
    }
    let owned: BTreeSet<FieldPath> = applied_leaves.keys().cloned().collect();
    if force {
        for e in &mut list {
            if !(e.manager == manager.name && e.operation == "Apply") {
                e.fields.retain(|p| !owned.contains(p));
            }
        }
    }
    let after = leaves(merged);
    for e in &mut list {
        e.fields.retain(|p| after.contains_key(p));
    }
    let i = upsert(&mut list, manager, "Apply", api_version);
    list[i].fields = owned;
    Ok(render(list))
}

fn conflict_error(
    current: &Value,
    conflicts: &BTreeMap<(String, String), Vec<FieldPath>>,
) -> ApiError {
    let total: usize = conflicts.values().map(Vec::len).sum();
    let mut causes = Vec::new();
    let mut parts = Vec::new();
    for ((manager, api_version), paths) in conflicts {
        let who = format!("conflict with \"{manager}\" using {api_version}");
        if paths.len() == 1 {
            parts.push(format!("{who}: {}", render_path(&paths[0])));
        } else {
            let lines: Vec<String> = paths
                .iter()
                .map(|p| format!("- {}", render_path(p)))
                .collect();
            parts.push(format!(
                "conflicts with \"{manager}\" using {api_version}:\n{}",
                lines.join("\n")
            ));
        }
        for p in paths {
            causes.push(
                json!({"reason": "FieldManagerConflict", "message": who, "field": render_path(p)}),
            );
        }
    }
    let plural = if total == 1 { "conflict" } else { "conflicts" };
    let mut e = ApiError::new(
        409,
        "Conflict",
        format!("Apply failed with {total} {plural}: {}", parts.join("\n")),
    );
    let name = current
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    e.details = Some(json!({"name": name, "causes": causes}));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(image: &str, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image, "args": ["a"]}]}}}})
    }

    #[test]
    fn leaves_use_merge_keys() {
        let l = leaves(&dep("nginx:1", 1));
        let image: FieldPath = [
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"app\"}",
            "f:image",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(l.get(&image), Some(&json!("nginx:1")));
        assert_eq!(
            render_path(&image),
            ".spec.template.spec.containers[name=\"app\"].image"
        );
        let fv1 = to_fields_v1(&l.keys().cloned().collect());
        assert!(fv1["f:metadata"]["f:labels"].get(".").is_some());
        assert_eq!(from_fields_v1(&fv1).len(), l.len());
    }

    #[test]
    fn updates_take_changed_fields_and_apply_conflicts() {
        let kubectl = Manager {
            name: "kubectl-client-side-apply".into(),
            subresource: None,
        };
        let created = dep("nginx:1", 1);
        let mut obj = created.clone();
        obj["metadata"]["managedFields"] = record_update(None, &created, &kubectl, "apps/v1");
        let ci = Manager {
            name: "ci".into(),
            subresource: None,
        };
        let applied = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}});
        let merged = dep("nginx:2", 1);
        let err = record_apply(&obj, &applied, &merged, &ci, "apps/v1", false).unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.template.spec.containers[name=\"app\"].image"
        );
        let mf = record_apply(&obj, &applied, &merged, &ci, "apps/v1", true).unwrap();
        let managers: Vec<&str> = mf
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["kubectl-client-side-apply", "ci"]);
        // Applying the value already there is not a conflict.
        let same = json!({"spec": {"replicas": 1}});
        assert!(record_apply(&obj, &same, &obj, &ci, "apps/v1", false).is_ok());
        // An update moves the changed field to the updater.
        let set = Manager {
            name: "kubectl-set".into(),
            subresource: None,
        };
        let mf = record_update(Some(&obj), &merged, &set, "apps/v1");
        let set_entry = mf
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kubectl-set")
            .unwrap();
        assert!(set_entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"].get("f:image").is_some());
    }
}
