//! The admission policies `kubectl update rbac` generates by default: ValidatingAdmissionPolicies
//! and their bindings (`admissionregistration.k8s.io/v1`) that keep the CI token to what the tool
//! does. RBAC says which verbs reach which kinds; it cannot say which fields a write changes, which
//! Jobs may be created or which pods deleted. For the token's ServiceAccounts these policies deny by
//! default and allow only:
//!
//! - `workloads`: an update of a Deployment, StatefulSet, DaemonSet or CronJob whose *stored*
//!   classifier annotation lists an allowed classifier, changing nothing but the images of its
//!   existing containers (to images of the allowed repositories) and the two annotations the tool
//!   writes (`kubectl-update.io/previous`, which must stay the tool's record naming allowed images,
//!   and `kubernetes.io/change-cause`). Objects are compared map by map and key by key at every
//!   level, so a field Kubernetes adds later is covered without being listed;
//! - `migration`: creating a Job that is a faithful copy of a known migration template (the
//!   template is the policy's parameter, one binding per template): equal to it but for images of
//!   the allowed repositories and the fields the tool sets (`plan::migration`);
//! - `jobs`: creating only Jobs that name a known template, deleting only migration copies;
//! - `pods`: deleting only StatefulSet pods that are not Ready (a rollback unsticking them);
//! - `leases`: only the locks of the allowed classifiers, at most [`crate::run::lock::LEASE_SECONDS`];
//! - `events`: only the tool's audit Events (component `kubectl-update`, reasons `ImageUpdated`,
//!   `RolledBack`, `MigrationFailed`, `RollbackMigrationFailed`) about a workload of an updatable kind in their namespace;
//! - `writes`: no other kind of write, and none at all in kube-system, kube-public,
//!   kube-node-lease or a protected namespace (RBAC cannot subtract those from `--cluster-wide`).
//!
//! Names carry the namespace set (its first namespace and a hash of all of them and the
//! ServiceAccount), so generating for another set adds policies instead of replacing these.
//! Pure: builds the objects; never contacts a cluster.

mod bounds;
mod cel;
mod jobs;
#[cfg(test)]
mod tests;
mod workloads;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::plan::annotations::Classifier;
use crate::plan::workload::MIGRATION_OF;

use cel::{image_allowed, list};

use bounds::{events, leases, pods, writes};
use jobs::{jobs, migration};
use workloads::workloads;

/// Namespaces the token never writes in, whatever else is asked: Kubernetes' own. A Job there can
/// run as a controller's ServiceAccount, which is as good as cluster-admin.
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The annotation in which apps/v1 DaemonSets carry their template generation (server-set).
const DAEMONSET_GENERATION: &str = "deprecated.daemonset.template.generation";
/// The annotation `kubectl apply` keeps; a migration copy drops it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the policies are for.
#[derive(Debug, Clone)]
pub struct Request {
    pub service_account: String,
    /// Where the RBAC grants: every namespace holds a ServiceAccount (only the first with
    /// `cluster_wide`), and the bindings cover all of them (every namespace with `cluster_wide`).
    pub namespaces: Vec<String>,
    pub cluster_wide: bool,
    /// Repositories images may come from, as the user spelled them.
    pub repositories: Vec<String>,
    /// Classifiers the token may deploy.
    pub classifiers: Vec<Classifier>,
    /// Namespaces never written in beyond [`SYSTEM_NAMESPACES`].
    pub protected: Vec<String>,
    /// The migration templates copies may be made of.
    pub templates: Vec<Template>,
}

/// A migration template (a Job listing an allowed classifier).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Template {
    pub namespace: String,
    pub name: String,
}

impl Request {
    /// The ServiceAccount usernames the policies apply to.
    pub fn usernames(&self) -> Vec<String> {
        let namespaces = if self.cluster_wide {
            &self.namespaces[..1]
        } else {
            &self.namespaces[..]
        };
        namespaces
            .iter()
            .map(|namespace| format!("system:serviceaccount:{namespace}:{}", self.service_account))
            .collect()
    }

    /// `<first namespace>-<8 hex digits>`: the hash covers the ServiceAccount, the namespaces
    /// (sorted) and the scope, so each set of namespaces gets its own policies.
    pub fn set_name(&self) -> String {
        let mut namespaces = self.namespaces.clone();
        namespaces.sort();
        namespaces.dedup();
        let scope = if self.cluster_wide {
            "cluster"
        } else {
            "namespaces"
        };
        let digest = Sha256::digest(format!(
            "{scope}\n{}\n{}",
            self.service_account,
            namespaces.join(",")
        ));
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let first: String = self.namespaces[0].chars().take(54).collect();
        format!("{first}-{hash}")
    }

    /// The allowed repositories, for messages: `a, b`.
    pub fn repositories_text(&self) -> String {
        self.repositories.join(", ")
    }

