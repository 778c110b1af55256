//! The embeddable simulator: `FakeCluster::start` binds the listener, bootstraps storage, loads
//! manifests, writes the admin kubeconfig and runs the server and the controller loop on their own
//! thread; dropping it stops them. `options` says how to run it, `bootstrap` what every cluster
//! starts with, `credentials` hands out tokens, clients and kubeconfigs, `tick` drives the
//! controllers. Never serves a request itself (see `server`).

mod bootstrap;
mod credentials;
mod options;
mod tick;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use tokio::sync::watch as signal;

use crate::{
    access_log::AccessLog,
    auth::{Authenticator, UserInfo},
    faults::Faults,
    server::{Settings, State},
    storage::Storage,
};
use crate::{auth, kubeconfig, manifests, server, storage, tls};

use bootstrap::bootstrap;
use credentials::write_private;
use tick::tick;

pub use bootstrap::node_name;
pub use options::Options;

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
