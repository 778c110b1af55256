//! The simulated kubelet: start-up, readiness, scripts and logs, init containers, crash loops and
//! image pull failures. Never starts the API server: pods live in a `MemoryStore`.

use serde_json::{Value, json};

use crate::controllers::tests::{Sim, check, condition};
use crate::controllers::util::{int_at, parse_time, str_at, time_at};

fn pod(name: &str, image: &str, command: &[&str], restart_policy: &str) -> Value {
    let mut container = json!({"name": "app", "image": image});
    if !command.is_empty() {
        container["command"] = json!(command);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [container], "restartPolicy": restart_policy},
    })
}

/// Seconds from the pod's scheduling to `at`.
fn since_scheduled(pod: &Value, at: i64) -> f64 {
    let scheduled = time_at(pod, "/status/startTime").expect("scheduled");
    (at - scheduled) as f64 / 1000.0
}

fn waiting_or_state(pod: &Value) -> String {
    let state = &pod["status"]["containerStatuses"][0]["state"];
    match state.as_object().and_then(|it| it.keys().next()) {
        Some(key) if key == "waiting" => str_at(state, "/waiting/reason").unwrap_or("").to_owned(),
        Some(key) => key.clone(),
        None => "-".into(),
    }
}

#[test]
fn plain_pod_starts_and_becomes_ready() {
    let mut sim = Sim::new(1.0);
    sim.create("pods", pod("web", "nginx:1.27", &[], "Always"));
    sim.tick();
    let pod = sim.get("pods", "web");
    check(
        &format!(
            "{} {} node={}",
            pod["status"]["phase"],
            waiting_or_state(&pod),
            pod["spec"]["nodeName"]
        ),
        r#""Pending" ContainerCreating node="node-1""#,
    );
    let took = sim.run_until(5.0, |sim| {
        condition(&sim.get("pods", "web"), "Ready") == "True/"
    });
    let pod = sim.get("pods", "web");
    let status = &pod["status"]["containerStatuses"][0];
    check(
        &format!(
            "took={took} phase={} started={} ready={} imageID={} ip={}",
            pod["status"]["phase"],
            status["started"],
            status["ready"],
            status["imageID"]
                .as_str()
                .unwrap_or("")
                .starts_with("docker.io/library/nginx@sha256:"),
            pod["status"]["podIP"]
                .as_str()
                .is_some_and(|it| it.starts_with("10.244.")),
        ),
        r#"took=0.6 phase="Running" started=true ready=true imageID=true ip=true"#,
    );
}

#[test]
fn script_logs_and_exit_code() {
    let mut sim = Sim::new(1.0);
    sim.create(
        "pods",
        pod(
            "task",
            "busybox:1",
            &["sh", "-c", "echo a; sleep 1; echo b c; exit 2"],
            "Never",
        ),
    );
    sim.run_for(0.9);
    check(&sim.store.logs("default", "task", "app").join("|"), "a");
    sim.run_until(5.0, |sim| {
        sim.get("pods", "task")["status"]["phase"] == "Failed"
    });
    let pod = sim.get("pods", "task");
    let terminated = &pod["status"]["containerStatuses"][0]["state"]["terminated"];
    let ran = (time_at(terminated, "/finishedAt").unwrap()
        - time_at(terminated, "/startedAt").unwrap()) as f64
        / 1000.0;
    check(
        &format!(
            "logs={} exit={} reason={} ran={ran} ready={}",
            sim.store.logs("default", "task", "app").join("|"),
            terminated["exitCode"],
            terminated["reason"],
            condition(&pod, "Ready"),
        ),
        r#"logs=a|b c exit=2 reason="Error" ran=1 ready=False/PodFailed"#,
    );
}

#[test]
fn init_containers_run_first_in_order() {
    let mut sim = Sim::new(1.0);
    let mut object = pod("app", "nginx:1", &[], "Always");
    object["spec"]["initContainers"] = json!([
        {"name": "one", "image": "busybox", "command": ["sh", "-c", "echo one; sleep 1"]},
        {"name": "two", "image": "busybox", "command": ["sh", "-c", "echo two"]},
    ]);
    sim.create("pods", object);
    sim.run_for(1.0);
    let pod = sim.get("pods", "app");
    check(
        &format!(
            "{} {} {}",
            pod["status"]["phase"],
            condition(&pod, "Initialized"),
            waiting_or_state(&pod)
        ),
        r#""Pending" False/ContainersNotInitialized PodInitializing"#,
    );
    sim.run_until(5.0, |sim| {
        condition(&sim.get("pods", "app"), "Ready") == "True/"
    });
    let pod = sim.get("pods", "app");
    let started = time_at(&pod, "/status/containerStatuses/0/state/running/startedAt").unwrap();
    check(
        &format!(
            "main started {}s after scheduling; logs {} {}; init states {} {}",
            since_scheduled(&pod, started),
            sim.store.logs("default", "app", "one").join("|"),
            sim.store.logs("default", "app", "two").join("|"),
            pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            pod["status"]["initContainerStatuses"][1]["state"]["terminated"]["reason"],
        ),
        r#"main started 2.5s after scheduling; logs one two; init states "Completed" "Completed""#,
    );
}

