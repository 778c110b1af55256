//! ValidatingAdmissionPolicy enforcement (admissionregistration.k8s.io/v1) for API writes, with
//! CEL evaluated by the `cel` crate: policies bound by a ValidatingAdmissionPolicyBinding are
//! matched (`matchConstraints`, the binding's `matchResources`: resource rules, operations,
//! namespace and object selectors), filtered by `matchConditions`, and their `validations` run
//! with `object`, `oldObject`, `request`, `namespaceObject`, `params` (`paramKind` and the binding's
//! `paramRef`, by name or selector, with `parameterNotFoundAction`) and `variables`. `Deny` rejects the request as the real server words it, `Warn` adds a warning
//! header, `Audit` does nothing. Controller writes are not admitted (in real clusters policies
//! usually exclude them through `matchConditions` anyway). Not supported: `authorizer`, CEL
//! optionals (`.?`), type checking.
//!
//! This module runs the bindings (`admit`) and words denials; `matching` decides which requests a
//! policy or binding covers, `expr` evaluates CEL, `params` collects a binding's params. It never
//! mutates the object (no mutating admission) and never writes to storage.

mod expr;
mod matching;
mod params;

#[cfg(test)]
mod tests;

use cel::{Context, Program};
use serde_json::{Value, json};

use crate::{
    auth::UserInfo,
    errors::ApiError,
    resources::{self, ResourceDef},
    storage::Storage,
};
use expr::{Outcome, eval, request_json};
use matching::{resources_match, strings};
use params::params_of;

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
