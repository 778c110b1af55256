//! The garbage collector: deletes objects whose controller ownerReference names a uid that no
//! longer exists. Only owners of the kinds this simulator runs are considered, so objects owned by
//! unknown kinds are left alone.

use std::collections::HashSet;

use serde_json::Value;

use crate::controllers::store::Store;
use crate::controllers::util::{name, namespace, str_at, uid};
use crate::controllers::world::World;

const OWNER_KINDS: &[&str] = &["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"];

pub fn run<S: Store>(store: &mut S, world: &World) {
    let alive: HashSet<&str> = [
        &world.deployments,
        &world.replicasets,
        &world.statefulsets,
        &world.daemonsets,
        &world.jobs,
        &world.cronjobs,
    ]
    .into_iter()
    .flatten()
    .map(uid)
    .collect();
    let orphaned = |object: &Value| -> bool {
        let Some(references) = object.pointer("/metadata/ownerReferences").and_then(Value::as_array) else {
            return false;
        };
        references.iter().any(|reference| {
            reference.get("controller").and_then(Value::as_bool).unwrap_or(false)
                && str_at(reference, "/kind").is_some_and(|it| OWNER_KINDS.contains(&it))
                && str_at(reference, "/uid").is_some_and(|it| !alive.contains(it))
        })
    };
    let mut doomed = Vec::new();
    for (resource, objects) in [
        ("replicasets", &world.replicasets),
        ("pods", &world.pods),
        ("controllerrevisions", &world.revisions),
        ("jobs", &world.jobs),
    ] {
        for object in objects.iter().filter(|it| orphaned(it)) {
            doomed.push((resource, namespace(object).to_owned(), name(object).to_owned()));
        }
    }
    for (resource, namespace, name) in doomed {
        let _ = store.delete(resource, &namespace, &name);
    }
}
