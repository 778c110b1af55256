//! `kubectl update rbac`: the Role a CI token needs, from the call table, and by default the
//! admission policies that keep it to image changes, with the migration templates read from the
//! cluster or manifests. Reads the cluster only; never applies what it generates.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::rbac::RbacArgs;
use crate::cluster::ClusterArgs;
use crate::cluster::discover::{self, Scope};
use crate::cluster::rules::Names;
use crate::cluster::{self, Cluster};
use crate::error::{Exit, Failure};
use crate::plan::annotations::{Classifier, OptIn};
use crate::plan::workload::{self, Kind};
use crate::rbac;

/// Builds the RBAC objects `kubectl update rbac` prints, and (unless `--no-admission-policy`) the
/// admission policies, with the migration templates they allow read from the cluster or `-f`.
pub async fn rbac(args: &RbacArgs, cluster_args: &ClusterArgs) -> anyhow::Result<Vec<Value>> {
    let with_policy = !args.no_admission_policy;
    if with_policy {
        check_policy_args(args)?;
    }
    let mut namespaces: Vec<String> = Vec::new();
    for namespace in &args.namespaces {
        if !namespaces.contains(namespace) {
            namespaces.push(namespace.clone());
        }
    }
    if args.template {
        namespaces = vec![rbac::NAMESPACE_VARIABLE.to_owned()];
    }
    let protected = crate::rbac::policy::protected_namespaces(&args.protected_namespaces);
    refuse_protected(&namespaces, &protected)?;
    let reads_objects = (args.resource_names || with_policy) && !args.template;
    let needs_cluster =
        (namespaces.is_empty() && !args.template) || (reads_objects && args.filenames.is_empty());
    let cluster = if needs_cluster {
        Some(cluster::connect(cluster_args).await?)
    } else {
        None
    };
    if namespaces.is_empty() {
        namespaces = vec![
            cluster
                .as_ref()
                .map_or_else(|| "default".to_owned(), |it| it.default_namespace.clone()),
        ];
    }
    refuse_protected(&namespaces, &protected)?;
    let objects: Vec<Found> = if reads_objects || (args.template && !args.filenames.is_empty()) {
        read_objects(args, cluster.as_ref(), &namespaces).await?
    } else {
        Vec::new()
    };
    let names = if args.resource_names {
        Some(resource_names(&objects, &namespaces, &args.classifiers)?)
    } else {
        None
    };
    let request = rbac::Request {
        namespaces: namespaces.clone(),
        service_account: args.service_account.clone(),
        cluster_wide: args.cluster_wide,
        names,
    };
    let mut res = rbac::objects(&request);
    if with_policy {
        let templates = templates(
            &objects,
            &namespaces,
            args.cluster_wide || args.template,
            &args.classifiers,
            &protected,
        );
        res.extend(crate::rbac::policy::objects(
            &crate::rbac::policy::Request {
                service_account: args.service_account.clone(),
                namespaces,
                cluster_wide: args.cluster_wide,
                repositories: args.allow_repositories.clone(),
                classifiers: args.classifiers.clone(),
                protected: args.protected_namespaces.clone(),
                templates,
            },
        ));
    }
    Ok(res)
}

/// The policy needs to know what the token may deploy: which classifiers, from which repositories.
fn check_policy_args(args: &RbacArgs) -> anyhow::Result<()> {
    let missing: Vec<&str> = [
        (args.classifiers.is_empty(), "--classifier"),
        (args.allow_repositories.is_empty(), "--allow-repository"),
    ]
    .into_iter()
    .filter_map(|(missing, flag)| missing.then_some(flag))
    .collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "the admission policy (on by default) needs {}: the classifiers this token may deploy and the repositories its images may come from",
                missing.join(" and ")
            ),
        )
        .hint("e.g. kubectl update rbac -n shop -c stable --allow-repository registry.example.com/team/app")
        .hint("--no-admission-policy leaves the policy out: the token can then change any field of the workloads it may patch and run any Job")
        .into());
    }
    for repository in &args.allow_repositories {
        crate::plan::image::repository_of(repository).map_err(|reason| {
            Failure::new(
                Exit::Usage,
                format!("invalid value {repository:?} for --allow-repository: {reason}"),
            )
        })?;
    }
    Ok(())
}

/// No grant ever reaches a protected namespace.
fn refuse_protected(namespaces: &[String], protected: &[String]) -> anyhow::Result<()> {
    match namespaces.iter().find(|it| protected.contains(it)) {
        Some(namespace) => Err(Failure::new(
            Exit::Usage,
            format!(
                "kubectl update rbac never grants in namespace {namespace}: a Job there can run as any of its ServiceAccounts"
            ),
        )
        .hint(format!("protected namespaces: {}", protected.join(", ")))
        .into()),
        None => Ok(()),
    }
}

