//! Unit tests of the generated policies.

mod events;
mod jobs;
mod others;
mod workloads;

use fake_cluster::admission::{Request as Admission, admit};
use fake_cluster::auth::UserInfo;
use fake_cluster::resources::by_plural;
use fake_cluster::storage::Storage;

use super::cel::*;
use super::*;
use crate::plan::annotations::{CLASSIFIER, LEGACY_CLASSIFIER, MIGRATION};
use crate::plan::migration::{IMAGE, ORDER};
use crate::plan::patch::{CHANGE_CAUSE, PREVIOUS, Previous, PreviousContainer};
use crate::plan::workload::MIGRATION_OF;

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
        7,
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

/// The template as the API server stores it, and a copy as `plan::migration::job` makes it and
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
