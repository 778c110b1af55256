//! The steps after the patches: watch every rollout, judge it, and on a failure or an interrupt
//! diagnose, roll back what this run patched (unless `--no-rollback`), after a failed rollout run
//! the rollback migrations (`undo`), and report how it ended. Never rolls back a workload this run
//! did not patch, and never reverses a migration itself.

use crate::cluster::Cluster;
use crate::error::Exit;
use crate::plan::Plan;
use crate::plan::patch::Patched;
use crate::report::Report;
use crate::run::live::undo::Undone;
use crate::run::live::{Planned, Run, record, selector_of};
use crate::run::rollout::diagnose::{self, Culprit};
use crate::run::rollout::{self, Target, Verdict};
use crate::run::sink::{Ending, Event};
use crate::run::{rollback, signals};

impl Run<'_> {
    /// Watches every patched workload's rollout and ends the run by its verdicts.
    pub(super) async fn watch_and_judge(
        &self,
        planned: &mut Planned,
        patched: &[Patched],
    ) -> anyhow::Result<Exit> {
        let targets = targets_of(planned);
        let watched = rollout::watch_with_culprits(
            &self.cluster,
            &targets,
            self.watch_settings(),
            self.sink,
            self.interrupt,
        );
        let (verdicts, culprits) = watched.await;
        if self.interrupt.is_set() {
            let states: Vec<String> = verdicts.iter().map(record::interrupted_state).collect();
            return self.interrupted_rollout(planned, patched, &states).await;
        }
        let timeout = self.config.limits.timeout;
        let Some(failure) = record::first_failure(&verdicts, &targets, timeout) else {
            self.sink.event(Event::Clear);
            planned.report.result = "succeeded".to_owned();
            record::set_changed(&mut planned.report, &planned.plan, "succeeded", None);
            return self.report(planned, Exit::Success);
        };
        record::verdicts(&mut planned.report, &planned.plan, &verdicts, &targets);
        planned.report.reason = Some(failure.clone());
        // Why it failed, read before the rollback replaces the failing pods.
        let (report, plan) = (&mut planned.report, &planned.plan);
        diagnose_failed(&self.cluster, report, plan, &targets, &verdicts, culprits).await;
        record::note_migrations_stay(&mut planned.report, &planned.plan);
        if !self.config.rollback {
            return self.failed_in_place(planned, &failure);
        }
        self.roll_back_failed(planned, patched, &failure).await
    }

    /// `--no-rollback`: the failed rollout stays as it is.
    fn failed_in_place(&self, planned: &mut Planned, failure: &str) -> anyhow::Result<Exit> {
        self.sink.event(Event::Clear);
        planned.report.result = "failed".to_owned();
        self.report(planned, Exit::RolloutFailed)?;
        self.sink.end(Ending::RolloutFailed {
            failure,
            rolled_back: false,
        })?;
        self.sink.end(Ending::Diagnoses(&planned.report))?;
        Ok(Exit::RolloutFailed)
    }

    /// Rolls back every workload this run patched after a failed rollout.
    async fn roll_back_failed(
        &self,
        planned: &mut Planned,
        patched: &[Patched],
        failure: &str,
    ) -> anyhow::Result<Exit> {
        self.sink.event(Event::RollbackAfterFailure {
            n_workloads: patched.len(),
        });
        let settings = self.rollback_settings();
        let results =
            rollback::roll_back(&self.cluster, patched, settings, &self.audit, self.sink).await;
        self.sink.event(Event::Clear);
        let (report, plan) = (&mut planned.report, &planned.plan);
        let mut complete = true;
        for (workload, result) in patched.iter().zip(&results) {
            match result {
                Ok(()) => {
                    let reason = record::reason_of(report, plan, &workload.id);
                    record::set_one(report, plan, &workload.id, "rolled-back", reason);
                }
                Err(reason) => {
                    complete = false;
                    let reason = Some(reason.clone());
                    record::set_one(report, plan, &workload.id, "rollback-failed", reason);
                }
            }
        }
        report.result = if complete {
            "rolled-back"
        } else {
            "rollback-failed"
        }
        .to_owned();
        let undone = if complete {
            self.rollback_migrations(planned, patched).await?
        } else {
            Undone::Fine
        };
        let undo_failure = match &undone {
            Undone::Failed(failed) => Some(format!(
                "rollback migration {}/{} failed: {}",
                failed.namespace,
                failed.job,
                failed.reason.as_deref().unwrap_or("unknown")
            )),
            Undone::Error(error) => Some(format!("the rollback migrations could not run: {error}")),
            Undone::Interrupted | Undone::Fine => None,
        };
        if let Some(undo_failure) = &undo_failure {
            planned.report.result = "rollback-failed".to_owned();
            planned.report.reason = Some(format!("{failure}; rolled back, but {undo_failure}"));
        } else if let Undone::Interrupted = &undone {
            planned.report.result = "interrupted".to_owned();
        }
        self.report(planned, Exit::RolloutFailed)?;
        let report = &planned.report;
        if complete {
            self.sink.end(Ending::RolloutFailed {
                failure,
                rolled_back: true,
            })?;
        }
        let exit = match &undone {
            Undone::Failed(failed) => {
                self.sink.end(Ending::RollbackMigrationFailed(failed))?;
                Exit::RollbackFailed
            }
            Undone::Error(error) => {
                self.sink.end(Ending::Message(&format!(
                    "error: the rollback migrations could not run: {error}; the rollback is incomplete"
                )))?;
                Exit::RollbackFailed
            }
            Undone::Interrupted => {
                self.sink.end(Ending::Message(
                    "Interrupted during the rollback migrations: the workloads were rolled back",
                ))?;
                Exit::Interrupted
            }
            Undone::Fine if complete => Exit::RolloutFailed,
            Undone::Fine => {
                self.sink.end(Ending::RollbackFailed { report, patched })?;
                Exit::RollbackFailed
            }
        };
        self.sink.end(Ending::Diagnoses(report))?;
        Ok(exit)
    }

    /// An interrupt after workloads were patched: roll back what this run patched (unless
    /// `--no-rollback`), report `interrupted` and exit 130. `states` says where each patched
    /// workload stood, in the order of `patched`.
    pub(super) async fn interrupted_rollout(
        &self,
        planned: &mut Planned,
        patched: &[Patched],
        states: &[String],
    ) -> anyhow::Result<Exit> {
        let (report, plan) = (&mut planned.report, &planned.plan);
        let before = Some("interrupted before it was patched".to_owned());
        record::set_changed(report, plan, "not-started", before);
        for (workload, state) in patched.iter().zip(states) {
            let state = Some(state.clone());
            record::set_one(report, plan, &workload.id, "interrupted", state);
        }
        report.result = "interrupted".to_owned();
        record::note_migrations_stay(report, plan);
        if self.config.rollback && !patched.is_empty() {
            return self.roll_back_interrupted(planned, patched).await;
        }
        self.sink.event(Event::Clear);
        planned.report.reason =
            Some("interrupted during the rollout; nothing was rolled back".to_owned());
        self.report(planned, Exit::Interrupted)?;
        if !patched.is_empty() {
            self.sink.end(Ending::Message(&format!(
                "Interrupted: {} patched workload(s) left as they are (--no-rollback); to undo: kubectl update rollback -c {}",
                patched.len(),
                self.config.request.classifier
            )))?;
        }
        Ok(Exit::Interrupted)
    }

    /// Rolls back every workload this run patched after an interrupt.
    async fn roll_back_interrupted(
        &self,
        planned: &mut Planned,
        patched: &[Patched],
    ) -> anyhow::Result<Exit> {
        self.sink.event(Event::RollbackAfterInterrupt {
            n_workloads: patched.len(),
        });
        let settings = self.rollback_settings();
        let results =
            rollback::roll_back(&self.cluster, patched, settings, &self.audit, self.sink).await;
        self.sink.event(Event::Clear);
        let (report, plan) = (&mut planned.report, &planned.plan);
        let mut complete = true;
        for (workload, result) in patched.iter().zip(&results) {
            match result {
                Ok(()) => {
                    signals::note(&rollout::key(&workload.id), "rolled back");
                    record::set_one(report, plan, &workload.id, "rolled-back", None);
                }
                Err(reason) => {
                    complete = false;
                    let reason = Some(reason.clone());
                    record::set_one(report, plan, &workload.id, "rollback-failed", reason);
                }
            }
        }
        report.reason = Some(if complete {
            "interrupted during the rollout; every patched workload was rolled back".to_owned()
        } else {
            "interrupted during the rollout; the rollback did not finish".to_owned()
        });
        self.report(planned, Exit::Interrupted)?;
        if complete {
            self.sink.end(Ending::Message(
                "Interrupted: every workload this run patched was rolled back",
            ))?;
        } else {
            let report = &planned.report;
            self.sink.end(Ending::RollbackFailed { report, patched })?;
        }
        Ok(Exit::Interrupted)
    }
}

