//! Unit tests of one workload's status row: revisions per kind, kubectl's rollout rules, the
//! record of the previous images, the change cause, and held, expired and free Leases.

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::*;

fn deployment() -> Value {
    json!({"metadata": {"name": "web", "generation": 2, "annotations": {
            "deployment.kubernetes.io/revision": "2",
            "kubernetes.io/change-cause": "kubectl-update: app=busybox:1.37",
            "kubectl-update.io/previous": "{\"containers\":[{\"name\":\"app\",\"previous\":\"busybox:1.36\",\"target\":\"busybox:1.37\"}],\"time\":\"2026-12-07T13:00:00Z\"}"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {
            "initContainers": [{"name": "wait", "image": "busybox:1.37"}],
            "containers": [{"name": "app", "image": "busybox:1.37"}]}}},
        "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
            "readyReplicas": 3, "availableReplicas": 3}})
}

fn lease(holder: &str, renewed: Timestamp) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some("kubectl-update-stable".to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(30),
            renew_time: Some(MicroTime(renewed)),
            ..LeaseSpec::default()
        }),
    }
}

#[test]
fn a_deployment_mid_rollout_with_a_record() {
    let row = workload(
        Kind::Deployment,
        "shop",
        &deployment(),
        vec!["stable".into()],
        &[],
    );
    assert_eq!(row.name, "web");
    assert_eq!(row.revision.as_deref(), Some("2"));
    assert_eq!(
        (row.rollout.state, row.rollout.updated, row.rollout.desired),
        ("in-progress", Some(1), Some(3))
    );
    assert_eq!(
        row.containers[0],
        ContainerImage {
            name: "wait".into(),
            init: true,
            image: "busybox:1.37".into()
        }
    );
    assert_eq!(
        row.previous,
        vec![ContainerImage {
            name: "app".into(),
            init: false,
            image: "busybox:1.36".into()
        }]
    );
    assert_eq!(
        row.last_change.time.as_deref(),
        Some("2026-12-07T13:00:00Z")
    );
    assert_eq!(
        row.last_change.cause.as_deref(),
        Some("kubectl-update: app=busybox:1.37")
    );
    assert!(row.locks.is_empty());

    let mut done = deployment();
    done["status"]["updatedReplicas"] = json!(3);
    let row = workload(Kind::Deployment, "shop", &done, vec![], &[]);
    assert_eq!(row.rollout.state, "complete");
    let mut failed = deployment();
    failed["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
        "reason": "ProgressDeadlineExceeded"}]);
    let row = workload(Kind::Deployment, "shop", &failed, vec![], &[]);
    assert_eq!(row.rollout.state, "failed");
    assert!(
        row.rollout
            .message
            .unwrap()
            .contains("exceeded its progress deadline")
    );
}

#[test]
fn revisions_per_kind() {
    let sts = json!({"metadata": {"name": "db"}, "spec": {"selector": {}, "template": {}, "serviceName": "db"},
        "status": {"replicas": 1, "updateRevision": "db-2", "currentRevision": "db-1"}});
    assert_eq!(
        revision(Kind::StatefulSet, &sts).as_deref(),
        Some("db-2 (current db-1)")
    );
    let ds = json!({"metadata": {"generation": 4,
        "annotations": {"deprecated.daemonset.template.generation": "3"}}});
    assert_eq!(revision(Kind::DaemonSet, &ds).as_deref(), Some("3"));
    assert_eq!(
        revision(Kind::DaemonSet, &json!({"metadata": {"generation": 4}})).as_deref(),
        Some("4")
    );
    let cj = json!({"status": {"lastScheduleTime": "2026-12-07T03:00:00Z"}});
    assert_eq!(
        revision(Kind::CronJob, &cj).as_deref(),
        Some("last run 2026-12-07T03:00:00Z")
    );
    let row = workload(Kind::CronJob, "billing", &cj, vec![], &[]);
    assert_eq!(row.rollout.state, "none");
    assert!(row.previous.is_empty() && row.last_change == LastChange::default());
}

#[test]
fn a_lease_shows_its_holder_until_it_expires() {
    let held = lock_of("stable", &lease("ci/1/ab", Timestamp::now())).unwrap();
    assert_eq!(
        (held.state, held.holder.as_deref()),
        ("held", Some("ci/1/ab"))
    );
    let old = Timestamp::from_second(1_600_000_000).unwrap();
    let expired = lock_of("stable", &lease("ci/1/ab", old)).unwrap();
    assert_eq!((expired.state, expired.holder), ("expired", None));
    assert_eq!(
        lock_of("stable", &lease("", Timestamp::now())),
        None,
        "a free Lease is no lock"
    );
    let row = workload(
        Kind::Deployment,
        "shop",
        &deployment(),
        vec!["stable".into()],
        &[("stable".to_owned(), lease("ci/1/ab", Timestamp::now()))],
    );
    assert_eq!(row.locks[0].lease, "kubectl-update-stable");
}
