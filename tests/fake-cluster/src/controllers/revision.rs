//! ControllerRevisions for StatefulSets and DaemonSets: one per distinct pod template, named
//! `<owner>-<hash>`, numbered by `revision`; an old template coming back gets the next number.
//! Never looks at pods.

use serde_json::{Value, json};

use crate::controllers::store::Store;
use crate::controllers::util::{
    At, canonical, fnv32, int_at, name, namespace, normalize_template, owner_reference,
    safe_encode, str_at, uid, write,
};
use crate::controllers::world::World;

pub const HASH_LABEL: &str = "controller-revision-hash";

/// The revision describing an owner's current template.
pub struct Revision {
    pub name: String,
    pub hash: String,
}

/// The normalized template a revision stores.
pub fn template_of(revision: &Value) -> Option<&Value> {
    revision.at("/data/spec/template")
}

/// Finds or creates the revision of `owner`'s current template.
pub fn sync<S: Store>(store: &mut S, world: &World, owner: &Value, kind: &str) -> Option<Revision> {
    let template = normalize_template(
        owner.at("/spec/template").unwrap_or(&Value::Null),
        HASH_LABEL,
    );
    let hash = safe_encode(u64::from(fnv32(canonical(&template).as_bytes())));
    let revision_name = format!("{}-{hash}", name(owner));
    let revisions = world.revisions_of(uid(owner));
    let max = revisions
        .iter()
        .filter_map(|it| int_at(it, "/revision"))
        .max()
        .unwrap_or(0);
    let existing = revisions.iter().find(|it| {
        name(it) == revision_name
            || template_of(it).map(|it| normalize_template(it, HASH_LABEL))
                == Some(template.clone())
    });
    if let Some(existing) = existing {
        let number = int_at(existing, "/revision").unwrap_or(0);
        if number == max {
            return Some(Revision {
                name: name(existing).to_owned(),
                hash,
            });
        }
        let mut updated = (*existing).clone();
        updated["revision"] = json!(max + 1);
        write(store, "controllerrevisions", &updated);
        return Some(Revision {
            name: name(existing).to_owned(),
            hash,
        });
    }
    let mut labels = owner
        .at("/spec/selector/matchLabels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !labels.is_object() {
        labels = json!({});
    }
    labels["controller.kubernetes.io/hash"] = json!(hash);
    let api_version = str_at(owner, "/apiVersion").unwrap_or("apps/v1");
    let revision = json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision_name,
            "namespace": namespace(owner),
            "labels": labels,
            "ownerReferences": [owner_reference(owner, api_version, kind)],
        },
        "data": {"spec": {"template": template}},
        "revision": max + 1,
    });
    let created = store.create("controllerrevisions", revision).ok()?;
    Some(Revision {
        name: name(&created).to_owned(),
        hash,
    })
}

/// The template stored under `revision_name`, if any.
pub fn find_template(world: &World, owner: &Value, revision_name: &str) -> Option<Value> {
    world
        .revisions_of(uid(owner))
        .into_iter()
        .find(|it| name(it) == revision_name)
        .and_then(template_of)
        .cloned()
}

/// Deletes the oldest revisions beyond `revisionHistoryLimit`, sparing `live` ones.
pub fn cleanup<S: Store>(store: &mut S, world: &World, owner: &Value, live: &[&str]) {
    let limit = int_at(owner, "/spec/revisionHistoryLimit")
        .unwrap_or(10)
        .max(0) as usize;
    let mut old: Vec<&Value> = world
        .revisions_of(uid(owner))
        .into_iter()
        .filter(|it| !live.contains(&name(it)))
        .collect();
    if old.len() <= limit {
        return;
    }
    old.sort_by_key(|it| int_at(it, "/revision").unwrap_or(0));
    let excess = old.len() - limit;
    for revision in old.into_iter().take(excess) {
        let _ = store.delete("controllerrevisions", namespace(revision), name(revision));
    }
}
