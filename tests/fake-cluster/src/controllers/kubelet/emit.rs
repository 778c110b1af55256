//! What simulating a pod leaves besides its status: container log lines past the watermark (each
//! written once) and the kubelet's Events for container state changes. Never computes a status.

use serde_json::Value;

use super::simulate::Outcome;
use crate::controllers::SimContext;
use crate::controllers::container::{Behaviour, Container, State};
use crate::controllers::util::{Millis, int_at, name, namespace, scaled, str_at, uid};

pub(super) fn collect_logs(
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

pub(super) fn container_events(
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
