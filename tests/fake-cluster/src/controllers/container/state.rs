//! The container state machine: pull, start, exit, crash-loop and image-pull back-off, readiness,
//! and parsing a stored status back into a state. Never renders `containerStatuses`.

use serde_json::Value;

use super::behaviour::Behaviour;
use super::{ERR_PULL_VISIBLE, PULL};
use crate::controllers::SimContext;
use crate::controllers::script::Run;
use crate::controllers::util::{At, Millis, int_at, scaled, str_at, time_at};

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
