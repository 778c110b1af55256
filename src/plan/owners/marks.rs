//! What a workload says about its other owners, as `WorkloadFacts` keeps it: the few labels and
//! annotations that name a GitOps tool or a Helm release, and, from `metadata.managedFields`, only
//! the managers that may own a container's `image` field (`may_own`). The decoders here read list
//! pages and whole objects alike and skip everything else while parsing; `managedFields` is never
//! held whole.
//! Pure: never does I/O.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::plan::patch::FIELD_MANAGER;
use crate::plan::workload::ContainerList;

/// Labels that name an owner.
pub const OWNER_LABELS: [&str; 7] = [
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
    "argocd.argoproj.io/instance",
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
    "helm.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/namespace",
];

/// Annotations that name an owner.
pub const OWNER_ANNOTATIONS: [&str; 3] = [
    "argocd.argoproj.io/tracking-id",
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
];

/// Whether detection reads this label.
pub fn is_owner_label(key: &str) -> bool {
    OWNER_LABELS.contains(&key)
}

/// Whether detection reads this annotation.
pub fn is_owner_annotation(key: &str) -> bool {
    OWNER_ANNOTATIONS.contains(&key)
}

/// Key-value pairs kept from a label or annotation map.
pub type Pairs = Box<[(Box<str>, Box<str>)]>;

/// Whether a field manager can be another owner (`owners::owners` decides): a server-side apply
/// manager, or a GitOps tool or Helm by name, never kubectl-update itself. Other `Update` writers
/// (`kubectl-client-side-apply`, `kubectl-edit`, controllers' status) are not kept at all.
pub fn may_own(manager: &str, apply: bool) -> bool {
    manager != FIELD_MANAGER
        && (apply
            || manager.starts_with("argocd")
            || matches!(manager, "kustomize-controller" | "helm-controller" | "helm"))
}

/// A field manager that owns the image field of some containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManager {
    pub manager: Box<str>,
    /// `operation: Apply` (server-side apply) rather than `Update`.
    pub apply: bool,
    /// The containers (by list and name) whose `image` it owns.
    pub containers: Box<[(ContainerList, Box<str>)]>,
}

/// The marks of other owners on one workload (all empty for most workloads).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marks {
    /// Only `OWNER_LABELS`, in the order found.
    pub labels: Pairs,
    /// Only `OWNER_ANNOTATIONS`, in the order found.
    pub annotations: Pairs,
    /// Only managedFields entries owning a container's image.
    pub image_managers: Box<[ImageManager]>,
}

impl Marks {
    /// The marks of a whole object (offline manifests, Jobs).
    pub fn of_object(object: &Value) -> Marks {
        let pairs = |pointer: &str, keep: fn(&str) -> bool| -> Pairs {
            object
                .pointer(pointer)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(key, _)| keep(key))
                .filter_map(|(key, value)| Some((key.as_str().into(), value.as_str()?.into())))
                .collect()
        };
        let image_managers = object
            .pointer("/metadata/managedFields")
            .map(|it| {
                ImageManagers::deserialize(it)
                    .map(|it| it.0)
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        Marks {
            labels: pairs("/metadata/labels", is_owner_label),
            annotations: pairs("/metadata/annotations", is_owner_annotation),
            image_managers,
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        find(&self.labels, key)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        find(&self.annotations, key)
    }
}

fn find<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(it, _)| &**it == key)
        .map(|(_, value)| &**value)
}

/// The entries kept from a string map, per bucket.
pub type Buckets<const N: usize> = [Vec<(Box<str>, Box<str>)>; N];

