//! The workload policies: updates may change only the images of opted-in workloads.

use super::*;

#[test]
fn updates_may_change_only_images_of_opted_in_workloads() {
    let storage = storage(&request(), None);
    let update = |new: &Value| admitted(&storage, "deployments", "UPDATE", Some(new), Some(&web()));
    assert_eq!(update(&updated("busybox:1.37")), Ok(()));
    assert_eq!(
        update(&updated(&format!(
            "docker.io/library/busybox@sha256:{}",
            "a".repeat(64)
        ))),
        Ok(())
    );
    assert_eq!(update(&web()), Ok(()), "a write that changes nothing");
    let denied: Vec<Mutation> = vec![
        (
            "foreign repository",
            "may only deploy images of",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("registry.example.com.evil.io/team/app:1")
            }),
        ),
        (
            "sidecar to a foreign image",
            "may only deploy images of",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][1]["image"] = json!("evil.io/nginx:1")
            }),
        ),
        (
            "command",
            "may change nothing of a container but its image",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["id"])
            }),
        ),
        (
            "env",
            "may change nothing of a container but its image",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = json!("2")
            }),
        ),
        (
            "a new container field",
            "may change nothing of a container but its image",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][1]["restartPolicy"] = json!("Always")
            }),
        ),
        (
            "moved to initContainers",
            "may not add, remove, rename, reorder or move containers",
            Box::new(|it| {
                let proxy = it["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .remove(1);
                it["spec"]["template"]["spec"]["initContainers"]
                    .as_array_mut()
                    .unwrap()
                    .push(proxy);
            }),
        ),
        (
            "reordered",
            "may not add, remove, rename, reorder or move containers",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .reverse()
            }),
        ),
        (
            "serviceAccountName",
            "may not change pod settings",
            Box::new(|it| it["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin")),
        ),
        (
            "shareProcessNamespace",
            "may not change pod settings",
            Box::new(|it| it["spec"]["template"]["spec"]["shareProcessNamespace"] = json!(true)),
        ),
        (
            "hostAliases",
            "may not change pod settings",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["hostAliases"] = json!([{"ip": "1.2.3.4"}])
            }),
        ),
        (
            "nodeName",
            "may not change pod settings",
            Box::new(|it| it["spec"]["template"]["spec"]["nodeName"] = json!("n1")),
        ),
        (
            "pod template annotation",
            "may not change the pod template's metadata",
            Box::new(|it| it["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"})),
        ),
        (
            "replicas",
            "may not change the workload's spec outside the pod template",
            Box::new(|it| it["spec"]["replicas"] = json!(9)),
        ),
        (
            "paused",
            "may not change the workload's spec outside the pod template",
            Box::new(|it| it["spec"]["paused"] = json!(true)),
        ),
        (
            "strategy",
            "may not change the workload's spec outside the pod template",
            Box::new(|it| it["spec"]["strategy"] = json!({"type": "Recreate"})),
        ),
        (
            "labels",
            "may not change the workload's metadata",
            Box::new(|it| it["metadata"]["labels"]["x"] = json!("y")),
        ),
        (
            "ownerReferences",
            "may not change the workload's metadata",
            Box::new(|it| it["metadata"]["ownerReferences"] = json!([{"kind": "X"}])),
        ),
        (
            "finalizers",
            "may not change the workload's metadata",
            Box::new(|it| it["metadata"]["finalizers"] = json!(["x/y"])),
        ),
        (
            "an annotation",
            "may change no annotation but",
            Box::new(|it| it["metadata"]["annotations"]["x"] = json!("y")),
        ),
        (
            "the classifier",
            "may change no annotation but",
            Box::new(|it| {
                it["metadata"]["annotations"][CLASSIFIER] = json!("canary, stable, other")
            }),
        ),
        (
            "a forged record",
            "may only write kubectl-update's own record",
            Box::new(|it| {
                it["metadata"]["annotations"][PREVIOUS] = json!(
                    r#"{"containers":[{"name":"app","previous":"evil.io/x:1","target":"busybox:1.37"}],"time":"2026-01-01T00:00:00Z"}"#
                )
            }),
        ),
        (
            "a record with more fields",
            "may only write kubectl-update's own record",
            Box::new(|it| {
                it["metadata"]["annotations"][PREVIOUS] = json!(
                    r#"{"containers":[{"name":"app","previous":"busybox:1","target":"busybox:1.37","x":1}],"time":"2026-01-01T00:00:00Z"}"#
                )
            }),
        ),
        (
            "a change cause",
            "may only write kubectl-update's own kubernetes.io/change-cause",
            Box::new(|it| it["metadata"]["annotations"][CHANGE_CAUSE] = json!("approved")),
        ),
        (
            "status",
            "may change nothing but container images",
            Box::new(|it| it["status"]["replicas"] = json!(0)),
        ),
    ];
    for (what, message, change) in denied {
        let mut new = updated("busybox:1.37");
        change(&mut new);
        let res = update(&new);
        assert!(
            res.as_ref().is_err_and(|it| it.contains(message)),
            "{what}: {res:?}"
        );
        assert!(
            res.unwrap_err()
                .starts_with("system:serviceaccount:shop:kubectl-update may")
        );
    }
    let mut opted_out = web();
    opted_out["metadata"]["annotations"][CLASSIFIER] = json!("other");
    let mut opting_in = updated("busybox:1.37");
    opting_in["metadata"]["annotations"][CLASSIFIER] = json!("stable");
    assert!(
        admitted(
            &storage,
            "deployments",
            "UPDATE",
            Some(&opting_in),
            Some(&opted_out)
        )
        .is_err_and(|it| it.contains("annotation already lists stable or canary")),
        "opting in with the same write"
    );
    let mut legacy = web();
    legacy["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove(CLASSIFIER);
    legacy["metadata"]["annotations"][LEGACY_CLASSIFIER] = json!("x,stable");
    let mut legacy_new = updated("busybox:1.37");
    legacy_new["metadata"]["annotations"] = legacy["metadata"]["annotations"].clone();
    assert_eq!(
        admitted(
            &storage,
            "deployments",
            "UPDATE",
            Some(&legacy_new),
            Some(&legacy)
        ),
        Ok(()),
        "the legacy annotation"
    );
    let mut stable_ish = web();
    stable_ish["metadata"]["annotations"][CLASSIFIER] = json!("stable-2");
    let mut stable_ish_new = updated("busybox:1.37");
    stable_ish_new["metadata"]["annotations"][CLASSIFIER] = json!("stable-2");
    assert!(
        admitted(
            &storage,
            "deployments",
            "UPDATE",
            Some(&stable_ish_new),
            Some(&stable_ish)
        )
        .is_err(),
        "whole list entries only"
    );
}

#[test]
fn cronjobs_keep_their_schedule_and_job_spec() {
    let storage = storage(&request(), None);
    let old = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "invoices", "namespace": "shop", "annotations": {CLASSIFIER: "stable"}},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"backoffLimit": 1, "template": {"spec": {
            "restartPolicy": "OnFailure", "containers": [{"name": "invoices", "image": "busybox:1.36"}]}}}}}});
    let mut new = old.clone();
    new["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("busybox:1.37");
    assert_eq!(
        admitted(&storage, "cronjobs", "UPDATE", Some(&new), Some(&old)),
        Ok(())
    );
    for (pointer, value) in [
        ("/spec/suspend", json!(true)),
        ("/spec/schedule", json!("* * * * *")),
        ("/spec/jobTemplate/spec/backoffLimit", json!(9)),
    ] {
        let mut bad = new.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        bad.pointer_mut(parent).unwrap()[key] = value;
        assert!(
            admitted(&storage, "cronjobs", "UPDATE", Some(&bad), Some(&old))
                .is_err_and(|it| it.contains("outside the pod template")),
            "{pointer}"
        );
    }
}
