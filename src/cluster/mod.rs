//! Connecting to the cluster: the only module that knows about kubeconfig files. Also turns API
//! errors into one-line failures that say what was refused and how to fix it.
//!
//! The folder is everything that reads the cluster before a run decides anything: the connection,
//! `discover`, the call table and preflight (`access`), the Role rules the table implies (`rules`)
//! and `retry`. It never writes a workload and knows nothing of plans' outcomes or of printing.

pub mod access;
pub mod discover;
pub mod retry;
pub mod rules;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::error::{Exit, Failure};

/// Which cluster to connect to: `--kubeconfig` (repeatable: the files are merged the way kubectl
/// merges them, the first file wins), `--context` and `--request-timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterArgs {
    pub kubeconfigs: Vec<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Option<Duration>,
}

/// A connected client and what the kubeconfig said about where it points.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The context's namespace (`default` when it names none).
    pub default_namespace: String,
    pub server: String,
    /// The kubeconfig context in use (`--context`, else its current context); `None` in-cluster.
    pub context: Option<String>,
    /// `(namespace, resource)` pairs where the preflight found that the token may watch only
    /// named objects (a Role narrowed with `resourceNames`): rollouts there watch each workload by
    /// name instead of sharing one watch per kind and namespace.
    pub named_watches: Arc<Mutex<BTreeSet<(String, &'static str)>>>,
}

/// An API call, described for error messages and access reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    /// `None` for cluster-wide calls.
    pub namespace: Option<String>,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        match &self.namespace {
            Some(namespace) => write!(
                f,
                "{} {}{group} in namespace {namespace}",
                self.verb, self.resource
            ),
            None => write!(f, "{} {}{group} cluster-wide", self.verb, self.resource),
        }
    }
}

/// Builds a client from `--kubeconfig`, else KUBECONFIG or ~/.kube/config, with `--context`; the
/// in-cluster service account only when there is no kubeconfig at all.
pub async fn connect(args: &ClusterArgs) -> anyhow::Result<Cluster> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: None,
        user: None,
    };
    let kubeconfig = load_kubeconfig(&args.kubeconfigs)?;
    let context = args.context.clone().or_else(|| {
        kubeconfig
            .as_ref()
            .and_then(|it| it.current_context.clone())
    });
    let mut config = match kubeconfig {
        Some(kubeconfig) => {
            if let Some(context) = &args.context {
                check_context(&kubeconfig, context)?;
            }
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|err| {
                    Failure::new(
                        Exit::Failed,
                        format!("cannot use the kubeconfig: {}", one_line(&err)),
                    )
                    .hint("check current-context, or pick one with --context")
                })?
        }
        None => Config::incluster().map_err(|_| {
            Failure::new(
                Exit::Failed,
                "no kubeconfig found and not running inside a cluster",
            )
            .hint("pass --kubeconfig PATH, set KUBECONFIG, or preview offline with -f PATH")
        })?,
    };
    if let Some(timeout) = args.request_timeout.filter(|it| !it.is_zero()) {
        config.connect_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
    }
    config
        .connect_timeout
        .get_or_insert(Duration::from_secs(10));
    let server = config.cluster_url.to_string();
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).context("building the API client")?;
    Ok(Cluster {
        client,
        default_namespace,
        server,
        context,
        named_watches: Arc::default(),
    })
}

/// The kubeconfig `connect` reads: the `--kubeconfig` files merged (the first file wins for a
/// name, as kubectl merges them), else KUBECONFIG (a path list, merged by kube) or ~/.kube/config;
/// `None` when there is none at all.
pub fn load_kubeconfig(paths: &[PathBuf]) -> anyhow::Result<Option<Kubeconfig>> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        let next = Kubeconfig::read_from(path).map_err(|err| {
            Failure::new(
                Exit::Failed,
                format!(
                    "cannot load kubeconfig \"{}\": {}",
                    path.display(),
                    kubeconfig_problem(&err)
                ),
            )
            .hint("check the path given to --kubeconfig")
        })?;
        merged = Some(match merged {
            None => next,
            Some(first) => first.merge(next).map_err(|err| {
                Failure::new(
                    Exit::Failed,
                    format!("cannot merge the kubeconfig files: {}", one_line(&err)),
                )
            })?,
        });
    }
    if !paths.is_empty() {
        return Ok(merged);
    }
    match Kubeconfig::read() {
        Ok(kubeconfig) => Ok(Some(kubeconfig)),
        Err(kube::config::KubeconfigError::FindPath) => Ok(None),
        Err(kube::config::KubeconfigError::ReadConfig(err, _))
            if err.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(err) => Err(Failure::new(
            Exit::Failed,
            format!("cannot load kubeconfig: {}", kubeconfig_problem(&err)),
        )
        .hint("fix the file named by KUBECONFIG or ~/.kube/config, or pass --kubeconfig")
        .into()),
    }
}

/// A `--context` the kubeconfig does not have: one line naming it, the closest known context and
/// the known ones.
pub fn check_context(kubeconfig: &Kubeconfig, context: &str) -> Result<(), Failure> {
    let known: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|it| it.name.as_str())
        .collect();
    if known.contains(&context) {
        return Ok(());
    }
    let mut message = format!("context {context:?} is not in the kubeconfig");
    if let Some(closest) = crate::plan::closest(context, known.iter().copied()) {
        message.push_str(&format!("; did you mean {closest:?}?"));
    }
    Err(Failure::new(Exit::Failed, message).hint(format!(
        "known contexts: {}",
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    )))
}

