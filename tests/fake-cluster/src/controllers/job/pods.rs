//! A Job's pods: creating one from the template (with the Job's labels and owner reference) and
//! deleting active ones. Never decides how many pods a Job needs.

use serde_json::{Value, json};

use super::record;
use crate::controllers::SimContext;
use crate::controllers::store::Store;
use crate::controllers::util::{At, name, namespace, owner_reference, str_at, uid};
use crate::controllers::world::World;

pub(super) fn delete_pods<S: Store>(store: &mut S, ctx: &SimContext, job: &Value, pods: &[&Value]) {
    for pod in pods {
        if store.delete("pods", namespace(pod), name(pod)).is_ok() {
            record(
                store,
                ctx,
                job,
                false,
                "SuccessfulDelete",
                format!("Deleted pod: {}", name(pod)),
            );
        }
    }
}

pub(super) fn create_pod<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    world: &mut World,
    job: &Value,
) -> bool {
    let template = job
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
    for (key, value) in [
        ("batch.kubernetes.io/controller-uid", uid(job)),
        ("batch.kubernetes.io/job-name", name(job)),
        ("controller-uid", uid(job)),
        ("job-name", name(job)),
    ] {
        labels.entry(key).or_insert_with(|| json!(value));
    }
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.remove("name");
    metadata.remove("creationTimestamp");
    metadata.insert("generateName".into(), json!(format!("{}-", name(job))));
    metadata.insert("namespace".into(), json!(namespace(job)));
    metadata.insert(
        "ownerReferences".into(),
        json!([owner_reference(job, "batch/v1", "Job")]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if str_at(&spec, "/nodeName").is_none()
        && let Some(node) = world.pick_node()
    {
        spec["nodeName"] = json!(node);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    match store.create("pods", pod) {
        Ok(created) => {
            record(
                store,
                ctx,
                job,
                false,
                "SuccessfulCreate",
                format!("Created pod: {}", name(&created)),
            );
            true
        }
        Err(error) => {
            record(
                store,
                ctx,
                job,
                true,
                "FailedCreate",
                format!("Error creating: {error}"),
            );
            false
        }
    }
}
