//! A simulated Kubernetes API server for tests and demos: real-enough discovery, CRUD, watch,
//! patch, RBAC, TokenRequest and fault injection over HTTPS, with simulated controllers ticking
//! against the same storage.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cluster = fake_cluster::FakeCluster::start(fake_cluster::Options::default()).await?;
//! let client = cluster.client().await?;
//! # let _ = client; Ok(()) }
//! ```

pub mod access_log;
pub mod admission;
mod api;
pub mod auth;
pub mod controllers;
pub mod defaults;
pub mod discovery;
pub mod errors;
pub mod faults;
pub mod key;
pub mod kubeconfig;
mod logs;
pub mod managed;
pub mod manifests;
pub mod openapi;
pub mod patch;
mod proto_schema;
mod proto_wire;
pub mod protobuf;
pub mod rbac;
pub mod resources;
mod reviews;
pub mod selector;
pub mod server;
pub mod storage;
pub mod table;
pub mod tls;
pub mod validation;
mod watch;

#[cfg(test)]
mod tests;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use crate::{
    access_log::AccessLog,
    auth::{Authenticator, UserInfo},
    faults::Faults,
    server::{Settings, State},
    storage::{Storage, WriteMode},
};

/// How to run the simulator. `Default` is a 3-node HTTPS cluster on 127.0.0.1 with an ephemeral port.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where to write the admin kubeconfig; a temporary file when None.
    pub kubeconfig_out: Option<PathBuf>,
    /// Number of simulated nodes (`node-1` ...).
    pub nodes: usize,
    /// Added to every request.
    pub latency_ms: u64,
    /// Share of non-watch resource requests answered 500.
    pub error_rate: f64,
    /// Share of non-watch resource requests answered 429 with `Retry-After: 1`.
    pub throttle_rate: f64,
    /// The server ends every watch after this many seconds.
    pub watch_timeout_s: Option<u64>,
    /// Share of watch starts answered with a 410 Expired ERROR event.
    pub gone_rate: f64,
    /// Seed of the fault generator.
    pub seed: u64,
    /// Writes one tab-separated line per request here.
    pub access_log: Option<PathBuf>,
    /// Scales simulated durations (passed to the controllers).
    pub time_scale: f64,
    /// Files or directories of YAML created at start.
    pub manifests: Vec<PathBuf>,
    /// Serve plain HTTP (requests without a token are then treated as the admin).
    pub plain_http: bool,
    /// Run the controller tick (every 50 ms).
    pub controllers: bool,
    /// Watch events kept per resource for resumption.
    pub history_limit: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            kubeconfig_out: None,
            nodes: 3,
            latency_ms: 0,
            error_rate: 0.0,
            throttle_rate: 0.0,
            watch_timeout_s: None,
            gone_rate: 0.0,
            seed: 0,
            access_log: None,
            time_scale: 1.0,
            manifests: Vec::new(),
            plain_http: false,
            controllers: true,
            history_limit: 2000,
        }
    }
}

/// A running simulator. Dropping it shuts the server down.
pub struct FakeCluster {
    url: String,
    ca_pem: Option<String>,
    admin_token: String,
    kubeconfig_yaml: String,
    kubeconfig_path: PathBuf,
    remove_kubeconfig: bool,
    state: Arc<State>,
    shutdown: signal::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The name every simulated node gets.
pub fn node_name(i: usize) -> String {
    format!("node-{i}")
}

fn node(i: usize) -> (Value, Value) {
    let name = node_name(i);
    let now = storage::now_rfc3339();
    let object = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/worker": "",
        }},
        "spec": {"podCIDR": format!("10.244.{i}.0/24"), "podCIDRs": [format!("10.244.{i}.0/24")]},
    });
    let status = json!({
        "capacity": {"cpu": "4", "memory": "16374624Ki", "pods": "110", "ephemeral-storage": "102626232Ki"},
        "allocatable": {"cpu": "4", "memory": "16272224Ki", "pods": "110", "ephemeral-storage": "94580335255"},
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
        ],
        "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + i)}, {"type": "Hostname", "address": name}],
        "nodeInfo": {"kubeletVersion": "v1.32.4", "kubeProxyVersion": "v1.32.4", "containerRuntimeVersion": "containerd://1.7.24",
            "operatingSystem": "linux", "architecture": "amd64", "osImage": "Fake Linux", "kernelVersion": "6.1.0",
            "machineID": "", "systemUUID": "", "bootID": ""},
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    });
    (object, status)
}