/// A string map read into buckets: `sort` says which bucket keeps an entry (`None`: read past).
/// A null map is empty. Used for labels and annotations of list pages.
pub fn sorted_entries<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
    sort: fn(&str) -> Option<usize>,
) -> Result<Buckets<N>, D::Error> {
    struct Visit<const N: usize>(fn(&str) -> Option<usize>);
    impl<'de, const N: usize> Visitor<'de> for Visit<N> {
        type Value = Buckets<N>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(std::array::from_fn(|_| Vec::new()))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut res: Self::Value = std::array::from_fn(|_| Vec::new());
            while let Some(Key(key)) = map.next_key()? {
                match (self.0)(&key).filter(|it| *it < N) {
                    Some(bucket) => {
                        let value: String = map.next_value()?;
                        res[bucket].push((Box::from(&*key), value.into_boxed_str()));
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(res)
        }
    }
    deserializer.deserialize_any(Visit::<N>(sort))
}

/// A map key, borrowed from the input unless it has escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// `metadata.managedFields`, read down to the managers owning image fields (`null`: none).
#[derive(Default)]
pub struct ImageManagers(pub Box<[ImageManager]>);

impl<'de> Deserialize<'de> for ImageManagers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = ImageManagers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of managed fields entries")
            }
            fn visit_unit<E>(self) -> Result<ImageManagers, E> {
                Ok(ImageManagers::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ImageManagers, A::Error> {
                let mut res = Vec::new();
                while let Some(entry) = seq.next_element::<Entry>()? {
                    let manager = entry.manager.unwrap_or_default();
                    let apply = entry.operation.as_deref() == Some("Apply");
                    if !may_own(&manager, apply) {
                        continue;
                    }
                    let containers = entry.fields.map(Root::image_owners).unwrap_or_default();
                    if !containers.is_empty() {
                        res.push(ImageManager {
                            manager: manager.into_boxed_str(),
                            apply,
                            containers: containers.into_boxed_slice(),
                        });
                    }
                }
                Ok(ImageManagers(res.into_boxed_slice()))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

#[derive(Deserialize)]
struct Entry {
    manager: Option<String>,
    operation: Option<String>,
    #[serde(rename = "fieldsV1")]
    fields: Option<Root>,
}

#[derive(Deserialize)]
struct Root {
    #[serde(rename = "f:spec")]
    spec: Option<WorkloadSpec>,
}

#[derive(Deserialize)]
struct WorkloadSpec {
    #[serde(rename = "f:template")]
    template: Option<Template>,
    #[serde(rename = "f:jobTemplate")]
    job_template: Option<JobTemplate>,
}

#[derive(Deserialize)]
struct JobTemplate {
    #[serde(rename = "f:spec")]
    spec: Option<JobSpec>,
}

#[derive(Deserialize)]
struct JobSpec {
    #[serde(rename = "f:template")]
    template: Option<Template>,
}

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "f:spec")]
    spec: Option<PodSpec>,
}

#[derive(Deserialize)]
struct PodSpec {
    #[serde(rename = "f:initContainers")]
    init_containers: Option<ImageOwned>,
    #[serde(rename = "f:containers")]
    containers: Option<ImageOwned>,
}

/// The names of the `k:{"name":…}` items of a container list that own `f:image`.
#[derive(Default)]
struct ImageOwned(Vec<Box<str>>);

#[derive(Deserialize)]
struct ContainerFields {
    #[serde(rename = "f:image")]
    image: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct NameKey {
    name: String,
}

impl<'de> Deserialize<'de> for ImageOwned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = ImageOwned;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a FieldsV1 set")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ImageOwned, A::Error> {
                let mut res = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    let Some(item) = key.strip_prefix("k:") else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    let fields: ContainerFields = map.next_value()?;
                    if fields.image.is_some()
                        && let Ok(named) = serde_json::from_str::<NameKey>(item)
                    {
                        res.push(named.name.into_boxed_str());
                    }
                }
                Ok(ImageOwned(res))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

impl Root {
    fn image_owners(self) -> Vec<(ContainerList, Box<str>)> {
        let Some(spec) = self.spec else {
            return Vec::new();
        };
        let template = spec
            .template
            .or_else(|| spec.job_template.and_then(|it| it.spec?.template));
        let Some(pod) = template.and_then(|it| it.spec) else {
            return Vec::new();
        };
        let mut res = Vec::new();
        for (list, owned) in [
            (ContainerList::InitContainers, pod.init_containers),
            (ContainerList::Containers, pod.containers),
        ] {
            res.extend(owned.unwrap_or_default().0.into_iter().map(|it| (list, it)));
        }
        res
    }
}

/// The owner marks of a list page's `metadata.labels`.
pub fn owner_labels<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Pairs, D::Error> {
    let [labels] = sorted_entries::<D, 1>(deserializer, |key| is_owner_label(key).then_some(0))?;
    Ok(labels.into_boxed_slice())
}

/// Reads managedFields for `ImageManagers` without a derive on the caller's side.
pub fn image_managers<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Box<[ImageManager]>, D::Error> {
    Ok(ImageManagers::deserialize(deserializer)?.0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_only_the_managers_of_image_fields() {
        let object = json!({"metadata": {
            "labels": {"app.kubernetes.io/managed-by": "Helm", "app": "web"},
            "annotations": {"meta.helm.sh/release-name": "web", "other": "x"},
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "operation": "Update",
                 "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}, "f:spec": {"f:replicas": {}}}},
                {"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {"f:spec": {
                    "f:template": {"f:spec": {
                        "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}},
                                         "k:{\"name\":\"proxy\"}": {"f:args": {}}},
                        "f:initContainers": {"k:{\"name\":\"wait\"}": {"f:image": {}}}}}}}},
                {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:spec": {
                    "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:image": {}}}}}}}},
                {"manager": "helm", "operation": "Update", "fieldsV1": {"f:spec": {
                    "f:jobTemplate": {"f:spec": {"f:template": {"f:spec": {
                        "f:containers": {"k:{\"name\":\"job\"}": {"f:image": {}}}}}}}}}}]}});
        let marks = Marks::of_object(&object);
        assert_eq!(marks.label("app.kubernetes.io/managed-by"), Some("Helm"));
        assert_eq!(marks.labels.len(), 1);
        assert_eq!(marks.annotation("meta.helm.sh/release-name"), Some("web"));
        assert_eq!(marks.annotations.len(), 1);
        assert_eq!(
            marks.image_managers,
            vec![
                ImageManager {
                    manager: "argocd-controller".into(),
                    apply: true,
                    containers: vec![
                        (ContainerList::InitContainers, "wait".into()),
                        (ContainerList::Containers, "app".into())
                    ]
                    .into_boxed_slice(),
                },
                ImageManager {
                    manager: "helm".into(),
                    apply: false,
                    containers: vec![(ContainerList::Containers, "job".into())].into_boxed_slice(),
                }
            ]
            .into_boxed_slice()
        );
    }

    #[test]
    fn odd_shapes_are_no_marks() {
        assert_eq!(Marks::of_object(&json!({})), Marks::default());
        let odd = json!({"metadata": {"labels": null, "managedFields": [{"manager": "x"},
            {"fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"bad\"": {"f:image": {}}, "v:1": {}}}}}}}]}});
        assert_eq!(Marks::of_object(&odd), Marks::default());
    }
}
