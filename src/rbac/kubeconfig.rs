//! `kubectl update kubeconfig`: a kubeconfig holding one short-lived ServiceAccount token (a
//! TokenRequest), bound to a new Secret so that deleting it revokes the token. Writes only that
//! Secret and the token request; never grants anything (`kubectl update rbac` does).

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value, json};

use crate::cli::rbac::KubeconfigArgs;
use crate::cluster::{self, Call, Cluster, ClusterArgs, api_failure};
use crate::error::{Exit, Failure};

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
pub async fn mint(args: &KubeconfigArgs, cluster_args: &ClusterArgs) -> anyhow::Result<Minted> {
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
    let kubeconfig = crate::cluster::load_kubeconfig(&cluster_args.kubeconfigs)?
        .context("no kubeconfig found")?;
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