/// What to watch: each changed workload, the images its new pods run, and its pod selector.
fn targets_of(planned: &Planned) -> Vec<Target> {
    planned
        .plan
        .changed_workloads()
        .map(|workload| Target {
            id: workload.id.clone(),
            expected: workload
                .changes
                .iter()
                .map(|it| (it.container.clone(), it.to.clone()))
                .collect(),
            selector: selector_of(&planned.found[workload.origin]),
        })
        .collect()
}

/// Reads, for one failing pod of each failed workload (of each unfinished one when none failed:
/// `--timeout`), its Warning Events and last log lines into the report.
async fn diagnose_failed(
    cluster: &Cluster,
    report: &mut Report,
    plan: &Plan,
    targets: &[Target],
    verdicts: &[Verdict],
    culprits: Vec<Option<Culprit>>,
) {
    let any_failed = verdicts.iter().any(|it| matches!(it, Verdict::Failed(_)));
    let work = targets
        .iter()
        .zip(verdicts)
        .zip(culprits)
        .filter(|((_, verdict), _)| match verdict {
            Verdict::Failed(_) => true,
            Verdict::Unfinished(_) => !any_failed,
            Verdict::Done => false,
        })
        .map(|((target, _), culprit)| async move {
            let culprit = match culprit {
                Some(culprit) => Some(culprit),
                None => diagnose::find_culprit(cluster, target).await,
            };
            let diagnosis = match culprit {
                Some(culprit) => {
                    Some(diagnose::diagnose(cluster, &target.id.namespace, &culprit).await)
                }
                None => None,
            };
            (target.id.clone(), diagnosis)
        });
    for (id, diagnosis) in futures::future::join_all(work).await {
        if let Some(idx) = plan.workloads.iter().position(|it| it.id == id) {
            report.workloads[idx].diagnosis = diagnosis;
        }
    }
}
