//! One migration: create its copy (or reuse, follow or replace the one found under its name),
//! follow its logs, wait for it, and say how it ended. Never touches a Job that is not this run's
//! copy, nor any other migration.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use serde_json::Value;

use crate::cli::OnInterrupt;
use crate::cluster::retry;
use crate::cluster::{Call, Cluster, api_failure};
use crate::error::Failure;
use crate::plan::patch::FIELD_MANAGER;
use crate::plan::{MigrationPlan, migration};
use crate::run::migrate::Limits;
use crate::run::migrate::job::{
    JobState, Stop, created_elsewhere, delete, get_job, job_state, wait_deleted, wait_finished,
};
use crate::run::migrate::logs::follow_logs;
use crate::run::outcome::{Outcome, Status};
use crate::run::signals;
use crate::run::sink::{Event, Item, Sink};

/// Runs one migration to its end.
pub async fn run_one(
    cluster: &Cluster,
    migration: &MigrationPlan,
    template: &Value,
    limits: Limits,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Outcome> {
    let copy = Copy::new(cluster, migration, template, limits.server_dry_run, sink)?;
    if limits.server_dry_run {
        return copy.dry_run().await;
    }
    if limits.interrupt.is_set() {
        let reason = Some("interrupted before it started".to_owned());
        return Ok(copy.outcome(Status::Interrupted, reason, Vec::new()));
    }
    if let Some(outcome) = copy.start(limits.reuse).await? {
        return Ok(outcome);
    }
    copy.note_running();
    let (state, removed, lines) = copy.wait(limits).await;
    Ok(copy.ended(state?, removed, lines))
}

/// What to do with a Job found under the copy's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
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
pub fn what_to_do(state: &JobState, difference: Option<String>) -> Existing {
    match (state, difference) {
        (JobState::Failed(_), _) => Existing::RunAgain,
        (_, Some(difference)) => Existing::NotOurs(difference),
        (JobState::Complete, None) => Existing::Reuse,
        (JobState::Running, None) => Existing::Follow,
    }
}

/// The copy of one migration's template, and what every step of running it needs.
struct Copy<'a> {
    cluster: &'a Cluster,
    migration: &'a MigrationPlan,
    template: &'a Value,
    sink: &'a Arc<dyn Sink>,
    namespace: String,
    name: String,
    job: Job,
    jobs: Api<Job>,
    params: PostParams,
    started: Instant,
}

