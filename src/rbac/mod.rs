//! `kubectl update rbac`: the least-privilege RBAC for a CI token, generated from the same call
//! table (`access::TABLE`) that preflight checks, so the Role and the tool cannot drift. RBAC only
//! adds: it cannot say which fields a patch changes, and a ClusterRole (`--cluster-wide`) grants in
//! kube-system too; the admission policies of `policy` take care of both. Pure: builds the objects;
//! `output` prints them; never grants in a protected namespace (`grant` refuses them).
//!
//! The folder holds the least-privilege side of the tool: this Role generator, the admission
//! policies (`policy`), `kubectl update rbac` (`grant`) and `kubectl update kubeconfig`
//! (`kubeconfig`). No update stage imports it.

pub mod grant;
pub mod kubeconfig;
pub mod policy;

use serde_json::{Value, json};

use crate::cluster::rules::{Names, Rule, rules};

/// The namespace of the committed templates in rbac/: an envsubst variable (fill it with envsubst).
pub const NAMESPACE_VARIABLE: &str = "${NAMESPACE}";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request {
    /// Namespaces to grant in (each gets a ServiceAccount, Role and RoleBinding); with
    /// `cluster_wide`, the first holds the ServiceAccount.
    pub namespaces: Vec<String>,
    pub service_account: String,
    pub cluster_wide: bool,
    /// Narrow name-scopable verbs to these objects.
    pub names: Option<Names>,
}

/// The objects to print, in apply order.
pub fn objects(request: &Request) -> Vec<Value> {
    let name = request.service_account.as_str();
    let rules: Vec<Value> = rules(request.names.as_ref())
        .iter()
        .map(rule_json)
        .collect();
    let labels = json!({"app.kubernetes.io/managed-by": "kubectl-update"});
    let mut res = Vec::new();
    if request.cluster_wide {
        let namespace = request.namespaces[0].as_str();
        res.push(service_account(name, namespace, &labels));
        res.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels}, "rules": rules}),
        );
        res.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}));
        return res;
    }
    // The first namespace's ServiceAccount is bound in every namespace, so one token serves an update
    // across all of them; each namespace's own ServiceAccount serves that namespace alone.
    let first = request.namespaces[0].as_str();
    for namespace in &request.namespaces {
        let mut subjects =
            vec![json!({"kind": "ServiceAccount", "name": name, "namespace": namespace})];
        if namespace != first {
            subjects.push(json!({"kind": "ServiceAccount", "name": name, "namespace": first}));
        }
        res.push(service_account(name, namespace, &labels));
        res.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace, "labels": labels}, "rules": rules}),
        );
        res.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subjects}),
        );
    }
    res
}

fn service_account(name: &str, namespace: &str, labels: &Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace, "labels": labels}})
}

fn rule_json(rule: &Rule) -> Value {
    let mut res =
        json!({"apiGroups": [rule.group], "resources": [rule.resource], "verbs": rule.verbs});
    if !rule.names.is_empty() {
        res["resourceNames"] = json!(rule.names);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_wide_binds_one_service_account() {
        let request = Request {
            namespaces: vec!["ci".into()],
            service_account: crate::cli::rbac::DEFAULT_NAME.into(),
            cluster_wide: true,
            names: None,
        };
        let objects = objects(&request);
        let kinds: Vec<&str> = objects
            .iter()
            .map(|it| it["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec!["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
        );
        assert_eq!(objects[2]["subjects"][0]["namespace"], "ci");
    }
}
