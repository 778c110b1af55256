//! The JSON report (`-o json`): one object per run. Field names are a contract: later versions add
//! fields, never rename them.

use serde::Serialize;

use crate::cli::DryRun;
use crate::plan::{ContainerChange, Plan};
use crate::workload::ContainerList;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `planned` or `unchanged` for previews.
    pub result: String,
    /// `client`, `server`, or null for a real run.
    pub dry_run: Option<String>,
    pub images: Vec<String>,
    pub classifier: String,
    pub workloads: Vec<WorkloadReport>,
    pub migrations: Vec<MigrationReport>,
    pub near_misses: Vec<NearMissReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// `planned` or `unchanged` in a preview.
    pub status: String,
    pub containers: Vec<ContainerReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerReport {
    pub name: String,
    /// True for an init container.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationReport {
    pub namespace: String,
    pub template: String,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
                    containers: workload.changes.iter().map(container_report).collect(),
                })
                .collect(),
            migrations: plan
                .migrations
                .iter()
                .map(|migration| MigrationReport {
                    namespace: migration.template.namespace.clone(),
                    template: migration.template.name.clone(),
                    image: migration.image.clone(),
                })
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
