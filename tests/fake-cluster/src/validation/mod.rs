//! Validation as kube-apiserver words it (`pkg/apis/*/validation`): names, pod templates,
//! workload selectors, Job rules and immutable fields. Returns the `details.causes` of a 422.
//!
//! This module holds the per-kind dispatch and decode errors; `meta` checks names and labels,
//! `workload` pod templates and selectors, `job` the Job rules. Never mutates or defaults an
//! object (see `defaults`) and never looks at other stored objects.

mod job;
mod meta;
mod workload;

#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::{errors::Cause, resources::ResourceDef};

use job::{job_generated_selector, job_spec};
use meta::labels;
pub use meta::{dns_label, dns_subdomain};
use workload::{immutable, pod_spec, replicas, workload_selector};

fn is_micro_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let zone = &s.get(26..).unwrap_or_default();
    b.len() >= 27
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..26)
        && (*zone == "Z"
            || (zone.len() == 6
                && matches!(zone.as_bytes()[0], b'+' | b'-')
                && zone.as_bytes()[3] == b':'))
}

/// Decoding errors (400) the real server reports before validation: Lease `acquireTime` and
/// `renewTime` are `MicroTime`, which must carry exactly six fractional digits.
pub fn decode_error(def: &ResourceDef, object: &Value) -> Option<String> {
    if def.plural != "leases" {
        return None;
    }
    for f in ["acquireTime", "renewTime"] {
        if let Some(t) = object
            .pointer(&format!("/spec/{f}"))
            .and_then(Value::as_str)
            && !is_micro_time(t)
        {
            let rest = t.get(19..).unwrap_or_default();
            return Some(format!(
                "Lease in version \"v1\" cannot be handled as a Lease: parsing time {t:?} as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse {rest:?} as \".000000\""
            ));
        }
    }
    None
}

/// Validates `object` (defaulted) for `def`; `old` is set on updates.
pub fn validate(def: &ResourceDef, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        out.push(Cause {
            reason: "FieldValueRequired",
            field: "metadata.name".into(),
            message: "Required value: name or generateName is required".into(),
        });
    } else if def.group == "rbac.authorization.k8s.io" {
        if name.contains('/') || name.contains('%') || name == "." || name == ".." {
            out.push(Cause::invalid(
                "metadata.name",
                &json!(name),
                "may not contain '/' or '%'",
            ));
        }
    } else if matches!(def.plural, "namespaces" | "services") {
        out.extend(dns_label("metadata.name", name));
    } else {
        out.extend(dns_subdomain("metadata.name", name));
    }
    out.extend(labels(
        "metadata.labels",
        object.pointer("/metadata/labels"),
    ));
    let empty = json!({});
    let spec = object.get("spec").unwrap_or(&empty);
    match def.plural {
        "pods" => out.extend(pod_spec(
            "spec",
            object.get("spec"),
            &["Always", "OnFailure", "Never"],
        )),
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" => {
            let word = match def.plural {
                "deployments" => "deployment",
                "replicasets" => "replicaset",
                "statefulsets" => "statefulset",
                _ => "daemonset",
            };
            out.extend(replicas(spec));
            out.extend(workload_selector(spec, word));
            out.extend(labels(
                "spec.template.labels",
                spec.pointer("/template/metadata/labels"),
            ));
            out.extend(pod_spec(
                "spec.template.spec",
                spec.pointer("/template/spec"),
                &["Always"],
            ));
            if def.plural == "deployments" {
                let pds = spec
                    .get("progressDeadlineSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(600);
                let mrs = spec
                    .get("minReadySeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if pds <= mrs {
                    out.push(Cause::invalid(
                        "spec.progressDeadlineSeconds",
                        &json!(pds),
                        "must be greater than minReadySeconds",
                    ));
                }
            }
            if let Some(old) = old {
                out.extend(immutable("spec.selector", old, object, "/spec/selector"));
            }
        }
        "jobs" => {
            if name.len() > 63 && spec.get("manualSelector") != Some(&json!(true)) {
                out.push(Cause::invalid(
                    "spec.template.labels",
                    &json!(name),
                    "must be no more than 63 characters",
                ));
            }
            out.extend(job_spec(spec));
            if old.is_none() {
                out.extend(job_generated_selector(object));
            }
            if let Some(old) = old {
                out.extend(immutable("spec.selector", old, object, "/spec/selector"));
                out.extend(immutable("spec.template", old, object, "/spec/template"));
                out.extend(immutable(
                    "spec.completions",
                    old,
                    object,
                    "/spec/completions",
                ));
                out.extend(immutable(
                    "spec.completionMode",
                    old,
                    object,
                    "/spec/completionMode",
                ));
            }
        }
        "cronjobs" => {
            if spec
                .get("schedule")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
            {
                out.push(Cause::required("spec.schedule"));
            }
            out.extend(pod_spec(
                "spec.jobTemplate.spec.template.spec",
                spec.pointer("/jobTemplate/spec/template/spec"),
                &["OnFailure", "Never"],
            ));
        }
        "rolebindings" | "clusterrolebindings" => {
            if object
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
            {
                out.push(Cause::required("roleRef.name"));
            }
            if let Some(old) = old
                && old.get("roleRef") != object.get("roleRef")
            {
                out.push(Cause::invalid(
                    "roleRef",
                    object.get("roleRef").unwrap_or(&Value::Null),
                    "cannot change roleRef",
                ));
            }
        }
        "leases" => {
            if let Some(d) = spec.get("leaseDurationSeconds").and_then(Value::as_i64)
                && d <= 0
            {
                out.push(Cause::invalid(
                    "spec.leaseDurationSeconds",
                    &json!(d),
                    "must be greater than 0",
                ));
            }
        }
        _ => {}
    }
    out
}
