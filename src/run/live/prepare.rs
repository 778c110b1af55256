//! The steps before anything is written: connect, discover and plan, the preflight, the check for
//! a re-run with nothing to do, and the lock. An interrupt here stops the run with nothing changed.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::DryRun;
use crate::cluster::discover::{self, Found, Scope};
use crate::cluster::{self, Cluster, ClusterArgs, access};
use crate::config::Config;
use crate::error::{Exit, Failure};
use crate::plan::{self, Namespaces, Plan};
use crate::report::Report;
use crate::run::audit::Audit;
use crate::run::live::{Planned, Run};
use crate::run::lock::{self, Lock};
use crate::run::migrate;
use crate::run::outcome::Outcome;
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Event, Sink};

impl<'a> Run<'a> {
    /// Connects, says as whom, and settles the namespaces in scope.
    pub(super) async fn connect(
        config: &'a Config,
        cluster_args: &ClusterArgs,
        sink: &'a Arc<dyn Sink>,
        interrupt: &'a Interrupt,
    ) -> anyhow::Result<Run<'a>> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + config.limits.timeout;
        let connected = before_changes(interrupt, "while connecting", async {
            let cluster = cluster::connect(cluster_args).await?;
            let identity = cluster::whoami(&cluster).await?;
            Ok((cluster, identity))
        });
        let (cluster, identity) = connected.await?;
        if config.verbose > 0 {
            sink.event(Event::Connected {
                server: &cluster.server,
                identity: &identity,
            });
        }
        let scope = match &config.namespaces {
            Namespaces::All => Scope::All,
            Namespaces::Listed(listed) => Scope::Namespaces(listed.clone()),
            Namespaces::Default => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
        };
        Ok(Run {
            config,
            sink,
            interrupt,
            cluster,
            identity,
            scope,
            started,
            deadline,
            server_dry_run: config.dry_run == Some(DryRun::Server),
            audit: Audit::new(config.cause.clone(), config.dry_run.is_none()),
        })
    }

    /// Lists what is in scope, plans the update, and starts its report.
    pub(super) async fn discover_and_plan(&self) -> anyhow::Result<Planned> {
        self.discover_and_plan_after(None).await
    }

    /// `discover_and_plan`, warning about other owners only when they differ from `before`'s (a
    /// plan made again after waiting for the lock says nothing twice).
    async fn discover_and_plan_after(&self, before: Option<&Plan>) -> anyhow::Result<Planned> {
        let (found, plan) = before_changes(
            self.interrupt,
            "while discovering",
            discover_and_plan(&self.cluster, self.config, &self.scope),
        )
        .await?;
        if self.config.refuse_managed
            && let Some(refusal) = plan::owners::refusal(&plan)
        {
            return Err(refusal.into());
        }
        let owners = |plan: &Plan| {
            plan.changed_workloads()
                .filter(|it| !it.owners.is_empty())
                .map(|it| (it.id.clone(), it.owners.clone()))
                .collect::<Vec<_>>()
        };
        let managed = owners(&plan);
        if !managed.is_empty() && before.is_none_or(|before| owners(before) != managed) {
            self.sink.event(Event::Managed { plan: &plan });
        }
        let mut report = Report::planned(&plan, self.config.dry_run.unwrap_or(DryRun::None));
        report.identity = Some(self.identity.clone());
        report.cause.clone_from(&self.config.cause);
        if self.config.dry_run.is_none() {
            report.dry_run = None;
        }
        Ok(Planned {
            found,
            plan,
            report,
        })
    }

    /// After waiting for another run's lock: discovers and plans again, and extends the lock to
    /// the namespaces the new plan writes to.
    pub(super) async fn plan_again(
        &self,
        lock: &mut Lock,
        timeout: Duration,
        before: &Plan,
    ) -> anyhow::Result<Planned> {
        let planned = self.discover_and_plan_after(Some(before)).await?;
        lock.extend(
            &written_namespaces(&planned.plan),
            timeout,
            self.sink,
            self.interrupt,
        )
        .await?;
        Ok(planned)
    }

    /// Checks, with reads only, that the token may make every call the plan needs (and the lock's).
    pub(super) async fn preflight(&self, plan: &Plan, locking: bool) -> anyhow::Result<()> {
        let mut needs = access::needs(plan);
        if locking && !plan.is_unchanged() {
            needs.extend(access::lock_needs(
                &written_namespaces(plan),
                &lock::lease_name(&plan.classifier),
            ));
        }
        before_changes(
            self.interrupt,
            "during the preflight",
            access::preflight(&self.cluster, &needs),
        )
        .await
    }

    /// A retried CI job after a success: every workload runs the target and every migration has a
    /// completed copy for its image. Checked with reads only, before the lock, so nothing is
    /// written.
    pub(super) async fn rerun_with_nothing_to_do(
        &self,
        planned: &Planned,
    ) -> anyhow::Result<Option<Vec<Outcome>>> {
        if planned.plan.changed_workloads().next().is_some() {
            return Ok(None);
        }
        let templates = templates_of(&planned.found, &planned.plan);
        migrate::all_reused(&self.cluster, &planned.plan, &templates).await
    }

    /// Takes the Lease of every namespace the plan writes to, waiting up to `timeout`.
    pub(super) async fn lock(&self, plan: &Plan, timeout: Duration) -> anyhow::Result<Lock> {
        lock::acquire(
            &self.cluster,
            &written_namespaces(plan),
            &self.config.request.classifier,
            timeout,
            self.sink,
            self.interrupt,
        )
        .await
    }
}

/// The whole Job of each planned migration, by origin: discovery keeps Jobs whole.
pub(super) fn templates_of(found: &[Found], plan: &Plan) -> BTreeMap<usize, Value> {
    plan.all_migrations()
        .filter_map(|it| Some((it.origin, found[it.origin].object.clone()?)))
        .collect()
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
pub(crate) async fn namespace_typos(cluster: &Cluster, listed: &[String]) -> Vec<String> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: kube::Api<Namespace> = kube::Api::all(cluster.client.clone());
    let params = kube::api::ListParams::default();
    let Ok(Ok(existing)) =
        tokio::time::timeout(Duration::from_secs(2), api.list_metadata(&params)).await
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

/// The namespaces a plan writes to (changed workloads and migrations, rollback ones too): where
/// the lock is taken.
fn written_namespaces(plan: &Plan) -> BTreeSet<String> {
    plan.changed_workloads()
        .map(|it| it.id.namespace.clone())
        .chain(
            plan.all_migrations()
                .map(|it| it.template.namespace.clone()),
        )
        .collect()
}
