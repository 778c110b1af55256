//! Building the migration Job from its template: a copy with the new image, a deterministic name (a
//! retried CI job finds the copy it made before), and nothing the Job controller generated; and
//! telling whether a Job found under that name is that copy. Pure: never contacts the cluster.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::plan::MigrationPlan;
use crate::plan::annotations::CLASSIFIER_KEYS;
use crate::plan::workload::MIGRATION_OF;

/// The annotation on migration Jobs naming the image they run.
pub const IMAGE: &str = "kubectl-update.io/image";
/// The annotation ordering migrations: lower first, equal orders in parallel.
pub const ORDER: &str = "kubectl-update.io/order";
/// How long finished copies are kept when the template says nothing (one day).
pub const DEFAULT_TTL_SECONDS: i64 = 86_400;

/// Labels the API server generates for a Job (and its pods); a copy must not carry the template's.
pub const CONTROLLER_LABELS: [&str; 4] = [
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
];

/// `<template prefix>-<10 hex digits of sha256(template uid, image)>`, at most 63 characters.
pub fn copy_name(template_name: &str, template_uid: &str, image: &str) -> String {
    let digest = Sha256::digest(format!("{template_uid}\n{image}").as_bytes());
    let hash: String = digest
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let max_prefix = 63 - 1 - hash.len();
    let prefix: &str = if template_name.len() > max_prefix {
        &template_name[..max_prefix]
    } else {
        template_name
    };
    format!("{}-{hash}", prefix.trim_end_matches(['-', '.']))
}

/// The migration's order from the template's annotation (0 when absent or unreadable).
pub fn order(template: &Value) -> i64 {
    template
        .pointer("/metadata/annotations")
        .and_then(|it| it.get(ORDER))
        .and_then(Value::as_str)
        .and_then(|it| it.trim().parse().ok())
        .unwrap_or(0)
}

/// The Job to create for `migration` from its template object.
pub fn job(template: &Value, migration: &MigrationPlan) -> Value {
    let template_name = migration.template.name.as_str();
    let uid = template
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or(template_name);
    let name = copy_name(template_name, uid, &migration.image);
    let metadata = template
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut labels = strip(metadata.get("labels"), &CONTROLLER_LABELS);
    labels.insert(MIGRATION_OF.to_owned(), Value::from(template_name));
    let mut annotations = strip(metadata.get("annotations"), &CLASSIFIER_KEYS);
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.remove(ORDER);
    annotations.insert(IMAGE.to_owned(), Value::from(migration.image.as_str()));

    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        spec.remove("selector");
        spec.remove("manualSelector");
        spec.insert("suspend".to_owned(), Value::Bool(false));
        spec.entry("ttlSecondsAfterFinished")
            .or_insert(Value::from(DEFAULT_TTL_SECONDS));
    }
    if let Some(pod_metadata) = spec
        .pointer_mut("/template/metadata")
        .and_then(Value::as_object_mut)
    {
        let mut pod_labels = strip(pod_metadata.get("labels"), &CONTROLLER_LABELS);
        pod_labels.insert(MIGRATION_OF.to_owned(), Value::from(template_name));
        pod_metadata.insert("labels".to_owned(), Value::Object(pod_labels));
    } else if let Some(pod_template) = spec.pointer_mut("/template").and_then(Value::as_object_mut)
    {
        pod_template.insert(
            "metadata".to_owned(),
            json!({"labels": {MIGRATION_OF: template_name}}),
        );
    }
    for change in &migration.containers {
        let pointer = format!(
            "/template/spec/{}",
            change.pointer.trim_start_matches("/spec/template/spec/")
        );
        if let Some(image) = spec.pointer_mut(&pointer) {
            *image = Value::from(change.to.as_str());
        }
    }
    let mut res = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": spec,
    });
    if let Some(namespace) = metadata.get("namespace") {
        res["metadata"]["namespace"] = namespace.clone();
    }
    res
}

