//! Fleets (`--context a,b --context c`): two and three clusters (simulators, or real control
//! planes with `KUBECTL_UPDATE_E2E=control-plane`), each with a kubeconfig of its own merged by
//! repeated `--kubeconfig`. Waves run in order; a failure rolls back its wave (and, with
//! `--fleet-rollback`, the waves done before it); a failure before any change leaves every cluster
//! untouched; every cluster's lock is held from the start; bad input is one line. The real
//! `kubectl` witnesses each cluster's state. Here: the helpers and the runs that succeed;
//! `failures`: failed waves, rollbacks, interrupts, locks and bad input.

mod failures;

use std::path::PathBuf;

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::schema;
use crate::support::{Run, command, run_with};

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
