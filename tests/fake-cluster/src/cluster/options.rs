//! How to run the simulator, and its defaults. Never starts anything.

use std::{net::SocketAddr, path::PathBuf};

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
