//! Small helpers shared by the controllers: JSON field access, the simulated clock, int-or-percent
//! arithmetic, label selectors, template hashing and conditions.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::controllers::SimContext;
use crate::controllers::store::Store;

/// Milliseconds since the Unix epoch; every simulated instant is handled in this unit.
pub type Millis = i64;

/// JSON-pointer lookup without the per-token allocations of `Value::pointer` (no `~` escapes).
pub trait At {
    fn at(&self, path: &str) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, path: &str) -> Option<&Value> {
        let mut current = self;
        for token in path.split('/').skip(1) {
            current = match current {
                Value::Object(map) => map.get(token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }
}

/// The string at a JSON pointer, if any.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.at(pointer).and_then(Value::as_str)
}

/// The integer at a JSON pointer, if any.
pub fn int_at(value: &Value, pointer: &str) -> Option<i64> {
    value.at(pointer).and_then(Value::as_i64)
}

pub fn bool_at(value: &Value, pointer: &str) -> bool {
    value.at(pointer).and_then(Value::as_bool).unwrap_or(false)
}

pub fn name(object: &Value) -> &str {
    str_at(object, "/metadata/name").unwrap_or("")
}

pub fn namespace(object: &Value) -> &str {
    str_at(object, "/metadata/namespace").unwrap_or("")
}

pub fn uid(object: &Value) -> &str {
    str_at(object, "/metadata/uid").unwrap_or("")
}

pub fn generation(object: &Value) -> i64 {
    int_at(object, "/metadata/generation").unwrap_or(1)
}

pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .at("/metadata/annotations")
        .and_then(|it| it.get(key))
        .and_then(Value::as_str)
}

pub fn is_deleting(object: &Value) -> bool {
    object
        .at("/metadata/deletionTimestamp")
        .is_some_and(|it| !it.is_null())
}

/// The uid named by the controller ownerReference, if any.
pub fn controller_uid(object: &Value) -> Option<&str> {
    object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|it| {
            it.get("controller")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .and_then(|it| it.get("uid"))
        .and_then(Value::as_str)
}

/// A controller ownerReference pointing at `owner`.
pub fn owner_reference(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Mutable access to an object member, creating an empty object (replacing non-objects) on the way.
pub fn obj_mut<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    let map = value.as_object_mut().expect("just made an object");
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("just made an object")
}

pub fn set_annotation(object: &mut Value, key: &str, value: &str) {
    let metadata = obj_mut(object, "metadata");
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    annotations[key] = Value::String(value.to_owned());
}

/// Converts a timestamp to simulated milliseconds.
pub fn millis(timestamp: Timestamp) -> Millis {
    timestamp.as_millisecond()
}

pub fn now_ms(ctx: &SimContext) -> Millis {
    millis(ctx.now)
}

/// RFC 3339 with at most millisecond precision (Kubernetes clients parse fractional seconds).
pub fn fmt_time(at: Millis) -> String {
    match Timestamp::from_millisecond(at) {
        Ok(it) => it.to_string(),
        Err(_) => Timestamp::UNIX_EPOCH.to_string(),
    }
}

pub fn parse_time(text: &str) -> Option<Millis> {
    text.parse::<Timestamp>().ok().map(millis)
}

pub fn time_at(value: &Value, pointer: &str) -> Option<Millis> {
    str_at(value, pointer).and_then(parse_time)
}

/// A simulated duration of `seconds`, stretched by the time scale, in milliseconds (at least 1).
pub fn scaled(ctx: &SimContext, seconds: f64) -> Millis {
    let scale = if ctx.time_scale.is_finite() && ctx.time_scale > 0.0 {
        ctx.time_scale
    } else {
        0.001
    };
    ((seconds * scale * 1000.0).round() as Millis).max(1)
}

/// Resolves an IntOrString (`3` or `"25%"`) against `total`; percentages round up or down.
pub fn int_or_percent(value: Option<&Value>, default: &str, total: i64, round_up: bool) -> i64 {
    let value = match value {
        Some(Value::Null) | None => Value::String(default.to_owned()),
        Some(it) => it.clone(),
    };
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(text) => match text.strip_suffix('%') {
            Some(percent) => {
                let percent: i64 = percent.trim().parse().unwrap_or(0);
                let product = percent * total;
                if round_up {
                    (product + 99).div_euclid(100)
                } else {
                    product.div_euclid(100)
                }
            }
            None => text.trim().parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// FNV-1a, 64 bits.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV-1a, 32 bits (what `ComputeHash` uses).
pub fn fnv32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The alphabet Kubernetes uses for generated names and hashes.
pub const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `rand.SafeEncodeString` of a decimal number: each digit mapped into the safe alphabet.
pub fn safe_encode(number: u64) -> String {
    number
        .to_string()
        .bytes()
        .map(|it| SAFE_ALPHABET[usize::from(it) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// Sixty-four hex digits derived from `seed` (fake image and container ids).
pub fn hex64(seed: &str) -> String {
    (0..4u8)
        .map(|round| format!("{:016x}", fnv64(format!("{round}:{seed}").as_bytes())))
        .collect()
}

/// JSON with recursively sorted keys, for hashing.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            let items: Vec<String> = sorted
                .into_iter()
                .map(|(key, value)| format!("{}:{}", Value::String(key.clone()), canonical(value)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// A pod template prepared for comparison: nulls, empty maps and lists, `creationTimestamp` and the
/// given hash label removed.
pub fn normalize_template(template: &Value, hash_label: &str) -> Value {
    let mut template = prune(template).unwrap_or_else(|| json!({}));
    if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("creationTimestamp");
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove(hash_label);
            if labels.is_empty() {
                metadata.remove("labels");
            }
        }
        if metadata.is_empty() {
            template.as_object_mut().map(|it| it.remove("metadata"));
        }
    }
    template
}

fn prune(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => {
            let pruned: Map<String, Value> = map
                .iter()
                .filter_map(|(key, value)| prune(value).map(|it| (key.clone(), it)))
                .collect();
            if pruned.is_empty() {
                None
            } else {
                Some(Value::Object(pruned))
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                None
            } else {
                Some(Value::Array(
                    items
                        .iter()
                        .map(|it| prune(it).unwrap_or_else(|| json!({})))
                        .collect(),
                ))
            }
        }
        other => Some(other.clone()),
    }
}

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

/// Writes metadata and spec unconditionally (the tick runs under the store lock).
pub fn write<S: Store>(store: &mut S, resource: &str, object: &Value) -> Option<Value> {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    store.update(resource, object).ok()
}

/// Writes `status` unconditionally.
pub fn write_status<S: Store>(store: &mut S, resource: &str, object: &Value) -> Option<Value> {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    store.update_status(resource, object).ok()
}

/// Inserts `key: value` into a status map, or removes the key when `value` is zero (`omitempty`).
pub fn put_count(status: &mut Map<String, Value>, key: &str, value: i64) {
    if value == 0 {
        status.remove(key);
    } else {
        status.insert(key.to_owned(), json!(value));
    }
}

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
