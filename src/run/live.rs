//! A live run against the cluster: connect → discover → plan → preflight → migrate → patch →
//! watch → roll back → report. Each step hands the next only what it needs; `plan` is the same pure
//! function the offline preview uses.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use kube::core::Selector;
use serde_json::Value;

use crate::cli::{DryRun, OnInterrupt};
use crate::cluster::ClusterArgs;
use crate::cluster::access;
use crate::cluster::discover::{self, Found, Scope};
use crate::cluster::{self, Cluster};
use crate::config::Config;
use crate::error::{Exit, Failure};
use crate::plan::Namespaces;
use crate::plan::patch;
use crate::plan::{self, Plan};
use crate::report::Report;
use crate::run::lock;
use crate::run::migrate::{self, Outcome};
use crate::run::rollback::{self, Patched};
use crate::run::rollout::{self, Settings, Target, Verdict};
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Ending, Event, Sink};

/// Runs an update (or a `--dry-run` preview) against the cluster and prints the report. SIGINT
/// and SIGTERM stop it safely (see `signals`); the lock, when taken, is released however it ends.
pub async fn run(
    config: &Config,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Exit> {
    let interrupt = signals::install(sink.clone());
    let mut held = None;
    let res = update(config, cluster_args, sink, &interrupt, &mut held).await;
    if let Some(lock) = held {
        lock.release().await;
    }
    res
}

/// Stops `step` when the run is interrupted before it changed anything.
async fn before_changes<T>(
    interrupt: &Interrupt,
    step: &str,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        res = work => res,
        () = interrupt.wait() => Err(signals::interrupted_before_changes(step).into()),
    }
}

/// Lists what is in scope and plans the update.
async fn discover_and_plan(
    cluster: &Cluster,
    config: &Config,
    scope: &Scope,
) -> anyhow::Result<(Vec<Found>, Plan)> {
    let found = discover::discover(cluster, scope).await?;
    let plan = plan::plan_facts(
        &config.request,
        found
            .iter()
            .enumerate()
            .map(|(origin, it)| (origin, &it.facts)),
    )
    .map_err(|err| Failure::new(Exit::Failed, err.to_string()))?;
    if plan.is_empty() {
        let namespaces = match scope {
            Scope::All => Namespaces::All,
            Scope::Namespaces(listed) => Namespaces::Listed(listed.clone()),
        };
        let mut failure = plan::nothing_matched(&plan, &namespaces);
        if let Scope::Namespaces(listed) = scope {
            for hint in namespace_typos(cluster, listed).await {
                failure = failure.hint(hint);
            }
        }
        return Err(failure.into());
    }
    Ok((found, plan))
}

/// For a `-n` namespace that does not exist, the closest one that does ("did you mean `shop`?").
/// Best effort: a token that may not list namespaces (the usual CI token) gets no suggestion.
async fn namespace_typos(cluster: &Cluster, listed: &[String]) -> Vec<String> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: kube::Api<Namespace> = kube::Api::all(cluster.client.clone());
    let params = kube::api::ListParams::default();
    let Ok(Ok(existing)) = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        api.list_metadata(&params),
    )
    .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = existing
        .items
        .into_iter()
        .filter_map(|it| it.metadata.name)
        .collect();
    listed
        .iter()
        .filter(|it| !names.contains(it))
        .map(
            |typed| match plan::closest(typed, names.iter().map(String::as_str)) {
                Some(closest) => {
                    format!("namespace `{typed}` does not exist; did you mean `{closest}`?")
                }
                None => format!("namespace `{typed}` does not exist"),
            },
        )
        .collect()
}

/// A retried CI job after a success: every workload runs the target and every migration has a
/// completed copy for its image. Checked with reads only, before the lock, so nothing is written.
async fn rerun_with_nothing_to_do(
    cluster: &Cluster,
    found: &[Found],
    plan: &Plan,
) -> anyhow::Result<Option<Vec<migrate::Outcome>>> {
    if plan.changed_workloads().next().is_some() {
        return Ok(None);
    }
    let templates = templates_of(found, plan);
    migrate::all_reused(cluster, plan, &templates).await
}

