//! Where one watch over every rollout stands: each target's verdict, its progress shown so far,
//! and the new pods in trouble, judged against `--fail-after` and `--max-restarts`. Fed the
//! watches' updates by `watch_with_culprits`; never opens a watch or talks to the API itself, apart
//! from building the workload streams.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{BoxStream, SelectAll};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::core::SelectorExt;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::plan::workload::Kind;
use crate::run::rollout::pods::{self, Trouble};
use crate::run::rollout::status::{self, Phase, Status};
use crate::run::rollout::streams::{self, Update};
use crate::run::rollout::{Settings, Target, Verdict, diagnose, key};
use crate::run::sink::{Event, Item, Sink};

/// Where one watch over every target stands.
pub struct Watch<'t> {
    targets: &'t [Target],
    settings: Settings,
    pub verdicts: Vec<Option<Verdict>>,
    culprits: Vec<Option<diagnose::Culprit>>,
    last_status: Vec<Option<Status>>,
    /// The most replicas shown updated so far: progress only moves forward.
    shown: Vec<u64>,
    /// Which targets watch pods in each namespace.
    pub by_namespace: HashMap<&'t str, Vec<usize>>,
    /// Only pods in trouble are kept, with the targets whose new revision they belong to.
    troubled: HashMap<(String, String), (Trouble, Vec<usize>)>,
    stuck_since: HashMap<(String, String), Instant>,
}

/// The targets to watch, by kind and namespace, each name with its index.
pub type Groups<'t> = BTreeMap<(Kind, &'t str), HashMap<String, usize>>;

impl<'t> Watch<'t> {
    pub fn new(targets: &'t [Target], settings: Settings) -> Watch<'t> {
        Watch {
            targets,
            settings,
            verdicts: vec![None; targets.len()],
            culprits: vec![None; targets.len()],
            last_status: vec![None; targets.len()],
            shown: vec![0; targets.len()],
            by_namespace: HashMap::new(),
            troubled: HashMap::new(),
            stuck_since: HashMap::new(),
        }
    }

    /// Targets without pods to wait for (CronJobs) are done at once; the others, grouped.
    pub fn finish_podless(&mut self, sink: &Arc<dyn Sink>) -> Groups<'t> {
        let mut groups: Groups<'t> = BTreeMap::new();
        for (idx, target) in self.targets.iter().enumerate() {
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
                    self.verdicts[idx] = Some(Verdict::Done);
                }
            }
        }
        groups
    }

    /// The targets still waiting whose pods are watched, by namespace.
    pub fn pod_watchers(&self) -> HashMap<&'t str, Vec<usize>> {
        let mut res: HashMap<&'t str, Vec<usize>> = HashMap::new();
        for (idx, target) in self.targets.iter().enumerate() {
            if target.selector.is_some() && self.verdicts[idx].is_none() {
                res.entry(target.id.namespace.as_str())
                    .or_default()
                    .push(idx);
            }
        }
        res
    }

    pub fn apply(&mut self, update: Update, sink: &Arc<dyn Sink>) {
        match update {
            Update::Workload(idx, status) => self.workload(idx, status, sink),
            Update::Deleted(idx) => {
                self.verdicts[idx] = Some(Verdict::Failed(format!(
                    "{} was deleted during the rollout",
                    self.targets[idx].id
                )));
            }
            Update::Pod(pod) => self.pod(&pod),
            Update::PodDeleted(pod) => {
                let id = pod_key(&pod);
                self.troubled.remove(&id);
                self.stuck_since.remove(&id);
            }
            Update::Tick => (),
        }
    }

    /// A workload's new status: its progress, or its verdict.
    fn workload(&mut self, idx: usize, status: Status, sink: &Arc<dyn Sink>) {
        let target = &self.targets[idx];
        self.shown[idx] = self.shown[idx].max(status.updated.max(0) as u64);
        let updated = self.shown[idx];
        let state = match &status.phase {
            Phase::Waiting(message) | Phase::Done(message) | Phase::Failed(message) => {
                message.clone()
            }
        };
        match &status.phase {
            Phase::Done(message) if self.verdicts[idx].is_none() => {
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
                self.verdicts[idx] = Some(Verdict::Done);
            }
            Phase::Failed(message) if self.verdicts[idx].is_none() => {
                self.verdicts[idx] = Some(Verdict::Failed(message.clone()))
            }
            _ => sink.event(Event::State {
                key: &key(&target.id),
                item: Item::Workload,
                state: &state,
                done: updated,
                total: status.desired.max(0) as u64,
            }),
        }
        self.last_status[idx] = Some(status);
    }

    /// A pod changed: kept while it is in trouble and belongs to a target's new revision.
    fn pod(&mut self, pod: &Pod) {
        let id = pod_key(pod);
        let owners: Vec<usize> = self
            .by_namespace
            .get(id.0.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|idx| owns(&self.targets[*idx], pod))
            .collect();
        match pods::trouble(pod) {
            Some(trouble) if !owners.is_empty() => {
                self.troubled.insert(id, (trouble, owners));
            }
            Some(_) => {
                self.troubled.remove(&id);
            }
            None => {
                self.troubled.remove(&id);
                if !owners.is_empty() {
                    self.stuck_since.remove(&id);
                }
            }
        }
    }

    /// Fails each waiting target that has a pod in trouble for too long (or restarted too often).
    pub fn judge_troubled(&mut self, now: Instant) {
        for (id, (trouble, owners)) in &self.troubled {
            for idx in owners {
                if self.verdicts[*idx].is_some() {
                    continue;
                }
                let failure = pod_failure(id, trouble, &mut self.stuck_since, self.settings, now);
                if let Some(failure) = failure {
                    self.verdicts[*idx] = Some(Verdict::Failed(failure));
                    self.culprits[*idx] = Some(diagnose::Culprit {
                        pod: trouble.pod.clone(),
                        container: Some(trouble.container.clone()),
                    });
                }
            }
        }
    }

    /// Every target's verdict; those still waiting are unfinished, with their last state.
    pub fn ended(self) -> (Vec<Verdict>, Vec<Option<diagnose::Culprit>>) {
        let last_status = self.last_status;
        let verdicts = self
            .verdicts
            .into_iter()
            .enumerate()
            .map(|(idx, verdict)| {
                verdict.unwrap_or_else(|| {
                    let last = last_status[idx].as_ref().map_or_else(
                        || "no status seen yet".to_owned(),
                        |status| match &status.phase {
                            Phase::Waiting(message)
                            | Phase::Done(message)
                            | Phase::Failed(message) => message.clone(),
                        },
                    );
                    Verdict::Unfinished(last)
                })
            })
            .collect();
        (verdicts, self.culprits)
    }
}

/// One watch per kind and namespace of the targets (see `streams`).
pub fn workload_streams(
    cluster: &Cluster,
    groups: Groups<'_>,
) -> SelectAll<BoxStream<'static, Update>> {
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
    streams
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

fn pod_key(pod: &Pod) -> (String, String) {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}
