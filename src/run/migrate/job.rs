//! One migration copy on the API server: where its Job stands, reading, deleting and watching it
//! until it completes, fails, has a pod stuck for `--fail-after`, or `--timeout` passes. Knows
//! nothing of groups or of the other migrations.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::cluster::retry;
use crate::plan::{MigrationPlan, migration};
use crate::run::migrate::Limits;

/// Where a Job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Running,
    Complete,
    /// Failed (or FailureTarget, which always ends in Failed) with reason and message.
    Failed(String),
}

/// Complete, failed or still running, from the Job's conditions. Failed pods the Job will retry
/// do not count: only the controller's verdict does.
pub fn job_state(job: &Job) -> JobState {
    let conditions = job
        .status
        .iter()
        .flat_map(|it| it.conditions.iter().flatten());
    for condition in conditions {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" => return JobState::Complete,
            "Failed" | "FailureTarget" => {
                let reason = condition
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Failed".to_owned());
                let message = condition.message.clone().unwrap_or_default();
                return JobState::Failed(if message.is_empty() {
                    reason
                } else {
                    format!("{reason}: {message}")
                });
            }
            _ => (),
        }
    }
    JobState::Running
}

/// Why a migration stopped without completing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The Job controller says Failed.
    Failed(String),
    /// A pod cannot start (pull error, bad config) for longer than `--fail-after`.
    Stuck(String),
    /// `--timeout` passed.
    TimedOut(String),
    /// SIGINT or SIGTERM.
    Interrupted,
}

/// Whether a waiting reason means a Job's pod will not run without someone changing something:
/// the rollout's stuck reasons, except crash loops, which the Job's own back-off limit handles.
pub fn stuck(reason: &str) -> bool {
    reason != "CrashLoopBackOff" && crate::run::rollout::pods::STUCK_REASONS.contains(&reason)
}

enum Seen {
    Job(Box<Job>),
    Pod(Box<Pod>),
    Tick,
}

/// Watches the Job until it completes (`Ok`), fails, has a pod stuck for `fail_after`, or the
/// deadline passes.
pub async fn wait_finished(
    jobs: &Api<Job>,
    pods: &Api<Pod>,
    name: &str,
    limits: Limits,
) -> anyhow::Result<Result<(), Stop>> {
    let job_config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let job_events = watcher(jobs.clone(), job_config)
        .default_backoff()
        .applied_objects()
        .map_ok(|job| Seen::Job(Box::new(job)))
        .boxed();
    let pod_config =
        watcher::Config::default().labels(&format!("batch.kubernetes.io/job-name={name}"));
    let pod_events = watcher(pods.clone(), pod_config)
        .default_backoff()
        .applied_objects()
        .map_ok(|pod| Seen::Pod(Box::new(pod)))
        .boxed();
    let ticks = futures::stream::unfold(
        tokio::time::interval(Duration::from_millis(250)),
        |mut interval| async move {
            interval.tick().await;
            Some((Ok(Seen::Tick), interval))
        },
    )
    .boxed();
    let mut events = futures::stream::select_all([job_events, pod_events, ticks]);
    let mut stuck_since: BTreeMap<String, (tokio::time::Instant, String)> = BTreeMap::new();
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout_at(limits.deadline, events.next()) => next,
            () = limits.interrupt.wait() => return Ok(Err(Stop::Interrupted)),
        };
        let seen = match next {
            Err(_) => {
                return Ok(Err(Stop::TimedOut(
                    "did not finish within --timeout".to_owned(),
                )));
            }
            Ok(None) => anyhow::bail!("the watch of Job {name} ended"),
            Ok(Some(Err(_))) => continue,
            Ok(Some(Ok(seen))) => seen,
        };
        match seen {
            Seen::Job(job) => match job_state(&job) {
                JobState::Running => (),
                JobState::Complete => return Ok(Ok(())),
                JobState::Failed(reason) => return Ok(Err(Stop::Failed(reason))),
            },
            Seen::Pod(pod) => {
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                match crate::run::rollout::pods::trouble(&pod).filter(|it| stuck(&it.reason)) {
                    Some(trouble) => {
                        let detail = format!(
                            "pod {pod_name} container {} is in {}: {}",
                            trouble.container, trouble.reason, trouble.message
                        );
                        stuck_since
                            .entry(pod_name)
                            .and_modify(|it| it.1 = detail.clone())
                            .or_insert((tokio::time::Instant::now(), detail));
                    }
                    None => {
                        stuck_since.remove(&pod_name);
                    }
                }
            }
            Seen::Tick => (),
        }
        let now = tokio::time::Instant::now();
        if let Some((_, detail)) = stuck_since
            .values()
            .find(|(since, _)| now.duration_since(*since) >= limits.fail_after)
        {
            return Ok(Err(Stop::Stuck(detail.clone())));
        }
    }
}

/// A Job by name: typed (for its state) and as the API server stores it (to compare with the copy
/// this run makes).
pub async fn get_job(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<(Job, Value)>, kube::Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        namespace,
        &crate::cluster::discover::api_resource(crate::plan::workload::Kind::Job),
    );
    let Some(object) = retry::idempotent(|| api.get_opt(name)).await? else {
        return Ok(None);
    };
    let mut stored = serde_json::to_value(&object).map_err(kube::Error::SerdeError)?;
    stored["apiVersion"] = Value::from("batch/v1");
    stored["kind"] = Value::from("Job");
    let job: Job = serde_json::from_value(stored.clone()).map_err(kube::Error::SerdeError)?;
    Ok(Some((job, stored)))
}

/// After a create: whether the Job now under the copy's name is someone else's (a create that
/// raced with another answers AlreadyExists, which counts as created), as the difference.
pub async fn created_elsewhere(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    template: &Value,
    migration: &MigrationPlan,
) -> Result<Option<String>, kube::Error> {
    Ok(get_job(cluster, namespace, name)
        .await?
        .and_then(|(_, stored)| migration::difference(&stored, template, migration)))
}

/// Deletes a Job and its pods; gone already is fine.
pub async fn delete(jobs: &Api<Job>, name: &str) -> Result<(), kube::Error> {
    let params = DeleteParams::background();
    match retry::idempotent(|| jobs.delete(name, &params)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(err) => Err(err),
    }
}

pub async fn wait_deleted(jobs: &Api<Job>, name: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if retry::idempotent(|| jobs.get_opt(name)).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("Job {name} was not deleted within a minute")
}
