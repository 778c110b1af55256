//! The per-namespace, per-classifier lock (a Lease `kubectl-update-<classifier>`): two runs started
//! at once update one after the other; a run waits for a live holder up to `--lock-timeout` and
//! then exits 1 naming it; a holder that stopped renewing is taken over; the Lease is gone after
//! every run.

use std::time::Duration;

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::signals::{finish, signal, spawn, wait_until};

fn leases(cluster: &Cluster) -> Vec<Value> {
    cluster.get(&["-n", "shop", "leases"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn hold(cluster: &Cluster, holder: &str, renewed: &str, seconds: u32) {
    let path = cluster.path("lease.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {{name: kubectl-update-canary, namespace: shop}}
spec:
  holderIdentity: {holder}
  leaseDurationSeconds: {seconds}
  acquireTime: \"{renewed}\"
  renewTime: \"{renewed}\"
"
        ),
    )
    .unwrap();
    let res = cluster.kubectl(&["apply", "-f", &path.display().to_string()]);
    assert_eq!(res.code, 0, "{}", res.render());
}

pub fn micro_now() -> String {
    // A MicroTime has six fractional digits.
    let output = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.000000Z"])
        .output()
        .expect("date runs");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn two_runs_started_at_once_update_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let cluster = Cluster::start_with(&["shop.yaml", "migrations.yaml"], |options| {
        options.access_log = Some(log.clone());
    });
    let first = spawn(
        &cluster,
        &[
            "-i",
            "busybox:1.37",
            "-c",
            "stable",
            "-n",
            "shop",
            "-o",
            "json",
        ],
    );
    let second = spawn(
        &cluster,
        &[
            "-i",
            "busybox:1.38",
            "-c",
            "stable",
            "-n",
            "shop",
            "-o",
            "json",
        ],
    );
    let pids = [first.id(), second.id()];
    let (a, _) = finish(first, Duration::from_secs(120));
    let (b, _) = finish(second, Duration::from_secs(120));
    assert_eq!(a.code, 0, "{}", a.render());
    assert_eq!(b.code, 0, "{}", b.render());
    assert_eq!(report(&a)["result"], "succeeded", "{}", a.render());
    assert_eq!(report(&b)["result"], "succeeded", "{}", b.render());
    // One of them waited, naming the other (host/pid/run).
    let (waiter, holder_pid) = if a.stderr.contains("Waiting for the lock") {
        (&a, pids[1])
    } else {
        (&b, pids[0])
    };
    assert!(
        waiter
            .stderr
            .contains("Waiting for the lock shop/kubectl-update-stable: held by ")
            && waiter.stderr.contains(&format!("/{holder_pid}/")),
        "the waiter names the holder: {}",
        waiter.stderr
    );
    let last_image = if std::ptr::eq(waiter, &a) {
        "busybox:1.37"
    } else {
        "busybox:1.38"
    };
    assert_eq!(cluster.image("shop", "deployment/web", "app"), last_image);
    assert!(leases(&cluster).is_empty(), "released at the end");

    // Every write to a workload or a Job happens while one run holds the Lease, and the two
    // holds do not overlap: create (201) ... delete, twice, in sequence.
    let text = cluster.access_log();
    let mut held = false;
    let mut holds = 0;
    let mut writes_per_hold = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (method, path, status) = (fields[0], fields[1], fields[2]);
        if path.contains("/leases") {
            match (method, status) {
                ("POST", "201") | ("PUT", "200") if !held => {
                    held = true;
                    holds += 1;
                    writes_per_hold.push(0);
                }
                ("POST", "201") => panic!("a second holder while held: {line}"),
                ("DELETE", "200") => held = false,
                _ => (),
            }
            continue;
        }
        let write = matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
            && (path.contains("/apis/apps/v1/") || path.contains("/apis/batch/v1/"))
            && status.starts_with('2');
        if write {
            assert!(held, "a write outside the lock: {line}");
            *writes_per_hold.last_mut().unwrap() += 1;
        }
    }
    assert_eq!(holds, 2, "{text}");
    assert!(
        writes_per_hold.iter().all(|it| *it > 0),
        "{writes_per_hold:?}"
    );
}

#[test]
fn a_live_holder_makes_the_run_wait_then_exit_1_naming_it() {
    let cluster = Cluster::start(&["shop.yaml"]);
    hold(&cluster, "ci-runner-7/4242/abcd", &micro_now(), 3600);
    let before = cluster.versions();
    let started = std::time::Instant::now();
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "--lock-timeout",
        "2s",
    ]);
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(
        res.stderr.contains(
            "Waiting for the lock shop/kubectl-update-canary: held by ci-runner-7/4242/abcd"
        ),
        "{}",
        res.stderr
    );
    assert!(
        res.stderr.contains(
            "error: another run holds the lock shop/kubectl-update-canary: ci-runner-7/4242/abcd"
        ),
        "{}",
        res.stderr
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the run waited for the lock"
    );
    assert_eq!(cluster.versions(), before, "nothing was written");
    assert_eq!(
        leases(&cluster)[0]["spec"]["holderIdentity"],
        "ci-runner-7/4242/abcd",
        "someone else's lock is left alone"
    );

    // --no-lock opts out.
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "--no-lock",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
}

