//! What completion asks the kubeconfig and the cluster: contexts, namespaces, classifiers. The
//! cluster gets one second in all (kubectl waits for the answer with the user watching), and any
//! error, refusal or timeout just means fewer candidates. Reads only; never prints.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;

use crate::cluster::ClusterArgs;
use crate::cluster::discover::{self, Scope};
use crate::cluster::{self, Cluster};
use crate::plan::annotations::OptIn;

/// How long completion waits for the cluster.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(1);

/// The cluster and namespaces the words typed so far point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespaces: Vec<String>,
    all_namespaces: bool,
}

impl Lookup {
    /// Reads `--kubeconfig`, `--context`, `-n` and `-A` from the words before the one completed.
    pub fn from_words(words: &[OsString]) -> Lookup {
        let words: Vec<String> = words
            .iter()
            .map(|it| it.to_string_lossy().into_owned())
            .collect();
        let mut lookup = Lookup::default();
        let mut idx = 0;
        while idx < words.len() {
            let word = words[idx].as_str();
            let (flag, attached) = match word.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ if word.starts_with("-n") && word.len() > 2 && !word.starts_with("--") => {
                    ("-n", Some(word[2..].trim_start_matches('=').to_owned()))
                }
                _ => (word, None),
            };
            let takes_value = matches!(flag, "--kubeconfig" | "--context" | "-n" | "--namespace");
            let value = match attached {
                Some(value) => Some(value),
                None if takes_value => {
                    idx += 1;
                    words.get(idx).cloned()
                }
                None => None,
            };
            match (flag, value) {
                ("--kubeconfig", Some(value)) => lookup.kubeconfig = Some(PathBuf::from(value)),
                ("--context", Some(value)) => lookup.context = Some(value),
                ("-n" | "--namespace", Some(value)) => lookup.namespaces.extend(
                    value
                        .split(',')
                        .filter(|it| !it.is_empty())
                        .map(str::to_owned),
                ),
                ("-A" | "--all-namespaces", _) => lookup.all_namespaces = true,
                _ => (),
            }
            idx += 1;
        }
        lookup
    }

    /// The kubeconfig's context names.
    pub fn contexts(&self) -> Vec<String> {
        cluster::kubeconfig_contexts(self.kubeconfig.as_slice())
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// The namespaces the kubeconfig's contexts name, and the cluster's when it lists them.
    pub fn namespaces(&self) -> Vec<String> {
        let mut res: BTreeSet<String> = cluster::kubeconfig_contexts(self.kubeconfig.as_slice())
            .into_iter()
            .filter_map(|(_, namespace)| namespace)
            .collect();
        let listed = self.ask_cluster(async |cluster: Cluster| {
            let namespaces: Api<Namespace> = Api::all(cluster.client);
            let list = namespaces.list_metadata(&ListParams::default()).await?;
            anyhow::Ok(
                list.items
                    .into_iter()
                    .filter_map(|it| it.metadata.name)
                    .collect::<Vec<String>>(),
            )
        });
        res.extend(listed.unwrap_or_default());
        res.into_iter().collect()
    }

    /// The classifiers that workloads and migration templates in scope (`-n`, `-A`, else the
    /// context's namespace) list.
    pub fn classifiers(&self) -> Vec<String> {
        let found = self.ask_cluster(async |cluster: Cluster| {
            let scope = match (self.all_namespaces, self.namespaces.is_empty()) {
                (true, _) => Scope::All,
                (false, false) => Scope::Namespaces(self.namespaces.clone()),
                (false, true) => Scope::Namespaces(vec![cluster.default_namespace.clone()]),
            };
            discover::discover(&cluster, &scope).await
        });
        let mut res = BTreeSet::new();
        for item in found.unwrap_or_default() {
            if let Ok(Some(opt_in)) = OptIn::from_facts(&item.facts) {
                res.extend(opt_in.classifiers.iter().map(ToString::to_string));
            }
        }
        res.into_iter().collect()
    }

    /// Runs `ask` against the cluster, giving up (with `None`) after `CLUSTER_TIMEOUT`.
    fn ask_cluster<T>(&self, ask: impl AsyncFnOnce(Cluster) -> anyhow::Result<T>) -> Option<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let args = ClusterArgs {
            kubeconfigs: self.kubeconfig.iter().cloned().collect(),
            context: self.context.clone(),
            request_timeout: Some(CLUSTER_TIMEOUT),
        };
        runtime.block_on(async {
            let work = async {
                let cluster = cluster::connect(&args).await.ok()?;
                ask(cluster).await.ok()
            };
            tokio::time::timeout(CLUSTER_TIMEOUT, work)
                .await
                .ok()
                .flatten()
        })
    }
}
