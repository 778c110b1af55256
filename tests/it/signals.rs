//! SIGINT and SIGTERM sent to the real binary: during migrations no workload is touched and the
//! copies are kept or deleted as `--on-interrupt` says; during the rollout what the run patched is
//! rolled back; both exit 130 with the report's `result: interrupted`. A second signal exits at
//! once and says how to finish by hand.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::support::{Run, repo_root};

/// Starts kubectl-update against the cluster without waiting for it (the environment of
/// `support::command`).
pub fn spawn(cluster: &Cluster, args: &[&str]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("kubectl-update"));
    cmd.current_dir(repo_root());
    for (key, _) in std::env::vars() {
        if key.starts_with("KUBECTL_UPDATE_") || key == "KUBECONFIG" || key.starts_with("CLICOLOR")
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env("HOME", std::env::temp_dir().join("kubectl-update-it-home"))
        .env("KUBECONFIG", cluster.kubeconfig())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-update starts")
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name}");
}

/// Waits for the child (at most `limit`) and collects what it printed.
pub fn finish(mut child: Child, limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("kubectl-update did not exit within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    (run, started.elapsed())
}

/// Polls until `ready` says so (at most 60 s).
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn copies(cluster: &Cluster) -> Vec<Value> {
    cluster.get(&[
        "-n",
        "shop",
        "jobs",
        "-l",
        "kubectl-update.io/migration-of=slow-migrate",
    ])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn copy_pod_running(cluster: &Cluster) -> bool {
    let pods = cluster.get(&[
        "-n",
        "shop",
        "pods",
        "-l",
        "kubectl-update.io/migration-of=slow-migrate",
    ]);
    pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|pod| pod["status"]["phase"] == "Running")
}

fn workloads(cluster: &Cluster) -> Vec<(String, String)> {
    cluster
        .versions()
        .into_iter()
        .filter(|(key, _)| !key.starts_with("Job/"))
        .collect()
}

fn interrupt_migration(signal_name: &str, on_interrupt: Option<&str>) -> (Cluster, Run) {
    let cluster = Cluster::start(&["shop.yaml", "slow-migration.yaml"]);
    let before = workloads(&cluster);
    let mut args = vec![
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ];
    if let Some(what) = on_interrupt {
        args.extend(["--on-interrupt", what]);
    }
    let child = spawn(&cluster, &args);
    wait_until("the migration copy runs", || copy_pod_running(&cluster));
    signal(&child, signal_name);
    let (run, took) = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 130, "{}", run.render());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["result"], "interrupted", "{}", run.render());
    assert_eq!(report["migrations"][0]["status"], "interrupted");
    for workload in report["workloads"].as_array().unwrap() {
        assert_eq!(workload["status"], "not-started", "{workload}");
    }
    assert_eq!(workloads(&cluster), before, "no workload was touched");
    assert!(
        run.stderr.contains(&format!("Received SIG{signal_name}")),
        "{}",
        run.stderr
    );
    (cluster, run)
}

#[test]
fn sigint_during_migrations_keeps_the_copy_by_default_and_touches_no_workload() {
    let (cluster, run) = interrupt_migration("INT", None);
    assert!(run.stderr.contains("kept"), "{}", run.stderr);
    let copies = copies(&cluster);
    assert_eq!(copies.len(), 1, "the copy is kept");
    assert!(
        copies[0]["metadata"]["deletionTimestamp"].is_null(),
        "{}",
        copies[0]
    );
    assert!(
        cluster.get(&["-n", "shop", "leases"])["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the lock is released"
    );
}

#[test]
fn sigterm_during_migrations_deletes_the_copy_when_asked() {
    let (cluster, run) = interrupt_migration("TERM", Some("delete"));
    assert!(run.stderr.contains("deleted"), "{}", run.stderr);
    wait_until("the copy is gone", || copies(&cluster).is_empty());
}

/// Starts an update whose new pods never become ready, and waits until it has patched.
fn start_stuck_rollout(cluster: &Cluster, extra: &[&str]) -> Child {
    let mut args = vec![
        "-i",
        "busybox:unready-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "60s",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let child = spawn(cluster, &args);
    wait_until("both workloads are patched", || {
        cluster.image("shop", "deployment/web", "app") == "busybox:unready-1"
            && cluster.image("shop", "deployment/canary-web", "app") == "busybox:unready-1"
    });
    child
}

#[test]
fn sigint_during_the_rollout_rolls_back_what_the_run_patched() {
    let cluster = Cluster::start(&["shop.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "sigint_during_the_rollout_rolls_back_what_the_run_patched",
            "needs never-ready `unready-` images",
        );
        return;
    }
    let child = start_stuck_rollout(&cluster, &[]);
    signal(&child, "INT");
    let (run, _) = finish(child, Duration::from_secs(60));
    assert_eq!(run.code, 130, "{}", run.render());
    let report: Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["result"], "interrupted");
    for workload in report["workloads"].as_array().unwrap() {
        assert_eq!(workload["status"], "rolled-back", "{workload}");
    }
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
    assert_eq!(
        cluster.image("shop", "statefulset/cache", "cache"),
        "docker.io/library/busybox:1.36",
        "other classifiers untouched"
    );
}

#[test]
fn sigint_with_no_rollback_leaves_the_patched_workloads() {
    let cluster = Cluster::start(&["shop.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "sigint_with_no_rollback_leaves_the_patched_workloads",
            "needs never-ready `unready-` images",
        );
        return;
    }
    let child = start_stuck_rollout(&cluster, &["--no-rollback"]);
    signal(&child, "INT");
    let (run, took) = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 130, "{}", run.render());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["result"], "interrupted");
    assert!(
        run.stderr
            .contains("to undo: kubectl update rollback -c canary"),
        "{}",
        run.stderr
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:unready-1"
    );
}

#[test]
fn a_second_signal_exits_at_once_saying_how_to_finish() {
    let cluster = Cluster::start(&["shop.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "a_second_signal_exits_at_once_saying_how_to_finish",
            "needs never-ready `unready-` images",
        );
        return;
    }
    let child = start_stuck_rollout(&cluster, &[]);
    signal(&child, "INT");
    signal(&child, "TERM");
    let (run, took) = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 130, "{}", run.render());
    assert!(took < Duration::from_secs(3), "exits at once: {took:?}");
    assert!(
        run.stderr.contains("Interrupted again: exiting now"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("shop/deployment/canary-web: "),
        "each workload's state: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("to finish by hand: kubectl update rollback -c canary -n shop"),
        "{}",
        run.stderr
    );
}
