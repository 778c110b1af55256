//! In-memory object storage: objects as JSON keyed by (resource, namespace, name), one global
//! resourceVersion counter, a bounded per-resource event history for watch resumption, and the
//! registry rules (metadata on create, status/spec separation, generation, defaults,
//! validation, finalizers, cascading delete) shared by API writes and controller writes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use rand::Rng;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::key::Key;
use crate::{
    controllers::{Logs, Store, StoreError},
    defaults,
    errors::{ApiError, Cause},
    managed::{self, Manager},
    resources::{self, Generation, ResourceDef},
    validation,
};

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

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The main resource: status is kept as stored when the resource has a status subresource.
    Main,
    /// The `/status` subresource: only status (and some metadata) changes.
    Status,
}

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

/// Now as RFC 3339 with second precision, like `metav1.Time`.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random RFC 4122 version 4 UUID.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::rng().random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Five characters from the apiserver's `generateName` alphabet.
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
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

/// Compares two objects ignoring fields that change on every write.
fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        v
    };
    strip(a) == strip(b)
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

    pub fn get(&self, def: &ResourceDef, namespace: &str, name: &str) -> Option<&Value> {
        let ns = if def.namespaced { namespace } else { "" };
        self.objects
            .get(def.plural)
            .and_then(|m| m.get(&Key::new(ns, name)))
    }

    /// Objects of `def` in etcd's order (see [`Key`]); `namespace` None means all.
    pub fn list(&self, def: &ResourceDef, namespace: Option<&str>) -> Vec<&Value> {
        self.list_after(def, namespace, None).collect()
    }

    /// Objects of `def` in etcd's order that sort after `after` (a continue token's last key), so
    /// that serving a page costs the page, not the whole collection.
    pub fn list_after<'s>(
        &'s self,
        def: &ResourceDef,
        namespace: Option<&str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = &'s Value> + 's {
        let namespace = namespace.filter(|_| def.namespaced).map(str::to_owned);
        let start = match (namespace.as_deref(), after) {
            (_, Some(after)) => Bound::Excluded(after.clone()),
            (Some(ns), None) => Bound::Included(Key::first_in(ns)),
            (None, None) => Bound::Unbounded,
        };
        self.objects
            .get(def.plural)
            .into_iter()
            .flat_map(move |m| m.range((start.clone(), Bound::Unbounded)))
            .take_while(move |(k, _)| namespace.as_ref().is_none_or(|ns| &k.namespace == ns))
            .map(|(_, v)| v)
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("namespaces")
            .is_some_and(|m| m.contains_key(&Key::new("", ns)))
    }

    fn commit(
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

    /// Creates an object in `namespace` (ignored for cluster-scoped resources), without
    /// recording a field manager.
    pub fn create(
        &mut self,
        def: &'static ResourceDef,
        namespace: &str,
        object: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.create_by(def, namespace, object, dry_run, None)
    }

    /// Creates an object; `manager` (when set) is recorded in `managedFields`.
    pub fn create_by(
        &mut self,
        def: &'static ResourceDef,
        namespace: &str,
        mut object: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an object",
            ));
        }
        if let Some(e) = validation::decode_error(def, &object) {
            return Err(ApiError::bad_request(e));
        }
        object["apiVersion"] = json!(def.api_version());
        object["kind"] = json!(def.kind);
        let m = meta_mut(&mut object);
        if def.namespaced {
            let body_ns = m
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !body_ns.is_empty() && !namespace.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            let ns = if namespace.is_empty() {
                body_ns.to_string()
            } else {
                namespace.to_string()
            };
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        if m.get("resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|rv| !rv.is_empty())
        {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if name.is_empty()
            && let Some(prefix) = m
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
        {
            let generated = format!("{prefix}{}", random_suffix(5));
            m.insert("name".into(), json!(generated));
        }
        let uid = new_uid();
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(now_rfc3339()));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("selfLink");
        if def.generation != Generation::None {
            m.insert("generation".into(), json!(1));
        } else {
            m.remove("generation");
        }
        if def.plural == "daemonsets" {
            set_template_generation(m, 1);
        }
        let ns = meta(&object, "namespace");
        let name = meta(&object, "name");
        if def.namespaced && !self.namespace_exists(&ns) {
            return Err(ApiError::namespace_not_found(&ns));
        }
        if def.has_status()
            && def.plural != "namespaces"
            && let Some(o) = object.as_object_mut()
        {
            o.remove("status");
        }
        prepare_create(def, &mut object, &uid);
        defaults::apply(def.plural, &mut object);
        let causes = validation::validate(def, &object, None);
        if !causes.is_empty() {
            return Err(ApiError::invalid(def, &name, causes));
        }
        if self.get(def, &ns, &name).is_some() {
            return Err(ApiError::already_exists(def, &name));
        }
        if let Some(m) = manager {
            let fields = managed::record_update(None, &object, m, &def.api_version());
            meta_mut(&mut object).insert("managedFields".into(), fields);
        }
        if dry_run {
            return Ok(object);
        }
        let stored = self.commit(def, EventKind::Added, object, None);
        if def.plural == "namespaces" {
            self.after_namespace_created(&name);
        }
        Ok(stored)
    }

    fn after_namespace_created(&mut self, ns: &str) {
        let sa = resources::by_plural("serviceaccounts").expect("serviceaccounts");
        let _ = self.create(sa, ns, json!({"metadata": {"name": "default"}}), false);
        let cm = resources::by_plural("configmaps").expect("configmaps");
        let _ = self.create(
            cm,
            ns,
            json!({"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}, "data": {"ca.crt": ""}}),
            false,
        );
    }

    /// Replaces an object (PUT or the result of a PATCH) without recording a field manager
    /// (`managedFields` of the body are kept, else the stored ones). Returns the stored object.
    pub fn update(
        &mut self,
        def: &'static ResourceDef,
        namespace: &str,
        name: &str,
        object: Value,
        mode: WriteMode,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.update_by(def, namespace, name, object, mode, dry_run, None)
    }

    /// Replaces an object; `manager` (when set) takes ownership of the fields it changed.
    #[allow(clippy::too_many_arguments)]
    pub fn update_by(
        &mut self,
        def: &'static ResourceDef,
        namespace: &str,
        name: &str,
        mut object: Value,
        mode: WriteMode,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        let ns = if def.namespaced { namespace } else { "" };
        let old = self
            .get(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an object",
            ));
        }
        let body_name = meta(&object, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = meta(&object, "namespace");
        if def.namespaced && !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if let Some(e) = validation::decode_error(def, &object) {
            return Err(ApiError::bad_request(e));
        }
        let body_rv = meta(&object, "resourceVersion");
        if !body_rv.is_empty() && body_rv != meta(&old, "resourceVersion") {
            return Err(ApiError::stale(def, name));
        }
        object["apiVersion"] = json!(def.api_version());
        object["kind"] = json!(def.kind);
        {
            let old_meta = old.get("metadata").cloned().unwrap_or(json!({}));
            let m = meta_mut(&mut object);
            m.insert("name".into(), json!(name));
            if def.namespaced {
                m.insert("namespace".into(), json!(ns));
            } else {
                m.remove("namespace");
            }
            for f in [
                "uid",
                "creationTimestamp",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "resourceVersion",
            ] {
                match old_meta.get(f) {
                    Some(v) => m.insert(f.into(), v.clone()),
                    None => m.remove(f),
                };
            }
        }
        match mode {
            WriteMode::Main => {
                if def.has_status()
                    && let Some(o) = object.as_object_mut()
                {
                    match old.get("status") {
                        Some(s) => o.insert("status".into(), s.clone()),
                        None => o.remove("status"),
                    };
                }
            }
            WriteMode::Status => {
                let o = object.as_object_mut().expect("object");
                o.retain(|k, _| {
                    matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind")
                });
                for (k, v) in old.as_object().expect("stored object") {
                    if !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind") {
                        o.insert(k.clone(), v.clone());
                    }
                }
                let keep: &[&str] = match def.plural {
                    "deployments" => &["labels"],
                    "pods" => &["ownerReferences"],
                    _ => &[],
                };
                for f in keep {
                    let old_v = old.pointer(&format!("/metadata/{f}")).cloned();
                    let m = meta_mut(&mut object);
                    match old_v {
                        Some(v) => m.insert((*f).into(), v),
                        None => m.remove(*f),
                    };
                }
            }
        }
        defaults::apply(def.plural, &mut object);
        if mode == WriteMode::Main
            && def.generation != Generation::None
            && generation_changes(def.generation, &old, &object)
        {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            meta_mut(&mut object).insert("generation".into(), json!(g));
        }
        if mode == WriteMode::Main && def.plural == "daemonsets" {
            // The apps/v1 face of the internal spec.templateGeneration: moves with the pod template.
            let before = old
                .pointer("/metadata/annotations")
                .and_then(|it| it.get(TEMPLATE_GENERATION))
                .and_then(Value::as_str)
                .and_then(|it| it.parse::<i64>().ok())
                .unwrap_or(1);
            let changed = old.pointer("/spec/template") != object.pointer("/spec/template");
            set_template_generation(meta_mut(&mut object), before + i64::from(changed));
        }
        if mode == WriteMode::Main {
            let causes = validation::validate(def, &object, Some(&old));
            if !causes.is_empty() {
                return Err(ApiError::invalid(def, name, causes));
            }
        }
        match manager {
            Some(m) => {
                let fields = managed::record_update(Some(&old), &object, m, &def.api_version());
                meta_mut(&mut object).insert("managedFields".into(), fields);
            }
            None => {
                if object.pointer("/metadata/managedFields").is_none()
                    && let Some(f) = old.pointer("/metadata/managedFields").cloned()
                {
                    meta_mut(&mut object).insert("managedFields".into(), f);
                }
            }
        }
        if same_content(&old, &object) {
            return Ok(old);
        }
        if dry_run {
            return Ok(object);
        }
        if object.pointer("/metadata/deletionTimestamp").is_some() && !has_finalizers(&object) {
            return Ok(self.commit(def, EventKind::Deleted, object, Some(old)));
        }
        Ok(self.commit(def, EventKind::Modified, object, Some(old)))
    }

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

    /// Lines of a container's log, with their RFC 3339 timestamps.
    pub fn log_lines(&self, namespace: &str, pod: &str, container: &str) -> &[(String, String)] {
        self.logs
            .get(&(
                namespace.to_string(),
                pod.to_string(),
                container.to_string(),
            ))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Sets `deletionTimestamp` (now + `grace` seconds) and `deletionGracePeriodSeconds`.
fn mark_deleted(mut object: Value, grace: i64) -> Value {
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
    fn finish_delete(
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

/// The annotation kube-apiserver keeps on every apps/v1 DaemonSet: its pod template's generation.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

fn set_template_generation(metadata: &mut serde_json::Map<String, Value>, generation: i64) {
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(TEMPLATE_GENERATION.into(), json!(generation.to_string()));
    }
}

fn generation_changes(rule: Generation, old: &Value, new: &Value) -> bool {
    match rule {
        Generation::None => false,
        Generation::Spec => old.get("spec") != new.get("spec"),
        Generation::SpecOrAnnotations => {
            old.get("spec") != new.get("spec")
                || old.pointer("/metadata/annotations") != new.pointer("/metadata/annotations")
        }
        Generation::NonMetadata => {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove("metadata");
                    o.remove("status");
                }
                v
            };
            strip(old) != strip(new)
        }
    }
}

/// Resource-specific `PrepareForCreate`.
fn prepare_create(def: &ResourceDef, object: &mut Value, uid: &str) {
    match def.plural {
        "jobs" => {
            let name = meta(object, "name");
            if object.pointer("/spec/manualSelector") == Some(&json!(true)) {
                return;
            }
            let spec = object
                .as_object_mut()
                .expect("object")
                .entry("spec")
                .or_insert_with(|| json!({}));
            if !spec.is_object() {
                *spec = json!({});
            }
            let template = spec
                .as_object_mut()
                .expect("spec")
                .entry("template")
                .or_insert_with(|| json!({}));
            let tmeta = meta_mut(template);
            let labels = tmeta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                for (k, v) in [
                    ("batch.kubernetes.io/controller-uid", uid),
                    ("batch.kubernetes.io/job-name", name.as_str()),
                    ("controller-uid", uid),
                    ("job-name", name.as_str()),
                ] {
                    l.entry(k).or_insert_with(|| json!(v));
                }
            }
            let sel = spec
                .as_object_mut()
                .expect("spec")
                .entry("selector")
                .or_insert_with(|| json!({}));
            if !sel.is_object() {
                *sel = json!({});
            }
            let ml = sel
                .as_object_mut()
                .expect("selector")
                .entry("matchLabels")
                .or_insert_with(|| json!({}));
            if let Some(ml) = ml.as_object_mut() {
                ml.entry("batch.kubernetes.io/controller-uid")
                    .or_insert_with(|| json!(uid));
            }
        }
        "pods" => {
            object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        _ => {}
    }
}

fn to_store_error(resource: &str, namespace: &str, name: &str, e: ApiError) -> StoreError {
    let (resource, namespace, name) = (
        resource.to_string(),
        namespace.to_string(),
        name.to_string(),
    );
    match e.reason {
        "NotFound" => StoreError::NotFound {
            resource,
            namespace,
            name,
        },
        "AlreadyExists" => StoreError::AlreadyExists {
            resource,
            namespace,
            name,
        },
        "Conflict" => StoreError::Conflict {
            resource,
            namespace,
            name,
            message: e.message,
        },
        _ => StoreError::Invalid {
            resource,
            message: e.message,
        },
    }
}

/// The field manager the real component would write as.
fn controller_manager(resource: &str, subresource: Option<&str>) -> Manager {
    let name = match (resource, subresource) {
        ("pods", Some(_)) | ("events", _) => "kubelet",
        ("pods", None) => "kube-scheduler",
        _ => "kube-controller-manager",
    };
    Manager {
        name: name.to_string(),
        subresource: subresource.map(str::to_string),
    }
}

fn def_for(resource: &str) -> Result<&'static ResourceDef, StoreError> {
    resources::by_plural(resource)
        .filter(|d| !d.virtual_only)
        .ok_or_else(|| StoreError::Invalid {
            resource: resource.to_string(),
            message: "unknown resource".into(),
        })
}

