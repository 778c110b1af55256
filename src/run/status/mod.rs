//! `kubectl update status -c CLASSIFIER`: per cluster, each opted-in workload of the classifiers
//! with its images, revision, rollout, last change, recorded previous images and lock holder.
//! Reads only, with calls of `access::TABLE` (list the workload kinds, get the Leases); never
//! writes, never takes the lock, and needs no access review.

pub mod assemble;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::cli::StatusArgs;
use crate::cluster::discover::{self, Scope, Whole};
use crate::cluster::{self, Call, Cluster, ClusterArgs, api_failure, retry};
use crate::error::{Exit, Failure};
use crate::plan::annotations::{self, OptIn};
use crate::run::lock;

pub use assemble::{ClusterStatus, StatusReport};

/// Reads every cluster given (several `--context`, comma-separated or repeated), in parallel; a
/// cluster that fails fails the command, naming its context.
pub async fn status_of_all(
    args: &StatusArgs,
    clusters: &[ClusterArgs],
) -> anyhow::Result<StatusReport> {
    if let [one] = clusters {
        return status(args, one).await;
    }
    let work = clusters.iter().map(|one| async move {
        let context = one.context.as_deref().unwrap_or_default();
        status(args, one)
            .await
            .with_context(|| format!("cluster {context:?}"))
    });
    let mut all = StatusReport {
        clusters: Vec::new(),
    };
    for report in futures::future::join_all(work).await {
        all.clusters.extend(report?.clusters);
    }
    Ok(all)
}

/// Reads the context's cluster: the classifiers' workloads and their Leases.
pub async fn status(args: &StatusArgs, cluster_args: &ClusterArgs) -> anyhow::Result<StatusReport> {
    let cluster = cluster::connect(cluster_args).await?;
    let scope = match (args.all_namespaces, args.namespaces.is_empty()) {
        (true, _) => Scope::All,
        (false, false) => Scope::Namespaces(args.namespaces.clone()),
        (false, true) => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
    };
    let found = discover::discover_whole(&cluster, &scope).await?;
    let (matched, seen) = opted_in(&found, args);
    if matched.is_empty() {
        return Err(nothing_matched(&cluster, args, &scope, &seen).await.into());
    }
    let pairs: BTreeSet<(String, String)> = matched
        .iter()
        .flat_map(|(whole, listed)| {
            listed
                .iter()
                .map(|classifier| (whole.namespace.clone(), classifier.clone()))
        })
        .collect();
    let leases = read_leases(&cluster, pairs).await?;
    let workloads = matched
        .into_iter()
        .map(|(whole, listed)| {
            let held: Vec<(String, Lease)> = listed
                .iter()
                .filter_map(|classifier| {
                    let key = (whole.namespace.clone(), classifier.clone());
                    let lease = leases.get(&key)?.clone()?;
                    Some((classifier.clone(), lease))
                })
                .collect();
            assemble::workload(whole.kind, &whole.namespace, &whole.object, listed, &held)
        })
        .collect();
    Ok(StatusReport {
        clusters: vec![ClusterStatus {
            context: cluster.context.clone(),
            server: cluster.server.clone(),
            classifiers: args.classifiers.iter().map(ToString::to_string).collect(),
            namespaces: match scope {
                Scope::All => None,
                Scope::Namespaces(listed) => Some(listed),
            },
            workloads,
        }],
    })
}

/// The workloads (not Job templates) listing a requested classifier, with those it lists; and
/// every classifier any object lists (for "did you mean"). A malformed classifier annotation
/// opts nothing in.
fn opted_in<'a>(
    found: &'a [Whole],
    args: &StatusArgs,
) -> (Vec<(&'a Whole, Vec<String>)>, BTreeSet<String>) {
    let mut matched = Vec::new();
    let mut seen = BTreeSet::new();
    for whole in found {
        let annotations = crate::plan::workload::annotations_of(&whole.object);
        let Ok(Some(opt_in)) = OptIn::from_annotations(annotations) else {
            continue;
        };
        seen.extend(opt_in.classifiers.iter().map(ToString::to_string));
        if whole.kind.is_migration_template() {
            continue;
        }
        let listed: Vec<String> = args
            .classifiers
            .iter()
            .filter(|it| opt_in.lists(it))
            .map(ToString::to_string)
            .collect();
        if !listed.is_empty() {
            matched.push((whole, listed));
        }
    }
    (matched, seen)
}

/// A namespace and a classifier: where a lock is.
type Place = (String, String);

/// Each (namespace, classifier) Lease, `None` where there is none; at most 8 reads at once.
async fn read_leases(
    cluster: &Cluster,
    pairs: BTreeSet<Place>,
) -> anyhow::Result<BTreeMap<Place, Option<Lease>>> {
    let reads: Vec<Result<(Place, Option<Lease>), Failure>> = futures::stream::iter(pairs)
        .map(|(namespace, classifier)| async move {
            let api: Api<Lease> = Api::namespaced(cluster.client.clone(), &namespace);
            let name = lock::lease_name(&classifier.parse().expect("a listed classifier parses"));
            let call = Call {
                verb: "get",
                group: "coordination.k8s.io",
                resource: "leases",
                namespace: Some(namespace.clone()),
            };
            let lease = retry::idempotent(|| api.get_opt(&name))
                .await
                .map_err(|err| api_failure(&err, Some(&call), &cluster.server))?;
            Ok(((namespace, classifier), lease))
        })
        .buffer_unordered(8)
        .collect()
        .await;
    Ok(reads.into_iter().collect::<Result<_, _>>()?)
}

/// No workload lists any requested classifier: an error with the closest classifier objects do
/// list, and namespaces that do not exist.
async fn nothing_matched(
    cluster: &Cluster,
    args: &StatusArgs,
    scope: &Scope,
    seen: &BTreeSet<String>,
) -> Failure {
    let names: Vec<String> = args
        .classifiers
        .iter()
        .map(|it| format!("`{it}`"))
        .collect();
    let place = match scope {
        Scope::All => "in any namespace".to_owned(),
        Scope::Namespaces(listed) => format!("in namespace {}", listed.join(", ")),
    };
    let mut failure = Failure::new(
        Exit::Failed,
        format!(
            "nothing matched: no workload {place} lists classifier {}",
            names.join(" or ")
        ),
    );
    for classifier in &args.classifiers {
        if let Some(closest) =
            crate::plan::closest(classifier.as_str(), seen.iter().map(String::as_str))
        {
            failure = failure.hint(format!(
                "did you mean `{closest}`? no workload lists `{classifier}`"
            ));
        }
    }
    if let Scope::Namespaces(listed) = scope {
        for hint in crate::run::live::namespace_typos(cluster, listed).await {
            failure = failure.hint(hint);
        }
    }
    failure.hint(format!(
        "a workload opts in with the annotation `{}: NAME`",
        annotations::CLASSIFIER
    ))
}