#[test]
fn crash_loop_back_off_grows() {
    let mut sim = Sim::new(1.0);
    sim.step = 100;
    sim.create(
        "pods",
        pod("crash", "example.com/app:crash-1", &[], "Always"),
    );
    let mut starts = Vec::new();
    let mut messages = Vec::new();
    while sim.elapsed() < 200.0 {
        sim.tick();
        let pod = sim.get("pods", "crash");
        let status = &pod["status"]["containerStatuses"][0];
        if let Some(started) = str_at(status, "/state/running/startedAt").and_then(parse_time) {
            let at = since_scheduled(&pod, started);
            if starts.last() != Some(&at) {
                starts.push(at);
            }
        }
        if let Some(message) = str_at(status, "/state/waiting/message") {
            let short = format!(
                "{}:{}",
                int_at(status, "/restartCount").unwrap_or(0),
                message.split(" restarting").next().unwrap_or("")
            );
            if messages.last() != Some(&short) {
                messages.push(short);
            }
        }
    }
    let pod = sim.get("pods", "crash");
    let status = &pod["status"]["containerStatuses"][0];
    check(
        &format!(
            "starts {:?}\nwaiting {}\nphase {} lastState {} {}",
            starts,
            messages.join(", "),
            pod["status"]["phase"],
            status["lastState"]["terminated"]["exitCode"],
            status["lastState"]["terminated"]["reason"],
        ),
        r#"
        starts [0.5, 11.0, 31.5, 72.0, 152.5]
        waiting 1:back-off 10s, 2:back-off 20s, 3:back-off 40s, 4:back-off 1m20s, 5:back-off 2m40s
        phase "Running" lastState 1 "Error"
        "#,
    );
    let message = str_at(status, "/state/waiting/message").unwrap_or("");
    assert!(
        message.ends_with(&format!(
            "restarting failed container=app pod=crash_default({})",
            pod["metadata"]["uid"].as_str().unwrap()
        )),
        "{message}"
    );
}

#[test]
fn crash_under_restart_policy_never_fails_the_pod() {
    let mut sim = Sim::new(1.0);
    sim.create("pods", pod("once", "app:crash-now", &[], "Never"));
    let took = sim.run_until(5.0, |sim| {
        sim.get("pods", "once")["status"]["phase"] == "Failed"
    });
    check(&format!("{took}"), "1.05");
}

#[test]
fn image_pull_errors_alternate_with_growing_back_off() {
    let mut sim = Sim::new(0.1);
    sim.create(
        "pods",
        pod("pull", "registry.invalid/team/app:1", &[], "Always"),
    );
    let mut seen: Vec<String> = Vec::new();
    while sim.elapsed() < 8.0 {
        sim.tick();
        let pod = sim.get("pods", "pull");
        let reason = waiting_or_state(&pod);
        if !seen.last().is_some_and(|it| it.ends_with(&reason)) {
            let at = since_scheduled(&pod, sim.now) * 10.0;
            seen.push(format!("{at:.1}s:{reason}"));
        }
    }
    check(
        &seen.join("\n"),
        "
        0.0s:ContainerCreating
        0.5s:ErrImagePull
        1.5s:ImagePullBackOff
        11.0s:ErrImagePull
        12.0s:ImagePullBackOff
        31.5s:ErrImagePull
        32.5s:ImagePullBackOff
        72.0s:ErrImagePull
        73.0s:ImagePullBackOff
        ",
    );
    let pod = sim.get("pods", "pull");
    check(
        &format!("{} {}", pod["status"]["phase"], condition(&pod, "Ready")),
        r#""Pending" False/ContainersNotReady"#,
    );
    let events: Vec<String> = sim
        .list("events")
        .iter()
        .map(|it| {
            format!(
                "{} {} x{}",
                it["reason"].as_str().unwrap(),
                it["message"].as_str().unwrap(),
                it["count"]
            )
        })
        .filter(|it| it.contains("Back-off") || it.contains("Failed to pull"))
        .collect();
    check(
        &events.join("\n"),
        r#"
        BackOff Back-off pulling image "registry.invalid/team/app:1" x4
        Failed Failed to pull image "registry.invalid/team/app:1": rpc error: code = Unknown desc = failed to pull and unpack image "registry.invalid/team/app:1": failed to resolve reference "registry.invalid/team/app:1": failed to do request: Head "https://registry.invalid/v2/team/app/manifests/1": dial tcp: lookup registry.invalid: no such host x4
        "#,
    );
}

#[test]
fn unready_image_runs_but_is_never_ready() {
    let mut sim = Sim::new(1.0);
    sim.create("pods", pod("slow", "nginx:unready-1", &[], "Always"));
    sim.run_for(5.0);
    let pod = sim.get("pods", "slow");
    check(
        &format!(
            "{} {} {}",
            pod["status"]["phase"],
            waiting_or_state(&pod),
            condition(&pod, "Ready")
        ),
        r#""Running" running False/ContainersNotReady"#,
    );
}