/// The namespaces a plan writes to (changed workloads and migrations): where the lock is taken.
fn written_namespaces(plan: &Plan) -> BTreeSet<String> {
    plan.changed_workloads()
        .map(|it| it.id.namespace.clone())
        .chain(
            plan.migrations
                .iter()
                .map(|it| it.template.namespace.clone()),
        )
        .collect()
}

async fn update(
    config: &Config,
    cluster_args: &ClusterArgs,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
    held: &mut Option<lock::Lock>,
) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + config.timeout;
    let cluster = before_changes(interrupt, "while connecting", async {
        let cluster = cluster::connect(cluster_args).await?;
        let identity = cluster::whoami(&cluster).await?;
        Ok((cluster, identity))
    });
    let (cluster, identity) = cluster.await?;
    if config.verbose > 0 {
        sink.event(Event::Note(&format!(
            "Connected to {} as {identity}",
            cluster.server
        )));
    }
    let scope = match &config.namespaces {
        Namespaces::All => Scope::All,
        Namespaces::Listed(listed) => Scope::Namespaces(listed.clone()),
        Namespaces::Default => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
    };
    let (mut found, mut plan) = before_changes(
        interrupt,
        "while discovering",
        discover_and_plan(&cluster, config, &scope),
    )
    .await?;
    let mut report = Report::planned(&plan, config.dry_run.unwrap_or(DryRun::None));
    report.identity = Some(identity.clone());
    if config.dry_run.is_none() {
        report.dry_run = None;
    }
    if config.dry_run == Some(DryRun::Client) {
        // The objects found are no longer needed: at 10,000 workloads they are most of the
        // memory the report's output would otherwise add to.
        drop(found);
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        return Ok(Exit::Success);
    }

    let server_dry_run = config.dry_run == Some(DryRun::Server);
    let lock_timeout = config.lock_timeout.filter(|_| !server_dry_run);
    let mut needs = access::needs(&plan);
    if lock_timeout.is_some() && !plan.is_unchanged() {
        needs.extend(access::lock_needs(
            &written_namespaces(&plan),
            &crate::run::lock::lease_name(&plan.classifier),
        ));
    }
    before_changes(
        interrupt,
        "during the preflight",
        access::preflight(&cluster, &needs),
    )
    .await?;
    if plan.is_unchanged() {
        report.result = "unchanged".to_owned();
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        return Ok(Exit::Success);
    }
    if !server_dry_run
        && let Some(outcomes) = rerun_with_nothing_to_do(&cluster, &found, &plan).await?
    {
        record_migrations(&mut report, &outcomes);
        report.result = "unchanged".to_owned();
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        return Ok(Exit::Success);
    }
    if let Some(timeout) = lock_timeout {
        let lock = lock::acquire(
            &cluster,
            &written_namespaces(&plan),
            &config.request.classifier,
            timeout,
            sink,
            interrupt,
        )
        .await?;
        let waited = lock.waited;
        let lock = held.insert(lock);
        if waited {
            // Another run held the lock and may have changed what this one read: read again.
            (found, plan) = before_changes(
                interrupt,
                "while discovering",
                discover_and_plan(&cluster, config, &scope),
            )
            .await?;
            report = Report::planned(&plan, DryRun::None);
            report.dry_run = None;
            report.identity = Some(identity);
            lock.extend(&written_namespaces(&plan), timeout, sink, interrupt)
                .await?;
            if plan.is_unchanged() {
                report.result = "unchanged".to_owned();
                sink.end(Ending::Update {
                    report: &mut report,
                    plan: &plan,
                    format: config.output,
                    elapsed: started.elapsed(),
                })?;
                return Ok(Exit::Success);
            }
        }
    }
    signals::finish_with(
        "re-run the same command: completed migrations are reused and workloads already at the target are left alone",
    );

    let templates = templates_of(&found, &plan);
    let limits = migrate::Limits {
        fail_after: config.fail_after,
        deadline,
        server_dry_run,
        interrupt: interrupt.clone(),
        on_interrupt: config.on_interrupt,
    };
    let outcomes = migrate::run_all(&cluster, &plan, &templates, limits, sink).await?;
    record_migrations(&mut report, &outcomes);
    if interrupt.is_set() {
        sink.event(Event::Clear);
        report.result = "interrupted".to_owned();
        let copies = match config.on_interrupt {
            OnInterrupt::Keep => "running migration copies were kept and finish by themselves",
            OnInterrupt::Delete => "running migration copies were deleted",
        };
        report.reason = Some(format!(
            "interrupted during the migrations; no workload was changed; {copies}"
        ));
        set_changed(&mut report, &plan, "not-started", None);
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        sink.end(Ending::Message(&format!(
            "Interrupted: no workload was changed; {copies}"
        )))?;
        return Ok(Exit::Interrupted);
    }
    if let Some(failed) = outcomes
        .iter()
        .find(|it| it.status == migrate::Status::Failed)
    {
        sink.event(Event::Clear);
        report.result = "migration-failed".to_owned();
        report.reason = Some(format!(
            "migration {} failed: {}",
            failed.job,
            failed.reason.as_deref().unwrap_or("unknown")
        ));
        set_changed(&mut report, &plan, "not-started", None);
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        sink.end(Ending::MigrationFailed(failed))?;
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
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        return Ok(Exit::Success);
    }
    let time = jiff::Timestamp::now().to_string();
    let mut patched: Vec<Patched> = Vec::new();
    for workload in plan.changed_workloads() {
        if interrupt.is_set() {
            break;
        }
        let body = patch::update(workload, &time);
        if let Err(err) = rollback::send(&cluster, &workload.id, &body, server_dry_run).await {
            if !patched.is_empty() && config.rollback {
                let settings = Settings {
                    fail_after: config.fail_after,
                    max_restarts: config.max_restarts,
                    deadline: deadline + config.rollback_grace(),
                };
                rollback::roll_back(&cluster, &patched, settings, sink).await;
            }
            return Err(err);
        }
        patched.push(Patched {
            id: workload.id.clone(),
            previous: patch::Previous::of(&workload.changes, &time),
            selector: selector_of(&found[workload.origin]),
        });
        if !server_dry_run {
            let images: Vec<String> = workload
                .changes
                .iter()
                .map(|it| format!("{}={}", it.container, it.to))
                .collect();
            signals::note(
                &rollout::key(&workload.id),
                &format!("patched ({}); rolling out", images.join(", ")),
            );
            signals::finish_with(&format!(
                "kubectl update rollback -c {} -n {}",
                config.request.classifier, workload.id.namespace
            ));
        }
    }
    if interrupt.is_set() && !server_dry_run {
        let states: Vec<String> = vec!["interrupted while patching".to_owned(); patched.len()];
        return interrupted_rollout(
            &cluster,
            config,
            &mut report,
            &plan,
            &patched,
            &states,
            sink,
            started,
            deadline,
        )
        .await;
    }
    if server_dry_run {
        if interrupt.is_set() {
            return Err(signals::interrupted_before_changes("during the server dry run").into());
        }
        report.result = "planned".to_owned();
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
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
    let (verdicts, culprits) =
        rollout::watch_with_culprits(&cluster, &targets, settings, sink, interrupt).await;
    if interrupt.is_set() {
        let states: Vec<String> = verdicts
            .iter()
            .map(|verdict| match verdict {
                Verdict::Done => "rolled out before the interrupt".to_owned(),
                Verdict::Failed(reason) => format!("failed: {reason}"),
                Verdict::Unfinished(state) => format!("stopped while rolling out: {state}"),
            })
            .collect();
        return interrupted_rollout(
            &cluster,
            config,
            &mut report,
            &plan,
            &patched,
            &states,
            sink,
            started,
            deadline,
        )
        .await;
    }
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
        sink.event(Event::Clear);
        report.result = "succeeded".to_owned();
        set_changed(&mut report, &plan, "succeeded", None);
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
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
    // Why it failed, read before the rollback replaces the failing pods.
    diagnose_failed(&cluster, &mut report, &plan, &targets, &verdicts, culprits).await;
    if !plan.migrations.is_empty() {
        report
            .notes
            .push("migrations are not reversed by a rollback".to_owned());
    }
    if !config.rollback {
        sink.event(Event::Clear);
        report.result = "failed".to_owned();
        sink.end(Ending::Update {
            report: &mut report,
            plan: &plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        sink.end(Ending::RolloutFailed {
            failure: &failure,
            rolled_back: false,
        })?;
        sink.end(Ending::Diagnoses(&report))?;
        return Ok(Exit::RolloutFailed);
    }
    sink.event(Event::Note(&format!(
        "Rollout failed; rolling back {} workload(s)",
        patched.len()
    )));
    // --timeout bounds the whole run: the rollback gets what is left of it plus a grace.
    let rollback_settings = Settings {
        deadline: deadline + config.rollback_grace(),
        ..settings
    };
    let results = rollback::roll_back(&cluster, &patched, rollback_settings, sink).await;
    sink.event(Event::Clear);
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
    sink.end(Ending::Update {
        report: &mut report,
        plan: &plan,
        format: config.output,
        elapsed: started.elapsed(),
    })?;
    if complete {
        sink.end(Ending::RolloutFailed {
            failure: &failure,
            rolled_back: true,
        })?;
        sink.end(Ending::Diagnoses(&report))?;
        Ok(Exit::RolloutFailed)
    } else {
        sink.end(Ending::RollbackFailed {
            report: &report,
            patched: &patched,
        })?;
        sink.end(Ending::Diagnoses(&report))?;
        Ok(Exit::RollbackFailed)
    }
}

/// Reads, for one failing pod of each failed workload (of each unfinished one when none failed:
/// `--timeout`), its Warning Events and last log lines into the report.
async fn diagnose_failed(
    cluster: &Cluster,
    report: &mut Report,
    plan: &Plan,
    targets: &[Target],
    verdicts: &[Verdict],
    culprits: Vec<Option<rollout::diagnose::Culprit>>,
) {
    let any_failed = verdicts.iter().any(|it| matches!(it, Verdict::Failed(_)));
    let work = targets
        .iter()
        .zip(verdicts)
        .zip(culprits)
        .filter(|((_, verdict), _)| match verdict {
            Verdict::Failed(_) => true,
            Verdict::Unfinished(_) => !any_failed,
            Verdict::Done => false,
        })
        .map(|((target, _), culprit)| async move {
            let culprit = match culprit {
                Some(culprit) => Some(culprit),
                None => rollout::diagnose::find_culprit(cluster, target).await,
            };
            let diagnosis = match culprit {
                Some(culprit) => {
                    Some(rollout::diagnose::diagnose(cluster, &target.id.namespace, &culprit).await)
                }
                None => None,
            };
            (target.id.clone(), diagnosis)
        });
    for (id, diagnosis) in futures::future::join_all(work).await {
        if let Some(idx) = plan.workloads.iter().position(|it| it.id == id) {
            report.workloads[idx].diagnosis = diagnosis;
        }
    }
}

/// An interrupt after workloads were patched: roll back what this run patched (unless
/// `--no-rollback`), report `interrupted` and exit 130. `states` says where each patched workload
/// stood, in the order of `patched`.
#[allow(
    clippy::too_many_arguments,
    reason = "the run's context, passed through"
)]
async fn interrupted_rollout(
    cluster: &Cluster,
    config: &Config,
    report: &mut Report,
    plan: &Plan,
    patched: &[Patched],
    states: &[String],
    sink: &Arc<dyn Sink>,
    started: Instant,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Exit> {
    for workload in plan.changed_workloads() {
        set_one(
            report,
            plan,
            &workload.id,
            "not-started",
            Some("interrupted before it was patched".to_owned()),
        );
    }
    for (workload, state) in patched.iter().zip(states) {
        set_one(
            report,
            plan,
            &workload.id,
            "interrupted",
            Some(state.clone()),
        );
    }
    report.result = "interrupted".to_owned();
    if !plan.migrations.is_empty() {
        report
            .notes
            .push("migrations are not reversed by a rollback".to_owned());
    }
    if !config.rollback || patched.is_empty() {
        sink.event(Event::Clear);
        report.reason = Some("interrupted during the rollout; nothing was rolled back".to_owned());
        sink.end(Ending::Update {
            report,
            plan,
            format: config.output,
            elapsed: started.elapsed(),
        })?;
        if !patched.is_empty() {
            sink.end(Ending::Message(&format!(
                "Interrupted: {} patched workload(s) left as they are (--no-rollback); to undo: kubectl update rollback -c {}",
                patched.len(),
                config.request.classifier
            )))?;
        }
        return Ok(Exit::Interrupted);
    }
    sink.event(Event::Note(&format!(
        "Interrupted: rolling back the {} workload(s) this run patched (a second signal exits at once)",
        patched.len()
    )));
    let settings = Settings {
        fail_after: config.fail_after,
        max_restarts: config.max_restarts,
        deadline: deadline + config.rollback_grace(),
    };
    let results = rollback::roll_back(cluster, patched, settings, sink).await;
    sink.event(Event::Clear);
    let mut complete = true;
    for (workload, result) in patched.iter().zip(&results) {
        match result {
            Ok(()) => {
                signals::note(&rollout::key(&workload.id), "rolled back");
                set_one(report, plan, &workload.id, "rolled-back", None);
            }
            Err(reason) => {
                complete = false;
                set_one(
                    report,
                    plan,
                    &workload.id,
                    "rollback-failed",
                    Some(reason.clone()),
                );
            }
        }
    }
    report.reason = Some(if complete {
        "interrupted during the rollout; every patched workload was rolled back".to_owned()
    } else {
        "interrupted during the rollout; the rollback did not finish".to_owned()
    });
    sink.end(Ending::Update {
        report,
        plan,
        format: config.output,
        elapsed: started.elapsed(),
    })?;
    if complete {
        sink.end(Ending::Message(
            "Interrupted: every workload this run patched was rolled back",
        ))?;
    } else {
        sink.end(Ending::RollbackFailed { report, patched })?;
    }
    Ok(Exit::Interrupted)
}

/// The whole Job of each planned migration, by origin: discovery keeps Jobs whole.
fn templates_of(found: &[Found], plan: &Plan) -> BTreeMap<usize, Value> {
    plan.migrations
        .iter()
        .filter_map(|it| Some((it.origin, found[it.origin].object.clone()?)))
        .collect()
}

/// The pod selector of a workload, for finding its pods.
pub fn selector_of(found: &Found) -> Option<Selector> {
    found.facts.selector()
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
                        migrate::Status::Interrupted => "interrupted",
                    }
                    .to_owned(),
                );
                migration.reason = outcome.reason.clone();
                migration.duration_seconds =
                    Some(crate::report::round(outcome.duration.as_secs_f64()));
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
    id: &crate::plan::workload::ObjectId,
    status: &str,
    reason: Option<String>,
) {
    if let Some(idx) = plan.workloads.iter().position(|it| &it.id == id) {
        report.workloads[idx].status = status.to_owned();
        report.workloads[idx].reason = reason;
    }
}

fn report_reason(
    report: &Report,
    plan: &Plan,
    id: &crate::plan::workload::ObjectId,
) -> Option<String> {
    plan.workloads
        .iter()
        .position(|it| &it.id == id)
        .and_then(|idx| report.workloads[idx].reason.clone())
}
