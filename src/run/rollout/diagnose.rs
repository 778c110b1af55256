//! Why a rollout failed, for the reader: for one failing pod of a failed workload, its Warning
//! Events (deduplicated by reason and message, the latest 10) and the last 20 log lines of the
//! failing container's previous run (`previous=true`), or of its current run when there was none.
//! Read before the rollback, which deletes the pods. Best effort: what cannot be read is said in
//! `problems`, never fails the run.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::{ListParams, LogParams};

use crate::cluster::Cluster;
use crate::report::{Diagnosis, EventSummary};
use crate::run::rollout::{Target, pods};

/// How many Events and log lines a diagnosis keeps.
pub const EVENTS: usize = 10;
pub const LOG_LINES: i64 = 20;

/// How long gathering one diagnosis may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The failing pod of a workload and its failing container, when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Culprit {
    pub pod: String,
    pub container: Option<String>,
}

/// A failing pod of `target` when the failure named none (a progress deadline, `--timeout`): the
/// first pod of the new revision that is not Ready, and its first container that is not.
pub async fn find_culprit(cluster: &Cluster, target: &Target) -> Option<Culprit> {
    let selector = target.selector.as_ref()?;
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &target.id.namespace);
    let params = ListParams::default().labels(&selector.to_string());
    let listed = tokio::time::timeout(READ_TIMEOUT, api.list(&params))
        .await
        .ok()?
        .ok()?;
    let mut candidates: Vec<&Pod> = listed
        .items
        .iter()
        .filter(|pod| pods::runs(pod, &target.expected))
        .collect();
    candidates.sort_by_key(|pod| pod.metadata.name.clone());
    let pod = candidates
        .iter()
        .find(|pod| !ready(pod))
        .or(candidates.first())?;
    let status = pod.status.as_ref();
    let container = status
        .into_iter()
        .flat_map(|it| {
            it.init_container_statuses
                .iter()
                .flatten()
                .chain(it.container_statuses.iter().flatten())
        })
        .find(|it| !it.ready)
        .map(|it| it.name.clone())
        .or_else(|| target.expected.first().map(|(name, _)| name.clone()));
    Some(Culprit {
        pod: pod.metadata.name.clone().unwrap_or_default(),
        container,
    })
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .iter()
        .flat_map(|it| it.conditions.iter().flatten())
        .any(|condition| condition.type_ == "Ready" && condition.status == "True")
}

/// Reads the Events and the last log lines of `culprit` in `namespace`.
pub async fn diagnose(cluster: &Cluster, namespace: &str, culprit: &Culprit) -> Diagnosis {
    let mut diagnosis = Diagnosis {
        pod: culprit.pod.clone(),
        container: culprit.container.clone(),
        events: Vec::new(),
        logs_of: None,
        log_lines: Vec::new(),
        problems: Vec::new(),
    };
    let (events, logs) = tokio::join!(
        warning_events(cluster, namespace, &culprit.pod),
        last_lines(cluster, namespace, culprit),
    );
    match events {
        Ok(events) => diagnosis.events = events,
        Err(problem) => diagnosis.problems.push(problem),
    }
    match logs {
        Ok(Some((of, lines))) => {
            diagnosis.logs_of = Some(of.to_owned());
            diagnosis.log_lines = lines;
        }
        Ok(None) => (),
        Err(problem) => diagnosis.problems.push(problem),
    }
    diagnosis
}

async fn warning_events(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
) -> Result<Vec<EventSummary>, String> {
    let api: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={pod},type=Warning"));
    let listed = match tokio::time::timeout(READ_TIMEOUT, api.list(&params)).await {
        Ok(Ok(listed)) => listed.items,
        Ok(Err(kube::Error::Api(status))) if status.is_forbidden() => {
            return Err(format!(
                "events not shown: this token may not list events in namespace {namespace}"
            ));
        }
        Ok(Err(err)) => {
            return Err(format!(
                "events not shown: {}",
                crate::cluster::one_line(&err)
            ));
        }
        Err(_) => return Err("events not shown: no answer in time".to_owned()),
    };
    Ok(summarize(listed))
}

