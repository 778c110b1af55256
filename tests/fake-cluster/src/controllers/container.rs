//! One container as the simulated kubelet sees it: what its image and command make it do
//! (`Behaviour`), its state machine (`advance`: pull, start, exit, crash-loop back-off, pull
//! back-off) and the `containerStatuses` entry it is rendered to.

use serde_json::{Value, json};

use crate::controllers::SimContext;
use crate::controllers::script::{self, Run};
use crate::controllers::util::{
    At, Millis, fmt_time, hex64, int_at, name, namespace, scaled, str_at, time_at, uid,
};

/// Image pull plus container creation.
pub const PULL: f64 = 0.5;
/// From container start to Ready without a readinessProbe.
pub const READY_DELAY: f64 = 0.1;
/// How long a `crash-` image runs before exiting 1.
pub const CRASH_RUN: f64 = 0.5;
/// How long `ErrImagePull` shows before `ImagePullBackOff`.
pub const ERR_PULL_VISIBLE: f64 = 1.0;

/// What an image and command make a container do.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// The image cannot be pulled; the message is the container's waiting message.
    PullFails(String),
    /// Runs forever; Ready after the delay (`None`: never Ready).
    Serve(Option<f64>),
    /// Runs a script, Ready while running after the delay. One `Run` per attempt (restart in the
    /// same pod); attempts past the last repeat it.
    Script(Vec<Run>, Option<f64>),
}

impl Behaviour {
    /// The script's run on the given attempt (0 for the first start).
    pub fn run(&self, attempt: i64) -> Option<&Run> {
        match self {
            Behaviour::Script(runs, _) => runs
                .get(usize::try_from(attempt).unwrap_or(0))
                .or(runs.last()),
            Behaviour::PullFails(_) | Behaviour::Serve(_) => None,
        }
    }
}

/// The behaviour of one container spec.
pub fn behaviour(container: &Value, init: bool) -> Behaviour {
    let image = str_at(container, "/image").unwrap_or("");
    let reference = ImageRef::parse(image);
    if reference.host.ends_with(".invalid") {
        let message = format!(
            "rpc error: code = Unknown desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": failed to do request: Head \"https://{host}/v2/{path}/manifests/{tag}\": dial tcp: lookup {host}: no such host",
            full = reference.full(),
            host = reference.host,
            path = reference.path,
            tag = reference.tag,
        );
        return Behaviour::PullFails(message);
    }
    if reference.tag.starts_with("missing-") {
        let message = format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found",
            full = reference.full()
        );
        return Behaviour::PullFails(message);
    }
    let ready = if reference.tag.starts_with("unready-") {
        None
    } else {
        let delay = container
            .at("/readinessProbe")
            .filter(|it| it.is_object())
            .map(|probe| {
                probe
                    .get("initialDelaySeconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    + 2.0 * READY_DELAY
            });
        Some(delay.unwrap_or(READY_DELAY))
    };
    if reference.tag.starts_with("crash-") {
        // Like a process that dies at start-up: one line on stderr, then exit 1. The log of each
        // run is kept, so `previous=true` serves the last crashed run's lines.
        return Behaviour::Script(
            vec![Run {
                lines: vec![(
                    CRASH_RUN / 2.0,
                    format!(
                        "fatal: cannot start: simulated crash of image tag {} (exit 1)",
                        reference.tag
                    ),
                )],
                exit: Some((CRASH_RUN, 1)),
            }],
            ready,
        );
    }
    let strings = |pointer: &str| -> Vec<String> {
        container
            .at(pointer)
            .and_then(Value::as_array)
            .map(|it| {
                it.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mounts: Vec<String> = container
        .at("/volumeMounts")
        .and_then(Value::as_array)
        .map(|it| {
            it.iter()
                .filter_map(|mount| mount.get("mountPath").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    match script::interpret_attempts(&strings("/command"), &strings("/args"), &mounts) {
        Some(runs) => Behaviour::Script(runs, ready),
        None if init => Behaviour::Script(
            vec![Run {
                lines: Vec::new(),
                exit: Some((READY_DELAY, 0)),
            }],
            ready,
        ),
        None => Behaviour::Serve(ready),
    }
}

/// An image reference split the way a container runtime resolves it.
pub struct ImageRef {
    host: String,
    path: String,
    tag: String,
}

impl ImageRef {
    pub fn parse(image: &str) -> ImageRef {
        let image = image.split('@').next().unwrap_or(image);
        let (host, rest) = match image.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest)
            }
            Some(_) => ("docker.io".to_owned(), image),
            None => ("docker.io".to_owned(), image),
        };
        let (path, tag) = match rest.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path.to_owned(), tag.to_owned()),
            _ => (rest.to_owned(), "latest".to_owned()),
        };
        let path = if host == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        ImageRef { host, path, tag }
    }

    pub fn full(&self) -> String {
        format!("{}/{}:{}", self.host, self.path, self.tag)
    }
}

/// `behaviour` without allocating for the common case: no command and an ordinary image.
pub fn plain_behaviour(container: &Value) -> Behaviour {
    let image = str_at(container, "/image").unwrap_or("");
    let special = ["missing-", "crash-", "unready-", ".invalid"]
        .iter()
        .any(|it| image.contains(it));
    let scripted = container.get("command").is_some_and(|it| !it.is_null())
        || container.get("args").is_some_and(|it| !it.is_null());
    let probed = container
        .get("readinessProbe")
        .is_some_and(Value::is_object);
    if special || scripted || probed {
        return behaviour(container, false);
    }
    Behaviour::Serve(Some(READY_DELAY))
}

/// A container's state as the kubelet tracks it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting(&'static str, Option<String>),
    Running(Millis),
    Terminated {
        code: i32,
        started: Millis,
        finished: Millis,
    },
}

