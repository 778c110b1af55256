//! The ReplicaSet controller: creates and deletes pods to match `spec.replicas` and reports
//! `replicas`, `fullyLabeledReplicas`, `readyReplicas`, `availableReplicas` and
//! `observedGeneration`, with a `ReplicaFailure` condition when pods cannot be created.

use std::cmp::Reverse;

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::store::Store;
use crate::controllers::util::{
    At, Condition, conditions_of, generation, int_at, name, namespace, now_ms, owner_reference,
    pod_ready_since, put_count, remove_condition, set_condition, str_at, time_at, write_status,
};
use crate::controllers::world::{PodInfo, RsInfo, World};

/// At most this many pods are created or deleted per ReplicaSet and tick.
const BURST: usize = 500;

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.replicasets.len() {
        let info = &world.replicasets[idx];
        if info.deleting {
            continue;
        }
        let pods: Vec<&PodInfo> = world
            .pod_infos_of(&info.uid)
            .into_iter()
            .filter(|it| it.active())
            .collect();
        let want = info.replicas as usize;
        let counts = Counts {
            replicas: pods.len() as i64,
            fully_labeled: pods.iter().filter(|it| it.fully_labeled).count() as i64,
            ready: pods.iter().filter(|it| it.ready).count() as i64,
            available: pods
                .iter()
                .filter(|it| it.available(info.min_ready_seconds, ctx))
                .count() as i64,
        };
        let settled = pods.len() == want
            && !info.failure
            && info.observed_generation == info.generation
            && info.status_replicas == counts.replicas
            && info.fully_labeled == counts.fully_labeled
            && info.ready == counts.ready
            && info.available == counts.available;
        if settled {
            continue;
        }
        let (rs_namespace, rs_name) = (info.namespace.clone(), info.name.clone());
        let excess = pods.len().saturating_sub(want).min(BURST);
        let mut candidates: Vec<Value> = Vec::new();
        if excess > 0 {
            candidates = pods
                .iter()
                .filter_map(|it| {
                    it.value
                        .clone()
                        .or_else(|| store.get("pods", &it.namespace, &it.name))
                })
                .collect();
            candidates.sort_by_key(deletion_rank);
        }
        let doomed: Vec<(String, String)> = candidates
            .iter()
            .take(excess)
            .map(|it| (namespace(it).to_owned(), name(it).to_owned()))
            .collect();
        let missing = want.saturating_sub(pods.len()).min(BURST);
        let Some(rs) = store.get("replicasets", &rs_namespace, &rs_name) else {
            continue;
        };
        let mut failure = None;
        for _ in 0..missing {
            let node = world.pick_node();
            if let Err(message) = create_pod(store, ctx, &rs, node) {
                failure = Some(message);
                break;
            }
        }
        for (pod_namespace, pod_name) in doomed {
            if store.delete("pods", &pod_namespace, &pod_name).is_ok() {
                record(
                    store,
                    ctx,
                    &rs,
                    false,
                    "SuccessfulDelete",
                    format!("Deleted pod: {pod_name}"),
                );
            }
        }
        let mut status = rs
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.insert("replicas".into(), json!(counts.replicas));
        put_count(&mut status, "fullyLabeledReplicas", counts.fully_labeled);
        put_count(&mut status, "readyReplicas", counts.ready);
        put_count(&mut status, "availableReplicas", counts.available);
        status.insert("observedGeneration".into(), json!(generation(&rs)));
        let mut conditions = conditions_of(&rs);
        match failure {
            Some(message) => {
                let condition = Condition {
                    kind: "ReplicaFailure",
                    status: "True",
                    reason: "FailedCreate",
                    message,
                };
                set_condition(&mut conditions, condition, now_ms(ctx), false);
            }
            None => {
                remove_condition(&mut conditions, "ReplicaFailure");
            }
        }
        if conditions.is_empty() {
            status.remove("conditions");
        } else {
            status.insert("conditions".into(), Value::Array(conditions));
        }
        let status = Value::Object(status);
        if rs.get("status") != Some(&status) {
            let mut rs = rs;
            rs["status"] = status;
            if let Some(it) = write_status(store, "replicasets", &rs) {
                world.replicasets[idx] = RsInfo::from_value(&it);
            }
        }
    }
}

/// The counters a ReplicaSet reports.
struct Counts {
    replicas: i64,
    fully_labeled: i64,
    ready: i64,
    available: i64,
}

/// Lower ranks are deleted first: unscheduled, pending, not ready, recently ready, restarted more,
/// newer.
fn deletion_rank(pod: &Value) -> (bool, u8, bool, Reverse<i64>, Reverse<i64>, Reverse<i64>) {
    let scheduled = str_at(pod, "/spec/nodeName").is_some_and(|it| !it.is_empty());
    let phase = match str_at(pod, "/status/phase") {
        Some("Pending") | None => 0,
        Some("Unknown") => 1,
        _ => 2,
    };
    let ready_since = pod_ready_since(pod);
    let restarts: i64 = pod
        .at("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|it| it.iter().filter_map(|it| int_at(it, "/restartCount")).sum())
        .unwrap_or(0);
    let created = time_at(pod, "/metadata/creationTimestamp").unwrap_or(0);
    (
        scheduled,
        phase,
        ready_since.is_some(),
        Reverse(ready_since.unwrap_or(0)),
        Reverse(restarts),
        Reverse(created),
    )
}

fn record<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    rs: &Value,
    warning: bool,
    reason: &str,
    message: String,
) {
    let source = Source::Controller("replicaset-controller");
    events::record(
        store,
        ctx,
        Event {
            object: rs,
            kind: "ReplicaSet",
            warning,
            reason,
            message,
            source,
        },
    );
}

/// Creates one pod from the ReplicaSet's template; the error message feeds `ReplicaFailure`.
fn create_pod<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    rs: &Value,
    node: Option<String>,
) -> Result<(), String> {
    let template = rs
        .at("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut metadata = template
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.remove("creationTimestamp");
    metadata.remove("name");
    metadata.insert("generateName".into(), json!(format!("{}-", name(rs))));
    metadata.insert("namespace".into(), json!(namespace(rs)));
    metadata.insert(
        "ownerReferences".into(),
        json!([owner_reference(rs, "apps/v1", "ReplicaSet")]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if let Some(node) = node
        && str_at(&spec, "/nodeName").is_none()
    {
        spec["nodeName"] = json!(node);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    match store.create("pods", pod) {
        Ok(created) => {
            record(
                store,
                ctx,
                rs,
                false,
                "SuccessfulCreate",
                format!("Created pod: {}", name(&created)),
            );
            Ok(())
        }
        Err(error) => {
            let message = format!("Error creating: {error}");
            record(store, ctx, rs, true, "FailedCreate", message.clone());
            Err(message)
        }
    }
}
