//! The simulated cluster for one measurement: a `fake_cluster::FakeCluster` in this process (on
//! its own thread and runtime), an access log followed live, a kubeconfig for the user `ci` (in
//! `system:masters`) that the measured tools use, and helpers the harness itself uses with the
//! admin identity — so the harness's own requests are told apart in the log by user.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use fake_cluster::{FakeCluster, Options};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;

use super::access::{Entry, Tail};

/// The user the measured tools run as.
pub const CI_USER: &str = "ci";

/// How a cluster is set up.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub latency_ms: u64,
    pub controllers: bool,
    /// YAML created before the server starts.
    pub manifests: Vec<PathBuf>,
}

pub struct Sim {
    pub rt: tokio::runtime::Runtime,
    fake: Option<FakeCluster>,
    pub admin: kube::Client,
    /// Kubeconfig of the `ci` user.
    pub kubeconfig: PathBuf,
    pub tail: Tail,
    ci_token: String,
    dir: tempfile::TempDir,
}

impl Sim {
    pub fn start(setup: &Setup) -> anyhow::Result<Sim> {
        let dir = tempfile::tempdir()?;
        let access_log = dir.path().join("access.log");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let options = Options {
            kubeconfig_out: Some(dir.path().join("admin.kubeconfig")),
            access_log: Some(access_log.clone()),
            latency_ms: setup.latency_ms,
            controllers: setup.controllers,
            manifests: setup.manifests.clone(),
            ..Options::default()
        };
        let fake = rt
            .block_on(FakeCluster::start(options))
            .context("starting the simulated cluster")?;
        let admin = rt.block_on(fake.client())?;
        let token = fake.mint_token(CI_USER, &["system:masters"]);
        let kubeconfig = dir.path().join("ci.kubeconfig");
        fake.write_kubeconfig_for_token(&kubeconfig, &token, "default")?;
        let tail = Tail::follow(&access_log);
        Ok(Sim {
            rt,
            fake: Some(fake),
            admin,
            kubeconfig,
            tail,
            ci_token: token,
            dir,
        })
    }

    pub fn fake(&self) -> &FakeCluster {
        self.fake.as_ref().expect("the cluster runs until dropped")
    }

    /// A fresh directory (for kubectl's discovery cache, one per measured run: a CI job starts
    /// with none).
    pub fn fresh_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(path)
    }

    /// A kube client acting as the `ci` user.
    pub async fn ci_client(&self) -> anyhow::Result<kube::Client> {
        self.fake()
            .client_for_token(&self.ci_token, "default")
            .await
    }

    pub fn kubeconfig_str(&self) -> String {
        self.kubeconfig.display().to_string()
    }

    /// Requests the measured tools made from log mark `mark` on.
    pub fn ci_requests_since(&self, mark: usize) -> Vec<Entry> {
        self.tail
            .since(mark)
            .into_iter()
            .filter(|it| it.user == CI_USER)
            .collect()
    }

    /// Waits until every Deployment in `namespaces` has rolled out and no pod is left over.
    pub fn wait_settled(&self, namespaces: &[String], limit: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let mut settled = true;
            for namespace in namespaces {
                if !self
                    .rt
                    .block_on(namespace_settled(&self.admin, namespace))?
                {
                    settled = false;
                    break;
                }
            }
            if settled {
                return Ok(());
            }
            if started.elapsed() > limit {
                bail!("deployments in {namespaces:?} did not settle within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// When the Deployment's rollout was marked complete by the simulated controller: the
    /// `lastUpdateTime` of its `Progressing` condition with reason `NewReplicaSetAvailable`.
    pub fn completed_at(&self, namespace: &str, name: &str) -> anyhow::Result<Option<SystemTime>> {
        let api: Api<Deployment> = Api::namespaced(self.admin.clone(), namespace);
        let deployment = self.rt.block_on(api.get(name))?;
        let condition = deployment
            .status
            .and_then(|it| it.conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|it| {
                it.type_.as_deref() == Some("Progressing")
                    && it.reason.as_deref() == Some("NewReplicaSetAvailable")
            });
        Ok(condition
            .and_then(|it| it.last_update_time)
            .map(|it| system_time(it.0)))
    }

    /// The first "Failed to pull image" event in the namespace, by the simulator's clock.
    pub fn first_pull_error(&self, namespace: &str) -> anyhow::Result<Option<SystemTime>> {
        let api: Api<Event> = Api::namespaced(self.admin.clone(), namespace);
        let events = self.rt.block_on(api.list(&ListParams::default()))?;
        Ok(events
            .items
            .into_iter()
            .filter(|it| {
                it.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Failed to pull image"))
            })
            .filter_map(|it| it.first_timestamp.map(|t| system_time(t.0)))
            .min())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(fake) = self.fake.take() {
            fake.shutdown();
        }
    }
}

fn system_time(at: jiff::Timestamp) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(at.as_millisecond().max(0) as u64)
}

async fn namespace_settled(client: &kube::Client, namespace: &str) -> anyhow::Result<bool> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut want = 0;
    for deployment in deployments.list(&ListParams::default()).await?.items {
        let spec = deployment.spec.replicas.unwrap_or(1);
        let generation = deployment.metadata.generation.unwrap_or_default();
        let status = deployment.status.unwrap_or_default();
        let rolled_out = status.observed_generation.unwrap_or_default() >= generation
            && status.updated_replicas.unwrap_or_default() == spec
            && status.replicas.unwrap_or_default() == spec
            && status.available_replicas.unwrap_or_default() == spec;
        if !rolled_out {
            return Ok(false);
        }
        want += spec as usize;
    }
    Ok(pods.list(&ListParams::default()).await?.items.len() == want)
}

/// Writes YAML documents to `dir/name` and returns the path.
pub fn write_yaml(dir: &Path, name: &str, docs: &[String]) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, docs.join("---\n"))?;
    Ok(path)
}

/// A Namespace document.
pub fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

/// How a benchmark Deployment looks.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub replicas: u32,
    pub image: &'a str,
    /// A readinessProbe with this `initialDelaySeconds` stretches the rollout.
    pub ready_after_s: Option<u32>,
    pub progress_deadline_s: Option<u32>,
}

/// A Deployment opted in with classifier `stable`, one container `app`.
pub fn deployment(spec: &Spec<'_>) -> String {
    let probe = spec.ready_after_s.map_or_else(String::new, |delay| {
        format!(
            "        readinessProbe:\n          exec: {{command: [\"true\"]}}\n          initialDelaySeconds: {delay}\n"
        )
    });
    let deadline = spec.progress_deadline_s.map_or_else(String::new, |it| {
        format!("  progressDeadlineSeconds: {it}\n")
    });
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {{bench: \"true\"}}\n  annotations:\n    kubectl-update.io/classifier: stable\nspec:\n  replicas: {replicas}\n{deadline}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: app\n        image: {image}\n{probe}",
        name = spec.name,
        namespace = spec.namespace,
        replicas = spec.replicas,
        image = spec.image,
    )
}
