//! Schema-driven decoding of the protobuf bodies kubectl's typed clients send for
//! `kubectl create namespace|deployment|job|cronjob|configmap|secret|serviceaccount|role|
//! rolebinding|clusterrole|clusterrolebinding`. Field numbers follow the `generated.proto` files
//! of `k8s.io/api` and `k8s.io/apimachinery` (checked against captured kubectl requests).
//! Go's encoder writes non-pointer fields even when empty, so empty strings, `false` and zero
//! integers of non-pointer fields are dropped, as `omitempty` would in JSON.
//!
//! This module walks the wire format with the field tables of `schema`. It never encodes
//! protobuf (responses are JSON) and never validates the decoded object.

mod schema;

#[cfg(test)]
mod tests;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use crate::proto_wire::{Wire, fields};
use schema::{T, schema};

/// Whether `decode` knows this top-level kind.
pub fn supports(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Deployment"
            | "Job"
            | "CronJob"
            | "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
    )
}

fn string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn map_entry(b: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut key = String::new();
    let mut value = Vec::new();
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Bytes(k)) => key = string(&k),
            (2, Wire::Bytes(v)) => value = v,
            _ => {}
        }
    }
    Ok((key, value))
}

fn as_i64(w: &Wire) -> i64 {
    match w {
        Wire::Varint(v) | Wire::Fixed64(v) => *v as i64,
        Wire::Fixed32(v) => i64::from(*v as i32),
        Wire::Bytes(_) => 0,
    }
}

/// Decodes `buf` as `message` into its JSON form.
pub fn decode(message: &str, buf: &[u8]) -> Result<Value, String> {
    let schema = schema(message);
    let mut out = Map::new();
    for (num, wire) in fields(buf)? {
        let Some((_, name, ty)) = schema.iter().find(|(n, _, _)| *n == num) else {
            continue;
        };
        let name = name.to_string();
        let bytes = match &wire {
            Wire::Bytes(b) => Some(b.as_slice()),
            _ => None,
        };
        match (*ty, bytes) {
            (T::S, Some(b)) => {
                if !b.is_empty() {
                    out.insert(name, json!(string(b)));
                }
            }
            (T::I, None) => {
                let v = as_i64(&wire);
                if v != 0 {
                    out.insert(name, json!(v));
                }
            }
            (T::P, None) => {
                out.insert(name, json!(as_i64(&wire)));
            }
            (T::B, None) => {
                if as_i64(&wire) != 0 {
                    out.insert(name, json!(true));
                }
            }
            (T::PB, None) => {
                out.insert(name, json!(as_i64(&wire) != 0));
            }
            (T::RS, Some(b)) => {
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(string(b)));
                }
            }
            (T::M(m), Some(b)) => {
                let v = decode(m, b)?;
                if m == "VolumeSource" {
                    // VolumeSource is inlined into Volume in JSON.
                    if let Value::Object(src) = v {
                        out.extend(src);
                    }
                } else if v.as_object().is_some_and(|o| !o.is_empty()) {
                    out.insert(name, v);
                }
            }
            (T::MK(m), Some(b)) => {
                out.insert(name, decode(m, b)?);
            }
            (T::RM(m), Some(b)) => {
                let v = decode(m, b)?;
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(v);
                }
            }
            (T::MapS | T::MapB | T::MapQ, Some(b)) => {
                let (k, v) = map_entry(b)?;
                let value = match ty {
                    T::MapS => json!(string(&v)),
                    T::MapB => json!(STANDARD.encode(&v)),
                    _ => {
                        let q = fields(&v)?.into_iter().find_map(|(n, w)| match (n, w) {
                            (1, Wire::Bytes(s)) => Some(string(&s)),
                            _ => None,
                        });
                        json!(q.unwrap_or_default())
                    }
                };
                let map = out.entry(name).or_insert_with(|| json!({}));
                map[k] = value;
            }
            (T::IntOrStr, Some(b)) => {
                let mut kind = 0;
                let mut int = 0;
                let mut s = String::new();
                for (n, w) in fields(b)? {
                    match (n, &w) {
                        (1, _) => kind = as_i64(&w),
                        (2, _) => int = as_i64(&w),
                        (3, Wire::Bytes(v)) => s = string(v),
                        _ => {}
                    }
                }
                out.insert(name, if kind == 1 { json!(s) } else { json!(int) });
            }
            _ => return Err(format!("unexpected wire type for {message}.{name}")),
        }
    }
    // ConfigMap volume sources nest the name in an embedded LocalObjectReference.
    if message == "ConfigMapVolumeSource"
        && let Some(Value::Object(r)) = out.remove("localObjectReference")
    {
        out.extend(r);
    }
    Ok(Value::Object(out))
}
