//! Unit tests of the generated policies.

use fake_cluster::admission::{Request as Admission, admit};
use fake_cluster::auth::UserInfo;
use fake_cluster::resources::by_plural;
use fake_cluster::storage::Storage;

use super::cel::*;
use super::*;
use crate::plan::annotations::{CLASSIFIER, LEGACY_CLASSIFIER};
use crate::plan::migration::{IMAGE, MIGRATION_OF, ORDER};
use crate::plan::patch::{CHANGE_CAUSE, PREVIOUS, Previous, PreviousContainer};

fn request() -> Request {
    Request {
        service_account: "kubectl-update".into(),
        namespaces: vec!["shop".into(), "billing".into()],
        cluster_wide: false,
        repositories: vec!["busybox".into(), "registry.example.com/team/app".into()],
        classifiers: vec!["stable".parse().unwrap(), "canary".parse().unwrap()],
        protected: vec!["cert-manager".into()],
        templates: vec![Template {
            namespace: "shop".into(),
            name: "schema".into(),
        }],
    }
}

fn kinds_and_names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|it| {
            format!(
                "{} {}",
                it["kind"].as_str().unwrap(),
                it["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn repository_patterns_are_anchored_and_cover_docker_hub_spellings() {
    let test = image_allowed(
        "i",
        &[
            "registry.example.com/team/app".to_owned(),
            "busybox".to_owned(),
        ],
    );
    assert!(test.starts_with("i.matches('^(registry\\\\.example\\\\.com/team/app|docker\\\\.io/library/busybox|library/busybox|index\\\\.docker\\\\.io/library/busybox|busybox|"), "{test}");
    assert!(test.ends_with("(@sha256:[a-f0-9]{64})?$')"), "{test}");
}

#[test]
fn every_service_account_of_the_set_is_matched_and_every_namespace_bound() {
    let objects = objects(&request());
    let condition = objects[0]["spec"]["matchConditions"][0]["expression"]
        .as_str()
        .unwrap();
    assert_eq!(
        condition,
        "request.userInfo.username in ['system:serviceaccount:shop:kubectl-update', 'system:serviceaccount:billing:kubectl-update']"
    );
    assert_eq!(
        objects[1]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0],
        json!({"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop", "billing"]})
    );
    let mut wide = request();
    wide.cluster_wide = true;
    wide.namespaces = vec!["ci".into()];
    let objects = super::objects(&wide);
    assert_eq!(
        objects[0]["spec"]["matchConditions"][0]["expression"],
        "request.userInfo.username in ['system:serviceaccount:ci:kubectl-update']"
    );
    assert_eq!(
        objects[1]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
        json!([
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "cert-manager"
        ])
    );
}

#[test]
fn each_namespace_set_has_its_own_names() {
    let names = kinds_and_names(&objects(&request()));
    assert_eq!(
        names
            .iter()
            .filter(|it| it.starts_with("ValidatingAdmissionPolicy "))
            .count(),
        6,
        "{names:#?}"
    );
    let mut reordered = request();
    reordered.namespaces.reverse();
    reordered.namespaces.swap(0, 1);
    assert_eq!(
        kinds_and_names(&objects(&reordered)),
        names,
        "the same set, the same names"
    );
    let mut other = request();
    other.namespaces = vec!["shop".into()];
    let others = kinds_and_names(&objects(&other));
    assert!(
        others.iter().all(|it| !names.contains(it)),
        "applying another set replaces nothing: {others:#?}"
    );
    let set = request().set_name();
    assert!(
        set.starts_with("shop-") && set.len() == "shop-".len() + 8,
        "{set}"
    );
    assert!(
        names
            .iter()
            .all(|it| it.ends_with(&format!(".{set}.kubectl-update.io")))
    );
}

#[test]
fn each_template_gets_a_binding_judging_only_its_copies() {
    let objects = objects(&request());
    let binding = objects
        .iter()
        .find(|it| {
            it["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("migration.shop.schema.")
        })
        .unwrap();
    assert_eq!(
        binding["spec"]["paramRef"],
        json!({"name": "schema", "namespace": "shop", "parameterNotFoundAction": "Deny"})
    );
    assert_eq!(
        binding["spec"]["matchResources"],
        json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
            "objectSelector": {"matchLabels": {MIGRATION_OF: "schema"}}})
    );
    let policy = objects
        .iter()
        .find(|it| it["metadata"]["name"] == binding["spec"]["policyName"])
        .unwrap();
    assert_eq!(
        policy["spec"]["paramKind"],
        json!({"apiVersion": "batch/v1", "kind": "Job"})
    );
}

