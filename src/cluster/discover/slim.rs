//! Decoding list pages into only what planning reads: a workload's name, namespace, uid, the
//! tool's own annotations, its pod selector, each container's name and image, and the marks of
//! other owners (a few labels and annotations, the managers of image fields: `owners::marks`). Everything else
//! in the response is skipped while parsing, never held. Job templates are kept whole: a migration
//! copies them. Pure; never does IO.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Found, Whole};
use crate::plan::facts::{WorkloadFacts, is_tool_annotation};
use crate::plan::owners::{Marks, marks};
use crate::plan::workload::{Container, ContainerList, Kind};

/// The continue token of a list page (`None` on the last page), without decoding the items.
pub fn continue_token(body: &str) -> serde_json::Result<Option<String>> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        metadata: ListMeta,
        #[serde(default)]
        #[allow(dead_code)]
        items: IgnoredAny,
    }
    #[derive(Deserialize, Default)]
    struct ListMeta {
        #[serde(rename = "continue")]
        continue_: Option<String>,
    }
    let head: Head = serde_json::from_str(body)?;
    Ok(head.metadata.continue_.filter(|it| !it.is_empty()))
}

/// The items of a list page of `kind`, as the facts planning reads (Jobs also whole: a migration
/// copies them). `namespace` is the namespace listed, for items that name none.
pub fn items(body: &str, kind: Kind, namespace: Option<&str>) -> serde_json::Result<Vec<Found>> {
    if kind.is_migration_template() {
        return Ok(whole(body, kind, namespace)?
            .into_iter()
            .map(|it| Found {
                facts: WorkloadFacts::of_object(&it.object, kind, &it.namespace),
                object: Some(it.object),
            })
            .collect());
    }
    let page: Page<Workload> = serde_json::from_str(body)?;
    Ok(page
        .items
        .into_iter()
        .map(|it| Found {
            facts: it.into_facts(kind, namespace),
            object: None,
        })
        .collect())
}

/// The items of a list page of `kind` as whole objects, with their `apiVersion` and `kind` set
/// (list items carry neither).
pub fn whole(body: &str, kind: Kind, namespace: Option<&str>) -> serde_json::Result<Vec<Whole>> {
    let page: Page<Value> = serde_json::from_str(body)?;
    Ok(page
        .items
        .into_iter()
        .map(|mut object| {
            let namespace = crate::plan::workload::namespace_of(&object)
                .or(namespace)
                .unwrap_or_default()
                .to_owned();
            object["apiVersion"] = Value::from(kind.api_version());
            object["kind"] = Value::from(kind.as_str());
            Whole {
                namespace,
                kind,
                object,
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Workload<'a> {
    #[serde(default)]
    metadata: Meta,
    #[serde(default, borrow)]
    spec: Spec<'a>,
}

#[derive(Deserialize, Default)]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    #[serde(default)]
    annotations: Annotations,
    #[serde(default, deserialize_with = "marks::owner_labels")]
    labels: marks::Pairs,
    #[serde(
        default,
        rename = "managedFields",
        deserialize_with = "marks::image_managers"
    )]
    managed_fields: Box<[marks::ImageManager]>,
}

#[derive(Deserialize, Default)]
struct Spec<'a> {
    #[serde(borrow)]
    selector: Option<&'a RawValue>,
    template: Option<Template>,
    #[serde(rename = "jobTemplate")]
    job_template: Option<JobTemplate>,
}

#[derive(Deserialize, Default)]
struct JobTemplate {
    #[serde(default)]
    spec: JobSpec,
}

#[derive(Deserialize, Default)]
struct JobSpec {
    template: Option<Template>,
}

#[derive(Deserialize, Default)]
struct Template {
    #[serde(default)]
    spec: PodSpec,
}

#[derive(Deserialize, Default)]
struct PodSpec {
    containers: Option<Vec<NamedImage>>,
    #[serde(rename = "initContainers")]
    init_containers: Option<Vec<NamedImage>>,
}

