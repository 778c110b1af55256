//! The Deployment controller, following `pkg/controller/deployment` (`sync.go`, `rolling.go`,
//! `recreate.go`, `progress.go`): one ReplicaSet per pod template named
//! `<deployment>-<pod-template-hash>`, revisions and rollback by template, proportional scaling,
//! RollingUpdate and Recreate, pausing, history cleanup, status and conditions.
//!
//! This module holds the per-Deployment sync and its helpers; `replicasets` manages the new and
//! old ReplicaSets, `rollout` the strategies, `status` the status. It never touches pods: the
//! ReplicaSet controller owns them.

mod replicasets;
mod rollout;
mod status;

use serde_json::{Map, Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::store::{Store, StoreError};
use crate::controllers::util::{
    At, Condition, Millis, annotation, bool_at, canonical, conditions_of, controller_uid,
    find_condition, fmt_time, fnv32, generation, int_at, int_or_percent, is_deleting, name,
    namespace, normalize_template, now_ms, obj_mut, owner_reference, put_count, remove_condition,
    safe_encode, scaled, set_annotation, set_condition, str_at, time_at, uid, write, write_status,
};
use crate::controllers::world::{Phase, RsInfo, World};

use status::settled;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";

/// Deployment annotations never copied to ReplicaSets.
const SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &World) {
    let mut todo = Vec::new();
    store.for_each("deployments", &mut |deployment| {
        if !settled(deployment, world) {
            todo.push(deployment.clone());
        }
    });
    for deployment in todo {
        let mut replicasets: Vec<Value> = world
            .replicasets_of(uid(&deployment))
            .into_iter()
            .filter_map(|it| store.get("replicasets", &it.namespace, &it.name))
            .collect();
        replicasets.sort_by_key(creation);
        let mut sync = Sync {
            store,
            ctx,
            world,
            original: deployment.clone(),
            deployment,
            replicasets,
        };
        sync.run();
        sync.finish();
    }
}

