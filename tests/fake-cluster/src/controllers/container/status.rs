//! The `containerStatuses` entry a container is rendered to, with stable container IDs. Never
//! advances a state.

use serde_json::{Value, json};

use super::behaviour::ImageRef;
use super::state::{Container, State, back_off_seconds, go_duration};
use crate::controllers::SimContext;
use crate::controllers::util::{Millis, fmt_time, hex64, name, namespace, str_at, uid};

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
