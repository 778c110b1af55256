//! The least-privilege subcommands: `kubectl update rbac` (the Role a CI token needs, from the call
//! table) and `kubectl update kubeconfig` (a kubeconfig holding one ServiceAccount token).

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;
use kube::config::Kubeconfig;
use serde_json::{Value, json};

use crate::annotations::{Classifier, OptIn};
use crate::cli::{KubeconfigArgs, RbacArgs};
use crate::cluster::{self, Call, Cluster, api_failure};
use crate::config::ClusterArgs;
use crate::discover::{self, Scope};
use crate::error::{Exit, Failure};
use crate::rbac::{self, Names};
use crate::workload::{self, Kind};

/// Builds the RBAC objects `kubectl update rbac` prints.
pub async fn rbac(args: &RbacArgs, cluster_args: &ClusterArgs) -> anyhow::Result<Vec<Value>> {
    let mut namespaces = args.namespaces.clone();
    if args.template {
        namespaces = vec![rbac::PLACEHOLDER.to_owned()];
    }
    let needs_cluster = (namespaces.is_empty() && !args.template)
        || (args.resource_names && args.filenames.is_empty());
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
    let names = match (&args.classifier, args.resource_names) {
        (Some(classifier), true) => {
            Some(resource_names(args, cluster.as_ref(), &namespaces, classifier).await?)
        }
        _ => None,
    };
    let request = rbac::Request {
        namespaces: namespaces.clone(),
        service_account: args.service_account.clone(),
        cluster_wide: args.cluster_wide,
        names,
    };
    let mut objects = rbac::objects(&request);
    if args.admission_policy {
        let repositories: Vec<String> = args.allow_repositories.clone();
        for repository in &repositories {
            crate::image::repository_of(repository).map_err(|reason| {
                Failure::new(
                    Exit::Usage,
                    format!("invalid value {repository:?} for --allow-repository: {reason}"),
                )
            })?;
        }
        objects.extend(crate::policy::objects(&crate::policy::Request {
            service_account: args.service_account.clone(),
            namespaces: namespaces.clone(),
            cluster_wide: args.cluster_wide,
            repositories,
        }));
    }
    Ok(objects)
}

/// The workloads opted in to `classifier` (from the cluster or -f manifests), and the lock's Lease.
async fn resource_names(
    args: &RbacArgs,
    cluster: Option<&Cluster>,
    namespaces: &[String],
    classifier: &Classifier,
) -> anyhow::Result<Names> {
    let objects: Vec<(Kind, Value)> = match cluster {
        Some(cluster) => discover::discover(cluster, &Scope::Namespaces(namespaces.to_vec()))
            .await?
            .into_iter()
            .map(|found| (found.kind, found.object))
            .collect(),
        None => {
            let documents =
                crate::manifest::read_all(&args.filenames, &mut std::io::stdin().lock())?;
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
                        res.push((kind, object.clone()));
                    }
                }
            }
            res
        }
    };
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, object) in objects {
        if kind.is_migration_template() {
            continue;
        }
        let listed = OptIn::from_annotations(workload::annotations_of(&object))
            .ok()
            .flatten()
            .is_some_and(|it| it.lists(classifier));
        if listed {
            let names = by_resource.entry(kind.resource().to_owned()).or_default();
            let name = workload::name_of(&object).to_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if by_resource.is_empty() {
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "--resource-names: no workload in namespace {} lists classifier `{classifier}`",
                namespaces.join(", ")
            ),
        )
        .hint("annotate the workloads first, or leave --resource-names out")
        .into());
    }
    by_resource.insert(
        "leases".to_owned(),
        vec![format!("kubectl-update-{classifier}")],
    );
    Ok(Names { by_resource })
}

/// Mints a ServiceAccount token (TokenRequest) and builds a kubeconfig holding only that cluster
/// (with its CA), that user and one context.
pub async fn kubeconfig(
    args: &KubeconfigArgs,
    cluster_args: &ClusterArgs,
) -> anyhow::Result<String> {
    let cluster = cluster::connect(cluster_args).await?;
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace.clone());
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &namespace);
    let seconds = i64::try_from(args.duration.as_secs())
        .unwrap_or(i64::MAX)
        .max(600);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(seconds),
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
            kube::Error::Api(status) if status.is_not_found() => Failure::new(
                Exit::Failed,
                format!(
                    "serviceaccount {:?} not found in namespace {namespace}",
                    args.service_account
                ),
            )
            .hint(format!(
                "create it with `kubectl update rbac -n {namespace} | kubectl apply -f -`"
            )),
            _ => {
                let call = Call {
                    verb: "create",
                    group: "",
                    resource: "serviceaccounts/token",
                    namespace: Some(namespace.clone()),
                };
                api_failure(&err, Some(&call), &cluster.server)
            }
        })?;
    let token = minted
        .status
        .map(|it| it.token)
        .context("the TokenRequest answer holds no token")?;
    let (server, ca_data, insecure) = current_cluster(cluster_args)?;
    let server = args.server.clone().unwrap_or(server);
    let name = format!("{}-{namespace}", args.service_account);
    let mut cluster_entry = json!({"server": server});
    if let Some(ca_data) = ca_data {
        cluster_entry["certificate-authority-data"] = Value::from(ca_data);
    }
    if insecure {
        cluster_entry["insecure-skip-tls-verify"] = Value::Bool(true);
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster_entry}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
    });
    serde_saphyr::to_string(&config).context("serialising the kubeconfig")
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
