//! From an identified request to a response: RBAC for non-resource and resource requests, fault
//! injection, discovery and OpenAPI, and the hand-over to the resource verbs in `api`. Never
//! reads the connection or writes the access log.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, header};

use super::identify::identify;
use super::response::{full, json_response};
use super::route::{ResourceRequest, Route, route};
use super::{Body, Query, State};
use crate::{
    api,
    auth::UserInfo,
    discovery,
    errors::ApiError,
    faults::Fault,
    openapi,
    rbac::{self, Attributes},
};

fn non_resource(method: &Method, path: &str, accept: &str) -> Result<Response<Body>, ApiError> {
    if *method != Method::GET && *method != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    let _ = accept;
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let doc = match segs.as_slice() {
        ["version"] => discovery::version(),
        ["api"] => discovery::api_versions(),
        ["apis"] => discovery::api_group_list(),
        ["api", "v1"] => discovery::resource_list("", "v1").ok_or_else(ApiError::not_found_path)?,
        ["apis", g] => discovery::api_group(g).ok_or_else(ApiError::not_found_path)?,
        ["apis", g, v] => discovery::resource_list(g, v).ok_or_else(ApiError::not_found_path)?,
        ["openapi", "v3"] => openapi::index(),
        ["openapi", "v3", rest @ ..] => {
            openapi::document(&rest.join("/")).ok_or_else(ApiError::not_found_path)?
        }
        ["healthz"] | ["livez"] | ["readyz"] => {
            return Ok(Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(full("ok"))
                .expect("valid response"));
        }
        _ => return Err(ApiError::not_found_path()),
    };
    Ok(json_response(200, &doc))
}

fn non_resource_verb(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

pub(super) async fn dispatch(
    state: &Arc<State>,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> (Result<Response<Body>, ApiError>, String) {
    let user = match identify(state, headers) {
        Ok(u) => u,
        Err(e) => return (Err(e), String::new()),
    };
    let name = user.name.clone();
    let result = match route(method, path, query) {
        Route::NotFound => Err(ApiError::not_found_path()),
        Route::NonResource => {
            let attrs = Attributes {
                verb: non_resource_verb(method),
                path: path.to_string(),
                ..Attributes::default()
            };
            let allowed = rbac::authorize(&state.storage(), &user, &attrs).allowed;
            if allowed {
                non_resource(
                    method,
                    path,
                    headers
                        .get(header::ACCEPT)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or(""),
                )
            } else {
                Err(rbac::forbidden(&user, &attrs))
            }
        }
        Route::Resource(req) => resource(state, &user, req, query, headers, body).await,
    };
    (result, name)
}

async fn resource(
    state: &Arc<State>,
    user: &UserInfo,
    req: ResourceRequest,
    query: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    let watch = req.verb == "watch";
    let fault = state
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .draw(watch);
    match fault {
        Fault::InternalError => return Err(ApiError::internal("injected fault")),
        Fault::Throttle => return Err(ApiError::too_many_requests()),
        Fault::Gone | Fault::None => {}
    }
    let mut name = req.name.clone();
    if matches!(req.verb, "list" | "watch")
        && let Some(fs) = query.get("fieldSelector")
        && let Ok(sel) = crate::selector::FieldSelector::parse(fs, req.def.plural)
        && let Some(pinned) = sel.pinned_name()
    {
        name = pinned.to_string();
    }
    let attrs = Attributes {
        verb: req.verb.to_string(),
        resource_request: true,
        namespace: req.namespace.clone(),
        group: req.def.group.to_string(),
        resource: req.def.plural.to_string(),
        subresource: req.subresource.clone(),
        name,
        path: String::new(),
    };
    let decision = rbac::authorize(&state.storage(), user, &attrs);
    if !decision.allowed {
        return Err(rbac::forbidden(user, &attrs));
    }
    if fault == Fault::Gone {
        return Ok(crate::watch::gone_response(
            query.get("resourceVersion").unwrap_or("0"),
            state.storage().current_rv(),
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ctx = api::Context {
        state,
        user,
        req: &req,
        query,
        content_type,
        accept,
        user_agent,
    };
    api::serve(ctx, body).await
}
