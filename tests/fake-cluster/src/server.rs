//! The HTTP(S) front: accepts connections, reads requests, authenticates, injects latency and
//! faults, authorizes with RBAC, routes to discovery/OpenAPI or the resource handlers, and writes
//! the access log.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    access_log::AccessLog,
    api,
    auth::{Authenticator, UserInfo},
    discovery,
    errors::ApiError,
    faults::{Fault, Faults},
    openapi,
    rbac::{self, Attributes},
    resources::{self, ResourceDef},
    storage::Storage,
};

pub type Body = BoxBody<Bytes, Infallible>;

/// Server-wide settings that do not change after start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub latency: Duration,
    pub watch_timeout: Option<Duration>,
    pub plain_http: bool,
}

/// Everything a request handler can reach.
pub struct State {
    pub storage: Mutex<Storage>,
    pub auth: Mutex<Authenticator>,
    pub faults: Mutex<Faults>,
    pub access_log: Option<AccessLog>,
    pub settings: Settings,
    pub shutdown: watch::Receiver<bool>,
}

impl State {
    /// Locks the storage (a poisoned lock is still usable: writes are not left half done).
    pub fn storage(&self) -> std::sync::MutexGuard<'_, Storage> {
        self.storage.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn authenticator(&self) -> std::sync::MutexGuard<'_, Authenticator> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Decoded query parameters.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

pub fn json_response(code: u16, value: &Value) -> Response<Body> {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(full(body))
        .expect("valid response")
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.to_status());
    if e.code == 429 {
        r.headers_mut()
            .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    }
    r
}

/// A request after routing.
#[derive(Debug, Clone)]
pub struct ResourceRequest {
    pub def: &'static ResourceDef,
    /// The namespace from the path ("" when none).
    pub namespace: String,
    pub name: String,
    pub subresource: String,
    pub verb: &'static str,
}

enum Route {
    NonResource,
    Resource(ResourceRequest),
    NotFound,
}

fn route(method: &Method, path: &str, query: &Query) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => ("", "v1", rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Route::NonResource,
    };
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let (prefixed, namespace, parts): (bool, String, Vec<&str>) = match rest {
        ["namespaces", ns, more @ ..]
            if !more.is_empty() && !matches!(more[0], "status" | "finalize") =>
        {
            (true, ns.to_string(), more.to_vec())
        }
        _ => (false, String::new(), rest.to_vec()),
    };
    let (resource, name, sub) = match parts.as_slice() {
        [r] => (*r, "", ""),
        [r, n] => (*r, *n, ""),
        [r, n, s] => (*r, *n, *s),
        _ => return Route::NotFound,
    };
    let Some(def) = resources::lookup(group, version, resource) else {
        return Route::NotFound;
    };
    let is_read_all = name.is_empty() && matches!(*method, Method::GET | Method::HEAD);
    let scope_ok = if def.namespaced {
        prefixed || is_read_all
    } else {
        !prefixed
    };
    if !scope_ok {
        return Route::NotFound;
    }
    if !sub.is_empty() && !def.has_subresource(sub) {
        return Route::NotFound;
    }
    let verb = match *method {
        Method::GET | Method::HEAD if !name.is_empty() => "get",
        Method::GET | Method::HEAD if watch_path || query.flag("watch") => "watch",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if !name.is_empty() => "delete",
        Method::DELETE => "deletecollection",
        _ => return Route::NotFound,
    };
    let namespace = if def.plural == "namespaces" && !name.is_empty() {
        name.to_string()
    } else {
        namespace
    };
    Route::Resource(ResourceRequest {
        def,
        namespace,
        name: name.to_string(),
        subresource: sub.to_string(),
        verb,
    })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Authenticates and applies impersonation. Errors are 401/403.
