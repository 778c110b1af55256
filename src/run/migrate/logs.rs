//! The logs of a migration copy: every container of every pod of its Job, followed as they start,
//! each line told to the sink and the last few kept for the report. Best effort: a log that
//! cannot be read is skipped, never fails the migration.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::task::JoinSet;

use crate::cluster::retry;
use crate::run::sink::{Event, Sink};

/// How many log lines of a failed migration the report keeps.
const KEEP_LINES: usize = 10;

/// Follows the logs of every container of every pod of the Job as they start.
pub async fn follow_logs(
    client: Client,
    namespace: String,
    job: String,
    sink: Arc<dyn Sink>,
    last_lines: Arc<std::sync::Mutex<VecDeque<String>>>,
) {
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let config = watcher::Config::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
    let mut stream = watcher(pods.clone(), config)
        .default_backoff()
        .applied_objects()
        .boxed();
    // A container restarted in place (restartPolicy OnFailure) starts a new log: follow each run.
    let mut followed: HashSet<(String, String, i32)> = HashSet::new();
    let mut followers = JoinSet::new();
    while let Ok(Some(pod)) = stream.try_next().await {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let statuses = pod
            .status
            .iter()
            .flat_map(|it| it.container_statuses.iter().flatten());
        for status in statuses {
            let started = status
                .state
                .as_ref()
                .is_some_and(|it| it.running.is_some() || it.terminated.is_some());
            if !started
                || !followed.insert((pod_name.clone(), status.name.clone(), status.restart_count))
            {
                continue;
            }
            let params = LogParams {
                follow: true,
                container: Some(status.name.clone()),
                ..LogParams::default()
            };
            let (pods, pod_name, job, sink, last_lines) = (
                pods.clone(),
                pod_name.clone(),
                job.clone(),
                sink.clone(),
                last_lines.clone(),
            );
            followers.spawn(async move {
                let Ok(reader) = retry::idempotent(|| pods.log_stream(&pod_name, &params)).await
                else {
                    return;
                };
                let mut lines = reader.lines();
                while let Some(Ok(line)) = lines.next().await {
                    sink.event(Event::Log {
                        job: &job,
                        line: &line,
                    });
                    let mut buffer = last_lines.lock().expect("log buffer lock");
                    if buffer.len() == KEEP_LINES {
                        buffer.pop_front();
                    }
                    buffer.push_back(line);
                }
            });
        }
    }
}
