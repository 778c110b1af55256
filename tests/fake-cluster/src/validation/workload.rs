//! Pod template, workload selector, replicas and immutable-field rules shared by the workload
//! kinds. Never checks object names.

use serde_json::{Value, json};

use super::meta::{dns_label, go_map};
use crate::{errors::Cause, selector::LabelSelector};

pub(super) fn pod_spec(field: &str, spec: Option<&Value>, allowed_restart: &[&str]) -> Vec<Cause> {
    let mut out = Vec::new();
    let empty = json!({});
    let spec = spec.unwrap_or(&empty);
    let containers = spec.get("containers").and_then(Value::as_array);
    match containers {
        None => out.push(Cause::required(format!("{field}.containers"))),
        Some(cs) if cs.is_empty() => out.push(Cause::required(format!("{field}.containers"))),
        Some(_) => {}
    }
    for list in ["initContainers", "containers"] {
        let mut seen = Vec::new();
        for (i, c) in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = format!("{field}.{list}[{i}]");
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                out.push(Cause::required(format!("{path}.name")));
            } else {
                out.extend(dns_label(&format!("{path}.name"), name));
                if seen.contains(&name) {
                    out.push(Cause {
                        reason: "FieldValueDuplicate",
                        field: format!("{path}.name"),
                        message: format!("Duplicate value: {name:?}"),
                    });
                }
                seen.push(name);
            }
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            if image.trim().is_empty() {
                out.push(Cause::required(format!("{path}.image")));
            } else if image.trim() != image {
                out.push(Cause::invalid(
                    format!("{path}.image"),
                    &json!(image),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    let restart = spec
        .get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if allowed_restart == ["OnFailure", "Never"] {
        if !allowed_restart.contains(&restart) {
            out.push(Cause {
                reason: "FieldValueRequired",
                field: format!("{field}.restartPolicy"),
                message: "Required value: valid values: \"OnFailure\", \"Never\"".into(),
            });
        }
    } else if !allowed_restart.contains(&restart) {
        out.push(Cause::not_supported(
            format!("{field}.restartPolicy"),
            &json!(restart),
            allowed_restart,
        ));
    }
    out
}

/// Selector present, non-empty, matching the template labels.
pub(super) fn workload_selector(spec: &Value, kind_word: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(sel) = spec.get("selector").filter(|s| !s.is_null()) else {
        out.push(Cause::required("spec.selector"));
        return out;
    };
    let parsed = match LabelSelector::from_json(sel) {
        Ok(p) => p,
        Err(e) => {
            out.push(Cause::invalid("spec.selector", sel, &e));
            return out;
        }
    };
    if parsed.is_empty() {
        out.push(Cause::invalid(
            "spec.selector",
            sel,
            &format!("empty selector is invalid for {kind_word}"),
        ));
        return out;
    }
    let tlabels = spec.pointer("/template/metadata/labels");
    if !parsed.matches(tlabels.unwrap_or(&Value::Null)) {
        out.push(Cause {
            reason: "FieldValueInvalid",
            field: "spec.template.metadata.labels".into(),
            message: format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                go_map(tlabels)
            ),
        });
    }
    out
}

pub(super) fn replicas(spec: &Value) -> Vec<Cause> {
    match spec.get("replicas").and_then(Value::as_i64) {
        Some(n) if n < 0 => vec![Cause::invalid(
            "spec.replicas",
            &json!(n),
            "must be greater than or equal to 0",
        )],
        _ => Vec::new(),
    }
}

pub(super) fn immutable(field: &str, old: &Value, new: &Value, path: &str) -> Vec<Cause> {
    let o = old.pointer(path);
    let n = new.pointer(path);
    if o != n {
        vec![Cause::invalid(
            field,
            n.unwrap_or(&Value::Null),
            "field is immutable",
        )]
    } else {
        Vec::new()
    }
}
