//! ValidatingAdmissionPolicy enforcement (admissionregistration.k8s.io/v1) for API writes, with
//! CEL evaluated by the `cel` crate: policies bound by a ValidatingAdmissionPolicyBinding are
//! matched (`matchConstraints`, the binding's `matchResources`: resource rules, operations,
//! namespace and object selectors), filtered by `matchConditions`, and their `validations` run
//! with `object`, `oldObject`, `request`, `namespaceObject`, `params` (`paramKind` and the binding's
//! `paramRef`, by name or selector, with `parameterNotFoundAction`) and `variables`. `Deny` rejects the request as the real server words it, `Warn` adds a warning
//! header, `Audit` does nothing. Controller writes are not admitted (in real clusters policies
//! usually exclude them through `matchConditions` anyway). Not supported: `authorizer`, CEL
//! optionals (`.?`), type checking.

use cel::{Context, Program};
use serde_json::{Value, json};

use crate::{
    auth::UserInfo,
    errors::ApiError,
    resources::{self, ResourceDef},
    selector::LabelSelector,
    storage::Storage,
};

/// What is being admitted.
pub struct Request<'a> {
    pub def: &'static ResourceDef,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'static str,
    pub object: Option<&'a Value>,
    pub old_object: Option<&'a Value>,
    pub user: &'a UserInfo,
    pub dry_run: bool,
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn rule_matches(rule: &Value, req: &Request<'_>) -> bool {
    let any = |list: Vec<&str>, want: &str| list.iter().any(|x| *x == "*" || *x == want);
    if !any(strings(rule.get("apiGroups")), req.def.group)
        || !any(strings(rule.get("apiVersions")), req.def.version)
    {
        return false;
    }
    if !any(strings(rule.get("operations")), req.operation) {
        return false;
    }
    let resource = if req.subresource.is_empty() {
        req.def.plural.to_string()
    } else {
        format!("{}/{}", req.def.plural, req.subresource)
    };
    let resource_ok = strings(rule.get("resources")).iter().any(|r| {
        *r == "*" && req.subresource.is_empty()
            || *r == "*/*"
            || *r == resource
            || (!req.subresource.is_empty() && *r == format!("*/{}", req.subresource))
            || (!req.subresource.is_empty() && *r == format!("{}/*", req.def.plural))
    });
    let names = strings(rule.get("resourceNames"));
    resource_ok && (names.is_empty() || names.contains(&req.name))
}

fn selector_matches(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    match selector {
        None | Some(Value::Null) => true,
        Some(s) => {
            LabelSelector::from_json(s).is_ok_and(|sel| sel.matches(labels.unwrap_or(&Value::Null)))
        }
    }
}

/// `matchConstraints` or a binding's `matchResources`.
fn resources_match(storage: &Storage, m: Option<&Value>, req: &Request<'_>) -> bool {
    let Some(m) = m.filter(|m| m.is_object()) else {
        return true;
    };
    if let Some(rules) = m.get("resourceRules").and_then(Value::as_array)
        && !rules.iter().any(|r| rule_matches(r, req))
    {
        return false;
    }
    if m.get("excludeResourceRules")
        .and_then(Value::as_array)
        .is_some_and(|rules| rules.iter().any(|r| rule_matches(r, req)))
    {
        return false;
    }
    let ns_labels = if req.def.plural == "namespaces" {
        req.object
            .or(req.old_object)
            .and_then(|o| o.pointer("/metadata/labels"))
            .cloned()
    } else if req.def.namespaced {
        resources::by_plural("namespaces")
            .and_then(|d| storage.get(d, "", req.namespace))
            .and_then(|n| n.pointer("/metadata/labels"))
            .cloned()
    } else {
        None
    };
    if (req.def.namespaced || req.def.plural == "namespaces")
        && !selector_matches(m.get("namespaceSelector"), ns_labels.as_ref())
    {
        return false;
    }
    let object_selector = m.get("objectSelector");
    let labels_of = |o: Option<&Value>| o.and_then(|o| o.pointer("/metadata/labels")).cloned();
    selector_matches(object_selector, labels_of(req.object).as_ref())
        || (req.old_object.is_some()
            && selector_matches(object_selector, labels_of(req.old_object).as_ref()))
}

fn request_json(req: &Request<'_>) -> Value {
    let def = req.def;
    json!({
        "kind": {"group": def.group, "version": def.version, "kind": def.kind},
        "resource": {"group": def.group, "version": def.version, "resource": def.plural},
        "requestKind": {"group": def.group, "version": def.version, "kind": def.kind},
        "requestResource": {"group": def.group, "version": def.version, "resource": def.plural},
        "subResource": req.subresource,
        "name": req.name,
        "namespace": req.namespace,
        "operation": req.operation,
        "userInfo": {"username": req.user.name, "uid": req.user.uid, "groups": req.user.groups},
        "dryRun": req.dry_run,
    })
}

