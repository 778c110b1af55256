//! `MemoryStore`: a small in-memory `Store` + `Logs` with the API server's bookkeeping
//! (resourceVersion counter, uid, creationTimestamp, generateName, generation bumps on spec
//! changes, no-op writes), so the controllers can be tested without the server. Never used by the
//! server, whose storage implements `Store` itself.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::controllers::store::{Logs, Store, StoreError};
use crate::controllers::util::{At, SAFE_ALPHABET, fmt_time, fnv64, millis, str_at};

/// Resources without a namespace.
const CLUSTER_SCOPED: &[&str] = &["nodes", "namespaces"];

/// Objects keyed by (resource, namespace, name).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    objects: BTreeMap<(String, String, String), Value>,
    logs: BTreeMap<(String, String, String), Vec<String>>,
    resource_version: u64,
    counter: u64,
    /// The clock used for `creationTimestamp`.
    pub now: jiff::Timestamp,
}

impl MemoryStore {
    pub fn new(now: jiff::Timestamp) -> MemoryStore {
        MemoryStore {
            objects: BTreeMap::new(),
            logs: BTreeMap::new(),
            resource_version: 0,
            counter: 0,
            now,
        }
    }

    /// The lines appended to a container's log.
    pub fn logs(&self, namespace: &str, pod: &str, container: &str) -> &[String] {
        let key = (namespace.to_owned(), pod.to_owned(), container.to_owned());
        self.logs.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn key(resource: &str, object: &Value) -> (String, String, String) {
        let namespace = if CLUSTER_SCOPED.contains(&resource) {
            String::new()
        } else {
            str_at(object, "/metadata/namespace")
                .filter(|it| !it.is_empty())
                .unwrap_or("default")
                .to_owned()
        };
        let name = str_at(object, "/metadata/name").unwrap_or("").to_owned();
        (resource.to_owned(), namespace, name)
    }

    fn not_found(key: &(String, String, String)) -> StoreError {
        StoreError::NotFound {
            resource: key.0.clone(),
            namespace: key.1.clone(),
            name: key.2.clone(),
        }
    }

    fn check_version(
        &self,
        key: &(String, String, String),
        object: &Value,
        stored: &Value,
    ) -> Result<(), StoreError> {
        match str_at(object, "/metadata/resourceVersion") {
            Some(version) if Some(version) != str_at(stored, "/metadata/resourceVersion") => Err(StoreError::Conflict {
                resource: key.0.clone(),
                namespace: key.1.clone(),
                name: key.2.clone(),
                message: "the object has been modified; please apply your changes to the latest version and try again"
                    .to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Stores `next` unless it equals `stored` apart from the resourceVersion.
    fn commit(&mut self, key: (String, String, String), mut next: Value, stored: &Value) -> Value {
        next["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"].clone();
        if &next == stored {
            return next;
        }
        next["metadata"]["resourceVersion"] = json!(self.next_version());
        self.objects.insert(key, next.clone());
        next
    }
}

impl Store for MemoryStore {
    fn list(&self, resource: &str) -> Vec<Value> {
        let start = (resource.to_owned(), String::new(), String::new());
        self.objects
            .range(start..)
            .take_while(|(key, _)| key.0 == resource)
            .map(|(_, it)| it.clone())
            .collect()
    }

    fn for_each(&self, resource: &str, visit: &mut dyn FnMut(&Value)) {
        let start = (resource.to_owned(), String::new(), String::new());
        for (_, object) in self
            .objects
            .range(start..)
            .take_while(|(key, _)| key.0 == resource)
        {
            visit(object);
        }
    }

    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.objects
            .get(&(resource.to_owned(), namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    fn create(&mut self, resource: &str, mut object: Value) -> Result<Value, StoreError> {
        if !object.get("metadata").is_some_and(Value::is_object) {
            object["metadata"] = json!({});
        }
        if str_at(&object, "/metadata/name").is_none_or(str::is_empty) {
            let Some(prefix) = str_at(&object, "/metadata/generateName").map(str::to_owned) else {
                return Err(StoreError::Invalid {
                    resource: resource.to_owned(),
                    message: "name or generateName is required".into(),
                });
            };
            loop {
                self.counter += 1;
                let mut seed = fnv64(format!("name-{}", self.counter).as_bytes());
                let suffix: String = (0..5)
                    .map(|_| {
                        let it =
                            SAFE_ALPHABET[(seed % SAFE_ALPHABET.len() as u64) as usize] as char;
                        seed /= SAFE_ALPHABET.len() as u64;
                        it
                    })
                    .collect();
                let candidate = format!("{prefix}{suffix}");
                object["metadata"]["name"] = json!(candidate);
                if !self
                    .objects
                    .contains_key(&MemoryStore::key(resource, &object))
                {
                    break;
                }
            }
        }
        let key = MemoryStore::key(resource, &object);
        if self.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists {
                resource: key.0,
                namespace: key.1,
                name: key.2,
            });
        }
        self.counter += 1;
        let metadata = &mut object["metadata"];
        if !key.1.is_empty() {
            metadata["namespace"] = json!(key.1);
        }
        metadata["uid"] = json!(format!("00000000-0000-4000-8000-{:012x}", self.counter));
        metadata["creationTimestamp"] = json!(fmt_time(millis(self.now)));
        if !matches!(resource, "pods" | "events") {
            metadata["generation"] = json!(1);
        }
        object["metadata"]["resourceVersion"] = json!(self.next_version());
        self.objects.insert(key, object.clone());
        Ok(object)
    }

    fn update(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        let key = MemoryStore::key(resource, &object);
        let stored = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| MemoryStore::not_found(&key))?;
        self.check_version(&key, &object, &stored)?;
        let mut next = object;
        for field in [
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "namespace",
        ] {
            match stored["metadata"].get(field) {
                Some(value) => next["metadata"][field] = value.clone(),
                None => {
                    next["metadata"].as_object_mut().map(|it| it.remove(field));
                }
            }
        }
        match stored.get("status") {
            Some(status) => next["status"] = status.clone(),
            None => {
                next.as_object_mut().map(|it| it.remove("status"));
            }
        }
        let spec_changed = stored.get("spec") != next.get("spec")
            || (resource == "deployments"
                && stored.at("/metadata/annotations") != next.at("/metadata/annotations"));
        if spec_changed
            && let Some(generation) = stored.at("/metadata/generation").and_then(Value::as_i64)
        {
            next["metadata"]["generation"] = json!(generation + 1);
        }
        Ok(self.commit(key, next, &stored))
    }

    fn update_status(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        let key = MemoryStore::key(resource, &object);
        let stored = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| MemoryStore::not_found(&key))?;
        self.check_version(&key, &object, &stored)?;
        let mut next = stored.clone();
        match object.get("status") {
            Some(status) => next["status"] = status.clone(),
            None => {
                next.as_object_mut().map(|it| it.remove("status"));
            }
        }
        if resource == "deployments" {
            // Like the real registry: annotation changes ride along with /status writes.
            match object.at("/metadata/annotations") {
                Some(annotations) => next["metadata"]["annotations"] = annotations.clone(),
                None => {
                    next["metadata"]
                        .as_object_mut()
                        .map(|it| it.remove("annotations"));
                }
            }
        }
        Ok(self.commit(key, next, &stored))
    }

    fn delete(&mut self, resource: &str, namespace: &str, name: &str) -> Result<(), StoreError> {
        let key = (resource.to_owned(), namespace.to_owned(), name.to_owned());
        match self.objects.remove(&key) {
            Some(_) => {
                self.next_version();
                Ok(())
            }
            None => Err(MemoryStore::not_found(&key)),
        }
    }
}

impl Logs for MemoryStore {
    fn append_log(&mut self, namespace: &str, pod: &str, container: &str, line: &str) {
        let key = (namespace.to_owned(), pod.to_owned(), container.to_owned());
        self.logs.entry(key).or_default().push(line.to_owned());
    }
}
