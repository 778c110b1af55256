//! A deterministic kubelet (and scheduler): every pod's status is a function of its spec, the
//! timestamps already stored in its status and `ctx.now`, so a tick can be replayed or skipped
//! without changing the outcome.
//!
//! Timeline of a pod, in simulated seconds (multiplied by `time_scale`): scheduled at the first
//! tick that sees it (`PodScheduled`, `startTime`); init containers run one after the other; each
//! container follows `container::advance`. Images decide special behaviour
//! (`container::Behaviour`), commands are interpreted by `script`.
//!
//! Bookkeeping: the Ready condition's `lastProbeTime` records up to when container log lines have
//! been appended, so each line is written exactly once.
//!
//! This module drives pods tick by tick (scheduling, writes, deletion of terminating pods);
//! `simulate` computes a pod's status, `emit` its log lines and Events. It never touches
//! objects other than pods, events and container logs.

mod emit;
mod simulate;

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::container::{Behaviour, plain_behaviour};
use crate::controllers::events::{self, Event, Source};
use crate::controllers::script::Run;
use crate::controllers::store::{Logs, Store};
use crate::controllers::util::{
    At, int_at, is_deleting, name, namespace, now_ms, scaled, str_at, time_at, write, write_status,
};
use crate::controllers::world::World;
use simulate::simulate;

/// How long a terminating pod lingers (capped by its grace period).
pub const TERMINATION: f64 = 1.0;

/// Advances every pod by one tick.
pub fn run<S: Store + Logs>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.pods.len() {
        let Some(pod) = world.pods[idx].value.as_ref() else {
            continue;
        };
        if is_deleting(pod) {
            finish_deletion(store, ctx, pod);
            continue;
        }
        if is_settled(pod, ctx) {
            continue;
        }
        let mut pod = pod.clone();
        if str_at(&pod, "/spec/nodeName").is_none_or(str::is_empty) {
            let Some(node) = world.pick_node() else {
                continue;
            };
            pod["spec"]["nodeName"] = json!(node);
            if let Some(it) = write(store, "pods", &pod) {
                pod = it;
            }
        }
        let outcome = simulate(&pod, ctx);
        let node = str_at(&pod, "/spec/nodeName").unwrap_or("").to_owned();
        if pod
            .get("status")
            .and_then(|it| it.get("startTime"))
            .is_none()
        {
            let message = format!(
                "Successfully assigned {}/{} to {node}",
                namespace(&pod),
                name(&pod)
            );
            record(
                store,
                ctx,
                &pod,
                false,
                "Scheduled",
                message,
                Source::Scheduler,
            );
        }
        for (container, line) in &outcome.logs {
            store.append_log(namespace(&pod), name(&pod), container, line);
        }
        for (warning, reason, message) in outcome.events {
            record(
                store,
                ctx,
                &pod,
                warning,
                reason,
                message,
                Source::Kubelet(&node),
            );
        }
        if pod.get("status") != Some(&outcome.status) {
            pod["status"] = outcome.status;
            if let Some(it) = write_status(store, "pods", &pod) {
                world.refresh_pod(idx, it, ctx);
            }
        }
    }
}

/// Whether the kubelet has nothing to do for this pod until something else changes it.
pub fn is_settled(pod: &Value, ctx: &SimContext) -> bool {
    !is_deleting(pod)
        && (matches!(str_at(pod, "/status/phase"), Some("Succeeded" | "Failed"))
            || is_stable(pod, ctx))
}

fn record<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    pod: &Value,
    warning: bool,
    reason: &str,
    message: String,
    source: Source<'_>,
) {
    events::record(
        store,
        ctx,
        Event {
            object: pod,
            kind: "Pod",
            warning,
            reason,
            message,
            source,
        },
    );
}

/// Removes a terminating pod once its (short, scaled) grace period is over.
fn finish_deletion<S: Store>(store: &mut S, ctx: &SimContext, pod: &Value) {
    let grace = int_at(pod, "/metadata/deletionGracePeriodSeconds")
        .or_else(|| int_at(pod, "/spec/terminationGracePeriodSeconds"))
        .unwrap_or(30);
    let deletion = time_at(pod, "/metadata/deletionTimestamp").unwrap_or(0);
    let requested = match int_at(pod, "/metadata/deletionGracePeriodSeconds") {
        Some(seconds) => deletion - seconds * 1000,
        None => deletion,
    };
    let linger = if grace <= 0 {
        0
    } else {
        scaled(ctx, (grace as f64).min(TERMINATION))
    };
    if now_ms(ctx) >= requested + linger {
        let _ = store.delete("pods", namespace(pod), name(pod));
    }
}

/// A pod whose status cannot change until something outside the kubelet happens.
fn is_stable(pod: &Value, ctx: &SimContext) -> bool {
    if str_at(pod, "/status/phase") != Some("Running") {
        return false;
    }
    let Some(conditions) = pod.at("/status/conditions").and_then(Value::as_array) else {
        return false;
    };
    let Some(ready) = conditions
        .iter()
        .find(|it| str_at(it, "/type") == Some("Ready"))
    else {
        return false;
    };
    if str_at(ready, "/status") != Some("True") {
        return false;
    }
    let containers = pod.at("/spec/containers").and_then(Value::as_array);
    let statuses = pod
        .at("/status/containerStatuses")
        .and_then(Value::as_array);
    let (Some(containers), Some(statuses)) = (containers, statuses) else {
        return false;
    };
    containers
        .iter()
        .zip(statuses)
        .all(|(container, status)| match plain_behaviour(container) {
            Behaviour::Serve(_) => true,
            Behaviour::Script(runs, _) if matches!(runs.first(), Some(Run { exit: None, .. })) => {
                let lines = &runs[0].lines;
                let Some(started) = time_at(status, "/state/running/startedAt") else {
                    return false;
                };
                let last = lines.last().map(|(at, _)| *at).unwrap_or(0.0);
                lines.is_empty()
                    || started + scaled(ctx, last) <= time_at(ready, "/lastProbeTime").unwrap_or(0)
            }
            _ => false,
        })
}
