//! A workload's facts: the compact, typed view of an object that planning, rollback and the
//! completions read — its kind, namespace, name and uid, the tool's own annotations, its pod
//! selector, each container's name and image, and the marks of other owners. Discovery decodes list pages straight into it
//! (`discover::slim`); offline previews and `plan::plan` extract it from whole objects
//! (`WorkloadFacts::of_object`). Pure: never does I/O, and never holds anything else of the object.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::Selector;
use serde_json::Value;

use crate::plan::owners::Marks;
use crate::plan::workload::{self, Container, Kind, ObjectId};

/// The annotation prefixes the tool reads: its own (`kubectl-update.io/`) and those of the older
/// update manager (`xcnt.io/`). Other annotations are never kept.
pub const TOOL_PREFIXES: [&str; 2] = ["kubectl-update.io/", "xcnt.io/"];

/// Whether the tool reads this annotation (see `TOOL_PREFIXES`).
pub fn is_tool_annotation(key: &str) -> bool {
    TOOL_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

/// What the tool reads of a workload or migration template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadFacts {
    pub kind: Kind,
    /// The object's namespace, or the one it was listed in (offline: the preview's default) when
    /// it names none.
    pub namespace: Box<str>,
    /// Empty when the object has none.
    pub name: Box<str>,
    pub uid: Option<Box<str>>,
    /// Only the tool's own annotations (`is_tool_annotation`), in the order found.
    pub annotations: Box<[(Box<str>, Box<str>)]>,
    /// `spec.selector` as JSON text, read only when a workload's pods are looked for.
    pub selector: Option<Box<str>>,
    /// Every container and init container of the pod template, init containers first (as
    /// `workload::containers` lists them).
    pub containers: Box<[Container]>,
    /// A Job the tool made as a migration's copy (labelled `kubectl-update.io/migration-of`):
    /// never a template, never a near miss.
    pub migration_copy: bool,
    /// The marks of other owners (`owners::Marks`): a few labels and annotations, and the
    /// managers of image fields.
    pub marks: Marks,
}

impl WorkloadFacts {
    /// The facts of a whole object of `kind` in `namespace` (the caller's reading of it: the
    /// object's own, or where it was listed, or the preview's default).
    /// A non-string annotation value (which a valid object never has) is kept as its JSON text.
    pub fn of_object(object: &Value, kind: Kind, namespace: &str) -> WorkloadFacts {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(Box::<str>::from)
        };
        let annotations = workload::annotations_of(object)
            .into_iter()
            .flatten()
            .filter(|(key, _)| is_tool_annotation(key))
            .map(|(key, value)| {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                (Box::from(key.as_str()), value.into_boxed_str())
            })
            .collect();
        WorkloadFacts {
            kind,
            namespace: namespace.into(),
            name: workload::name_of(object).into(),
            uid: text("/metadata/uid"),
            annotations,
            selector: object
                .pointer("/spec/selector")
                .map(|it| it.to_string().into_boxed_str()),
            containers: workload::containers(object, kind).into_boxed_slice(),
            migration_copy: kind.is_migration_template() && workload::is_migration_copy(object),
            marks: Marks::of_object(object),
        }
    }

    /// The value of one of the tool's annotations.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(it, _)| &**it == key)
            .map(|(_, value)| &**value)
    }

    /// The object's identity as reports show it.
    pub fn id(&self) -> ObjectId {
        ObjectId {
            namespace: self.namespace.to_string(),
            kind: self.kind,
            name: self.name.to_string(),
        }
    }

    /// The pod selector, for finding the workload's pods; `None` when it has none or it does not
    /// read as a label selector.
    pub fn selector(&self) -> Option<Selector> {
        let selector: LabelSelector = serde_json::from_str(self.selector.as_deref()?).ok()?;
        Selector::try_from(selector).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::workload::ContainerList;

    #[test]
    fn whole_objects_give_the_same_facts_as_pages() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u1", "labels": {"a": "b"},
                "annotations": {"kubectl-update.io/classifier": "stable", "note": "x",
                    "xcnt.io/update-classifier": "canary"}},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [{"name": "app", "image": "acme/app:1", "args": ["x"]}]}}}});
        let facts = WorkloadFacts::of_object(&object, Kind::Deployment, "default");
        assert_eq!(&*facts.namespace, "default");
        assert_eq!(&*facts.name, "web");
        assert_eq!(facts.uid.as_deref(), Some("u1"));
        assert_eq!(
            facts.annotations,
            vec![
                ("kubectl-update.io/classifier".into(), "stable".into()),
                ("xcnt.io/update-classifier".into(), "canary".into())
            ]
            .into_boxed_slice()
        );
        assert_eq!(facts.annotation("note"), None);
        assert_eq!(facts.containers.len(), 2);
        assert_eq!(facts.containers[0].list, ContainerList::InitContainers);
        assert_eq!(&*facts.containers[1].image, "acme/app:1");
        assert_eq!(
            facts.selector().map(|it| it.to_string()).as_deref(),
            Some("app=web")
        );
    }

    #[test]
    fn missing_fields_are_empty() {
        let facts = WorkloadFacts::of_object(&json!({"metadata": {}}), Kind::CronJob, "shop");
        assert_eq!(&*facts.namespace, "shop");
        assert_eq!(&*facts.name, "");
        assert_eq!(facts.uid, None);
        assert!(facts.annotations.is_empty() && facts.containers.is_empty());
        assert!(facts.selector.is_none() && facts.selector().is_none());
    }
}
