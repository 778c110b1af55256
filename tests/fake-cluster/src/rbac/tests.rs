//! Rule matching, bindings and the wording of 403s, called directly. Never starts a server.

use super::*;
use crate::resources;

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
