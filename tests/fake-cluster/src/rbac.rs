//! RBAC authorization (`plugin/pkg/auth/authorizer/rbac`): Roles and ClusterRoles granted through
//! RoleBindings and ClusterRoleBindings to users, groups and ServiceAccounts, plus the bootstrap
//! roles every cluster has.

use serde_json::{Value, json};

use crate::{auth::UserInfo, errors::ApiError, resources, storage::Storage};

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

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether one policy rule allows the request (`RuleAllows`).
pub fn rule_allows(rule: &Value, attrs: &Attributes) -> bool {
    let verbs = strings(rule.get("verbs"));
    if !verbs.iter().any(|v| *v == "*" || *v == attrs.verb) {
        return false;
    }
    if !attrs.resource_request {
        return strings(rule.get("nonResourceURLs")).iter().any(|u| {
            *u == "*"
                || *u == attrs.path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| attrs.path.starts_with(prefix))
        });
    }
    let groups = strings(rule.get("apiGroups"));
    if !groups.iter().any(|g| *g == "*" || *g == attrs.group) {
        return false;
    }
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    let resources = strings(rule.get("resources"));
    let resource_ok = resources.iter().any(|r| {
        *r == "*"
            || *r == combined
            || (!attrs.subresource.is_empty()
                && r.strip_prefix("*/") == Some(attrs.subresource.as_str()))
    });
    if !resource_ok {
        return false;
    }
    let names = strings(rule.get("resourceNames"));
    names.is_empty() || (!attrs.name.is_empty() && names.contains(&attrs.name.as_str()))
}

/// Whether a binding subject names this user (`appliesToUser`).
pub fn subject_matches(subject: &Value, user: &UserInfo, binding_namespace: &str) -> bool {
    let name = subject
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match subject
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = subject
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_namespace);
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn describe_subject(subject: &Value, binding_namespace: &str) -> String {
    let kind = subject
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = subject
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind == "ServiceAccount" {
        let ns = subject
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(binding_namespace);
        format!("{kind} \"{name}/{ns}\"")
    } else {
        format!("{kind} \"{name}\"")
    }
}

/// A role's rules, with a description for reasons.
struct Grant {
    rules: Vec<Value>,
    reason: String,
}

