//! A live run against the cluster: connect → discover → plan → preflight → migrate → patch →
//! watch → roll back → report. Each step hands the next only what it needs; `plan` is the same pure
//! function the offline preview uses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::Selector;
use serde_json::Value;

use crate::cli::DryRun;
use crate::cluster;
use crate::config::{ClusterArgs, Config, Namespaces};
use crate::discover::{self, Found, Scope};
use crate::error::{Exit, Failure};
use crate::migrate::{self, Outcome};
use crate::output::{self, progress::Progress};
use crate::plan::{self, Candidate, Plan};
use crate::report::Report;
use crate::rollback::{self, Patched};
use crate::rollout::{self, Settings, Target, Verdict};
use crate::{access, patch};

/// Runs an update (or a `--dry-run` preview) against the cluster and prints the report.
pub async fn run(config: &Config, cluster_args: &ClusterArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + config.timeout;
    let progress = Arc::new(Progress::new(config.verbose > 0));
    let cluster = cluster::connect(cluster_args).await?;
    let identity = cluster::whoami(&cluster).await?;
    if config.verbose > 0 {
        progress.say(&format!("Connected to {} as {identity}", cluster.server));
    }
    let scope = match &config.namespaces {
        Namespaces::All => Scope::All,
        Namespaces::Listed(listed) => Scope::Namespaces(listed.clone()),
        Namespaces::Default => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
    };
    let found = discover::discover(&cluster, &scope).await?;
    let candidates: Vec<Candidate<'_>> = found
        .iter()
        .enumerate()
        .map(|(origin, it)| Candidate {
            origin,
            namespace: &it.namespace,
            kind: it.kind,
            object: &it.object,
        })
        .collect();
    let plan = plan::plan(&config.request, &candidates)
        .map_err(|err| Failure::new(Exit::Failed, err.to_string()))?;
    if plan.is_empty() {
        let namespaces = match &scope {
            Scope::All => Namespaces::All,
            Scope::Namespaces(listed) => Namespaces::Listed(listed.clone()),
        };
        return Err(crate::report::nothing_matched(&plan, &namespaces).into());
    }
    let mut report = Report::planned(&plan, config.dry_run.unwrap_or(DryRun::None));
    report.identity = Some(identity);
    if config.dry_run.is_none() {
        report.dry_run = None;
    }
    if config.dry_run == Some(DryRun::Client) {
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        return Ok(Exit::Success);
    }

    access::preflight(&cluster, &access::needs(&plan)).await?;
    if plan.is_unchanged() {
        report.result = "unchanged".to_owned();
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        return Ok(Exit::Success);
    }
    let server_dry_run = config.dry_run == Some(DryRun::Server);

    let templates: BTreeMap<usize, Value> = plan
        .migrations
        .iter()
        .map(|it| (it.origin, found[it.origin].object.clone()))
        .collect();
    let outcomes = migrate::run_all(&cluster, &plan, &templates, server_dry_run, &progress).await?;
    record_migrations(&mut report, &outcomes);
    if let Some(failed) = outcomes
        .iter()
        .find(|it| it.status == migrate::Status::Failed)
    {
        progress.clear();
        report.result = "migration-failed".to_owned();
        report.reason = Some(format!(
            "migration {} failed: {}",
            failed.job,
            failed.reason.as_deref().unwrap_or("unknown")
        ));
        set_changed(&mut report, &plan, "not-started", None);
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        output::migration_failure(failed)?;
        return Ok(Exit::MigrationFailed);
    }

    let time = jiff::Timestamp::now().to_string();
    let mut patched: Vec<Patched> = Vec::new();
    for workload in plan.changed_workloads() {
        let body = patch::update(workload, &time);
        if let Err(err) = rollback::send(&cluster, &workload.id, &body, server_dry_run).await {
            if !patched.is_empty() && config.rollback {
                let settings = Settings {
                    fail_after: config.fail_after,
                    max_restarts: config.max_restarts,
                    deadline: tokio::time::Instant::now() + config.timeout,
                };
                rollback::roll_back(&cluster, &patched, settings, &progress).await;
            }
            return Err(err);
        }
        patched.push(Patched {
            id: workload.id.clone(),
            previous: patch::Previous::of(&workload.changes, &time),
            selector: selector_of(&found[workload.origin]),
        });
    }
    if server_dry_run {
        report.result = "planned".to_owned();
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        return Ok(Exit::Success);
    }

    let targets: Vec<Target> = plan
        .changed_workloads()
        .map(|workload| Target {
            id: workload.id.clone(),
            expected: workload
                .changes
                .iter()
                .map(|it| (it.container.clone(), it.to.clone()))
                .collect(),
            selector: selector_of(&found[workload.origin]),
        })
        .collect();
    let settings = Settings {
        fail_after: config.fail_after,
        max_restarts: config.max_restarts,
        deadline,
    };
    let verdicts = rollout::watch(&cluster.client, &targets, settings, &progress).await;
    // A pod failure explains more than a workload that was merely still rolling out when it
    // happened, so failures are named first.
    let failed = verdicts
        .iter()
        .zip(&targets)
        .find_map(|(verdict, target)| match verdict {
            Verdict::Failed(reason) => Some(format!("{}: {reason}", rollout::key(&target.id))),
            Verdict::Done | Verdict::Unfinished(_) => None,
        });
    let unfinished = verdicts
        .iter()
        .zip(&targets)
        .find_map(|(verdict, target)| match verdict {
            Verdict::Unfinished(state) => Some(format!(
                "{}: not rolled out within --timeout {}: {state}",
                rollout::key(&target.id),
                humantime::format_duration(config.timeout)
            )),
            Verdict::Done | Verdict::Failed(_) => None,
        });
    let failure = failed.or(unfinished);
    let Some(failure) = failure else {
        progress.clear();
        report.result = "succeeded".to_owned();
        set_changed(&mut report, &plan, "succeeded", None);
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        return Ok(Exit::Success);
    };
    for ((verdict, target), workload) in verdicts.iter().zip(&targets).zip(plan.changed_workloads())
    {
        let (status, reason) = match verdict {
            Verdict::Done => ("succeeded", None),
            Verdict::Failed(reason) => ("failed", Some(reason.clone())),
            Verdict::Unfinished(state) => (
                "interrupted",
                Some(format!("stopped while rolling out: {state}")),
            ),
        };
        set_one(&mut report, &plan, &workload.id, status, reason);
        debug_assert_eq!(target.id, workload.id);
    }
    report.reason = Some(failure.clone());
    if !plan.migrations.is_empty() {
        report
            .notes
            .push("migrations are not reversed by a rollback".to_owned());
    }
    if !config.rollback {
        progress.clear();
        report.result = "failed".to_owned();
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        output::rollout_failure(&failure, false)?;
        return Ok(Exit::RolloutFailed);
    }
    progress.say(&format!(
        "Rollout failed: {failure}; rolling back {} workload(s)",
        patched.len()
    ));
    let rollback_settings = Settings {
        deadline: tokio::time::Instant::now() + config.timeout,
        ..settings
    };
    let results = rollback::roll_back(&cluster, &patched, rollback_settings, &progress).await;
    progress.clear();
    let mut complete = true;
    for (workload, result) in patched.iter().zip(&results) {
        match result {
            Ok(()) => {
                let reason = report_reason(&report, &plan, &workload.id);
                set_one(&mut report, &plan, &workload.id, "rolled-back", reason);
            }
            Err(reason) => {
                complete = false;
                set_one(
                    &mut report,
                    &plan,
                    &workload.id,
                    "rollback-failed",
                    Some(reason.clone()),
                );
            }
        }
    }
    report.result = if complete {
        "rolled-back"
    } else {
        "rollback-failed"
    }
    .to_owned();
    output::live_report(&report, &plan, config.output, started.elapsed())?;
    if complete {
        output::rollout_failure(&failure, true)?;
        Ok(Exit::RolloutFailed)
    } else {
        output::rollback_failure(&report, &patched)?;
        Ok(Exit::RollbackFailed)
    }
}

