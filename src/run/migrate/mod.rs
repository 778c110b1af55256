//! Migrations: run a copy of each annotated Job template with the new image before any workload
//! changes, in `kubectl-update.io/order` groups (equal orders in parallel), streaming the pods' logs.
//! A completed copy for the same template and image (a retried CI job) is reused, not run again,
//! and a running one is followed, but only when it is exactly the copy this run would create
//! (`migration::difference`): a Job someone else put under that name is never reused or followed.
//! Never changes a workload or a template.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, DynamicObject, LogParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::cli::OnInterrupt;
use crate::cluster::retry;
use crate::cluster::{Call, Cluster, api_failure};
use crate::plan::patch::FIELD_MANAGER;
use crate::plan::{MigrationPlan, Plan, migration};
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Event, Item, Sink};

/// How many log lines of a failed migration the report keeps.
const KEEP_LINES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Failed,
    /// A copy for the same template and image had already completed.
    Reused,
    /// `--dry-run=server`: the server accepted the Job, nothing ran.
    DryRun,
    /// The run was interrupted while it ran (or before it started); the copy is kept or deleted as
    /// `--on-interrupt` says.
    Interrupted,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub namespace: String,
    pub template: String,
    pub job: String,
    pub status: Status,
    pub duration: Duration,
    /// Why it failed.
    pub reason: Option<String>,
    pub last_lines: Vec<String>,
}

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

/// How long a migration may take, how long its pods may be stuck, and what stops it.
#[derive(Debug, Clone)]
pub struct Limits {
    pub fail_after: Duration,
    pub deadline: tokio::time::Instant,
    pub server_dry_run: bool,
    pub interrupt: Interrupt,
    pub on_interrupt: OnInterrupt,
}

/// Runs the plan's migrations, group by group; stops after the first group with a failure.
pub async fn run_all(
    cluster: &Cluster,
    plan: &Plan,
    templates: &BTreeMap<usize, Value>,
    limits: Limits,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut groups: BTreeMap<i64, Vec<&MigrationPlan>> = BTreeMap::new();
    for migration in &plan.migrations {
        groups
            .entry(migration::order(&templates[&migration.origin]))
            .or_default()
            .push(migration);
    }
    let mut res = Vec::new();
    for group in groups.into_values() {
        if limits.interrupt.is_set() {
            break;
        }
        let runs = group.iter().map(|migration| {
            run_one(
                cluster,
                migration,
                &templates[&migration.origin],
                limits.clone(),
                sink,
            )
        });
        let outcomes = futures::future::try_join_all(runs).await?;
        let failed = outcomes
            .iter()
            .any(|it| matches!(it.status, Status::Failed | Status::Interrupted));
        res.extend(outcomes);
        if failed {
            break;
        }
    }
    Ok(res)
}

/// When every planned migration already has a completed copy for its image (a retried CI job),
/// their outcomes as `Reused`; read-only, so a re-run that has nothing to do writes nothing.
pub async fn all_reused(
    cluster: &Cluster,
    plan: &Plan,
    templates: &BTreeMap<usize, Value>,
) -> anyhow::Result<Option<Vec<Outcome>>> {
    let mut res = Vec::new();
    for migration in &plan.migrations {
        let namespace = migration.template.namespace.clone();
        let body = migration::job(&templates[&migration.origin], migration);
        let name = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let existing = get_job(cluster, &namespace, &name).await.map_err(|err| {
            let call = Call {
                verb: "get",
                group: "batch",
                resource: "jobs",
                namespace: Some(namespace.clone()),
            };
            api_failure(&err, Some(&call), &cluster.server)
        })?;
        let reusable = existing.is_some_and(|(job, stored)| {
            job_state(&job) == JobState::Complete
                && migration::difference(&stored, &templates[&migration.origin], migration)
                    .is_none()
        });
        if !reusable {
            return Ok(None);
        }
        res.push(Outcome {
            namespace,
            template: migration.template.name.clone(),
            job: name,
            status: Status::Reused,
            duration: Duration::ZERO,
            reason: None,
            last_lines: Vec::new(),
        });
    }
    Ok(Some(res))
}

