//! Rollout status, exactly as `kubectl rollout status` decides it (kubectl's
//! `polymorphichelpers/rollout_status.go`), plus replica counts for progress bars. Pure.
//!
//! kube-runtime's `is_deployment_completed` only looks at the Progressing condition's reason and
//! skips the observedGeneration check, so right after a patch it reports the previous rollout's
//! success. These functions check the generation first, as kubectl does.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Still going; the message is kubectl's.
    Waiting(String),
    Done(String),
    /// The controller gave up (progress deadline exceeded).
    Failed(String),
}

/// A rollout's phase and its replica counts (desired, updated, ready).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub phase: Phase,
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
}

/// Before the controller observed the new spec, the status counts the previous revision's
/// replicas: progress shows none updated yet, so that it only ever moves forward.
fn not_observed(desired: i32, message: &str) -> Status {
    Status {
        phase: Phase::Waiting(message.to_owned()),
        desired,
        updated: 0,
        ready: 0,
    }
}

pub fn deployment(deployment: &Deployment) -> Status {
    let name = deployment.metadata.name.as_deref().unwrap_or_default();
    let generation = deployment.metadata.generation.unwrap_or_default();
    let spec_replicas = deployment.spec.replicas;
    let status = deployment.status.clone().unwrap_or_default();
    let updated = status.updated_replicas.unwrap_or_default();
    let replicas = status.replicas.unwrap_or_default();
    let available = status.available_replicas.unwrap_or_default();
    let ready = status.ready_replicas.unwrap_or_default();
    let desired = spec_replicas.unwrap_or(1);
    let counts = |phase| Status {
        phase,
        desired,
        updated,
        ready,
    };
    if generation > status.observed_generation.unwrap_or_default() {
        // The counts still describe the previous revision: the new one has none yet.
        return not_observed(
            desired,
            "Waiting for deployment spec update to be observed...",
        );
    }
    let deadline_exceeded = status.conditions.iter().flatten().any(|condition| {
        condition.type_.as_deref() == Some("Progressing")
            && condition.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if deadline_exceeded {
        return counts(Phase::Failed(format!(
            "deployment {name:?} exceeded its progress deadline"
        )));
    }
    // Beyond kubectl: a ReplicaFailure condition (pods cannot be created: quota, admission) will
    // not clear by waiting, so it fails the rollout at once.
    let replica_failure = status.conditions.iter().flatten().find(|condition| {
        condition.type_.as_deref() == Some("ReplicaFailure")
            && condition.status.as_deref() == Some("True")
    });
    if let Some(condition) = replica_failure {
        let message = condition
            .message
            .as_deref()
            .or(condition.reason.as_deref())
            .unwrap_or("pods cannot be created");
        return counts(Phase::Failed(format!(
            "deployment {name:?} cannot create pods: {message}"
        )));
    }
    if let Some(spec_replicas) = spec_replicas
        && updated < spec_replicas
    {
        return counts(Phase::Waiting(format!(
            "Waiting for deployment {name:?} rollout to finish: {updated} out of {spec_replicas} new replicas have been updated..."
        )));
    }
    if replicas > updated {
        return counts(Phase::Waiting(format!(
            "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        )));
    }
    if available < updated {
        return counts(Phase::Waiting(format!(
            "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
        )));
    }
    counts(Phase::Done(format!(
        "deployment {name:?} successfully rolled out"
    )))
}

pub fn statefulset(statefulset: &StatefulSet) -> Status {
    let spec = statefulset.spec.clone();
    let status = statefulset.status.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or_default();
    let ready = status.ready_replicas.unwrap_or_default();
    let counts = |phase| Status {
        phase,
        desired,
        updated,
        ready,
    };
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy
        .type_
        .as_deref()
        .is_some_and(|it| it != "RollingUpdate")
    {
        return counts(Phase::Done(
            "rollout status is only available for RollingUpdate strategy type".to_owned(),
        ));
    }
    let observed = status.observed_generation.unwrap_or_default();
    if observed == 0 || statefulset.metadata.generation.unwrap_or_default() > observed {
        return not_observed(
            desired,
            "Waiting for statefulset spec update to be observed...",
        );
    }
    if ready < desired {
        return counts(Phase::Waiting(format!(
            "Waiting for {} pods to be ready...",
            desired - ready
        )));
    }
    if let Some(rolling) = strategy.rolling_update {
        let partition = rolling.partition.unwrap_or_default();
        if updated < desired - partition {
            return counts(Phase::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                desired - partition
            )));
        }
        return counts(Phase::Done(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        )));
    }
    let update_revision = status.update_revision.unwrap_or_default();
    if status.current_revision.as_deref() != Some(update_revision.as_str()) {
        return counts(Phase::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        )));
    }
    counts(Phase::Done(format!(
        "statefulset rolling update complete {} pods at revision {update_revision}...",
        status.current_replicas.unwrap_or_default()
    )))
}

