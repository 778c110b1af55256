//! Deletes: DeleteOptions from body or query, delete and deletecollection with admission per
//! object. Never decides cascading itself; storage applies the propagation policy.

use http::Response;
use serde_json::{Value, json};

use crate::{
    admission,
    errors::ApiError,
    server::{Body, json_response},
    storage::{DeleteOptions, Propagation},
};

use super::{Context, admit, decode_body, dry_run};

use super::read::selected;

/// Reads DeleteOptions from the body, falling back to query parameters.
fn delete_options(ctx: &Context<'_>, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode_body(ctx.content_type, body)?
    };
    let from_query = doc.as_object().is_none_or(|m| m.is_empty());
    let get = |key: &str| -> Option<String> {
        if from_query {
            ctx.query.get(key).map(str::to_string)
        } else {
            doc.get(key).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| (!v.is_null()).then(|| v.to_string()))
            })
        }
    };
    let propagation = match get("propagationPolicy").as_deref() {
        None | Some("") => match get("orphanDependents").as_deref() {
            Some("true") => Some(Propagation::Orphan),
            Some("false") => Some(Propagation::Background),
            _ => None,
        },
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    let dry = if from_query {
        dry_run(ctx.query)?
    } else {
        doc.get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"))
            || dry_run(ctx.query)?
    };
    Ok(DeleteOptions {
        propagation,
        precondition_uid: doc
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_rv: doc
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run: dry,
        grace_period: get("gracePeriodSeconds").and_then(|g| g.parse().ok()),
    })
}

pub(super) fn delete(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let opts = delete_options(ctx, body)?;
    let mut storage = ctx.state.storage();
    if admission::active(&storage)
        && let Some(current) = storage.get(req.def, &req.namespace, &req.name).cloned()
    {
        admit(ctx, &storage, "DELETE", None, Some(&current), opts.dry_run)?;
    }
    let deleted = storage.delete(req.def, &req.namespace, &req.name, &opts)?;
    if deleted.pending || req.def.delete_returns_object {
        return Ok(json_response(200, &deleted.object));
    }
    let mut details =
        json!({"name": req.name, "kind": req.def.plural, "uid": deleted.object["metadata"]["uid"]});
    if !req.def.group.is_empty() {
        details["group"] = json!(req.def.group);
    }
    Ok(json_response(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

pub(super) fn delete_collection(
    ctx: &Context<'_>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let opts = delete_options(ctx, body)?;
    let mut storage = ctx.state.storage();
    let ns = (!req.namespace.is_empty()).then_some(req.namespace.as_str());
    let targets: Vec<(String, String)> = selected(ctx, storage.list(req.def, ns))?
        .into_iter()
        .map(|o| {
            (
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let mut items = Vec::new();
    for (ns, name) in targets {
        if admission::active(&storage)
            && let Some(current) = storage.get(req.def, &ns, &name).cloned()
        {
            admit(ctx, &storage, "DELETE", None, Some(&current), opts.dry_run)?;
        }
        if let Ok(d) = storage.delete(req.def, &ns, &name, &opts) {
            items.push(d.object);
        }
    }
    let list = json!({
        "kind": format!("{}List", req.def.kind),
        "apiVersion": req.def.api_version(),
        "metadata": {"resourceVersion": storage.current_rv().to_string()},
        "items": items,
    });
    Ok(json_response(200, &list))
}
