//! The resourceVersion counter and the watch side of storage: every write goes through
//! `commit`, which bumps the counter, records the event in a bounded per-resource history and
//! broadcasts it. Never validates or reshapes objects; the registry rules run before.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::key::Key;
use crate::resources::{self, ResourceDef};

use super::{Storage, meta, meta_mut};

/// A watch event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug)]
pub struct Event {
    pub resource: &'static str,
    pub namespace: String,
    pub rv: u64,
    pub kind: EventKind,
    pub object: Value,
    /// The state before the change (for selector transitions).
    pub old: Option<Value>,
}

impl Storage {
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Subscribes to every future event; call under the same lock as a history read.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Events of `resource` after `rv`, or `Err(oldest)` when they are no longer all known.
    pub fn events_since(&self, resource: &str, rv: u64) -> Result<Vec<Arc<Event>>, u64> {
        let compacted = self.compacted.get(resource).copied().unwrap_or(0);
        if rv < compacted {
            return Err(compacted);
        }
        Ok(self
            .history
            .get(resource)
            .map(|h| h.iter().filter(|e| e.rv > rv).cloned().collect())
            .unwrap_or_default())
    }

    pub(super) fn commit(
        &mut self,
        def: &'static ResourceDef,
        kind: EventKind,
        mut object: Value,
        old: Option<Value>,
    ) -> Value {
        self.rv += 1;
        meta_mut(&mut object).insert("resourceVersion".into(), json!(self.rv.to_string()));
        let ns = meta(&object, "namespace");
        let name = meta(&object, "name");
        let map = self.objects.entry(def.plural).or_default();
        match kind {
            EventKind::Deleted => {
                map.remove(&Key::new(ns.clone(), name));
            }
            _ => {
                map.insert(Key::new(ns.clone(), name), object.clone());
            }
        }
        let event = Arc::new(Event {
            resource: def.plural,
            namespace: ns,
            rv: self.rv,
            kind,
            object: object.clone(),
            old,
        });
        let h = self.history.entry(def.plural).or_default();
        h.push_back(event.clone());
        while h.len() > self.history_limit {
            if let Some(e) = h.pop_front() {
                self.compacted.insert(def.plural, e.rv);
            }
        }
        let _ = self.events.send(event);
        object
    }

    /// Pretends all history before now is gone (for tests of 410 handling).
    pub fn compact(&mut self) {
        for r in resources::RESOURCES {
            self.history.remove(r.plural);
            self.compacted.insert(r.plural, self.rv);
        }
    }
}
