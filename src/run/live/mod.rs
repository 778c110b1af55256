//! A live run against the cluster: connect → discover → plan → preflight → lock → migrate → patch
//! → watch → roll back → report. `update` reads as that sequence; each step is a method of `Run`,
//! in the file named after its part of the run. `plan` is the same pure function the offline
//! preview uses. Nothing here prints: the report and everything on the way go to the run's `Sink`.

mod change;
mod prepare;
mod record;
mod staged;
mod undo;
mod watch;

pub(crate) use staged::Staged;

pub(crate) use prepare::namespace_typos;

use std::sync::Arc;
use std::time::Instant;

use kube::core::Selector;

use crate::cluster::discover::{Found, Scope};
use crate::cluster::{Cluster, ClusterArgs};
use crate::config::Config;
use crate::error::Exit;
use crate::plan::Plan;
use crate::report::Report;
use crate::run::audit::Audit;
use crate::run::lock::Lock;
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

/// The steps of an update, in order, as the three stages a fleet runs one cluster in.
async fn update(
    config: &Config,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
    held: &mut Option<Lock>,
) -> anyhow::Result<Exit> {
    let mut staged = Staged::prepare(config, cluster_args, sink, interrupt).await?;
    if let Some(exit) = staged.ended {
        return Ok(exit);
    }
    if let Some(exit) = staged.lock(held).await? {
        return Ok(exit);
    }
    staged.change().await
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

    /// How long to wait for the lock; `None` without one (`--no-lock`, a server dry run).
    fn lock_timeout(&self) -> Option<std::time::Duration> {
        self.config.lock_timeout.filter(|_| !self.server_dry_run)
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
