//! Fleets (`--context a,b --context c`): two and three clusters (simulators, or real control
//! planes with `KUBECTL_UPDATE_E2E=control-plane`), each with a kubeconfig of its own merged by
//! repeated `--kubeconfig`. Waves run in order; a failure rolls back its wave (and, with
//! `--fleet-rollback`, the waves done before it); a failure before any change leaves every cluster
//! untouched; every cluster's lock is held from the start; bad input is one line. The real
//! `kubectl` witnesses each cluster's state.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::schema;
use crate::signals::{finish, signal, spawn, wait_until};
use crate::support::{Run, command, run, run_with};

/// Clusters named by contexts `c1`, `c2`, …, each in a kubeconfig file of its own.
struct Fleet {
    clusters: Vec<Cluster>,
    kubeconfigs: Vec<PathBuf>,
}

impl Fleet {
    fn start(n: usize, scenarios: &[&str]) -> Fleet {
        let clusters: Vec<Cluster> = (0..n).map(|_| Cluster::start(scenarios)).collect();
        let kubeconfigs = clusters
            .iter()
            .enumerate()
            .map(|(idx, cluster)| renamed_kubeconfig(cluster, &format!("c{}", idx + 1)))
            .collect();
        Fleet {
            clusters,
            kubeconfigs,
        }
    }

    /// The cluster of context `c{n}`.
    fn c(&self, n: usize) -> &Cluster {
        &self.clusters[n - 1]
    }

    /// `--kubeconfig` once per cluster, then `args`.
    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut res = Vec::new();
        for path in &self.kubeconfigs {
            res.extend(["--kubeconfig", path.to_str().unwrap()]);
        }
        res.extend(args);
        res
    }

    fn update(&self, args: &[&str]) -> Run {
        run_with(command(), &self.args(args), None)
    }

    /// The image of the `app` container of shop's `web` in each cluster, in order.
    fn web_images(&self) -> Vec<String> {
        self.clusters
            .iter()
            .map(|it| it.image("shop", "deployment/web", "app"))
            .collect()
    }
}

/// A copy of the cluster's kubeconfig whose context is `context` (and whose cluster and user
/// names are unique), so that the files merge without clashes.
fn renamed_kubeconfig(cluster: &Cluster, context: &str) -> PathBuf {
    let view = cluster.kubectl(&["config", "view", "--raw", "--minify", "-o", "json"]);
    assert_eq!(view.code, 0, "{}", view.render());
    let mut config: Value = serde_json::from_str(&view.stdout).expect("kubeconfig JSON");
    let suffix = format!("-{context}");
    for list in ["clusters", "users"] {
        for entry in config[list].as_array_mut().unwrap() {
            let name = format!("{}{suffix}", entry["name"].as_str().unwrap());
            entry["name"] = name.into();
        }
    }
    let entry = &mut config["contexts"][0];
    entry["name"] = context.into();
    for field in ["cluster", "user"] {
        let name = format!("{}{suffix}", entry["context"][field].as_str().unwrap());
        entry["context"][field] = name.into();
    }
    config["current-context"] = context.into();
    let path = cluster.path(&format!("kubeconfig-{context}"));
    std::fs::write(&path, config.to_string()).expect("a scratch file");
    path
}

