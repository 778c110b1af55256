//! A live run against the cluster: connect → discover → plan → preflight → migrate → patch →
//! watch → roll back → report. Each step hands the next only what it needs; `plan` is the same pure
//! function the offline preview uses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::Selector;
use serde_json::Value;

use crate::annotations::OptIn;
use crate::cli::DryRun;
use crate::cli::RollbackArgs;
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
use crate::workload;
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
    let limits = migrate::Limits {
        fail_after: config.fail_after,
        deadline,
        server_dry_run,
    };
    let outcomes = migrate::run_all(&cluster, &plan, &templates, limits, &progress).await?;
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

    if plan.changed_workloads().next().is_none() {
        // Every workload already runs the target: only the migrations were left to check, and a
        // retried CI job finds them done.
        let all_reused = outcomes
            .iter()
            .all(|it| it.status == migrate::Status::Reused);
        report.result = if server_dry_run {
            "planned"
        } else if all_reused {
            "unchanged"
        } else {
            "succeeded"
        }
        .to_owned();
        output::live_report(&report, &plan, config.output, started.elapsed())?;
        return Ok(Exit::Success);
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

/// `kubectl update rollback`: restores the images recorded in `kubectl-update.io/previous` on the
/// classifier's workloads, with the same watching and output as an update.
pub async fn rollback_command(
    args: &RollbackArgs,
    cluster_args: &ClusterArgs,
    verbose: u8,
) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let progress = Arc::new(Progress::new(verbose > 0));
    let cluster = cluster::connect(cluster_args).await?;
    let identity = cluster::whoami(&cluster).await?;
    let scope = match (args.all_namespaces, args.namespaces.is_empty()) {
        (true, _) => Scope::All,
        (false, false) => Scope::Namespaces(args.namespaces.clone()),
        (false, true) => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
    };
    let found = discover::discover(&cluster, &scope).await?;
    let mut patched = Vec::new();
    for item in &found {
        if item.kind.is_migration_template() {
            continue;
        }
        let Ok(Some(opt_in)) = OptIn::from_annotations(workload::annotations_of(&item.object))
        else {
            continue;
        };
        if !opt_in.lists(&args.classifier) {
            continue;
        }
        let Some(record) = workload::annotations_of(&item.object)
            .and_then(|it| it.get(patch::PREVIOUS))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let previous: patch::Previous = serde_json::from_str(record).map_err(|err| {
            Failure::new(
                Exit::Failed,
                format!(
                    "{}/{}: annotation {} is unreadable: {err}",
                    item.namespace,
                    workload::name_of(&item.object),
                    patch::PREVIOUS
                ),
            )
        })?;
        let id = crate::workload::ObjectId {
            namespace: item.namespace.clone(),
            kind: item.kind,
            name: workload::name_of(&item.object).to_owned(),
        };
        patched.push(Patched {
            id,
            previous,
            selector: selector_of(item),
        });
    }
    if patched.is_empty() {
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "nothing to roll back: no workload listing classifier `{}` carries a {} record",
                args.classifier,
                patch::PREVIOUS
            ),
        )
        .hint("a record is written by each update and removed by a rollback")
        .into());
    }
    let mut report = Report {
        result: "planned".to_owned(),
        dry_run: args
            .dry_run
            .filter(|it| *it != DryRun::None)
            .map(|it| crate::report::dry_run_name(it).to_owned()),
        images: Vec::new(),
        classifier: args.classifier.to_string(),
        workloads: patched
            .iter()
            .map(|it| crate::report::WorkloadReport {
                namespace: it.id.namespace.clone(),
                kind: it.id.kind.to_string(),
                name: it.id.name.clone(),
                status: "planned".to_owned(),
                reason: None,
                containers: it
                    .previous
                    .containers
                    .iter()
                    .map(|c| crate::report::ContainerReport {
                        name: c.name.clone(),
                        init: c.init,
                        from: c.target.clone(),
                        to: c.previous.clone(),
                    })
                    .collect(),
            })
            .collect(),
        migrations: Vec::new(),
        near_misses: Vec::new(),
        identity: Some(identity),
        reason: None,
        notes: Vec::new(),
        duration_seconds: None,
    };
    match args.dry_run {
        Some(DryRun::Client) => {
            output::rollback_report(&report, args.output, started.elapsed())?;
            return Ok(Exit::Success);
        }
        Some(DryRun::Server) => {
            for workload in &patched {
                rollback::send(
                    &cluster,
                    &workload.id,
                    &patch::rollback(workload.id.kind, &workload.previous),
                    true,
                )
                .await?;
            }
            output::rollback_report(&report, args.output, started.elapsed())?;
            return Ok(Exit::Success);
        }
        Some(DryRun::None) | None => (),
    }
    let needs: Vec<access::Need> = patched
        .iter()
        .flat_map(|it| access::workload_needs(&it.id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    access::preflight(&cluster, &needs).await?;
    let settings = Settings {
        fail_after: args.fail_after,
        max_restarts: args.max_restarts,
        deadline: tokio::time::Instant::now() + args.timeout,
    };
    let results = rollback::roll_back(&cluster, &patched, settings, &progress).await;
    progress.clear();
    let mut complete = true;
    for (idx, result) in results.iter().enumerate() {
        report.workloads[idx].status = if result.is_ok() {
            "rolled-back"
        } else {
            "rollback-failed"
        }
        .to_owned();
        if let Err(reason) = result {
            complete = false;
            report.workloads[idx].reason = Some(reason.clone());
        }
    }
    report.result = if complete {
        "rolled-back"
    } else {
        "rollback-failed"
    }
    .to_owned();
    output::rollback_report(&report, args.output, started.elapsed())?;
    if complete {
        Ok(Exit::Success)
    } else {
        output::rollback_failure(&report, &patched)?;
        Ok(Exit::RollbackFailed)
    }
}
