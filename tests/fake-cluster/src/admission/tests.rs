//! Denials, warnings, skips and params of ValidatingAdmissionPolicies, called directly. Never
//! starts a server.

use super::*;

fn setup() -> Storage {
    let mut s = Storage::new(100);
    let def = |p| resources::by_plural(p).unwrap();
    s.create(
        def("namespaces"),
        "",
        json!({"metadata": {"name": "shop"}}),
        false,
    )
    .unwrap();
    s.create(def("validatingadmissionpolicies"), "", json!({"metadata": {"name": "image-only"}, "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments"]}]},
        "matchConditions": [{"name": "ci", "expression": "request.userInfo.username == 'system:serviceaccount:shop:ci'"}],
        "variables": [{"name": "newC", "expression": "object.spec.template.spec.containers"}],
        "validations": [
            {"expression": "variables.newC.all(c, c.image.startsWith('registry.example.com/'))", "message": "images must come from registry.example.com"},
            {"expression": "object.spec.replicas == oldObject.spec.replicas", "messageExpression": "'may not scale to ' + string(object.spec.replicas)"}
        ]}}), false).unwrap();
    s.create(def("validatingadmissionpolicybindings"), "", json!({"metadata": {"name": "image-only-shop"}, "spec": {
        "policyName": "image-only", "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}}}), false).unwrap();
    s
}

fn dep(image: &str, replicas: i64) -> Value {
    json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})
}

#[test]
fn denies_and_skips_like_the_real_server() {
    let s = setup();
    let def = resources::by_plural("deployments").unwrap();
    let ci = UserInfo::service_account("shop", "ci");
    let old = dep("registry.example.com/web:1", 2);
    fn req<'a>(
        def: &'static ResourceDef,
        new: &'a Value,
        old: &'a Value,
        user: &'a UserInfo,
    ) -> Request<'a> {
        Request {
            def,
            subresource: "",
            namespace: "shop",
            name: "web",
            operation: "UPDATE",
            object: Some(new),
            old_object: Some(old),
            user,
            dry_run: false,
        }
    }
    let good = dep("registry.example.com/web:2", 2);
    assert!(admit(&s, &req(def, &good, &old, &ci)).is_ok());
    let bad = dep("evil.io/web:2", 2);
    let err = admit(&s, &req(def, &bad, &old, &ci)).unwrap_err();
    assert_eq!(err.code, 422);
    assert_eq!(
        err.message,
        "deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'image-only' with binding 'image-only-shop' denied request: images must come from registry.example.com"
    );
    let scaled = dep("registry.example.com/web:2", 5);
    let err = admit(&s, &req(def, &scaled, &old, &ci)).unwrap_err();
    assert!(
        err.message.ends_with("denied request: may not scale to 5"),
        "{}",
        err.message
    );
    let human = UserInfo::new("alice", &[]);
    assert!(admit(&s, &req(def, &bad, &old, &human)).is_ok());
}
