//! The audit trail's pure parts: the cause of a change (`--cause`, or the CI run that made it, read
//! from an environment passed in as a map), its validation, and the bodies of the Events recorded
//! on changed workloads. No I/O: never reads the environment or sends anything itself.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::plan::workload::ObjectId;

/// `source.component` and `reportingComponent` of every Event the tool records; the admission
/// policy allows the token no other.
pub const COMPONENT: &str = "kubectl-update";
/// The longest Event message the API server accepts from a core/v1 Event with `eventTime`.
pub const MAX_MESSAGE: usize = 1024;

/// The longest cause accepted, in bytes; it goes into an annotation and an Event message.
pub const MAX_CAUSE: usize = 1024;

/// The CI run behind this process, from its environment: GitHub Actions, GitLab CI, Buildkite,
/// CircleCI, Jenkins or Azure Pipelines, in that order. `None` outside CI.
pub fn ci_cause(env: &BTreeMap<String, String>) -> Option<String> {
    let get = |key: &str| env.get(key).map(|it| it.trim()).filter(|it| !it.is_empty());
    if let (Some(server), Some(repository), Some(run)) = (
        get("GITHUB_SERVER_URL"),
        get("GITHUB_REPOSITORY"),
        get("GITHUB_RUN_ID"),
    ) {
        let mut url = format!(
            "{}/{repository}/actions/runs/{run}",
            server.trim_end_matches('/')
        );
        if let Some(attempt) = get("GITHUB_RUN_ATTEMPT") {
            url = format!("{url}/attempts/{attempt}");
        }
        return Some(url);
    }
    if let Some(url) = get("CI_PIPELINE_URL").or_else(|| get("CI_JOB_URL")) {
        return Some(url.to_owned());
    }
    for key in ["BUILDKITE_BUILD_URL", "CIRCLE_BUILD_URL", "BUILD_URL"] {
        if let Some(url) = get(key) {
            return Some(url.to_owned());
        }
    }
    if let (Some(collection), Some(project), Some(build)) = (
        get("SYSTEM_COLLECTIONURI"),
        get("SYSTEM_TEAMPROJECT"),
        get("BUILD_BUILDID"),
    ) {
        return Some(format!(
            "{}/{project}/_build/results?buildId={build}",
            collection.trim_end_matches('/')
        ));
    }
    None
}

/// A cause fits on one line of an annotation and an Event message: not empty, at most
/// `MAX_CAUSE` bytes, no newline or other control character.
pub fn check_cause(cause: &str) -> Result<(), String> {
    if cause.trim().is_empty() {
        return Err("a cause is not empty".to_owned());
    }
    if cause.len() > MAX_CAUSE {
        return Err(format!(
            "a cause is at most {MAX_CAUSE} bytes, this one has {}",
            cause.len()
        ));
    }
    if let Some(bad) = cause.chars().find(|it| it.is_control()) {
        return Err(format!(
            "a cause is one line without control characters, this one has {bad:?}"
        ));
    }
    Ok(())
}

/// The cause of this run: `--cause`, else the CI run from `env`, else `None` (the change-cause then
/// names the images only). An invalid cause, from either source, is an error.
pub fn resolve_cause(
    flag: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    match flag {
        Some(cause) => check_cause(cause)
            .map(|()| Some(cause.to_owned()))
            .map_err(|reason| format!("invalid value for --cause: {reason}")),
        None => match ci_cause(env) {
            Some(cause) => check_cause(&cause).map(|()| Some(cause)).map_err(|reason| {
                format!("the CI environment's run URL is no valid cause ({reason}); pass --cause")
            }),
            None => Ok(None),
        },
    }
}

/// `kubernetes.io/change-cause`: what changed, and why when a cause is known. Always starts with
/// `kubectl-update: `, which the admission policy requires.
pub fn change_cause(what: &str, cause: Option<&str>) -> String {
    match cause {
        Some(cause) => format!("kubectl-update: {what} ({cause})"),
        None => format!("kubectl-update: {what}"),
    }
}