/// A Deployment whose image is `ghcr.io/acme/worker`: only the clusters given it have one, so an
/// update to `worker:crash-1` fails there and nowhere else (`minReadySeconds` keeps the crashing
/// pod from counting as available before it first crashes).
fn add_worker(cluster: &Cluster) {
    cluster.apply(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
  annotations: {kubectl-update.io/classifier: stable}
spec:
  replicas: 1
  minReadySeconds: 15
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
        - {name: worker, image: \"ghcr.io/acme/worker:1.0\", command: [\"sh\", \"-c\", \"while true; do sleep 3600; done\"]}
",
    );
    let ready = cluster.kubectl(&[
        "rollout",
        "status",
        "-n",
        "shop",
        "deployment/worker",
        "--timeout=180s",
    ]);
    assert_eq!(ready.code, 0, "{}", ready.render());
}

fn leases(cluster: &Cluster) -> Vec<Value> {
    cluster.get(&["-n", "shop", "leases"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `(context, wave, result)` of each cluster of a fleet's report.
fn clusters_of(report: &Value) -> Vec<(String, u64, String)> {
    report["clusters"]
        .as_array()
        .expect("a clusters section")
        .iter()
        .map(|it| {
            (
                it["context"].as_str().unwrap().to_owned(),
                it["wave"].as_u64().unwrap(),
                it["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(context: &str, wave: u64, result: &str) -> (String, u64, String) {
    (context.to_owned(), wave, result.to_owned())
}

const UPDATE: [&str; 6] = ["-i", "busybox:1.37", "-c", "stable", "-n", "shop"];

#[test]
fn three_clusters_update_in_two_waves_in_order() {
    let fleet = Fleet::start(3, &["shop.yaml"]);
    let res = fleet.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "--context",
        "c1,c2",
        "--context",
        "c3",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(report["result"], "succeeded");
    assert_eq!(
        clusters_of(&report),
        [
            row("c1", 1, "succeeded"),
            row("c2", 1, "succeeded"),
            row("c3", 2, "succeeded")
        ]
    );
    for (idx, cluster) in report["clusters"].as_array().unwrap().iter().enumerate() {
        assert!(cluster["server"].as_str().unwrap().starts_with("https://"));
        assert_eq!(cluster["workloads"].as_array().unwrap().len(), 2, "{idx}");
    }
    assert_eq!(report["workloads"].as_array().unwrap().len(), 6);
    assert_eq!(fleet.web_images(), ["busybox:1.37"; 3]);
    // Wave 2 starts after wave 1 is done: c3's first progress line follows the last of c1 and c2.
    let lines: Vec<&str> = res.stderr.lines().collect();
    let first_c3 = lines.iter().position(|it| it.contains("[c3]")).unwrap();
    let last_wave1 = lines
        .iter()
        .rposition(|it| it.contains("[c1]") || it.contains("[c2]"))
        .unwrap();
    assert!(last_wave1 < first_c3, "{}", res.stderr);
    assert!(
        lines
            .iter()
            .any(|it| it.contains("[c3]") && it.contains("shop/deployment/web")),
        "progress says which cluster: {}",
        res.stderr
    );
    for n in 1..=3 {
        assert!(
            leases(fleet.c(n)).is_empty(),
            "c{n}: the locks are released"
        );
    }
}

#[test]
fn text_output_has_one_section_per_cluster_and_github_groups() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    let mut cmd = command();
    cmd.env("GITHUB_ACTIONS", "true");
    let args = fleet.args(&UPDATE);
    let args: Vec<&str> = args
        .into_iter()
        .chain(["--context", "c1", "--context", "c2"])
        .collect();
    let res = run_with(cmd, &args, None);
    assert_eq!(res.code, 0, "{}", res.render());
    for (wave, context) in [(1, "c1"), (2, "c2")] {
        let heading = format!("== Wave {wave} · cluster {context} (https://");
        assert!(res.stdout.contains(&heading), "{}", res.stdout);
        assert!(
            res.stdout
                .contains(&format!("::group::Wave {wave} · cluster {context}")),
            "{}",
            res.stdout
        );
    }
    assert_eq!(
        res.stdout.matches("::endgroup::").count(),
        2,
        "{}",
        res.stdout
    );
    assert!(
        res.stderr
            .contains("[c2] Succeeded: 2 workloads updated in"),
        "{}",
        res.stderr
    );
    assert!(
        res.stderr
            .contains("Fleet: succeeded in 2 clusters and 2 waves"),
        "{}",
        res.stderr
    );
    assert_eq!(fleet.web_images(), ["busybox:1.37"; 2]);
}

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
fn a_dry_run_previews_each_cluster_and_writes_nothing() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    let before: Vec<_> = fleet.clusters.iter().map(Cluster::versions).collect();
    let args = [&UPDATE[..], &["--context", "c1,c2", "--dry-run"]].concat();
    let res = fleet.update(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    for context in ["c1", "c2"] {
        assert!(
            res.stdout
                .contains(&format!("== Wave 1 · cluster {context} (")),
            "{}",
            res.stdout
        );
    }
    assert_eq!(
        res.stderr
            .matches("Dry run (client): 2 workloads to update")
            .count(),
        2,
        "{}",
        res.stderr
    );
    let after: Vec<_> = fleet.clusters.iter().map(Cluster::versions).collect();
    assert_eq!(before, after);
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
fn status_reads_every_context_given() {
    let fleet = Fleet::start(2, &["shop.yaml"]);
    let status = |args: &[&str]| {
        let mut all = vec!["status", "-c", "stable", "-n", "shop"];
        all.extend(args);
        // Global flags follow the subcommand.
        all.extend(fleet.args(&[]));
        run_with(command(), &all, None)
    };
    let res = status(&["--context", "c1", "--context", "c2", "-o", "json"]);
    assert_eq!(res.code, 0, "{}", res.render());
    let json = report(&res);
    let contexts: Vec<&str> = json["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["c1", "c2"]);
    for cluster in json["clusters"].as_array().unwrap() {
        assert_eq!(
            cluster["workloads"].as_array().unwrap().len(),
            2,
            "{cluster}"
        );
    }
    let text = status(&["--context", "c1,c2"]);
    assert_eq!(text.code, 0, "{}", text.render());
    assert!(
        text.stderr.contains("context c1, https://"),
        "{}",
        text.stderr
    );
    assert!(
        text.stderr.contains("context c2, https://"),
        "{}",
        text.stderr
    );
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