fn identify(state: &State, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let user = match bearer(headers) {
        Some(token) => {
            let storage = state.storage();
            state
                .authenticator()
                .authenticate(&token, &storage)
                .ok_or_else(ApiError::unauthorized)?
        }
        None if state.settings.plain_http => UserInfo::new("admin", &["system:masters"]),
        None => UserInfo::anonymous(),
    };
    let Some(target) = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(user);
    };
    let groups: Vec<&str> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let storage = state.storage();
    let check = |resource: &str, namespace: &str, name: &str| {
        let attrs = Attributes {
            verb: "impersonate".into(),
            resource_request: true,
            namespace: namespace.into(),
            group: String::new(),
            resource: resource.into(),
            name: name.into(),
            ..Attributes::default()
        };
        if rbac::authorize(&storage, &user, &attrs).allowed {
            Ok(())
        } else {
            Err(rbac::forbidden(&user, &attrs))
        }
    };
    let mut impersonated = if let Some(rest) = target.strip_prefix("system:serviceaccount:") {
        let (ns, name) = rest.split_once(':').unwrap_or((rest, ""));
        check("serviceaccounts", ns, name)?;
        let mut u = UserInfo::service_account(ns, name);
        u.groups.retain(|g| g != "system:authenticated");
        u
    } else {
        check("users", "", target)?;
        UserInfo {
            name: target.into(),
            uid: String::new(),
            groups: Vec::new(),
        }
    };
    for g in groups {
        check("groups", "", g)?;
        impersonated.groups.push(g.to_string());
    }
    if !impersonated
        .groups
        .iter()
        .any(|g| g == "system:authenticated")
    {
        impersonated.groups.push("system:authenticated".into());
    }
    Ok(impersonated)
}

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

/// Serves one request.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let query = Query::parse(req.uri().query());
    let headers = req.headers().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if !state.settings.latency.is_zero() {
        tokio::time::sleep(state.settings.latency).await;
    }
    let (response, user) = dispatch(&state, &method, &path, &query, &headers, body).await;
    let response = response.unwrap_or_else(|e| error_response(&e));
    if let Some(log) = &state.access_log {
        log.record(
            method.as_str(),
            &path_and_query,
            response.status().as_u16(),
            &user,
            started.elapsed(),
        );
    }
    Ok(response)
}

async fn dispatch(
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

/// Accepts connections until `shutdown` flips.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let builder = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

/// A plain status code response with an empty body.
pub fn empty(code: StatusCode) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(full(Bytes::new()))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str, q: &str) -> Option<ResourceRequest> {
        match route(&method, path, &Query::parse(Some(q))) {
            Route::Resource(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn routes_paths_like_request_info() {
        let g = r(
            Method::GET,
            "/apis/apps/v1/namespaces/prod/deployments/web",
            "",
        )
        .unwrap();
        assert_eq!(
            (g.def.plural, g.namespace.as_str(), g.name.as_str(), g.verb),
            ("deployments", "prod", "web", "get")
        );
        let w = r(Method::GET, "/apis/apps/v1/deployments", "watch=true").unwrap();
        assert_eq!((w.verb, w.namespace.as_str()), ("watch", ""));
        let w = r(Method::GET, "/api/v1/watch/namespaces/default/pods", "").unwrap();
        assert_eq!((w.verb, w.namespace.as_str()), ("watch", "default"));
        let ns = r(Method::GET, "/api/v1/namespaces/foo", "").unwrap();
        assert_eq!(
            (ns.def.plural, ns.name.as_str(), ns.namespace.as_str()),
            ("namespaces", "foo", "foo")
        );
        let l = r(Method::GET, "/api/v1/namespaces/default/pods/p/log", "").unwrap();
        assert_eq!(l.subresource, "log");
        let t = r(
            Method::POST,
            "/api/v1/namespaces/default/serviceaccounts/sa/token",
            "",
        )
        .unwrap();
        assert_eq!((t.verb, t.subresource.as_str()), ("create", "token"));
        let n = r(Method::GET, "/api/v1/nodes", "").unwrap();
        assert_eq!(n.verb, "list");
        assert!(r(Method::GET, "/api/v1/namespaces/default/nodes", "").is_none());
        assert!(
            r(
                Method::GET,
                "/apis/apps/v1/namespaces/default/deployments/web/bogus",
                ""
            )
            .is_none()
        );
        let dc = r(Method::DELETE, "/api/v1/namespaces/default/configmaps", "").unwrap();
        assert_eq!(dc.verb, "deletecollection");
        let ssar = r(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "",
        )
        .unwrap();
        assert_eq!(ssar.def.plural, "selfsubjectaccessreviews");
    }
}
