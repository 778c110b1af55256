//! The API calls kubectl-update makes, as one table, and what a plan needs from it per namespace.
//! The preflight (`preflight`) checks those needs before any write; the RBAC generator, and the
//! admission policy's list of the writes the token may make, read the same table, so none of them
//! can drift. Never contacts the cluster itself.

mod matching;
mod preflight;

pub use preflight::preflight;

use std::collections::BTreeSet;

use crate::plan::Plan;
use crate::plan::workload::{Kind, ObjectId};

/// One permission: a verb on a resource (with its API group and optional subresource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub verb: &'static str,
}

/// Why the tool makes a call; the steps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Listing the workload kinds and Job templates.
    Discover,
    /// Patching images (and rolling back).
    Patch,
    /// Watching rollouts: the workload by name, and its pods.
    Watch,
    /// Creating migration Jobs, following them and their pods' logs.
    Migrate,
    /// Deleting StatefulSet pods stuck on a failed revision, so a rollback can proceed.
    Unstick,
    /// Explaining a failed rollout: the failing pod's Warning Events and its last log lines.
    Diagnose,
    /// The audit trail: an Event on each workload changed (`ImageUpdated`, `RolledBack`,
    /// `MigrationFailed`).
    Audit,
    /// The per-namespace, per-classifier lock: a coordination.k8s.io Lease, created, read, renewed
    /// (or taken over) and deleted. `kubectl update status` reads it (get) to show the holder, and
    /// lists the workloads with the `Discover` rows: it needs no rule of its own.
    Lock,
}

/// One row of the call table: in `step`, these verbs on a resource.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub step: Step,
    /// `<workload>` rows stand for the kind being updated.
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub verbs: &'static [&'static str],
}

const fn row(
    step: Step,
    group: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    verbs: &'static [&'static str],
) -> Row {
    Row {
        step,
        group,
        resource,
        subresource,
        verbs,
    }
}

/// Every call the tool makes, by step. Kinds are filled in per plan.
pub const TABLE: &[Row] = &[
    row(Step::Discover, "apps", "deployments", None, &["list"]),
    row(Step::Discover, "apps", "statefulsets", None, &["list"]),
    row(Step::Discover, "apps", "daemonsets", None, &["list"]),
    row(Step::Discover, "batch", "cronjobs", None, &["list"]),
    row(Step::Discover, "batch", "jobs", None, &["list"]),
    row(Step::Patch, "<workload>", "<workload>", None, &["patch"]),
    row(
        Step::Watch,
        "<workload>",
        "<workload>",
        None,
        &["list", "watch"],
    ),
    row(Step::Unstick, "", "pods", None, &["delete"]),
    row(Step::Watch, "", "pods", None, &["list", "watch"]),
    row(
        Step::Migrate,
        "batch",
        "jobs",
        None,
        &["create", "get", "list", "watch", "delete"],
    ),
    row(Step::Migrate, "", "pods", None, &["list", "watch"]),
    row(Step::Migrate, "", "pods", Some("log"), &["get"]),
    row(Step::Diagnose, "", "events", None, &["list"]),
    row(Step::Diagnose, "", "pods", Some("log"), &["get"]),
    row(Step::Audit, "", "events", None, &["create"]),
    row(
        Step::Lock,
        "coordination.k8s.io",
        "leases",
        None,
        &["create", "get", "update", "delete"],
    ),
];

/// A permission in a namespace (`None`: cluster-wide).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Need {
    pub permission: Permission,
    pub namespace: Option<String>,
    /// The object the call names, when it names one (so Roles narrowed with `resourceNames` pass).
    pub name: Option<String>,
}

/// Verbs whose calls name one object.
pub(crate) const NAMED_VERBS: [&str; 5] = ["get", "patch", "update", "delete", "watch"];

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.permission;
        let mut resource = match p.subresource {
            Some(sub) => format!("{}/{sub}", p.resource),
            None => p.resource.to_owned(),
        };
        if let Some(name) = &self.name {
            resource = format!("{resource} {name:?}");
        }
        let group = if p.group.is_empty() {
            "core".to_owned()
        } else {
            p.group.to_owned()
        };
        match &self.namespace {
            Some(namespace) => write!(
                f,
                "{} {resource} (API group {group}) in namespace {namespace}",
                p.verb
            ),
            None => write!(f, "{} {resource} (API group {group}) cluster-wide", p.verb),
        }
    }
}

