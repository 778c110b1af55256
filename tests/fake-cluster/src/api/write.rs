//! Writes of whole objects: create, update (PUT) and patch (including apply and create-on-patch)
//! on the main resource and the `status`-like subresources. Never deletes and never touches
//! `scale`.

use http::Response;
use serde_json::{Value, json};

use crate::{
    admission,
    errors::{ApiError, Cause},
    managed::{self},
    patch::{self, PatchType},
    server::{Body, json_response},
    storage::WriteMode,
};

use super::{Context, admit, decode_body, dry_run, with_warnings};

fn check_type(ctx: &Context<'_>, body: &Value) -> Result<(), ApiError> {
    let def = ctx.req.def;
    if let Some(av) = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && av != def.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            def.api_version()
        )));
    }
    if let Some(kind) = body
        .get("kind")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && kind != def.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            def.kind
        )));
    }
    Ok(())
}

pub(super) fn create(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let object = decode_body(ctx.content_type, body)?;
    check_type(ctx, &object)?;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let manager = ctx.manager();
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.create_by(
            ctx.req.def,
            &ctx.req.namespace,
            object.clone(),
            true,
            Some(&manager),
        )?;
        warnings = admit(ctx, &storage, "CREATE", Some(&preview), None, dry)?;
    }
    let created =
        storage.create_by(ctx.req.def, &ctx.req.namespace, object, dry, Some(&manager))?;
    Ok(with_warnings(json_response(201, &created), &warnings))
}

fn mode(sub: &str) -> WriteMode {
    if sub == "status" {
        WriteMode::Status
    } else {
        WriteMode::Main
    }
}

pub(super) fn update(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let object = decode_body(ctx.content_type, body)?;
    check_type(ctx, &object)?;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let req = ctx.req;
    let manager = ctx.manager();
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let current = storage.get(req.def, &req.namespace, &req.name).cloned();
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            object.clone(),
            mode(&req.subresource),
            true,
            Some(&manager),
        )?;
        warnings = admit(
            ctx,
            &storage,
            "UPDATE",
            Some(&preview),
            current.as_ref(),
            dry,
        )?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        object,
        mode(&req.subresource),
        dry,
        Some(&manager),
    )?;
    Ok(with_warnings(json_response(200, &updated), &warnings))
}

pub(super) fn patch(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let kind = PatchType::from_content_type(ctx.content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(ctx.content_type))?;
    let dry = dry_run(ctx.query)?;
    let options_invalid = |cause: Cause| ApiError {
        code: 422,
        reason: "Invalid",
        message: format!(
            "PatchOptions.meta.k8s.io \"\" is invalid: {}",
            cause.render()
        ),
        details: Some(
            json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": cause.reason, "message": cause.message, "field": cause.field}]}),
        ),
    };
    if kind == PatchType::Apply && ctx.query.get("fieldManager").is_none_or(str::is_empty) {
        return Err(options_invalid(Cause {
            reason: "FieldValueRequired",
            field: "fieldManager".into(),
            message: "Required value: is required for apply patch".into(),
        }));
    }
    if kind != PatchType::Apply && ctx.query.get("force").is_some() {
        return Err(options_invalid(Cause::forbidden(
            "force",
            "may not be specified for non-apply patch",
        )));
    }
    let patch_doc = patch::parse_body(kind, body).map_err(ApiError::bad_request)?;
    let mut storage = ctx.state.storage();
    let Some(current) = storage.get(req.def, &req.namespace, &req.name).cloned() else {
        if kind == PatchType::Apply && req.subresource.is_empty() {
            let mut object = patch_doc;
            if object.get("metadata").is_none() {
                object["metadata"] = json!({});
            }
            object["metadata"]["name"] = json!(req.name);
            let fields = managed::record_apply(
                &json!({}),
                &object,
                &object,
                &ctx.manager(),
                &req.def.api_version(),
                true,
            )?;
            object["metadata"]["managedFields"] = fields;
            let mut warnings = Vec::new();
            if admission::active(&storage) {
                let preview = storage.create(req.def, &req.namespace, object.clone(), true)?;
                warnings = admit(ctx, &storage, "CREATE", Some(&preview), None, dry)?;
            }
            let created = storage.create(req.def, &req.namespace, object, dry)?;
            return Ok(with_warnings(json_response(201, &created), &warnings));
        }
        return Err(ApiError::not_found(req.def, &req.name));
    };
    if kind == PatchType::Apply {
        check_type(ctx, &patch_doc)?;
    }
    let mut patched = patch::apply(kind, &current, &patch_doc).map_err(|e| match kind {
        PatchType::Json => ApiError::new(
            422,
            "Invalid",
            format!("the server rejected our request due to an error in our request: {e}"),
        ),
        _ => ApiError::bad_request(e),
    })?;
    let manager = if kind == PatchType::Apply {
        // Apply owns the fields it sets; the stored resourceVersion is not a precondition.
        if patch_doc.pointer("/metadata/resourceVersion").is_none() {
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
        let force = ctx.query.flag("force");
        let fields = managed::record_apply(
            &current,
            &patch_doc,
            &patched,
            &ctx.manager(),
            &req.def.api_version(),
            force,
        )?;
        patched["metadata"]["managedFields"] = fields;
        None
    } else {
        Some(ctx.manager())
    };
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            patched.clone(),
            mode(&req.subresource),
            true,
            manager.as_ref(),
        )?;
        warnings = admit(ctx, &storage, "UPDATE", Some(&preview), Some(&current), dry)?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        patched,
        mode(&req.subresource),
        dry,
        manager.as_ref(),
    )?;
    Ok(with_warnings(json_response(200, &updated), &warnings))
}
