//! Registry-rule tests of storage: generation, conflicts, missing namespaces, cascading deletes,
//! finalizers and Job selectors, called directly. Never starts a server.

use super::*;
use crate::resources;

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
