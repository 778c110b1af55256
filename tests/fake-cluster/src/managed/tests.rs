//! Field sets with merge keys, update ownership and apply conflicts. Never starts a server.

use super::*;

fn dep(image: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image, "args": ["a"]}]}}}})
}

#[test]
fn leaves_use_merge_keys() {
    let l = leaves(&dep("nginx:1", 1));
    let image: FieldPath = [
        "f:spec",
        "f:template",
        "f:spec",
        "f:containers",
        "k:{\"name\":\"app\"}",
        "f:image",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(l.get(&image), Some(&json!("nginx:1")));
    assert_eq!(
        render_path(&image),
        ".spec.template.spec.containers[name=\"app\"].image"
    );
    let fv1 = to_fields_v1(&l.keys().cloned().collect());
    assert!(fv1["f:metadata"]["f:labels"].get(".").is_some());
    assert_eq!(from_fields_v1(&fv1).len(), l.len());
}

#[test]
fn updates_take_changed_fields_and_apply_conflicts() {
    let kubectl = Manager {
        name: "kubectl-client-side-apply".into(),
        subresource: None,
    };
    let created = dep("nginx:1", 1);
    let mut obj = created.clone();
    obj["metadata"]["managedFields"] = record_update(None, &created, &kubectl, "apps/v1");
    let ci = Manager {
        name: "ci".into(),
        subresource: None,
    };
    let applied = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}});
    let merged = dep("nginx:2", 1);
    let err = record_apply(&obj, &applied, &merged, &ci, "apps/v1", false).unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.template.spec.containers[name=\"app\"].image"
    );
    let mf = record_apply(&obj, &applied, &merged, &ci, "apps/v1", true).unwrap();
    let managers: Vec<&str> = mf
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kubectl-client-side-apply", "ci"]);
    // Applying the value already there is not a conflict.
    let same = json!({"spec": {"replicas": 1}});
    assert!(record_apply(&obj, &same, &obj, &ci, "apps/v1", false).is_ok());
    // An update moves the changed field to the updater.
    let set = Manager {
        name: "kubectl-set".into(),
        subresource: None,
    };
    let mf = record_update(Some(&obj), &merged, &set, "apps/v1");
    let set_entry = mf
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "kubectl-set")
        .unwrap();
    assert!(set_entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"].get("f:image").is_some());
}
