//! `kubectl update rollback`: restores the images recorded in `kubectl-update.io/previous` on a
//! classifier's workloads, with the same preflight, watching and output as an update. Never
//! touches a workload without a record, nor anything but the recorded images.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use crate::cli::{DryRun, RollbackArgs};
use crate::cluster;
use crate::cluster::ClusterArgs;
use crate::cluster::access;
use crate::cluster::discover::{self, Found, Scope};
use crate::error::{Exit, Failure};
use crate::plan::annotations::{Classifier, OptIn};
use crate::plan::patch::{self, Patched};
use crate::report::Report;
use crate::run::audit::Audit;
use crate::run::live::selector_of;
use crate::run::rollback;
use crate::run::rollout::Settings;
use crate::run::sink::{Ending, Event, Sink};

/// `kubectl update rollback`: restores the images recorded in `kubectl-update.io/previous` on the
/// classifier's workloads, with the same watching and output as an update.
pub async fn rollback_command(
    args: &RollbackArgs,
    cause: Option<String>,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let cluster = cluster::connect(cluster_args).await?;
    let identity = cluster::whoami(&cluster).await?;
    let scope = match (args.all_namespaces, args.namespaces.is_empty()) {
        (true, _) => Scope::All,
        (false, false) => Scope::Namespaces(args.namespaces.clone()),
        (false, true) => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
    };
    let found = discover::discover(&cluster, &scope).await?;
    let patched = records(&found, &args.classifier)?;
    if patched.is_empty() {
        return Err(nothing_to_roll_back(&args.classifier).into());
    }
    let mut report = planned_report(args, &patched, identity);
    report.cause.clone_from(&cause);
    let report_now = |report: &mut Report| {
        sink.end(Ending::Rollback {
            report,
            format: args.output,
            elapsed: started.elapsed(),
        })
    };
    match args.dry_run {
        Some(DryRun::Client) => {
            report_now(&mut report)?;
            return Ok(Exit::Success);
        }
        Some(DryRun::Server) => {
            for workload in &patched {
                let body = patch::rollback(workload.id.kind, &workload.previous, cause.as_deref());
                rollback::send(&cluster, &workload.id, &body, true).await?;
            }
            report_now(&mut report)?;
            return Ok(Exit::Success);
        }
        Some(DryRun::None) | None => (),
    }
    let needs: BTreeSet<access::Need> = patched
        .iter()
        .flat_map(|it| access::workload_needs(&it.id))
        .collect();
    access::preflight(&cluster, &needs.into_iter().collect::<Vec<_>>()).await?;
    let limits = crate::config::rollback_limits(args);
    let settings = Settings::until(limits, tokio::time::Instant::now() + limits.timeout);
    let results =
        rollback::roll_back(&cluster, &patched, settings, &Audit::new(cause, true), sink).await;
    sink.event(Event::Clear);
    let complete = record_results(&mut report, &results);
    report_now(&mut report)?;
    if complete {
        return Ok(Exit::Success);
    }
    sink.end(Ending::RollbackFailed {
        report: &report,
        patched: &patched,
    })?;
    Ok(Exit::RollbackFailed)
}

/// No workload to roll back: an error, with where records come from.
fn nothing_to_roll_back(classifier: &Classifier) -> Failure {
    Failure::new(
        Exit::Failed,
        format!(
            "nothing to roll back: no workload listing classifier `{classifier}` carries a {} record",
            patch::PREVIOUS
        ),
    )
    .hint("a record is written by each update and removed by a rollback")
}

/// Every workload listing `classifier` that carries a record of its previous images.
fn records(found: &[Found], classifier: &Classifier) -> anyhow::Result<Vec<Patched>> {
    let mut patched = Vec::new();
    for item in found {
        let facts = &item.facts;
        if facts.kind.is_migration_template() {
            continue;
        }
        let Ok(Some(opt_in)) = OptIn::from_facts(facts) else {
            continue;
        };
        if !opt_in.lists(classifier) {
            continue;
        }
        let Some(record) = facts.annotation(patch::PREVIOUS) else {
            continue;
        };
        let previous: patch::Previous = serde_json::from_str(record).map_err(|err| {
            Failure::new(
                Exit::Failed,
                format!(
                    "{}/{}: annotation {} is unreadable: {err}",
                    facts.namespace,
                    facts.name,
                    patch::PREVIOUS
                ),
            )
        })?;
        patched.push(Patched {
            id: facts.id(),
            previous,
            selector: selector_of(item),
            uid: facts.uid.as_deref().map(str::to_owned),
        });
    }
    Ok(patched)
}

/// The report of the rollback before it runs: every workload `planned`, from the images it runs
/// to the recorded ones.
fn planned_report(args: &RollbackArgs, patched: &[Patched], identity: String) -> Report {
    Report {
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
                diagnosis: None,
                owners: Vec::new(),
            })
            .collect(),
        migrations: Vec::new(),
        rollback_migrations: Vec::new(),
        near_misses: Vec::new(),
        identity: Some(identity),
        cause: None,
        reason: None,
        notes: Vec::new(),
        duration_seconds: None,
        files_written: None,
        clusters: Vec::new(),
    }
}

/// Each workload's outcome, and the run's; whether every rollback completed.
fn record_results(report: &mut Report, results: &[Result<(), String>]) -> bool {
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
    complete
}
