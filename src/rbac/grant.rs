//! The least-privilege subcommands: `kubectl update rbac` (the Role a CI token needs, from the call
//! table, and by default the admission policies that keep it to image changes, with the migration
//! templates read from the cluster or manifests) and `kubectl update kubeconfig` (a kubeconfig
//! holding one ServiceAccount token). Reads the cluster only; never applies what it generates.

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use kube::config::Kubeconfig;
use serde_json::{Value, json};

use crate::cli::{KubeconfigArgs, RbacArgs};
use crate::cluster::ClusterArgs;
use crate::cluster::discover::{self, Scope};
use crate::cluster::rules::Names;
use crate::cluster::{self, Call, Cluster, api_failure};
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
        namespaces = vec![rbac::PLACEHOLDER.to_owned()];
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
            _ if namespaces == [rbac::PLACEHOLDER] => namespaces.to_vec(),
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

/// A freshly minted CI kubeconfig and what the API server granted.
#[derive(Debug)]
pub struct Minted {
    pub kubeconfig: String,
    /// `system:serviceaccount:<namespace>:<name>`.
    pub identity: String,
    /// When the token stops working, as the API server set it (RFC 3339).
    pub expires: String,
    /// What was asked for, and what the API server granted (it may cap or extend it).
    pub requested: std::time::Duration,
    pub granted: std::time::Duration,
    /// The Secret the token is bound to: deleting it revokes the token.
    pub revocation_secret: Option<(String, String)>,
}

impl Minted {
    /// The granted lifetime, read as the requested one when they differ only by the seconds the
    /// request took.
    pub fn granted_rounded(&self) -> std::time::Duration {
        let granted = std::time::Duration::from_secs(self.granted.as_secs_f64().round() as u64);
        if granted.abs_diff(self.requested) < std::time::Duration::from_secs(60) {
            self.requested
        } else {
            granted
        }
    }
}

/// Longer than this, a token outlives the pipeline run it is for.
pub const LONGEST_RECOMMENDED: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Mints a ServiceAccount token (TokenRequest), bound to a new Secret unless told otherwise, and
/// builds a kubeconfig holding only that cluster (with its CA), that user and one context.
pub async fn kubeconfig(
    args: &KubeconfigArgs,
    cluster_args: &ClusterArgs,
) -> anyhow::Result<Minted> {
    let (server, ca_data, insecure) = current_cluster(cluster_args)?;
    if ca_data.is_none() && insecure && !args.insecure_skip_tls_verify {
        return Err(Failure::new(
            Exit::Failed,
            "the cluster entry of your kubeconfig skips TLS verification and has no certificate authority to copy",
        )
        .hint("add the cluster's CA to your kubeconfig, or pass --insecure-skip-tls-verify to mint a kubeconfig that skips verification too")
        .into());
    }
    let cluster = cluster::connect(cluster_args).await?;
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace.clone());
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &namespace);
    let not_found =
        |err: &kube::Error| matches!(err, kube::Error::Api(status) if status.is_not_found());
    let account_missing = || {
        Failure::new(
            Exit::Failed,
            format!(
                "serviceaccount {:?} not found in namespace {namespace}",
                args.service_account
            ),
        )
        .hint(format!(
            "create it with `kubectl update rbac -n {namespace} -c CLASSIFIER --allow-repository REPOSITORY | kubectl apply -f -`"
        ))
    };
    let call = |verb: &'static str, resource: &'static str| Call {
        verb,
        group: "",
        resource,
        namespace: Some(namespace.clone()),
    };
    // Checked first, so a missing ServiceAccount leaves no revocation Secret behind.
    accounts
        .get(&args.service_account)
        .await
        .map_err(|err| match &err {
            _ if not_found(&err) => account_missing(),
            _ => api_failure(&err, Some(&call("get", "serviceaccounts")), &cluster.server),
        })?;
    let secret = if args.no_revocation_secret {
        None
    } else {
        Some(revocation_secret(&cluster, &namespace, &args.service_account).await?)
    };
    let seconds = i64::try_from(args.duration.as_secs())
        .unwrap_or(i64::MAX)
        .max(600);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(seconds),
            bound_object_ref: secret.as_ref().map(|(name, uid)| BoundObjectReference {
                api_version: Some("v1".to_owned()),
                kind: Some("Secret".to_owned()),
                name: Some(name.clone()),
                uid: Some(uid.clone()),
            }),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let minted: TokenRequest = accounts
        .create_subresource(
            "token",
            &args.service_account,
            &PostParams::default(),
            &request,
        )
        .await
        .map_err(|err| match &err {
            _ if not_found(&err) => account_missing(),
            _ => api_failure(
                &err,
                Some(&call("create", "serviceaccounts/token")),
                &cluster.server,
            ),
        })?;
    let status = minted
        .status
        .context("the TokenRequest answer holds no token")?;
    let expires = status
        .expiration_timestamp
        .context("the TokenRequest answer holds no expiration time")?
        .0;
    let granted = jiff::Timestamp::now()
        .duration_until(expires)
        .try_into()
        .unwrap_or_default();
    let server = args.server.clone().unwrap_or(server);
    let name = format!("{}-{namespace}", args.service_account);
    let mut cluster_entry = json!({"server": server});
    if let Some(ca_data) = ca_data {
        cluster_entry["certificate-authority-data"] = Value::from(ca_data);
    }
    if args.insecure_skip_tls_verify {
        cluster_entry["insecure-skip-tls-verify"] = Value::Bool(true);
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster_entry}],
        "users": [{"name": name, "user": {"token": status.token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
    });
    Ok(Minted {
        kubeconfig: serde_saphyr::to_string(&config).context("serialising the kubeconfig")?,
        identity: format!("system:serviceaccount:{namespace}:{}", args.service_account),
        expires: expires.to_string(),
        requested: std::time::Duration::from_secs(seconds.unsigned_abs()),
        granted,
        revocation_secret: secret.map(|(name, _)| (namespace.clone(), name)),
    })
}