impl Store for Storage {
    fn list(&self, resource: &str) -> Vec<Value> {
        match resources::by_plural(resource) {
            Some(def) => Storage::list(self, def, None)
                .into_iter()
                .cloned()
                .collect(),
            None => Vec::new(),
        }
    }

    fn for_each(&self, resource: &str, visit: &mut dyn FnMut(&Value)) {
        if let Some(def) = resources::by_plural(resource) {
            for object in Storage::list(self, def, None) {
                visit(object);
            }
        }
    }

    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        resources::by_plural(resource)
            .and_then(|def| Storage::get(self, def, namespace, name).cloned())
    }

    fn create(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        let def = def_for(resource)?;
        let ns = meta(&object, "namespace");
        let name = meta(&object, "name");
        let name_of = if resource == "events" {
            "kubelet"
        } else {
            "kube-controller-manager"
        };
        let manager = Manager {
            name: name_of.to_string(),
            subresource: None,
        };
        Storage::create_by(self, def, &ns, object, false, Some(&manager))
            .map_err(|e| to_store_error(resource, &ns, &name, e))
    }

    fn update(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        let def = def_for(resource)?;
        let ns = meta(&object, "namespace");
        let name = meta(&object, "name");
        let manager = controller_manager(resource, None);
        Storage::update_by(
            self,
            def,
            &ns,
            &name,
            object,
            WriteMode::Main,
            false,
            Some(&manager),
        )
        .map_err(|e| to_store_error(resource, &ns, &name, e))
    }

    fn update_status(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        let def = def_for(resource)?;
        let ns = meta(&object, "namespace");
        let name = meta(&object, "name");
        let mode = if def.has_status() {
            WriteMode::Status
        } else {
            WriteMode::Main
        };
        let manager = controller_manager(resource, Some("status"));
        Storage::update_by(self, def, &ns, &name, object, mode, false, Some(&manager))
            .map_err(|e| to_store_error(resource, &ns, &name, e))
    }

    fn delete(&mut self, resource: &str, namespace: &str, name: &str) -> Result<(), StoreError> {
        let def = def_for(resource)?;
        // Controllers delete without cascading: dependents are left to the garbage collector.
        let ns = if def.namespaced { namespace } else { "" };
        let current = Storage::get(self, def, ns, name).cloned().ok_or_else(|| {
            to_store_error(resource, namespace, name, ApiError::not_found(def, name))
        })?;
        self.finish_delete(def, current, None, true);
        Ok(())
    }
}