/// An object of a kind the tool knows, from the cluster or a manifest (`namespace` is `None` for a
/// manifest that names none).
struct Found {
    namespace: Option<String>,
    kind: Kind,
    object: Value,
}

/// The objects of the namespaces (every namespace with --cluster-wide), from the cluster or from
/// the -f manifests.
async fn read_objects(
    args: &RbacArgs,
    cluster: Option<&Cluster>,
    namespaces: &[String],
) -> anyhow::Result<Vec<Found>> {
    if let Some(cluster) = cluster {
        let scope = if args.cluster_wide {
            Scope::All
        } else {
            Scope::Namespaces(namespaces.to_vec())
        };
        return Ok(discover::discover_whole(cluster, &scope)
            .await?
            .into_iter()
            .map(|found| Found {
                namespace: Some(found.namespace),
                kind: found.kind,
                object: found.object,
            })
            .collect());
    }
    let documents = crate::manifest::read_all(&args.filenames, &mut std::io::stdin().lock())?;
    let mut res = Vec::new();
    for document in documents {
        for pointer in crate::manifest::object_pointers(&document.value) {
            let object = document.value.pointer(&pointer).unwrap_or(&document.value);
            let api_version = object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(Ok(kind)) = Kind::recognise(api_version, kind) {
                res.push(Found {
                    namespace: workload::namespace_of(object).map(str::to_owned),
                    kind,
                    object: object.clone(),
                });
            }
        }
    }
    Ok(res)
}

fn lists_any(object: &Value, classifiers: &[Classifier]) -> bool {
    OptIn::from_annotations(workload::annotations_of(object))
        .ok()
        .flatten()
        .is_some_and(|it| classifiers.iter().any(|classifier| it.lists(classifier)))
}

/// The migration templates (Jobs listing one of the classifiers) copies may be made of: where the
/// cluster says, or for a manifest without a namespace, in each namespace. With `anywhere`
/// (cluster-wide, or the envsubst template) a manifest's own namespace is not checked against the
/// list; protected namespaces never hold templates the token may run.
fn templates(
    objects: &[Found],
    namespaces: &[String],
    anywhere: bool,
    classifiers: &[Classifier],
    protected: &[String],
) -> Vec<crate::rbac::policy::Template> {
    let mut res = Vec::new();
    for found in objects {
        if !found.kind.is_migration_template() || !lists_any(&found.object, classifiers) {
            continue;
        }
        let name = workload::name_of(&found.object).to_owned();
        let placed: Vec<String> = match &found.namespace {
            _ if namespaces == [rbac::NAMESPACE_VARIABLE] => namespaces.to_vec(),
            Some(namespace) if anywhere || namespaces.contains(namespace) => {
                vec![namespace.clone()]
            }
            Some(_) => Vec::new(),
            None => namespaces.to_vec(),
        };
        for namespace in placed {
            if protected.contains(&namespace) {
                continue;
            }
            let template = crate::rbac::policy::Template {
                namespace,
                name: name.clone(),
            };
            if !res.contains(&template) {
                res.push(template);
            }
        }
    }
    res.sort();
    res
}

/// The workloads opted in to one of the classifiers (from the cluster or -f manifests), and the
/// locks' Leases.
fn resource_names(
    objects: &[Found],
    namespaces: &[String],
    classifiers: &[Classifier],
) -> anyhow::Result<Names> {
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for found in objects {
        let in_scope = found
            .namespace
            .as_ref()
            .is_none_or(|namespace| namespaces.contains(namespace));
        if found.kind.is_migration_template() || !in_scope || !lists_any(&found.object, classifiers)
        {
            continue;
        }
        let names = by_resource
            .entry(found.kind.resource().to_owned())
            .or_default();
        let name = workload::name_of(&found.object).to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let listed: Vec<String> = classifiers.iter().map(|it| format!("`{it}`")).collect();
    if by_resource.is_empty() {
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "--resource-names: no workload in namespace {} lists classifier {}",
                namespaces.join(", "),
                listed.join(" or ")
            ),
        )
        .hint("annotate the workloads first, or leave --resource-names out")
        .into());
    }
    for names in by_resource.values_mut() {
        names.sort();
    }
    by_resource.insert(
        "leases".to_owned(),
        classifiers
            .iter()
            .map(crate::run::lock::lease_name)
            .collect(),
    );
    Ok(Names { by_resource })
}

#[cfg(test)]
mod tests;
