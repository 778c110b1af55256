//! The bodies of the writes that change workloads: the image patch (with the record of the previous
//! images) and the rollback patch. Pure; strategic merge patches keyed by container name, so nothing
//! but the named containers' images (and two annotations) is touched.

use kube::core::Selector;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::plan::audit;
use crate::plan::workload::{ContainerList, Kind, ObjectId};
use crate::plan::{ContainerChange, WorkloadPlan};

/// The annotation recording what the last update changed, so it can be undone exactly.
pub const PREVIOUS: &str = "kubectl-update.io/previous";
/// The annotation `kubectl rollout history` shows.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// The field manager of every write.
pub const FIELD_MANAGER: &str = "kubectl-update";

/// A workload this run patched, and what it ran before.
#[derive(Debug, Clone)]
pub struct Patched {
    pub id: ObjectId,
    pub previous: Previous,
    pub selector: Option<Selector>,
    /// The workload's uid, for the Events about it.
    pub uid: Option<String>,
}

/// What `kubectl-update.io/previous` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub containers: Vec<PreviousContainer>,
    /// RFC 3339 time of the update.
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousContainer {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    /// The image before the update: what a rollback restores.
    pub previous: String,
    pub target: String,
}

/// One container's image to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    pub container: String,
    pub list: ContainerList,
    pub image: String,
}

impl Previous {
    pub fn of(changes: &[ContainerChange], time: &str) -> Previous {
        Previous {
            containers: changes
                .iter()
                .map(|change| PreviousContainer {
                    name: change.container.clone(),
                    init: change.list == ContainerList::InitContainers,
                    previous: change.from.clone(),
                    target: change.to.clone(),
                })
                .collect(),
            time: time.to_owned(),
        }
    }

    /// The images a rollback sets, as changes from the target back to the previous image.
    pub fn rolled_back(&self) -> Vec<audit::ImageChange> {
        self.containers
            .iter()
            .map(|it| audit::ImageChange {
                container: it.name.clone(),
                from: it.target.clone(),
                to: it.previous.clone(),
            })
            .collect()
    }

    /// The images a rollback sets.
    pub fn restore(&self) -> Vec<ImageSet> {
        self.containers
            .iter()
            .map(|container| ImageSet {
                container: container.name.clone(),
                list: if container.init {
                    ContainerList::InitContainers
                } else {
                    ContainerList::Containers
                },
                image: container.previous.clone(),
            })
            .collect()
    }
}

/// The patch of an update: record the previous images, set the new ones, say why (with the run's
/// cause, when known).
pub fn update(workload: &WorkloadPlan, time: &str, cause: Option<&str>) -> Value {
    let previous = Previous::of(&workload.changes, time);
    let sets: Vec<ImageSet> = workload
        .changes
        .iter()
        .map(|change| ImageSet {
            container: change.container.clone(),
            list: change.list,
            image: change.to.clone(),
        })
        .collect();
    let cause = audit::change_cause(&describe(&sets), cause);
    images(
        workload.id.kind,
        &sets,
        json!({PREVIOUS: serde_json::to_string(&previous).expect("the record serialises"), CHANGE_CAUSE: cause}),
    )
}

/// The patch of a rollback: restore the recorded images, drop the record, say why.
pub fn rollback(kind: Kind, previous: &Previous, cause: Option<&str>) -> Value {
    let sets = previous.restore();
    let cause = audit::change_cause(&format!("rolled back to {}", describe(&sets)), cause);
    images(kind, &sets, json!({PREVIOUS: null, CHANGE_CAUSE: cause}))
}

/// A strategic merge patch setting container images in an object of `kind`.
pub fn images(kind: Kind, sets: &[ImageSet], annotations: Value) -> Value {
    let mut pod_spec = Map::new();
    for list in [ContainerList::InitContainers, ContainerList::Containers] {
        let entries: Vec<Value> = sets
            .iter()
            .filter(|set| set.list == list)
            .map(|set| json!({"name": set.container, "image": set.image}))
            .collect();
        if !entries.is_empty() {
            pod_spec.insert(list.field().to_owned(), Value::Array(entries));
        }
    }
    let mut patch = json!({"metadata": {"annotations": annotations}});
    let mut cursor = &mut patch;
    for segment in kind.pod_spec_pointer().trim_start_matches('/').split('/') {
        cursor = cursor
            .as_object_mut()
            .expect("patch levels are objects")
            .entry(segment)
            .or_insert_with(|| json!({}));
    }
    *cursor = Value::Object(pod_spec);
    patch
}

fn describe(sets: &[ImageSet]) -> String {
    sets.iter()
        .map(|set| format!("{}={}", set.container, set.image))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::workload::ObjectId;

    #[test]
    fn update_patch_touches_only_named_images_and_records_previous() {
        let workload = WorkloadPlan {
            id: ObjectId {
                namespace: "shop".into(),
                kind: Kind::CronJob,
                name: "report".into(),
            },
            origin: 0,
            changes: vec![ContainerChange {
                container: "report".into(),
                list: ContainerList::Containers,
                pointer: String::new(),
                from: "acme/app:1".into(),
                to: "acme/app:2".into(),
            }],
            owners: Vec::new(),
        };
        let patch = update(&workload, "2026-11-26T12:00:00Z", None);
        assert_eq!(
            patch["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            json!({"containers": [{"name": "report", "image": "acme/app:2"}]})
        );
        assert_eq!(
            patch["metadata"]["annotations"][CHANGE_CAUSE],
            "kubectl-update: report=acme/app:2"
        );
        let previous: Previous =
            serde_json::from_str(patch["metadata"]["annotations"][PREVIOUS].as_str().unwrap())
                .unwrap();
        assert_eq!(previous.containers[0].previous, "acme/app:1");
        let back = rollback(Kind::CronJob, &previous, Some("https://ci/1"));
        assert_eq!(
            back["metadata"]["annotations"][CHANGE_CAUSE],
            "kubectl-update: rolled back to report=acme/app:1 (https://ci/1)"
        );
        assert_eq!(
            update(&workload, "t", Some("https://ci/1"))["metadata"]["annotations"][CHANGE_CAUSE],
            "kubectl-update: report=acme/app:2 (https://ci/1)"
        );
        assert_eq!(
            back["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "acme/app:1"
        );
        assert_eq!(back["metadata"]["annotations"][PREVIOUS], Value::Null);
    }

    #[test]
    fn init_containers_go_to_their_own_list() {
        let sets = [
            ImageSet {
                container: "wait".into(),
                list: ContainerList::InitContainers,
                image: "a:2".into(),
            },
            ImageSet {
                container: "app".into(),
                list: ContainerList::Containers,
                image: "a:2".into(),
            },
        ];
        let patch = images(Kind::Deployment, &sets, json!({}));
        assert_eq!(
            patch["spec"]["template"]["spec"]["initContainers"][0]["name"],
            "wait"
        );
        assert_eq!(
            patch["spec"]["template"]["spec"]["containers"][0]["name"],
            "app"
        );
    }
}
