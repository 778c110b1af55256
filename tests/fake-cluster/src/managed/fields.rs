//! Field sets: the leaf paths of an object (keyed list items by their merge keys), `FieldsV1`
//! rendering and parsing, and the path notation of conflict messages. Never knows managers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::FieldPath;
use crate::patch::strategic::{ListStrategy, list_strategy};

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