/// `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded down), never both 0.
pub fn fenceposts(deployment: &Value) -> (i64, i64) {
    let desired = replicas(deployment);
    let rolling = deployment.at("/spec/strategy/rollingUpdate");
    let surge = int_or_percent(
        rolling.and_then(|it| it.get("maxSurge")),
        "25%",
        desired,
        true,
    );
    let unavailable = int_or_percent(
        rolling.and_then(|it| it.get("maxUnavailable")),
        "25%",
        desired,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// The pod-template-hash of a template (any deterministic function of the normalized template).
pub fn template_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut text = canonical(&normalize_template(template, HASH_LABEL));
    if let Some(count) = collision_count {
        text.push_str(&format!("#{count}"));
    }
    safe_encode(u64::from(fnv32(text.as_bytes())))
}

fn replicas(object: &Value) -> i64 {
    int_at(object, "/spec/replicas").unwrap_or(1).max(0)
}

fn status_count(object: &Value, key: &str) -> i64 {
    object
        .get("status")
        .and_then(|it| it.get(key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn revision(rs: &Value) -> i64 {
    annotation(rs, REVISION)
        .and_then(|it| it.parse().ok())
        .unwrap_or(0)
}

fn is_rolling(deployment: &Value) -> bool {
    str_at(deployment, "/spec/strategy/type") != Some("Recreate")
}

fn max_surge(deployment: &Value) -> i64 {
    if is_rolling(deployment) {
        fenceposts(deployment).0
    } else {
        0
    }
}

fn max_unavailable(deployment: &Value) -> i64 {
    let desired = replicas(deployment);
    if !is_rolling(deployment) || desired == 0 {
        return 0;
    }
    fenceposts(deployment).1.min(desired)
}

fn same_template(deployment: &Value, rs: &Value) -> bool {
    let empty = json!({});
    let left = deployment.at("/spec/template").unwrap_or(&empty);
    let right = rs.at("/spec/template").unwrap_or(&empty);
    normalize_template(left, HASH_LABEL) == normalize_template(right, HASH_LABEL)
}

/// `DeploymentComplete` against a status.
fn complete(deployment: &Value, status: &Value) -> bool {
    let desired = replicas(deployment);
    let get = |key: &str| status.get(key).and_then(Value::as_i64).unwrap_or(0);
    get("updatedReplicas") == desired
        && get("replicas") == desired
        && get("availableReplicas") == desired
        && get("observedGeneration") >= generation(deployment)
}

/// One sync of one Deployment.
struct Sync<'a, S> {
    store: &'a mut S,
    ctx: &'a SimContext,
    world: &'a World,
    original: Value,
    /// The working copy: annotations and status are edited here and written once at the end.
    deployment: Value,
    /// Owned ReplicaSets, oldest first; edited in place as they are written.
    replicasets: Vec<Value>,
}

impl<S: Store> Sync<'_, S> {
    fn run(&mut self) {
        let selector_empty = self.deployment.at("/spec/selector").is_none_or(|it| {
            it.as_object().is_none_or(|it| {
                it.values().all(|it| {
                    it.as_object().is_some_and(Map::is_empty)
                        || it.as_array().is_some_and(Vec::is_empty)
                })
            })
        });
        if selector_empty {
            let observed = generation(&self.deployment);
            status_mut(&mut self.deployment).insert("observedGeneration".into(), json!(observed));
            return;
        }
        if is_deleting(&self.deployment) {
            let new = self.find_new();
            self.sync_status(new);
            return;
        }
        self.check_paused_conditions();
        let paused = bool_at(&self.deployment, "/spec/paused");
        if paused || self.is_scaling_event() {
            let new = self.sync_revision(false);
            self.scale(new);
            if paused {
                self.cleanup(new);
            }
            self.sync_status(new);
            return;
        }
        if is_rolling(&self.deployment) {
            self.rollout_rolling()
        } else {
            self.rollout_recreate()
        }
    }

    /// Writes the Deployment's status (and revision annotation) when they changed.
    fn finish(self) -> Option<Value> {
        if self.deployment == self.original {
            return None;
        }
        let annotations_changed = self.deployment.at("/metadata/annotations")
            != self.original.at("/metadata/annotations");
        let written = write_status(self.store, "deployments", &self.deployment)?;
        if annotations_changed
            && written.at("/metadata/annotations") != self.deployment.at("/metadata/annotations")
        {
            // The store kept annotations out of the status write: set them on the main resource.
            let mut object = written;
            object["metadata"]["annotations"] = self.deployment["metadata"]["annotations"].clone();
            return write(self.store, "deployments", &object);
        }
        Some(written)
    }

    fn desired(&self) -> i64 {
        replicas(&self.deployment)
    }

    fn find_new(&self) -> Option<usize> {
        self.replicasets
            .iter()
            .position(|rs| same_template(&self.deployment, rs))
    }

    fn olds(&self, new: Option<usize>) -> Vec<usize> {
        (0..self.replicasets.len())
            .filter(|idx| Some(*idx) != new)
            .collect()
    }

    fn spec_sum(&self, indices: impl IntoIterator<Item = usize>) -> i64 {
        indices
            .into_iter()
            .map(|idx| replicas(&self.replicasets[idx]))
            .sum()
    }

    fn progressing_condition(&self) -> Option<Value> {
        find_condition(&conditions_of(&self.deployment), "Progressing").cloned()
    }

    fn has_progress_deadline(&self) -> bool {
        int_at(&self.deployment, "/spec/progressDeadlineSeconds").unwrap_or(600)
            < i64::from(i32::MAX)
    }

    fn set_deployment_condition(&mut self, condition: Condition<'_>) {
        let mut conditions = conditions_of(&self.deployment);
        if set_condition(&mut conditions, condition, now_ms(self.ctx), true) {
            status_mut(&mut self.deployment).insert("conditions".into(), Value::Array(conditions));
        }
    }

    fn event(&mut self, warning: bool, reason: &str, message: String) {
        let source = Source::Controller("deployment-controller");
        let event = Event {
            object: &self.deployment,
            kind: "Deployment",
            warning,
            reason,
            message,
            source,
        };
        events::record(self.store, self.ctx, event);
    }

    /// `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if !self.has_progress_deadline() {
            return;
        }
        let current = self.progressing_condition();
        let reason = current
            .as_ref()
            .and_then(|it| str_at(it, "/reason"))
            .unwrap_or("");
        if reason == "ProgressDeadlineExceeded" {
            return;
        }
        let paused = bool_at(&self.deployment, "/spec/paused");
        if paused && reason != "DeploymentPaused" {
            let message = "Deployment is paused".to_owned();
            self.set_deployment_condition(Condition {
                kind: "Progressing",
                status: "Unknown",
                reason: "DeploymentPaused",
                message,
            });
        } else if !paused && reason == "DeploymentPaused" {
            let message = "Deployment is resumed".to_owned();
            self.set_deployment_condition(Condition {
                kind: "Progressing",
                status: "Unknown",
                reason: "DeploymentResumed",
                message,
            });
        }
    }

    /// `isScalingEvent`: an active ReplicaSet was sized for another `spec.replicas`.
    fn is_scaling_event(&self) -> bool {
        let desired = self.desired();
        self.replicasets
            .iter()
            .filter(|rs| replicas(rs) > 0)
            .any(|rs| {
                annotation(rs, DESIRED_REPLICAS)
                    .and_then(|it| it.parse::<i64>().ok())
                    .is_some_and(|it| it != desired)
            })
    }
}

/// Creation order; the API server stamps whole seconds, so revisions break ties.
fn creation(rs: &Value) -> (Millis, i64, String) {
    (
        time_at(rs, "/metadata/creationTimestamp").unwrap_or(0),
        revision(rs),
        name(rs).to_owned(),
    )
}

fn status_mut(object: &mut Value) -> &mut Map<String, Value> {
    obj_mut(object, "status")
}
