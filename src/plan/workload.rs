//! The kinds kubectl-update knows and where their containers live.
//!
//! Objects are handled as JSON so that offline manifests and live objects go through the same code
//! and so that nothing but the image fields is ever touched. A typed k8s-openapi decode is used
//! only to check that a manifest is well formed.

use std::fmt;

use serde_json::Value;

/// A workload kind that is updated in place, or a Job, which is a migration template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
}

/// Which container list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerList {
    Containers,
    InitContainers,
}

/// A container of a workload's pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub list: ContainerList,
    pub index: usize,
    pub name: String,
    pub image: String,
}

/// An object's identity as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub namespace: String,
    pub kind: Kind,
    pub name: String,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::CronJob,
        Kind::Job,
    ];

    /// Recognises a kind by its `kind` field. `Err` carries the expected apiVersion when the kind is
    /// one of ours but the apiVersion is not the one this tool speaks.
    pub fn recognise(api_version: &str, kind: &str) -> Option<Result<Kind, &'static str>> {
        let found = Kind::ALL.into_iter().find(|it| it.as_str() == kind)?;
        Some(if found.api_version() == api_version {
            Ok(found)
        } else {
            Err(found.api_version())
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::CronJob => "CronJob",
            Kind::Job => "Job",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => "apps/v1",
            Kind::CronJob | Kind::Job => "batch/v1",
        }
    }

    /// The plural resource name, as RBAC and URLs spell it.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::CronJob => "cronjobs",
            Kind::Job => "jobs",
        }
    }

    /// JSON pointer to the pod spec inside an object of this kind.
    pub fn pod_spec_pointer(self) -> &'static str {
        match self {
            Kind::CronJob => "/spec/jobTemplate/spec/template/spec",
            _ => "/spec/template/spec",
        }
    }

    /// Jobs are never changed: they are templates for migration runs.
    pub fn is_migration_template(self) -> bool {
        self == Kind::Job
    }

    /// Checks that a manifest of this kind decodes into the Kubernetes type, naming the field that
    /// does not.
    pub fn validate(self, object: &Value) -> Result<(), String> {
        fn decode<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
            serde_path_to_error::deserialize::<_, T>(object)
                .map(drop)
                .map_err(|err| {
                    let path = err.path().to_string();
                    let inner = err.into_inner().to_string();
                    if path == "." {
                        inner
                    } else {
                        format!("{path}: {inner}")
                    }
                })
        }
        use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch};
        match self {
            Kind::Deployment => decode::<apps::Deployment>(object),
            Kind::StatefulSet => decode::<apps::StatefulSet>(object),
            Kind::DaemonSet => decode::<apps::DaemonSet>(object),
            Kind::CronJob => decode::<batch::CronJob>(object),
            Kind::Job => decode::<batch::Job>(object),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ContainerList {
    pub fn field(self) -> &'static str {
        match self {
            ContainerList::Containers => "containers",
            ContainerList::InitContainers => "initContainers",
        }
    }
}

impl Container {
    /// JSON pointer to this container's `image`, relative to the object.
    pub fn image_pointer(&self, kind: Kind) -> String {
        format!(
            "{}/{}/{}/image",
            kind.pod_spec_pointer(),
            self.list.field(),
            self.index
        )
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} in namespace {}",
            self.kind.resource(),
            self.name,
            self.namespace
        )
    }
}

/// Every container and init container of an object's pod template, init containers first.
pub fn containers(object: &Value, kind: Kind) -> Vec<Container> {
    let Some(pod_spec) = object.pointer(kind.pod_spec_pointer()) else {
        return Vec::new();
    };
    let mut res = Vec::new();
    for list in [ContainerList::InitContainers, ContainerList::Containers] {
        let Some(items) = pod_spec.get(list.field()).and_then(Value::as_array) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            res.push(Container {
                list,
                index,
                name: item
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                image: item
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    res
}

pub fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub fn namespace_of(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|it| !it.is_empty())
}

/// The label on migration Jobs and their pods, naming the template.
pub const MIGRATION_OF: &str = "kubectl-update.io/migration-of";

/// A migration copy made by the tool (a Job labelled `kubectl-update.io/migration-of`): never a
/// template of its own, nor a near miss.
pub fn is_migration_copy(object: &Value) -> bool {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .is_some_and(|labels| labels.contains_key(MIGRATION_OF))
}

pub fn annotations_of(object: &Value) -> Option<&serde_json::Map<String, Value>> {
    object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cronjob_containers_live_in_the_job_template() {
        let cronjob = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "app", "image": "acme/app:1"}, {"name": "side", "image": "envoy"}],
        }}}}}});
        let found = containers(&cronjob, Kind::CronJob);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].list, ContainerList::InitContainers);
        assert_eq!(
            found[1].image_pointer(Kind::CronJob),
            "/spec/jobTemplate/spec/template/spec/containers/0/image"
        );
        assert_eq!(
            cronjob.pointer(&found[2].image_pointer(Kind::CronJob)),
            Some(&json!("envoy"))
        );
    }

    #[test]
    fn kinds_are_recognised_with_their_api_version() {
        assert_eq!(
            Kind::recognise("apps/v1", "Deployment"),
            Some(Ok(Kind::Deployment))
        );
        assert_eq!(
            Kind::recognise("extensions/v1beta1", "Deployment"),
            Some(Err("apps/v1"))
        );
        assert_eq!(
            Kind::recognise("batch/v1", "CronJob"),
            Some(Ok(Kind::CronJob))
        );
        assert_eq!(Kind::recognise("v1", "ConfigMap"), None);
    }

    #[test]
    fn validation_names_the_bad_field() {
        let bad = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "app", "image": 5}]}}}});
        let err = Kind::Deployment.validate(&bad).unwrap_err();
        assert!(
            err.starts_with("spec.template.spec.containers[0].image: invalid type: integer `5`"),
            "{err}"
        );
    }
}
