//! What the steps write into the report: each migration's outcome, each workload's status and
//! reason, and the one failure a failed rollout is reported with. Pure.

use std::time::Duration;

use crate::plan::Plan;
use crate::plan::workload::ObjectId;
use crate::report::{Report, round};
use crate::run::outcome::{Outcome, Status};
use crate::run::rollout::{self, Target, Verdict};

/// Each planned migration's job, status, reason and duration; `not-started` for those that did
/// not run.
pub fn migrations(report: &mut Report, outcomes: &[Outcome]) {
    for migration in &mut report.migrations {
        let outcome = outcomes
            .iter()
            .find(|it| it.namespace == migration.namespace && it.template == migration.template);
        match outcome {
            Some(outcome) => {
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
            }
            None => migration.status = Some("not-started".to_owned()),
        }
    }
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