enum Outcome {
    Bool(bool),
    String(String),
    Error(String),
}

fn eval(ctx: &Context<'_, '_>, expression: &str) -> Outcome {
    match Program::compile(expression) {
        Err(e) => Outcome::Error(format!("compilation failed: {e}")),
        Ok(p) => match p.execute(ctx) {
            Ok(cel::Value::Bool(b)) => Outcome::Bool(b),
            Ok(cel::Value::String(s)) => Outcome::String(s.to_string()),
            Ok(other) => Outcome::Error(format!("expected a bool or string, got {other:?}")),
            Err(e) => Outcome::Error(e.to_string()),
        },
    }
}

fn denial(req: &Request<'_>, reason: &str, text: String) -> ApiError {
    let code = match reason {
        "Unauthorized" => 401,
        "Forbidden" => 403,
        "RequestEntityTooLarge" => 413,
        _ => 422,
    };
    let reason: &'static str = match reason {
        "Unauthorized" => "Unauthorized",
        "Forbidden" => "Forbidden",
        "RequestEntityTooLarge" => "RequestEntityTooLarge",
        _ => "Invalid",
    };
    let subject = if req.name.is_empty() {
        req.def.qualified()
    } else {
        format!("{} \"{}\"", req.def.qualified(), req.name)
    };
    let mut details =
        json!({"name": req.name, "kind": req.def.plural, "causes": [{"message": text}]});
    if !req.def.group.is_empty() {
        details["group"] = json!(req.def.group);
    }
    ApiError {
        code,
        reason,
        message: format!("{subject} is forbidden: {text}"),
        details: Some(details),
    }
}

/// Whether any policy binding exists (admission is skipped entirely otherwise).
pub fn active(storage: &Storage) -> bool {
    resources::by_plural("validatingadmissionpolicybindings")
        .is_some_and(|d| !storage.list(d, None).is_empty())
}

/// Runs every bound policy. Returns warnings (for `Warn` bindings) or the first denial.
pub fn admit(storage: &Storage, req: &Request<'_>) -> Result<Vec<String>, ApiError> {
    let (Some(bdef), Some(pdef)) = (
        resources::by_plural("validatingadmissionpolicybindings"),
        resources::by_plural("validatingadmissionpolicies"),
    ) else {
        return Ok(Vec::new());
    };
    let bindings = storage.list(bdef, None);
    if bindings.is_empty() {
        return Ok(Vec::new());
    }
    let mut warnings = Vec::new();
    for binding in bindings {
        let bname = binding
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let pname = binding
            .pointer("/spec/policyName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(policy) = storage.get(pdef, "", pname) else {
            continue;
        };
        let spec = policy.get("spec").cloned().unwrap_or(json!({}));
        if !resources_match(storage, spec.get("matchConstraints"), req)
            || !resources_match(storage, binding.pointer("/spec/matchResources"), req)
        {
            continue;
        }
        let actions = strings(binding.pointer("/spec/validationActions"));
        let fail_closed = spec.get("failurePolicy").and_then(Value::as_str) != Some("Ignore");
        let prefix =
            format!("ValidatingAdmissionPolicy '{pname}' with binding '{bname}' denied request");
        let namespace_object = if req.def.namespaced {
            resources::by_plural("namespaces")
                .and_then(|d| storage.get(d, "", req.namespace))
                .cloned()
        } else {
            None
        };
        let params = match params_of(storage, &spec, binding, req) {
            Ok(params) => params,
            Err(error) if fail_closed && actions.contains(&"Deny") => {
                return Err(ApiError {
                    code: 403,
                    reason: "Forbidden",
                    message: format!(
                        "policy '{pname}' with binding '{bname}' denied request: failed to configure binding: {error}"
                    ),
                    details: Some(json!({"name": req.name, "kind": req.def.plural})),
                });
            }
            Err(_) => continue,
        };
        for params in params {
            let mut ctx = Context::default();
            let vars = [
                ("object", req.object.cloned().unwrap_or(Value::Null)),
                ("oldObject", req.old_object.cloned().unwrap_or(Value::Null)),
                ("request", request_json(req)),
                (
                    "namespaceObject",
                    namespace_object.clone().unwrap_or(Value::Null),
                ),
                ("params", params),
            ];
            for (name, value) in vars {
                if let Err(e) = ctx.add_variable(name, value) {
                    return Err(ApiError::internal(format!("admission: {e}")));
                }
            }
            let mut computed = std::collections::HashMap::<String, cel::Value>::new();
            for v in spec
                .get("variables")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let expr = v
                    .get("expression")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let value = Program::compile(expr).ok().and_then(|p| {
                    let mut vctx = ctx.new_inner_scope();
                    vctx.add_variable_from_value("variables", computed.clone());
                    p.execute(&vctx).ok()
                });
                if let Some(value) = value {
                    computed.insert(name, value);
                }
            }
            ctx.add_variable_from_value("variables", computed);
            // matchConditions: any false skips the policy; an error with none false fails closed.
            let mut skip = false;
            let mut condition_error = None;
            for c in spec
                .get("matchConditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let expr = c
                    .get("expression")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match eval(&ctx, expr) {
                    Outcome::Bool(false) => skip = true,
                    Outcome::Bool(true) => {}
                    Outcome::String(_) => {
                        condition_error = Some(format!(
                            "matchCondition '{expr}' did not evaluate to a bool"
                        ))
                    }
                    Outcome::Error(e) => {
                        condition_error =
                            Some(format!("matchCondition '{expr}' resulted in error: {e}"))
                    }
                }
            }
            if skip {
                continue;
            }
            let mut failures: Vec<(String, String)> = Vec::new();
            if let Some(e) = condition_error {
                if fail_closed {
                    failures.push(("Invalid".into(), e));
                }
            } else {
                for v in spec
                    .get("validations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let expr = v
                        .get("expression")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let reason = v
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("Invalid")
                        .to_string();
                    match eval(&ctx, expr) {
                        Outcome::Bool(true) => {}
                        Outcome::Bool(false) => {
                            let message = v
                                .get("messageExpression")
                                .and_then(Value::as_str)
                                .and_then(|m| match eval(&ctx, m) {
                                    Outcome::String(s) if !s.is_empty() && !s.contains('\n') => {
                                        Some(s)
                                    }
                                    _ => None,
                                })
                                .or_else(|| {
                                    v.get("message").and_then(Value::as_str).map(str::to_string)
                                })
                                .unwrap_or_else(|| format!("failed expression: {expr}"));
                            failures.push((reason, message));
                        }
                        Outcome::String(_) => {
                            if fail_closed {
                                failures.push((
                                    reason,
                                    format!("expression '{expr}' did not evaluate to a bool"),
                                ));
                            }
                        }
                        Outcome::Error(e) => {
                            if fail_closed {
                                failures.push((
                                    reason,
                                    format!("expression '{expr}' resulted in error: {e}"),
                                ));
                            }
                        }
                    }
                }
            }
            let Some((reason, message)) = failures.into_iter().next() else {
                continue;
            };
            if actions.contains(&"Warn") {
                warnings.push(format!(
                "Validation failed for ValidatingAdmissionPolicy '{pname}' with binding '{bname}': {message}"
            ));
            }
            if actions.contains(&"Deny") {
                return Err(denial(req, &reason, format!("{prefix}: {message}")));
            }
        }
    }
    Ok(warnings)
}