#[derive(Debug, Clone)]
pub struct Container {
    pub state: State,
    pub last: Option<(i32, Millis, Millis)>,
    pub restarts: i64,
}

pub fn parse_container(status: &Value) -> Container {
    let state = match status.get("state") {
        Some(state) if state.get("running").is_some() => {
            State::Running(time_at(state, "/running/startedAt").unwrap_or(0))
        }
        Some(state) if state.get("terminated").is_some() => State::Terminated {
            code: int_at(state, "/terminated/exitCode").unwrap_or(0) as i32,
            started: time_at(state, "/terminated/startedAt").unwrap_or(0),
            finished: time_at(state, "/terminated/finishedAt").unwrap_or(0),
        },
        Some(state) => {
            let reason = match str_at(state, "/waiting/reason") {
                Some("CrashLoopBackOff") => "CrashLoopBackOff",
                Some("ErrImagePull") => "ErrImagePull",
                Some("ImagePullBackOff") => "ImagePullBackOff",
                Some("PodInitializing") => "PodInitializing",
                _ => "ContainerCreating",
            };
            State::Waiting(reason, None)
        }
        None => State::Waiting("ContainerCreating", None),
    };
    let last = status.at("/lastState/terminated").map(|it| {
        (
            int_at(it, "/exitCode").unwrap_or(0) as i32,
            time_at(it, "/startedAt").unwrap_or(0),
            time_at(it, "/finishedAt").unwrap_or(0),
        )
    });
    Container {
        state,
        last,
        restarts: int_at(status, "/restartCount").unwrap_or(0),
    }
}

/// Crash-loop and image-pull back-off after `attempt` failures (1-based), in simulated seconds.
pub fn back_off_seconds(attempt: i64) -> f64 {
    let exponent = (attempt.max(1) - 1).min(16) as i32;
    (10.0 * 2f64.powi(exponent)).min(300.0)
}

/// Formats seconds like a Go duration (`10s`, `5m0s`).
pub fn go_duration(seconds: f64) -> String {
    let seconds = seconds.round() as i64;
    if seconds < 60 {
        format!("{seconds}s")
    } else {
        format!("{}m{}s", seconds / 60, seconds % 60)
    }
}

/// The waiting reason of a container whose image cannot be pulled, `eligible` being when it could
/// first start pulling.
pub fn pull_failure_state(ctx: &SimContext, eligible: Millis, now: Millis) -> &'static str {
    let pull = scaled(ctx, PULL);
    let mut attempt_start = eligible;
    let mut attempt = 1;
    loop {
        let failed = attempt_start + pull;
        if now < failed {
            return if attempt == 1 {
                "ContainerCreating"
            } else {
                "ImagePullBackOff"
            };
        }
        let back_off = scaled(ctx, back_off_seconds(attempt));
        if now < failed + scaled(ctx, ERR_PULL_VISIBLE).min(back_off / 2) {
            return "ErrImagePull";
        }
        if now < failed + back_off {
            return "ImagePullBackOff";
        }
        attempt_start = failed + back_off;
        attempt += 1;
        if back_off_seconds(attempt) >= 300.0 {
            let cycle = pull + scaled(ctx, 300.0);
            let skipped = (now - attempt_start) / cycle;
            attempt_start += skipped * cycle;
        }
    }
}

/// Which terminations lead to a restart.
#[derive(Clone, Copy)]
pub enum Restart {
    Always,
    OnFailure,
    Never,
}

