//! core/v1 Events for the transitions `kubectl describe` shows. Repeats of the same reason and
//! message on the same object are aggregated into one Event whose `count` grows, as on a real
//! cluster. Events are written for people only: no controller decides anything from them.

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::store::Store;
use crate::controllers::util::{
    fmt_time, fnv64, int_at, name, namespace, now_ms, str_at, uid, write,
};

/// Who reports an event.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Controller(&'a str),
    Kubelet(&'a str),
    Scheduler,
}

/// One event to record.
pub struct Event<'a> {
    /// The involved object.
    pub object: &'a Value,
    /// Its kind (`Pod`, `Deployment`, ...).
    pub kind: &'a str,
    pub warning: bool,
    pub reason: &'a str,
    pub message: String,
    pub source: Source<'a>,
}

/// Records an event, aggregating repeats.
pub fn record<S: Store>(store: &mut S, ctx: &SimContext, event: Event<'_>) {
    let Event {
        object,
        kind,
        warning,
        reason,
        message,
        source,
    } = event;
    let event_type = if warning { "Warning" } else { "Normal" };
    let key = format!("{}/{reason}/{message}", uid(object));
    let event_name = format!("{}.{:016x}", name(object), fnv64(key.as_bytes()));
    let event_namespace = match namespace(object) {
        "" => "default",
        it => it,
    };
    let now = fmt_time(now_ms(ctx));
    if let Some(mut existing) = store.get("events", event_namespace, &event_name) {
        let count = int_at(&existing, "/count").unwrap_or(1) + 1;
        existing["count"] = json!(count);
        existing["lastTimestamp"] = json!(now);
        let _ = write(store, "events", &existing);
        return;
    }
    let (component, host) = match source {
        Source::Controller(it) => (it, None),
        Source::Kubelet(node) => ("kubelet", Some(node)),
        Source::Scheduler => ("default-scheduler", None),
    };
    let mut source = json!({"component": component});
    if let Some(host) = host {
        source["host"] = json!(host);
    }
    let api_version = str_at(object, "/apiVersion").unwrap_or(match kind {
        "Pod" => "v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "apps/v1",
    });
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name, "namespace": event_namespace},
        "involvedObject": {
            "apiVersion": api_version,
            "kind": kind,
            "name": name(object),
            "namespace": namespace(object),
            "uid": uid(object),
        },
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": event_type,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": host.unwrap_or(""),
    });
    let _ = store.create("events", event);
}