/// Why an Event is recorded: the only reasons the admission policy lets the token record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The image patch of a workload was sent (Normal).
    ImageUpdated,
    /// A workload's images were restored after a failed or interrupted rollout, or by
    /// `kubectl update rollback` (Warning: something went wrong before).
    RolledBack,
    /// A migration failed, so the workload was not updated (Warning).
    MigrationFailed,
    /// A rollback migration failed after the workload was rolled back (Warning).
    RollbackMigrationFailed,
}

impl Reason {
    pub const ALL: [Reason; 4] = [
        Reason::ImageUpdated,
        Reason::RolledBack,
        Reason::MigrationFailed,
        Reason::RollbackMigrationFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ImageUpdated => "ImageUpdated",
            Reason::RolledBack => "RolledBack",
            Reason::MigrationFailed => "MigrationFailed",
            Reason::RollbackMigrationFailed => "RollbackMigrationFailed",
        }
    }

    fn event_type(self) -> &'static str {
        match self {
            Reason::ImageUpdated => "Normal",
            Reason::RolledBack | Reason::MigrationFailed | Reason::RollbackMigrationFailed => {
                "Warning"
            }
        }
    }

    fn action(self) -> &'static str {
        match self {
            Reason::ImageUpdated => "Update",
            Reason::RolledBack => "Rollback",
            Reason::MigrationFailed | Reason::RollbackMigrationFailed => "Migrate",
        }
    }
}

/// One image change of a container: `container`, `from` → `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    pub container: String,
    pub from: String,
    pub to: String,
}

/// What one Event says about one workload.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub id: &'a ObjectId,
    /// The workload's uid, so `kubectl describe` finds the Event.
    pub uid: Option<&'a str>,
    pub reason: Reason,
    pub images: Vec<ImageChange>,
    /// What else to say, e.g. which migration Job failed.
    pub detail: Option<String>,
    pub cause: Option<&'a str>,
}

/// The Event's message: the images old → new, the detail, the cause; at most `MAX_MESSAGE` bytes.
pub fn message(record: &Record<'_>) -> String {
    let images: Vec<String> = record
        .images
        .iter()
        .map(|it| format!("{}: {} -> {}", it.container, it.from, it.to))
        .collect();
    let mut res = match record.reason {
        Reason::ImageUpdated => format!("image updated: {}", images.join(", ")),
        Reason::RolledBack | Reason::RollbackMigrationFailed => {
            format!("rolled back: {}", images.join(", "))
        }
        Reason::MigrationFailed => format!("not updated: {}", images.join(", ")),
    };
    if let Some(detail) = &record.detail {
        res = format!("{res}; {detail}");
    }
    if let Some(cause) = record.cause {
        res = format!("{res}; cause: {cause}");
    }
    if res.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE - 3;
        while !res.is_char_boundary(end) {
            end -= 1;
        }
        res = format!("{}...", &res[..end]);
    }
    res.replace(['\n', '\r'], " ")
}

/// A core/v1 Event on the workload, in its namespace, named `<workload>.<random>` by the server;
/// `time` is RFC 3339 with microseconds (`eventTime` is a MicroTime), `instance` who recorded it.
pub fn event(record: &Record<'_>, time: &str, instance: &str) -> Value {
    let id = record.id;
    // The server adds 5 random characters to generateName, and a name is at most 253.
    let base: String = id.name.chars().take(240).collect();
    let instance: String = instance.chars().take(128).collect();
    let mut involved = json!({
        "apiVersion": id.kind.api_version(),
        "kind": id.kind.to_string(),
        "namespace": id.namespace,
        "name": id.name,
    });
    if let Some(uid) = record.uid {
        involved["uid"] = json!(uid);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{base}."), "namespace": id.namespace},
        "involvedObject": involved,
        "reason": record.reason.as_str(),
        "message": message(record),
        "type": record.reason.event_type(),
        "action": record.reason.action(),
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
        "firstTimestamp": seconds(time),
        "lastTimestamp": seconds(time),
        "eventTime": time,
        "count": 1,
    })
}

/// An RFC 3339 time cut to whole seconds (`firstTimestamp` is a Time, not a MicroTime).
fn seconds(time: &str) -> String {
    match (time.find('.'), time.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &time[..dot]),
        _ => time.to_owned(),
    }
}

#[cfg(test)]
mod tests;
