//! One tick's view of the cluster. Pods and ReplicaSets are scanned without copying
//! (`Store::for_each`) into compact summaries indexed by controller uid; whole objects are copied
//! only when some controller may have work to do (a pod the kubelet still advances, a pod of a
//! Job/StatefulSet/DaemonSet), so an idle tick over thousands of Deployments stays cheap. Never
//! writes: controllers write through the `Store`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::controllers::SimContext;
use crate::controllers::kubelet;
use crate::controllers::store::Store;
use crate::controllers::util::{
    At, Millis, annotation, generation, int_at, is_deleting, name, namespace, now_ms, pod_ready,
    pod_ready_since, scaled, str_at, uid,
};

/// Kinds whose controllers run here; ownership by other kinds is ignored.
pub const OWNER_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// What the controllers need to know about a pod.
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    /// Index into `World::replicasets` of the controlling ReplicaSet.
    pub rs: Option<usize>,
    /// The uid of the controlling owner when it is another of `OWNER_KINDS`.
    pub owner: Option<String>,
    /// Controlled by an owner of a known kind that no longer exists.
    pub orphan: bool,
    pub phase: Option<Phase>,
    pub deleting: bool,
    pub ready: bool,
    /// When the pod turned Ready; parsed only where `minReadySeconds` or ranking may need it.
    pub ready_since: Option<Millis>,
    /// Carries every label of its ReplicaSet's template.
    pub fully_labeled: bool,
    /// The whole pod, when the kubelet or a Job/StatefulSet/DaemonSet controller needs it.
    pub value: Option<Value>,
}

/// `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodInfo {
    pub fn active(&self) -> bool {
        !self.deleting && !matches!(self.phase, Some(Phase::Succeeded | Phase::Failed))
    }

    /// `IsPodAvailable` with a scaled `minReadySeconds`.
    pub fn available(&self, min_ready_seconds: i64, ctx: &SimContext) -> bool {
        if !self.ready {
            return false;
        }
        if min_ready_seconds <= 0 {
            return true;
        }
        self.ready_since
            .is_some_and(|since| since + scaled(ctx, min_ready_seconds as f64) < now_ms(ctx))
    }
}

/// What the controllers need to know about a ReplicaSet.
pub struct RsInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub owner: Option<String>,
    pub deleting: bool,
    pub replicas: i64,
    pub generation: i64,
    pub observed_generation: i64,
    pub status_replicas: i64,
    pub fully_labeled: i64,
    pub ready: i64,
    pub available: i64,
    pub failure: bool,
    pub min_ready_seconds: i64,
    pub revision: Option<String>,
    pub desired_replicas: Option<i64>,
    pub template_labels: Map<String, Value>,
}

