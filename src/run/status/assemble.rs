//! `kubectl update status`, the reading of one workload: from its whole object (and the Leases of
//! its classifiers) to the row shown — images, revision, rollout (kubectl's rules, from
//! `rollout::status`), the last change, the recorded previous images and the lock. Pure apart from
//! the clock that tells an expired Lease; never calls the API server.

use k8s_openapi::api::coordination::v1::Lease;
use serde::Serialize;
use serde_json::Value;

use crate::plan::patch::{self, Previous};
use crate::plan::workload::{self, ContainerList, Kind};
use crate::run::lock;
use crate::run::rollout::status::{self as rollout, Phase};

/// What `status` found, per cluster (one today: the context's; waves add more).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    pub clusters: Vec<ClusterStatus>,
}

/// One cluster's opted-in workloads of the classifiers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// The kubeconfig context (`null` in-cluster).
    pub context: Option<String>,
    pub server: String,
    pub classifiers: Vec<String>,
    /// The namespaces searched; `null` for every namespace (`-A`).
    pub namespaces: Option<Vec<String>>,
    /// Sorted by namespace, kind and name.
    pub workloads: Vec<WorkloadStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// The requested classifiers this workload lists.
    pub classifiers: Vec<String>,
    /// Every container's image now, init containers first.
    pub containers: Vec<ContainerImage>,
    /// Deployment: `deployment.kubernetes.io/revision`; StatefulSet: its update revision (and
    /// the current one while they differ); DaemonSet: its template generation; CronJob: the last
    /// schedule time. `null` when the object has none yet.
    pub revision: Option<String>,
    pub rollout: Rollout,
    pub last_change: LastChange,
    /// The images before the last update (`kubectl-update.io/previous`); empty without a record.
    pub previous: Vec<ContainerImage>,
    /// The Leases of its classifiers in its namespace that have a holder.
    pub locks: Vec<LockStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerImage {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    pub image: String,
}

/// Where the rollout stands, by `kubectl rollout status`'s rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollout {
    /// `complete`, `in-progress`, `failed`, or `none` (CronJobs have no rollout).
    pub state: &'static str,
    /// kubectl's message; `null` for `none`.
    pub message: Option<String>,
    pub desired: Option<i32>,
    pub updated: Option<i32>,
    pub ready: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LastChange {
    /// When kubectl-update last changed it (the record's time), RFC 3339.
    pub time: Option<String>,
    /// `kubernetes.io/change-cause`, whoever wrote it.
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockStatus {
    pub classifier: String,
    pub lease: String,
    /// `held` while the holder renews it, `expired` once it stopped (the next run takes it over).
    pub state: &'static str,
    /// Only while `held`.
    pub holder: Option<String>,
    pub renew_time: Option<String>,
    pub lease_duration_seconds: Option<i32>,
}

/// The row of one workload of `kind`, given the requested classifiers it lists and the Leases
/// of those classifiers in its namespace.
pub fn workload(
    kind: Kind,
    namespace: &str,
    object: &Value,
    classifiers: Vec<String>,
    leases: &[(String, Lease)],
) -> WorkloadStatus {
    let annotations = workload::annotations_of(object);
    let annotation = |key: &str| {
        annotations
            .and_then(|it| it.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let record: Option<Previous> =
        annotation(patch::PREVIOUS).and_then(|text| serde_json::from_str(&text).ok());
    WorkloadStatus {
        namespace: namespace.to_owned(),
        kind: kind.to_string(),
        name: workload::name_of(object).to_owned(),
        classifiers,
        containers: workload::containers(object, kind)
            .into_iter()
            .map(|it| ContainerImage {
                name: it.name,
                init: it.list == ContainerList::InitContainers,
                image: it.image,
            })
            .collect(),
        revision: revision(kind, object),
        rollout: rollout_of(kind, object),
        last_change: LastChange {
            time: record.as_ref().map(|it| it.time.clone()),
            cause: annotation(patch::CHANGE_CAUSE),
        },
        previous: record
            .map(|it| {
                it.containers
                    .into_iter()
                    .map(|c| ContainerImage {
                        name: c.name,
                        init: c.init,
                        image: c.previous,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        locks: leases
            .iter()
            .filter_map(|(classifier, lease)| lock_of(classifier, lease))
            .collect(),
    }
}

/// The revision kubectl would name (see `WorkloadStatus::revision`).
fn revision(kind: Kind, object: &Value) -> Option<String> {
    let text = |pointer: &str| {
        object.pointer(pointer).and_then(|it| {
            it.as_str()
                .map(str::to_owned)
                .or_else(|| it.as_i64().map(|n| n.to_string()))
        })
    };
    match kind {
        Kind::Deployment => text("/metadata/annotations/deployment.kubernetes.io~1revision"),
        Kind::StatefulSet => {
            let update = text("/status/updateRevision")?;
            match text("/status/currentRevision") {
                Some(current) if current != update => Some(format!("{update} (current {current})")),
                _ => Some(update),
            }
        }
        Kind::DaemonSet => text("/metadata/annotations/deprecated.daemonset.template.generation")
            .or_else(|| text("/metadata/generation")),
        Kind::CronJob => text("/status/lastScheduleTime").map(|it| format!("last run {it}")),
        Kind::Job => None,
    }
}

/// The rollout's state by kubectl's rules; `unknown` when the object does not read as its kind.
fn rollout_of(kind: Kind, object: &Value) -> Rollout {
    let status = match kind {
        Kind::Deployment => {
            serde_json::from_value(object.clone()).map(|it| rollout::deployment(&it))
        }
        Kind::StatefulSet => {
            serde_json::from_value(object.clone()).map(|it| rollout::statefulset(&it))
        }
        Kind::DaemonSet => serde_json::from_value(object.clone()).map(|it| rollout::daemonset(&it)),
        Kind::CronJob | Kind::Job => {
            return Rollout {
                state: "none",
                message: None,
                desired: None,
                updated: None,
                ready: None,
            };
        }
    };
    let Ok(status) = status else {
        return Rollout {
            state: "unknown",
            message: Some(format!("the {kind} does not read as one")),
            desired: None,
            updated: None,
            ready: None,
        };
    };
    let (state, message) = match status.phase {
        Phase::Done(message) => ("complete", message),
        Phase::Waiting(message) => ("in-progress", message),
        Phase::Failed(message) => ("failed", message),
    };
    Rollout {
        state,
        message: Some(message),
        desired: Some(status.desired),
        updated: Some(status.updated),
        ready: Some(status.ready),
    }
}

/// A Lease with a holder: `held` (holder shown) until it expires, then `expired`. A free Lease
/// (no holder) is no lock.
pub fn lock_of(classifier: &str, lease: &Lease) -> Option<LockStatus> {
    let until = lock::valid_until(lease)?;
    let spec = lease.spec.as_ref()?;
    let held = until > lock::now_seconds();
    Some(LockStatus {
        classifier: classifier.to_owned(),
        lease: lease.metadata.name.clone().unwrap_or_default(),
        state: if held { "held" } else { "expired" },
        holder: held.then(|| spec.holder_identity.clone()).flatten(),
        renew_time: spec
            .renew_time
            .as_ref()
            .or(spec.acquire_time.as_ref())
            .map(|it| it.0.to_string()),
        lease_duration_seconds: spec.lease_duration_seconds,
    })
}

#[cfg(test)]
mod tests;
