//! The four PATCH content types: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic
//! merge patch and server-side apply (approximated by a strategic merge of the applied
//! configuration). Never validates or stores the result; the handler does.

pub mod strategic;

use serde_json::Value;

/// The patch flavour, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let ct = content_type.split(';').next().unwrap_or("").trim();
        match ct {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml"
            | "application/apply-patch+json"
            | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// Parses the body of a patch into JSON (apply patches may be YAML).
pub fn parse_body(kind: PatchType, body: &[u8]) -> Result<Value, String> {
    match kind {
        PatchType::Apply => match serde_json::from_slice(body) {
            Ok(v) => Ok(v),
            Err(_) => {
                let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
                serde_saphyr::from_str::<Value>(text)
                    .map_err(|e| format!("error decoding YAML: {e}"))
            }
        },
        _ => serde_json::from_slice(body).map_err(|e| format!("error decoding patch: {e}")),
    }
}

/// Applies a parsed patch to `current`.
pub fn apply(kind: PatchType, current: &Value, patch: &Value) -> Result<Value, String> {
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| e.to_string())?;
            let mut doc = current.clone();
            json_patch::patch(&mut doc, &ops).map_err(|e| e.to_string())?;
            Ok(doc)
        }
        PatchType::Merge => {
            let mut doc = current.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Strategic | PatchType::Apply => strategic::apply(current, patch),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_and_merge_patches() {
        let doc = json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"replicas": 1, "list": [1, 2]}});
        let jp = json!([{"op": "replace", "path": "/spec/replicas", "value": 3}, {"op": "test", "path": "/spec/list/0", "value": 1}]);
        assert_eq!(
            apply(PatchType::Json, &doc, &jp).unwrap()["spec"]["replicas"],
            3
        );
        let bad = json!([{"op": "test", "path": "/spec/list/0", "value": 9}]);
        assert!(apply(PatchType::Json, &doc, &bad).is_err());
        let mp = json!({"metadata": {"annotations": {"a": null}}, "spec": {"list": [3]}});
        let out = apply(PatchType::Merge, &doc, &mp).unwrap();
        assert_eq!(out["metadata"]["annotations"], json!({}));
        assert_eq!(out["spec"]["list"], json!([3]));
    }

    #[test]
    fn apply_body_may_be_yaml() {
        let v = parse_body(
            PatchType::Apply,
            b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n",
        )
        .unwrap();
        assert_eq!(v["data"]["a"], "b");
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
    }
}