/// The pod selector of a workload, for finding its pods.
fn selector_of(found: &Found) -> Option<Selector> {
    let selector: LabelSelector =
        serde_json::from_value(found.object.pointer("/spec/selector")?.clone()).ok()?;
    Selector::try_from(selector).ok()
}

fn record_migrations(report: &mut Report, outcomes: &[Outcome]) {
    for migration in &mut report.migrations {
        let outcome = outcomes
            .iter()
            .find(|it| it.namespace == migration.namespace && it.template == migration.template);
        match outcome {
            Some(outcome) => {
                migration.job = Some(outcome.job.clone());
                migration.status = Some(
                    match outcome.status {
                        migrate::Status::Succeeded => "succeeded",
                        migrate::Status::Failed => "failed",
                        migrate::Status::Reused => "reused",
                        migrate::Status::DryRun => "dry-run",
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

fn set_changed(report: &mut Report, plan: &Plan, status: &str, reason: Option<String>) {
    for workload in plan.changed_workloads() {
        set_one(report, plan, &workload.id, status, reason.clone());
    }
}

fn set_one(
    report: &mut Report,
    plan: &Plan,
    id: &crate::workload::ObjectId,
    status: &str,
    reason: Option<String>,
) {
    if let Some(idx) = plan.workloads.iter().position(|it| &it.id == id) {
        report.workloads[idx].status = status.to_owned();
        report.workloads[idx].reason = reason;
    }
}

fn report_reason(report: &Report, plan: &Plan, id: &crate::workload::ObjectId) -> Option<String> {
    plan.workloads
        .iter()
        .position(|it| &it.id == id)
        .and_then(|idx| report.workloads[idx].reason.clone())
}

pub fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
