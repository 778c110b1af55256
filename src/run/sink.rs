//! The sink the stages report to, the way cargo's `Shell` or nextest's reporter work: a stage says
//! what happens as a typed `Event` and ends a run with an `Ending`; `output` decides how that looks
//! (terminal bars, timestamped CI lines and log groups, JSON). Nothing here prints, and no stage
//! imports `output`: `main` hands each run the sink to use.

use std::io;
use std::time::Duration;

use crate::cli::OutputFormat;
use crate::plan::Plan;
use crate::plan::patch::Patched;
use crate::report::Report;
use crate::run::outcome::Outcome;

/// Where a run's events and report go; shared by the stages and their background tasks.
pub trait Sink: Send + Sync {
    /// Progress as it happens. Never fails: a line that cannot be written is dropped.
    fn event(&self, event: Event<'_>);
    /// How the run ended, in the order told: the report first, then what to say besides it. An
    /// error is one of writing to stdout or stderr.
    fn end(&self, ending: Ending<'_>) -> io::Result<()>;
}

/// Whether a progress line is about a migration or a workload (they are drawn differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Migration,
    Workload,
}

/// Something that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Workloads of the plan have another owner that would revert their image (the drift guard):
    /// a warning before any change.
    Managed { plan: &'a Plan },
    /// Connected to `server` as `identity` (told with `-v`).
    Connected { server: &'a str, identity: &'a str },
    /// Another run holds the lock: this one waits up to `timeout`.
    LockHeld {
        namespace: &'a str,
        lease: &'a str,
        holder: &'a str,
        timeout: Duration,
    },
    /// The lock's holder stopped renewing it: this run took it over.
    LockTakenOver {
        namespace: &'a str,
        lease: &'a str,
        holder: &'a str,
    },
    /// An earlier copy of a migration failed (or a rollback migration's completed): it is deleted
    /// and run again.
    MigrationRerun { job: &'a str },
    /// This run's copy of a migration is already running: it is followed.
    MigrationFollowed { job: &'a str },
    /// A migration copy that had to go could not be deleted.
    MigrationNotDeleted { job: &'a str, error: &'a str },
    /// An Event of the audit trail could not be recorded (told once per run; the run goes on).
    AuditNotRecorded { reason: &'a str, error: &'a str },
    /// A log line of a migration's Job.
    Log { job: &'a str, line: &'a str },
    /// An item's state changed: `done` of `total` updated replicas for a workload.
    State {
        key: &'a str,
        item: Item,
        state: &'a str,
        done: u64,
        total: u64,
    },
    /// An item reached its final state.
    Finished { key: &'a str, state: &'a str },
    /// Live progress is over (the report or a rollback's own progress follows).
    Clear,
    /// A rollout failed: the rollback of `n_workloads` starts.
    RollbackAfterFailure { n_workloads: usize },
    /// A fleet's wave failed (`why`): this cluster's rollback of the `n_workloads` it patched starts,
    /// though its own update succeeded.
    RollbackForFleet { n_workloads: usize, why: &'a str },
    /// An interrupt during the rollout: the rollback of the `n_workloads` patched starts.
    RollbackAfterInterrupt { n_workloads: usize },
    /// The rollback after a failed rollout finished: `n_migrations` rollback migrations start.
    RollbackMigrations { n_migrations: usize },
    /// One workload's rollback is sent.
    RollingBack { key: &'a str },
    /// A pod of the failed revision blocks a StatefulSet's rollback: it is deleted.
    DeletingStuckPod { key: &'a str, pod: &'a str },
    /// The first SIGINT or SIGTERM (`name`): the run stops at the next safe point.
    Signal { name: &'a str },
    /// A second signal: the run exits at once; `ledger` says where everything stands.
    Abandon { ledger: &'a str },
    /// An event of one cluster of a fleet (`cluster` names its context).
    About {
        cluster: &'a str,
        event: &'a Event<'a>,
    },
    /// A fleet's wave failed (`why`): the clusters in `rolled_back` are rolled back, newest wave
    /// first, and no later wave starts.
    WaveFailed {
        wave: usize,
        why: &'a str,
        rolled_back: &'a [String],
    },
}

/// The end of a run, told in order: one report, then any of the others.
#[derive(Debug)]
pub enum Ending<'a> {
    /// An update's report (the plan's tables for a dry run).
    Update {
        report: &'a mut Report,
        plan: &'a Plan,
        format: OutputFormat,
        elapsed: Duration,
    },
    /// The report of `kubectl update rollback`.
    Rollback {
        report: &'a mut Report,
        format: OutputFormat,
        elapsed: Duration,
    },
    /// A plain message after the report.
    Message(&'a str),
    /// A migration failed; no workload was touched.
    MigrationFailed(&'a Outcome),
    /// A rollback migration failed after the workloads were rolled back.
    RollbackMigrationFailed(&'a Outcome),
    /// A rollout failed, and was rolled back or (`--no-rollback`) left in place.
    RolloutFailed { failure: &'a str, rolled_back: bool },
    /// Why each failed workload failed, from the report's diagnoses.
    Diagnoses(&'a Report),
    /// The rollback did not complete: where each patched workload stands.
    RollbackFailed {
        report: &'a Report,
        patched: &'a [Patched],
    },
    /// An ending of one cluster of a fleet, told as it happens (`cluster` names its context).
    About {
        cluster: &'a str,
        ending: Box<Ending<'a>>,
    },
    /// A fleet's report: `report.clusters` holds each cluster's, `plans` their plans in order.
    Fleet {
        report: &'a mut Report,
        plans: &'a [&'a Plan],
        format: OutputFormat,
        elapsed: Duration,
    },
}