/// Every grant that applies to `user` in `namespace` ("" = cluster scope only).
fn grants(storage: &Storage, user: &UserInfo, namespace: &str) -> Vec<Grant> {
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

/// The bootstrap ClusterRoles and ClusterRoleBindings of a fresh cluster.
pub fn bootstrap_objects() -> Vec<(&'static str, Value)> {
    let read = json!(["get", "list", "watch"]);
    let write = json!(["create", "delete", "deletecollection", "patch", "update"]);
    let workloads = json!([
        "deployments",
        "deployments/scale",
        "replicasets",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/scale",
        "daemonsets",
        "controllerrevisions"
    ]);
    let core = json!([
        "pods",
        "pods/log",
        "pods/status",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "services",
        "events",
        "endpoints",
        "persistentvolumeclaims"
    ]);
    let view_rules = json!([
        {"apiGroups": [""], "resources": ["pods", "pods/log", "pods/status", "configmaps", "serviceaccounts", "services", "events", "endpoints", "persistentvolumeclaims", "namespaces"], "verbs": read},
        {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status", "daemonsets", "daemonsets/status", "controllerrevisions"], "verbs": read},
        {"apiGroups": ["batch"], "resources": ["jobs", "jobs/status", "cronjobs", "cronjobs/status"], "verbs": read},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": read},
    ]);
    let mut edit_rules = view_rules.as_array().cloned().unwrap_or_default();
    edit_rules.extend([
        json!({"apiGroups": [""], "resources": core, "verbs": write}),
        json!({"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}),
        json!({"apiGroups": ["apps"], "resources": workloads, "verbs": write}),
        json!({"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": write}),
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": write}),
    ]);
    let mut admin_rules = edit_rules.clone();
    admin_rules.push(json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}));
    let role = |name: &str, rules: Value| {
        (
            "clusterroles",
            json!({"metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}, "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}, "rules": rules}),
        )
    };
    let binding = |name: &str, role: &str, subjects: Value| {
        (
            "clusterrolebindings",
            json!({"metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}, "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects}),
        )
    };
    let group =
        |g: &str| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g});
    vec![
        role(
            "cluster-admin",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        ),
        role("admin", Value::Array(admin_rules)),
        role("edit", Value::Array(edit_rules)),
        role("view", view_rules),
        role(
            "system:discovery",
            json!([{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        ),
        role(
            "system:basic-user",
            json!([
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]},
            ]),
        ),
        role(
            "system:public-info-viewer",
            json!([{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        ),
        binding(
            "cluster-admin",
            "cluster-admin",
            json!([group("system:masters")]),
        ),
        binding(
            "system:discovery",
            "system:discovery",
            json!([group("system:authenticated")]),
        ),
        binding(
            "system:basic-user",
            "system:basic-user",
            json!([group("system:authenticated")]),
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            json!([
                group("system:authenticated"),
                group("system:unauthenticated")
            ]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            resource_request: true,
            namespace: "prod".into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            path: String::new(),
        }
    }

    #[test]
    fn rule_matching() {
        let rule = json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"], "resourceNames": ["web"]});
        assert!(rule_allows(
            &rule,
            &attrs("patch", "apps", "deployments", "", "web")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("patch", "apps", "deployments", "", "db")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("list", "apps", "deployments", "", "")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("get", "apps", "deployments", "status", "web")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("get", "", "deployments", "", "web")
        ));
        let star = json!({"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["*"]});
        assert!(rule_allows(
            &star,
            &attrs("update", "apps", "deployments", "scale", "")
        ));
        assert!(!rule_allows(
            &star,
            &attrs("update", "apps", "deployments", "", "")
        ));
        let nr = json!({"nonResourceURLs": ["/apis/*", "/version"], "verbs": ["get"]});
        let mut a = attrs("get", "", "", "", "");
        a.resource_request = false;
        a.path = "/apis/apps/v1".into();
        assert!(rule_allows(&nr, &a));
        a.path = "/metrics".into();
        assert!(!rule_allows(&nr, &a));
    }

    #[test]
    fn bindings_and_forbidden_message() {
        let mut s = Storage::new(100);
        let def = |p| resources::by_plural(p).unwrap();
        s.create(
            def("namespaces"),
            "",
            json!({"metadata": {"name": "prod"}}),
            false,
        )
        .unwrap();
        for (res, obj) in bootstrap_objects() {
            s.create(def(res), "", obj, false).unwrap();
        }
        s.create(def("roles"), "prod", json!({"metadata": {"name": "deployer"}, "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]}]}), false).unwrap();
        s.create(def("rolebindings"), "prod", json!({"metadata": {"name": "deployer"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"}, "subjects": [{"kind": "ServiceAccount", "name": "ci"}]}), false).unwrap();
        let user = UserInfo::service_account("prod", "ci");
        let d = authorize(&s, &user, &attrs("patch", "apps", "deployments", "", "web"));
        assert!(d.allowed);
        assert_eq!(
            d.reason,
            "RBAC: allowed by RoleBinding \"deployer/prod\" of Role \"deployer\" to ServiceAccount \"ci/prod\""
        );
        let denied = attrs("delete", "apps", "deployments", "", "web");
        assert!(!authorize(&s, &user, &denied).allowed);
        assert_eq!(
            forbidden(&user, &denied).message,
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:prod:ci\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"prod\""
        );
        let list = attrs("list", "", "pods", "", "");
        assert_eq!(
            forbidden(&user, &list).message,
            "pods is forbidden: User \"system:serviceaccount:prod:ci\" cannot list resource \"pods\" in API group \"\" in the namespace \"prod\""
        );
        let ssar = Attributes {
            namespace: String::new(),
            ..attrs(
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "",
                "",
            )
        };
        assert!(authorize(&s, &user, &ssar).allowed);
        let (rr, nrr) = rules_for(&s, &user, "prod");
        assert!(rr.iter().any(|r| r["resources"] == json!(["deployments"])));
        assert!(!nrr.is_empty());
    }
}