impl Logs for Storage {
    fn append_log(&mut self, namespace: &str, pod: &str, container: &str, line: &str) {
        let ts = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            .to_string();
        self.logs
            .entry((
                namespace.to_string(),
                pod.to_string(),
                container.to_string(),
            ))
            .or_default()
            .push((ts, line.to_string()));
    }
}

/// Causes re-exported for handler-side validation helpers.
pub fn invalid(def: &ResourceDef, name: &str, causes: Vec<Cause>) -> ApiError {
    ApiError::invalid(def, name, causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> Storage {
        let mut s = Storage::new(100);
        let ns = resources::by_plural("namespaces").unwrap();
        s.create(ns, "", json!({"metadata": {"name": "default"}}), false)
            .unwrap();
        s
    }

    fn deployment(name: &str) -> Value {
        json!({"metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}})
    }

    #[test]
    fn create_update_generation_and_conflict() {
        let mut s = storage();
        let d = resources::by_plural("deployments").unwrap();
        let created = s.create(d, "default", deployment("web"), false).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        assert!(
            s.get(
                resources::by_plural("serviceaccounts").unwrap(),
                "default",
                "default"
            )
            .is_some()
        );
        let mut changed = created.clone();
        changed["spec"]["replicas"] = json!(3);
        changed["status"] = json!({"replicas": 9});
        let updated = s
            .update(d, "default", "web", changed.clone(), WriteMode::Main, false)
            .unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        assert!(updated.get("status").is_none());
        let err = s
            .update(d, "default", "web", changed, WriteMode::Main, false)
            .unwrap_err();
        assert_eq!(err.code, 409);
        let mut st = updated.clone();
        st["status"] = json!({"replicas": 3});
        st["spec"]["replicas"] = json!(7);
        let after = s
            .update(d, "default", "web", st, WriteMode::Status, false)
            .unwrap();
        assert_eq!(after["metadata"]["generation"], 2);
        assert_eq!(after["spec"]["replicas"], 3);
        assert_eq!(after["status"]["replicas"], 3);
        let label_only = {
            let mut v = after.clone();
            v["metadata"]["labels"] = json!({"x": "y"});
            v
        };
        let after = s
            .update(d, "default", "web", label_only, WriteMode::Main, false)
            .unwrap();
        assert_eq!(after["metadata"]["generation"], 2);
    }

    #[test]
    fn missing_namespace_and_cascade() {
        let mut s = storage();
        let d = resources::by_plural("deployments").unwrap();
        let err = s.create(d, "nope", deployment("web"), false).unwrap_err();
        assert_eq!(err.message, "namespaces \"nope\" not found");
        let owner = s.create(d, "default", deployment("web"), false).unwrap();
        let cm = resources::by_plural("configmaps").unwrap();
        let owned = json!({"metadata": {"name": "c", "ownerReferences": [{"uid": owner["metadata"]["uid"], "name": "web", "kind": "Deployment", "apiVersion": "apps/v1"}]}});
        s.create(cm, "default", owned.clone(), false).unwrap();
        s.delete(
            d,
            "default",
            "web",
            &DeleteOptions {
                propagation: Some(Propagation::Orphan),
                ..Default::default()
            },
        )
        .unwrap();
        let c = s.get(cm, "default", "c").unwrap();
        assert!(c["metadata"].get("ownerReferences").is_none());
        let owner = s.create(d, "default", deployment("web"), false).unwrap();
        let mut owned2 = owned.clone();
        owned2["metadata"]["name"] = json!("c2");
        owned2["metadata"]["ownerReferences"][0]["uid"] = owner["metadata"]["uid"].clone();
        s.create(cm, "default", owned2, false).unwrap();
        s.delete(d, "default", "web", &DeleteOptions::default())
            .unwrap();
        assert!(s.get(cm, "default", "c2").is_none());
    }

    #[test]
    fn finalizers_hold_deletion() {
        let mut s = storage();
        let cm = resources::by_plural("configmaps").unwrap();
        s.create(
            cm,
            "default",
            json!({"metadata": {"name": "f", "finalizers": ["x/y"]}}),
            false,
        )
        .unwrap();
        let del = s
            .delete(cm, "default", "f", &DeleteOptions::default())
            .unwrap();
        assert!(del.pending);
        let mut obj = s.get(cm, "default", "f").unwrap().clone();
        obj["metadata"]["finalizers"] = json!([]);
        s.update(cm, "default", "f", obj, WriteMode::Main, false)
            .unwrap();
        assert!(s.get(cm, "default", "f").is_none());
    }

    #[test]
    fn job_selector_is_generated() {
        let mut s = storage();
        let j = resources::by_plural("jobs").unwrap();
        let job = json!({"metadata": {"name": "migrate"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "x:1"}]}}}});
        let created = s.create(j, "default", job, false).unwrap();
        let uid = created["metadata"]["uid"].as_str().unwrap();
        assert_eq!(
            created["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            uid
        );
        assert_eq!(
            created["spec"]["template"]["metadata"]["labels"]["job-name"],
            "migrate"
        );
        assert_eq!(
            created["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "migrate"
        );
        let mut changed = created.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x:2");
        let err = s
            .update(j, "default", "migrate", changed, WriteMode::Main, false)
            .unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message.contains("spec.template: Invalid value"),
            "{}",
            err.message
        );
        assert!(err.message.contains("field is immutable"));
    }

    #[test]
    fn cloned_job_with_stale_controller_labels_is_invalid() {
        let mut s = storage();
        let j = resources::by_plural("jobs").unwrap();
        let job = json!({"metadata": {"name": "migrate"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "x:1"}]}}}});
        let created = s.create(j, "default", job, false).unwrap();
        let mut clone = created.clone();
        clone["metadata"] = json!({"name": "migrate-2"});
        clone.as_object_mut().unwrap().remove("status");
        let err = s.create(j, "default", clone.clone(), false).unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .contains("spec.template.metadata.labels[controller-uid]: Invalid value"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("`selector` not auto-generated"),
            "{}",
            err.message
        );
        for key in [
            "controller-uid",
            "job-name",
            "batch.kubernetes.io/controller-uid",
            "batch.kubernetes.io/job-name",
        ] {
            clone["spec"]["template"]["metadata"]["labels"]
                .as_object_mut()
                .unwrap()
                .remove(key);
        }
        clone["spec"].as_object_mut().unwrap().remove("selector");
        s.create(j, "default", clone, false).unwrap();
    }
}
