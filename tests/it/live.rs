//! Live updates against the simulated cluster over TLS, checked through the JSON report, the exit
//! code and the real kubectl's view of the cluster.

use serde_json::Value;

use crate::cluster::{Cluster, report};

#[test]
fn updates_every_kind_in_two_namespaces_and_leaves_sidecars() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "alpine:3.21",
        "-c",
        "stable",
        "-n",
        "shop,billing",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["result"], "succeeded");
    if cluster.conventions() {
        assert_eq!(report["identity"], "admin");
    }
    let statuses: Vec<(String, String)> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| {
            (
                format!(
                    "{}/{}/{}",
                    it["namespace"].as_str().unwrap(),
                    it["kind"].as_str().unwrap(),
                    it["name"].as_str().unwrap()
                ),
                it["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("billing/DaemonSet/agent".to_owned(), "succeeded".to_owned()),
            (
                "billing/CronJob/invoices".to_owned(),
                "succeeded".to_owned()
            ),
            ("shop/Deployment/web".to_owned(), "succeeded".to_owned()),
            ("shop/StatefulSet/cache".to_owned(), "succeeded".to_owned()),
        ]
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.37"
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "wait"),
        "busybox:1.37",
        "init containers are updated"
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "proxy"),
        "nginx:1.27",
        "sidecars keep their image"
    );
    assert_eq!(
        cluster.image("shop", "statefulset/cache", "cache"),
        "busybox:1.37",
        "the legacy annotation counts"
    );
    assert_eq!(
        cluster.image("billing", "daemonset/agent", "shipper"),
        "alpine:3.21",
        "several images in one run"
    );
    assert_eq!(
        cluster.image("billing", "cronjob/invoices", "invoices"),
        "busybox:1.37"
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36",
        "other classifiers are left alone"
    );

    let status = cluster.kubectl(&[
        "rollout",
        "status",
        "-n",
        "shop",
        "deployment/web",
        "--timeout=5s",
    ]);
    assert_eq!(status.code, 0, "{}", status.render());
    assert!(
        status.stdout.contains("successfully rolled out"),
        "{}",
        status.stdout
    );
    let history = cluster.kubectl(&["rollout", "history", "-n", "shop", "deployment/web"]);
    assert!(
        history
            .stdout
            .contains("kubectl-update: wait=busybox:1.37, app=busybox:1.37"),
        "{}",
        history.stdout
    );
    let web = cluster.get(&["-n", "shop", "deployment/web"]);
    let previous: Value = serde_json::from_str(
        web["metadata"]["annotations"]["kubectl-update.io/previous"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(previous["containers"][1]["previous"], "busybox:1.36");
    assert_eq!(previous["containers"][1]["target"], "busybox:1.37");
}

#[test]
fn migrations_run_first_in_order_and_are_reused_on_a_rerun() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let first = report(&res);
    assert_eq!(first["migrations"][0]["template"], "schema");
    assert_eq!(first["migrations"][0]["status"], "succeeded");
    assert_eq!(first["migrations"][1]["template"], "search");
    assert!(
        res.stderr.contains("] migrating schema"),
        "migration logs are streamed: {}",
        res.stderr
    );
    let schema_done = res.stderr.find("schema done").expect("schema log");
    let reindexing = res.stderr.find("reindexing").expect("search log");
    assert!(
        schema_done < reindexing,
        "order 1 finishes before order 2 starts: {}",
        res.stderr
    );

    let job = first["migrations"][0]["job"].as_str().unwrap().to_owned();
    let copy = cluster.get(&["-n", "shop", "job", &job]);
    assert_eq!(
        copy["metadata"]["labels"]["kubectl-update.io/migration-of"],
        "schema"
    );
    assert_eq!(
        copy["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox:1.37"
    );
    assert_eq!(copy["spec"]["ttlSecondsAfterFinished"], 86400);
    assert!(
        copy["metadata"]["annotations"]
            .get("kubectl-update.io/classifier")
            .is_none()
    );
    let logs = cluster.kubectl(&[
        "logs",
        "-n",
        "shop",
        "-l",
        "kubectl-update.io/migration-of=schema",
    ]);
    assert!(logs.stdout.contains("schema done"), "{}", logs.render());
    assert_eq!(
        cluster.image("shop", "job/schema", "migrate"),
        "busybox:1.36",
        "templates are never changed"
    );

    // A retried CI job: same command again.
    let again = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(again.code, 0, "{}", again.render());
    let again = report(&again);
    assert_eq!(again["result"], "unchanged");
}

#[test]
fn a_failed_migration_changes_no_workload() {
    let cluster = Cluster::start(&["shop.yaml", "failing-migration.yaml"]);
    let before = cluster.get(&["-n", "shop", "deployment/web"]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 3, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["result"], "migration-failed");
    assert_eq!(report["migrations"][0]["status"], "failed");
    assert_eq!(report["workloads"][0]["status"], "not-started");
    assert!(
        res.stderr.contains("column already exists"),
        "the failing log lines are shown: {}",
        res.stderr
    );
    assert!(
        res.stderr.contains("BackoffLimitExceeded"),
        "{}",
        res.stderr
    );
    let after = cluster.get(&["-n", "shop", "deployment/web"]);
    assert_eq!(
        before["metadata"]["generation"],
        after["metadata"]["generation"]
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
}

#[track_caller]
fn check_rolled_back(cluster: &Cluster, res: &crate::support::Run, reason: &str) {
    assert_eq!(res.code, 4, "{}", res.render());
    let report = report(res);
    assert_eq!(report["result"], "rolled-back", "{}", res.render());
    assert!(
        report["reason"].as_str().unwrap().contains(reason),
        "{}",
        report["reason"]
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
    let status = cluster.kubectl(&[
        "rollout",
        "status",
        "-n",
        "shop",
        "deployment/web",
        "--timeout=10s",
    ]);
    assert_eq!(
        status.code,
        0,
        "the rollback's own rollout completed: {}",
        status.render()
    );
    let web = cluster.get(&["-n", "shop", "deployment/web"]);
    assert!(
        web["metadata"]["annotations"]
            .get("kubectl-update.io/previous")
            .is_none(),
        "the record is dropped by the rollback"
    );
}

#[test]
fn pull_errors_are_rolled_back_fast() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let started = std::time::Instant::now();
    let res = cluster.update(&[
        "-i",
        "busybox:missing-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "-o",
        "json",
    ]);
    check_rolled_back_canary(&cluster, &res, "ErrImagePull");
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn crash_loops_are_rolled_back() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:crash-1",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "-o",
        "json",
    ]);
    check_rolled_back(&cluster, &res, "");
    assert_eq!(
        cluster.image("shop", "statefulset/cache", "cache"),
        "docker.io/library/busybox:1.36"
    );
}

