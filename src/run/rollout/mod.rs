//! Watching rollouts: every patched workload at once, with watches (never polling), until each is
//! done by kubectl's rules or one fails. Failure is detected fast: a new pod stuck in a pull error,
//! crash loop or bad container config for `--fail-after`, a new pod restarted `--max-restarts`
//! times, a progress deadline, a ReplicaFailure, or the overall `--timeout`.

pub mod diagnose;
pub mod pods;
pub mod status;
pub mod streams;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::core::{Selector, SelectorExt};
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::config::Limits;
use crate::plan::workload::{Kind, ObjectId};
use crate::run::rollout::pods::Trouble;
use crate::run::rollout::status::{Phase, Status};
use crate::run::rollout::streams::Update;
use crate::run::signals::Interrupt;
use crate::run::sink::{Event, Item, Sink};

/// A workload to watch and what its new pods run.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: ObjectId,
    /// `(container, image)` pairs every pod of the revision being rolled out runs.
    pub expected: Vec<(String, String)>,
    /// The workload's pod selector; `None` for CronJobs, which have no pods to wait for.
    pub selector: Option<Selector>,
}

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
    let mut culprits: Vec<Option<diagnose::Culprit>> = vec![None; targets.len()];
    let mut verdicts: Vec<Option<Verdict>> = vec![None; targets.len()];
    let mut last_status: Vec<Option<Status>> = vec![None; targets.len()];
    // The most replicas shown updated so far: progress only moves forward.
    let mut shown: Vec<u64> = vec![0; targets.len()];
    let mut groups: BTreeMap<(Kind, &str), HashMap<String, usize>> = BTreeMap::new();
    for (idx, target) in targets.iter().enumerate() {
        match target.id.kind {
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => {
                groups
                    .entry((target.id.kind, target.id.namespace.as_str()))
                    .or_default()
                    .insert(target.id.name.clone(), idx);
            }
            Kind::CronJob | Kind::Job => {
                sink.event(Event::Finished {
                    key: &key(&target.id),
                    state: "updated (no pods to wait for)",
                });
                verdicts[idx] = Some(Verdict::Done);
            }
        }
    }
    let named_watches = cluster
        .named_watches
        .lock()
        .expect("the named-watch set")
        .clone();
    let mut streams: SelectAll<BoxStream<'static, Update>> = SelectAll::new();
    for ((kind, namespace), names) in groups {
        let by_name = named_watches.contains(&(namespace.to_owned(), kind.resource()));
        let client = &cluster.client;
        streams.extend(match kind {
            Kind::Deployment => streams::workloads::<Deployment>(
                client,
                namespace,
                names,
                by_name,
                status::deployment,
            ),
            Kind::StatefulSet => streams::workloads::<StatefulSet>(
                client,
                namespace,
                names,
                by_name,
                status::statefulset,
            ),
            Kind::DaemonSet => streams::workloads::<DaemonSet>(
                client,
                namespace,
                names,
                by_name,
                status::daemonset,
            ),
            Kind::CronJob | Kind::Job => Vec::new(),
        });
    }
    // Which targets watch pods in each namespace.
    let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
    for (idx, target) in targets.iter().enumerate() {
        if target.selector.is_some() && verdicts[idx].is_none() {
            by_namespace
                .entry(target.id.namespace.as_str())
                .or_default()
                .push(idx);
        }
    }
    for namespace in by_namespace.keys() {
        streams.push(streams::pods(&cluster.client, namespace));
    }
    streams.push(streams::ticks(Duration::from_millis(250)));

    // Only pods in trouble are kept, with the targets whose new revision they belong to.
    let mut troubled: HashMap<(String, String), (Trouble, Vec<usize>)> = HashMap::new();
    let mut stuck_since: HashMap<(String, String), Instant> = HashMap::new();
    while verdicts.iter().any(Option::is_none) {
        let next = tokio::select! {
            next = tokio::time::timeout_at(settings.deadline, streams.next()) => next,
            () = interrupt.wait() => break,
        };
        let update = match next {
            Ok(Some(update)) => update,
            Ok(None) | Err(_) => break,
        };
        match update {
            Update::Workload(idx, status) => {
                let target = &targets[idx];
                shown[idx] = shown[idx].max(status.updated.max(0) as u64);
                let updated = shown[idx];
                let state = match &status.phase {
                    Phase::Waiting(message) | Phase::Done(message) | Phase::Failed(message) => {
                        message.clone()
                    }
                };
                match &status.phase {
                    Phase::Done(message) if verdicts[idx].is_none() => {
                        sink.event(Event::State {
                            key: &key(&target.id),
                            item: Item::Workload,
                            state: "",
                            done: updated,
                            total: status.desired.max(0) as u64,
                        });
                        sink.event(Event::Finished {
                            key: &key(&target.id),
                            state: message,
                        });
                        verdicts[idx] = Some(Verdict::Done);
                    }
                    Phase::Failed(message) if verdicts[idx].is_none() => {
                        verdicts[idx] = Some(Verdict::Failed(message.clone()))
                    }
                    _ => sink.event(Event::State {
                        key: &key(&target.id),
                        item: Item::Workload,
                        state: &state,
                        done: updated,
                        total: status.desired.max(0) as u64,
                    }),
                }
                last_status[idx] = Some(status);
            }
            Update::Deleted(idx) => {
                verdicts[idx] = Some(Verdict::Failed(format!(
                    "{} was deleted during the rollout",
                    targets[idx].id
                )));
            }
            Update::Pod(pod) => {
                let id = pod_key(&pod);
                let owners: Vec<usize> = by_namespace
                    .get(id.0.as_str())
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|idx| owns(&targets[*idx], &pod))
                    .collect();
                match pods::trouble(&pod) {
                    Some(trouble) if !owners.is_empty() => {
                        troubled.insert(id, (trouble, owners));
                    }
                    Some(_) => {
                        troubled.remove(&id);
                    }
                    None => {
                        troubled.remove(&id);
                        if !owners.is_empty() {
                            stuck_since.remove(&id);
                        }
                    }
                }
            }
            Update::PodDeleted(pod) => {
                let id = pod_key(&pod);
                troubled.remove(&id);
                stuck_since.remove(&id);
            }
            Update::Tick => (),
        }
        let now = Instant::now();
        for (id, (trouble, owners)) in &troubled {
            for idx in owners {
                if verdicts[*idx].is_some() {
                    continue;
                }
                if let Some(failure) = pod_failure(id, trouble, &mut stuck_since, settings, now) {
                    verdicts[*idx] = Some(Verdict::Failed(failure));
                    culprits[*idx] = Some(diagnose::Culprit {
                        pod: trouble.pod.clone(),
                        container: Some(trouble.container.clone()),
                    });
                }
            }
        }
        if verdicts
            .iter()
            .any(|it| matches!(it, Some(Verdict::Failed(_))))
        {
            break;
        }
    }
    let verdicts = verdicts
        .into_iter()
        .enumerate()
        .map(|(idx, verdict)| {
            verdict.unwrap_or_else(|| {
                let last = last_status[idx].as_ref().map_or_else(
                    || "no status seen yet".to_owned(),
                    |status| match &status.phase {
                        Phase::Waiting(message) | Phase::Done(message) | Phase::Failed(message) => {
                            message.clone()
                        }
                    },
                );
                Verdict::Unfinished(last)
            })
        })
        .collect();
    (verdicts, culprits)
}

