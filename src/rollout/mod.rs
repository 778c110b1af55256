//! Watching rollouts: every patched workload at once, with watches (never polling), until each is
//! done by kubectl's rules or one fails. Failure is detected fast: a new pod stuck in a pull error,
//! crash loop or bad container config for `--fail-after`, a new pod restarted `--max-restarts`
//! times, a progress deadline, a ReplicaFailure, or the overall `--timeout`.

pub mod pods;
pub mod status;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::core::{Selector, SelectorExt};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::output::progress::{Item, Progress};
use crate::rollout::status::{Phase, Status};
use crate::signals::Interrupt;
use crate::workload::{Kind, ObjectId};

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

/// How one workload's rollout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Failed(String),
    /// Still rolling out when the watch stopped (another workload failed, or the deadline passed).
    Unfinished(String),
}

enum Update {
    Workload(usize, Status),
    Deleted(usize),
    Pod(Pod),
    PodDeleted(Pod),
    Tick,
}

/// Watches every target until all are done or one fails; returns a verdict per target, in order.
/// An interrupt stops the watch; the unfinished targets come back `Unfinished`.
pub async fn watch(
    client: &Client,
    targets: &[Target],
    settings: Settings,
    progress: &Arc<Progress>,
    interrupt: &Interrupt,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Option<Verdict>> = vec![None; targets.len()];
    let mut last_status: Vec<Option<Status>> = vec![None; targets.len()];
    let mut streams: SelectAll<BoxStream<'static, Update>> = SelectAll::new();
    for (idx, target) in targets.iter().enumerate() {
        match target.id.kind {
            Kind::Deployment => streams.push(workload_updates::<Deployment>(
                client,
                idx,
                &target.id,
                status::deployment,
            )),
            Kind::StatefulSet => streams.push(workload_updates::<StatefulSet>(
                client,
                idx,
                &target.id,
                status::statefulset,
            )),
            Kind::DaemonSet => streams.push(workload_updates::<DaemonSet>(
                client,
                idx,
                &target.id,
                status::daemonset,
            )),
            Kind::CronJob | Kind::Job => {
                progress.finish(&key(&target.id), "updated (no pods to wait for)");
                verdicts[idx] = Some(Verdict::Done);
            }
        }
    }
    let namespaces: BTreeSet<&str> = targets
        .iter()
        .filter(|it| it.selector.is_some())
        .map(|it| it.id.namespace.as_str())
        .collect();
    for namespace in namespaces {
        streams.push(pod_updates(client, namespace));
    }
    let tick = tokio_stream_interval(Duration::from_millis(250));
    streams.push(tick);

    let mut pods: HashMap<(String, String), Pod> = HashMap::new();
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
                let state = match &status.phase {
                    Phase::Waiting(message) | Phase::Done(message) | Phase::Failed(message) => {
                        message.clone()
                    }
                };
                match &status.phase {
                    Phase::Done(message) if verdicts[idx].is_none() => {
                        progress.set(
                            &key(&target.id),
                            Item::Workload,
                            "",
                            status.updated.max(0) as u64,
                            status.desired.max(0) as u64,
                        );
                        progress.finish(&key(&target.id), message);
                        verdicts[idx] = Some(Verdict::Done);
                    }
                    Phase::Failed(message) if verdicts[idx].is_none() => {
                        verdicts[idx] = Some(Verdict::Failed(message.clone()))
                    }
                    _ => progress.set(
                        &key(&target.id),
                        Item::Workload,
                        &state,
                        status.updated.max(0) as u64,
                        status.desired.max(0) as u64,
                    ),
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
                pods.insert(id, pod);
            }
            Update::PodDeleted(pod) => {
                let id = pod_key(&pod);
                pods.remove(&id);
                stuck_since.remove(&id);
            }
            Update::Tick => (),
        }
        let now = Instant::now();
        for (idx, target) in targets.iter().enumerate() {
            if verdicts[idx].is_some() {
                continue;
            }
            if let Some(failure) = pod_failure(target, &pods, &mut stuck_since, settings, now) {
                verdicts[idx] = Some(Verdict::Failed(failure));
            }
        }
        if verdicts
            .iter()
            .any(|it| matches!(it, Some(Verdict::Failed(_))))
        {
            break;
        }
    }
    verdicts
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
        .collect()
}

/// The first new pod of `target` that has been stuck for `fail_after` or restarted too often.
fn pod_failure(
    target: &Target,
    pods: &HashMap<(String, String), Pod>,
    stuck_since: &mut HashMap<(String, String), Instant>,
    settings: Settings,
    now: Instant,
) -> Option<String> {
    let selector = target.selector.as_ref()?;
    for (id, pod) in pods {
        if id.0 != target.id.namespace {
            continue;
        }
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        if !selector.matches(&labels) || !pods::runs(pod, &target.expected) {
            continue;
        }
        let Some(trouble) = pods::trouble(pod) else {
            stuck_since.remove(id);
            continue;
        };
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
            continue;
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

fn workload_updates<K>(
    client: &Client,
    idx: usize,
    id: &ObjectId,
    status_of: fn(&K) -> Status,
) -> BoxStream<'static, Update>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), &id.namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", id.name));
    watcher::watcher(api, config)
        .default_backoff()
        .filter_map(move |event| async move {
            match event {
                Ok(Event::Apply(object) | Event::InitApply(object)) => {
                    Some(Update::Workload(idx, status_of(&object)))
                }
                Ok(Event::Delete(_)) => Some(Update::Deleted(idx)),
                Ok(Event::Init | Event::InitDone) | Err(_) => None,
            }
        })
        .boxed()
}

fn pod_updates(client: &Client, namespace: &str) -> BoxStream<'static, Update> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(Event::Apply(pod) | Event::InitApply(pod)) => Some(Update::Pod(pod)),
                Ok(Event::Delete(pod)) => Some(Update::PodDeleted(pod)),
                Ok(Event::Init | Event::InitDone) | Err(_) => None,
            }
        })
        .boxed()
}

fn tokio_stream_interval(period: Duration) -> BoxStream<'static, Update> {
    futures::stream::unfold(tokio::time::interval(period), |mut interval| async move {
        interval.tick().await;
        Some((Update::Tick, interval))
    })
    .boxed()
}
