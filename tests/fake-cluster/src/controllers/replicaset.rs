//! The ReplicaSet controller: creates and deletes pods to match `spec.replicas` and reports
//! `replicas`, `fullyLabeledReplicas`, `readyReplicas`, `availableReplicas` and
//! `observedGeneration`, with a `ReplicaFailure` condition when pods cannot be created.

use std::cmp::Reverse;

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::store::Store;
use crate::controllers::util::{
    Condition, conditions_of, generation, int_at, is_deleting, name, namespace, now_ms, owner_reference, pod_active,
    pod_available, pod_ready, put_count, remove_condition, selector_matches, set_condition, str_at, time_at, uid,
    write_status,
};
use crate::controllers::world::World;

/// At most this many pods are created or deleted per ReplicaSet and tick.
const BURST: usize = 500;

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.replicasets.len() {
        let rs = world.replicasets[idx].clone();
        if is_deleting(&rs) {
            continue;
        }
        let pods: Vec<Value> = world.pods_of(uid(&rs)).into_iter().filter(|it| pod_active(it)).cloned().collect();
        let want = int_at(&rs, "/spec/replicas").unwrap_or(1).max(0) as usize;
        let mut failure = None;
        if pods.len() < want {
            for _ in 0..(want - pods.len()).min(BURST) {
                let node = world.pick_node();
                if let Err(message) = create_pod(store, ctx, &rs, node) {
                    failure = Some(message);
                    break;
                }
            }
        } else if pods.len() > want {
            let mut ranked: Vec<&Value> = pods.iter().collect();
            ranked.sort_by_key(|pod| deletion_rank(pod));
            for pod in ranked.into_iter().take((pods.len() - want).min(BURST)) {
                if store.delete("pods", namespace(pod), name(pod)).is_ok() {
                    let message = format!("Deleted pod: {}", name(pod));
                    record(store, ctx, &rs, false, "SuccessfulDelete", message);
                }
            }
        }
        let min_ready = int_at(&rs, "/spec/minReadySeconds").unwrap_or(0);
        let template_labels = rs.pointer("/spec/template/metadata/labels").cloned().unwrap_or_else(|| json!({}));
        let labeled = pods.iter().filter(|pod| selector_matches(&json!({"matchLabels": template_labels}), pod.pointer("/metadata/labels")));
        let mut status = rs.get("status").and_then(Value::as_object).cloned().unwrap_or_default();
        status.insert("replicas".into(), json!(pods.len()));
        put_count(&mut status, "fullyLabeledReplicas", labeled.count() as i64);
        put_count(&mut status, "readyReplicas", pods.iter().filter(|it| pod_ready(it)).count() as i64);
        put_count(
            &mut status,
            "availableReplicas",
            pods.iter().filter(|it| pod_available(it, min_ready, ctx)).count() as i64,
        );
        status.insert("observedGeneration".into(), json!(generation(&rs)));
        let mut conditions = conditions_of(&rs);
        match failure {
            Some(message) => {
                let condition = Condition { kind: "ReplicaFailure", status: "True", reason: "FailedCreate", message };
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
                world.replicasets[idx] = it;
            }
        }
    }
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
    let ready_since = crate::controllers::util::pod_ready_since(pod);
    let restarts: i64 = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|it| it.iter().filter_map(|it| int_at(it, "/restartCount")).sum())
        .unwrap_or(0);
    let created = time_at(pod, "/metadata/creationTimestamp").unwrap_or(0);
    (scheduled, phase, ready_since.is_some(), Reverse(ready_since.unwrap_or(0)), Reverse(restarts), Reverse(created))
}

fn record<S: Store>(store: &mut S, ctx: &SimContext, rs: &Value, warning: bool, reason: &str, message: String) {
    let source = Source::Controller("replicaset-controller");
    events::record(store, ctx, Event { object: rs, kind: "ReplicaSet", warning, reason, message, source });
}

/// Creates one pod from the ReplicaSet's template; the error message feeds `ReplicaFailure`.
fn create_pod<S: Store>(store: &mut S, ctx: &SimContext, rs: &Value, node: Option<String>) -> Result<(), String> {
    let template = rs.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let mut metadata = template.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    metadata.remove("creationTimestamp");
    metadata.remove("name");
    metadata.insert("generateName".into(), json!(format!("{}-", name(rs))));
    metadata.insert("namespace".into(), json!(namespace(rs)));
    metadata.insert("ownerReferences".into(), json!([owner_reference(rs, "apps/v1", "ReplicaSet")]));
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if let Some(node) = node
        && str_at(&spec, "/nodeName").is_none()
    {
        spec["nodeName"] = json!(node);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    match store.create("pods", pod) {
        Ok(created) => {
            record(store, ctx, rs, false, "SuccessfulCreate", format!("Created pod: {}", name(&created)));
            Ok(())
        }
        Err(error) => {
            let message = format!("Error creating: {error}");
            record(store, ctx, rs, true, "FailedCreate", message.clone());
            Err(message)
        }
    }
}
