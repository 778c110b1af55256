//! Reading pods for fast failure detection: which pods belong to the new revision, and which are
//! stuck (pull errors, crash loops, bad container config) or restarting. Pure.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Waiting reasons that mean a container will not start without someone changing something.
pub const STUCK_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "CrashLoopBackOff",
];

/// What is wrong with one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trouble {
    pub pod: String,
    pub container: String,
    /// The waiting reason, e.g. `ImagePullBackOff`; `Restarting` when only the restart count is high.
    pub reason: String,
    pub message: String,
    pub restarts: i32,
}

/// True when the pod's template carries every expected `(container, image)` pair, i.e. the pod
/// belongs to the revision being rolled out.
pub fn runs(pod: &Pod, expected: &[(String, String)]) -> bool {
    let Some(spec) = &pod.spec else { return false };
    expected.iter().all(|(name, image)| {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .any(|container| {
                &container.name == name && container.image.as_deref() == Some(image.as_str())
            })
    })
}

/// The first stuck container of a pod (init containers first), or its most restarted container
/// when it restarted at all.
pub fn trouble(pod: &Pod) -> Option<Trouble> {
    let status = pod.status.as_ref()?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let statuses: Vec<&ContainerStatus> = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .collect();
    for container in &statuses {
        let Some(waiting) = container
            .state
            .as_ref()
            .and_then(|state| state.waiting.as_ref())
        else {
            continue;
        };
        let reason = waiting.reason.clone().unwrap_or_default();
        if STUCK_REASONS.contains(&reason.as_str()) {
            return Some(Trouble {
                pod: name,
                container: container.name.clone(),
                reason,
                message: waiting.message.clone().unwrap_or_default(),
                restarts: container.restart_count,
            });
        }
    }
    let most_restarted = statuses
        .iter()
        .max_by_key(|container| container.restart_count)?;
    (most_restarted.restart_count > 0).then(|| {
        let last_exit = most_restarted
            .last_state
            .as_ref()
            .and_then(|state| state.terminated.as_ref())
            .map(|terminated| format!("last exit code {}", terminated.exit_code))
            .unwrap_or_default();
        Trouble {
            pod: name,
            container: most_restarted.name.clone(),
            reason: "Restarting".to_owned(),
            message: last_exit,
            restarts: most_restarted.restart_count,
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "web-1"},
            "spec": {"containers": [{"name": "app", "image": "acme/app:2"}, {"name": "side", "image": "envoy"}]},
            "status": status}))
        .unwrap()
    }

    #[test]
    fn new_revision_is_recognised_by_its_images() {
        let pod = pod(json!({}));
        assert!(runs(&pod, &[("app".into(), "acme/app:2".into())]));
        assert!(!runs(&pod, &[("app".into(), "acme/app:1".into())]));
    }

    #[test]
    fn pull_errors_and_crash_loops_are_trouble() {
        let pulling = pod(json!({"containerStatuses": [
            {"name": "app", "image": "acme/app:2", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}));
        let found = trouble(&pulling).unwrap();
        assert_eq!(
            (found.container.as_str(), found.reason.as_str()),
            ("app", "ImagePullBackOff")
        );

        let crashing = pod(json!({"containerStatuses": [
            {"name": "app", "image": "acme/app:2", "imageID": "", "ready": false, "restartCount": 3,
             "lastState": {"terminated": {"exitCode": 1}},
             "state": {"running": {}}}]}));
        let found = trouble(&crashing).unwrap();
        assert_eq!(
            (
                found.reason.as_str(),
                found.restarts,
                found.message.as_str()
            ),
            ("Restarting", 3, "last exit code 1")
        );

        let starting = pod(json!({"containerStatuses": [
            {"name": "app", "image": "acme/app:2", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}}]}));
        assert_eq!(trouble(&starting), None);
    }
}