/// True when `pod` belongs to the revision `target` rolls out: its selector matches and the pod
/// runs the expected images.
fn owns(target: &Target, pod: &Pod) -> bool {
    let Some(selector) = &target.selector else {
        return false;
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    selector.matches(&labels) && pods::runs(pod, &target.expected)
}

/// Whether a new pod in trouble fails its rollout: restarted too often, or stuck for `fail_after`.
fn pod_failure(
    id: &(String, String),
    trouble: &Trouble,
    stuck_since: &mut HashMap<(String, String), Instant>,
    settings: Settings,
    now: Instant,
) -> Option<String> {
    if trouble.restarts >= settings.max_restarts as i32 && settings.max_restarts > 0 {
        let detail = if trouble.message.is_empty() {
            String::new()
        } else {
            format!(" ({})", trouble.message)
        };
        return Some(format!(
            "pod {} container {} restarted {} times{detail}",
            trouble.pod, trouble.container, trouble.restarts
        ));
    }
    if trouble.reason == "Restarting" {
        return None;
    }
    let since = *stuck_since.entry(id.clone()).or_insert(now);
    if now.duration_since(since) >= settings.fail_after {
        let detail = if trouble.message.is_empty() {
            String::new()
        } else {
            format!(": {}", trouble.message)
        };
        return Some(format!(
            "pod {} container {} is in {}{detail}",
            trouble.pod, trouble.container, trouble.reason
        ));
    }
    None
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

fn pod_key(pod: &Pod) -> (String, String) {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}
