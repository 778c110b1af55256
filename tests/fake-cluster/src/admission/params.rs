//! The `params` of a binding: `paramKind`/`paramRef` lookups by name or selector, with
//! `parameterNotFoundAction`. Never evaluates expressions.

use serde_json::Value;

use super::Request;
use crate::{
    resources::{self},
    selector::LabelSelector,
    storage::Storage,
};

/// The `params` a binding evaluates its policy with, as kube-apiserver collects them: one null
/// without `paramKind` or `paramRef`; else the object `paramRef.name` names (or every object its
/// `selector` selects) in `paramRef.namespace`, by default the request's. None found is an error
/// under `parameterNotFoundAction: Deny`, and skips the policy otherwise.
pub(super) fn params_of(
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
