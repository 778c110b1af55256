//! The StatefulSet controller: pods `<sts>-<ordinal>`, OrderedReady or Parallel management,
//! RollingUpdate from the highest ordinal down (waiting for each to be Ready, sparing ordinals below
//! `partition`) or OnDelete, ControllerRevisions and the `controller-revision-hash` pod label.
//! Never runs pods itself; the kubelet does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::revision::{self, HASH_LABEL};
use crate::controllers::store::Store;
use crate::controllers::util::{
    At, generation, int_at, is_deleting, name, namespace, owner_reference, pod_available,
    pod_ready, str_at, uid, write_status,
};
use crate::controllers::world::World;

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.statefulsets.len() {
        let sts = world.statefulsets[idx].clone();
        if is_deleting(&sts) {
            continue;
        }
        if let Some(it) = sync(store, ctx, world, &sts) {
            world.statefulsets[idx] = it;
        }
    }
}

fn sync<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    world: &mut World,
    sts: &Value,
) -> Option<Value> {
    let update = revision::sync(store, world, sts, "StatefulSet")?;
    let current = str_at(sts, "/status/currentRevision")
        .filter(|it| !it.is_empty())
        .unwrap_or(&update.name)
        .to_owned();
    let replicas = int_at(sts, "/spec/replicas").unwrap_or(1).max(0);
    let on_delete = str_at(sts, "/spec/updateStrategy/type") == Some("OnDelete");
    let rolling = sts
        .at("/spec/updateStrategy/rollingUpdate")
        .filter(|it| it.is_object());
    let partition = rolling
        .and_then(|it| it.get("partition"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let parallel = str_at(sts, "/spec/podManagementPolicy") == Some("Parallel");
    let prefix = format!("{}-", name(sts));
    let mut pods: BTreeMap<i64, Value> = BTreeMap::new();
    for pod in world.pods_of(uid(sts)) {
        if let Some(ordinal) = name(pod)
            .strip_prefix(&prefix)
            .and_then(|it| it.parse::<i64>().ok())
        {
            pods.insert(ordinal, pod.clone());
        }
    }
    let min_ready = int_at(sts, "/spec/minReadySeconds").unwrap_or(0);
    let count = |pred: &dyn Fn(&Value) -> bool| pods.values().filter(|it| pred(it)).count() as i64;
    let mut status = sts
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let ready = count(&|it| pod_ready(it));
    let total = pods.len() as i64;
    let updated = count(&|it| {
        str_at(it, &format!("/metadata/labels/{HASH_LABEL}")) == Some(update.name.as_str())
    });
    let mut current_name = current.clone();
    let mut current_count = count(&|it| {
        str_at(it, &format!("/metadata/labels/{HASH_LABEL}")) == Some(current.as_str())
    });
    if !on_delete && updated == total && ready == total && total == replicas {
        current_name = update.name.clone();
        current_count = updated;
    }
    status.insert("observedGeneration".into(), json!(generation(sts)));
    status.insert("replicas".into(), json!(total));
    status.insert("readyReplicas".into(), json!(ready));
    status.insert(
        "availableReplicas".into(),
        json!(count(&|it| pod_available(it, min_ready, ctx))),
    );
    status.insert("currentReplicas".into(), json!(current_count));
    status.insert("updatedReplicas".into(), json!(updated));
    status.insert("currentRevision".into(), json!(current_name));
    status.insert("updateRevision".into(), json!(update.name));
    status.entry("collisionCount").or_insert(json!(0));

    manage(
        store,
        ctx,
        world,
        sts,
        &pods,
        Plan {
            replicas,
            partition,
            parallel,
            on_delete,
            current: &current,
            update: &update.name,
        },
    );
    revision::cleanup(store, world, sts, &[current.as_str(), update.name.as_str()]);

    let status = Value::Object(status);
    if sts.get("status") == Some(&status) {
        return None;
    }
    let mut sts = sts.clone();
    sts["status"] = status;
    write_status(store, "statefulsets", &sts)
}

struct Plan<'a> {
    replicas: i64,
    partition: i64,
    parallel: bool,
    on_delete: bool,
    current: &'a str,
    update: &'a str,
}

fn manage<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    world: &mut World,
    sts: &Value,
    pods: &BTreeMap<i64, Value>,
    plan: Plan<'_>,
) {
    let healthy = |pod: &Value| {
        !is_deleting(pod) && str_at(pod, "/status/phase") == Some("Running") && pod_ready(pod)
    };
    // Failed pods are replaced.
    for pod in pods.values() {
        if !is_deleting(pod) && matches!(str_at(pod, "/status/phase"), Some("Failed" | "Succeeded"))
        {
            delete_pod(store, ctx, sts, pod);
        }
    }
    for ordinal in 0..plan.replicas {
        match pods.get(&ordinal) {
            None => {
                let revision_name = if ordinal < plan.partition {
                    plan.current
                } else {
                    plan.update
                };
                create_pod(store, ctx, world, sts, ordinal, revision_name);
                if !plan.parallel {
                    return;
                }
            }
            Some(pod) if !plan.parallel && !healthy(pod) => return,
            Some(_) => (),
        }
    }
    let condemned: Vec<&Value> = pods
        .range(plan.replicas..)
        .rev()
        .map(|(_, it)| it)
        .collect();
    for pod in &condemned {
        if !is_deleting(pod) {
            delete_pod(store, ctx, sts, pod);
        }
        if !plan.parallel {
            return;
        }
    }
    if plan.on_delete {
        return;
    }
    for ordinal in (plan.partition.max(0)..plan.replicas).rev() {
        let Some(pod) = pods.get(&ordinal) else {
            return;
        };
        let revision_name = str_at(pod, &format!("/metadata/labels/{HASH_LABEL}")).unwrap_or("");
        if revision_name != plan.update && !is_deleting(pod) {
            delete_pod(store, ctx, sts, pod);
            return;
        }
        if !healthy(pod) {
            return;
        }
    }
}