/// The `params` a binding evaluates its policy with, as kube-apiserver collects them: one null
/// without `paramKind` or `paramRef`; else the object `paramRef.name` names (or every object its
/// `selector` selects) in `paramRef.namespace`, by default the request's. None found is an error
/// under `parameterNotFoundAction: Deny`, and skips the policy otherwise.
fn params_of(
    storage: &Storage,
    spec: &Value,
    binding: &Value,
    req: &Request<'_>,
) -> Result<Vec<Value>, String> {
    let (Some(kind), Some(reference)) = (
        spec.get("paramKind").filter(|it| it.is_object()),
        binding
            .pointer("/spec/paramRef")
            .filter(|it| it.is_object()),
    ) else {
        return Ok(vec![Value::Null]);
    };
    let api_version = kind["apiVersion"].as_str().unwrap_or_default();
    let kind_name = kind["kind"].as_str().unwrap_or_default();
    let def = resources::by_kind(api_version, kind_name)
        .ok_or_else(|| format!("paramKind kind `{api_version}, Kind={kind_name}` not known"))?;
    let namespace = reference["namespace"].as_str().filter(|it| !it.is_empty());
    let namespace = if def.namespaced {
        match namespace.or(Some(req.namespace).filter(|it| !it.is_empty())) {
            Some(namespace) => Some(namespace),
            None => {
                return Err("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources".into());
            }
        }
    } else if namespace.is_some() {
        return Err(
            "paramRef.namespace must not be provided for a cluster-scoped `paramKind`".into(),
        );
    } else {
        None
    };
    let found: Vec<Value> = match (
        reference["name"].as_str().filter(|it| !it.is_empty()),
        reference.get("selector"),
    ) {
        (Some(name), _) => storage
            .get(def, namespace.unwrap_or_default(), name)
            .cloned()
            .into_iter()
            .collect(),
        (None, Some(selector)) => {
            let selector = LabelSelector::from_json(selector).map_err(|e| e.to_string())?;
            storage
                .list(def, namespace)
                .into_iter()
                .filter(|it| {
                    selector.matches(it.pointer("/metadata/labels").unwrap_or(&Value::Null))
                })
                .cloned()
                .collect()
        }
        (None, None) => return Err("one of name or selector must be provided".into()),
    };
    if found.is_empty() && reference["parameterNotFoundAction"] == "Deny" {
        return Err(
            "no params found for policy binding with `Deny` parameterNotFoundAction".into(),
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
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
}
