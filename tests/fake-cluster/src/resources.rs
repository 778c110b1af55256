//! The static table of served resources: group, version, names, scope, verbs, subresources and
//! the registry traits (status subresource, generation rule) that the storage layer consults. Data
//! and lookups only: never stores objects.

/// Every verb of an ordinary stored resource.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE_ONLY: &[&str] = &["create"];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

/// When `metadata.generation` moves on a main-resource write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// No `generation` field at all (ConfigMaps, Pods in 1.32, ...).
    None,
    /// Starts at 1 and bumps when `spec` changes.
    Spec,
    /// Starts at 1 and bumps when `spec` or `metadata.annotations` change (Deployments).
    SpecOrAnnotations,
    /// Starts at 1 and bumps on any change outside metadata and status.
    NonMetadata,
}

/// A subresource listed in discovery.
#[derive(Debug)]
pub struct SubresourceDef {
    pub name: &'static str,
    pub kind: &'static str,
    /// Set when the subresource answers with another group's kind (Scale, TokenRequest).
    pub group: Option<&'static str>,
    pub version: Option<&'static str>,
    pub verbs: &'static [&'static str],
}

/// One served resource.
#[derive(Debug)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [SubresourceDef],
    pub generation: Generation,
    /// Not stored: a review-style resource answered on create.
    pub virtual_only: bool,
    /// DELETE answers with the object (Pods, Services, Namespaces) rather than a Status.
    pub delete_returns_object: bool,
}

impl ResourceDef {
    /// `deployments.apps`, or `pods` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn has_status(&self) -> bool {
        self.subresources.iter().any(|s| s.name == "status")
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }
}

const fn status(kind: &'static str) -> SubresourceDef {
    SubresourceDef {
        name: "status",
        kind,
        group: None,
        version: None,
        verbs: STATUS_VERBS,
    }
}

const fn scale() -> SubresourceDef {
    SubresourceDef {
        name: "scale",
        kind: "Scale",
        group: Some("autoscaling"),
        version: Some("v1"),
        verbs: STATUS_VERBS,
    }
}

macro_rules! res {
    ($group:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr, short: $short:expr, cat: $cat:expr, subs: $subs:expr, gen: $gen:expr) => {
        ResourceDef {
            group: $group,
            version: "v1",
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            short_names: $short,
            categories: $cat,
            verbs: ALL_VERBS,
            subresources: $subs,
            generation: $gen,
            virtual_only: false,
            delete_returns_object: false,
        }
    };
}

macro_rules! review {
    ($group:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr) => {
        ResourceDef {
            group: $group,
            version: "v1",
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            short_names: &[],
            categories: &[],
            verbs: CREATE_ONLY,
            subresources: &[],
            generation: Generation::None,
            virtual_only: true,
            delete_returns_object: false,
        }
    };
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];

