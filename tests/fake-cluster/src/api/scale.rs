//! The `scale` subresource: an `autoscaling/v1` Scale view of workload replicas, read and written.
//! Never changes anything of the object but `spec.replicas`; storage applies its update rules.

use http::Response;
use serde_json::{Value, json};

use crate::{
    admission,
    errors::ApiError,
    patch::{self, PatchType},
    selector::LabelSelector,
    server::{Body, json_response},
    storage::WriteMode,
};

use super::{Context, admit, decode_body, dry_run, with_warnings};

fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| LabelSelector::from_json(s).ok())
        .map(|s| s.to_query())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

pub(super) fn get_scale(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let storage = ctx.state.storage();
    let obj = storage
        .get(ctx.req.def, &ctx.req.namespace, &ctx.req.name)
        .ok_or_else(|| ApiError::not_found(ctx.req.def, &ctx.req.name))?;
    Ok(json_response(200, &scale_of(obj)))
}

pub(super) fn write_scale(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let current = storage
        .get(req.def, &req.namespace, &req.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(req.def, &req.name))?;
    let scale = scale_of(&current);
    let new_scale = if req.verb == "patch" {
        let kind = PatchType::from_content_type(ctx.content_type)
            .ok_or_else(|| ApiError::unsupported_media_type(ctx.content_type))?;
        let doc = patch::parse_body(kind, body).map_err(ApiError::bad_request)?;
        patch::apply(kind, &scale, &doc).map_err(ApiError::bad_request)?
    } else {
        decode_body(ctx.content_type, body)?
    };
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
                req.name
            ),
            details: Some(
                json!({"name": req.name, "group": "autoscaling", "kind": "Scale", "causes": [{"reason": "FieldValueInvalid", "message": format!("Invalid value: {replicas}: must be greater than or equal to 0"), "field": "spec.replicas"}]}),
            ),
        });
    }
    let mut object = current.clone();
    object["spec"]["replicas"] = json!(replicas);
    let rv = new_scale
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or(Value::Null);
    object["metadata"]["resourceVersion"] = if rv.as_str().is_some_and(|s| !s.is_empty()) {
        rv
    } else {
        current["metadata"]["resourceVersion"].clone()
    };
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            object.clone(),
            WriteMode::Main,
            true,
            Some(&ctx.manager()),
        )?;
        let (new, old) = (scale_of(&preview), scale_of(&current));
        warnings = admit(ctx, &storage, "UPDATE", Some(&new), Some(&old), dry)?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        object,
        WriteMode::Main,
        dry,
        Some(&ctx.manager()),
    )?;
    Ok(with_warnings(
        json_response(200, &scale_of(&updated)),
        &warnings,
    ))
}
