//! The HTTP(S) front: accepts connections, reads requests, authenticates, injects latency and
//! faults, authorizes with RBAC, routes to discovery/OpenAPI or the resource handlers, and writes
//! the access log.
//!
//! This module holds the shared state and the connection loop; `identify` authenticates,
//! `route` parses paths like the apiserver's RequestInfo, `dispatch` authorizes and hands over,
//! `response` builds bodies. It never implements a verb itself (see `api`) and never stores
//! objects.

mod dispatch;
mod identify;
mod response;
mod route;

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, sync::watch};

use crate::{access_log::AccessLog, auth::Authenticator, faults::Faults, storage::Storage};

use dispatch::dispatch;
pub use response::{empty, error_response, full, json_response};
pub use route::ResourceRequest;

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
