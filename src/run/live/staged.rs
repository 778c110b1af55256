//! One cluster's update as three stages, so that a fleet (`run::fleet`) can wait between them for
//! its other clusters: `prepare` (connect, discover, plan, preflight: nothing written), `lock`, and
//! `change` (migrate, patch, watch, roll back). A single cluster runs them back to back
//! (`live::update`). Also the fleet's rollback of a cluster that succeeded in a failed wave. Never
//! decides anything about other clusters.

use std::sync::Arc;

use crate::cli::DryRun;
use crate::cluster::ClusterArgs;
use crate::config::Config;
use crate::error::Exit;
use crate::plan::Plan;
use crate::plan::patch::Patched;
use crate::report::{Report, round};
use crate::run::live::undo::Undone;
use crate::run::live::{Planned, Run, record};
use crate::run::lock::Lock;
use crate::run::outcome::Status;
use crate::run::rollback;
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Ending, Event, Sink};

/// One cluster's update between its stages.
pub(crate) struct Staged<'a> {
    run: Run<'a>,
    planned: Planned,
    /// Set once the run has ended and told its report (a client dry run, nothing to change).
    pub ended: Option<Exit>,
    /// The workloads `change` patched, in order.
    patched: Vec<Patched>,
}

impl<'a> Staged<'a> {
    /// Connects, discovers, plans and runs the preflight: reads only. Ends the run (and reports
    /// it) when there is nothing to write.
    pub async fn prepare(
        config: &'a Config,
        cluster_args: &ClusterArgs,
        sink: &'a Arc<dyn Sink>,
        interrupt: &'a Interrupt,
    ) -> anyhow::Result<Staged<'a>> {
        let run = Run::connect(config, cluster_args, sink, interrupt).await?;
        let mut planned = run.discover_and_plan().await?;
        let ended = if config.dry_run == Some(DryRun::Client) {
            // The objects found are no longer needed: at 10,000 workloads they are most of the
            // memory the report's output would otherwise add to.
            drop(std::mem::take(&mut planned.found));
            Some(run.report(&mut planned, Exit::Success)?)
        } else {
            run.preflight(&planned.plan, run.lock_timeout().is_some())
                .await?;
            if planned.plan.is_unchanged() {
                Some(run.unchanged(&mut planned)?)
            } else if !run.server_dry_run
                && let Some(outcomes) = run.rerun_with_nothing_to_do(&planned).await?
            {
                record::migrations(&mut planned.report, &outcomes);
                Some(run.unchanged(&mut planned)?)
            } else {
                None
            }
        };
        Ok(Staged {
            run,
            planned,
            ended,
            patched: Vec::new(),
        })
    }

    /// The server the cluster was reached at.
    pub fn server(&self) -> &str {
        &self.run.cluster.server
    }

    /// The report so far (final once the run ended).
    pub fn report(&mut self) -> &mut Report {
        &mut self.planned.report
    }

    /// True when this run patched workloads that now run the target (its update succeeded).
    pub fn changed(&self) -> bool {
        !self.patched.is_empty() && self.planned.report.result == "succeeded"
    }

    /// A fleet's cluster whose wave never started: `why`, and nothing changed.
    pub fn not_started(&mut self, why: &str) {
        let (report, plan) = (&mut self.planned.report, &self.planned.plan);
        report.result = "not-started".to_owned();
        report.reason = Some(why.to_owned());
        record::set_changed(report, plan, "not-started", Some(why.to_owned()));
        for migration in &mut report.migrations {
            migration.status = Some("not-started".to_owned());
        }
    }

    /// Stamps the report's duration: from connecting until now (when a stage ended the run).
    pub fn stamp(&mut self) {
        let seconds = self.run.started.elapsed().as_secs_f64();
        self.planned.report.duration_seconds = Some(round(seconds));
    }

    /// The plan, for the report's tables.
    pub fn plan(&self) -> &Plan {
        &self.planned.plan
    }

    /// Takes the lock into `held` (unless `--no-lock` or a server dry run). Another run held it
    /// and left nothing to do: the run ends, and its exit is returned.
    pub async fn lock(&mut self, held: &mut Option<Lock>) -> anyhow::Result<Option<Exit>> {
        let Some(timeout) = self.run.lock_timeout() else {
            return Ok(None);
        };
        let lock = held.insert(self.run.lock(&self.planned.plan, timeout).await?);
        if lock.waited {
            // Another run held the lock and may have changed what this one read: read again.
            let before = self.planned.plan.clone();
            self.planned = self.run.plan_again(lock, timeout, &before).await?;
            if self.planned.plan.is_unchanged() {
                let exit = self.run.unchanged(&mut self.planned)?;
                self.ended = Some(exit);
                return Ok(Some(exit));
            }
        }
        Ok(None)
    }

    /// Migrates, patches, watches and judges the rollouts, rolling back on a failure; reports how
    /// it ended.
    pub async fn change(&mut self) -> anyhow::Result<Exit> {
        let (run, planned) = (&self.run, &mut self.planned);
        signals::finish_with(
            "re-run the same command: completed migrations are reused and workloads already at the target are left alone",
        );
        let outcomes = run.migrate(planned).await?;
        record::migrations(&mut planned.report, &outcomes);
        if run.interrupt.is_set() {
            return run.interrupted_migrations(planned);
        }
        if let Some(failed) = outcomes.iter().find(|it| it.status == Status::Failed) {
            return run.failed_migration(planned, failed).await;
        }
        if planned.plan.changed_workloads().next().is_none() {
            return run.only_migrations(planned, &outcomes);
        }
        self.patched = run.patch(planned).await?;
        let patched = &self.patched;
        if run.server_dry_run {
            return run.server_dry_run_done(planned);
        }
        if run.interrupt.is_set() {
            let states = vec!["interrupted while patching".to_owned(); patched.len()];
            return run.interrupted_rollout(planned, patched, &states).await;
        }
        run.watch_and_judge(planned, patched).await
    }

    /// A fleet's rollback of a cluster whose own update succeeded, because `why` (another cluster
    /// of its wave, or a later wave, failed): restores what `change` patched and reports again.
    /// Returns `RollbackFailed` when a workload could not be restored, else `Success`.
    pub async fn roll_back(&mut self, why: &str) -> anyhow::Result<Exit> {
        let (run, planned) = (&self.run, &mut self.planned);
        if self.patched.is_empty() || planned.report.result != "succeeded" {
            return Ok(Exit::Success);
        }
        run.sink.event(Event::RollbackForFleet {
            n_workloads: self.patched.len(),
            why,
        });
        let settings = run.rollback_settings();
        let results =
            rollback::roll_back(&run.cluster, &self.patched, settings, &run.audit, run.sink).await;
        run.sink.event(Event::Clear);
        let (report, plan) = (&mut planned.report, &planned.plan);
        let mut complete = true;
        for (workload, result) in self.patched.iter().zip(&results) {
            let (status, reason) = match result {
                Ok(()) => ("rolled-back", Some(why.to_owned())),
                Err(reason) => {
                    complete = false;
                    ("rollback-failed", Some(reason.clone()))
                }
            };
            record::set_one(report, plan, &workload.id, status, reason);
        }
        report.result = if complete {
            "rolled-back"
        } else {
            "rollback-failed"
        }
        .to_owned();
        report.reason = Some(why.to_owned());
        // Rolled back completely after forward migrations: the rollback migrations run, as after
        // a failed rollout of its own.
        let undone = if complete {
            run.rollback_migrations(planned, &self.patched).await?
        } else {
            Undone::Fine
        };
        let report = &mut planned.report;
        if matches!(undone, Undone::Fine) {
            record::note_migrations_stay(report, &planned.plan);
        }
        let exit = match &undone {
            Undone::Failed(_) | Undone::Error(_) => {
                report.result = "rollback-failed".to_owned();
                Exit::RollbackFailed
            }
            Undone::Interrupted => {
                report.result = "interrupted".to_owned();
                Exit::Interrupted
            }
            Undone::Fine if complete => Exit::Success,
            Undone::Fine => Exit::RollbackFailed,
        };
        let exit = run.report(planned, exit)?;
        match undone {
            Undone::Failed(failed) => run.sink.end(Ending::RollbackMigrationFailed(&failed))?,
            Undone::Error(error) => run.sink.end(Ending::Message(&format!(
                "error: the rollback migrations could not run: {error}; the rollback is incomplete"
            )))?,
            Undone::Interrupted | Undone::Fine => (),
        }
        Ok(exit)
    }
}
