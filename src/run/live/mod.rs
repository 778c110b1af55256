//! A live run against the cluster: connect → discover → plan → preflight → lock → migrate → patch
//! → watch → roll back → report. `update` reads as that sequence; each step is a method of `Run`,
//! in the file named after its part of the run. `plan` is the same pure function the offline
//! preview uses. Nothing here prints: the report and everything on the way go to the run's `Sink`.

mod change;
mod prepare;
mod record;
mod undo;
mod watch;

pub(crate) use prepare::namespace_typos;

use std::sync::Arc;
use std::time::Instant;

use kube::core::Selector;

use crate::cli::DryRun;
use crate::cluster::discover::{Found, Scope};
use crate::cluster::{Cluster, ClusterArgs};
use crate::config::Config;
use crate::error::Exit;
use crate::plan::Plan;
use crate::report::Report;
use crate::run::audit::Audit;
use crate::run::lock::Lock;
use crate::run::outcome::Status;
use crate::run::rollout::Settings;
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Ending, Sink};

/// Runs an update (or a `--dry-run` preview) against the cluster and reports it to `sink`. SIGINT
/// and SIGTERM stop it safely (see `signals`); the lock, when taken, is released however it ends.
pub async fn run(
    config: &Config,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Exit> {
    let interrupt = signals::install(sink.clone());
    let mut held = None;
    let res = update(config, cluster_args, sink, &interrupt, &mut held).await;
    if let Some(lock) = held {
        lock.release().await;
    }
    res
}

/// The pod selector of a workload, for finding its pods.
pub fn selector_of(found: &Found) -> Option<Selector> {
    found.facts.selector()
}

/// What every step of one run reads.
struct Run<'a> {
    config: &'a Config,
    sink: &'a Arc<dyn Sink>,
    interrupt: &'a Interrupt,
    cluster: Cluster,
    identity: String,
    scope: Scope,
    started: Instant,
    /// When `--timeout` ends the run; a rollback gets a grace past it.
    deadline: tokio::time::Instant,
    server_dry_run: bool,
    /// The cause of the change, and the Events that record it.
    audit: Audit,
}

/// What the run found and decided, and the report the steps fill in.
struct Planned {
    found: Vec<Found>,
    plan: Plan,
    report: Report,
}

/// The steps of an update, in order. A step that ends the run returns its exit.
async fn update(
    config: &Config,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
    held: &mut Option<Lock>,
) -> anyhow::Result<Exit> {
    let run = Run::connect(config, cluster_args, sink, interrupt).await?;
    let mut planned = run.discover_and_plan().await?;
    if config.dry_run == Some(DryRun::Client) {
        // The objects found are no longer needed: at 10,000 workloads they are most of the
        // memory the report's output would otherwise add to.
        drop(std::mem::take(&mut planned.found));
        return run.report(&mut planned, Exit::Success);
    }
    let lock_timeout = config.lock_timeout.filter(|_| !run.server_dry_run);
    run.preflight(&planned.plan, lock_timeout.is_some()).await?;
    if planned.plan.is_unchanged() {
        return run.unchanged(&mut planned);
    }
    if !run.server_dry_run
        && let Some(outcomes) = run.rerun_with_nothing_to_do(&planned).await?
    {
        record::migrations(&mut planned.report, &outcomes);
        return run.unchanged(&mut planned);
    }
    if let Some(timeout) = lock_timeout {
        let lock = held.insert(run.lock(&planned.plan, timeout).await?);
        if lock.waited {
            // Another run held the lock and may have changed what this one read: read again.
            planned = run.plan_again(lock, timeout, &planned.plan).await?;
            if planned.plan.is_unchanged() {
                return run.unchanged(&mut planned);
            }
        }
    }
    signals::finish_with(
        "re-run the same command: completed migrations are reused and workloads already at the target are left alone",
    );
    let outcomes = run.migrate(&planned).await?;
    record::migrations(&mut planned.report, &outcomes);
    if interrupt.is_set() {
        return run.interrupted_migrations(&mut planned);
    }
    if let Some(failed) = outcomes.iter().find(|it| it.status == Status::Failed) {
        return run.failed_migration(&mut planned, failed).await;
    }
    if planned.plan.changed_workloads().next().is_none() {
        return run.only_migrations(&mut planned, &outcomes);
    }
    let patched = run.patch(&planned).await?;
    if run.server_dry_run {
        return run.server_dry_run_done(&mut planned);
    }
    if interrupt.is_set() {
        let states = vec!["interrupted while patching".to_owned(); patched.len()];
        return run
            .interrupted_rollout(&mut planned, &patched, &states)
            .await;
    }
    run.watch_and_judge(&mut planned, &patched).await
}

impl Run<'_> {
    /// Reports the run as it stands and ends it with `exit`. Rollback migrations that did not run
    /// are reported `skipped`, with why.
    fn report(&self, planned: &mut Planned, exit: Exit) -> anyhow::Result<Exit> {
        if let Some(reason) = record::why_rollback_migrations_skipped(&planned.report.result) {
            record::skip_rollback_migrations(&mut planned.report, reason);
        }
        self.sink.end(Ending::Update {
            report: &mut planned.report,
            plan: &planned.plan,
            format: self.config.output,
            elapsed: self.started.elapsed(),
        })?;
        Ok(exit)
    }

    /// Every workload already runs the target (and every migration is done): nothing to write.
    fn unchanged(&self, planned: &mut Planned) -> anyhow::Result<Exit> {
        planned.report.result = "unchanged".to_owned();
        self.report(planned, Exit::Success)
    }

    /// How the rollouts are watched: until `--timeout`.
    fn watch_settings(&self) -> Settings {
        Settings::until(self.config.limits, self.deadline)
    }

    /// How a rollback is watched: `--timeout` bounds the whole run, and the rollback gets what is
    /// left of it plus a grace.
    fn rollback_settings(&self) -> Settings {
        let limits = self.config.limits;
        Settings::until(limits, self.deadline + limits.rollback_grace())
    }
}
