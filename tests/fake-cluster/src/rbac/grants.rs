//! Which role rules apply to a user in a namespace: every RoleBinding and ClusterRoleBinding
//! naming the user, resolved to its role's rules. Never decides a request.

use serde_json::Value;

use super::rules::{describe_subject, subject_matches};
use crate::{auth::UserInfo, resources, storage::Storage};

/// A role's rules, with a description for reasons.
pub(super) struct Grant {
    pub(super) rules: Vec<Value>,
    pub(super) reason: String,
}

/// Every grant that applies to `user` in `namespace` ("" = cluster scope only).
pub(super) fn grants(storage: &Storage, user: &UserInfo, namespace: &str) -> Vec<Grant> {
    let mut out = Vec::new();
    let crb = resources::by_plural("clusterrolebindings").expect("crb");
    let cr = resources::by_plural("clusterroles").expect("cr");
    let rb = resources::by_plural("rolebindings").expect("rb");
    let role = resources::by_plural("roles").expect("role");
    let rules_of = |def, ns: &str, name: &str| -> Vec<Value> {
        storage
            .get(def, ns, name)
            .and_then(|r| r.get("rules"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for b in storage.list(crb, None) {
        let Some(subject) = b
            .get("subjects")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().find(|s| subject_matches(s, user, "")))
        else {
            continue;
        };
        let role_name = b
            .pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let bname = b
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.push(Grant {
            rules: rules_of(cr, "", role_name),
            reason: format!(
                "RBAC: allowed by ClusterRoleBinding \"{bname}\" of ClusterRole \"{role_name}\" to {}",
                describe_subject(subject, "")
            ),
        });
    }
    if !namespace.is_empty() {
        for b in storage.list(rb, Some(namespace)) {
            let Some(subject) = b
                .get("subjects")
                .and_then(Value::as_array)
                .and_then(|s| s.iter().find(|s| subject_matches(s, user, namespace)))
            else {
                continue;
            };
            let kind = b
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let role_name = b
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let bname = b
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let rules = if kind == "ClusterRole" {
                rules_of(cr, "", role_name)
            } else {
                rules_of(role, namespace, role_name)
            };
            out.push(Grant {
                rules,
                reason: format!(
                    "RBAC: allowed by RoleBinding \"{bname}/{namespace}\" of {kind} \"{role_name}\" to {}",
                    describe_subject(subject, namespace)
                ),
            });
        }
    }
    out
}
