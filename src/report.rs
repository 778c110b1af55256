//! The JSON report (`-o json`): one object per run. Field names are a contract: later versions add
//! fields, never rename them. Data only: stages fill it in, `output` prints it; nothing here prints.

use serde::Serialize;

use crate::cli::DryRun;
use crate::plan::owners::Owner;
use crate::plan::workload::ContainerList;
use crate::plan::{ContainerChange, MigrationPlan, Plan};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `planned` or `unchanged` for previews; live: `succeeded`, `unchanged`, `migration-failed`,
    /// `rolled-back`, `rollback-failed`, `failed` (with --no-rollback) or `interrupted`.
    pub result: String,
    /// `client`, `server`, or null for a real run.
    pub dry_run: Option<String>,
    pub images: Vec<String>,
    pub classifier: String,
    pub workloads: Vec<WorkloadReport>,
    pub migrations: Vec<MigrationReport>,
    /// Rollback migrations (`kubectl-update.io/migration: rollback`): present when the plan has
    /// any. Live status: `succeeded`, `failed`, `interrupted`, or `skipped` with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollback_migrations: Vec<MigrationReport>,
    pub near_misses: Vec<NearMissReport>,
    /// The user the API server says ran the update (live runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Why the change was made (`--cause`, or the CI run's URL), when known (live runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What went wrong, when something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Notes for the reader, e.g. that migrations are not reversed by a rollback.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// `--write`: the manifest files changed, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_written: Option<Vec<String>>,
    /// A fleet (several `--context`): each cluster's own report, in wave order; the top level then
    /// holds the worst result and every cluster's workloads and migrations. Absent for one cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<ClusterReport>,
}

/// One cluster of a fleet: where it is, its wave, and its report (flattened into this object).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    /// The kubeconfig context.
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// The wave, from 1: the order of `--context` flags.
    pub wave: usize,
    #[serde(flatten)]
    pub report: Report,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// `planned` or `unchanged` in a preview; live: `succeeded`, `unchanged`, `failed`,
    /// `rolled-back`, `rollback-failed`, `not-started` or `interrupted`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub containers: Vec<ContainerReport>,
    /// Why a failed rollout failed, from one failing pod: its Warning Events and last log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// Other owners that would put the old image back (the drift guard); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<OwnerReport>,
}

/// Another owner of a workload's image fields (`plan::owners`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReport {
    /// `argocd`, `flux`, `helm` or `field-manager`.
    pub kind: String,
    /// Who, in words (`Helm release shop/web`).
    pub owner: String,
    /// The labels, annotations or managedFields entry it was found by.
    pub evidence: String,
    /// What to do instead.
    pub advice: String,
}

impl OwnerReport {
    pub fn of(owner: &Owner) -> OwnerReport {
        OwnerReport {
            kind: owner.tool.as_str().to_owned(),
            owner: owner.owner.clone(),
            evidence: owner.evidence.clone(),
            advice: owner.advice.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerReport {
    pub name: String,
    /// True for an init container.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationReport {
    pub namespace: String,
    pub template: String,
    pub image: String,
    /// The Job created (live runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// `succeeded`, `failed`, `reused`, `dry-run`, `interrupted` or `not-started` (live runs
    /// only; a rollback migration: `succeeded`, `failed`, `interrupted` or `skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
}

impl MigrationReport {
    /// A planned migration, before it ran.
    pub fn planned(migration: &MigrationPlan) -> MigrationReport {
        MigrationReport {
            namespace: migration.template.namespace.clone(),
            template: migration.template.name.clone(),
            image: migration.image.clone(),
            job: None,
            status: None,
            reason: None,
            duration_seconds: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NearMissReport {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub reason: String,
}

impl Report {
    /// The report of a preview (offline or `--dry-run`).
    pub fn planned(plan: &Plan, dry_run: DryRun) -> Report {
        let result = if plan.is_unchanged() {
            "unchanged"
        } else {
            "planned"
        };
        Report {
            result: result.to_owned(),
            dry_run: Some(dry_run_name(dry_run).to_owned()),
            images: plan
                .images
                .iter()
                .map(|it| it.as_str().to_owned())
                .collect(),
            classifier: plan.classifier.to_string(),
            workloads: plan
                .workloads
                .iter()
                .map(|workload| WorkloadReport {
                    namespace: workload.id.namespace.clone(),
                    kind: workload.id.kind.to_string(),
                    name: workload.id.name.clone(),
                    status: if workload.changes.is_empty() {
                        "unchanged"
                    } else {
                        "planned"
                    }
                    .to_owned(),
                    reason: None,
                    containers: workload.changes.iter().map(container_report).collect(),
                    diagnosis: None,
                    owners: workload.owners.iter().map(OwnerReport::of).collect(),
                })
                .collect(),
            migrations: plan
                .migrations
                .iter()
                .map(MigrationReport::planned)
                .collect(),
            rollback_migrations: plan
                .rollback_migrations
                .iter()
                .map(MigrationReport::planned)
                .collect(),
            near_misses: plan
                .near_misses
                .iter()
                .map(|miss| NearMissReport {
                    namespace: miss.id.namespace.clone(),
                    kind: miss.id.kind.to_string(),
                    name: miss.id.name.clone(),
                    reason: miss.reason.clone(),
                })
                .collect(),
            identity: None,
            cause: None,
            reason: None,
            notes: Vec::new(),
            duration_seconds: None,
            files_written: None,
            clusters: Vec::new(),
        }
    }
}

fn container_report(change: &ContainerChange) -> ContainerReport {
    ContainerReport {
        name: change.container.clone(),
        init: change.list == ContainerList::InitContainers,
        from: change.from.clone(),
        to: change.to.clone(),
    }
}

pub fn dry_run_name(dry_run: DryRun) -> &'static str {
    match dry_run {
        DryRun::None => "none",
        DryRun::Client => "client",
        DryRun::Server => "server",
    }
}

/// Why a workload failed: one failing pod's Warning Events and last log lines (read by
/// `run::rollout::diagnose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub pod: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The pod's Warning Events, oldest first, one per reason and message.
    pub events: Vec<EventSummary>,
    /// `previous` (the last terminated run) or `current`; absent when no log could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs_of: Option<String>,
    /// The last log lines of that run.
    pub log_lines: Vec<String>,
    /// What could not be read (e.g. no `list events` permission), so its absence is explained.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    pub reason: String,
    pub message: String,
    /// How many times it happened (Events with the same reason and message summed).
    pub count: i32,
    /// When it last happened (RFC 3339), when the Event says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// Seconds rounded to milliseconds, as the report gives durations.
pub fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