/// Where `existing` (a Job as the API server stores it) differs from the copy [`job`] makes of
/// `template` for `migration`, as a path like `spec.template.spec.containers[0].image`; `None` when
/// it is that copy. What the server adds to every Job is left out: its generated selector and
/// labels, `manualSelector: false`, status and bookkeeping metadata. A Job of the right name that
/// someone else made (another image, an edited template, a different command) is not reused.
pub fn difference(existing: &Value, template: &Value, migration: &MigrationPlan) -> Option<String> {
    let expected = job(template, migration);
    let comparable = |job: &Value| {
        let labels = strip(job.pointer("/metadata/labels"), &CONTROLLER_LABELS);
        let annotations = strip(job.pointer("/metadata/annotations"), &[]);
        let mut spec = job.get("spec").cloned().unwrap_or_else(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            spec.remove("selector");
            if spec.get("manualSelector") == Some(&Value::Bool(false)) {
                spec.remove("manualSelector");
            }
        }
        if let Some(pod_metadata) = spec
            .pointer_mut("/template/metadata")
            .and_then(Value::as_object_mut)
        {
            let pod_labels = strip(pod_metadata.get("labels"), &CONTROLLER_LABELS);
            pod_metadata.insert("labels".to_owned(), Value::Object(pod_labels));
        }
        json!({"metadata": {"labels": labels, "annotations": annotations}, "spec": spec})
    };
    first_difference("", &comparable(&expected), &comparable(existing))
}

/// The path of the first place where two JSON values differ (maps key by key, lists item by item).
fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            let mut keys: Vec<&String> = expected.keys().chain(actual.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (expected.get(key), actual.get(key)) {
                    (Some(expected), Some(actual)) => first_difference(&path, expected, actual),
                    _ => Some(path),
                }
            })
        }
        (Value::Array(expected), Value::Array(actual)) if expected.len() == actual.len() => {
            expected
                .iter()
                .zip(actual)
                .enumerate()
                .find_map(|(idx, (expected, actual))| {
                    first_difference(&format!("{path}[{idx}]"), expected, actual)
                })
        }
        _ if expected == actual => None,
        _ => Some(path.to_owned()),
    }
}