// The rest evaluates the policies with the simulator's CEL interpreter (the `cel` crate); the
// real API server is the judge (tests/control-plane), this catches mistakes early.

const CI: &str = "kubectl-update";

/// What a case is about, the message it is denied with, and how it changes an object.
type Mutation = (&'static str, &'static str, Box<dyn Fn(&mut Value)>);

fn storage(request: &Request, namespace_object: Option<Value>) -> Storage {
    let mut storage = Storage::new(100);
    let namespace = namespace_object.unwrap_or_else(
        || json!({"metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}}),
    );
    storage
        .create(by_plural("namespaces").unwrap(), "", namespace, false)
        .unwrap();
    for object in objects(request) {
        let plural = if object["kind"] == "ValidatingAdmissionPolicy" {
            "validatingadmissionpolicies"
        } else {
            "validatingadmissionpolicybindings"
        };
        storage
            .create(by_plural(plural).unwrap(), "", object, false)
            .unwrap();
    }
    storage
}

/// `Ok` or the message of the policy that denied.
fn admitted(
    storage: &Storage,
    plural: &str,
    operation: &'static str,
    object: Option<&Value>,
    old: Option<&Value>,
) -> Result<(), String> {
    let user = UserInfo::service_account("shop", CI);
    let name = object
        .or(old)
        .and_then(|it| it.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let request = Admission {
        def: by_plural(plural).unwrap(),
        subresource: "",
        namespace: "shop",
        name: &name,
        operation,
        object,
        old_object: old,
        user: &user,
        dry_run: false,
    };
    admit(storage, &request).map(drop).map_err(|err| {
        err.message
            .split(" denied request: ")
            .nth(1)
            .unwrap_or(&err.message)
            .to_owned()
    })
}

fn web() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "5", "generation": 2,
            "labels": {"app": "web"},
            "annotations": {CLASSIFIER: "canary, stable", "deployment.kubernetes.io/revision": "2"},
            "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"serviceAccountName": "web",
                    "initContainers": [{"name": "wait", "image": "busybox:1.36", "command": ["true"]}],
                    "containers": [
                        {"name": "app", "image": "busybox:1.36", "command": ["sh"], "env": [{"name": "A", "value": "1"}]},
                        {"name": "proxy", "image": "nginx:1.27"}]}}},
        "status": {"replicas": 3}})
}

/// `web` as the tool's update leaves it: new images, the record, the change cause, the
/// server's bookkeeping.
fn updated(image: &str) -> Value {
    let mut new = web();
    new["spec"]["template"]["spec"]["initContainers"][0]["image"] = json!(image);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    let record = Previous {
        containers: vec![
            PreviousContainer {
                name: "wait".into(),
                init: true,
                previous: "busybox:1.36".into(),
                target: image.into(),
            },
            PreviousContainer {
                name: "app".into(),
                init: false,
                previous: "busybox:1.36".into(),
                target: image.into(),
            },
        ],
        time: jiff::Timestamp::now().to_string(),
    };
    new["metadata"]["annotations"][PREVIOUS] = json!(serde_json::to_string(&record).unwrap());
    new["metadata"]["annotations"][CHANGE_CAUSE] =
        json!(format!("kubectl-update: wait={image}, app={image}"));
    new["metadata"]["generation"] = json!(3);
    new["metadata"]["managedFields"] = json!([{"manager": "kubectl", "operation": "Update"}, {"manager": "kubectl-update", "operation": "Update"}]);
    new
}

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

/// The template as the API server stores it, and a copy as `migrate::copy::job` makes it and
/// the server stores it before admission (generated selector and labels).
fn template_and_copy() -> (Value, Value) {
    let template = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "schema", "namespace": "shop", "uid": "u1",
            "labels": {"job-name": "schema", "controller-uid": "u1", "team": "db"},
            "annotations": {CLASSIFIER: "stable", ORDER: "1", LAST_APPLIED: "{}"}},
        "spec": {"suspend": true, "backoffLimit": 0, "manualSelector": false,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
            "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u1", "job-name": "schema"}},
                "spec": {"restartPolicy": "Never", "serviceAccountName": "migrator",
                    "containers": [{"name": "migrate", "image": "busybox:1.36", "command": ["migrate"]}]}}},
        "status": {}});
    let copy = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "schema-0123456789", "namespace": "shop", "uid": "u2", "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"team": "db", MIGRATION_OF: "schema"},
            "annotations": {IMAGE: "busybox:1.37"}},
        "spec": {"suspend": false, "backoffLimit": 0, "manualSelector": false, "ttlSecondsAfterFinished": 86400,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u2"}},
            "template": {"metadata": {"labels": {MIGRATION_OF: "schema", "batch.kubernetes.io/controller-uid": "u2", "job-name": "schema-0123456789"}},
                "spec": {"restartPolicy": "Never", "serviceAccountName": "migrator",
                    "containers": [{"name": "migrate", "image": "busybox:1.37", "command": ["migrate"]}]}}},
        "status": {}});
    (template, copy)
}

