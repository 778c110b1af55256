//! WATCH: newline-delimited `WatchEvent`s streamed from the storage's broadcast, with resume from
//! a resourceVersion (410 Expired as an ERROR event when the history no longer covers it),
//! synthetic ADDED events for a fresh watch, streaming lists (`sendInitialEvents=true`) ending in
//! the `k8s.io/initial-events-end` bookmark, periodic bookmarks and `timeoutSeconds`.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast::error::RecvError, mpsc};

use crate::{
    api::Context,
    errors::ApiError,
    resources::ResourceDef,
    selector::{FieldSelector, LabelSelector},
    server::{Body, json_response},
    storage::{Event, EventKind},
    table,
};

const BOOKMARK_EVERY: Duration = Duration::from_secs(5);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(kind: &str, object: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn expired_status(requested: &str, oldest: u64) -> Value {
    ApiError::expired(format!("too old resource version: {requested} ({oldest})")).to_status()
}

/// A 200 whose only event is the 410 ERROR, as the real server answers a too-old RV.
pub fn gone_response(requested: &str, oldest: u64) -> Response<Body> {
    let body = line("ERROR", &expired_status(requested, oldest));
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .body(crate::server::full(body))
        .expect("valid response")
}

/// A channel-fed streaming body.
pub fn channel_body(rx: mpsc::Receiver<Bytes>) -> Body {
    let s = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok(Frame::data(b)), rx))
    });
    StreamBody::new(s).boxed()
}

/// Decides how an event looks to a watcher with these filters.
struct Filter {
    def: &'static ResourceDef,
    namespace: String,
    labels: LabelSelector,
    fields: FieldSelector,
    table: bool,
    metadata_only: bool,
    include: String,
}

impl Filter {
    fn matches(&self, o: &Value) -> bool {
        self.labels.matches_object(o) && self.fields.matches(o)
    }

    fn render(&self, o: &Value, rv: u64) -> Value {
        if self.metadata_only {
            return table::partial(o);
        }
        if self.table {
            table::render_with(self.def, std::slice::from_ref(o), rv, None, &self.include)
        } else {
            o.clone()
        }
    }

    fn event(&self, ev: &Event) -> Option<Bytes> {
        if ev.resource != self.def.plural
            || (!self.namespace.is_empty() && ev.namespace != self.namespace)
        {
            return None;
        }
        let now = self.matches(&ev.object);
        let before = ev.old.as_ref().is_some_and(|o| self.matches(o));
        let kind = match (ev.kind, before, now) {
            (EventKind::Added, _, true) => "ADDED",
            (EventKind::Modified, true, true) => "MODIFIED",
            (EventKind::Modified, false, true) => "ADDED",
            (EventKind::Modified, true, false) => "DELETED",
            (EventKind::Deleted, b, n) if b || n => "DELETED",
            _ => return None,
        };
        Some(line(kind, &self.render(&ev.object, ev.rv)))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            &json!({"kind": self.def.kind, "apiVersion": self.def.api_version(), "metadata": meta}),
        )
    }
}

pub fn serve(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let q = ctx.query;
    let def = ctx.req.def;
    let filter = Filter {
        def,
        namespace: ctx.req.namespace.clone(),
        labels: LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?,
        fields: FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), def.plural)
            .map_err(ApiError::bad_request)?,
        table: table::wants_table(ctx.accept),
        metadata_only: table::wants_metadata(ctx.accept),
        include: q.get("includeObject").unwrap_or("Metadata").to_string(),
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    let send_initial = q.get("sendInitialEvents").map(|v| v == "true");
    let rv_param = q.get("resourceVersion").unwrap_or("");
    let mut timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    if let Some(limit) = ctx.state.settings.watch_timeout {
        timeout = timeout.min(limit);
    }
    let mut first: Vec<Bytes> = Vec::new();
    let (start_rv, rx) = {
        let storage = ctx.state.storage();
        let current = storage.current_rv();
        let fresh = send_initial == Some(true)
            || ((rv_param.is_empty() || rv_param == "0") && send_initial != Some(false));
        if fresh {
            let ns = (!filter.namespace.is_empty()).then_some(filter.namespace.as_str());
            for o in storage.list(def, ns) {
                if filter.matches(o) {
                    first.push(line("ADDED", &filter.render(o, current)));
                }
            }
            if send_initial == Some(true) {
                first.push(filter.bookmark(current, true));
            }
        } else if !rv_param.is_empty() {
            let rv: u64 = rv_param
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: strconv.ParseUint: parsing {rv_param:?}: invalid syntax")))?;
            match storage.events_since(def.plural, rv) {
                Err(oldest) => return Ok(gone_response(rv_param, oldest)),
                Ok(events) => first.extend(events.iter().filter_map(|e| filter.event(e))),
            }
        }
        (current, storage.subscribe())
    };
    let (tx, out) = mpsc::channel::<Bytes>(256);
    let mut shutdown = ctx.state.shutdown.clone();
    let mut rx = rx;
    tokio::spawn(async move {
        for b in first {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        let mut last_rv = start_rv;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = shutdown.changed() => break,
                _ = tx.closed() => break,
                _ = tick.tick(), if bookmarks => {
                    if tx.send(filter.bookmark(last_rv, false)).await.is_err() { break; }
                }
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        last_rv = last_rv.max(ev.rv);
                        if let Some(b) = filter.event(&ev) && tx.send(b).await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                },
            }
        }
    });
    let resp = Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json");
    Ok(resp
        .body(channel_body(out))
        .unwrap_or_else(|_| json_response(500, &json!({}))))
}
