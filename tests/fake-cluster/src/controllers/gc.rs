//! The garbage collector: deletes objects whose controller ownerReference names a uid that no
//! longer exists. Only owners of the kinds this simulator runs are considered, so objects owned by
//! unknown kinds are left alone. Never deletes an object without a controller ownerReference.

use crate::controllers::store::Store;
use crate::controllers::util::{name, namespace};
use crate::controllers::world::{World, known_owner};

pub fn run<S: Store>(store: &mut S, world: &World) {
    let orphaned = |owner: Option<&str>| owner.is_some_and(|it| !world.owners.contains(it));
    let mut doomed: Vec<(&str, String, String)> = Vec::new();
    for rs in world
        .replicasets
        .iter()
        .filter(|it| orphaned(it.owner.as_deref()))
    {
        doomed.push(("replicasets", rs.namespace.clone(), rs.name.clone()));
    }
    for pod in world.pods.iter().filter(|it| it.orphan) {
        doomed.push(("pods", pod.namespace.clone(), pod.name.clone()));
    }
    for (resource, objects) in [
        ("controllerrevisions", &world.revisions),
        ("jobs", &world.jobs),
    ] {
        for object in objects.iter().filter(|it| orphaned(known_owner(it))) {
            doomed.push((
                resource,
                namespace(object).to_owned(),
                name(object).to_owned(),
            ));
        }
    }
    for (resource, namespace, name) in doomed {
        let _ = store.delete(resource, &namespace, &name);
    }
}
