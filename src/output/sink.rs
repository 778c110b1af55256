//! `output`'s side of `run::sink`: events are worded here and go to the live progress (bars on a
//! terminal, timestamped lines and log groups in CI), endings to the report printers. Decides
//! nothing about the run; how lines are drawn is `progress`'s business.

use std::io;
use std::sync::Arc;

use crate::output::{self, progress::Progress};
use crate::run::sink::{Ending, Event, Sink};

/// The sink of a live run or a rollback: bars on a terminal unless `verbose`.
pub fn new(verbose: u8) -> Arc<dyn Sink> {
    Arc::new(Progress::new(verbose > 0))
}

impl Sink for Progress {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Managed { plan } => {
                let _ = output::owners::warn(plan);
            }
            Event::Connected { server, identity } => {
                self.say(&format!("Connected to {server} as {identity}"));
            }
            Event::LockHeld {
                namespace,
                lease,
                holder,
                timeout,
            } => self.say(&format!(
                "Waiting for the lock {namespace}/{lease}: held by {holder} (waiting up to {})",
                humantime::format_duration(timeout)
            )),
            Event::LockTakenOver {
                namespace,
                lease,
                holder,
            } => self.say(&format!(
                "Took over the lock {namespace}/{lease} from {holder}, which stopped renewing it"
            )),
            Event::MigrationRerun { job } => {
                self.say(&format!(
                    "{job}: an earlier copy failed (or, for a rollback migration, ran before); deleting it and running again"
                ));
            }
            Event::MigrationFollowed { job } => {
                self.say(&format!("{job}: already running; following it"));
            }
            Event::MigrationNotDeleted { job, error } => {
                self.say(&format!("{job}: could not delete the migration copy: {error}"));
            }
            Event::AuditNotRecorded { reason, error } => {
                self.say(&format!(
                    "warning: could not record the {reason} Event (the run goes on; further failures are not told): {error}"
                ));
            }
            Event::Log { job, line } => self.log(job, line),
            Event::State {
                key,
                item,
                state,
                done,
                total,
            } => self.set(key, item, state, done, total),
            Event::Finished { key, state } => self.finish(key, state),
            Event::Clear => self.clear(),
            Event::RollbackAfterFailure { n_workloads } => {
                self.say(&format!(
                    "Rollout failed; rolling back {n_workloads} workload(s)"
                ));
            }
            Event::RollbackAfterInterrupt { n_workloads } => self.say(&format!(
                "Interrupted: rolling back the {n_workloads} workload(s) this run patched (a second signal exits at once)"
            )),
            Event::RollbackMigrations { n_migrations } => self.say(&format!(
                "Rolled back; running {n_migrations} rollback migration(s)"
            )),
            Event::RollingBack { key } => self.say(&format!("{key}: rolling back")),
            Event::DeletingStuckPod { key, pod } => {
                self.say(&format!(
                    "{key}: deleting pod {pod}, stuck on the failed revision"
                ));
            }
            Event::Signal { name } => {
                let _ = output::message(&format!(
                    "Received {name}: stopping safely (a second signal exits at once)"
                ));
            }
            Event::Abandon { ledger } => {
                let _ = output::message(ledger);
            }
        }
    }

    fn end(&self, ending: Ending<'_>) -> io::Result<()> {
        match ending {
            Ending::Update {
                report,
                plan,
                format,
                elapsed,
            } => output::report::live_report(report, plan, format, elapsed),
            Ending::Rollback {
                report,
                format,
                elapsed,
            } => output::report::rollback_report(report, format, elapsed),
            Ending::Message(text) => output::message(text),
            Ending::MigrationFailed(outcome) => output::failure::migration_failure(outcome),
            Ending::RollbackMigrationFailed(outcome) => {
                output::failure::rollback_migration_failure(outcome)
            }
            Ending::RolloutFailed {
                failure,
                rolled_back,
            } => output::failure::rollout_failure(failure, rolled_back),
            Ending::Diagnoses(report) => output::failure::diagnoses(report),
            Ending::RollbackFailed { report, patched } => {
                output::failure::rollback_failure(report, patched)
            }
        }
    }
}