impl RsInfo {
    pub fn from_value(rs: &Value) -> RsInfo {
        let status = |key: &str| {
            rs.get("status")
                .and_then(|it| it.get(key))
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        let failure = rs
            .at("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|it| {
                it.iter()
                    .any(|it| str_at(it, "/type") == Some("ReplicaFailure"))
            });
        RsInfo {
            namespace: namespace(rs).to_owned(),
            name: name(rs).to_owned(),
            uid: uid(rs).to_owned(),
            owner: known_owner(rs).map(str::to_owned),
            deleting: is_deleting(rs),
            replicas: int_at(rs, "/spec/replicas").unwrap_or(1).max(0),
            generation: generation(rs),
            observed_generation: status("observedGeneration"),
            status_replicas: status("replicas"),
            fully_labeled: status("fullyLabeledReplicas"),
            ready: status("readyReplicas"),
            available: status("availableReplicas"),
            failure,
            min_ready_seconds: int_at(rs, "/spec/minReadySeconds").unwrap_or(0),
            revision: annotation(rs, "deployment.kubernetes.io/revision").map(str::to_owned),
            desired_replicas: annotation(rs, "deployment.kubernetes.io/desired-replicas")
                .and_then(|it| it.parse().ok()),
            template_labels: rs
                .at("/spec/template/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// Objects of the resources the controllers own, gathered at the start of a tick.
pub struct World {
    pub pods: Vec<PodInfo>,
    pub replicasets: Vec<RsInfo>,
    pub statefulsets: Vec<Value>,
    pub daemonsets: Vec<Value>,
    pub jobs: Vec<Value>,
    pub revisions: Vec<Value>,
    /// Uids of every object that can own others.
    pub owners: HashSet<String>,
    /// Pods by the index of their ReplicaSet.
    pods_by_replicaset: Vec<Vec<usize>>,
    /// Pods of other owners by owner uid.
    pods_by_owner: HashMap<String, Vec<usize>>,
    replicasets_by_owner: HashMap<String, Vec<usize>>,
    replicasets_by_uid: HashMap<String, usize>,
    revisions_by_owner: HashMap<String, Vec<usize>>,
    /// Pods per node, for spreading new pods.
    node_load: BTreeMap<String, usize>,
}

impl World {
    pub fn load<S: Store>(store: &S, ctx: &SimContext) -> World {
        let mut owners = HashSet::new();
        let mut replicasets = Vec::new();
        store.for_each("replicasets", &mut |rs| {
            replicasets.push(RsInfo::from_value(rs))
        });
        let replicasets_by_uid: HashMap<String, usize> = replicasets
            .iter()
            .enumerate()
            .map(|(idx, it)| (it.uid.clone(), idx))
            .collect();
        owners.extend(replicasets.iter().map(|it| it.uid.clone()));
        for resource in ["deployments", "cronjobs"] {
            store.for_each(resource, &mut |it| {
                owners.insert(uid(it).to_owned());
            });
        }
        let statefulsets = store.list("statefulsets");
        let daemonsets = store.list("daemonsets");
        let jobs = store.list("jobs");
        let revisions = store.list("controllerrevisions");
        for object in statefulsets.iter().chain(&daemonsets).chain(&jobs) {
            owners.insert(uid(object).to_owned());
        }

        let mut node_load: BTreeMap<String, usize> =
            ctx.nodes.iter().map(|it| (it.clone(), 0)).collect();
        let mut pods = Vec::new();
        let mut pods_by_replicaset: Vec<Vec<usize>> = vec![Vec::new(); replicasets.len()];
        let mut pods_by_owner: HashMap<String, Vec<usize>> = HashMap::new();
        store.for_each("pods", &mut |pod| {
            if let Some(node) = str_at(pod, "/spec/nodeName")
                && let Some(count) = node_load.get_mut(node)
            {
                *count += 1;
            }
            let idx = pods.len();
            let (owner_kind, owner_uid) = controller(pod).unwrap_or(("", ""));
            let known = OWNER_KINDS.contains(&owner_kind);
            let rs = if owner_kind == "ReplicaSet" {
                replicasets_by_uid.get(owner_uid).copied()
            } else {
                None
            };
            let mut info = pod_info(pod, rs.map(|it| &replicasets[it]), ctx);
            info.rs = rs;
            info.orphan = known && rs.is_none() && !owners.contains(owner_uid);
            match rs {
                Some(rs) => pods_by_replicaset[rs].push(idx),
                None if known => {
                    info.owner = Some(owner_uid.to_owned());
                    pods_by_owner
                        .entry(owner_uid.to_owned())
                        .or_default()
                        .push(idx);
                }
                None => (),
            }
            pods.push(info);
        });

        let mut replicasets_by_owner: HashMap<String, Vec<usize>> = HashMap::new();
        for (idx, rs) in replicasets.iter().enumerate() {
            if let Some(owner) = &rs.owner {
                replicasets_by_owner
                    .entry(owner.clone())
                    .or_default()
                    .push(idx);
            }
        }
        let mut revisions_by_owner: HashMap<String, Vec<usize>> = HashMap::new();
        for (idx, revision) in revisions.iter().enumerate() {
            if let Some(owner) = known_owner(revision) {
                revisions_by_owner
                    .entry(owner.to_owned())
                    .or_default()
                    .push(idx);
            }
        }
        World {
            pods,
            replicasets,
            statefulsets,
            daemonsets,
            jobs,
            revisions,
            owners,
            pods_by_replicaset,
            pods_by_owner,
            replicasets_by_owner,
            replicasets_by_uid,
            revisions_by_owner,
            node_load,
        }
    }

    /// Whole pods controlled by `owner_uid` (complete for Jobs, StatefulSets and DaemonSets).
    pub fn pods_of(&self, owner_uid: &str) -> Vec<&Value> {
        self.pod_infos_of(owner_uid)
            .into_iter()
            .filter_map(|it| it.value.as_ref())
            .collect()
    }

    /// Pods controlled by `owner_uid` (a ReplicaSet or another known kind).
    pub fn pod_infos_of(&self, owner_uid: &str) -> Vec<&PodInfo> {
        let indices = match self.replicasets_by_uid.get(owner_uid) {
            Some(rs) => self.pods_by_replicaset[*rs].as_slice(),
            None => self
                .pods_by_owner
                .get(owner_uid)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        };
        indices.iter().map(|idx| &self.pods[*idx]).collect()
    }

    pub fn replicasets_of(&self, owner_uid: &str) -> Vec<&RsInfo> {
        let indices = self
            .replicasets_by_owner
            .get(owner_uid)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        indices.iter().map(|idx| &self.replicasets[*idx]).collect()
    }

    pub fn revisions_of(&self, owner_uid: &str) -> Vec<&Value> {
        let indices = self
            .revisions_by_owner
            .get(owner_uid)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        indices.iter().map(|idx| &self.revisions[*idx]).collect()
    }

    /// Replaces a pod's summary after the kubelet wrote it.
    pub fn refresh_pod(&mut self, idx: usize, pod: Value, ctx: &SimContext) {
        let old = &self.pods[idx];
        let mut info = pod_info(&pod, old.rs.map(|it| &self.replicasets[it]), ctx);
        info.rs = old.rs;
        info.owner = old.owner.clone();
        info.orphan = old.orphan;
        info.value = Some(pod);
        self.pods[idx] = info;
    }

    /// The least loaded node (first in order on ties), counted as taken.
    pub fn pick_node(&mut self) -> Option<String> {
        let (node, count) = self.node_load.iter_mut().min_by_key(|(_, count)| **count)?;
        *count += 1;
        Some(node.clone())
    }
}

/// The uid of the controlling owner, when it is one of `OWNER_KINDS`.
pub fn known_owner(object: &Value) -> Option<&str> {
    controller(object)
        .filter(|(kind, _)| OWNER_KINDS.contains(kind))
        .map(|(_, uid)| uid)
}

/// The kind and uid of the controller ownerReference.
fn controller(object: &Value) -> Option<(&str, &str)> {
    let reference = object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|it| {
            it.get("controller")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })?;
    Some((
        str_at(reference, "/kind").unwrap_or(""),
        str_at(reference, "/uid").unwrap_or(""),
    ))
}

fn pod_info(pod: &Value, rs: Option<&RsInfo>, ctx: &SimContext) -> PodInfo {
    let labels = pod.at("/metadata/labels").and_then(Value::as_object);
    let fully_labeled = rs.is_none_or(|rs| {
        rs.template_labels
            .iter()
            .all(|(key, value)| labels.and_then(|it| it.get(key)) == Some(value))
    });
    let deleting = is_deleting(pod);
    let keep = rs.is_none() || deleting || !kubelet::is_settled(pod, ctx);
    let ready = pod_ready(pod);
    let needs_time = keep || rs.is_some_and(|it| it.min_ready_seconds > 0);
    let phase = match str_at(pod, "/status/phase") {
        Some("Pending") => Some(Phase::Pending),
        Some("Running") => Some(Phase::Running),
        Some("Succeeded") => Some(Phase::Succeeded),
        Some("Failed") => Some(Phase::Failed),
        Some(_) => Some(Phase::Unknown),
        None => None,
    };
    PodInfo {
        namespace: namespace(pod).to_owned(),
        name: name(pod).to_owned(),
        rs: None,
        owner: None,
        orphan: false,
        phase,
        deleting,
        ready,
        ready_since: if ready && needs_time {
            pod_ready_since(pod)
        } else {
            None
        },
        fully_labeled,
        value: keep.then(|| pod.clone()),
    }
}
