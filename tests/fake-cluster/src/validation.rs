//! Validation as kube-apiserver words it (`pkg/apis/*/validation`): names, pod templates,
//! workload selectors, Job rules and immutable fields. Returns the `details.causes` of a 422.

use serde_json::{Value, json};

use crate::{errors::Cause, resources::ResourceDef, selector::LabelSelector};

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_label)
}

/// Errors for a DNS-1123 label (max 63).
pub fn dns_label(field: &str, value: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    if value.len() > 63 {
        out.push(Cause::invalid(
            field,
            &json!(value),
            "must be no more than 63 characters",
        ));
    }
    if !is_label(value) {
        out.push(Cause::invalid(field, &json!(value), LABEL_MSG));
    }
    out
}

/// Errors for a DNS-1123 subdomain (max 253).
pub fn dns_subdomain(field: &str, value: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    if value.len() > 253 {
        out.push(Cause::invalid(
            field,
            &json!(value),
            "must be no more than 253 characters",
        ));
    }
    if !is_subdomain(value) {
        out.push(Cause::invalid(field, &json!(value), SUBDOMAIN_MSG));
    }
    out
}

fn label_value(field: &str, value: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    if value.len() > 63 {
        out.push(Cause::invalid(
            field,
            &json!(value),
            "must be no more than 63 characters",
        ));
    }
    let ok = value.is_empty()
        || (value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && value.as_bytes()[0].is_ascii_alphanumeric()
            && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric());
    if !ok {
        out.push(Cause::invalid(
            field,
            &json!(value),
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ));
    }
    out
}

fn labels(field: &str, labels: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(map) = labels.and_then(Value::as_object) {
        for v in map.values() {
            out.extend(label_value(field, v.as_str().unwrap_or_default()));
        }
    }
    out
}

/// Renders a label map like Go's `%#v` of `map[string]string`.
fn go_map(labels: Option<&Value>) -> String {
    let mut parts: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    format!("map[string]string{{{}}}", parts.join(", "))
}

fn pod_spec(field: &str, spec: Option<&Value>, allowed_restart: &[&str]) -> Vec<Cause> {
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
fn workload_selector(spec: &Value, kind_word: &str) -> Vec<Cause> {
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

fn replicas(spec: &Value) -> Vec<Cause> {
    match spec.get("replicas").and_then(Value::as_i64) {
        Some(n) if n < 0 => vec![Cause::invalid(
            "spec.replicas",
            &json!(n),
            "must be greater than or equal to 0",
        )],
        _ => Vec::new(),
    }
}

fn immutable(field: &str, old: &Value, new: &Value, path: &str) -> Vec<Cause> {
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

/// `validateGeneratedSelector`: a new Job's controller labels and selector must be the ones the
/// server generated for it (catches Jobs cloned without stripping them).
fn job_generated_selector(job: &Value) -> Vec<Cause> {
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

fn job_spec(spec: &Value) -> Vec<Cause> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{defaults, resources};

    fn deployment() -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}})
    }

    #[test]
    fn valid_deployment_passes_and_errors_are_worded() {
        let def = resources::by_plural("deployments").unwrap();
        let mut d = deployment();
        defaults::apply("deployments", &mut d);
        assert_eq!(validate(def, &d, None), vec![]);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
        d["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
        let causes = validate(def, &d, None);
        assert_eq!(
            causes[0].render(),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
        );
        assert_eq!(
            causes[1].render(),
            "spec.template.spec.containers[0].image: Required value"
        );
    }

    #[test]
    fn lease_times_need_microseconds() {
        let def = resources::by_plural("leases").unwrap();
        let ok = json!({"spec": {"renewTime": "2024-01-01T00:00:00.000000Z", "acquireTime": "2024-01-01T00:00:00.123456+02:00"}});
        assert_eq!(decode_error(def, &ok), None);
        let bad = json!({"spec": {"renewTime": "2024-01-01T00:00:00Z"}});
        assert!(
            decode_error(def, &bad)
                .unwrap()
                .contains("cannot parse \"Z\" as \".000000\"")
        );
    }

    #[test]
    fn job_restart_policy_and_names() {
        let def = resources::by_plural("jobs").unwrap();
        let j = json!({"metadata": {"name": "x".repeat(64)}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]}}}});
        let rendered: Vec<String> = validate(def, &j, None).iter().map(Cause::render).collect();
        assert!(
            rendered
                .iter()
                .any(|r| r.contains("must be no more than 63 characters")),
            "{rendered:?}"
        );
        assert!(rendered.contains(&"spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".to_string()));
        assert!(!dns_subdomain("metadata.name", "Bad_Name").is_empty());
    }
}