#[derive(Deserialize)]
struct NamedImage {
    name: Option<String>,
    image: Option<String>,
}

/// The tool's own annotations (`facts::is_tool_annotation`) and those naming another owner
/// (`marks::is_owner_annotation`); the others are read past.
#[derive(Default)]
struct Annotations {
    tool: Vec<(Box<str>, Box<str>)>,
    owner: Vec<(Box<str>, Box<str>)>,
}

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let [tool, owner] = marks::sorted_entries::<D, 2>(deserializer, |key| {
            if is_tool_annotation(key) {
                Some(0)
            } else {
                marks::is_owner_annotation(key).then_some(1)
            }
        })?;
        Ok(Annotations { tool, owner })
    }
}

impl Workload<'_> {
    fn into_facts(self, kind: Kind, namespace: Option<&str>) -> WorkloadFacts {
        let template = match kind {
            Kind::CronJob => self.spec.job_template.and_then(|it| it.spec.template),
            _ => self.spec.template,
        };
        let mut containers = Vec::new();
        if let Some(template) = template {
            for (list, items) in [
                (ContainerList::InitContainers, template.spec.init_containers),
                (ContainerList::Containers, template.spec.containers),
            ] {
                for (index, item) in items.into_iter().flatten().enumerate() {
                    containers.push(Container {
                        list,
                        index,
                        name: item.name.unwrap_or_default(),
                        image: item.image.unwrap_or_default(),
                    });
                }
            }
        }
        let namespace = self
            .metadata
            .namespace
            .as_deref()
            .filter(|it| !it.is_empty())
            .or(namespace)
            .unwrap_or_default();
        WorkloadFacts {
            kind,
            namespace: namespace.into(),
            name: self.metadata.name.unwrap_or_default().into_boxed_str(),
            uid: self.metadata.uid.map(String::into_boxed_str),
            annotations: self.metadata.annotations.tool.into_boxed_slice(),
            selector: self.spec.selector.map(|it| Box::from(it.get())),
            containers: containers.into_boxed_slice(),
            // Jobs are kept whole (`of_object`); the kinds decoded here are never copies.
            migration_copy: false,
            marks: Marks {
                labels: self.metadata.labels,
                annotations: self.metadata.annotations.owner.into_boxed_slice(),
                image_managers: self.metadata.managed_fields,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn facts(body: &Value, kind: Kind, namespace: Option<&str>) -> Vec<WorkloadFacts> {
        items(&body.to_string(), kind, namespace)
            .unwrap()
            .into_iter()
            .map(|it| {
                assert_eq!(it.object.is_some(), kind.is_migration_template());
                it.facts
            })
            .collect()
    }

    #[test]
    fn keeps_what_planning_reads_and_nothing_else() {
        let body = json!({"kind": "CronJobList", "metadata": {"continue": "abc"}, "items": [
            {"metadata": {"name": "nightly", "namespace": "shop", "uid": "u1", "labels": {"a": "b"},
              "annotations": {"kubectl-update.io/classifier": "stable", "big": "x"}},
             "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "busybox:1.36", "args": ["x"]}]}}}}}}]});
        assert_eq!(
            continue_token(&body.to_string()).unwrap().as_deref(),
            Some("abc")
        );
        let object = json!({"metadata": {"name": "nightly", "uid": "u1",
            "annotations": {"kubectl-update.io/classifier": "stable"}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "busybox:1.36"}]}}}}}});
        assert_eq!(
            facts(&body, Kind::CronJob, None),
            vec![WorkloadFacts::of_object(&object, Kind::CronJob, "shop")]
        );
        assert_eq!(continue_token(r#"{"items": []}"#).unwrap(), None);
    }

    #[test]
    fn pages_decode_to_the_facts_of_whole_objects() {
        let objects = json!([
            {"metadata": {"name": "web", "namespace": "shop", "uid": "u2", "labels": {"x": "y"},
                "annotations": {"xcnt.io/update-classifier": "canary", "kubectl-update.io/previous":
                    "{\"a\":1}", "deployment.kubernetes.io/revision": "3"},
                "managedFields": [{"manager": "kubectl"}]},
             "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "initContainers": [{"name": "init", "image": "busybox"}],
                    "containers": [{"name": "app", "image": "acme/app:1", "env": []},
                        {"image": "envoy"}]}}},
             "status": {"replicas": 3}},
            {"metadata": {"name": "bare"}, "spec": {}},
            {"metadata": {"name": "null-annotations", "annotations": null}},
        ]);
        let body = json!({"kind": "DeploymentList", "items": objects});
        let found = facts(&body, Kind::Deployment, Some("listed"));
        let expected: Vec<WorkloadFacts> = objects
            .as_array()
            .unwrap()
            .iter()
            .zip(["shop", "listed", "listed"])
            .map(|(it, namespace)| WorkloadFacts::of_object(it, Kind::Deployment, namespace))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(found[0].annotations.len(), 2);
        assert_eq!(
            found[0].annotation("kubectl-update.io/previous"),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(found[0].containers.len(), 3);
        assert_eq!(
            (
                &*found[0].containers[2].name,
                &*found[0].containers[2].image
            ),
            ("", "envoy")
        );
        assert_eq!(
            found[0].selector.as_deref(),
            Some(r#"{"matchLabels":{"app":"web"}}"#)
        );
        assert!(found[1].containers.is_empty() && found[1].selector.is_none());
        assert_eq!(&*found[2].name, "null-annotations");
        // A Job stays whole (a migration copies it), with its apiVersion and kind.
        let jobs = json!({"items": [{"metadata": {"name": "schema", "namespace": "shop"},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "acme/app:1"}]}}}}]});
        let found = items(&jobs.to_string(), Kind::Job, None).unwrap();
        let object = found[0].object.as_ref().unwrap();
        assert_eq!(
            (object["apiVersion"].as_str(), object["kind"].as_str()),
            (Some("batch/v1"), Some("Job"))
        );
        assert_eq!(
            found[0].facts,
            WorkloadFacts::of_object(object, Kind::Job, "shop")
        );
    }

    #[test]
    fn owner_marks_decode_as_from_whole_objects() {
        let object = json!({"metadata": {"name": "web", "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "Helm", "app": "web"},
            "annotations": {"meta.helm.sh/release-name": "web", "kubectl-update.io/classifier": "stable"},
            "managedFields": [{"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {
                "f:metadata": {"f:labels": {}}, "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
                    "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}}}}}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
                 "fieldsV1": {"f:status": {"f:replicas": {}}}}]},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}}}});
        let body = json!({"items": [object.clone()]});
        let found = facts(&body, Kind::Deployment, None);
        assert_eq!(
            found,
            vec![WorkloadFacts::of_object(&object, Kind::Deployment, "shop")]
        );
        assert_eq!(found[0].marks.labels.len(), 1);
        assert_eq!(found[0].marks.annotations.len(), 1);
        assert_eq!(found[0].annotations.len(), 1);
        assert_eq!(
            &*found[0].marks.image_managers[0].manager,
            "argocd-controller"
        );
    }

    #[test]
    fn missing_and_unknown_fields_are_read_past() {
        let body = json!({"apiVersion": "apps/v1", "items": [{"unknown": {"deep": [1, 2]},
            "metadata": {"annotations": {"other.io/x": "y"}}}], "extra": true});
        let found = facts(&body, Kind::StatefulSet, None);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                &*found[0].namespace,
                &*found[0].name,
                found[0].uid.as_deref()
            ),
            ("", "", None)
        );
        assert!(found[0].annotations.is_empty() && found[0].containers.is_empty());
        assert!(facts(&json!({"kind": "DaemonSetList"}), Kind::DaemonSet, None).is_empty());
        assert!(
            items(
                r#"{"items": [{"metadata": {"name": 5}}]}"#,
                Kind::Deployment,
                None
            )
            .is_err()
        );
    }
}
