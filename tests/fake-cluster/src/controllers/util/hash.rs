//! Hashes and generated names: FNV, the safe alphabet, fake ids, canonical JSON and pod templates
//! normalized for comparison. Never random: the same input gives the same output.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

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
