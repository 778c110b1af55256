//! `fake-cluster`: runs the simulated API server until SIGINT/SIGTERM, printing `READY <url>`
//! once it listens and the kubeconfig is written. All the work happens in the library; this binary
//! only parses flags and waits for a signal.

use std::{io::Write, net::SocketAddr, path::PathBuf};

use clap::Parser;
use fake_cluster::{FakeCluster, Options};

/// A simulated Kubernetes API server.
#[derive(Debug, Parser)]
#[command(name = "fake-cluster", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to write the admin kubeconfig.
    #[arg(long)]
    kubeconfig_out: PathBuf,
    /// Number of simulated nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share (0..1) of non-watch requests answered 500.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share (0..1) of non-watch requests answered 429 with Retry-After: 1.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// End every watch after this many seconds.
    #[arg(long)]
    watch_timeout_s: Option<u64>,
    /// Share (0..1) of watch starts answered 410 Expired.
    #[arg(long, default_value_t = 0.0)]
    gone_rate: f64,
    /// Seed for the fault generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write a tab-separated line per request here.
    #[arg(long)]
    access_log: Option<PathBuf>,
    /// Scale simulated durations (container start-up, back-off, ...).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// YAML file or directory to create at start (repeatable).
    #[arg(long)]
    manifests: Vec<PathBuf>,
    /// Serve plain HTTP instead of HTTPS (tokenless requests act as the admin).
    #[arg(long)]
    plain_http: bool,
    /// Do not run the simulated controllers.
    #[arg(long)]
    no_controllers: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = Options {
        listen: args.listen,
        kubeconfig_out: Some(args.kubeconfig_out),
        nodes: args.nodes,
        latency_ms: args.latency_ms,
        error_rate: args.error_rate,
        throttle_rate: args.throttle_rate,
        watch_timeout_s: args.watch_timeout_s,
        gone_rate: args.gone_rate,
        seed: args.seed,
        access_log: args.access_log,
        time_scale: args.time_scale,
        manifests: args.manifests,
        plain_http: args.plain_http,
        controllers: !args.no_controllers,
        ..Options::default()
    };
    let cluster = FakeCluster::start(options).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY {}", cluster.url())?;
        out.flush()?;
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    cluster.shutdown();
    Ok(())
}
