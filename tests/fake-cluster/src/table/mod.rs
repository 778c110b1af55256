//! `meta.k8s.io/v1 Table` responses for `kubectl get` (Accept `...;as=Table;...`): the columns of
//! the real server's printers for the common kinds, `Name`/`Age` for the rest.
//!
//! This module decides what is asked for and assembles the Table; `columns` and `cells` hold
//! the per-kind printers, `format` the value formatting they share. Never reads storage.

mod cells;
mod columns;
mod format;

use serde_json::{Value, json};

use crate::resources::ResourceDef;

use cells::cells;
use columns::{columns, wide};

pub use format::human_duration;

pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

/// `as=PartialObjectMetadata` or `as=PartialObjectMetadataList` (kube-rs `list_metadata`,
/// `metadata_watcher`).
pub fn wants_metadata(accept: &str) -> bool {
    accept.contains("as=PartialObjectMetadata")
}

/// An object reduced to `meta.k8s.io/v1 PartialObjectMetadata`.
pub fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// A Table of `objects` (rows carry PartialObjectMetadata).
pub fn render(
    def: &ResourceDef,
    objects: &[Value],
    rv: u64,
    continue_token: Option<&str>,
) -> Value {
    render_with(def, objects, rv, continue_token, "Metadata")
}

/// A Table with `includeObject` = `None`, `Metadata` or `Object`.
pub fn render_with(
    def: &ResourceDef,
    objects: &[Value],
    rv: u64,
    continue_token: Option<&str>,
    include: &str,
) -> Value {
    let defs: Vec<Value> = columns(def)
        .into_iter()
        .map(|(n, t)| {
            json!({"name": n, "type": t, "format": if n == "Name" { "name" } else { "" }, "description": "", "priority": if wide(n) { 1 } else { 0 }})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let object = match include {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(json!({}))}),
            };
            json!({"cells": cells(def, o), "object": object})
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = continue_token {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3 * 3600 + 600), "3h10m");
        assert_eq!(human_duration(3 * 86400), "3d");
    }
}
