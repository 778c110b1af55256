//! `metadata.managedFields`: which field manager owns which fields (`FieldsV1`), recorded on
//! every write, and server-side apply ownership with conflict detection (409 unless `force`).
//!
//! Simplifications: a field set is the set of leaf paths of an object (atomic lists and scalars
//! are leaves; keyed list items and maps also record their `.` entry); fields an applier stops
//! applying are not removed from the object.
//!
//! This module decides ownership on update and apply and words conflicts; `fields` computes field
//! sets and speaks `FieldsV1`, `entries` reads and writes the `managedFields` list. It never
//! changes anything of an object but its `managedFields`.

mod entries;
mod fields;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::errors::ApiError;
use entries::{entries, render, upsert};

/// One path in `FieldsV1` notation: `f:spec`, `k:{"name":"app"}`, `v:"x"`, `.`.
pub type FieldPath = Vec<String>;

/// Who writes, as recorded in `managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    pub name: String,
    /// `/status` writes record `subresource: status`.
    pub subresource: Option<String>,
}

pub use fields::{from_fields_v1, leaves, render_path, to_fields_v1};

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