/// Fills a fresh storage with what every cluster has.
fn bootstrap(storage: &mut Storage, nodes: usize) -> anyhow::Result<()> {
    let def = |p: &str| resources::by_plural(p).with_context(|| format!("resource {p}"));
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        storage.create(
            def("namespaces")?,
            "",
            json!({"metadata": {"name": ns}}),
            false,
        )?;
    }
    for (res, obj) in rbac::bootstrap_objects() {
        storage.create(def(res)?, "", obj, false)?;
    }
    for i in 1..=nodes {
        let (object, status) = node(i);
        let created = storage.create(def("nodes")?, "", object, false)?;
        let mut with_status = created;
        with_status["status"] = status;
        storage.update(
            def("nodes")?,
            "",
            &node_name(i),
            with_status,
            WriteMode::Status,
            false,
        )?;
    }
    Ok(())
}

fn url_for(addr: SocketAddr, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("{scheme}://{host}:{}", addr.port())
}

impl FakeCluster {
    /// Starts the server on its own thread and runtime, bootstraps the cluster, loads manifests
    /// and writes the admin kubeconfig.
    pub async fn start(options: Options) -> anyhow::Result<FakeCluster> {
        let identity = if options.plain_http {
            None
        } else {
            Some(tls::generate()?)
        };
        let std_listener = std::net::TcpListener::bind(options.listen)
            .with_context(|| format!("binding {}", options.listen))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let url = url_for(addr, identity.is_some());

        let mut storage = Storage::new(options.history_limit.max(1));
        bootstrap(&mut storage, options.nodes)?;
        manifests::apply(&mut storage, manifests::read(&options.manifests)?)?;

        let admin_token = auth::random_token();
        let mut authenticator = Authenticator::default();
        authenticator.register(&admin_token, UserInfo::new("admin", &["system:masters"]));

        let access_log = match &options.access_log {
            Some(p) => {
                Some(AccessLog::create(p).with_context(|| format!("creating {}", p.display()))?)
            }
            None => None,
        };
        let (shutdown, shutdown_rx) = signal::channel(false);
        let state = Arc::new(State {
            storage: Mutex::new(storage),
            auth: Mutex::new(authenticator),
            faults: Mutex::new(Faults::new(
                options.error_rate,
                options.throttle_rate,
                options.gone_rate,
                options.seed,
            )),
            access_log,
            settings: Settings {
                latency: Duration::from_millis(options.latency_ms),
                watch_timeout: options.watch_timeout_s.map(Duration::from_secs),
                plain_http: options.plain_http,
            },
            shutdown: shutdown_rx.clone(),
        });

        let ca_pem = identity.as_ref().map(|i| i.ca_pem.clone());
        let kubeconfig_yaml =
            kubeconfig::render(&url, ca_pem.as_deref(), &admin_token, "admin", "default");
        let (kubeconfig_path, remove_kubeconfig) = match &options.kubeconfig_out {
            Some(p) => (p.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "fake-cluster-{}-{}.kubeconfig",
                    std::process::id(),
                    storage::random_suffix(8)
                )),
                true,
            ),
        };
        write_private(&kubeconfig_path, &kubeconfig_yaml)?;

        let tls = identity.map(|i| tokio_rustls::TlsAcceptor::from(i.server_config));
        let thread_state = state.clone();
        let nodes: Vec<String> = (1..=options.nodes).map(node_name).collect();
        let time_scale = options.time_scale;
        let run_controllers = options.controllers;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("fake-cluster".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let ticker = run_controllers.then(|| {
                        tokio::spawn(tick(
                            thread_state.clone(),
                            nodes,
                            time_scale,
                            shutdown_rx.clone(),
                        ))
                    });
                    server::serve(listener, tls, thread_state, shutdown_rx).await;
                    // Let the controller tick see the shutdown and return before the runtime (and
                    // its timers) go away under it.
                    if let Some(ticker) = ticker {
                        let _ = ticker.await;
                    }
                });
                rt.shutdown_background();
            })?;
        ready_rx.recv().context("the server thread died")??;
        Ok(FakeCluster {
            url,
            ca_pem,
            admin_token,
            kubeconfig_yaml,
            kubeconfig_path,
            remove_kubeconfig,
            state,
            shutdown,
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin kubeconfig file.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    pub fn kubeconfig_yaml(&self) -> &str {
        &self.kubeconfig_yaml
    }

    /// The admin's bearer token (user `admin`, group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// PEM of the CA that signed the server certificate (None with plain HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// An admin `kube::Client` (namespace `default`).
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        self.client_for_token(&self.admin_token, "default").await
    }

    /// A `kube::Client` authenticating with `token`.
    pub async fn client_for_token(
        &self,
        token: &str,
        namespace: &str,
    ) -> anyhow::Result<kube::Client> {
        let yaml = self.kubeconfig_for_token(token, namespace);
        let kc = kube::config::Kubeconfig::from_yaml(&yaml)?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// Registers a static bearer token for `user` in `groups` (plus `system:authenticated`).
    pub fn mint_token(&self, user: &str, groups: &[&str]) -> String {
        let token = auth::random_token();
        self.state
            .authenticator()
            .register(&token, UserInfo::new(user, groups));
        token
    }

    /// Issues a token for an existing ServiceAccount, as TokenRequest does.
    pub fn service_account_token(
        &self,
        namespace: &str,
        name: &str,
        seconds: i64,
    ) -> anyhow::Result<String> {
        let uid = {
            let storage = self.state.storage();
            let def = resources::by_plural("serviceaccounts").context("serviceaccounts")?;
            let sa = storage
                .get(def, namespace, name)
                .with_context(|| format!("serviceaccount {namespace}/{name} not found"))?;
            sa.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let audiences = vec!["https://kubernetes.default.svc.cluster.local".to_string()];
        Ok(self
            .state
            .authenticator()
            .issue_service_account_token(namespace, name, &uid, &audiences, seconds)
            .0)
    }

    /// A kubeconfig for this cluster using `token`, with `namespace` as the context namespace.
    pub fn kubeconfig_for_token(&self, token: &str, namespace: &str) -> String {
        kubeconfig::render(&self.url, self.ca_pem.as_deref(), token, "user", namespace)
    }

    /// Writes [`Self::kubeconfig_for_token`] to `path` (mode 0600).
    pub fn write_kubeconfig_for_token(
        &self,
        path: impl AsRef<Path>,
        token: &str,
        namespace: &str,
    ) -> anyhow::Result<()> {
        write_private(path.as_ref(), &self.kubeconfig_for_token(token, namespace))
    }

    /// Creates (or replaces) the objects of a YAML text, as `--manifests` does.
    pub fn apply_yaml(&self, yaml: &str) -> anyhow::Result<()> {
        let docs = manifests::parse(yaml)?;
        manifests::apply(&mut self.state.storage(), docs)
    }

    /// Runs `f` with the storage locked (direct access for tests; writes notify watchers).
    pub fn with_storage<R>(&self, f: impl FnOnce(&mut Storage) -> R) -> R {
        f(&mut self.state.storage())
    }

    /// Forgets the watch history, so that resuming any watch gets 410 Expired.
    pub fn compact_history(&self) {
        self.state.storage().compact();
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if self.remove_kubeconfig {
            let _ = std::fs::remove_file(&self.kubeconfig_path);
        }
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// The controller tick period.
const TICK: Duration = Duration::from_millis(50);

/// The controller loop: every 50 ms, one `reconcile_all` under the storage lock.
async fn tick(
    state: Arc<State>,
    nodes: Vec<String>,
    time_scale: f64,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported = false;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        let ctx = controllers::SimContext {
            now: jiff::Timestamp::now(),
            time_scale,
            nodes: nodes.clone(),
        };
        let started = std::time::Instant::now();
        let result = tokio::task::block_in_place(|| {
            let mut storage = state.storage();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                controllers::reconcile_all(&mut *storage, &ctx)
            }))
        });
        // A slow tick (big cluster, debug build) must not starve API requests of the lock: rest
        // at least as long as the tick took.
        let took = started.elapsed();
        if took > TICK {
            tokio::select! {
                _ = tokio::time::sleep(took) => {}
                _ = shutdown.changed() => return,
            }
        }
        if result.is_err() && !reported {
            eprintln!("fake-cluster: a controller panicked; continuing");
            reported = true;
        }
    }
}
