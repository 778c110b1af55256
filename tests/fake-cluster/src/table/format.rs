//! Formatting shared by the per-kind printers: ages as `HumanDuration`, typed field reads with
//! the printers' defaults, the pod STATUS column, container/image lists and selectors. Never
//! knows which kind a row belongs to, except that `pod_status` reads a Pod.

use serde_json::Value;

/// `duration.HumanDuration` from apimachinery.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

pub(super) fn age(o: &Value, field: &str) -> String {
    let ts = o
        .pointer(field)
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    match ts {
        Some(t) => human_duration(jiff::Timestamp::now().as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

pub(super) fn int(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn string(o: &Value, p: &str) -> String {
    o.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

pub(super) fn pod_status(o: &Value) -> String {
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let mut reason = string(o, "/status/reason");
    if reason.is_empty() {
        reason = string(o, "/status/phase");
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in o
            .pointer(&format!("/status/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = c
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && *r != "PodInitializing")
            {
                reason = if list == "initContainerStatuses" {
                    format!("Init:{r}")
                } else {
                    r.to_string()
                };
            } else if let Some(t) = c.pointer("/state/terminated")
                && list == "containerStatuses"
            {
                let r = t.get("reason").and_then(Value::as_str).unwrap_or_default();
                reason = if r.is_empty() {
                    format!("ExitCode:{}", int(t, "/exitCode"))
                } else {
                    r.to_string()
                };
            }
        }
    }
    reason
}

pub(super) fn template_containers(o: &Value, pointer: &str) -> (String, String) {
    let cs = o
        .pointer(pointer)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let images: Vec<&str> = cs
        .iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .collect();
    (names.join(","), images.join(","))
}

pub(super) fn selector(o: &Value) -> String {
    o.pointer("/spec/selector")
        .and_then(|s| crate::selector::LabelSelector::from_json(s).ok())
        .map(|s| s.to_query())
        .unwrap_or_default()
}
