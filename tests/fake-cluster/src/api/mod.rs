//! Resource verbs: get, list, create, update, patch, delete and deletecollection on stored
//! resources and their `status`/`scale` subresources; watches, logs and reviews are delegated.
//!
//! This module routes by verb and subresource and holds what all writes share (admission,
//! warnings, body decoding); the handlers live in `read`, `write`, `scale` and `delete`. It never
//! authenticates or authorizes (the server has done that) and never encodes watch streams.

mod delete;
mod read;
mod scale;
mod write;

use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use serde_json::Value;

use crate::{
    admission,
    auth::UserInfo,
    errors::ApiError,
    logs,
    managed::Manager,
    protobuf, reviews,
    server::{Body, Query, ResourceRequest, State},
    storage::Storage,
    watch,
};

use delete::{delete, delete_collection};
use read::{get, list};
use scale::{get_scale, write_scale};
use write::{create, patch, update};

/// One routed, authorized request.
pub struct Context<'a> {
    pub state: &'a Arc<State>,
    pub user: &'a UserInfo,
    pub req: &'a ResourceRequest,
    pub query: &'a Query,
    pub content_type: &'a str,
    pub accept: &'a str,
    pub user_agent: &'a str,
}

impl Context<'_> {
    /// `fieldManager`, else the User-Agent's program name, as the real server defaults it.
    pub fn manager(&self) -> Manager {
        let name = match self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.to_string(),
            None => {
                let prefix = self.user_agent.split('/').next().unwrap_or_default().trim();
                if prefix.is_empty() {
                    "unknown".to_string()
                } else {
                    prefix.to_string()
                }
            }
        };
        let subresource = (!self.req.subresource.is_empty()).then(|| self.req.subresource.clone());
        Manager { name, subresource }
    }
}

/// Parses `dryRun`.
pub fn dry_run(query: &Query) -> Result<bool, ApiError> {
    let values: Vec<&str> = query
        .0
        .iter()
        .filter(|(k, _)| k == "dryRun")
        .map(|(_, v)| v.as_str())
        .collect();
    match values.as_slice() {
        [] => Ok(false),
        ["All"] => Ok(true),
        [other, ..] => Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        ))),
    }
}

/// Decodes a request body: JSON, YAML or (for the review kinds) protobuf.
pub fn decode_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    if ct == protobuf::CONTENT_TYPE {
        return protobuf::decode(body).map_err(|e| ApiError::new(415, "UnsupportedMediaType", e));
    }
    if ct == "application/yaml" {
        let text = std::str::from_utf8(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        return serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

pub async fn serve(ctx: Context<'_>, body: Bytes) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    if req.def.virtual_only {
        if req.verb != "create" {
            return Err(ApiError::method_not_allowed());
        }
        let object = decode_body(ctx.content_type, &body)?;
        return reviews::create(&ctx, object);
    }
    match (req.verb, req.subresource.as_str()) {
        ("get", "log") => logs::serve(&ctx).await,
        ("get" | "create", "exec" | "attach" | "portforward") => {
            Err(ApiError::bad_request(format!(
                "pods/{}: the simulated kubelet runs no containers to connect to",
                req.subresource
            )))
        }
        ("get", "scale") => get_scale(&ctx),
        ("get", _) => get(&ctx),
        ("list", "") => list(&ctx),
        ("watch", "") => watch::serve(&ctx),
        ("create", "token") => {
            let object = decode_body(ctx.content_type, &body)?;
            reviews::token_request(&ctx, object)
        }
        ("create", "") => create(&ctx, &body),
        ("update", "scale") | ("patch", "scale") => write_scale(&ctx, &body),
        ("update", "" | "status" | "finalize" | "ephemeralcontainers") => update(&ctx, &body),
        ("patch", "" | "status" | "ephemeralcontainers") => patch(&ctx, &body),
        ("delete", "") => delete(&ctx, &body),
        ("deletecollection", "") => delete_collection(&ctx, &body),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Runs ValidatingAdmissionPolicies for a write; returns `Warn` warnings or the denial.
fn admit(
    ctx: &Context<'_>,
    storage: &Storage,
    operation: &'static str,
    object: Option<&Value>,
    old: Option<&Value>,
    dry: bool,
) -> Result<Vec<String>, ApiError> {
    let name = object
        .or(old)
        .and_then(|o| o.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or(&ctx.req.name)
        .to_string();
    let namespace = object
        .or(old)
        .and_then(|o| o.pointer("/metadata/namespace"))
        .and_then(Value::as_str)
        .unwrap_or(&ctx.req.namespace)
        .to_string();
    admission::admit(
        storage,
        &admission::Request {
            def: ctx.req.def,
            subresource: &ctx.req.subresource,
            namespace: &namespace,
            name: &name,
            operation,
            object,
            old_object: old,
            user: ctx.user,
            dry_run: dry,
        },
    )
}

/// Adds `Warning: 299 - "..."` headers.
fn with_warnings(mut response: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        let value = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            response.headers_mut().append("warning", v);
        }
    }
    response
}
