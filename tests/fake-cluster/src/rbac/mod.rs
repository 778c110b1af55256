//! RBAC authorization (`plugin/pkg/auth/authorizer/rbac`): Roles and ClusterRoles granted through
//! RoleBindings and ClusterRoleBindings to users, groups and ServiceAccounts, plus the bootstrap
//! roles every cluster has.
//!
//! This module decides and words the answers; `rules` matches one rule or subject, `grants`
//! collects what bindings give a user, `bootstrap` holds the default roles. It never writes to
//! storage and never authenticates (the user arrives identified).

mod bootstrap;
mod grants;
mod rules;

#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::{auth::UserInfo, errors::ApiError, storage::Storage};

pub use bootstrap::bootstrap_objects;
use grants::grants;
pub use rules::{rule_allows, subject_matches};

/// What is being asked (`authorizer.Attributes`).
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub verb: String,
    pub resource_request: bool,
    pub namespace: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub path: String,
}

/// The answer, with the reason a SubjectAccessReview reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// Decides a request.
pub fn authorize(storage: &Storage, user: &UserInfo, attrs: &Attributes) -> Decision {
    if user.is_master() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let ns = if attrs.resource_request {
        attrs.namespace.as_str()
    } else {
        ""
    };
    for g in grants(storage, user, ns) {
        if g.rules.iter().any(|r| rule_allows(r, attrs)) {
            return Decision {
                allowed: true,
                reason: g.reason,
            };
        }
    }
    Decision {
        allowed: false,
        reason: String::new(),
    }
}

/// The rules `user` has in `namespace`, as SelfSubjectRulesReview reports them.
pub fn rules_for(storage: &Storage, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>) {
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    let all: Vec<Value> = if user.is_master() {
        vec![
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
            json!({"verbs": ["*"], "nonResourceURLs": ["*"]}),
        ]
    } else {
        grants(storage, user, namespace)
            .into_iter()
            .flat_map(|g| g.rules)
            .collect()
    };
    for r in all {
        if r.get("nonResourceURLs")
            .and_then(Value::as_array)
            .is_some_and(|u| !u.is_empty())
        {
            non_resource_rules.push(json!({"verbs": r.get("verbs").cloned().unwrap_or(json!([])), "nonResourceURLs": r["nonResourceURLs"]}));
        } else {
            let mut rr = json!({
                "verbs": r.get("verbs").cloned().unwrap_or(json!([])),
                "apiGroups": r.get("apiGroups").cloned().unwrap_or(json!([])),
                "resources": r.get("resources").cloned().unwrap_or(json!([])),
            });
            if let Some(names) = r
                .get("resourceNames")
                .filter(|n| n.as_array().is_some_and(|a| !a.is_empty()))
            {
                rr["resourceNames"] = names.clone();
            }
            resource_rules.push(rr);
        }
    }
    (resource_rules, non_resource_rules)
}

/// The 403 for a denied request, worded like the real server.
pub fn forbidden(user: &UserInfo, attrs: &Attributes) -> ApiError {
    if !attrs.resource_request {
        return ApiError::forbidden_path(&format!(
            "User \"{}\" cannot {} path \"{}\"",
            user.name, attrs.verb, attrs.path
        ));
    }
    let resource = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    let scope = if attrs.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", attrs.namespace)
    };
    let why = format!(
        "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name, attrs.verb, attrs.group
    );
    ApiError::forbidden(
        &attrs.group,
        &attrs.resource,
        &attrs.subresource,
        &attrs.name,
        &why,
    )
}
