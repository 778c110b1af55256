//! The `managedFields` list: parsing entries, inserting or refreshing a manager's entry, and
//! rendering it back (entries left without fields are dropped). Never decides which fields a
//! manager owns.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::fields::{from_fields_v1, to_fields_v1};
use super::{FieldPath, Manager};

pub(super) struct Entry {
    pub(super) manager: String,
    pub(super) operation: String,
    pub(super) subresource: Option<String>,
    pub(super) api_version: String,
    pub(super) time: String,
    pub(super) fields: BTreeSet<FieldPath>,
}

pub(super) fn entries(object: &Value) -> Vec<Entry> {
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

pub(super) fn render(list: Vec<Entry>) -> Value {
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

pub(super) fn upsert(
    list: &mut Vec<Entry>,
    manager: &Manager,
    operation: &str,
    api_version: &str,
) -> usize {
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
