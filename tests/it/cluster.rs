//! A simulated cluster per test (tests/fake-cluster over HTTPS), the real `kubectl` against it, and
//! helpers to read cluster state for assertions.
//!
//! Backends: the simulator by default; with `KUBECTL_UPDATE_E2E=control-plane`, a real control plane
//! started for each test (tests/control-plane/up); with `KUBECTL_UPDATE_E2E_KUBECONFIG` set, an
//! existing real cluster, where each test re-creates its scenario objects (run them one at a time:
//! `--test-threads=1`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fake_cluster::{FakeCluster, Options};
use serde_json::Value;

use crate::control_plane::{self, ControlPlane};
use crate::support::{Run, command, kubectl_program, repo_root, run_with};

/// Simulated durations run five times faster than real ones in the tests.
pub const TIME_SCALE: f64 = 0.2;

pub struct Cluster {
    backend: Backend,
    dir: tempfile::TempDir,
    access_log: Option<AccessLog>,
}

/// Where a test's access log comes from: the simulator's own, or the real API server's audit log
/// (from the line where the test's scenario was ready on).
enum AccessLog {
    Simulated(PathBuf),
    Audit { path: PathBuf, skip: usize },
}

enum Backend {
    /// The simulator (it serves from a thread and runtime of its own).
    Simulated(Box<FakeCluster>),
    /// A real API server: an existing cluster, or a control plane started for this test.
    Real {
        kubeconfig: PathBuf,
        /// Stops the control plane when the test's cluster is dropped.
        control_plane: Option<ControlPlane>,
    },
}

/// The variable that points the live tests at a real cluster.
pub const REAL_CLUSTER: &str = "KUBECTL_UPDATE_E2E_KUBECONFIG";

impl Cluster {
    /// Starts a cluster holding the given scenario files (relative to tests/it/scenarios).
    pub fn start(scenarios: &[&str]) -> Cluster {
        Cluster::start_with(scenarios, |_| ())
    }

    /// Like [`Cluster::start`], with simulator options (faults, latency, an access log) changed
    /// by `configure`. On a started control plane an access log is the API server's audit log
    /// (read it with [`Cluster::access_log`]); on an existing cluster there is none. The other
    /// options exist only on the simulator: tests that need them skip real backends, saying so.
    pub fn start_with(scenarios: &[&str], configure: impl FnOnce(&mut Options)) -> Cluster {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut options = Options {
            time_scale: TIME_SCALE,
            kubeconfig_out: Some(dir.path().join("kubeconfig")),
            manifests: scenarios.iter().map(|it| scenario(it)).collect(),
            ..Options::default()
        };
        configure(&mut options);
        if let Some(kubeconfig) = std::env::var_os(REAL_CLUSTER) {
            let cluster = Cluster {
                backend: Backend::Real {
                    kubeconfig: PathBuf::from(kubeconfig),
                    control_plane: None,
                },
                dir,
                access_log: None,
            };
            cluster.reset(scenarios);
            return cluster;
        }
        if control_plane::selected() {
            let audit = options
                .access_log
                .is_some()
                .then(|| dir.path().join("audit.log"));
            let started = ControlPlane::start(dir.path(), &options.manifests, audit.as_deref());
            let mut cluster = Cluster {
                backend: Backend::Real {
                    kubeconfig: started.kubeconfig().to_owned(),
                    control_plane: Some(started),
                },
                dir,
                access_log: None,
            };
            cluster.wait_for_rollouts();
            for path in &options.manifests {
                let yaml = std::fs::read_to_string(path).expect("the scenario is readable");
                cluster.serve_script_logs(&yaml);
            }
            cluster.access_log = audit.map(|path| AccessLog::Audit {
                skip: control_plane::audit_lines(&path),
                path,
            });
            return cluster;
        }
        let access_log = options.access_log.clone().map(AccessLog::Simulated);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let fake = runtime
            .block_on(FakeCluster::start(options))
            .expect("the simulated cluster starts");
        Cluster {
            backend: Backend::Simulated(Box::new(fake)),
            dir,
            access_log,
        }
    }

    /// The requests made since the scenario was ready, one tab-separated line each (method, path
    /// and query, status, user, milliseconds), from the simulator's access log or the real API
    /// server's audit log; the control plane's own components are left out.
    #[track_caller]
    pub fn access_log(&self) -> String {
        match self
            .access_log
            .as_ref()
            .expect("the test asked for an access log")
        {
            AccessLog::Simulated(path) => std::fs::read_to_string(path).expect("the access log"),
            AccessLog::Audit { path, skip } => control_plane::audit_as_access_log(path, *skip),
        }
    }

    /// True where the image-tag conventions hold (`missing-` and `*.invalid` never pull, `crash-`
    /// crash-loops, `unready-` never becomes Ready, Job scripts end with their `exit N`): on the
    /// simulator, and on a control plane started by the tests, whose kwok Stages reproduce them.
    /// Not on an existing cluster, which pulls real images. The admin is the user `admin` there too.
    pub fn conventions(&self) -> bool {
        match &self.backend {
            Backend::Simulated(_) => true,
            Backend::Real { control_plane, .. } => control_plane.is_some(),
        }
    }

    /// True on the simulator, whose image-tag conventions (`crash-`, `unready-`) a real registry
    /// does not share.
    pub fn simulated(&self) -> bool {
        matches!(self.backend, Backend::Simulated(_))
    }

    pub fn kubeconfig(&self) -> &Path {
        match &self.backend {
            Backend::Simulated(fake) => fake.kubeconfig_path(),
            Backend::Real { kubeconfig, .. } => kubeconfig,
        }
    }

