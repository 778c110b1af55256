//! Store writes of metadata/spec and of status, and `omitempty` counters. Never compares before
//! writing: callers skip unchanged objects.

use serde_json::{Map, Value, json};

use crate::controllers::store::Store;

/// Writes metadata and spec unconditionally (the tick runs under the store lock).
pub fn write<S: Store>(store: &mut S, resource: &str, object: &Value) -> Option<Value> {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    store.update(resource, object).ok()
}

/// Writes `status` unconditionally.
pub fn write_status<S: Store>(store: &mut S, resource: &str, object: &Value) -> Option<Value> {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    store.update_status(resource, object).ok()
}

/// Inserts `key: value` into a status map, or removes the key when `value` is zero (`omitempty`).
pub fn put_count(status: &mut Map<String, Value>, key: &str, value: i64) {
    if value == 0 {
        status.remove(key);
    } else {
        status.insert(key.to_owned(), json!(value));
    }
}