/// Advances one container to `now`. Returns its state and the start times (with the attempt
/// number) of the runs whose log lines may be due.
pub fn advance(
    ctx: &SimContext,
    behaviour: &Behaviour,
    previous: Option<Container>,
    eligible: Millis,
    now: Millis,
    restart: Restart,
) -> (Container, Vec<(Millis, i64)>) {
    let mut container = previous.unwrap_or(Container {
        state: State::Waiting("ContainerCreating", None),
        last: None,
        restarts: 0,
    });
    let mut runs = Vec::new();
    if let Behaviour::PullFails(message) = behaviour {
        let reason = pull_failure_state(ctx, eligible, now);
        let message = match reason {
            "ErrImagePull" => Some(message.clone()),
            _ => None,
        };
        container.state = State::Waiting(reason, message);
        return (container, runs);
    }
    if let State::Running(started) = container.state {
        runs.push((started, container.restarts));
    }
    let pulled = eligible + scaled(ctx, PULL);
    for _ in 0..256 {
        match container.state.clone() {
            State::Waiting("CrashLoopBackOff", _) => {
                let finished = container.last.map(|it| it.2).unwrap_or(eligible);
                let restart_at = finished + scaled(ctx, back_off_seconds(container.restarts));
                if restart_at > now {
                    break;
                }
                container.state = State::Running(restart_at);
                runs.push((restart_at, container.restarts));
            }
            State::Waiting(..) => {
                if pulled > now {
                    container.state = State::Waiting("ContainerCreating", None);
                    break;
                }
                container.state = State::Running(pulled);
                runs.push((pulled, container.restarts));
            }
            State::Running(started) => {
                let Some(Run {
                    exit: Some((seconds, code)),
                    ..
                }) = behaviour.run(container.restarts)
                else {
                    break;
                };
                let finished = started
                    + if *seconds > 0.0 {
                        scaled(ctx, *seconds)
                    } else {
                        0
                    };
                if finished > now {
                    break;
                }
                container.state = State::Terminated {
                    code: *code,
                    started,
                    finished,
                };
            }
            State::Terminated {
                code,
                started,
                finished,
            } => {
                let again = match restart {
                    Restart::Always => true,
                    Restart::OnFailure => code != 0,
                    Restart::Never => false,
                };
                if !again {
                    break;
                }
                container.restarts += 1;
                container.last = Some((code, started, finished));
                container.state = State::Waiting("CrashLoopBackOff", None);
            }
        }
    }
    (container, runs)
}

/// When a running container turned Ready, if it has.
pub fn ready_at(
    behaviour: &Behaviour,
    container: &Container,
    ctx: &SimContext,
    now: Millis,
) -> Option<Millis> {
    let State::Running(started) = container.state else {
        return None;
    };
    let delay = match behaviour {
        Behaviour::Serve(delay) | Behaviour::Script(_, delay) => (*delay)?,
        Behaviour::PullFails(_) => return None,
    };
    let at = started + scaled(ctx, delay);
    (at <= now).then_some(at)
}

pub fn waiting(reason: &'static str) -> Container {
    Container {
        state: State::Waiting(reason, None),
        last: None,
        restarts: 0,
    }
}

pub fn container_status(
    spec: &Value,
    pod: &Value,
    container: &Container,
    ready: bool,
    ctx: &SimContext,
) -> Value {
    let image = str_at(spec, "/image").unwrap_or("");
    let container_name = str_at(spec, "/name").unwrap_or("");
    let state = match &container.state {
        State::Waiting(reason, message) => {
            let mut waiting = json!({"reason": reason});
            match (*reason, message) {
                (_, Some(message)) => waiting["message"] = json!(message),
                ("ImagePullBackOff", None) => {
                    waiting["message"] = json!(format!("Back-off pulling image \"{image}\""))
                }
                ("CrashLoopBackOff", None) => {
                    let seconds = back_off_seconds(container.restarts);
                    let message = format!(
                        "back-off {} restarting failed container={container_name} pod={}_{}({})",
                        go_duration(seconds),
                        name(pod),
                        namespace(pod),
                        uid(pod)
                    );
                    waiting["message"] = json!(message);
                }
                _ => (),
            }
            json!({"waiting": waiting})
        }
        State::Running(started) => json!({"running": {"startedAt": fmt_time(*started)}}),
        State::Terminated {
            code,
            started,
            finished,
        } => json!({"terminated": terminated(
            *code,
            *started,
            *finished,
            &container_id(pod, container_name, container.restarts)
        )}),
    };
    let mut status = json!({
        "name": container_name,
        "state": state,
        "lastState": {},
        "ready": ready,
        "restartCount": container.restarts,
        "image": image,
        "imageID": "",
        "started": matches!(container.state, State::Running(_)),
    });
    if let Some((code, started, finished)) = container.last {
        let id = container_id(pod, container_name, container.restarts - 1);
        status["lastState"] = json!({"terminated": terminated(code, started, finished, &id)});
    }
    let has_run = !matches!(container.state, State::Waiting(..)) || container.restarts > 0;
    if has_run {
        let reference = ImageRef::parse(image);
        status["imageID"] = json!(format!(
            "{}/{}@sha256:{}",
            reference.host,
            reference.path,
            &hex64(&reference.full())[..64]
        ));
        status["containerID"] = json!(container_id(pod, container_name, container.restarts));
    }
    let _ = ctx;
    status
}

pub fn terminated(code: i32, started: Millis, finished: Millis, id: &str) -> Value {
    json!({
        "exitCode": code,
        "reason": if code == 0 { "Completed" } else { "Error" },
        "startedAt": fmt_time(started),
        "finishedAt": fmt_time(finished),
        "containerID": id,
    })
}

pub fn container_id(pod: &Value, container: &str, restarts: i64) -> String {
    format!(
        "containerd://{}",
        hex64(&format!("{}/{container}/{restarts}", uid(pod)))
    )
}
