//! Fleets that fail: a failed wave is rolled back (with `--fleet-rollback`, the waves done too), a
//! failure before any change leaves every cluster untouched, every cluster is locked from the
//! start and an interrupt stops the waves, and bad input is a one-line error.

use std::time::Duration;

use crate::cluster::{Cluster, report};
use crate::fleet::{Fleet, UPDATE, add_worker, clusters_of, leases, renamed_kubeconfig, row};
use crate::schema;
use crate::signals::{finish, signal, spawn, wait_until};
use crate::support::{command, run, run_with};
#[test]
fn a_failure_in_wave_two_rolls_back_wave_two_and_leaves_wave_one() {
    let fleet = Fleet::start(3, &["shop.yaml"]);
    if !fleet.c(3).conventions() {
        return crate::support::skip("fleet failure", "needs `crash-` images that crash-loop");
    }
    add_worker(fleet.c(3));
    let res = fleet.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "ghcr.io/acme/worker:crash-1",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "--context",
        "c1",
        "--context",
        "c2,c3",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(report["result"], "rolled-back");
    assert_eq!(
        clusters_of(&report),
        [
            row("c1", 1, "succeeded"),
            row("c2", 2, "rolled-back"),
            row("c3", 2, "rolled-back")
        ]
    );
    let c2 = &report["clusters"][1];
    assert!(
        c2["reason"]
            .as_str()
            .unwrap()
            .contains("cluster \"c3\" (wave 2) failed"),
        "{c2}"
    );
    assert_eq!(
        fleet.web_images(),
        ["busybox:1.37", "busybox:1.36", "busybox:1.36"]
    );
    assert_eq!(
        fleet.c(3).image("shop", "deployment/worker", "worker"),
        "ghcr.io/acme/worker:1.0"
    );
    assert!(
        res.stderr
            .contains("Wave 2 failed (cluster \"c3\" (wave 2) failed): rolling back c2"),
        "{}",
        res.stderr
    );
    assert!(
        res.stderr.contains(
            "[c2] Rolling back the 2 workload(s) this run updated: cluster \"c3\" (wave 2) failed"
        ),
        "{}",
        res.stderr
    );
}

#[test]
fn with_fleet_rollback_the_waves_done_are_rolled_back_too() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    if !fleet.c(2).conventions() {
        return crate::support::skip("fleet rollback", "needs `crash-` images that crash-loop");
    }
    add_worker(fleet.c(2));
    let res = fleet.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "ghcr.io/acme/worker:crash-1",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "--context",
        "c1",
        "--context",
        "c2",
        "--fleet-rollback",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(
        clusters_of(&report),
        [row("c1", 1, "rolled-back"), row("c2", 2, "rolled-back")]
    );
    assert_eq!(fleet.web_images(), ["busybox:1.36"; 2]);
    let history = fleet
        .c(1)
        .kubectl(&["rollout", "history", "-n", "shop", "deployment/web"]);
    assert!(
        history.stdout.contains("busybox:1.37"),
        "wave 1 was updated, then rolled back: {}",
        history.stdout
    );
}

#[test]
fn a_failure_before_any_change_on_a_later_wave_changes_nothing_anywhere() {
    let fleet = Fleet::start(3, &["shop.yaml"]);
    // c3 has nothing to update: its plan fails, before the first wave writes anything.
    let deleted = fleet.c(3).kubectl(&[
        "delete",
        "-n",
        "shop",
        "deployment/web",
        "statefulset/cache",
        "--wait",
    ]);
    assert_eq!(deleted.code, 0, "{}", deleted.render());
    let before: Vec<_> = fleet.clusters[..2].iter().map(Cluster::versions).collect();
    let args = [&UPDATE[..], &["--context", "c1,c2", "--context", "c3"]].concat();
    let res = fleet.update(&args);
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(
        res.stderr.starts_with("error: cluster \"c3\" (wave 2): "),
        "{}",
        res.stderr
    );
    assert!(res.stdout.is_empty(), "{}", res.stdout);
    let after: Vec<_> = fleet.clusters[..2].iter().map(Cluster::versions).collect();
    assert_eq!(before, after, "nothing was written to c1 or c2");
    for cluster in &fleet.clusters[..2] {
        assert_eq!(
            cluster.image("shop", "deployment/web", "app"),
            "busybox:1.36"
        );
    }
}

