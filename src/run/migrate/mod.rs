//! Migrations: run a copy of each annotated Job template with the new image before any workload
//! changes, in `kubectl-update.io/order` groups (equal orders in parallel), streaming the pods' logs.
//! A completed copy for the same template and image (a retried CI job) is reused, not run again,
//! and a running one is followed, but only when it is exactly the copy this run would create
//! (`migration::difference`): a Job someone else put under that name is never reused or followed.
//! Rollback migrations run through the same `run_all`, after a rollback (`live::undo`).
//! Never changes a workload or a template.

mod job;
mod logs;
mod one;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use serde_json::Value;

use crate::cli::OnInterrupt;
use crate::cluster::{Call, Cluster, api_failure};
use crate::plan::{MigrationPlan, Plan, migration};
use crate::run::migrate::job::{JobState, get_job, job_state};
use crate::run::migrate::one::run_one;
use crate::run::outcome::{Outcome, Status};
use crate::run::signals::Interrupt;
use crate::run::sink::{Event, Sink};

/// How long a migration may take, how long its pods may be stuck, and what stops it.
#[derive(Debug, Clone)]
pub struct Limits {
    pub fail_after: Duration,
    pub deadline: tokio::time::Instant,
    pub server_dry_run: bool,
    pub interrupt: Interrupt,
    pub on_interrupt: OnInterrupt,
    /// Whether a completed copy for the same image is reused (forward migrations) or deleted and
    /// run again (rollback migrations: each rollback must undo again).
    pub reuse: bool,
}

/// Runs `migrations` (the plan's forward or its rollback ones), group by group; stops after the
/// first group with a failure.
pub async fn run_all(
    cluster: &Cluster,
    migrations: &[MigrationPlan],
    templates: &BTreeMap<usize, Value>,
    limits: Limits,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut groups: BTreeMap<i64, Vec<&MigrationPlan>> = BTreeMap::new();
    for migration in migrations {
        groups
            .entry(migration::order(&templates[&migration.origin]))
            .or_default()
            .push(migration);
    }
    let mut res = Vec::new();
    for group in groups.into_values() {
        if limits.interrupt.is_set() {
            break;
        }
        let runs = group.iter().map(|migration| {
            run_one(
                cluster,
                migration,
                &templates[&migration.origin],
                limits.clone(),
                sink,
            )
        });
        let outcomes = futures::future::try_join_all(runs).await?;
        let failed = outcomes
            .iter()
            .any(|it| matches!(it.status, Status::Failed | Status::Interrupted));
        res.extend(outcomes);
        if failed {
            break;
        }
    }
    Ok(res)
}

/// Deletes this run's completed forward copies (`namespace`, `job`) once rollback migrations
/// undid what they did, so that a retried run runs them again instead of reusing them. A copy that
/// cannot be deleted is told and left.
pub async fn delete_copies(cluster: &Cluster, copies: &[(String, String)], sink: &Arc<dyn Sink>) {
    for (namespace, name) in copies {
        let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), namespace);
        if let Err(err) = job::delete(&jobs, name).await {
            let call = Call {
                verb: "delete",
                group: "batch",
                resource: "jobs",
                namespace: Some(namespace.clone()),
            };
            let error = api_failure(&err, Some(&call), &cluster.server).to_string();
            sink.event(Event::MigrationNotDeleted {
                job: name,
                error: &error,
            });
        }
    }
}

/// When every planned migration already has a completed copy for its image (a retried CI job),
/// their outcomes as `Reused`; read-only, so a re-run that has nothing to do writes nothing.
pub async fn all_reused(
    cluster: &Cluster,
    plan: &Plan,
    templates: &BTreeMap<usize, Value>,
) -> anyhow::Result<Option<Vec<Outcome>>> {
    let mut res = Vec::new();
    for migration in &plan.migrations {
        let namespace = migration.template.namespace.clone();
        let body = migration::job(&templates[&migration.origin], migration);
        let name = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let existing = get_job(cluster, &namespace, &name).await.map_err(|err| {
            let call = Call {
                verb: "get",
                group: "batch",
                resource: "jobs",
                namespace: Some(namespace.clone()),
            };
            api_failure(&err, Some(&call), &cluster.server)
        })?;
        let reusable = existing.is_some_and(|(job, stored)| {
            job_state(&job) == JobState::Complete
                && migration::difference(&stored, &templates[&migration.origin], migration)
                    .is_none()
        });
        if !reusable {
            return Ok(None);
        }
        res.push(Outcome {
            namespace,
            template: migration.template.name.clone(),
            job: name,
            status: Status::Reused,
            duration: Duration::ZERO,
            reason: None,
            last_lines: Vec::new(),
        });
    }
    Ok(Some(res))
}

#[cfg(test)]
mod tests;
