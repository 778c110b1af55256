//! One tick's snapshot of the cluster, listed once and indexed by controller owner uid so every
//! controller finds its dependents in constant time.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::controllers::SimContext;
use crate::controllers::store::Store;
use crate::controllers::util::{controller_uid, str_at};

/// Objects of the resources the controllers own, listed at the start of a tick.
pub struct World {
    pub deployments: Vec<Value>,
    pub replicasets: Vec<Value>,
    pub statefulsets: Vec<Value>,
    pub daemonsets: Vec<Value>,
    pub jobs: Vec<Value>,
    pub cronjobs: Vec<Value>,
    pub pods: Vec<Value>,
    pub revisions: Vec<Value>,
    /// Indices into `pods` by the uid of their controller.
    pub pods_by_owner: HashMap<String, Vec<usize>>,
    /// Indices into `replicasets` by the uid of their controller.
    pub replicasets_by_owner: HashMap<String, Vec<usize>>,
    /// Indices into `revisions` by the uid of their controller.
    pub revisions_by_owner: HashMap<String, Vec<usize>>,
    /// Pods per node, for spreading new pods.
    pub node_load: BTreeMap<String, usize>,
}

impl World {
    pub fn load<S: Store>(store: &S, ctx: &SimContext) -> World {
        let pods = store.list("pods");
        let replicasets = store.list("replicasets");
        let revisions = store.list("controllerrevisions");
        let mut node_load: BTreeMap<String, usize> = ctx.nodes.iter().map(|it| (it.clone(), 0)).collect();
        for pod in &pods {
            if let Some(node) = str_at(pod, "/spec/nodeName")
                && let Some(count) = node_load.get_mut(node)
            {
                *count += 1;
            }
        }
        World {
            pods_by_owner: index(&pods),
            replicasets_by_owner: index(&replicasets),
            revisions_by_owner: index(&revisions),
            deployments: store.list("deployments"),
            statefulsets: store.list("statefulsets"),
            daemonsets: store.list("daemonsets"),
            jobs: store.list("jobs"),
            cronjobs: store.list("cronjobs"),
            pods,
            replicasets,
            revisions,
            node_load,
        }
    }

    /// Pods controlled by `owner_uid`.
    pub fn pods_of(&self, owner_uid: &str) -> Vec<&Value> {
        pick(&self.pods, &self.pods_by_owner, owner_uid)
    }

    pub fn replicasets_of(&self, owner_uid: &str) -> Vec<&Value> {
        pick(&self.replicasets, &self.replicasets_by_owner, owner_uid)
    }

    pub fn revisions_of(&self, owner_uid: &str) -> Vec<&Value> {
        pick(&self.revisions, &self.revisions_by_owner, owner_uid)
    }

    /// The least loaded node (first in order on ties), counted as taken.
    pub fn pick_node(&mut self) -> Option<String> {
        let (node, count) = self.node_load.iter_mut().min_by_key(|(_, count)| **count)?;
        *count += 1;
        Some(node.clone())
    }
}

fn index(objects: &[Value]) -> HashMap<String, Vec<usize>> {
    let mut res: HashMap<String, Vec<usize>> = HashMap::new();
    for (idx, object) in objects.iter().enumerate() {
        if let Some(owner) = controller_uid(object) {
            res.entry(owner.to_owned()).or_default().push(idx);
        }
    }
    res
}

fn pick<'a>(objects: &'a [Value], index: &HashMap<String, Vec<usize>>, owner_uid: &str) -> Vec<&'a Value> {
    index.get(owner_uid).map(|it| it.iter().map(|idx| &objects[*idx]).collect()).unwrap_or_default()
}
