//! Watching rollouts: every patched workload at once, with watches (never polling), until each is
//! done by kubectl's rules or one fails. Failure is detected fast: a new pod stuck in a pull error,
//! crash loop or bad container config for `--fail-after`, a new pod restarted `--max-restarts`
//! times, a progress deadline, a ReplicaFailure, or the overall `--timeout`.

pub mod diagnose;
pub mod pods;
mod state;
pub mod status;
pub mod streams;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::core::Selector;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::config::Limits;
use crate::plan::workload::ObjectId;
use crate::run::rollout::state::{Watch, workload_streams};
use crate::run::signals::Interrupt;
use crate::run::sink::Sink;

/// A workload to watch and what its new pods run.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: ObjectId,
    /// `(container, image)` pairs every pod of the revision being rolled out runs.
    pub expected: Vec<(String, String)>,
    /// The workload's pod selector; `None` for CronJobs, which have no pods to wait for.
    pub selector: Option<Selector>,
}

/// How a rollout is judged: `--fail-after`, `--max-restarts`, and when `--timeout` ends it.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub fail_after: Duration,
    pub max_restarts: u32,
    pub deadline: Instant,
}

impl Settings {
    /// The run's limits, with `--timeout` counted to `deadline`.
    pub fn until(limits: Limits, deadline: Instant) -> Settings {
        Settings {
            fail_after: limits.fail_after,
            max_restarts: limits.max_restarts,
            deadline,
        }
    }
}

/// How one workload's rollout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Failed(String),
    /// Still rolling out when the watch stopped (another workload failed, or the deadline passed).
    Unfinished(String),
}

/// Watches every target until all are done or one fails; returns a verdict per target, in order.
/// An interrupt stops the watch; the unfinished targets come back `Unfinished`. Opens one workload
/// watch per (kind, namespace) and one pod watch per namespace (see `streams`).
pub async fn watch(
    cluster: &Cluster,
    targets: &[Target],
    settings: Settings,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
) -> Vec<Verdict> {
    watch_with_culprits(cluster, targets, settings, sink, interrupt)
        .await
        .0
}

/// `watch`, also returning per target the pod (and container) whose trouble failed it, if one did.
pub async fn watch_with_culprits(
    cluster: &Cluster,
    targets: &[Target],
    settings: Settings,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
) -> (Vec<Verdict>, Vec<Option<diagnose::Culprit>>) {
    let mut watch = Watch::new(targets, settings);
    let groups = watch.finish_podless(sink);
    let mut streams = workload_streams(cluster, groups);
    watch.by_namespace = watch.pod_watchers();
    for namespace in watch.by_namespace.keys() {
        streams.push(streams::pods(&cluster.client, namespace));
    }
    streams.push(streams::ticks(Duration::from_millis(250)));
    while watch.verdicts.iter().any(Option::is_none) {
        let next = tokio::select! {
            next = tokio::time::timeout_at(settings.deadline, streams.next()) => next,
            () = interrupt.wait() => break,
        };
        let update = match next {
            Ok(Some(update)) => update,
            Ok(None) | Err(_) => break,
        };
        watch.apply(update, sink);
        watch.judge_troubled(Instant::now());
        if watch
            .verdicts
            .iter()
            .any(|it| matches!(it, Some(Verdict::Failed(_))))
        {
            break;
        }
    }
    watch.ended()
}

/// The line key of a workload in progress output: `namespace/kind/name`.
pub fn key(id: &ObjectId) -> String {
    format!(
        "{}/{}/{}",
        id.namespace,
        id.kind.as_str().to_lowercase(),
        id.name
    )
}