impl<'a> Copy<'a> {
    fn new(
        cluster: &'a Cluster,
        migration: &'a MigrationPlan,
        template: &'a Value,
        server_dry_run: bool,
        sink: &'a Arc<dyn Sink>,
    ) -> anyhow::Result<Copy<'a>> {
        let started = Instant::now();
        let namespace = migration.template.namespace.clone();
        let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), &namespace);
        let mut body = migration::job(template, migration);
        body["metadata"]["namespace"] = Value::from(namespace.as_str());
        let job: Job = serde_json::from_value(body)?;
        let name = job.metadata.name.clone().unwrap_or_default();
        let params = PostParams {
            dry_run: server_dry_run,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        Ok(Copy {
            cluster,
            migration,
            template,
            sink,
            namespace,
            name,
            job,
            jobs,
            params,
            started,
        })
    }

    fn outcome(&self, status: Status, reason: Option<String>, last_lines: Vec<String>) -> Outcome {
        Outcome {
            namespace: self.namespace.clone(),
            template: self.migration.template.name.clone(),
            job: self.name.clone(),
            status,
            duration: self.started.elapsed(),
            reason,
            last_lines,
        }
    }

    /// A refused or failed call on the copy, as the failure that names it.
    fn fail(&self, err: kube::Error, verb: &'static str) -> Failure {
        let call = Call {
            verb,
            group: "batch",
            resource: "jobs",
            namespace: Some(self.namespace.clone()),
        };
        api_failure(&err, Some(&call), &self.cluster.server)
    }

    fn finish(&self, state: &str) {
        self.sink.event(Event::Finished {
            key: &self.name,
            state,
        });
    }

    /// `--dry-run=server`: the server accepts the copy; nothing runs.
    async fn dry_run(&self) -> anyhow::Result<Outcome> {
        retry::idempotent(|| self.jobs.create(&self.params, &self.job))
            .await
            .map_err(|err| self.fail(err, "create"))?;
        self.finish("accepted by the server (dry run)");
        Ok(self.outcome(Status::DryRun, None, Vec::new()))
    }

    /// Creates the copy, or deals with the Job found under its name. `Some` when the migration
    /// ends here (reused, or someone else's Job in the way); `None` when the copy runs. Without
    /// `reuse`, a completed copy is deleted and run again like a failed one.
    async fn start(&self, reuse: bool) -> anyhow::Result<Option<Outcome>> {
        let name = &self.name;
        let existing = get_job(self.cluster, &self.namespace, name)
            .await
            .map_err(|err| self.fail(err, "get"))?;
        let Some((existing, stored)) = existing else {
            return self.create().await;
        };
        let difference = migration::difference(&stored, self.template, self.migration);
        let what = match what_to_do(&job_state(&existing), difference) {
            Existing::Reuse if !reuse => Existing::RunAgain,
            other => other,
        };
        match what {
            Existing::RunAgain => {
                self.sink.event(Event::MigrationRerun { job: name });
                delete(&self.jobs, name)
                    .await
                    .map_err(|err| self.fail(err, "delete"))?;
                wait_deleted(&self.jobs, name).await?;
                self.create().await
            }
            Existing::NotOurs(difference) => Ok(Some(self.not_ours(&difference))),
            Existing::Reuse => {
                self.finish("already completed for this image: reused");
                Ok(Some(self.outcome(Status::Reused, None, Vec::new())))
            }
            Existing::Follow => {
                self.sink.event(Event::MigrationFollowed { job: name });
                Ok(None)
            }
        }
    }

    /// Creates the copy. A create whose answer was lost is checked by reading the Job back by its
    /// name, never sent blindly again; a Job then found there that is not the copy ends the
    /// migration.
    async fn create(&self) -> anyhow::Result<Option<Outcome>> {
        let (jobs, name) = (&self.jobs, &self.name);
        retry::create_checked(
            || jobs.create(&self.params, &self.job),
            || jobs.get_opt(name),
        )
        .await
        .map_err(|err| self.fail(err, "create"))?;
        let elsewhere = created_elsewhere(
            self.cluster,
            &self.namespace,
            name,
            self.template,
            self.migration,
        )
        .await
        .map_err(|err| self.fail(err, "get"))?;
        Ok(elsewhere.map(|difference| self.not_ours(&difference)))
    }

    /// A Job under the copy's name that is not the copy (another image, an edited template, made
    /// by someone else) is neither reused nor followed.
    fn not_ours(&self, difference: &str) -> Outcome {
        let (name, namespace) = (&self.name, &self.namespace);
        let reason = format!(
            "a Job named {name} exists but is not the copy of template {} this run creates (it differs at {difference}); delete it to run the migration: kubectl delete job -n {namespace} {name}",
            self.migration.template.name
        );
        self.finish(&format!("failed: {reason}"));
        self.outcome(Status::Failed, Some(reason), Vec::new())
    }

    fn note_running(&self) {
        signals::note(
            &format!("{}/job/{}", self.namespace, self.name),
            &format!(
                "migration running (from template {})",
                self.migration.template.name
            ),
        );
        self.sink.event(Event::State {
            key: &self.name,
            item: Item::Migration,
            state: "running",
            done: 0,
            total: 1,
        });
    }

    /// Follows the copy's logs and waits for it to end; removes a copy that cannot make progress
    /// (or, with `--on-interrupt delete`, an interrupted one). Returns how it ended, whether it was
    /// removed, and its last log lines.
    async fn wait(&self, limits: Limits) -> (anyhow::Result<Result<(), Stop>>, bool, Vec<String>) {
        let name = &self.name;
        let last_lines = Arc::new(Mutex::new(VecDeque::new()));
        let logs = tokio::spawn(follow_logs(
            self.cluster.client.clone(),
            self.namespace.clone(),
            name.clone(),
            self.sink.clone(),
            last_lines.clone(),
        ));
        let pods: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &self.namespace);
        let on_interrupt = limits.on_interrupt;
        let state = wait_finished(&self.jobs, &pods, name, limits)
            .await
            .map_err(|err| anyhow::anyhow!("watching Job {name}: {err}"));
        let remove = match &state {
            // A copy that cannot make progress would keep retrying; remove it (and its pods).
            Ok(Err(Stop::Stuck(_) | Stop::TimedOut(_))) => true,
            Ok(Err(Stop::Interrupted)) => on_interrupt == OnInterrupt::Delete,
            _ => false,
        };
        if remove && let Err(err) = delete(&self.jobs, name).await {
            self.sink.event(Event::MigrationNotDeleted {
                job: name,
                error: &err.to_string(),
            });
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
        (state, remove, lines)
    }

    /// The outcome of a copy that ran: succeeded, interrupted or failed.
    fn ended(&self, state: Result<(), Stop>, removed: bool, lines: Vec<String>) -> Outcome {
        let (name, namespace) = (&self.name, &self.namespace);
        match state {
            Ok(()) => {
                self.finish("succeeded");
                self.outcome(Status::Succeeded, None, lines)
            }
            Err(Stop::Interrupted) => {
                let (reason, state) = if removed {
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
                            crate::plan::workload::MIGRATION_OF,
                            self.migration.template.name
                        ),
                    )
                };
                signals::note(&format!("{namespace}/job/{name}"), &state);
                self.finish(&reason);
                self.outcome(Status::Interrupted, Some(reason), lines)
            }
            Err(stop) => {
                let reason = match stop {
                    Stop::Failed(reason) | Stop::Stuck(reason) | Stop::TimedOut(reason) => reason,
                    Stop::Interrupted => "interrupted".to_owned(),
                };
                self.finish(&format!("failed: {reason}"));
                self.outcome(Status::Failed, Some(reason), lines)
            }
        }
    }
}