    /// On a real cluster: deletes and re-creates the scenario objects, and waits for them to roll out.
    fn reset(&self, scenarios: &[&str]) {
        for name in scenarios {
            let path = scenario(name).display().to_string();
            let objects = std::fs::read_to_string(&path).expect("the scenario is readable");
            let workloads_only: Vec<&str> = objects
                .split("\n---\n")
                .filter(|doc| !doc.contains("kind: Namespace"))
                .collect();
            let file = self.path(&format!("workloads-{name}"));
            std::fs::write(&file, workloads_only.join("\n---\n")).expect("a scratch file");
            self.kubectl(&[
                "delete",
                "-f",
                &file.display().to_string(),
                "--ignore-not-found",
                "--wait",
            ]);
            let applied = self.kubectl(&["apply", "-f", &path]);
            assert_eq!(applied.code, 0, "{}", applied.render());
        }
        self.wait_for_rollouts();
    }

    /// Waits until the scenario workloads have rolled out (on a real cluster).
    fn wait_for_rollouts(&self) {
        for namespace in ["shop", "billing", "default"] {
            for kind in ["deployment", "statefulset", "daemonset"] {
                self.kubectl(&["rollout", "status", "-n", namespace, kind, "--timeout=180s"]);
            }
        }
    }

    /// The simulator itself (tokens, direct storage access); `None` on a real cluster.
    #[allow(dead_code, reason = "used by the least-privilege tests")]
    pub fn fake(&self) -> Option<&FakeCluster> {
        match &self.backend {
            Backend::Simulated(fake) => Some(fake),
            Backend::Real { .. } => None,
        }
    }

    /// Runs kubectl-update against this cluster (admin credentials unless `--kubeconfig` is given).
    pub fn update(&self, args: &[&str]) -> Run {
        let mut cmd = command();
        cmd.env("KUBECONFIG", self.kubeconfig());
        run_with(cmd, args, None)
    }

    /// The real kubectl with `kubeconfig` and a discovery cache of this test's own.
    pub fn kubectl_command(&self, kubeconfig: &Path, cache: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(kubectl_program());
        cmd.env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join(cache));
        cmd
    }

    /// Runs the real kubectl against this cluster, as the admin.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let cmd = self.kubectl_command(self.kubeconfig(), "kubectl-cache");
        run_with(cmd, args, None)
    }

    /// On a control plane started by the tests: makes kwok serve the `echo` lines of the Jobs'
    /// scripts in `yaml` as their containers' logs, since kwok runs no commands. Elsewhere the
    /// containers' own output is the log.
    fn serve_script_logs(&self, yaml: &str) {
        if !matches!(
            &self.backend,
            Backend::Real {
                control_plane: Some(_),
                ..
            }
        ) {
            return;
        }
        for (namespace, container, lines) in control_plane::script_logs(yaml) {
            let object =
                control_plane::cluster_logs(self.dir.path(), &namespace, &container, &lines);
            let cmd = self.kubectl_command(self.kubeconfig(), "kubectl-cache");
            let res = run_with(cmd, &["apply", "-f", "-"], Some(&object));
            assert_eq!(res.code, 0, "kwok ClusterLogs: {}", res.render());
        }
    }

    /// `kubectl apply -f -` of a YAML text, as the admin.
    #[track_caller]
    pub fn apply(&self, yaml: &str) {
        self.serve_script_logs(yaml);
        let cmd = self.kubectl_command(self.kubeconfig(), "kubectl-cache");
        let res = run_with(cmd, &["apply", "-f", "-"], Some(yaml));
        assert_eq!(res.code, 0, "kubectl apply: {}", res.render());
    }

    /// Runs kubectl with another kubeconfig (another identity).
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let cmd = self.kubectl_command(kubeconfig, "kubectl-cache-as");
        run_with(cmd, args, None)
    }

    /// The resourceVersion of every object of `resources` (a kubectl list such as
    /// `deployments,jobs`) in the namespaces `keep` accepts.
    pub fn resource_versions(
        &self,
        resources: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> BTreeMap<String, String> {
        let list = self.get(&["-A", resources]);
        list["items"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|it| keep(it["metadata"]["namespace"].as_str().unwrap_or_default()))
            .map(|it| {
                (
                    format!(
                        "{}/{}/{}",
                        it["kind"].as_str().unwrap_or_default(),
                        it["metadata"]["namespace"].as_str().unwrap_or_default(),
                        it["metadata"]["name"].as_str().unwrap_or_default()
                    ),
                    it["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// [`Cluster::resource_versions`] once the controllers have nothing left to write: two
    /// readings a second apart agree.
    #[track_caller]
    pub fn settled_versions(
        &self,
        resources: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> BTreeMap<String, String> {
        let started = std::time::Instant::now();
        let mut last = self.resource_versions(resources, keep);
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let now = self.resource_versions(resources, keep);
            if now == last {
                return now;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the cluster does not settle: {now:#?}"
            );
            last = now;
        }
    }

    /// Waits until the API server refuses `kubeconfig`'s credentials (a token whose bound Secret
    /// was deleted: the server's authenticator reads Secrets through its cache, so give it a
    /// moment), and returns the refused `kubectl auth whoami`.
    #[track_caller]
    pub fn wait_until_refused(&self, kubeconfig: &Path) -> Run {
        let started = std::time::Instant::now();
        loop {
            let whoami = self.kubectl_as(kubeconfig, &["auth", "whoami"]);
            if whoami.code != 0 {
                return whoami;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the credentials still work 30 s later: {}",
                whoami.render()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
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