#[test]
fn a_holder_that_stopped_renewing_is_taken_over() {
    let cluster = Cluster::start(&["shop.yaml"]);
    hold(
        &cluster,
        "ci-runner-1/99/dead",
        "2020-01-01T00:00:00.000000Z",
        30,
    );
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "canary", "-n", "shop"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stderr.contains(
            "Took over the lock shop/kubectl-update-canary from ci-runner-1/99/dead, which stopped renewing it"
        ),
        "{}",
        res.stderr
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.37"
    );
    assert!(leases(&cluster).is_empty(), "released at the end");
}

#[test]
fn the_lock_is_released_after_a_failure_and_a_retried_job_runs_cleanly() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:missing-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "1s",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    assert!(leases(&cluster).is_empty(), "released after the rollback");
    // The retried CI job, fixed: runs cleanly.
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(report(&res)["result"], "succeeded");
    // And once more: unchanged, nothing written (not even a Lease).
    let before = cluster.versions();
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(report(&res)["result"], "unchanged");
    assert_eq!(cluster.versions(), before);
    assert!(leases(&cluster).is_empty());
}

#[test]
fn a_rerun_after_success_writes_nothing_and_runs_no_migration_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let cluster = Cluster::start_with(&["shop.yaml", "migrations.yaml"], |options| {
        options.access_log = Some(log.clone());
    });
    let args = [
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop,billing",
        "-o",
        "json",
    ];
    let first = cluster.update(&args);
    assert_eq!(first.code, 0, "{}", first.render());
    assert_eq!(report(&first)["result"], "succeeded");
    let seen = cluster.access_log().lines().count();
    let again = cluster.update(&args);
    assert_eq!(again.code, 0, "{}", again.render());
    let again = report(&again);
    assert_eq!(again["result"], "unchanged");
    for migration in again["migrations"].as_array().unwrap() {
        assert_eq!(migration["status"], "reused", "{migration}");
    }
    let text = cluster.access_log();
    let writes: Vec<&str> = text
        .lines()
        .skip(seen)
        .filter(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let review = fields[1].contains("/apis/authorization.k8s.io/")
                || fields[1].contains("/apis/authentication.k8s.io/");
            fields[0] != "GET" && !review && fields[3] == "admin"
        })
        .collect();
    assert!(writes.is_empty(), "the re-run wrote: {writes:#?}");
}

#[test]
fn the_same_command_twice_at_once_ends_succeeded_then_unchanged() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let args = [
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "-o",
        "json",
    ];
    let first = spawn(&cluster, &args);
    let second = spawn(&cluster, &args);
    let (a, _) = finish(first, Duration::from_secs(120));
    let (b, _) = finish(second, Duration::from_secs(120));
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.render(), b.render());
    let mut results = [
        report(&a)["result"].as_str().unwrap().to_owned(),
        report(&b)["result"].as_str().unwrap().to_owned(),
    ];
    results.sort();
    assert_eq!(
        results,
        ["succeeded", "unchanged"],
        "{}\n{}",
        a.render(),
        b.render()
    );
    assert!(leases(&cluster).is_empty());
}

#[test]
fn the_lease_is_renewed_while_the_run_lasts() {
    let cluster = Cluster::start(&["shop.yaml", "slow-migration.yaml"]);
    let child = spawn(
        &cluster,
        &[
            "-i",
            "busybox:1.37",
            "-c",
            "stable",
            "-n",
            "shop",
            "-o",
            "json",
        ],
    );
    wait_until("the run holds the lock", || leases(&cluster).len() == 1);
    let first = leases(&cluster)[0].clone();
    let holder = first["spec"]["holderIdentity"].as_str().unwrap().to_owned();
    assert!(
        holder.contains(&format!("/{}/", child.id())),
        "host/pid/run: {holder}"
    );
    assert_eq!(first["spec"]["leaseDurationSeconds"], 30);
    std::thread::sleep(Duration::from_secs(12));
    let later = leases(&cluster)[0].clone();
    assert_eq!(later["spec"]["holderIdentity"], holder.as_str());
    assert!(
        later["spec"]["renewTime"].as_str() > first["spec"]["renewTime"].as_str(),
        "renewed: {} then {}",
        first["spec"]["renewTime"],
        later["spec"]["renewTime"]
    );
    signal(&child, "INT");
    let (run, _) = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 130, "{}", run.render());
    assert!(leases(&cluster).is_empty(), "released after the interrupt");
}
