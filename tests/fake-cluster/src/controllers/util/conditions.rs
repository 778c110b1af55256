//! Status conditions as the controllers write them: set (with `SetDeploymentCondition`
//! semantics), find and remove. Never writes to the store.

use serde_json::{Value, json};

use super::fields::{At, str_at};
use super::time::{Millis, fmt_time};

/// A condition as the controllers write it.
pub struct Condition<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub reason: &'a str,
    pub message: String,
}

/// `SetDeploymentCondition` semantics: a no-op when status and reason are unchanged; otherwise the
/// condition is replaced (moved to the end), keeping `lastTransitionTime` when only the reason changed.
/// Returns whether anything changed.
pub fn set_condition(
    conditions: &mut Vec<Value>,
    condition: Condition<'_>,
    at: Millis,
    with_update_time: bool,
) -> bool {
    let current = conditions
        .iter()
        .position(|it| str_at(it, "/type") == Some(condition.kind));
    let mut transition = fmt_time(at);
    if let Some(index) = current {
        let old = &conditions[index];
        if str_at(old, "/status") == Some(condition.status) {
            if str_at(old, "/reason") == Some(condition.reason) {
                return false;
            }
            if let Some(it) = str_at(old, "/lastTransitionTime") {
                transition = it.to_owned();
            }
        }
        conditions.remove(index);
    }
    let mut value = json!({"type": condition.kind, "status": condition.status});
    if with_update_time {
        value["lastUpdateTime"] = json!(fmt_time(at));
    } else {
        value["lastProbeTime"] = Value::Null;
    }
    value["lastTransitionTime"] = json!(transition);
    value["reason"] = json!(condition.reason);
    value["message"] = json!(condition.message);
    conditions.push(value);
    true
}

pub fn find_condition<'a>(conditions: &'a [Value], kind: &str) -> Option<&'a Value> {
    conditions
        .iter()
        .find(|it| str_at(it, "/type") == Some(kind))
}

pub fn remove_condition(conditions: &mut Vec<Value>, kind: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|it| str_at(it, "/type") != Some(kind));
    before != conditions.len()
}

pub fn conditions_of(object: &Value) -> Vec<Value> {
    object
        .at("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
