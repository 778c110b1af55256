//! What the steps write into the report: each migration's (and rollback migration's) outcome or
//! why it was skipped, each workload's status and reason, and the one failure a failed rollout is
//! reported with. Pure.

use std::time::Duration;

use crate::plan::Plan;
use crate::plan::workload::ObjectId;
use crate::report::{MigrationReport, Report, round};
use crate::run::outcome::{Outcome, Status};
use crate::run::rollout::{self, Target, Verdict};

/// Each planned migration's job, status, reason and duration; `not-started` for those that did
/// not run.
pub fn migrations(report: &mut Report, outcomes: &[Outcome]) {
    for migration in &mut report.migrations {
        if !fill(migration, outcomes) {
            migration.status = Some("not-started".to_owned());
        }
    }
}

/// Each rollback migration that ran: its job, status, reason and duration.
pub fn rollback_migrations(report: &mut Report, outcomes: &[Outcome]) {
    for migration in &mut report.rollback_migrations {
        fill(migration, outcomes);
    }
}

/// Every rollback migration not yet accounted for is `skipped`, for `reason`.
pub fn skip_rollback_migrations(report: &mut Report, reason: &str) {
    for migration in &mut report.rollback_migrations {
        if migration.status.is_none() {
            migration.status = Some("skipped".to_owned());
            migration.reason = Some(reason.to_owned());
        }
    }
}

/// Every rollback migration not yet accounted for `failed`, for `reason`.
pub fn fail_rollback_migrations(report: &mut Report, reason: &str) {
    for migration in &mut report.rollback_migrations {
        if migration.status.is_none() {
            migration.status = Some("failed".to_owned());
            migration.reason = Some(reason.to_owned());
        }
    }
}

/// Why rollback migrations did not run, by how the run ended (`report.result`); `None` for a
/// preview, whose rollback migrations keep no status.
pub fn why_rollback_migrations_skipped(result: &str) -> Option<&'static str> {
    Some(match result {
        "planned" => return None,
        "succeeded" | "unchanged" => "no rollout failed",
        "migration-failed" => "a forward migration failed, so no workload was changed",
        "failed" => "--no-rollback: the workloads were not rolled back",
        "rollback-failed" => "the rollback of the workloads did not finish",
        "interrupted" => "the run was interrupted",
        _ => "no forward migration ran in this run",
    })
}

/// Whether forward migrations ran (or a completed copy was reused) in this run: the condition for
/// rollback migrations.
pub fn forward_migrations_ran(report: &Report) -> bool {
    report
        .migrations
        .iter()
        .any(|it| matches!(it.status.as_deref(), Some("succeeded" | "reused")))
}

/// Fills in one migration's outcome, if it has one; false when it did not run.
fn fill(migration: &mut MigrationReport, outcomes: &[Outcome]) -> bool {
    let outcome = outcomes
        .iter()
        .find(|it| it.namespace == migration.namespace && it.template == migration.template);
    let Some(outcome) = outcome else {
        return false;
    };
    migration.job = Some(outcome.job.clone());
    migration.status = Some(
        match outcome.status {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Reused => "reused",
            Status::DryRun => "dry-run",
            Status::Interrupted => "interrupted",
        }
        .to_owned(),
    );
    migration.reason = outcome.reason.clone();
    migration.duration_seconds = Some(round(outcome.duration.as_secs_f64()));
    true
}

/// The status of every workload whose rollout was judged.
pub fn verdicts(report: &mut Report, plan: &Plan, verdicts: &[Verdict], targets: &[Target]) {
    for ((verdict, target), workload) in verdicts.iter().zip(targets).zip(plan.changed_workloads())
    {
        let (status, reason) = match verdict {
            Verdict::Done => ("succeeded", None),
            Verdict::Failed(reason) => ("failed", Some(reason.clone())),
            Verdict::Unfinished(state) => (
                "interrupted",
                Some(format!("stopped while rolling out: {state}")),
            ),
        };
        set_one(report, plan, &workload.id, status, reason);
        debug_assert_eq!(target.id, workload.id);
    }
}

/// The failure a failed rollout is reported with. A pod failure explains more than a workload that
/// was merely still rolling out when it happened, so failures are named first; `None` when every
/// rollout is done.
pub fn first_failure(
    verdicts: &[Verdict],
    targets: &[Target],
    timeout: Duration,
) -> Option<String> {
    let failed = verdicts
        .iter()
        .zip(targets)
        .find_map(|(verdict, target)| match verdict {
            Verdict::Failed(reason) => Some(format!("{}: {reason}", rollout::key(&target.id))),
            Verdict::Done | Verdict::Unfinished(_) => None,
        });
    let unfinished = verdicts
        .iter()
        .zip(targets)
        .find_map(|(verdict, target)| match verdict {
            Verdict::Unfinished(state) => Some(format!(
                "{}: not rolled out within --timeout {}: {state}",
                rollout::key(&target.id),
                humantime::format_duration(timeout)
            )),
            Verdict::Done | Verdict::Failed(_) => None,
        });
    failed.or(unfinished)
}

/// Where a workload stood when the run was interrupted during its rollout.
pub fn interrupted_state(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Done => "rolled out before the interrupt".to_owned(),
        Verdict::Failed(reason) => format!("failed: {reason}"),
        Verdict::Unfinished(state) => format!("stopped while rolling out: {state}"),
    }
}

/// A rollback undoes the workloads' images, never a migration: say so when there were some.
pub fn note_migrations_stay(report: &mut Report, plan: &Plan) {
    if !plan.migrations.is_empty() {
        report
            .notes
            .push("migrations are not reversed by a rollback".to_owned());
    }
}

/// The same status and reason for every changed workload.
pub fn set_changed(report: &mut Report, plan: &Plan, status: &str, reason: Option<String>) {
    for workload in plan.changed_workloads() {
        set_one(report, plan, &workload.id, status, reason.clone());
    }
}

/// One workload's status and reason.
pub fn set_one(
    report: &mut Report,
    plan: &Plan,
    id: &ObjectId,
    status: &str,
    reason: Option<String>,
) {
    if let Some(idx) = plan.workloads.iter().position(|it| &it.id == id) {
        report.workloads[idx].status = status.to_owned();
        report.workloads[idx].reason = reason;
    }
}

/// One workload's reason as reported so far.
pub fn reason_of(report: &Report, plan: &Plan, id: &ObjectId) -> Option<String> {
    plan.workloads
        .iter()
        .position(|it| &it.id == id)
        .and_then(|idx| report.workloads[idx].reason.clone())
}
