//! Registry rules of an update (PUT, the result of a PATCH, a controller write): spec/status
//! separation, kept server-set metadata, generation bumps, optimistic concurrency and
//! field-manager bookkeeping. Never creates objects; an update that leaves a terminating object
//! without finalizers completes its deletion, as the apiserver does.

use serde_json::{Value, json};

use crate::{
    defaults,
    errors::ApiError,
    managed::{self, Manager},
    resources::{Generation, ResourceDef},
    validation,
};

use super::{EventKind, Storage, has_finalizers, meta, meta_mut};

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The main resource: status is kept as stored when the resource has a status subresource.
    Main,
    /// The `/status` subresource: only status (and some metadata) changes.
    Status,
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
}

/// The annotation kube-apiserver keeps on every apps/v1 DaemonSet: its pod template's generation.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

pub(super) fn set_template_generation(
    metadata: &mut serde_json::Map<String, Value>,
    generation: i64,
) {
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
