//! Deletion: preconditions, propagation (orphan, background, foreground) to dependents,
//! finalizers, pod grace periods and namespace purging. Never decides what a garbage collector
//! or kubelet does later; the simulated controllers do that.

use serde_json::{Value, json};

use crate::{
    errors::ApiError,
    resources::{self, ResourceDef},
};

use super::{EventKind, Storage, has_finalizers, meta, meta_mut};

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Options of a DELETE.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
    /// `gracePeriodSeconds`; pods on a node default to their `terminationGracePeriodSeconds`.
    pub grace_period: Option<i64>,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The last state (with `deletionTimestamp` when finalizers keep it around).
    pub object: Value,
    /// Still stored, waiting for finalizers.
    pub pending: bool,
}

impl Storage {
    /// Objects (any resource) with an ownerReference to `uid`.
    fn dependents(&self, uid: &str) -> Vec<(&'static ResourceDef, String, String)> {
        let mut out = Vec::new();
        for def in resources::RESOURCES {
            for v in self.list(def, None) {
                let owned = v
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    });
                if owned {
                    out.push((def, meta(v, "namespace"), meta(v, "name")));
                }
            }
        }
        out
    }

    /// Deletes an object, cascading to its dependents per `opts.propagation` (the resource's
    /// default when unset: Orphan for batch/v1 Jobs, Background otherwise).
    pub fn delete(
        &mut self,
        def: &'static ResourceDef,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let ns = if def.namespaced { namespace } else { "" };
        let current = self
            .get(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        let uid = meta(&current, "uid");
        if let Some(want) = &opts.precondition_uid
            && *want != uid
        {
            return Err(ApiError::conflict(
                def,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                ),
            ));
        }
        if let Some(want) = &opts.precondition_rv {
            let rv = meta(&current, "resourceVersion");
            if *want != rv {
                return Err(ApiError::conflict(
                    def,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"
                    ),
                ));
            }
        }
        if def.plural == "namespaces" && matches!(name, "default" | "kube-system" | "kube-public") {
            return Err(ApiError::forbidden(
                "",
                "namespaces",
                "",
                name,
                "this namespace may not be deleted",
            ));
        }
        if opts.dry_run {
            return Ok(Deleted {
                object: mark_deleted(current, 0),
                pending: false,
            });
        }
        let policy = opts.propagation.unwrap_or(if def.plural == "jobs" {
            Propagation::Orphan
        } else {
            Propagation::Background
        });
        let deps = self.dependents(&uid);
        match policy {
            Propagation::Orphan => {
                for (d, dns, dname) in &deps {
                    if let Some(mut obj) = self.get(d, dns, dname).cloned() {
                        let old = obj.clone();
                        if let Some(Value::Array(refs)) =
                            obj.pointer_mut("/metadata/ownerReferences")
                        {
                            refs.retain(|r| {
                                r.get("uid").and_then(Value::as_str) != Some(uid.as_str())
                            });
                        }
                        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut)
                            && m.get("ownerReferences")
                                .and_then(Value::as_array)
                                .is_some_and(Vec::is_empty)
                        {
                            m.remove("ownerReferences");
                        }
                        self.commit(d, EventKind::Modified, obj, Some(old));
                    }
                }
            }
            Propagation::Foreground => {
                let child = DeleteOptions {
                    propagation: Some(Propagation::Foreground),
                    ..DeleteOptions::default()
                };
                for (d, dns, dname) in &deps {
                    let _ = self.delete(d, dns, dname, &child);
                }
            }
            Propagation::Background => {}
        }
        if def.plural == "namespaces" {
            self.purge_namespace(name);
        }
        let mut result = self.finish_delete(def, current, opts.grace_period, false);
        if def.plural == "namespaces" && !result.pending {
            result.object["status"] = json!({"phase": "Terminating"});
        }
        if policy == Propagation::Background {
            let child = DeleteOptions {
                propagation: Some(Propagation::Background),
                ..DeleteOptions::default()
            };
            for (d, dns, dname) in &deps {
                let _ = self.delete(d, dns, dname, &child);
            }
        }
        Ok(result)
    }

    fn purge_namespace(&mut self, ns: &str) {
        for def in resources::RESOURCES.iter().filter(|d| d.namespaced) {
            let names: Vec<String> = self
                .list(def, Some(ns))
                .iter()
                .map(|v| meta(v, "name"))
                .collect();
            for n in names {
                if let Some(obj) = self.get(def, ns, &n).cloned() {
                    self.commit(def, EventKind::Deleted, obj.clone(), Some(obj));
                }
            }
        }
    }
}

/// Sets `deletionTimestamp` (now + `grace` seconds) and `deletionGracePeriodSeconds`.
pub(super) fn mark_deleted(mut object: Value, grace: i64) -> Value {
    if object.pointer("/metadata/deletionTimestamp").is_none() {
        let at = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let m = meta_mut(&mut object);
        m.insert(
            "deletionTimestamp".into(),
            json!(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        m.insert("deletionGracePeriodSeconds".into(), json!(grace));
    }
    object
}

impl Storage {
    /// Removes `current`, or marks it terminating: objects with finalizers wait for them, and
    /// pods bound to a node wait out their grace period (the simulated kubelet removes them).
    /// A second delete of a terminating pod removes it when it comes from a controller (the
    /// kubelet) or asks for grace 0.
    pub(super) fn finish_delete(
        &mut self,
        def: &'static ResourceDef,
        current: Value,
        grace: Option<i64>,
        from_controller: bool,
    ) -> Deleted {
        let terminating = current.pointer("/metadata/deletionTimestamp").is_some();
        if has_finalizers(&current) {
            if terminating {
                return Deleted {
                    object: current,
                    pending: true,
                };
            }
            let stored = self.commit(
                def,
                EventKind::Modified,
                mark_deleted(current.clone(), 0),
                Some(current),
            );
            return Deleted {
                object: stored,
                pending: true,
            };
        }
        if def.plural == "pods" {
            let on_node = current
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            let finished = matches!(
                current.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            );
            let grace = grace.unwrap_or_else(|| {
                current
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30)
            });
            if !terminating && on_node && !finished && grace > 0 {
                let stored = self.commit(
                    def,
                    EventKind::Modified,
                    mark_deleted(current.clone(), grace),
                    Some(current),
                );
                return Deleted {
                    object: stored,
                    pending: true,
                };
            }
            if terminating && !from_controller && grace > 0 {
                return Deleted {
                    object: current,
                    pending: true,
                };
            }
        }
        let ns = meta(&current, "namespace");
        let name = meta(&current, "name");
        let gone = self.commit(
            def,
            EventKind::Deleted,
            mark_deleted(current.clone(), 0),
            Some(current),
        );
        if def.plural == "pods" {
            self.logs
                .retain(|(lns, pod, _), _| !(*lns == ns && *pod == name));
        }
        Deleted {
            object: gone,
            pending: false,
        }
    }
}
