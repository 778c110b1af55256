//! Events: the tool's own audit Events pass, forged ones (another component, reason, kind or
//! namespace) do not.

use super::*;
use crate::plan::audit::{self, ImageChange, Reason, Record};
use crate::plan::workload::{Kind, ObjectId};

fn tool_event(kind: Kind, reason: Reason) -> Value {
    let id = ObjectId {
        namespace: "shop".into(),
        kind,
        name: "web".into(),
    };
    let record = Record {
        id: &id,
        uid: Some("u"),
        reason,
        images: vec![ImageChange {
            container: "app".into(),
            from: "busybox:1.36".into(),
            to: "busybox:1.37".into(),
        }],
        detail: None,
        cause: Some("https://ci/1"),
    };
    let mut event = audit::event(&record, "2026-12-07T13:00:00.000000Z", "host/1/ab");
    event["metadata"]["name"] = json!("web.abcde");
    event
}

#[test]
fn only_the_tools_own_events() {
    let storage = storage(&request(), None);
    let create = |event: &Value| admitted(&storage, "events", "CREATE", Some(event), None);
    for kind in [
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::CronJob,
    ] {
        for reason in Reason::ALL {
            assert_eq!(
                create(&tool_event(kind, reason)),
                Ok(()),
                "{kind} {reason:?}"
            );
        }
    }
    let forged: Vec<Mutation> = vec![
        (
            "another component",
            "may only record Events reported by kubectl-update",
            Box::new(|it| it["source"]["component"] = json!("kubelet")),
        ),
        (
            "another reporting component",
            "may only record Events reported by kubectl-update",
            Box::new(|it| it["reportingComponent"] = json!("deployment-controller")),
        ),
        (
            "no source",
            "may only record Events reported by kubectl-update",
            Box::new(|it| drop(it.as_object_mut().unwrap().remove("source"))),
        ),
        (
            "another reason",
            "may only record Events with the reason ImageUpdated, RolledBack, MigrationFailed, RollbackMigrationFailed",
            Box::new(|it| it["reason"] = json!("SecurityScanPassed")),
        ),
        (
            "about a pod",
            "may only record Events about a Deployment, StatefulSet, DaemonSet, CronJob",
            Box::new(|it| {
                it["involvedObject"]["kind"] = json!("Pod");
                it["involvedObject"]["apiVersion"] = json!("v1");
            }),
        ),
        (
            "about a Job",
            "may only record Events about a Deployment",
            Box::new(|it| {
                it["involvedObject"]["kind"] = json!("Job");
                it["involvedObject"]["apiVersion"] = json!("batch/v1");
            }),
        ),
        (
            "a Deployment of another API group",
            "may only record Events about a Deployment",
            Box::new(|it| it["involvedObject"]["apiVersion"] = json!("evil.io/v1")),
        ),
        (
            "about another namespace",
            "in the Event's namespace",
            Box::new(|it| it["involvedObject"]["namespace"] = json!("billing")),
        ),
        (
            "with a related object",
            "in the Event's namespace",
            Box::new(|it| {
                it["related"] = json!({"kind": "Secret", "name": "x", "namespace": "shop"})
            }),
        ),
        (
            "another type",
            "may only record Events of type Normal or Warning",
            Box::new(|it| it["type"] = json!("Critical")),
        ),
        (
            "apiVersion and kind split elsewhere",
            "may only record Events about a Deployment",
            Box::new(|it| {
                it["involvedObject"]["apiVersion"] = json!("apps");
                it["involvedObject"]["kind"] = json!("v1/Deployment");
            }),
        ),
        (
            "a huge field path",
            "in the Event's namespace",
            Box::new(|it| it["involvedObject"]["fieldPath"] = json!("z".repeat(64 << 10))),
        ),
        (
            "a name longer than any object's",
            "in the Event's namespace",
            Box::new(|it| it["involvedObject"]["name"] = json!("n".repeat(254))),
        ),
        (
            "no eventTime (the server then bounds no field)",
            "may only record one-time Events",
            Box::new(|it| drop(it.as_object_mut().unwrap().remove("eventTime"))),
        ),
        (
            "a megabyte of message",
            "may only record one-time Events",
            Box::new(|it| it["message"] = json!("x".repeat(1 << 20))),
        ),
        (
            "a forged count",
            "may only record one-time Events",
            Box::new(|it| it["count"] = json!(99_999)),
        ),
        (
            "a source host",
            "may only record one-time Events",
            Box::new(|it| it["source"]["host"] = json!("node-1")),
        ),
        (
            "padding in annotations",
            "may only record one-time Events",
            Box::new(|it| it["metadata"]["annotations"] = json!({"pad": "a".repeat(200 << 10)})),
        ),
        (
            "labels",
            "may only record one-time Events",
            Box::new(|it| it["metadata"]["labels"] = json!({"app": "payments"})),
        ),
        (
            "an owner",
            "may only record one-time Events",
            Box::new(|it| {
                it["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
                    "kind": "Deployment", "name": "payments", "uid": "p"}])
            }),
        ),
        (
            "a finalizer",
            "may only record one-time Events",
            Box::new(|it| it["metadata"]["finalizers"] = json!(["example.com/keep"])),
        ),
    ];
    for (what, message, change) in forged {
        let mut event = tool_event(Kind::Deployment, Reason::ImageUpdated);
        change(&mut event);
        let res = create(&event);
        assert!(
            res.as_ref().is_err_and(|it| it.contains(message)),
            "{what}: {res:?}"
        );
    }
    let event = tool_event(Kind::Deployment, Reason::ImageUpdated);
    assert!(
        admitted(&storage, "events", "UPDATE", Some(&event), Some(&event))
            .is_err_and(|it| it.contains("may only make the writes kubectl-update makes")),
        "Events are created, never changed"
    );
}
