//! Decoding list pages into only what planning reads: a workload's name, namespace, uid, the
//! tool's own annotations, its pod selector and each container's name and image. Everything else
//! in the response is skipped while parsing, never held. Job templates are kept whole: a migration
//! copies them. Pure; never does IO.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use crate::workload::Kind;

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

/// The items of a list page of `kind`, as the JSON objects planning reads.
pub fn items(body: &str, kind: Kind) -> serde_json::Result<Vec<Value>> {
    #[derive(Deserialize)]
    struct Page<T> {
        #[serde(default = "Vec::new")]
        items: Vec<T>,
    }
    if kind.is_migration_template() {
        let page: Page<Value> = serde_json::from_str(body)?;
        return Ok(page.items);
    }
    let page: Page<Workload> = serde_json::from_str(body)?;
    Ok(page
        .items
        .into_iter()
        .map(|it| it.into_value(kind))
        .collect())
}

#[derive(Deserialize)]
struct Workload {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
}

#[derive(Deserialize, Default)]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct Spec {
    selector: Option<Value>,
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
    containers: Option<Vec<Container>>,
    #[serde(rename = "initContainers")]
    init_containers: Option<Vec<Container>>,
}

#[derive(Deserialize)]
struct Container {
    name: Option<String>,
    image: Option<String>,
}

impl Workload {
    fn into_value(self, kind: Kind) -> Value {
        let mut metadata = Map::new();
        for (key, value) in [
            ("name", self.metadata.name),
            ("namespace", self.metadata.namespace),
            ("uid", self.metadata.uid),
        ] {
            if let Some(value) = value {
                metadata.insert(key.to_owned(), Value::from(value));
            }
        }
        // Only the tool's own annotations are read: the classifier lists and the recorded images.
        let annotations: Map<String, Value> = self
            .metadata
            .annotations
            .into_iter()
            .filter(|(key, _)| key.starts_with("kubectl-update.io/") || key.starts_with("xcnt.io/"))
            .map(|(key, value)| (key, Value::from(value)))
            .collect();
        if !annotations.is_empty() {
            metadata.insert("annotations".to_owned(), Value::Object(annotations));
        }
        let template = match kind {
            Kind::CronJob => self.spec.job_template.and_then(|it| it.spec.template),
            _ => self.spec.template,
        };
        let mut pod_spec = Map::new();
        if let Some(template) = template {
            for (field, list) in [
                ("initContainers", template.spec.init_containers),
                ("containers", template.spec.containers),
            ] {
                let Some(list) = list else { continue };
                let list: Vec<Value> = list
                    .into_iter()
                    .map(|container| {
                        let mut it = Map::new();
                        if let Some(name) = container.name {
                            it.insert("name".to_owned(), Value::from(name));
                        }
                        if let Some(image) = container.image {
                            it.insert("image".to_owned(), Value::from(image));
                        }
                        Value::Object(it)
                    })
                    .collect();
                pod_spec.insert(field.to_owned(), Value::Array(list));
            }
        }
        let template = serde_json::json!({"spec": Value::Object(pod_spec)});
        let mut spec = Map::new();
        if let Some(selector) = self.spec.selector {
            spec.insert("selector".to_owned(), selector);
        }
        match kind {
            Kind::CronJob => {
                spec.insert(
                    "jobTemplate".to_owned(),
                    serde_json::json!({"spec": {"template": template}}),
                );
            }
            _ => {
                spec.insert("template".to_owned(), template);
            }
        }
        serde_json::json!({
            "apiVersion": kind.api_version(),
            "kind": kind.as_str(),
            "metadata": Value::Object(metadata),
            "spec": Value::Object(spec),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_what_planning_reads_and_nothing_else() {
        let body = json!({"kind": "CronJobList", "metadata": {"continue": "abc"}, "items": [
            {"metadata": {"name": "nightly", "namespace": "shop", "uid": "u1", "labels": {"a": "b"},
              "annotations": {"kubectl-update.io/classifier": "stable", "big": "x"}},
             "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "busybox:1.36", "args": ["x"]}]}}}}}}]})
        .to_string();
        assert_eq!(continue_token(&body).unwrap().as_deref(), Some("abc"));
        assert_eq!(
            items(&body, Kind::CronJob).unwrap(),
            vec![json!({"apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": {"name": "nightly", "namespace": "shop", "uid": "u1",
                    "annotations": {"kubectl-update.io/classifier": "stable"}},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                    "containers": [{"name": "app", "image": "busybox:1.36"}]}}}}}})]
        );
        assert_eq!(continue_token(r#"{"items": []}"#).unwrap(), None);
    }
}
