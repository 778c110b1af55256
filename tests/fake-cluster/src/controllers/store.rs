//! The narrow interface through which the simulated controllers and kubelet read and write cluster
//! objects. The API server's storage implements it; the controllers' unit tests use `MemoryStore`.
//!
//! Objects are plain JSON (`serde_json::Value`) exactly as the API serves them (apiVersion, kind,
//! metadata, spec, status). Resources are named by their plural (`"deployments"`, `"pods"`, ...),
//! which is unique across the groups this simulator serves. Never carries HTTP concerns: no status
//! codes, no encodings.

use serde_json::Value;

/// Why a controller write was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{resource} {namespace}/{name} not found")]
    NotFound {
        resource: String,
        namespace: String,
        name: String,
    },
    #[error("{resource} {namespace}/{name} already exists")]
    AlreadyExists {
        resource: String,
        namespace: String,
        name: String,
    },
    #[error("conflict writing {resource} {namespace}/{name}: {message}")]
    Conflict {
        resource: String,
        namespace: String,
        name: String,
        message: String,
    },
    #[error("invalid {resource}: {message}")]
    Invalid { resource: String, message: String },
}

/// What controllers may do to the cluster's objects. Every write goes through the same path as an
/// API write: it assigns resourceVersion, notifies watchers and runs admission defaults.
pub trait Store {
    /// Every object of `resource` in every namespace (cluster-scoped resources: all of them), in a
    /// stable order (namespace, then name).
    fn list(&self, resource: &str) -> Vec<Value>;

    /// Calls `visit` with every object `list` would return, in the same order, without copying
    /// them. The provided version copies through `list`; stores should override it, because the
    /// controllers scan pods, ReplicaSets and Deployments this way on every tick and copy only the
    /// few objects that need work.
    fn for_each(&self, resource: &str, visit: &mut dyn FnMut(&Value)) {
        for object in self.list(resource) {
            visit(&object);
        }
    }

    /// One object; `namespace` is `""` for cluster-scoped resources.
    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value>;

    /// Creates an object. The store fills uid, resourceVersion, creationTimestamp, generation (1),
    /// a name from `metadata.generateName`, and the resource's defaults; returns the stored object.
    fn create(&mut self, resource: &str, object: Value) -> Result<Value, StoreError>;

    /// Replaces an object's metadata and spec (the status in `object` is ignored and kept as
    /// stored), bumping `metadata.generation` exactly when the real API server would. When
    /// `metadata.resourceVersion` is set and stale the write fails with `Conflict`.
    fn update(&mut self, resource: &str, object: Value) -> Result<Value, StoreError>;

    /// Replaces only `status` (the `/status` subresource); metadata and spec in `object` are
    /// ignored. Never bumps generation.
    fn update_status(&mut self, resource: &str, object: Value) -> Result<Value, StoreError>;

    /// Deletes an object. Dependents (ownerReferences) are left for the garbage collector.
    fn delete(&mut self, resource: &str, namespace: &str, name: &str) -> Result<(), StoreError>;
}

/// Side channel for what the simulated kubelet produces besides objects.
pub trait Logs {
    /// Appends one line to a container's log, served by `GET .../pods/NAME/log`.
    fn append_log(&mut self, namespace: &str, pod: &str, container: &str, line: &str);
}
