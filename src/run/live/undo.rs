//! Rollback migrations: after a failed rollout was rolled back, and only when forward migrations
//! ran (or were reused) in this run, run the copies of the templates annotated
//! `kubectl-update.io/migration: rollback`, with the new image, in `kubectl-update.io/order`
//! groups, within the rollback's grace; a completed copy from an earlier run is run again, not
//! reused, and this run's forward copies are deleted afterwards so that a retry runs them again.
//! Never runs them in any other case (the report says why), never changes a workload, and never
//! reverses anything itself: what to undo is the template's.

use crate::plan::audit::{Reason, Record};
use crate::plan::patch::Patched;
use crate::run::live::prepare::templates_of;
use crate::run::live::{Planned, Run, record};
use crate::run::migrate;
use crate::run::outcome::{Outcome, Status};
use crate::run::sink::Event;

/// How the rollback migrations ended.
pub(super) enum Undone {
    /// None ran (none planned, or skipped: the report says why), or every one succeeded.
    Fine,
    /// One failed: the rollback is incomplete.
    Failed(Outcome),
    /// The run was interrupted while they ran.
    Interrupted,
    /// They could not be run (an API call failed): the rollback is incomplete.
    Error(String),
}

impl Run<'_> {
    /// Runs the plan's rollback migrations after every patched workload was rolled back, when
    /// forward migrations ran in this run; records their outcomes (or why they were skipped).
    pub(super) async fn rollback_migrations(
        &self,
        planned: &mut Planned,
        patched: &[Patched],
    ) -> anyhow::Result<Undone> {
        let migrations = &planned.plan.rollback_migrations;
        if migrations.is_empty() {
            return Ok(Undone::Fine);
        }
        if !record::forward_migrations_ran(&planned.report) {
            let reason = "no forward migration ran in this run";
            record::skip_rollback_migrations(&mut planned.report, reason);
            return Ok(Undone::Fine);
        }
        self.sink.event(Event::RollbackMigrations {
            n_migrations: migrations.len(),
        });
        let templates = templates_of(&planned.found, &planned.plan);
        let limits = migrate::Limits {
            fail_after: self.config.limits.fail_after,
            deadline: self.deadline + self.config.limits.rollback_grace(),
            server_dry_run: false,
            interrupt: self.interrupt.clone(),
            on_interrupt: self.config.on_interrupt,
            reuse: false,
        };
        let ran = migrate::run_all(&self.cluster, migrations, &templates, limits, self.sink).await;
        let outcomes = match ran {
            Ok(outcomes) => outcomes,
            Err(err) => {
                self.sink.event(Event::Clear);
                let error = format!("{err:#}");
                let reason = format!("could not run: {error}");
                record::fail_rollback_migrations(&mut planned.report, &reason);
                return Ok(Undone::Error(error));
            }
        };
        // What the forward copies did is being undone: a retried run must run them again.
        let forward: Vec<(String, String)> = planned
            .report
            .migrations
            .iter()
            .filter_map(|it| Some((it.namespace.clone(), it.job.clone()?)))
            .collect();
        migrate::delete_copies(&self.cluster, &forward, self.sink).await;
        self.sink.event(Event::Clear);
        record::rollback_migrations(&mut planned.report, &outcomes);
        record::skip_rollback_migrations(&mut planned.report, "an earlier one failed");
        if let Some(failed) = outcomes.iter().find(|it| it.status == Status::Failed) {
            self.record_failed(patched, failed).await;
            return Ok(Undone::Failed(failed.clone()));
        }
        if outcomes.iter().any(|it| it.status == Status::Interrupted) || self.interrupt.is_set() {
            return Ok(Undone::Interrupted);
        }
        Ok(Undone::Fine)
    }

    /// A `RollbackMigrationFailed` Event on each rolled-back workload, naming the Job.
    async fn record_failed(&self, patched: &[Patched], failed: &Outcome) {
        let detail = format!(
            "rollback migration Job {}/{} failed: {}",
            failed.namespace,
            failed.job,
            failed.reason.as_deref().unwrap_or("unknown")
        );
        for workload in patched {
            let record = Record {
                id: &workload.id,
                uid: workload.uid.as_deref(),
                reason: Reason::RollbackMigrationFailed,
                images: workload.previous.rolled_back(),
                detail: Some(detail.clone()),
                cause: self.audit.cause.as_deref(),
            };
            self.audit.record(&self.cluster, self.sink, record).await;
        }
    }
}