/// Creates the Secret a token is bound to (named `<service account>-token-<random>`); returns its
/// name and uid.
async fn revocation_secret(
    cluster: &Cluster,
    namespace: &str,
    service_account: &str,
) -> anyhow::Result<(String, String)> {
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "generateName": format!("{service_account}-token-"),
            "labels": {"app.kubernetes.io/managed-by": "kubectl-update"},
            "annotations": {"kubectl-update.io/revokes-tokens-of": service_account},
        },
        "type": "Opaque",
    }))?;
    let created = secrets
        .create(&PostParams::default(), &secret)
        .await
        .map_err(|err| {
            let call = Call {
                verb: "create",
                group: "",
                resource: "secrets",
                namespace: Some(namespace.to_owned()),
            };
            api_failure(&err, Some(&call), &cluster.server)
        })?;
    let name = created
        .metadata
        .name
        .context("the created Secret has no name")?;
    let uid = created
        .metadata
        .uid
        .context("the created Secret has no uid")?;
    Ok((name, uid))
}

/// The server, CA (base64) and TLS-skip setting of the context in use.
fn current_cluster(cluster_args: &ClusterArgs) -> anyhow::Result<(String, Option<String>, bool)> {
    let kubeconfig = match &cluster_args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path)?,
        None => Kubeconfig::read()?,
    };
    let context_name = cluster_args
        .context
        .clone()
        .or(kubeconfig.current_context.clone())
        .unwrap_or_default();
    let context = kubeconfig
        .contexts
        .iter()
        .find(|it| it.name == context_name)
        .and_then(|it| it.context.clone())
        .with_context(|| format!("context {context_name:?} is not in the kubeconfig"))?;
    let entry = kubeconfig
        .clusters
        .iter()
        .find(|it| it.name == context.cluster)
        .and_then(|it| it.cluster.clone())
        .with_context(|| format!("cluster {:?} is not in the kubeconfig", context.cluster))?;
    let ca_data = match (
        &entry.certificate_authority_data,
        &entry.certificate_authority,
    ) {
        (Some(data), _) => Some(data.clone()),
        (None, Some(path)) => {
            let pem = std::fs::read(path).with_context(|| format!("reading the CA file {path}"))?;
            Some(base64_encode(&pem))
        }
        (None, None) => None,
    };
    Ok((
        entry.server.unwrap_or_default(),
        ca_data,
        entry.insecure_skip_tls_verify.unwrap_or(false),
    ))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job(namespace: Option<&str>, name: &str, classifier: &str) -> Found {
        Found {
            namespace: namespace.map(str::to_owned),
            kind: Kind::Job,
            object: json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "annotations": {crate::plan::annotations::CLASSIFIER: classifier}}}),
        }
    }

    fn names(templates: &[crate::rbac::policy::Template]) -> Vec<String> {
        templates
            .iter()
            .map(|it| format!("{}/{}", it.namespace, it.name))
            .collect()
    }

    #[test]
    fn templates_are_the_jobs_listing_a_classifier_outside_protected_namespaces() {
        let classifiers: Vec<Classifier> = vec!["stable".parse().unwrap()];
        let protected = crate::rbac::policy::protected_namespaces(&[]);
        let found = [
            job(Some("shop"), "schema", "stable, canary"),
            job(Some("shop"), "other", "canary"),
            job(Some("billing"), "reindex", "stable"),
            job(Some("kube-system"), "sneaky", "stable"),
            job(None, "manifest", "stable"),
        ];
        let namespaces = vec!["shop".to_owned()];
        assert_eq!(
            names(&templates(
                &found,
                &namespaces,
                false,
                &classifiers,
                &protected
            )),
            vec!["shop/manifest", "shop/schema"],
            "in the namespaces; a manifest without a namespace in each"
        );
        assert_eq!(
            names(&templates(
                &found,
                &namespaces,
                true,
                &classifiers,
                &protected
            )),
            vec!["billing/reindex", "shop/manifest", "shop/schema"],
            "cluster-wide: anywhere but kube-system"
        );
        let placeholder = vec![rbac::PLACEHOLDER.to_owned()];
        assert_eq!(
            names(&templates(
                &found,
                &placeholder,
                true,
                &classifiers,
                &protected
            )),
            vec![
                "${NAMESPACE}/manifest",
                "${NAMESPACE}/reindex",
                "${NAMESPACE}/schema",
                "${NAMESPACE}/sneaky"
            ],
            "the envsubst template: every template in the placeholder namespace"
        );
    }

    #[test]
    fn resource_names_cover_every_classifier_and_its_lock() {
        let classifiers: Vec<Classifier> =
            vec!["stable".parse().unwrap(), "Canary_1".parse().unwrap()];
        let deployment = |name: &str, classifier: &str| Found {
            namespace: Some("shop".into()),
            kind: Kind::Deployment,
            object: json!({"metadata": {"name": name, "annotations": {crate::plan::annotations::CLASSIFIER: classifier}}}),
        };
        let found = [
            deployment("web", "stable"),
            deployment("api", "Canary_1"),
            deployment("other", "other"),
        ];
        let names = resource_names(&found, &["shop".to_owned()], &classifiers).unwrap();
        assert_eq!(names.by_resource["deployments"], vec!["api", "web"]);
        assert_eq!(
            names.by_resource["leases"],
            vec!["kubectl-update-stable", "kubectl-update-canary-1"],
            "the Lease names the lock uses"
        );
    }

    #[test]
    fn protected_namespaces_are_refused() {
        let protected = crate::rbac::policy::protected_namespaces(&["cert-manager".to_owned()]);
        assert!(refuse_protected(&["shop".to_owned()], &protected).is_ok());
        for namespace in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "cert-manager",
        ] {
            let err = refuse_protected(&["shop".to_owned(), namespace.to_owned()], &protected)
                .unwrap_err()
                .to_string();
            assert!(err.contains(namespace), "{err}");
        }
    }
}
