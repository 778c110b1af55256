//! The controllers' view of storage (`controllers::Store`): writes by resource name as the field
//! manager the real component would be, errors mapped to `StoreError`. Never cascades deletes;
//! dependents are left to the simulated garbage collector.

use serde_json::Value;

use crate::{
    controllers::{Store, StoreError},
    errors::ApiError,
    managed::Manager,
    resources::{self, ResourceDef},
};

use super::{Storage, WriteMode, meta};

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
