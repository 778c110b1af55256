//! Registry rules of a create: metadata the server sets, `generateName`, resource-specific
//! `PrepareForCreate`, defaults, validation, and the objects every new namespace gets. Never
//! replaces an existing object.

use serde_json::{Value, json};

use crate::{
    defaults,
    errors::ApiError,
    managed::{self, Manager},
    resources::{self, Generation, ResourceDef},
    validation,
};

use super::update::set_template_generation;
use super::{EventKind, Storage, meta, meta_mut, new_uid, now_rfc3339, random_suffix};

impl Storage {
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