#[test]
fn migration_copies_must_equal_their_template() {
    // The simulator has no `paramKind`: the template stands in as the namespace object, which
    // the policy reads instead of `params` here.
    let (template, copy) = template_and_copy();
    let mut request = request();
    request.templates = Vec::new();
    let mut storage = Storage::new(100);
    let mut policy = objects(&request)
        .into_iter()
        .find(|it| {
            it["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("migration.")
        })
        .unwrap();
    for variable in policy["spec"]["variables"].as_array_mut().unwrap() {
        if variable["name"] == "tpl" {
            variable["expression"] = json!("dyn(namespaceObject)");
        }
    }
    let policy_name = policy["metadata"]["name"].clone();
    storage
        .create(
            by_plural("validatingadmissionpolicies").unwrap(),
            "",
            policy,
            false,
        )
        .unwrap();
    storage.create(by_plural("validatingadmissionpolicybindings").unwrap(), "",
        json!({"metadata": {"name": "b"}, "spec": {"policyName": policy_name, "validationActions": ["Deny"]}}), false).unwrap();
    // The stand-in namespace object is the template.
    let namespaces = by_plural("namespaces").unwrap();
    let mut stand_in = template.clone();
    stand_in["apiVersion"] = json!("v1");
    stand_in["kind"] = json!("Namespace");
    stand_in["metadata"]["name"] = json!("shop");
    stand_in["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    storage.create(namespaces, "", stand_in, false).unwrap();
    let named = |mut it: Value| {
        it["metadata"]["labels"][MIGRATION_OF] = json!("shop");
        // The simulator labels every namespace with its name and gives it a finalizer.
        it["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("shop");
        it["spec"]["finalizers"] = json!(["kubernetes"]);
        it["spec"]["template"]["metadata"]["labels"][MIGRATION_OF] = json!("shop");
        it
    };
    let create = |copy: &Value| admitted(&storage, "jobs", "CREATE", Some(copy), None);
    assert_eq!(create(&named(copy.clone())), Ok(()));
    let denied: Vec<Mutation> = vec![
        (
            "serviceAccountName",
            "may not change pod settings",
            Box::new(|it| it["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin")),
        ),
        (
            "hostPath",
            "may not change pod settings",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["volumes"] =
                    json!([{"name": "h", "hostPath": {"path": "/"}}])
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
            "image",
            "may only deploy images of",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil.io/x:1")
            }),
        ),
        (
            "classifier",
            "the template's annotations (no classifier)",
            Box::new(|it| it["metadata"]["annotations"][CLASSIFIER] = json!("stable")),
        ),
        (
            "image annotation",
            "the template's annotations (no classifier)",
            Box::new(|it| it["metadata"]["annotations"][IMAGE] = json!("evil.io/x:1")),
        ),
        (
            "labels",
            "with the template's labels",
            Box::new(|it| it["metadata"]["labels"]["team"] = json!("evil")),
        ),
        (
            "owner",
            "owner references, finalizers",
            Box::new(|it| it["metadata"]["ownerReferences"] = json!([{"kind": "X"}])),
        ),
        (
            "suspended",
            "the template's Job spec",
            Box::new(|it| it["spec"]["suspend"] = json!(true)),
        ),
        (
            "deadline",
            "the template's Job spec",
            Box::new(|it| it["spec"]["activeDeadlineSeconds"] = json!(1)),
        ),
        (
            "no TTL",
            "the template's Job spec",
            Box::new(|it| {
                it["spec"]
                    .as_object_mut()
                    .unwrap()
                    .remove("ttlSecondsAfterFinished");
            }),
        ),
        (
            "pod annotations",
            "the template's pod metadata",
            Box::new(|it| it["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"})),
        ),
        (
            "extra container",
            "may not add, remove",
            Box::new(|it| {
                it["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "x", "image": "busybox:1"}))
            }),
        ),
    ];
    for (what, message, change) in denied {
        let mut bad = named(copy.clone());
        change(&mut bad);
        let res = create(&bad);
        assert!(
            res.as_ref().is_err_and(|it| it.contains(message)),
            "{what}: {res:?}"
        );
    }
    let mut unlisted = named(copy.clone());
    unlisted["metadata"]["labels"][MIGRATION_OF] = json!("other");
    assert!(create(&unlisted).is_err(), "a copy of another template");
}

#[test]
fn jobs_pods_leases_and_everything_else() {
    let storage = storage(&request(), None);
    let (template, copy) = template_and_copy();
    let job =
        |labels: Value| json!({"metadata": {"name": "x", "namespace": "shop", "labels": labels}});
    assert!(
        admitted(&storage, "jobs", "CREATE", Some(&job(json!({}))), None)
            .is_err_and(|it| it.contains("may only create Jobs labelled kubectl-update.io/migration-of with a migration template known"))
    );
    assert!(
        admitted(
            &storage,
            "jobs",
            "CREATE",
            Some(&job(json!({MIGRATION_OF: "nothere"}))),
            None
        )
        .is_err()
    );
    assert!(
        admitted(&storage, "jobs", "DELETE", None, Some(&template))
            .is_err_and(|it| it.contains("never a template"))
    );
    assert!(admitted(&storage, "jobs", "DELETE", None, Some(&job(json!({})))).is_err());
    assert_eq!(
        admitted(&storage, "jobs", "DELETE", None, Some(&copy)),
        Ok(())
    );

    let pod = |owner: &str, ready: &str| {
        json!({"metadata": {"name": "p", "namespace": "shop",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner, "name": "o", "uid": "u", "controller": true}]},
        "status": {"conditions": [{"type": "Ready", "status": ready}]}})
    };
    assert_eq!(
        admitted(
            &storage,
            "pods",
            "DELETE",
            None,
            Some(&pod("StatefulSet", "False"))
        ),
        Ok(())
    );
    assert!(
        admitted(
            &storage,
            "pods",
            "DELETE",
            None,
            Some(&pod("StatefulSet", "True"))
        )
        .is_err_and(|it| it.contains("not Ready"))
    );
    assert!(
        admitted(
            &storage,
            "pods",
            "DELETE",
            None,
            Some(&pod("ReplicaSet", "False"))
        )
        .is_err_and(|it| it.contains("of StatefulSets"))
    );

    let lease = |name: &str, seconds: i64| {
        json!({"metadata": {"name": name, "namespace": "shop"},
        "spec": {"holderIdentity": "h", "leaseDurationSeconds": seconds}})
    };
    let lock = crate::run::lock::lease_name(&"stable".parse().unwrap());
    assert_eq!(
        admitted(&storage, "leases", "CREATE", Some(&lease(&lock, 30)), None),
        Ok(())
    );
    assert_eq!(
        admitted(
            &storage,
            "leases",
            "UPDATE",
            Some(&lease(&lock, 30)),
            Some(&lease(&lock, 30))
        ),
        Ok(())
    );
    assert_eq!(
        admitted(&storage, "leases", "DELETE", None, Some(&lease(&lock, 30))),
        Ok(())
    );
    assert!(
        admitted(
            &storage,
            "leases",
            "CREATE",
            Some(&lease(&lock, 3600)),
            None
        )
        .is_err_and(|it| it.contains("at most 30s"))
    );
    assert!(
        admitted(
            &storage,
            "leases",
            "CREATE",
            Some(&lease("operator", 10)),
            None
        )
        .is_err_and(|it| it.contains("may only take the locks"))
    );
    assert!(
        admitted(
            &storage,
            "leases",
            "DELETE",
            None,
            Some(&lease("operator", 10))
        )
        .is_err()
    );

    let secret = json!({"metadata": {"name": "s", "namespace": "shop"}});
    assert!(
        admitted(&storage, "secrets", "CREATE", Some(&secret), None)
            .is_err_and(|it| it.contains("may only make the writes kubectl-update makes"))
    );
    assert!(admitted(&storage, "deployments", "CREATE", Some(&web()), None).is_err());
}

#[test]
fn the_record_pattern_matches_what_the_tool_writes_and_only_allowed_images() {
    let pattern = record_pattern(&["busybox".to_owned()]);
    assert!(
        pattern.starts_with(r#"^\{"containers":\[\{"name":"#),
        "{pattern}"
    );
    assert!(
        pattern.contains(r#"(,"init":true)?,"previous":"(docker\.io/library/busybox|"#),
        "{pattern}"
    );
    assert!(
        pattern.ends_with(r#"(Z|[+-][0-9]{2}:[0-9]{2})"\}$"#),
        "{pattern}"
    );
}