/// Warning Events, one per reason and message (counts summed, the latest time kept), oldest first,
/// the latest `EVENTS`.
pub fn summarize(events: Vec<Event>) -> Vec<EventSummary> {
    let mut res: Vec<EventSummary> = Vec::new();
    for event in events {
        if event.type_.as_deref().is_some_and(|it| it != "Warning") {
            continue;
        }
        // The tool's own Events are about workloads, never pods: one named after a pod is forged.
        let ours = |it: Option<&String>| it.is_some_and(|it| it == crate::plan::audit::COMPONENT);
        if ours(event.reporting_component.as_ref())
            || ours(event.source.as_ref().and_then(|it| it.component.as_ref()))
        {
            continue;
        }
        // One line each: no newline, escape sequence or CI command hidden in a message.
        let flat = |text: Option<&String>| -> String {
            text.map(String::as_str)
                .unwrap_or_default()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let reason = flat(event.reason.as_ref());
        let message = flat(event.message.as_ref());
        let seen = event
            .last_timestamp
            .as_ref()
            .map(|it| it.0.to_string())
            .or_else(|| event.event_time.as_ref().map(|it| it.0.to_string()))
            .or_else(|| event.first_timestamp.as_ref().map(|it| it.0.to_string()))
            .or_else(|| {
                event
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|it| it.0.to_string())
            });
        let count = event.count.unwrap_or(1).max(1);
        match res
            .iter_mut()
            .find(|it| it.reason == reason && it.message == message)
        {
            Some(known) => {
                known.count = known.count.saturating_add(count);
                if seen > known.last_seen {
                    known.last_seen = seen;
                }
            }
            None => res.push(EventSummary {
                reason,
                message,
                count,
                last_seen: seen,
            }),
        }
    }
    // RFC 3339 times in UTC sort as text.
    res.sort_by(|a, b| a.last_seen.cmp(&b.last_seen));
    let skip = res.len().saturating_sub(EVENTS);
    res.drain(..skip);
    res
}

/// The last lines of the container's previous run, else of its current run.
async fn last_lines(
    cluster: &Cluster,
    namespace: &str,
    culprit: &Culprit,
) -> Result<Option<(&'static str, Vec<String>)>, String> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let mut problem = None;
    for (of, previous) in [("previous", true), ("current", false)] {
        let params = LogParams {
            container: culprit.container.clone(),
            previous,
            tail_lines: Some(LOG_LINES),
            ..LogParams::default()
        };
        match tokio::time::timeout(READ_TIMEOUT, api.logs(&culprit.pod, &params)).await {
            Ok(Ok(text)) => {
                let lines: Vec<String> = text.lines().map(str::to_owned).collect();
                return Ok(Some((of, lines)));
            }
            Ok(Err(kube::Error::Api(status))) if status.is_forbidden() => {
                return Err(format!(
                    "logs not shown: this token may not get pods/log in namespace {namespace}"
                ));
            }
            // No previous run, a container that never started, or no log at all (400): try the
            // next; none is not a problem.
            Ok(Err(kube::Error::Api(status))) if status.code == 400 => (),
            Ok(Err(kube::Error::Api(status))) => problem = Some(status.message),
            Ok(Err(err)) => problem = Some(crate::cluster::one_line(&err)),
            Err(_) => problem = Some("no answer in time".to_owned()),
        }
    }
    match problem {
        Some(problem) => Err(format!("logs not shown: {problem}")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(reason: &str, message: &str, last: &str, count: i32) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("e-{reason}-{last}")},
            "involvedObject": {"kind": "Pod", "name": "web-1"},
            "type": "Warning", "reason": reason, "message": message,
            "lastTimestamp": last, "count": count,
        }))
        .unwrap()
    }

    #[test]
    fn events_are_deduplicated_by_reason_and_message_and_the_latest_kept() {
        let mut events = vec![
            event("Failed", "Error: ErrImagePull", "2026-01-01T00:00:01Z", 1),
            event(
                "BackOff",
                "Back-off pulling image",
                "2026-01-01T00:00:03Z",
                2,
            ),
            event("Failed", "Error: ErrImagePull", "2026-01-01T00:00:05Z", 1),
        ];
        for idx in 0..12 {
            events.push(event(
                "Other",
                &format!("message {idx:02}"),
                &format!("2026-01-01T00:01:{idx:02}Z"),
                1,
            ));
        }
        let summary = summarize(events);
        assert_eq!(summary.len(), EVENTS);
        assert_eq!(summary[0].message, "message 02", "{summary:#?}");
        let summary = summarize(vec![
            event("Failed", "Error: ErrImagePull", "2026-01-01T00:00:01Z", 1),
            event(
                "BackOff",
                "Back-off pulling image",
                "2026-01-01T00:00:03Z",
                2,
            ),
            event("Failed", "Error: ErrImagePull", "2026-01-01T00:00:05Z", 1),
        ]);
        let seen: Vec<(&str, i32)> = summary
            .iter()
            .map(|it| (it.reason.as_str(), it.count))
            .collect();
        assert_eq!(seen, [("BackOff", 2), ("Failed", 2)]);
    }

    #[test]
    fn forged_and_hostile_events_do_not_reach_the_diagnosis_as_they_are() {
        let mut forged = event("Failed", "approved by security", "2026-01-01T00:00:01Z", 1);
        forged.reporting_component = Some(crate::plan::audit::COMPONENT.to_owned());
        let hostile = event(
            "Failed",
            "line one\n::error::fake\u{1b}[31mred",
            "2026-01-01T00:00:02Z",
            i32::MAX,
        );
        let again = event(
            "Failed",
            "line one\n::error::fake\u{1b}[31mred",
            "2026-01-01T00:00:03Z",
            i32::MAX,
        );
        let summary = summarize(vec![forged, hostile, again]);
        assert_eq!(summary.len(), 1, "{summary:#?}");
        assert_eq!(summary[0].message, "line one ::error::fake [31mred");
        assert_eq!(summary[0].count, i32::MAX, "summed without overflow");
    }
}