/// The served resources, in discovery order within each group.
pub static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        delete_returns_object: true,
        ..res!("", "namespaces", "namespace", "Namespace", false, short: &["ns"], cat: NONE,
            subs: &[status("Namespace"), SubresourceDef { name: "finalize", kind: "Namespace", group: None, version: None, verbs: &["update"] }],
            gen: Generation::None)
    },
    res!("", "nodes", "node", "Node", false, short: &["no"], cat: NONE, subs: &[status("Node")], gen: Generation::None),
    ResourceDef {
        delete_returns_object: true,
        ..res!("", "pods", "pod", "Pod", true, short: &["po"], cat: ALL,
            subs: &[
                status("Pod"),
                SubresourceDef { name: "log", kind: "Pod", group: None, version: None, verbs: &["get"] },
                SubresourceDef { name: "ephemeralcontainers", kind: "Pod", group: None, version: None, verbs: STATUS_VERBS },
                // Authorized like the real server's, then refused: no containers run here.
                SubresourceDef { name: "exec", kind: "PodExecOptions", group: None, version: None, verbs: &["create", "get"] },
                SubresourceDef { name: "attach", kind: "PodAttachOptions", group: None, version: None, verbs: &["create", "get"] },
                SubresourceDef { name: "portforward", kind: "PodPortForwardOptions", group: None, version: None, verbs: &["create", "get"] },
            ],
            gen: Generation::None)
    },
    res!("", "events", "event", "Event", true, short: &["ev"], cat: NONE, subs: &[], gen: Generation::None),
    res!("", "serviceaccounts", "serviceaccount", "ServiceAccount", true, short: &["sa"], cat: NONE,
        subs: &[SubresourceDef { name: "token", kind: "TokenRequest", group: Some("authentication.k8s.io"), version: Some("v1"), verbs: CREATE_ONLY }],
        gen: Generation::None),
    res!("", "configmaps", "configmap", "ConfigMap", true, short: &["cm"], cat: NONE, subs: &[], gen: Generation::None),
    res!("", "secrets", "secret", "Secret", true, short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    ResourceDef {
        delete_returns_object: true,
        ..res!("", "services", "service", "Service", true, short: &["svc"], cat: ALL, subs: &[status("Service")], gen: Generation::None)
    },
    res!("apps", "deployments", "deployment", "Deployment", true, short: &["deploy"], cat: ALL,
        subs: &[status("Deployment"), scale()], gen: Generation::SpecOrAnnotations),
    res!("apps", "statefulsets", "statefulset", "StatefulSet", true, short: &["sts"], cat: ALL,
        subs: &[status("StatefulSet"), scale()], gen: Generation::Spec),
    res!("apps", "daemonsets", "daemonset", "DaemonSet", true, short: &["ds"], cat: ALL,
        subs: &[status("DaemonSet")], gen: Generation::Spec),
    res!("apps", "replicasets", "replicaset", "ReplicaSet", true, short: &["rs"], cat: ALL,
        subs: &[status("ReplicaSet"), scale()], gen: Generation::Spec),
    res!("apps", "controllerrevisions", "controllerrevision", "ControllerRevision", true, short: NONE, cat: NONE,
        subs: &[], gen: Generation::None),
    res!("batch", "jobs", "job", "Job", true, short: NONE, cat: ALL, subs: &[status("Job")], gen: Generation::Spec),
    res!("batch", "cronjobs", "cronjob", "CronJob", true, short: &["cj"], cat: ALL, subs: &[status("CronJob")], gen: Generation::Spec),
    res!("coordination.k8s.io", "leases", "lease", "Lease", true, short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    res!("rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false,
        short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    res!("rbac.authorization.k8s.io", "clusterroles", "clusterrole", "ClusterRole", false,
        short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    res!("rbac.authorization.k8s.io", "rolebindings", "rolebinding", "RoleBinding", true,
        short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    res!("rbac.authorization.k8s.io", "roles", "role", "Role", true, short: NONE, cat: NONE, subs: &[], gen: Generation::None),
    review!(
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        "LocalSubjectAccessReview",
        true
    ),
    review!(
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        false
    ),
    review!(
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        "SelfSubjectRulesReview",
        false
    ),
    review!(
        "authorization.k8s.io",
        "subjectaccessreviews",
        "subjectaccessreview",
        "SubjectAccessReview",
        false
    ),
    review!(
        "authentication.k8s.io",
        "selfsubjectreviews",
        "selfsubjectreview",
        "SelfSubjectReview",
        false
    ),
    review!(
        "authentication.k8s.io",
        "tokenreviews",
        "tokenreview",
        "TokenReview",
        false
    ),
    res!("admissionregistration.k8s.io", "validatingadmissionpolicies", "validatingadmissionpolicy",
        "ValidatingAdmissionPolicy", false, short: NONE, cat: &["api-extensions"],
        subs: &[status("ValidatingAdmissionPolicy")], gen: Generation::NonMetadata),
    res!("admissionregistration.k8s.io", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding",
        "ValidatingAdmissionPolicyBinding", false, short: NONE, cat: &["api-extensions"],
        subs: &[], gen: Generation::NonMetadata),
];

/// The served API groups, in `/apis` order (core excluded).
pub const GROUPS: &[&str] = &[
    "apps",
    "batch",
    "coordination.k8s.io",
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "admissionregistration.k8s.io",
];

pub fn by_plural(plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|r| r.plural == plural)
}

pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource for an `apiVersion` + `kind` pair (as found in manifests).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

pub fn in_group_version(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceDef> {
    let group = group.to_string();
    let version = version.to_string();
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_are_unique() {
        for r in RESOURCES {
            assert_eq!(
                RESOURCES.iter().filter(|o| o.plural == r.plural).count(),
                1,
                "{}",
                r.plural
            );
        }
        assert_eq!(
            by_kind("apps/v1", "Deployment").unwrap().plural,
            "deployments"
        );
        assert_eq!(by_plural("jobs").unwrap().qualified(), "jobs.batch");
    }
}