#[track_caller]
fn check_rolled_back_canary(cluster: &Cluster, res: &crate::support::Run, reason: &str) {
    assert_eq!(res.code, 4, "{}", res.render());
    let report = report(res);
    assert_eq!(report["result"], "rolled-back");
    let why = report["reason"].as_str().unwrap();
    assert!(
        why.contains(reason) || why.contains("ImagePullBackOff"),
        "{why}"
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
}

#[test]
fn no_rollback_leaves_the_failure_in_place() {
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
        "--no-rollback",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    assert_eq!(report(&res)["result"], "failed");
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:missing-1"
    );
}

#[test]
fn already_at_target_writes_nothing_and_dry_runs_write_nothing() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let before = cluster.versions();
    for dry_run in ["--dry-run", "--dry-run=server"] {
        let res = cluster.update(&[
            "-i",
            "busybox:1.37",
            "-c",
            "stable",
            "-A",
            dry_run,
            "-o",
            "json",
        ]);
        assert_eq!(res.code, 0, "{}", res.render());
        assert_eq!(report(&res)["result"], "planned");
        assert_eq!(cluster.versions(), before, "{dry_run} wrote something");
    }
    let res = cluster.update(&[
        "-i",
        "busybox:1.36",
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
}

#[test]
fn nothing_matched_lists_near_misses_and_writes_nothing() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let before = cluster.versions();
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "nightly", "-n", "shop"]);
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(res.stderr.contains("nothing matched"), "{}", res.stderr);
    assert!(
        res.stderr.contains("near miss: shop/Deployment/web"),
        "{}",
        res.stderr
    );
    assert_eq!(cluster.versions(), before);
}

