//! What a migration did: the data `migrate` returns, `live` records in the report and the sink
//! tells when one failed. Data only; below every stage, so none of them import each other for it.

use std::time::Duration;

/// How one migration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Failed,
    /// A copy for the same template and image had already completed.
    Reused,
    /// `--dry-run=server`: the server accepted the Job, nothing ran.
    DryRun,
    /// The run was interrupted while it ran (or before it started); the copy is kept or deleted as
    /// `--on-interrupt` says.
    Interrupted,
}

/// What one migration did, for the report.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub namespace: String,
    pub template: String,
    pub job: String,
    pub status: Status,
    pub duration: Duration,
    /// Why it failed.
    pub reason: Option<String>,
    pub last_lines: Vec<String>,
}
