//! The steps that write: the migrations first, then the image patches, and how the run ends when
//! it stops between them (an interrupt, a failed migration, nothing left to patch, a server dry
//! run).

use crate::cli::OnInterrupt;
use crate::error::Exit;
use crate::plan::WorkloadPlan;
use crate::plan::audit::{ImageChange, Reason, Record};
use crate::plan::patch::{self, Patched};
use crate::run::live::prepare::templates_of;
use crate::run::live::{Planned, Run, record, selector_of};
use crate::run::migrate;
use crate::run::outcome::{Outcome, Status};
use crate::run::sink::{Ending, Event};
use crate::run::{rollback, rollout, signals};

impl Run<'_> {
    /// Runs the plan's migrations (group by group), before any workload changes.
    pub(super) async fn migrate(&self, planned: &Planned) -> anyhow::Result<Vec<Outcome>> {
        let templates = templates_of(&planned.found, &planned.plan);
        let limits = migrate::Limits {
            fail_after: self.config.limits.fail_after,
            deadline: self.deadline,
            server_dry_run: self.server_dry_run,
            interrupt: self.interrupt.clone(),
            on_interrupt: self.config.on_interrupt,
            reuse: true,
        };
        let migrations = &planned.plan.migrations;
        migrate::run_all(&self.cluster, migrations, &templates, limits, self.sink).await
    }

    /// Interrupted during the migrations: no workload was changed.
    pub(super) fn interrupted_migrations(&self, planned: &mut Planned) -> anyhow::Result<Exit> {
        self.sink.event(Event::Clear);
        let copies = match self.config.on_interrupt {
            OnInterrupt::Keep => "running migration copies were kept and finish by themselves",
            OnInterrupt::Delete => "running migration copies were deleted",
        };
        planned.report.result = "interrupted".to_owned();
        planned.report.reason = Some(format!(
            "interrupted during the migrations; no workload was changed; {copies}"
        ));
        record::set_changed(&mut planned.report, &planned.plan, "not-started", None);
        self.report(planned, Exit::Interrupted)?;
        self.sink.end(Ending::Message(&format!(
            "Interrupted: no workload was changed; {copies}"
        )))?;
        Ok(Exit::Interrupted)
    }

    /// A migration failed: no workload was changed, and each one it kept from its update gets a
    /// `MigrationFailed` Event naming the Job.
    pub(super) async fn failed_migration(
        &self,
        planned: &mut Planned,
        failed: &Outcome,
    ) -> anyhow::Result<Exit> {
        let detail = format!(
            "migration Job {}/{} failed: {}",
            failed.namespace,
            failed.job,
            failed.reason.as_deref().unwrap_or("unknown")
        );
        for workload in planned.plan.changed_workloads() {
            let record = Record {
                id: &workload.id,
                uid: planned.found[workload.origin].facts.uid.as_deref(),
                reason: Reason::MigrationFailed,
                images: image_changes(workload),
                detail: Some(detail.clone()),
                cause: self.audit.cause.as_deref(),
            };
            self.audit.record(&self.cluster, self.sink, record).await;
        }
        self.sink.event(Event::Clear);
        planned.report.result = "migration-failed".to_owned();
        planned.report.reason = Some(format!(
            "migration {} failed: {}",
            failed.job,
            failed.reason.as_deref().unwrap_or("unknown")
        ));
        record::set_changed(&mut planned.report, &planned.plan, "not-started", None);
        self.report(planned, Exit::MigrationFailed)?;
        self.sink.end(Ending::MigrationFailed(failed))?;
        Ok(Exit::MigrationFailed)
    }

    /// Every workload already runs the target: only the migrations were left to check, and a
    /// retried CI job finds them done.
    pub(super) fn only_migrations(
        &self,
        planned: &mut Planned,
        outcomes: &[Outcome],
    ) -> anyhow::Result<Exit> {
        let all_reused = outcomes.iter().all(|it| it.status == Status::Reused);
        planned.report.result = if self.server_dry_run {
            "planned"
        } else if all_reused {
            "unchanged"
        } else {
            "succeeded"
        }
        .to_owned();
        self.report(planned, Exit::Success)
    }

    /// Patches the images of every changed workload, in plan order, until an interrupt. A patch
    /// the server refuses rolls back what this run patched (unless `--no-rollback`) and fails.
    pub(super) async fn patch(&self, planned: &Planned) -> anyhow::Result<Vec<Patched>> {
        let time = jiff::Timestamp::now().to_string();
        let mut patched: Vec<Patched> = Vec::new();
        for workload in planned.plan.changed_workloads() {
            if self.interrupt.is_set() {
                break;
            }
            let body = patch::update(workload, &time, self.config.cause.as_deref());
            let sent = rollback::send(&self.cluster, &workload.id, &body, self.server_dry_run);
            if let Err(err) = sent.await {
                if !patched.is_empty() && self.config.rollback {
                    let settings = self.rollback_settings();
                    rollback::roll_back(&self.cluster, &patched, settings, &self.audit, self.sink)
                        .await;
                }
                return Err(err);
            }
            let uid = planned.found[workload.origin].facts.uid.as_deref();
            patched.push(Patched {
                id: workload.id.clone(),
                previous: patch::Previous::of(&workload.changes, &time),
                selector: selector_of(&planned.found[workload.origin]),
                uid: uid.map(str::to_owned),
            });
            let record = Record {
                id: &workload.id,
                uid,
                reason: Reason::ImageUpdated,
                images: image_changes(workload),
                detail: None,
                cause: self.audit.cause.as_deref(),
            };
            self.audit.record(&self.cluster, self.sink, record).await;
            if !self.server_dry_run {
                self.note_patched(workload);
            }
        }
        Ok(patched)
    }

    /// A server dry run: the server accepted every write.
    pub(super) fn server_dry_run_done(&self, planned: &mut Planned) -> anyhow::Result<Exit> {
        if self.interrupt.is_set() {
            return Err(signals::interrupted_before_changes("during the server dry run").into());
        }
        planned.report.result = "planned".to_owned();
        self.report(planned, Exit::Success)
    }

    /// What a second signal prints about a patched workload, and how to undo it by hand.
    fn note_patched(&self, workload: &WorkloadPlan) {
        let images: Vec<String> = workload
            .changes
            .iter()
            .map(|it| format!("{}={}", it.container, it.to))
            .collect();
        signals::note(
            &rollout::key(&workload.id),
            &format!("patched ({}); rolling out", images.join(", ")),
        );
        signals::finish_with(&format!(
            "kubectl update rollback -c {} -n {}",
            self.config.request.classifier, workload.id.namespace
        ));
    }
}

/// A workload's image changes, for its Events.
fn image_changes(workload: &WorkloadPlan) -> Vec<ImageChange> {
    workload
        .changes
        .iter()
        .map(|it| ImageChange {
            container: it.container.clone(),
            from: it.from.clone(),
            to: it.to.clone(),
        })
        .collect()
}
