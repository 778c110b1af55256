//! The DaemonSet controller: one pod per simulated node (`spec.nodeName` set), RollingUpdate
//! bounded by `maxUnavailable` or OnDelete, ControllerRevisions, and the scheduling counters. Never
//! runs pods itself; the kubelet does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::revision::{self, HASH_LABEL};
use crate::controllers::store::Store;
use crate::controllers::util::{
    At, generation, int_at, int_or_percent, is_deleting, name, namespace, owner_reference,
    pod_active, pod_available, pod_ready, str_at, time_at, uid, write_status,
};
use crate::controllers::world::World;

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.daemonsets.len() {
        let ds = world.daemonsets[idx].clone();
        if is_deleting(&ds) {
            continue;
        }
        if let Some(it) = sync(store, ctx, world, &ds) {
            world.daemonsets[idx] = it;
        }
    }
}

fn sync<S: Store>(store: &mut S, ctx: &SimContext, world: &World, ds: &Value) -> Option<Value> {
    let update = revision::sync(store, world, ds, "DaemonSet")?;
    let min_ready = int_at(ds, "/spec/minReadySeconds").unwrap_or(0);
    let mut by_node: BTreeMap<&str, Vec<&Value>> = ctx
        .nodes
        .iter()
        .map(|it| (it.as_str(), Vec::new()))
        .collect();
    let owned = world.pods_of(uid(ds));
    for pod in owned.iter().copied().filter(|it| pod_active(it)) {
        let node = str_at(pod, "/spec/nodeName").unwrap_or("");
        match by_node.get_mut(node) {
            Some(list) => list.push(pod),
            None => delete_pod(store, ctx, ds, pod),
        }
    }
    let is_new = |pod: &Value| {
        str_at(pod, &format!("/metadata/labels/{HASH_LABEL}")) == Some(update.hash.as_str())
    };
    let desired = ctx.nodes.len() as i64;
    let mut scheduled = 0;
    let (mut ready, mut available, mut updated) = (0, 0, 0);
    for pods in by_node.values_mut() {
        pods.sort_by_key(|it| time_at(it, "/metadata/creationTimestamp").unwrap_or(0));
        if !pods.is_empty() {
            scheduled += 1;
        }
        ready += pods.iter().filter(|it| pod_ready(it)).count().min(1) as i64;
        available += pods
            .iter()
            .filter(|it| pod_available(it, min_ready, ctx))
            .count()
            .min(1) as i64;
        updated += pods.iter().filter(|it| is_new(it)).count().min(1) as i64;
    }

    // Create missing pods, remove duplicates.
    for (node, pods) in &by_node {
        if pods.is_empty() {
            create_pod(store, ctx, ds, node, &update.hash);
        }
        for extra in pods.iter().skip(1) {
            delete_pod(store, ctx, ds, extra);
        }
    }
    if str_at(ds, "/spec/updateStrategy/type") != Some("OnDelete") {
        let max_unavailable = int_or_percent(
            ds.at("/spec/updateStrategy/rollingUpdate/maxUnavailable"),
            "1",
            desired,
            true,
        )
        .max(1);
        let mut unavailable = 0;
        let mut candidates = Vec::new();
        for pods in by_node.values() {
            match pods.first() {
                None => unavailable += 1,
                Some(pod) if is_new(pod) => {
                    if !pod_available(pod, min_ready, ctx) {
                        unavailable += 1;
                    }
                }
                Some(pod) if !pod_available(pod, min_ready, ctx) => delete_pod(store, ctx, ds, pod),
                Some(pod) => candidates.push(*pod),
            }
        }
        let budget = (max_unavailable - unavailable).max(0) as usize;
        for pod in candidates.into_iter().take(budget) {
            delete_pod(store, ctx, ds, pod);
        }
    }
    revision::cleanup(store, world, ds, &[update.name.as_str()]);

    let mut status = ds
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    status.insert("observedGeneration".into(), json!(generation(ds)));
    status.insert("desiredNumberScheduled".into(), json!(desired));
    status.insert("currentNumberScheduled".into(), json!(scheduled));
    status.insert("numberMisscheduled".into(), json!(0));
    status.insert("numberReady".into(), json!(ready));
    status.insert("numberAvailable".into(), json!(available));
    status.insert(
        "numberUnavailable".into(),
        json!((desired - available).max(0)),
    );
    status.insert("updatedNumberScheduled".into(), json!(updated));
    let status = Value::Object(status);
    if ds.get("status") == Some(&status) {
        return None;
    }
    let mut ds = ds.clone();
    ds["status"] = status;
    write_status(store, "daemonsets", &ds)
}

fn record<S: Store>(store: &mut S, ctx: &SimContext, ds: &Value, reason: &str, message: String) {
    let source = Source::Controller("daemonset-controller");
    events::record(
        store,
        ctx,
        Event {
            object: ds,
            kind: "DaemonSet",
            warning: false,
            reason,
            message,
            source,
        },
    );
}

fn delete_pod<S: Store>(store: &mut S, ctx: &SimContext, ds: &Value, pod: &Value) {
    if store.delete("pods", namespace(pod), name(pod)).is_ok() {
        record(
            store,
            ctx,
            ds,
            "SuccessfulDelete",
            format!("Deleted pod: {}", name(pod)),
        );
    }
}

fn create_pod<S: Store>(store: &mut S, ctx: &SimContext, ds: &Value, node: &str, hash: &str) {
    let template = ds
        .at("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut metadata = template
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut labels = metadata
        .get("labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), json!(hash));
    labels.insert(
        "pod-template-generation".into(),
        json!(generation(ds).to_string()),
    );
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.remove("name");
    metadata.insert("generateName".into(), json!(format!("{}-", name(ds))));
    metadata.insert("namespace".into(), json!(namespace(ds)));
    metadata.insert(
        "ownerReferences".into(),
        json!([owner_reference(ds, "apps/v1", "DaemonSet")]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["nodeName"] = json!(node);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    if let Ok(created) = store.create("pods", pod) {
        record(
            store,
            ctx,
            ds,
            "SuccessfulCreate",
            format!("Created pod: {}", name(&created)),
        );
    }
}
