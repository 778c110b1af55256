//! A minimal OpenAPI v3 surface: enough for kubectl's query-parameter verifier (`fieldValidation`,
//! `dryRun`) so that `kubectl apply`, `create -f` and `replace -f` validate, without schemas
//! (kubectl then builds strategic patches from its compiled-in types). `/openapi/v2` is a 404.
//! Never reads storage.

use serde_json::{Map, Value, json};

use crate::resources::{self, GROUPS};

fn gv_path(group: &str) -> String {
    if group.is_empty() {
        "api/v1".into()
    } else {
        format!("apis/{group}/v1")
    }
}

fn hash(group: &str) -> String {
    let h = group.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{h:016X}")
}

/// `/openapi/v3`: the index of group-version documents.
pub fn index() -> Value {
    let mut paths = Map::new();
    for g in std::iter::once("").chain(GROUPS.iter().copied()) {
        let p = gv_path(g);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(g))}),
        );
    }
    json!({"paths": paths})
}

fn operation(group: &str, kind: &str, id: &str) -> Value {
    let param = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    json!({
        "operationId": id,
        "x-kubernetes-group-version-kind": {"group": group, "version": "v1", "kind": kind},
        "parameters": [param("dryRun"), param("fieldManager"), param("fieldValidation")],
        "responses": {"200": {"description": "OK"}}
    })
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/v1`.
pub fn document(path: &str) -> Option<Value> {
    let group = match path {
        "api/v1" => "",
        other => other.strip_prefix("apis/")?.strip_suffix("/v1")?,
    };
    if !group.is_empty() && !GROUPS.contains(&group) {
        return None;
    }
    let mut paths = Map::new();
    for r in resources::in_group_version(group, "v1") {
        let base = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let scope = if r.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let collection = format!("{base}{scope}/{}", r.plural);
        paths.insert(
            collection.clone(),
            json!({"post": operation(group, r.kind, &format!("create{}", r.kind))}),
        );
        if !r.virtual_only {
            paths.insert(
                format!("{collection}/{{name}}"),
                json!({
                    "put": operation(group, r.kind, &format!("replace{}", r.kind)),
                    "patch": operation(group, r.kind, &format!("patch{}", r.kind)),
                }),
            );
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_points_at_documents() {
        let idx = index();
        let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        let doc = document("apis/apps/v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(document("apis/nope/v1").is_none());
    }
}
