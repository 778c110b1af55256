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
        tell(self, "", event);
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
            Ending::About { cluster, ending } => {
                output::message(&format!("[{cluster}]"))?;
                self.end(*ending)
            }
            Ending::Fleet {
                report,
                plans,
                format,
                elapsed,
            } => output::fleet::fleet_report(report, plans, format, elapsed),
        }
    }
}

/// Words an event; `prefix` (`[context] ` for a fleet's cluster, else empty) opens every line and
/// item key, so that a fleet's progress says which cluster it is about.
fn tell(progress: &Progress, prefix: &str, event: Event<'_>) {
    let this = progress;
    let key_of = |key: &str| format!("{prefix}{key}");
    match event {
            Event::Managed { plan } => {
                if !prefix.is_empty() {
                    this.say(prefix.trim_end());
                }
                let _ = output::owners::warn(plan);
            }
            Event::Connected { server, identity } => {
                this.say(&format!("{prefix}Connected to {server} as {identity}"));
            }
            Event::LockHeld {
                namespace,
                lease,
                holder,
                timeout,
            } => this.say(&format!(
                "{prefix}Waiting for the lock {namespace}/{lease}: held by {holder} (waiting up to {})",
                humantime::format_duration(timeout)
            )),
            Event::LockTakenOver {
                namespace,
                lease,
                holder,
            } => this.say(&format!(
                "{prefix}Took over the lock {namespace}/{lease} from {holder}, which stopped renewing it"
            )),
            Event::MigrationRerun { job } => {
                this.say(&format!(
                    "{prefix}{job}: an earlier copy failed (or, for a rollback migration, ran before); deleting it and running again"
                ));
            }
            Event::MigrationFollowed { job } => {
                this.say(&format!("{prefix}{job}: already running; following it"));
            }
            Event::MigrationNotDeleted { job, error } => {
                this.say(&format!("{prefix}{job}: could not delete the migration copy: {error}"));
            }
            Event::AuditNotRecorded { reason, error } => {
                this.say(&format!(
                    "{prefix}warning: could not record the {reason} Event (the run goes on; further failures are not told): {error}"
                ));
            }
            Event::Log { job, line } => {
                // `[c1/db-migrate] line`: the cluster inside the Job's brackets.
                let cluster = prefix.trim_start_matches('[').replace("] ", "/");
                this.log(&format!("{cluster}{job}"), line);
            }
            Event::State {
                key,
                item,
                state,
                done,
                total,
            } => this.set(&key_of(key), item, state, done, total),
            Event::Finished { key, state } => this.finish(&key_of(key), state),
            Event::Clear => this.clear(),
            Event::RollbackAfterFailure { n_workloads } => {
                this.say(&format!(
                    "{prefix}Rollout failed; rolling back {n_workloads} workload(s)"
                ));
            }
            Event::RollbackForFleet { n_workloads, why } => this.say(&format!(
                "{prefix}Rolling back the {n_workloads} workload(s) this run updated: {why}"
            )),
            Event::RollbackAfterInterrupt { n_workloads } => this.say(&format!(
                "{prefix}Interrupted: rolling back the {n_workloads} workload(s) this run patched (a second signal exits at once)"
            )),
            Event::RollbackMigrations { n_migrations } => this.say(&format!(
                "{prefix}Rolled back; running {n_migrations} rollback migration(s)"
            )),
            Event::RollingBack { key } => this.say(&format!("{prefix}{key}: rolling back")),
            Event::DeletingStuckPod { key, pod } => {
                this.say(&format!(
                    "{prefix}{key}: deleting pod {pod}, stuck on the failed revision"
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
            Event::About { cluster, event } => {
                tell(this, &format!("{prefix}[{cluster}] "), *event);
            }
            Event::WaveFailed {
                wave,
                why,
                rolled_back,
            } => {
                let what = if rolled_back.is_empty() {
                    "no cluster to roll back".to_owned()
                } else {
                    format!("rolling back {}", rolled_back.join(", "))
                };
                this.say(&format!("{prefix}Wave {wave} failed ({why}): {what}; no later wave starts"));
            }
        }
}
