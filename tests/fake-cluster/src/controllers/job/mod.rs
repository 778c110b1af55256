//! The Job controller (NonIndexed Jobs) and the TTL-after-finished controller: `completions`,
//! `parallelism`, `backoffLimit` with exponential pod re-creation back-off, `activeDeadlineSeconds`,
//! `suspend`, two-step terminal conditions (`SuccessCriteriaMet` then `Complete`, `FailureTarget`
//! then `Failed`) and `ttlSecondsAfterFinished`.
//!
//! `succeeded`/`failed` count the Job's finished pods (never decreasing); pods are not deleted
//! when they finish, as on a real cluster.
//!
//! This module syncs Jobs (counts, back-off, conditions); `pods` creates and deletes their pods,
//! `ttl` is the TTL-after-finished controller. It never runs pods (the kubelet does) and never
//! handles CronJobs.

mod pods;
mod ttl;

use serde_json::{Map, Value, json};

use crate::controllers::SimContext;
use crate::controllers::events::{self, Event, Source};
use crate::controllers::store::Store;
use crate::controllers::util::{
    At, Millis, bool_at, conditions_of, find_condition, fmt_time, int_at, is_deleting, now_ms,
    parse_time, pod_active, pod_ready, put_count, scaled, str_at, time_at, uid, write_status,
};
use crate::controllers::world::World;
use pods::{create_pod, delete_pods};
use ttl::expire;

pub const BACKOFF_LIMIT_MESSAGE: &str = "Job has reached the specified backoff limit";
pub const DEADLINE_MESSAGE: &str = "Job was active longer than specified deadline";
const SUCCESS_MESSAGE: &str = "Reached expected number of succeeded pods";

pub fn run<S: Store>(store: &mut S, ctx: &SimContext, world: &mut World) {
    for idx in 0..world.jobs.len() {
        let job = world.jobs[idx].clone();
        if is_deleting(&job) {
            continue;
        }
        if let Some(it) = sync(store, ctx, world, &job) {
            world.jobs[idx] = it;
        }
    }
}

/// Pod re-creation back-off after `failures` failed pods, in simulated seconds.
pub fn pod_back_off_seconds(failures: i64) -> f64 {
    let exponent = (failures.max(1) - 1).min(16) as i32;
    (10.0 * 2f64.powi(exponent)).min(600.0)
}

fn is_true(conditions: &[Value], kind: &str) -> bool {
    find_condition(conditions, kind).is_some_and(|it| str_at(it, "/status") == Some("True"))
}

/// Sets a Job condition (replacing one of the same type when status or reason differ).
fn set_job_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Millis,
) -> bool {
    if let Some(old) = find_condition(conditions, kind)
        && str_at(old, "/status") == Some(status)
        && str_at(old, "/reason") == Some(reason)
    {
        return false;
    }
    conditions.retain(|it| str_at(it, "/type") != Some(kind));
    conditions.push(json!({
        "type": kind,
        "status": status,
        "lastProbeTime": fmt_time(now),
        "lastTransitionTime": fmt_time(now),
        "reason": reason,
        "message": message,
    }));
    true
}

