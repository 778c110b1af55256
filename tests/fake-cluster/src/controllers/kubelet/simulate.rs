//! One pod simulated up to `now`: init containers in order, then the containers, the phase, the
//! conditions, IPs and QoS class. A pure function of the pod and `ctx`; never writes.

use serde_json::{Map, Value, json};

use super::emit::{collect_logs, container_events};
use crate::controllers::SimContext;
use crate::controllers::container::{
    Restart, State, advance, behaviour, container_status, parse_container, ready_at, waiting,
};
use crate::controllers::util::{At, Millis, fmt_time, fnv64, name, now_ms, str_at, time_at, uid};

/// The result of simulating one pod up to `now`.
pub(super) struct Outcome {
    pub(super) status: Value,
    pub(super) logs: Vec<(String, String)>,
    pub(super) events: Vec<(bool, &'static str, String)>,
}

pub(super) fn simulate(pod: &Value, ctx: &SimContext) -> Outcome {
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
