//! Which requests a policy or binding covers: resource rules (groups, versions, resources, names,
//! operations, exclusions) and namespace/object selectors. Never evaluates CEL.

use serde_json::Value;

use super::Request;
use crate::{
    resources::{self},
    selector::LabelSelector,
    storage::Storage,
};

pub(super) fn strings(v: Option<&Value>) -> Vec<&str> {
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
pub(super) fn resources_match(storage: &Storage, m: Option<&Value>, req: &Request<'_>) -> bool {
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
