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

use serde_json::{Map, Value, json};

use crate::controllers::SimContext;
use crate::controllers::container::{
    Behaviour, Container, Restart, State, advance, behaviour, container_status, parse_container,
    plain_behaviour, ready_at, waiting,
};
use crate::controllers::events::{self, Event, Source};
use crate::controllers::script::Run;
use crate::controllers::store::{Logs, Store};
use crate::controllers::util::{
    At, Millis, fmt_time, fnv64, int_at, is_deleting, name, namespace, now_ms, scaled, str_at,
    time_at, uid, write, write_status,
};
use crate::controllers::world::World;

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

/// The result of simulating one pod up to `now`.
struct Outcome {
    status: Value,
    logs: Vec<(String, String)>,
    events: Vec<(bool, &'static str, String)>,
}

fn simulate(pod: &Value, ctx: &SimContext) -> Outcome {
    let now = now_ms(ctx);
    let old_status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
    let old_conditions = old_status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let old_condition = |kind: &str| {
        old_conditions
            .iter()
            .find(|it| str_at(it, "/type") == Some(kind))
            .cloned()
    };
    let scheduled = old_condition("PodScheduled")
        .filter(|it| str_at(it, "/status") == Some("True"))
        .and_then(|it| time_at(&it, "/lastTransitionTime"))
        .unwrap_or(now);
    let watermark = old_condition("Ready").and_then(|it| time_at(&it, "/lastProbeTime"));
    let policy = match str_at(pod, "/spec/restartPolicy") {
        Some("Never") => Restart::Never,
        Some("OnFailure") => Restart::OnFailure,
        _ => Restart::Always,
    };
    let pod_name = name(pod);
    let mut outcome = Outcome {
        status: json!({}),
        logs: Vec::new(),
        events: Vec::new(),
    };

    let mut eligible = scheduled;
    let mut initialized = true;
    let mut init_failed = false;
    let mut init_statuses = Vec::new();
    let inits = pod
        .at("/spec/initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let old_inits = old_status
        .get("initContainerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut unfinished_inits = Vec::new();
    for spec in &inits {
        let container_name = str_at(spec, "/name").unwrap_or("");
        let old = old_inits
            .iter()
            .find(|it| str_at(it, "/name") == Some(container_name));
        if !initialized {
            unfinished_inits.push(container_name.to_owned());
            init_statuses.push(container_status(
                spec,
                pod,
                &waiting("PodInitializing"),
                false,
                ctx,
            ));
            continue;
        }
        let behaviour = behaviour(spec, true);
        let restart = match policy {
            Restart::Never => Restart::Never,
            _ => Restart::OnFailure,
        };
        let (container, runs) = advance(
            ctx,
            &behaviour,
            old.map(parse_container),
            eligible,
            now,
            restart,
        );
        collect_logs(
            &mut outcome,
            &behaviour,
            container_name,
            &runs,
            watermark,
            ctx,
            now,
        );
        container_events(&mut outcome, spec, pod, old, &container);
        let done = match container.state {
            State::Terminated {
                code: 0, finished, ..
            } => {
                eligible = finished;
                true
            }
            State::Terminated { .. } if matches!(policy, Restart::Never) => {
                init_failed = true;
                false
            }
            _ => false,
        };
        if !done {
            initialized = false;
            unfinished_inits.push(container_name.to_owned());
        }
        let ready = matches!(container.state, State::Terminated { code: 0, .. });
        init_statuses.push(container_status(spec, pod, &container, ready, ctx));
    }

    let containers = pod
        .at("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let old_containers = old_status
        .get("containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut statuses = Vec::new();
    let mut unready = Vec::new();
    let mut ready_time = eligible;
    let (mut running, mut succeeded, mut failed, mut restarted) = (0, 0, 0, false);
    for spec in &containers {
        let container_name = str_at(spec, "/name").unwrap_or("");
        let old = old_containers
            .iter()
            .find(|it| str_at(it, "/name") == Some(container_name));
        if !initialized {
            unready.push(container_name.to_owned());
            statuses.push(container_status(
                spec,
                pod,
                &waiting("PodInitializing"),
                false,
                ctx,
            ));
            continue;
        }
        let behaviour = behaviour(spec, false);
        let (container, runs) = advance(
            ctx,
            &behaviour,
            old.map(parse_container),
            eligible,
            now,
            policy,
        );
        collect_logs(
            &mut outcome,
            &behaviour,
            container_name,
            &runs,
            watermark,
            ctx,
            now,
        );
        container_events(&mut outcome, spec, pod, old, &container);
        let ready = ready_at(&behaviour, &container, ctx, now);
        match ready {
            Some(at) => ready_time = ready_time.max(at),
            None => unready.push(container_name.to_owned()),
        }
        restarted |= container.restarts > 0;
        match container.state {
            State::Running(_) => running += 1,
            State::Terminated { code: 0, .. } => succeeded += 1,
            State::Terminated { .. } => failed += 1,
            State::Waiting("CrashLoopBackOff", _) => running += 1,
            State::Waiting(..) => (),
        }
        statuses.push(container_status(
            spec,
            pod,
            &container,
            ready.is_some(),
            ctx,
        ));
    }

    let total = containers.len();
    let phase = if init_failed {
        "Failed"
    } else if !initialized {
        "Pending"
    } else if total > 0 && succeeded + failed == total {
        if failed == 0 { "Succeeded" } else { "Failed" }
    } else if running > 0 || restarted || succeeded + failed > 0 {
        "Running"
    } else {
        "Pending"
    };
    let finished = matches!(phase, "Succeeded" | "Failed");

    let keep = |kind: &str, status: &str, at: Millis| -> String {
        match old_condition(kind) {
            Some(old) if str_at(&old, "/status") == Some(status) => {
                str_at(&old, "/lastTransitionTime")
                    .map(str::to_owned)
                    .unwrap_or_else(|| fmt_time(at))
            }
            _ => fmt_time(at),
        }
    };
    let condition = |kind: &str,
                     ok: bool,
                     at: Millis,
                     reason: Option<&str>,
                     message: Option<String>| {
        let status = if ok { "True" } else { "False" };
        let mut value = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": keep(kind, status, at)});
        if let Some(reason) = reason {
            value["reason"] = json!(reason);
        }
        if let Some(message) = message {
            value["message"] = json!(message);
        }
        value
    };
    let init_condition = if initialized {
        condition("Initialized", true, eligible, None, None)
    } else {
        let message = format!(
            "containers with incomplete status: [{}]",
            unfinished_inits.join(" ")
        );
        condition(
            "Initialized",
            false,
            now,
            Some("ContainersNotInitialized"),
            Some(message),
        )
    };
    let (ready_ok, ready_reason, ready_message) = if finished {
        (
            false,
            Some(if phase == "Succeeded" {
                "PodCompleted"
            } else {
                "PodFailed"
            }),
            None,
        )
    } else if unready.is_empty() && initialized {
        (true, None, None)
    } else {
        let listed = if unready.is_empty() {
            unfinished_inits.join(" ")
        } else {
            unready.join(" ")
        };
        (
            false,
            Some("ContainersNotReady"),
            Some(format!("containers with unready status: [{listed}]")),
        )
    };
    let ready_at_time = if ready_ok { ready_time } else { now };
    let mut ready_condition = condition(
        "Ready",
        ready_ok,
        ready_at_time,
        ready_reason,
        ready_message.clone(),
    );
    let emitted = !outcome.logs.is_empty();
    let probe = if emitted { Some(now) } else { watermark };
    if let Some(at) = probe {
        ready_condition["lastProbeTime"] = json!(fmt_time(at));
    }
    let conditions = vec![
        condition("PodReadyToStartContainers", true, scheduled, None, None),
        init_condition,
        ready_condition,
        condition(
            "ContainersReady",
            ready_ok,
            ready_at_time,
            ready_reason,
            ready_message,
        ),
        condition("PodScheduled", true, scheduled, None, None),
    ];

    let node = str_at(pod, "/spec/nodeName").unwrap_or("");
    let node_index = node
        .rsplit(|it: char| !it.is_ascii_digit())
        .next()
        .and_then(|it| it.parse::<u64>().ok())
        .unwrap_or(1);
    let host_ip = format!("172.18.0.{}", 1 + node_index % 250);
    let pod_ip = format!(
        "10.244.{}.{}",
        node_index % 250,
        2 + fnv64(uid(pod).as_bytes()) % 250
    );
    let mut status = Map::new();
    status.insert("phase".into(), json!(phase));
    status.insert("conditions".into(), Value::Array(conditions));
    status.insert("hostIP".into(), json!(host_ip));
    status.insert("hostIPs".into(), json!([{"ip": host_ip}]));
    status.insert("podIP".into(), json!(pod_ip));
    status.insert("podIPs".into(), json!([{"ip": pod_ip}]));
    status.insert("startTime".into(), json!(fmt_time(scheduled)));
    if !inits.is_empty() {
        status.insert("initContainerStatuses".into(), Value::Array(init_statuses));
    }
    status.insert("containerStatuses".into(), Value::Array(statuses));
    status.insert("qosClass".into(), json!(qos_class(&containers)));
    let _ = pod_name;
    outcome.status = Value::Object(status);
    outcome
}

fn qos_class(containers: &[Value]) -> &'static str {
    let any = containers.iter().any(|it| {
        it.at("/resources/requests")
            .is_some_and(|it| it.as_object().is_some_and(|it| !it.is_empty()))
            || it
                .at("/resources/limits")
                .is_some_and(|it| it.as_object().is_some_and(|it| !it.is_empty()))
    });
    if any { "Burstable" } else { "BestEffort" }
}

fn collect_logs(
    outcome: &mut Outcome,
    behaviour: &Behaviour,
    container: &str,
    runs: &[(Millis, i64)],
    watermark: Option<Millis>,
    ctx: &SimContext,
    now: Millis,
) {
    for (start, attempt) in runs {
        let Some(run) = behaviour.run(*attempt) else {
            return;
        };
        for (offset, line) in &run.lines {
            let at = start
                + if *offset > 0.0 {
                    scaled(ctx, *offset)
                } else {
                    0
                };
            if at <= now && watermark.is_none_or(|it| at > it) {
                outcome.logs.push((container.to_owned(), line.clone()));
            }
        }
    }
}

fn container_events(
    outcome: &mut Outcome,
    spec: &Value,
    pod: &Value,
    old: Option<&Value>,
    new: &Container,
) {
    let image = str_at(spec, "/image").unwrap_or("");
    let container = str_at(spec, "/name").unwrap_or("");
    let old_reason = old.and_then(|it| str_at(it, "/state/waiting/reason"));
    let old_started = old.is_some_and(|it| it.get("containerID").is_some());
    let old_restarts = old.and_then(|it| int_at(it, "/restartCount")).unwrap_or(0);
    let events = &mut outcome.events;
    match &new.state {
        State::Waiting("ErrImagePull", message) if old_reason != Some("ErrImagePull") => {
            events.push((false, "Pulling", format!("Pulling image \"{image}\"")));
            let message = message.clone().unwrap_or_default();
            events.push((
                true,
                "Failed",
                format!("Failed to pull image \"{image}\": {message}"),
            ));
            events.push((true, "Failed", "Error: ErrImagePull".to_owned()));
        }
        State::Waiting("ImagePullBackOff", _) if old_reason != Some("ImagePullBackOff") => {
            events.push((
                false,
                "BackOff",
                format!("Back-off pulling image \"{image}\""),
            ));
            events.push((true, "Failed", "Error: ImagePullBackOff".to_owned()));
        }
        State::Waiting("CrashLoopBackOff", _) if old_reason != Some("CrashLoopBackOff") => {
            let message = format!(
                "Back-off restarting failed container {container} in pod {}_{}({})",
                name(pod),
                namespace(pod),
                uid(pod)
            );
            events.push((true, "BackOff", message));
        }
        _ => (),
    }
    let started_now = !matches!(new.state, State::Waiting(..)) && !old_started;
    if started_now {
        events.push((false, "Pulling", format!("Pulling image \"{image}\"")));
        events.push((
            false,
            "Pulled",
            format!("Successfully pulled image \"{image}\" in 500ms (500ms including waiting). Image size: 0 bytes."),
        ));
    }
    if started_now || new.restarts > old_restarts {
        events.push((false, "Created", format!("Created container: {container}")));
        events.push((false, "Started", format!("Started container {container}")));
    }
}