/// What to do with a Job found under the copy's name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Existing {
    /// This run's copy, completed (a retried CI job): not run again.
    Reuse,
    /// This run's copy, still running: followed.
    Follow,
    /// Failed (whoever made it): deleted and created again.
    RunAgain,
    /// Not the copy this run makes (where it differs): left alone, and the migration fails.
    NotOurs(String),
}

/// A failed Job is replaced whatever it is; any other is trusted only when it is exactly this
/// run's copy (`difference` is `None`).
fn what_to_do(state: &JobState, difference: Option<String>) -> Existing {
    match (state, difference) {
        (JobState::Failed(_), _) => Existing::RunAgain,
        (_, Some(difference)) => Existing::NotOurs(difference),
        (JobState::Complete, None) => Existing::Reuse,
        (JobState::Running, None) => Existing::Follow,
    }
}

async fn run_one(
    cluster: &Cluster,
    migration: &MigrationPlan,
    template: &Value,
    limits: Limits,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Outcome> {
    let server_dry_run = limits.server_dry_run;
    let started = Instant::now();
    let namespace = migration.template.namespace.clone();
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), &namespace);
    let mut body = migration::job(template, migration);
    body["metadata"]["namespace"] = Value::from(namespace.as_str());
    let job: Job = serde_json::from_value(body)?;
    let name = job.metadata.name.clone().unwrap_or_default();
    let outcome = |status, reason: Option<String>, last_lines: Vec<String>| Outcome {
        namespace: namespace.clone(),
        template: migration.template.name.clone(),
        job: name.clone(),
        status,
        duration: started.elapsed(),
        reason,
        last_lines,
    };
    let call = |verb| Call {
        verb,
        group: "batch",
        resource: "jobs",
        namespace: Some(namespace.clone()),
    };
    let fail = |err: kube::Error, verb| api_failure(&err, Some(&call(verb)), &cluster.server);
    let params = PostParams {
        dry_run: server_dry_run,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    };
    if server_dry_run {
        retry::idempotent(|| jobs.create(&params, &job))
            .await
            .map_err(|err| fail(err, "create"))?;
        sink.event(Event::Finished {
            key: &name,
            state: "accepted by the server (dry run)",
        });
        return Ok(outcome(Status::DryRun, None, Vec::new()));
    }
    if limits.interrupt.is_set() {
        return Ok(outcome(
            Status::Interrupted,
            Some("interrupted before it started".to_owned()),
            Vec::new(),
        ));
    }
    // A create whose answer was lost is checked by reading the Job back by its name, never sent
    // blindly again.
    let create = || retry::create_checked(|| jobs.create(&params, &job), || jobs.get_opt(&name));
    // A Job under the copy's name that is not the copy (another image, an edited template, made by
    // someone else) is neither reused nor followed.
    let not_ours = |difference: String| {
        let reason = format!(
            "a Job named {name} exists but is not the copy of template {} this run creates (it differs at {difference}); delete it to run the migration: kubectl delete job -n {namespace} {name}",
            migration.template.name
        );
        sink.event(Event::Finished {
            key: &name,
            state: &format!("failed: {reason}"),
        });
        outcome(Status::Failed, Some(reason), Vec::new())
    };
    let existing = get_job(cluster, &namespace, &name)
        .await
        .map_err(|err| fail(err, "get"))?;
    match existing {
        Some((existing, stored)) => {
            let difference = migration::difference(&stored, template, migration);
            match what_to_do(&job_state(&existing), difference) {
                Existing::RunAgain => {
                    sink.event(Event::Note(&format!(
                        "{name}: an earlier copy failed; deleting it and running again"
                    )));
                    delete(&jobs, &name)
                        .await
                        .map_err(|err| fail(err, "delete"))?;
                    wait_deleted(&jobs, &name).await?;
                    create().await.map_err(|err| fail(err, "create"))?;
                    if let Some(difference) =
                        created_elsewhere(cluster, &namespace, &name, template, migration)
                            .await
                            .map_err(|err| fail(err, "get"))?
                    {
                        return Ok(not_ours(difference));
                    }
                }
                Existing::NotOurs(difference) => return Ok(not_ours(difference)),
                Existing::Reuse => {
                    sink.event(Event::Finished {
                        key: &name,
                        state: "already completed for this image: reused",
                    });
                    return Ok(outcome(Status::Reused, None, Vec::new()));
                }
                Existing::Follow => {
                    sink.event(Event::Note(&format!(
                        "{name}: already running; following it"
                    )));
                }
            }
        }
        None => {
            create().await.map_err(|err| fail(err, "create"))?;
            if let Some(difference) =
                created_elsewhere(cluster, &namespace, &name, template, migration)
                    .await
                    .map_err(|err| fail(err, "get"))?
            {
                return Ok(not_ours(difference));
            }
        }
    }
    signals::note(
        &format!("{namespace}/job/{name}"),
        &format!(
            "migration running (from template {})",
            migration.template.name
        ),
    );
    sink.event(Event::State {
        key: &name,
        item: Item::Migration,
        state: "running",
        done: 0,
        total: 1,
    });
    let last_lines = Arc::new(std::sync::Mutex::new(VecDeque::new()));
    let logs = tokio::spawn(follow_logs(
        cluster.client.clone(),
        namespace.clone(),
        name.clone(),
        sink.clone(),
        last_lines.clone(),
    ));
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let state = wait_finished(&jobs, &pods, &name, limits.clone())
        .await
        .map_err(|err| anyhow::anyhow!("watching Job {name}: {err}"));
    let remove = match &state {
        // A copy that cannot make progress would keep retrying; remove it (and its pods).
        Ok(Err(Stop::Stuck(_) | Stop::TimedOut(_))) => true,
        Ok(Err(Stop::Interrupted)) => limits.on_interrupt == OnInterrupt::Delete,
        _ => false,
    };
    if remove && let Err(err) = delete(&jobs, &name).await {
        sink.event(Event::Note(&format!(
            "{name}: could not delete the migration copy: {err}"
        )));
    }
    // Give the log followers a moment to print the last lines.
    tokio::time::sleep(Duration::from_millis(300)).await;
    logs.abort();
    let lines: Vec<String> = last_lines
        .lock()
        .expect("log buffer lock")
        .iter()
        .cloned()
        .collect();
    match state? {
        Ok(()) => {
            sink.event(Event::Finished {
                key: &name,
                state: "succeeded",
            });
            Ok(outcome(Status::Succeeded, None, lines))
        }
        Err(Stop::Interrupted) => {
            let (reason, state) = if remove {
                (
                    "interrupted; the copy and its pods were deleted".to_owned(),
                    "interrupted; deleted (--on-interrupt delete)".to_owned(),
                )
            } else {
                (
                    "interrupted; the copy was kept and finishes by itself (a re-run reuses it)"
                        .to_owned(),
                    format!(
                        "interrupted; kept running (follow it: kubectl logs -n {namespace} -f -l {}={})",
                        migration::MIGRATION_OF,
                        migration.template.name
                    ),
                )
            };
            signals::note(&format!("{namespace}/job/{name}"), &state);
            sink.event(Event::Finished {
                key: &name,
                state: &reason,
            });
            Ok(outcome(Status::Interrupted, Some(reason), lines))
        }
        Err(stop) => {
            let reason = match stop {
                Stop::Failed(reason) | Stop::Stuck(reason) | Stop::TimedOut(reason) => reason,
                Stop::Interrupted => "interrupted".to_owned(),
            };
            sink.event(Event::Finished {
                key: &name,
                state: &format!("failed: {reason}"),
            });
            Ok(outcome(Status::Failed, Some(reason), lines))
        }
    }
}