pub fn daemonset(daemonset: &DaemonSet) -> Status {
    let name = daemonset.metadata.name.as_deref().unwrap_or_default();
    let spec = daemonset.spec.clone();
    let status = daemonset.status.clone().unwrap_or_default();
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or_default();
    let available = status.number_available.unwrap_or_default();
    let counts = |phase| Status {
        phase,
        desired,
        updated,
        ready: status.number_ready,
    };
    if spec
        .update_strategy
        .and_then(|it| it.type_)
        .is_some_and(|it| it != "RollingUpdate")
    {
        return counts(Phase::Done(
            "rollout status is only available for RollingUpdate strategy type".to_owned(),
        ));
    }
    if daemonset.metadata.generation.unwrap_or_default()
        > status.observed_generation.unwrap_or_default()
    {
        return not_observed(
            desired,
            "Waiting for daemon set spec update to be observed...",
        );
    }
    if updated < desired {
        return counts(Phase::Waiting(format!(
            "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."
        )));
    }
    if available < desired {
        return counts(Phase::Waiting(format!(
            "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."
        )));
    }
    counts(Phase::Done(format!(
        "daemon set {name:?} successfully rolled out"
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deploy(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(
            json!({"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 3, "selector": {}, "template": {}}, "status": status}),
        )
        .unwrap()
    }

    #[track_caller]
    fn check(status: Status, expected: Phase) {
        assert_eq!(status.phase, expected);
    }

    #[test]
    fn deployment_waits_for_the_new_generation_even_if_the_old_rollout_completed() {
        let stale = deploy(
            2,
            json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}),
        );
        check(
            deployment(&stale),
            Phase::Waiting("Waiting for deployment spec update to be observed...".into()),
        );
        // The old revision's 3/3 are not the new one's: progress starts at 0 of 3.
        let counts = deployment(&stale);
        assert_eq!(
            (counts.updated, counts.ready, counts.desired),
            (0, 0, 3),
            "{counts:?}"
        );
    }

    #[test]
    fn deployment_steps_follow_kubectl() {
        let s = |status| deployment(&deploy(2, status)).phase;
        assert_eq!(
            s(json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1})),
            Phase::Waiting("Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...".into())
        );
        assert_eq!(
            s(json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3})),
            Phase::Waiting("Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...".into())
        );
        assert_eq!(
            s(json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2})),
            Phase::Waiting("Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...".into())
        );
        assert_eq!(
            s(
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3})
            ),
            Phase::Done("deployment \"web\" successfully rolled out".into())
        );
        assert_eq!(
            s(
                json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]})
            ),
            Phase::Failed("deployment \"web\" exceeded its progress deadline".into())
        );
    }

    #[test]
    fn statefulset_partition_and_readiness() {
        let sts = |status: serde_json::Value| -> StatefulSet {
            serde_json::from_value(json!({"metadata": {"name": "db", "generation": 2},
                "spec": {"replicas": 3, "selector": {}, "serviceName": "db", "template": {},
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
                "status": status}))
            .unwrap()
        };
        check(
            statefulset(&sts(
                json!({"replicas": 3, "observedGeneration": 2, "readyReplicas": 2}),
            )),
            Phase::Waiting("Waiting for 1 pods to be ready...".into()),
        );
        check(
            statefulset(&sts(json!({"replicas": 3, "observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1}))),
            Phase::Waiting("Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...".into()),
        );
        check(
            statefulset(&sts(
                json!({"replicas": 3, "observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 2}),
            )),
            Phase::Done("partitioned roll out complete: 2 new pods have been updated...".into()),
        );
    }

    #[test]
    fn daemonset_counts() {
        let ds: DaemonSet = serde_json::from_value(json!({"metadata": {"name": "agent", "generation": 3},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 3, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                "numberMisscheduled": 0, "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}}))
        .unwrap();
        let status = daemonset(&ds);
        assert_eq!(status.phase, Phase::Waiting("Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available...".into()));
        assert_eq!((status.desired, status.updated, status.ready), (3, 3, 3));
    }
}