/// What is wrong with a kubeconfig, without kube's own wording of the path (which quotes the
/// path's Debug form inside quotes of its own).
fn kubeconfig_problem(err: &kube::config::KubeconfigError) -> String {
    match err {
        kube::config::KubeconfigError::ReadConfig(io, _) => match io.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => io.to_string(),
        },
        other => one_line(other),
    }
}

/// Who the API server says we are (SelfSubjectReview), e.g. `system:serviceaccount:ci:deployer`.
pub async fn whoami(cluster: &Cluster) -> anyhow::Result<String> {
    let reviews: Api<SelfSubjectReview> = Api::all(cluster.client.clone());
    let (params, body) = (PostParams::default(), SelfSubjectReview::default());
    let review = crate::cluster::retry::idempotent(|| reviews.create(&params, &body))
        .await
        .map_err(|err| api_failure(&err, None, &cluster.server))?;
    Ok(review
        .status
        .and_then(|it| it.user_info)
        .and_then(|it| it.username)
        .unwrap_or_else(|| "unknown".to_owned()))
}

/// Turns an API error into a one-line failure: Forbidden names the verb, resource and namespace;
/// Unauthorized and connection errors say what to check.
pub fn api_failure(err: &kube::Error, call: Option<&Call>, server: &str) -> Failure {
    match err {
        kube::Error::Api(status) if status.is_forbidden() => {
            let Some(call) = call else {
                return Failure::new(Exit::Failed, format!("forbidden: {}", status.message))
                    .hint("grant it with the Role from `kubectl update rbac` (see rbac/)");
            };
            let (resource, subresource) = match call.resource.split_once('/') {
                Some((resource, sub)) => (resource, Some(sub)),
                None => (call.resource, None),
            };
            let permission = crate::cluster::access::Permission { group: call.group, resource, subresource, verb: call.verb };
            Failure::new(Exit::Failed, format!("forbidden: this token may not {call}")).hint(grant_hint(&permission))
        }
        kube::Error::Api(status) if status.code == 401 => {
            Failure::new(Exit::Failed, format!("unauthorized: the server at {server} rejected the credentials"))
                .hint("the token may be expired or wrong; mint a new one with `kubectl create token` or `kubectl update kubeconfig`")
        }
        kube::Error::Api(status) => {
            let what = call.map_or_else(String::new, |call| format!(" ({call})"));
            Failure::new(Exit::Failed, format!("the API server refused a request{what}: {} ({})", status.message, status.code))
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => {
            unreachable(err, server)
        }
        other => Failure::new(Exit::Failed, format!("request failed: {}", one_line(other))),
    }
}

/// A connection that failed, in the user's words: what happened, the server, which flags choose it.
fn unreachable(err: &kube::Error, server: &str) -> Failure {
    let text = one_line(err).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
    let (what, hint) = if has(&["connection refused"]) {
        (
            "connection refused".to_owned(),
            "nothing listens there: check the server of the kubeconfig's cluster (--kubeconfig, --context) and that the cluster is up",
        )
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
    ]) {
        (
            "its host name does not resolve".to_owned(),
            "check the server of the kubeconfig's cluster (--kubeconfig, --context) and the DNS of this machine",
        )
    } else if has(&["certificate", "tls", "handshake", "unknownissuer", "ssl"]) {
        (
            "the TLS handshake failed (the server's certificate is not trusted or does not match)"
                .to_owned(),
            "check certificate-authority-data and the server name of the kubeconfig's cluster (--kubeconfig, --context)",
        )
    } else if has(&["timed out", "timeout", "elapsed", "deadline"]) {
        (
            "no answer in time".to_owned(),
            "check the network and the server of the kubeconfig's cluster (--kubeconfig, --context); --request-timeout sets how long to wait",
        )
    } else if has(&[
        "connection reset",
        "broken pipe",
        "connection closed",
        "unexpected eof",
    ]) {
        (
            "the connection was closed".to_owned(),
            "check the server of the kubeconfig's cluster (--kubeconfig, --context) and any proxy in between",
        )
    } else {
        (
            "the connection failed".to_owned(),
            "check the server of the kubeconfig's cluster (--kubeconfig, --context) and the network",
        )
    };
    Failure::new(
        Exit::Failed,
        format!("cannot reach the API server at {server}: {what}"),
    )
    .hint(hint)
}

/// An error and its sources on one line.
pub fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// The contexts of the kubeconfig `connect` would read (`--kubeconfig`, else KUBECONFIG or
/// ~/.kube/config), with the namespace each names; none when there is no readable kubeconfig.
pub fn kubeconfig_contexts(paths: &[PathBuf]) -> Vec<(String, Option<String>)> {
    load_kubeconfig(paths)
        .ok()
        .flatten()
        .map(|it| it.contexts)
        .unwrap_or_default()
        .into_iter()
        .map(|it| {
            let namespace = it.context.and_then(|context| context.namespace);
            (it.name, namespace)
        })
        .collect()
}

/// Where the missing permission comes from: the rule of the generated Role that grants it.
pub fn grant_hint(permission: &crate::cluster::access::Permission) -> String {
    match crate::cluster::rules::rule_granting(permission) {
        Some(rule) => {
            format!("grant it with the Role from `kubectl update rbac` (see rbac/), rule {rule}")
        }
        None => "kubectl-update does not need this permission; please report it".to_owned(),
    }
}
