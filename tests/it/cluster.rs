//! A simulated cluster per test (tests/fake-cluster over HTTPS), the real `kubectl` against it, and
//! helpers to read cluster state for assertions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fake_cluster::{FakeCluster, Options};
use serde_json::Value;

use crate::support::{Run, command, repo_root, run_with};

/// Simulated durations run five times faster than real ones in the tests.
pub const TIME_SCALE: f64 = 0.2;

pub struct Cluster {
    pub fake: FakeCluster,
    dir: tempfile::TempDir,
    /// The runtime `FakeCluster::start` ran on; kept until the cluster is dropped.
    _runtime: tokio::runtime::Runtime,
}

impl Cluster {
    /// Starts a cluster holding the given scenario files (relative to tests/it/scenarios).
    pub fn start(scenarios: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = Options {
            time_scale: TIME_SCALE,
            kubeconfig_out: Some(dir.path().join("kubeconfig")),
            manifests: scenarios.iter().map(|it| scenario(it)).collect(),
            ..Options::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let fake = runtime
            .block_on(FakeCluster::start(options))
            .expect("the simulated cluster starts");
        Cluster {
            fake,
            dir,
            _runtime: runtime,
        }
    }

    pub fn kubeconfig(&self) -> &Path {
        self.fake.kubeconfig_path()
    }

    /// Runs kubectl-update against this cluster (admin credentials unless `--kubeconfig` is given).
    pub fn update(&self, args: &[&str]) -> Run {
        let mut cmd = command();
        cmd.env("KUBECONFIG", self.kubeconfig());
        run_with(cmd, args, None)
    }

    /// Runs the real kubectl against this cluster.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let mut cmd = assert_cmd::Command::new("kubectl");
        cmd.env("KUBECONFIG", self.kubeconfig())
            .env("KUBECACHEDIR", self.dir.path().join("kubectl-cache"));
        run_with(cmd, args, None)
    }

    /// `kubectl get -o json` of one object or list.
    pub fn get(&self, args: &[&str]) -> Value {
        let mut full = vec!["get", "-o", "json"];
        full.extend_from_slice(args);
        let res = self.kubectl(&full);
        assert_eq!(res.code, 0, "kubectl {full:?}: {}", res.stderr);
        serde_json::from_str(&res.stdout).expect("kubectl prints JSON")
    }

    /// The image of a container, read through kubectl.
    pub fn image(&self, namespace: &str, resource: &str, container: &str) -> String {
        let object = self.get(&["-n", namespace, resource]);
        let kind = object["kind"].as_str().unwrap_or_default();
        let pod_spec = if kind == "CronJob" {
            "/spec/jobTemplate/spec/template/spec"
        } else {
            "/spec/template/spec"
        };
        for list in ["containers", "initContainers"] {
            for item in object
                .pointer(&format!("{pod_spec}/{list}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if item["name"] == container {
                    return item["image"].as_str().unwrap_or_default().to_owned();
                }
            }
        }
        panic!("{namespace}/{resource} has no container {container}")
    }

    /// Generation and annotations of every workload and Job, and which Jobs exist: unchanged means
    /// nothing was written (controllers keep changing status, and with it resourceVersion).
    pub fn versions(&self) -> BTreeMap<String, String> {
        let list = self.get(&["-A", "deployments,statefulsets,daemonsets,cronjobs,jobs"]);
        list["items"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|item| {
                let key = format!(
                    "{}/{}/{}",
                    item["kind"].as_str().unwrap_or_default(),
                    item.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    item.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                );
                let written = format!(
                    "{} {}",
                    item["metadata"]["generation"], item["metadata"]["annotations"]
                );
                (key, written)
            })
            .collect()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn scenario(name: &str) -> PathBuf {
    repo_root().join("tests/it/scenarios").join(name)
}

/// Parses a run's stdout as the JSON report.
#[track_caller]
pub fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("stdout is not a JSON report ({err}): {}", run.render()))
}