/// The permissions of `step` for workloads of `kind` (for the `<workload>` rows).
fn permissions(step: Step, kind: Option<Kind>) -> Vec<Permission> {
    let mut res = Vec::new();
    for row in TABLE.iter().filter(|row| row.step == step) {
        let (group, resource) = match (row.group, kind) {
            ("<workload>", Some(kind)) => {
                (crate::cluster::discover::group_of(kind), kind.resource())
            }
            ("<workload>", None) => continue,
            _ => (row.group, row.resource),
        };
        for verb in row.verbs {
            res.push(Permission {
                group,
                resource,
                subresource: row.subresource,
                verb,
            });
        }
    }
    res
}

/// What patching, watching, rolling back and recording the Events of one workload needs.
pub fn workload_needs(id: &ObjectId) -> Vec<Need> {
    let mut res = Vec::new();
    for step in [
        Step::Patch,
        Step::Watch,
        Step::Unstick,
        Step::Diagnose,
        Step::Audit,
    ] {
        let skip = match step {
            Step::Watch | Step::Diagnose => id.kind == Kind::CronJob,
            Step::Unstick => id.kind != Kind::StatefulSet,
            Step::Discover | Step::Patch | Step::Migrate | Step::Lock | Step::Audit => false,
        };
        if skip {
            continue;
        }
        for permission in permissions(step, Some(id.kind)) {
            let named = NAMED_VERBS.contains(&permission.verb)
                && permission.resource == id.kind.resource()
                && !id.name.is_empty();
            res.push(Need {
                permission,
                namespace: Some(id.namespace.clone()),
                name: named.then(|| id.name.clone()),
            });
        }
    }
    res
}

/// Every permission any run may need in one namespace: discovery, patching, watching and rolling
/// back each updatable kind, and every other step (migrations, the lock, ...). `kubectl update rbac`
/// grants exactly these.
pub fn every_permission() -> Vec<Permission> {
    let mut res: Vec<Permission> = permissions(Step::Discover, None);
    for kind in Kind::ALL
        .into_iter()
        .filter(|kind| !kind.is_migration_template())
    {
        let id = ObjectId {
            namespace: String::new(),
            kind,
            name: String::new(),
        };
        res.extend(workload_needs(&id).into_iter().map(|need| need.permission));
    }
    for row in TABLE {
        if !matches!(
            row.step,
            Step::Discover
                | Step::Patch
                | Step::Watch
                | Step::Unstick
                | Step::Diagnose
                | Step::Audit
        ) {
            res.extend(permissions(row.step, None));
        }
    }
    let mut seen = BTreeSet::new();
    res.retain(|permission| seen.insert(*permission));
    res
}

/// What a plan needs beyond discovery, per namespace.
pub fn needs(plan: &Plan) -> Vec<Need> {
    let mut res: BTreeSet<Need> = BTreeSet::new();
    for workload in plan.changed_workloads() {
        res.extend(workload_needs(&workload.id));
    }
    for migration in plan.all_migrations() {
        for permission in permissions(Step::Migrate, None) {
            res.insert(Need {
                permission,
                namespace: Some(migration.template.namespace.clone()),
                name: None,
            });
        }
    }
    res.into_iter().collect()
}

/// What taking the lock needs in these namespaces.
pub fn lock_needs<'a>(namespaces: impl IntoIterator<Item = &'a String>, lease: &str) -> Vec<Need> {
    let mut res = Vec::new();
    for namespace in namespaces {
        for permission in permissions(Step::Lock, None) {
            res.push(Need {
                permission,
                namespace: Some(namespace.clone()),
                name: NAMED_VERBS
                    .contains(&permission.verb)
                    .then(|| lease.to_owned()),
            });
        }
    }
    res
}
