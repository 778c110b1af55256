//! JSON field access without allocations, object metadata, owner references and IntOrString
//! arithmetic. Never writes to the store.

use serde_json::{Map, Value, json};

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