fn sync<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    world: &mut World,
    job: &Value,
) -> Option<Value> {
    let now = now_ms(ctx);
    let mut conditions = conditions_of(job);
    let pods: Vec<Value> = world.pods_of(uid(job)).into_iter().cloned().collect();
    if is_true(&conditions, "Complete") || is_true(&conditions, "Failed") {
        expire(store, job, &conditions, &pods, ctx);
        return None;
    }
    let mut status: Map<String, Value> = job
        .get("status")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let active: Vec<&Value> = pods.iter().filter(|it| pod_active(it)).collect();
    let phase_count = |phase: &str| {
        pods.iter()
            .filter(|it| str_at(it, "/status/phase") == Some(phase))
            .count() as i64
    };
    let succeeded = phase_count("Succeeded").max(int_at(job, "/status/succeeded").unwrap_or(0));
    let failed = phase_count("Failed").max(int_at(job, "/status/failed").unwrap_or(0));
    let mut remaining_active = active.len();

    if is_true(&conditions, "FailureTarget") || is_true(&conditions, "SuccessCriteriaMet") {
        let failing = is_true(&conditions, "FailureTarget");
        let interim = find_condition(
            &conditions,
            if failing {
                "FailureTarget"
            } else {
                "SuccessCriteriaMet"
            },
        )
        .cloned();
        delete_pods(store, ctx, job, &active);
        remaining_active = 0;
        let reason = interim
            .as_ref()
            .and_then(|it| str_at(it, "/reason"))
            .unwrap_or("")
            .to_owned();
        let message = interim
            .as_ref()
            .and_then(|it| str_at(it, "/message"))
            .unwrap_or("")
            .to_owned();
        if failing {
            set_job_condition(&mut conditions, "Failed", "True", &reason, &message, now);
        } else {
            set_job_condition(&mut conditions, "Complete", "True", &reason, &message, now);
            status.insert("completionTime".into(), json!(fmt_time(now)));
            record(store, ctx, job, false, "Completed", "Job completed".into());
        }
    } else if bool_at(job, "/spec/suspend") {
        delete_pods(store, ctx, job, &active);
        remaining_active = 0;
        if set_job_condition(
            &mut conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now,
        ) {
            record(store, ctx, job, false, "Suspended", "Job suspended".into());
        }
    } else {
        if is_true(&conditions, "Suspended") {
            set_job_condition(
                &mut conditions,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                now,
            );
            record(store, ctx, job, false, "Resumed", "Job resumed".into());
            status.insert("startTime".into(), json!(fmt_time(now)));
        }
        let start = match status
            .get("startTime")
            .and_then(Value::as_str)
            .and_then(parse_time)
        {
            Some(it) => it,
            None => {
                status.insert("startTime".into(), json!(fmt_time(now)));
                now
            }
        };
        let limit = int_at(job, "/spec/backoffLimit").unwrap_or(6);
        let on_failure = str_at(job, "/spec/template/spec/restartPolicy") == Some("OnFailure");
        let restarts: i64 = active.iter().map(|pod| restart_count(pod)).sum();
        let restarts_exceeded = on_failure
            && if limit == 0 {
                restarts > 0
            } else {
                restarts >= limit
            };
        let deadline = int_at(job, "/spec/activeDeadlineSeconds");
        let failure = if failed > limit || restarts_exceeded {
            Some(("BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE))
        } else if deadline.is_some_and(|it| now - start >= scaled(ctx, it as f64)) {
            Some(("DeadlineExceeded", DEADLINE_MESSAGE))
        } else {
            None
        };
        let completions = int_at(job, "/spec/completions");
        let success = match completions {
            Some(count) => succeeded >= count,
            None => succeeded > 0 && active.is_empty(),
        };
        if let Some((reason, message)) = failure {
            set_job_condition(
                &mut conditions,
                "FailureTarget",
                "True",
                reason,
                message,
                now,
            );
            record(store, ctx, job, true, reason, message.into());
            delete_pods(store, ctx, job, &active);
            remaining_active = 0;
        } else if success {
            set_job_condition(
                &mut conditions,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                SUCCESS_MESSAGE,
                now,
            );
            delete_pods(store, ctx, job, &active);
            remaining_active = 0;
        } else {
            let parallelism = int_at(job, "/spec/parallelism").unwrap_or(1).max(0);
            let want = match completions {
                Some(count) => parallelism.min(count - succeeded).max(0),
                None if succeeded > 0 => 0,
                None => parallelism,
            } as usize;
            if active.len() < want && !backing_off(ctx, &pods, failed, now) {
                for _ in active.len()..want {
                    if create_pod(store, ctx, world, job) {
                        remaining_active += 1;
                    }
                }
            } else if active.len() > want {
                let mut extra = active.clone();
                extra.sort_by_key(|it| {
                    std::cmp::Reverse(time_at(it, "/metadata/creationTimestamp").unwrap_or(0))
                });
                delete_pods(store, ctx, job, &extra[..active.len() - want]);
                remaining_active = want;
            }
        }
    }

    put_count(&mut status, "active", remaining_active as i64);
    put_count(&mut status, "succeeded", succeeded);
    put_count(&mut status, "failed", failed);
    status.insert(
        "ready".into(),
        json!(active.iter().filter(|it| pod_ready(it)).count()),
    );
    status.insert("terminating".into(), json!(0));
    status.insert("uncountedTerminatedPods".into(), json!({}));
    if conditions.is_empty() {
        status.remove("conditions");
    } else {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    let status = Value::Object(status);
    if job.get("status") == Some(&status) {
        return None;
    }
    let mut job = job.clone();
    job["status"] = status;
    write_status(store, "jobs", &job)
}

fn restart_count(pod: &Value) -> i64 {
    ["/status/containerStatuses", "/status/initContainerStatuses"]
        .iter()
        .filter_map(|pointer| pod.at(pointer).and_then(Value::as_array))
        .flatten()
        .filter_map(|it| int_at(it, "/restartCount"))
        .sum()
}

/// Whether the re-creation back-off after the latest pod failure is still running.
fn backing_off(ctx: &SimContext, pods: &[Value], failed: i64, now: Millis) -> bool {
    if failed == 0 {
        return false;
    }
    let last_failure = pods
        .iter()
        .filter(|it| str_at(it, "/status/phase") == Some("Failed"))
        .map(|pod| {
            pod.at("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|it| time_at(it, "/state/terminated/finishedAt"))
                .max()
                .unwrap_or(0)
        })
        .max();
    let Some(last_failure) = last_failure else {
        return false;
    };
    now < last_failure + scaled(ctx, pod_back_off_seconds(failed))
}

fn record<S: Store>(
    store: &mut S,
    ctx: &SimContext,
    job: &Value,
    warning: bool,
    reason: &str,
    message: String,
) {
    let source = Source::Controller("job-controller");
    events::record(
        store,
        ctx,
        Event {
            object: job,
            kind: "Job",
            warning,
            reason,
            message,
            source,
        },
    );
}