#[test]
fn rollback_subcommand_restores_the_recorded_images() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "canary", "-n", "shop"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.37"
    );
    let back = cluster.update(&["rollback", "-c", "canary", "-n", "shop", "-o", "json"]);
    assert_eq!(back.code, 0, "{}", back.render());
    assert_eq!(report(&back)["result"], "rolled-back");
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
    let none = cluster.update(&["rollback", "-c", "canary", "-n", "shop"]);
    assert_eq!(none.code, 1, "{}", none.render());
    assert!(
        none.stderr.contains("nothing to roll back"),
        "{}",
        none.stderr
    );
}

#[test]
fn progress_deadline_is_a_failure_and_rolled_back() {
    let cluster = Cluster::start(&["deadline.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "progress_deadline_is_a_failure_and_rolled_back",
            "needs never-ready `unready-` images",
        );
        return;
    }
    let started = std::time::Instant::now();
    let res = cluster.update(&["-i", "busybox:unready-1", "-c", "deadline", "-o", "json"]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["result"], "rolled-back");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("exceeded its progress deadline"),
        "{}",
        report["reason"]
    );
    assert_eq!(
        cluster.image("default", "deployment/slow", "app"),
        "busybox:1.36"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_scale_change_during_the_rollout_is_not_undone_by_the_rollback() {
    let cluster = Cluster::start(&["shop.yaml"]);
    std::thread::scope(|scope| {
        let scaler = scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(700));
            cluster.kubectl(&[
                "scale",
                "-n",
                "shop",
                "deployment/canary-web",
                "--replicas=4",
            ])
        });
        let res = cluster.update(&[
            "-i",
            "busybox:missing-1",
            "-c",
            "canary",
            "-n",
            "shop",
            "--fail-after",
            "3s",
            "-o",
            "json",
        ]);
        assert_eq!(res.code, 4, "{}", res.render());
        assert_eq!(report(&res)["result"], "rolled-back");
        let scaled = scaler.join().unwrap();
        assert_eq!(scaled.code, 0, "{}", scaled.render());
    });
    let web = cluster.get(&["-n", "shop", "deployment/canary-web"]);
    assert_eq!(
        web["spec"]["replicas"], 4,
        "the scale survives the rollback"
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
}

#[test]
fn a_scale_change_during_a_successful_rollout_does_not_confuse_detection() {
    let cluster = Cluster::start(&["shop.yaml"]);
    std::thread::scope(|scope| {
        let scaler = scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            cluster.kubectl(&["scale", "-n", "shop", "deployment/web", "--replicas=5"])
        });
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
        assert_eq!(scaler.join().unwrap().code, 0);
    });
    let status = cluster.kubectl(&[
        "rollout",
        "status",
        "-n",
        "shop",
        "deployment/web",
        "--timeout=20s",
    ]);
    assert_eq!(status.code, 0, "{}", status.render());
    let web = cluster.get(&["-n", "shop", "deployment/web"]);
    assert_eq!(web["spec"]["replicas"], 5);
    assert_eq!(web["status"]["updatedReplicas"], 5);
}

#[test]
fn plain_progress_lines_outside_a_terminal() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "canary", "-n", "shop"]);
    assert_eq!(res.code, 0, "{}", res.render());
    insta::assert_snapshot!(res.stdout);
    let lines: Vec<&str> = res.stderr.lines().collect();
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("Succeeded: 2 workloads updated in "),
        "{}",
        res.stderr
    );
    for pair in lines.windows(2) {
        assert_ne!(pair[0], pair[1], "no line is repeated: {}", res.stderr);
    }
    for line in &lines[..lines.len() - 1] {
        let stamp = &line[..8];
        assert!(
            stamp.chars().all(|c| c.is_ascii_digit() || c == ':') && line.as_bytes()[8] == b' ',
            "timestamped: {line}"
        );
        assert!(!line.contains('\u{1b}'), "no escape codes: {line}");
    }
    assert!(
        res.stderr.contains(
            "shop/deployment/canary-web: deployment \"canary-web\" successfully rolled out"
        ),
        "{}",
        res.stderr
    );
    // Progress counts only the new revision's replicas, and only forward: never the old
    // revision's "3/3" first and then "0/3".
    let mut counts: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for line in &lines {
        let Some(open) = line.rfind(" (") else {
            continue;
        };
        let Some(done) = line[open + 2..]
            .strip_suffix(" updated)")
            .and_then(|it| it.split_once('/'))
            .and_then(|(done, _)| done.parse::<u64>().ok())
        else {
            continue;
        };
        let key = line[9..].split(": ").next().unwrap();
        counts.entry(key).or_default().push(done);
    }
    assert!(
        !counts.is_empty(),
        "progress lines with counts: {}",
        res.stderr
    );
    for (key, seen) in &counts {
        assert!(
            seen.windows(2).all(|it| it[0] <= it[1]),
            "{key}: counts only move forward: {seen:?}\n{}",
            res.stderr
        );
    }
}