    /// The allowed classifiers, for messages: `stable or canary`.
    pub fn classifiers_text(&self) -> String {
        let names: Vec<String> = self.classifiers.iter().map(ToString::to_string).collect();
        names.join(" or ")
    }

    /// Every namespace the token may never write in.
    pub fn protected_namespaces(&self) -> Vec<String> {
        protected_namespaces(&self.protected)
    }
}

/// [`SYSTEM_NAMESPACES`] and `extra`, without repeats.
pub fn protected_namespaces(extra: &[String]) -> Vec<String> {
    let mut res: Vec<String> = SYSTEM_NAMESPACES
        .iter()
        .map(|it| (*it).to_owned())
        .collect();
    for namespace in extra {
        if !res.contains(namespace) {
            res.push(namespace.clone());
        }
    }
    res
}

pub(super) fn labels() -> Value {
    json!({"app.kubernetes.io/managed-by": "kubectl-update"})
}

pub(super) fn policy(
    name: &str,
    set: &str,
    rules: Value,
    usernames: &[String],
    variables: Vec<Value>,
    validations: Vec<Value>,
) -> Value {
    let mut metadata_labels = labels();
    metadata_labels["kubectl-update.io/policy-set"] = Value::from(set);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": metadata_labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": rules},
            "matchConditions": [{"name": "is-the-ci-token", "expression": format!("request.userInfo.username in {}", list(usernames))}],
            "variables": variables,
            "validations": validations,
        },
    })
}

pub(super) fn binding(name: &str, policy: &str, set: &str, match_resources: Value) -> Value {
    let mut metadata_labels = labels();
    metadata_labels["kubectl-update.io/policy-set"] = Value::from(set);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": metadata_labels},
        "spec": {"policyName": policy, "validationActions": ["Deny"], "matchResources": match_resources},
    })
}

pub(super) fn namespace_selector(operator: &str, namespaces: &[String]) -> Value {
    json!({"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": operator, "values": namespaces}]}})
}

/// The policies and their bindings, in apply order (a binding after its policy).
pub fn objects(request: &Request) -> Vec<Value> {
    let set = request.set_name();
    let name = |purpose: &str| format!("{purpose}.{set}.kubectl-update.io");
    let usernames = request.usernames();
    let allowed = |image: &str| image_allowed(image, &request.repositories);
    let in_set = if request.cluster_wide {
        namespace_selector("NotIn", &request.protected_namespaces())
    } else {
        namespace_selector("In", &request.namespaces)
    };
    let mut migration_bindings = Vec::new();
    for template in &request.templates {
        let mut binding_name = format!(
            "migration.{}.{}.{set}.kubectl-update.io",
            template.namespace, template.name
        );
        if binding_name.len() > 253 {
            let digest = Sha256::digest(format!("{}/{}", template.namespace, template.name));
            let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            binding_name = format!("migration.{hash}.{set}.kubectl-update.io");
        }
        // Only copies of this template (by label, in its namespace) are judged against it.
        let mut binding = binding(
            &binding_name,
            &name("migration"),
            &set,
            json!({
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": template.namespace}},
                "objectSelector": {"matchLabels": {MIGRATION_OF: template.name}},
            }),
        );
        binding["spec"]["paramRef"] = json!({
            "name": template.name,
            "namespace": template.namespace,
            "parameterNotFoundAction": "Deny",
        });
        migration_bindings.push(binding);
    }
    let policies: Vec<(Value, Vec<Value>)> = vec![
        (
            workloads(request, &name("workloads"), &set, &usernames, &allowed),
            vec![binding(
                &name("workloads"),
                &name("workloads"),
                &set,
                in_set.clone(),
            )],
        ),
        (
            migration(request, &name("migration"), &set, &usernames, &allowed),
            migration_bindings,
        ),
        (
            jobs(request, &name("jobs"), &set, &usernames),
            vec![binding(&name("jobs"), &name("jobs"), &set, in_set.clone())],
        ),
        (
            pods(&name("pods"), &set, &usernames),
            vec![binding(&name("pods"), &name("pods"), &set, in_set.clone())],
        ),
        (
            leases(&name("leases"), &set, &usernames, &request.classifiers),
            vec![binding(
                &name("leases"),
                &name("leases"),
                &set,
                in_set.clone(),
            )],
        ),
        (
            events(&name("events"), &set, &usernames),
            vec![binding(&name("events"), &name("events"), &set, in_set)],
        ),
        // Every write anywhere, also outside the namespace set (where other rules may grant).
        (
            writes(request, &name("writes"), &set, &usernames),
            vec![binding(&name("writes"), &name("writes"), &set, json!({}))],
        ),
    ];
    policies
        .into_iter()
        .flat_map(|(policy, bindings)| std::iter::once(policy).chain(bindings))
        .collect()
}
