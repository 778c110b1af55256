//! Object metadata rules: DNS-1123 names and label keys/values, worded like apimachinery.
//! Never looks at spec.

use serde_json::{Value, json};

use crate::errors::Cause;

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

pub(super) fn labels(field: &str, labels: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(map) = labels.and_then(Value::as_object) {
        for v in map.values() {
            out.extend(label_value(field, v.as_str().unwrap_or_default()));
        }
    }
    out
}

/// Renders a label map like Go's `%#v` of `map[string]string`.
pub(super) fn go_map(labels: Option<&Value>) -> String {
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