/// Why a migration stopped without completing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
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
fn stuck(reason: &str) -> bool {
    reason != "CrashLoopBackOff" && crate::run::rollout::pods::STUCK_REASONS.contains(&reason)
}

enum Seen {
    Job(Box<Job>),
    Pod(Box<Pod>),
    Tick,
}

/// Watches the Job until it completes (`Ok`), fails, has a pod stuck for `fail_after`, or the
/// deadline passes.
async fn wait_finished(
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
async fn get_job(
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
async fn created_elsewhere(
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
async fn delete(jobs: &Api<Job>, name: &str) -> Result<(), kube::Error> {
    let params = DeleteParams::background();
    match retry::idempotent(|| jobs.delete(name, &params)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(err) => Err(err),
    }
}

async fn wait_deleted(jobs: &Api<Job>, name: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if retry::idempotent(|| jobs.get_opt(name)).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("Job {name} was not deleted within a minute")
}

/// Follows the logs of every container of every pod of the Job as they start.
async fn follow_logs(
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job(conditions: serde_json::Value) -> Job {
        serde_json::from_value(
            json!({"metadata": {"name": "m"}, "status": {"failed": 1, "conditions": conditions}}),
        )
        .unwrap()
    }

    #[test]
    fn only_this_runs_own_copy_is_reused_or_followed() {
        let differs = || Some("spec.template.spec.containers[0].image".to_owned());
        assert_eq!(what_to_do(&JobState::Complete, None), Existing::Reuse);
        assert_eq!(what_to_do(&JobState::Running, None), Existing::Follow);
        assert_eq!(
            what_to_do(&JobState::Complete, differs()),
            Existing::NotOurs("spec.template.spec.containers[0].image".to_owned())
        );
        assert_eq!(
            what_to_do(&JobState::Running, differs()),
            Existing::NotOurs("spec.template.spec.containers[0].image".to_owned())
        );
        assert_eq!(
            what_to_do(&JobState::Failed("BackoffLimitExceeded".into()), differs()),
            Existing::RunAgain
        );
    }

    /// A pre-created Job under the copy's name, faithful to the template but for another image of
    /// an allowed repository (what the admission policy still lets the token create), is not
    /// mistaken for this run's completed migration.
    #[test]
    fn a_pre_created_copy_for_another_image_is_not_reused() {
        use crate::plan::ContainerChange;
        use crate::plan::workload::{ContainerList, Kind, ObjectId};
        let template = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "schema", "namespace": "shop", "uid": "u1",
                "annotations": {"kubectl-update.io/classifier": "stable"}},
            "spec": {"suspend": true, "template": {"metadata": {"labels": {}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "app:1"}]}}}});
        let migration = |image: &str| MigrationPlan {
            template: ObjectId {
                namespace: "shop".into(),
                kind: Kind::Job,
                name: "schema".into(),
            },
            origin: 0,
            image: image.into(),
            containers: vec![ContainerChange {
                container: "migrate".into(),
                list: ContainerList::Containers,
                pointer: "/spec/template/spec/containers/0/image".into(),
                from: "app:1".into(),
                to: image.into(),
            }],
        };
        let mut planted = migration::job(&template, &migration("app:evil"));
        planted["metadata"]["name"] =
            migration::job(&template, &migration("app:2"))["metadata"]["name"].clone();
        planted["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
        let state = job_state(&serde_json::from_value(planted.clone()).unwrap());
        let difference = migration::difference(&planted, &template, &migration("app:2"));
        assert!(matches!(
            what_to_do(&state, difference),
            Existing::NotOurs(_)
        ));
        let own = migration::job(&template, &migration("app:2"));
        assert_eq!(
            what_to_do(
                &state,
                migration::difference(&own, &template, &migration("app:2"))
            ),
            Existing::Reuse
        );
    }

    #[test]
    fn failed_pods_are_not_a_failed_job_until_the_controller_says_so() {
        assert_eq!(job_state(&job(json!([]))), JobState::Running);
        assert_eq!(
            job_state(&job(json!([{"type": "Complete", "status": "True"}]))),
            JobState::Complete
        );
        assert_eq!(
            job_state(&job(
                json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit"}])
            )),
            JobState::Failed(
                "BackoffLimitExceeded: Job has reached the specified backoff limit".into()
            )
        );
        assert_eq!(
            job_state(&job(json!([{"type": "Failed", "status": "False"}]))),
            JobState::Running
        );
    }
}