fn strip(map: Option<&Value>, keys: &[&str]) -> Map<String, Value> {
    let mut res = map.and_then(Value::as_object).cloned().unwrap_or_default();
    for key in keys {
        res.remove(*key);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ContainerChange;
    use crate::plan::workload::{ContainerList, Kind, ObjectId};

    #[test]
    fn names_are_deterministic_and_short() {
        let a = copy_name("db-migrate", "uid-1", "acme/app:2");
        assert_eq!(a, copy_name("db-migrate", "uid-1", "acme/app:2"));
        assert_ne!(a, copy_name("db-migrate", "uid-1", "acme/app:3"));
        assert!(
            a.starts_with("db-migrate-") && a.len() == "db-migrate-".len() + 10,
            "{a}"
        );
        let long = copy_name(&"m".repeat(80), "uid", "x");
        assert_eq!(long.len(), 63);
    }

    #[test]
    fn copy_strips_generated_fields_and_sets_the_image() {
        let template = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "db-migrate", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                "labels": {"app": "shop", "job-name": "db-migrate", "batch.kubernetes.io/controller-uid": "u1"},
                "annotations": {"kubectl-update.io/classifier": "stable", "xcnt.io/update-classifier": "stable", "team": "db"}},
            "spec": {"suspend": true, "backoffLimit": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {"metadata": {"labels": {"controller-uid": "u1", "job-name": "db-migrate", "app": "shop"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "acme/app:1"}]}}},
            "status": {"succeeded": 1}});
        let migration = MigrationPlan {
            template: ObjectId {
                namespace: "shop".into(),
                kind: Kind::Job,
                name: "db-migrate".into(),
            },
            origin: 0,
            image: "acme/app:2".into(),
            containers: vec![ContainerChange {
                container: "migrate".into(),
                list: ContainerList::Containers,
                pointer: "/spec/template/spec/containers/0/image".into(),
                from: "acme/app:1".into(),
                to: "acme/app:2".into(),
            }],
        };
        let job = job(&template, &migration);
        assert_eq!(
            job["metadata"]["name"],
            copy_name("db-migrate", "u1", "acme/app:2")
        );
        assert_eq!(job["metadata"]["namespace"], "shop");
        assert_eq!(
            job["metadata"]["labels"],
            json!({"app": "shop", MIGRATION_OF: "db-migrate"})
        );
        assert_eq!(
            job["metadata"]["annotations"],
            json!({"team": "db", IMAGE: "acme/app:2"})
        );
        assert!(
            job["metadata"].get("uid").is_none()
                && job["metadata"].get("resourceVersion").is_none()
        );
        assert!(job.get("status").is_none());
        assert_eq!(job["spec"]["suspend"], false);
        assert_eq!(job["spec"]["ttlSecondsAfterFinished"], DEFAULT_TTL_SECONDS);
        assert!(job["spec"].get("selector").is_none());
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"],
            json!({"app": "shop", MIGRATION_OF: "db-migrate"})
        );
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["image"],
            "acme/app:2"
        );
    }

    fn migration_to(image: &str) -> MigrationPlan {
        MigrationPlan {
            template: ObjectId {
                namespace: "shop".into(),
                kind: Kind::Job,
                name: "db-migrate".into(),
            },
            origin: 0,
            image: image.into(),
            containers: vec![ContainerChange {
                container: "migrate".into(),
                list: ContainerList::Containers,
                pointer: "/spec/template/spec/containers/0/image".into(),
                from: "acme/app:1".into(),
                to: image.into(),
            }],
        }
    }

    fn stored_template() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "db-migrate", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                "labels": {"app": "shop", "job-name": "db-migrate", "controller-uid": "u1",
                    "batch.kubernetes.io/job-name": "db-migrate", "batch.kubernetes.io/controller-uid": "u1"},
                "annotations": {"kubectl-update.io/classifier": "stable", ORDER: "1",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"suspend": true, "backoffLimit": 0, "completions": 1, "parallelism": 1,
                "manualSelector": false,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {"metadata": {"labels": {"app": "shop", "controller-uid": "u1", "job-name": "db-migrate",
                        "batch.kubernetes.io/controller-uid": "u1", "batch.kubernetes.io/job-name": "db-migrate"}},
                    "spec": {"restartPolicy": "Never", "containers": [
                        {"name": "migrate", "image": "acme/app:1", "command": ["sh", "-c", "migrate"]}]}}},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}})
    }

    /// The copy as the API server stores it: generated selector and labels, bookkeeping, status.
    fn stored(mut copy: Value) -> Value {
        copy["metadata"]["uid"] = json!("u2");
        copy["metadata"]["resourceVersion"] = json!("9");
        copy["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = json!("u2");
        copy["spec"]["manualSelector"] = json!(false);
        copy["spec"]["selector"] =
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u2"}});
        let pod_labels = &mut copy["spec"]["template"]["metadata"]["labels"];
        pod_labels["batch.kubernetes.io/controller-uid"] = json!("u2");
        pod_labels["batch.kubernetes.io/job-name"] = json!("db-migrate-x");
        pod_labels["controller-uid"] = json!("u2");
        pod_labels["job-name"] = json!("db-migrate-x");
        copy["status"] =
            json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]});
        copy
    }

    #[test]
    fn the_copy_this_run_makes_is_recognised_as_stored() {
        let template = stored_template();
        let migration = migration_to("acme/app:2");
        let existing = stored(job(&template, &migration));
        assert_eq!(difference(&existing, &template, &migration), None);
    }

    #[test]
    fn another_image_an_edited_template_or_a_stranger_is_not_reused() {
        let template = stored_template();
        let migration = migration_to("acme/app:2");
        let pre_created = stored(job(&template, &migration_to("acme/app:evil")));
        assert_eq!(
            difference(&pre_created, &template, &migration).as_deref(),
            Some("metadata.annotations.kubectl-update.io/image")
        );
        let mut forged = stored(job(&template, &migration));
        forged["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sh", "-c", "id"]);
        assert_eq!(
            difference(&forged, &template, &migration).as_deref(),
            Some("spec.template.spec.containers[0].command[2]")
        );
        let mut other_account = stored(job(&template, &migration));
        other_account["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin");
        assert_eq!(
            difference(&other_account, &template, &migration).as_deref(),
            Some("spec.template.spec.serviceAccountName")
        );
        let mut edited = template.clone();
        edited["spec"]["backoffLimit"] = json!(3);
        let before_the_edit = stored(job(&template, &migration));
        assert_eq!(
            difference(&before_the_edit, &edited, &migration).as_deref(),
            Some("spec.backoffLimit")
        );
        let mut unlabelled = stored(job(&template, &migration));
        unlabelled["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove(MIGRATION_OF);
        assert_eq!(
            difference(&unlabelled, &template, &migration).as_deref(),
            Some("metadata.labels.kubectl-update.io/migration-of")
        );
        let mut suspended = stored(job(&template, &migration));
        suspended["spec"]["suspend"] = json!(true);
        assert_eq!(
            difference(&suspended, &template, &migration).as_deref(),
            Some("spec.suspend")
        );
    }

    #[test]
    fn order_annotation() {
        assert_eq!(
            order(&json!({"metadata": {"annotations": {ORDER: " 2 "}}})),
            2
        );
        assert_eq!(order(&json!({"metadata": {}})), 0);
    }
}
