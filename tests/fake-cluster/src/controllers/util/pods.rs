//! Pod predicates the controllers share: active, Ready (and since when), available. Never changes
//! a pod.

use serde_json::Value;

use super::fields::{At, is_deleting, str_at};
use super::time::{Millis, now_ms, scaled, time_at};
use crate::controllers::SimContext;

/// Whether a pod is active: not terminating and not finished.
pub fn pod_active(pod: &Value) -> bool {
    !is_deleting(pod) && !matches!(str_at(pod, "/status/phase"), Some("Succeeded" | "Failed"))
}

/// The time a pod's Ready condition turned True, if it is Ready.
pub fn pod_ready_since(pod: &Value) -> Option<Millis> {
    let conditions = pod.at("/status/conditions").and_then(Value::as_array)?;
    let ready = conditions
        .iter()
        .find(|it| str_at(it, "/type") == Some("Ready"))?;
    if str_at(ready, "/status") != Some("True") {
        return None;
    }
    Some(time_at(ready, "/lastTransitionTime").unwrap_or(0))
}

pub fn pod_ready(pod: &Value) -> bool {
    pod.at("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|it| {
            it.iter().any(|it| {
                str_at(it, "/type") == Some("Ready") && str_at(it, "/status") == Some("True")
            })
        })
}

/// `IsPodAvailable`: Ready for longer than `minReadySeconds` (scaled).
pub fn pod_available(pod: &Value, min_ready_seconds: i64, ctx: &SimContext) -> bool {
    match pod_ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(since) => since + scaled(ctx, min_ready_seconds as f64) < now_ms(ctx),
    }
}