fn record<S: Store>(store: &mut S, ctx: &SimContext, sts: &Value, reason: &str, message: String) {
    let source = Source::Controller("statefulset-controller");
    events::record(
        store,
        ctx,
        Event {
            object: sts,
            kind: "StatefulSet",
            warning: false,
            reason,
            message,
            source,
        },
    );
}

fn delete_pod<S: Store>(store: &mut S, ctx: &SimContext, sts: &Value, pod: &Value) {
    if store.delete("pods", namespace(pod), name(pod)).is_ok() {
        let message = format!(
            "delete Pod {} in StatefulSet {} successful",
            name(pod),
            name(sts)
        );
        record(store, ctx, sts, "SuccessfulDelete", message);
    }
}

fn create_pod<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    world: &mut World,
    sts: &Value,
    ordinal: i64,
    revision_name: &str,
) {
    let template = revision::find_template(world, sts, revision_name)
        .or_else(|| sts.at("/spec/template").cloned())
        .unwrap_or_else(|| json!({}));
    let pod_name = format!("{}-{ordinal}", name(sts));
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
    labels.insert(HASH_LABEL.into(), json!(revision_name));
    labels.insert("statefulset.kubernetes.io/pod-name".into(), json!(pod_name));
    labels.insert(
        "apps.kubernetes.io/pod-index".into(),
        json!(ordinal.to_string()),
    );
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.insert("name".into(), json!(pod_name));
    metadata.insert("namespace".into(), json!(namespace(sts)));
    metadata.insert(
        "ownerReferences".into(),
        json!([owner_reference(sts, "apps/v1", "StatefulSet")]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["hostname"] = json!(pod_name);
    if let Some(service) = str_at(sts, "/spec/serviceName").filter(|it| !it.is_empty()) {
        spec["subdomain"] = json!(service);
    }
    if str_at(&spec, "/nodeName").is_none()
        && let Some(node) = world.pick_node()
    {
        spec["nodeName"] = json!(node);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    if store.create("pods", pod).is_ok() {
        let message = format!(
            "create Pod {pod_name} in StatefulSet {} successful",
            name(sts)
        );
        record(store, ctx, sts, "SuccessfulCreate", message);
    }
}
