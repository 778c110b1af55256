//! In-memory object storage: objects as JSON keyed by (resource, namespace, name), one global
//! resourceVersion counter, a bounded per-resource event history for watch resumption, and the
//! registry rules (metadata on create, status/spec separation, generation, defaults,
//! validation, finalizers, cascading delete) shared by API writes and controller writes.
//!
//! The submodules split it by responsibility: `read` (lookups and key-ordered scans for list
//! pages), `history` (resourceVersions, commits, watch events), `create`, `update` and `delete`
//! (registry rules per verb), `logs`, `ids`, and `controller_store` (the controllers' view).
//! Storage never speaks HTTP, never authenticates, authorizes or runs admission: callers do that
//! before they write.

mod controller_store;
mod create;
mod delete;
mod history;
mod ids;
mod logs;
mod read;
mod update;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::errors::{ApiError, Cause};
use crate::key::Key;
use crate::resources::ResourceDef;

pub use delete::{DeleteOptions, Deleted, Propagation};
pub use history::{Event, EventKind};
pub use ids::{new_uid, now_rfc3339, random_suffix};
pub use update::WriteMode;

type Objects = BTreeMap<Key, Value>;

/// The cluster's state.
pub struct Storage {
    objects: HashMap<&'static str, Objects>,
    rv: u64,
    history: HashMap<&'static str, VecDeque<Arc<Event>>>,
    compacted: HashMap<&'static str, u64>,
    history_limit: usize,
    events: broadcast::Sender<Arc<Event>>,
    logs: BTreeMap<(String, String, String), Vec<(String, String)>>,
}

fn meta(object: &Value, field: &str) -> String {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn meta_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    let root = object.as_object_mut().expect("object");
    let m = root.entry("metadata").or_insert_with(|| json!({}));
    if !m.is_object() {
        *m = json!({});
    }
    m.as_object_mut().expect("metadata object")
}

fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

impl Storage {
    pub fn new(history_limit: usize) -> Storage {
        let (events, _) = broadcast::channel(8192);
        Storage {
            objects: HashMap::new(),
            rv: 1,
            history: HashMap::new(),
            compacted: HashMap::new(),
            history_limit,
            events,
            logs: BTreeMap::new(),
        }
    }
}

/// Causes re-exported for handler-side validation helpers.
pub fn invalid(def: &ResourceDef, name: &str, causes: Vec<Cause>) -> ApiError {
    ApiError::invalid(def, name, causes)
}