#[test]
fn every_cluster_is_locked_from_the_start_and_an_interrupt_stops_the_waves() {
    let fleet = Fleet::start(2, &["shop.yaml", "slow-migration.yaml"]);
    let args = fleet.args(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "--context",
        "c1",
        "--context",
        "c2",
        "-o",
        "json",
    ]);
    let child = spawn(fleet.c(1), &args);
    // The wave-2 cluster is locked while wave 1 still runs its migration.
    wait_until("both clusters are locked", || {
        leases(fleet.c(1)).len() == 1 && leases(fleet.c(2)).len() == 1
    });
    let holders: Vec<String> = fleet
        .clusters
        .iter()
        .map(|it| {
            leases(it)[0]["spec"]["holderIdentity"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let run_of = |holder: &str| holder.rsplit_once('/').unwrap().0.to_owned();
    assert_eq!(
        run_of(&holders[0]),
        run_of(&holders[1]),
        "one process holds both"
    );
    assert!(
        holders[0].contains(&format!("/{}/", child.id())),
        "{holders:?}"
    );
    signal(&child, "INT");
    let (res, _) = finish(child, Duration::from_secs(60));
    assert_eq!(res.code, 130, "{}", res.render());
    let report = report(&res);
    assert_eq!(report["result"], "interrupted");
    assert_eq!(
        clusters_of(&report),
        [row("c1", 1, "interrupted"), row("c2", 2, "not-started")]
    );
    assert_eq!(fleet.web_images(), ["busybox:1.36"; 2]);
    for n in 1..=2 {
        assert!(
            leases(fleet.c(n)).is_empty(),
            "c{n}: released after the interrupt"
        );
    }
}

#[test]
fn unknown_contexts_and_empty_waves_are_one_line_errors() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    let args = [&UPDATE[..], &["--context", "c1", "--context", "c2,c12"]].concat();
    let res = fleet.update(&args);
    assert_eq!(res.code, 1, "{}", res.render());
    let first = res.stderr.lines().next().unwrap();
    assert_eq!(
        first, "error: context \"c12\" is not in the kubeconfig; did you mean \"c1\"?",
        "{}",
        res.stderr
    );
    assert!(
        res.stderr.contains("hint: known contexts: c1, c2"),
        "{}",
        res.stderr
    );
    // Two contexts that reach the same cluster: a usage error, before anything is written.
    let again = renamed_kubeconfig(fleet.c(1), "again");
    let mut args = fleet.args(&UPDATE);
    args.extend([
        "--kubeconfig",
        again.to_str().unwrap(),
        "--context",
        "c1,again",
    ]);
    let res = run_with(command(), &args, None);
    assert_eq!(res.code, 2, "{}", res.render());
    assert!(
        res.stderr
            .contains("contexts \"c1\" and \"again\" reach the same API server"),
        "{}",
        res.stderr
    );

    for (bad, says) in [
        ("", "an empty context"),
        ("c1,,c2", "an empty context"),
        ("c1,c1", "is given twice"),
    ] {
        let res = run(&[&UPDATE[..], &["--context", bad]].concat());
        assert_eq!(res.code, 2, "{bad:?}: {}", res.render());
        assert!(res.stderr.starts_with("error: "), "{}", res.stderr);
        assert!(
            res.stderr.lines().next().unwrap().contains(says),
            "{}",
            res.stderr
        );
    }
    let res = run(&["-i", "a:1", "-c", "s", "-f", "x.yaml", "--context", "a,b"]);
    assert_eq!(res.code, 2, "{}", res.render());
    let res = run(&["rollback", "-c", "stable", "--context", "a,b"]);
    assert_eq!(res.code, 2, "{}", res.render());
    assert!(
        res.stderr.contains("this command works on one cluster"),
        "{}",
        res.stderr
    );
    assert_eq!(fleet.web_images(), ["busybox:1.36"; 2]);
}

#[test]
fn an_interrupt_in_wave_two_with_fleet_rollback_rolls_back_wave_one() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    fleet
        .c(2)
        .apply(&std::fs::read_to_string(crate::cluster::scenario("slow-migration.yaml")).unwrap());
    let args = fleet.args(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "--context",
        "c1",
        "--context",
        "c2",
        "--fleet-rollback",
        "-o",
        "json",
    ]);
    let child = spawn(fleet.c(1), &args);
    // Wave 2 runs its slow migration once wave 1 is done.
    wait_until("wave 2's migration runs", || {
        let jobs = fleet
            .c(2)
            .get(&["-n", "shop", "jobs", "-l", "kubectl-update.io/migration-of"]);
        !jobs["items"].as_array().unwrap().is_empty()
    });
    assert_eq!(
        fleet.c(1).image("shop", "deployment/web", "app"),
        "busybox:1.37"
    );
    signal(&child, "TERM");
    let (res, _) = finish(child, Duration::from_secs(90));
    assert_eq!(res.code, 130, "{}", res.render());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(
        clusters_of(&report),
        [row("c1", 1, "rolled-back"), row("c2", 2, "interrupted")]
    );
    assert_eq!(fleet.web_images(), ["busybox:1.36"; 2]);
    for n in 1..=2 {
        assert!(leases(fleet.c(n)).is_empty(), "c{n}: released");
    }
}

#[test]
fn a_cluster_rolled_back_for_its_wave_runs_its_rollback_migrations() {
    let fleet = Fleet::start(
        2,
        &[
            "shop.yaml",
            "forward-tool-migration.yaml",
            "rollback-migrations.yaml",
        ],
    );
    if !fleet.c(2).conventions() {
        return crate::support::skip("fleet undo", "needs `crash-` images that crash-loop");
    }
    add_worker(fleet.c(2));
    let res = fleet.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "alpine:3.21",
        "-i",
        "ghcr.io/acme/worker:crash-1",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "--context",
        "c1,c2",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(
        clusters_of(&report),
        [row("c1", 1, "rolled-back"), row("c2", 1, "rolled-back")]
    );
    for cluster in report["clusters"].as_array().unwrap() {
        let undone: Vec<(&str, &str)> = cluster["rollbackMigrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|it| {
                (
                    it["template"].as_str().unwrap(),
                    it["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            undone,
            [("undo-schema", "succeeded"), ("undo-search", "succeeded")],
            "{cluster:#}"
        );
    }
    assert_eq!(fleet.web_images(), ["busybox:1.36", "busybox:1.36"]);
}