#[test]
fn progress_bars_on_a_terminal() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let binary = assert_cmd::cargo::cargo_bin("kubectl-update");
    let line = format!(
        "{} -i busybox:1.37 -c canary -n shop --kubeconfig {}",
        binary.display(),
        cluster.kubeconfig().display()
    );
    let mut cmd = assert_cmd::Command::new("script");
    cmd.env("TERM", "xterm").env_remove("NO_COLOR");
    let res = crate::support::run_with(cmd, &["-qec", &line, "/dev/null"], None);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stdout.contains("2 workloads updated in"),
        "{}",
        res.stdout
    );
    assert!(
        res.stdout.contains("shop/deployment/canary-web"),
        "a line per workload: {}",
        res.stdout
    );
    assert!(
        res.stdout.contains('\u{1b}'),
        "a terminal gets drawn bars and colour: {}",
        res.stdout
    );
}

#[test]
fn a_migration_that_cannot_pull_its_image_fails_fast_and_is_removed() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let started = std::time::Instant::now();
    let res = cluster.update(&[
        "-i",
        "busybox:missing-2",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 3, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["migrations"][0]["status"], "failed");
    assert_eq!(
        report["migrations"][1]["status"], "not-started",
        "later orders do not run"
    );
    assert!(
        report["migrations"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ImagePullBackOff")
            || report["migrations"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("ErrImagePull")
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
    let copies = cluster.get(&[
        "-n",
        "shop",
        "jobs",
        "-l",
        "kubectl-update.io/migration-of=schema",
    ]);
    assert_eq!(
        copies["items"],
        Value::Array(vec![]),
        "the stuck copy is deleted"
    );
}

#[test]
fn a_migration_retried_by_its_job_after_a_back_off_succeeds() {
    let cluster = Cluster::start(&["shop.yaml", "flaky-migration.yaml"]);
    if !cluster.simulated() && crate::control_plane::selected() {
        crate::support::skip(
            "a_migration_retried_by_its_job_after_a_back_off_succeeds",
            "the script fails its first try and succeeds on the retry through a file kept across \
             the container's restart; kwok runs no commands, so every try ends alike",
        );
        return;
    }
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["migrations"][0]["status"], "succeeded");
    assert_eq!(report["result"], "succeeded");
    assert!(
        res.stderr.contains("database busy, failing the first try"),
        "{}",
        res.stderr
    );
    assert!(
        res.stderr.contains("retry succeeded"),
        "the retry's log is followed too: {}",
        res.stderr
    );
    let job = report["migrations"][0]["job"].as_str().unwrap().to_owned();
    let pods = cluster.get(&[
        "-n",
        "shop",
        "pods",
        "-l",
        &format!("batch.kubernetes.io/job-name={job}"),
    ]);
    assert_eq!(
        pods["items"][0]["status"]["containerStatuses"][0]["restartCount"], 1,
        "one back-off retry"
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.37"
    );
}

/// `--timeout` bounds the whole run, rollback included: a workload that never becomes ready is
/// given up on at --timeout, and the rollback gets at most half of it (capped at 30 s) more.
#[test]
fn timeout_bounds_the_whole_run_rollback_included() {
    let cluster = Cluster::start(&["shop.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "timeout_bounds_the_whole_run_rollback_included",
            "needs never-ready `unready-` images",
        );
        return;
    }
    let started = std::time::Instant::now();
    let res = cluster.update(&[
        "-i",
        "busybox:unready-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--timeout",
        "6s",
        "-o",
        "json",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(res.code, 4, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["result"], "rolled-back", "{}", res.render());
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("not rolled out within --timeout 6s"),
        "{}",
        report["reason"]
    );
    // 6 s, a grace of 3 s, and slack for starting the binary and connecting.
    assert!(
        elapsed < std::time::Duration::from_secs(6 + 3 + 4),
        "took {elapsed:?}: {}",
        res.render()
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
}
