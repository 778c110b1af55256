//! batch/v1 Job rules: the generated selector of a new Job and the spec's counts, policies and
//! pod template. Never checks other kinds.

use serde_json::{Value, json};

use super::meta::{go_map, labels};
use super::workload::pod_spec;
use crate::{errors::Cause, selector::LabelSelector};

/// `validateGeneratedSelector`: a new Job's controller labels and selector must be the ones the
/// server generated for it (catches Jobs cloned without stripping them).
pub(super) fn job_generated_selector(job: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if job.pointer("/spec/manualSelector") == Some(&json!(true)) {
        return out;
    }
    let uid = job
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let labels = job.pointer("/spec/template/metadata/labels");
    for (key, expected) in [
        ("controller-uid", uid),
        ("job-name", name),
        ("batch.kubernetes.io/controller-uid", uid),
        ("batch.kubernetes.io/job-name", name),
    ] {
        let actual = labels
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if actual != expected {
            out.push(Cause::invalid(
                format!("spec.template.metadata.labels[{key}]"),
                &json!(actual),
                &format!("must be '{expected}'"),
            ));
        }
    }
    let expected = json!({"batch.kubernetes.io/controller-uid": uid});
    let selector = job
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(Value::Null);
    if selector.get("matchLabels") != Some(&expected) || selector.get("matchExpressions").is_some()
    {
        out.push(Cause::invalid(
            "spec.selector",
            &selector,
            "`selector` not auto-generated",
        ));
    }
    out
}

pub(super) fn job_spec(spec: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    match spec.get("selector").filter(|s| !s.is_null()) {
        None => out.push(Cause::required("spec.selector")),
        Some(sel) => {
            if let Ok(parsed) = LabelSelector::from_json(sel) {
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
            }
        }
    }
    for f in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ] {
        if let Some(n) = spec.get(f).and_then(Value::as_i64)
            && n < 0
        {
            out.push(Cause::invalid(
                format!("spec.{f}"),
                &json!(n),
                "must be greater than or equal to 0",
            ));
        }
    }
    out.extend(labels(
        "spec.template.labels",
        spec.pointer("/template/metadata/labels"),
    ));
    out.extend(pod_spec(
        "spec.template.spec",
        spec.pointer("/template/spec"),
        &["OnFailure", "Never"],
    ));
    out
}
