//! The TTL-after-finished controller: deletes a finished Job and its pods once
//! `ttlSecondsAfterFinished` has passed. Never touches unfinished Jobs.

use serde_json::Value;

use crate::controllers::SimContext;
use crate::controllers::store::Store;
use crate::controllers::util::{
    find_condition, int_at, name, namespace, now_ms, scaled, str_at, time_at,
};

/// `ttlSecondsAfterFinished`: deletes the finished Job and its pods once the TTL has passed.
pub(super) fn expire<S: Store>(
    store: &mut S,
    job: &Value,
    conditions: &[Value],
    pods: &[Value],
    ctx: &SimContext,
) {
    let Some(ttl) = int_at(job, "/spec/ttlSecondsAfterFinished") else {
        return;
    };
    let finished = ["Complete", "Failed"]
        .iter()
        .filter_map(|kind| find_condition(conditions, kind))
        .filter(|it| str_at(it, "/status") == Some("True"))
        .filter_map(|it| time_at(it, "/lastTransitionTime"))
        .max();
    let Some(finished) = finished else { return };
    let due = if ttl <= 0 {
        finished
    } else {
        finished + scaled(ctx, ttl as f64)
    };
    if now_ms(ctx) < due {
        return;
    }
    for pod in pods {
        let _ = store.delete("pods", namespace(pod), name(pod));
    }
    let _ = store.delete("jobs", namespace(job), name(job));
}
