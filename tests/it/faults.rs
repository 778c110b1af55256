//! API faults: with latency, 500s, 429s with Retry-After, watches ended every 2 s and 10% of watch
//! starts answered 410, the success, migration-failure and rollback scenarios end exactly as they
//! do without faults (exit code, report result, every workload's status, and the cluster's final
//! state), in each of 20 seeded runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::support::Run;

/// Seeds per scenario.
const SEEDS: u64 = 20;
/// Seeded runs at once per scenario (the three scenarios also run in parallel).
const PARALLEL: usize = 2;

struct Scenario {
    name: &'static str,
    files: &'static [&'static str],
    args: &'static [&'static str],
    exit: i32,
    result: &'static str,
}

const SUCCESS: Scenario = Scenario {
    name: "success",
    files: &["shop.yaml", "migrations.yaml"],
    args: &["-i", "busybox:1.37", "-c", "stable", "-n", "shop,billing"],
    exit: 0,
    result: "succeeded",
};

const MIGRATION_FAILURE: Scenario = Scenario {
    name: "migration-failure",
    files: &["shop.yaml", "failing-migration.yaml"],
    args: &["-i", "busybox:1.37", "-c", "stable", "-n", "shop"],
    exit: 3,
    result: "migration-failed",
};

const ROLLBACK: Scenario = Scenario {
    name: "rollback",
    files: &["shop.yaml"],
    args: &[
        "-i",
        "busybox:missing-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "2s",
    ],
    exit: 4,
    result: "rolled-back",
};

/// What a run ended with, comparable across clusters (Job names hash the template's uid, which
/// differs per cluster, so migrations are compared by template and status).
#[derive(Debug, PartialEq, Eq)]
struct Ending {
    exit: i32,
    result: String,
    workloads: Vec<String>,
    migrations: Vec<String>,
    state: BTreeMap<String, String>,
}

/// kubectl does not retry a 500 without Retry-After; the checks read through the faults too, so
/// they try again.
fn get(cluster: &Cluster, args: &[&str]) -> Value {
    let mut full = vec!["get", "-o", "json"];
    full.extend_from_slice(args);
    let mut last = None;
    for _ in 0..20 {
        let res = cluster.kubectl(&full);
        if res.code == 0 {
            return serde_json::from_str(&res.stdout).expect("kubectl prints JSON");
        }
        last = Some(res.render());
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "kubectl {full:?} kept failing: {}",
        last.unwrap_or_default()
    )
}

/// Every workload's images and update record, and every migration copy (by template and image)
/// with its verdict.
fn state(cluster: &Cluster) -> BTreeMap<String, String> {
    let list = get(
        cluster,
        &["-A", "deployments,statefulsets,daemonsets,cronjobs,jobs"],
    );
    let mut res = BTreeMap::new();
    for item in list["items"].as_array().expect("a list") {
        let kind = item["kind"].as_str().unwrap_or_default();
        let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        let annotations = &item["metadata"]["annotations"];
        if let Some(template) =
            item["metadata"]["labels"]["kubectl-update.io/migration-of"].as_str()
        {
            let verdict: Vec<&str> = item["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|it| it["status"] == "True")
                .filter_map(|it| it["type"].as_str())
                .filter(|it| *it == "Complete" || *it == "Failed")
                .collect();
            res.insert(
                format!(
                    "copy {namespace}/{template} {}",
                    annotations["kubectl-update.io/image"]
                ),
                verdict.join(","),
            );
            continue;
        }
        let spec = if kind == "CronJob" {
            &item["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        } else {
            &item["spec"]["template"]["spec"]
        };
        let images: Vec<String> = ["initContainers", "containers"]
            .iter()
            .flat_map(|list| spec[list].as_array().into_iter().flatten())
            .map(|it| format!("{}={}", it["name"], it["image"]))
            .collect();
        let recorded = annotations.get("kubectl-update.io/previous").is_some();
        res.insert(
            format!("{kind} {namespace}/{name}"),
            format!("{} previous:{recorded}", images.join(",")),
        );
    }
    res
}

fn ending(cluster: &Cluster, run: &Run) -> Ending {
    let report = report(run);
    let listed = |key: &str, name: &str| -> Vec<String> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|it| {
                format!(
                    "{}/{} {}",
                    it["namespace"].as_str().unwrap_or_default(),
                    it[name].as_str().unwrap_or_default(),
                    it["status"].as_str().unwrap_or_default()
                )
            })
            .collect()
    };
    Ending {
        exit: run.code,
        result: report["result"].as_str().unwrap_or_default().to_owned(),
        workloads: listed("workloads", "name"),
        migrations: listed("migrations", "template"),
        state: state(cluster),
    }
}

/// What one run did: how it ended, how many 500/429 answers and watch starts the access log shows,
/// and how long it took.
struct Measured {
    ending: Ending,
    injected: usize,
    watches: usize,
    took: Duration,
}

fn run_once(scenario: &Scenario, faults: Option<u64>) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("access.log");
    let cluster = Cluster::start_with(scenario.files, |options| {
        options.access_log = Some(log.clone());
        if let Some(seed) = faults {
            options.latency_ms = 50;
            options.error_rate = 0.05;
            options.throttle_rate = 0.05;
            options.watch_timeout_s = Some(2);
            options.gone_rate = 0.1;
            options.seed = seed;
        }
    });
    let mut args = scenario.args.to_vec();
    args.extend(["-o", "json"]);
    let started = Instant::now();
    let run = cluster.update(&args);
    let took = started.elapsed();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let injected = text
        .lines()
        .filter(|line| {
            let status = line.split('\t').nth(2).unwrap_or_default();
            status == "500" || status == "429"
        })
        .count();
    let watches = text
        .lines()
        .filter(|line| {
            line.split('\t')
                .nth(1)
                .unwrap_or_default()
                .contains("watch=true")
        })
        .count();
    Measured {
        ending: ending(&cluster, &run),
        injected,
        watches,
        took,
    }
}

fn same_ending_under_faults(scenario: &Scenario) {
    if std::env::var_os(crate::cluster::REAL_CLUSTER).is_some() || crate::control_plane::selected()
    {
        crate::support::skip(
            scenario.name,
            "API faults (500s, 429s, ended watches, 410s) are injected by the simulator",
        );
        return;
    }
    let Measured {
        ending: baseline,
        watches: baseline_watches,
        ..
    } = run_once(scenario, None);
    assert_eq!(baseline.exit, scenario.exit, "{baseline:#?}");
    assert_eq!(baseline.result, scenario.result, "{baseline:#?}");
    let started = Instant::now();
    let seeds: Vec<u64> = (1..=SEEDS).collect();
    let mut injected = 0;
    let mut watches = 0;
    let mut slowest = Duration::ZERO;
    for chunk in seeds.chunks(PARALLEL) {
        let endings: Vec<(u64, Measured)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|seed| (*seed, scope.spawn(move || run_once(scenario, Some(*seed)))))
                .collect();
            handles
                .into_iter()
                .map(|(seed, handle)| (seed, handle.join().expect("the run finishes")))
                .collect()
        });
        for (seed, measured) in endings {
            assert_eq!(
                measured.ending, baseline,
                "{} under faults (seed {seed}) ended differently",
                scenario.name
            );
            injected += measured.injected;
            watches += measured.watches;
            slowest = slowest.max(measured.took);
        }
    }
    eprintln!(
        "faults/{}: {SEEDS}/{SEEDS} seeded runs ended like the fault-free run; {injected} 500/429 answers injected; {watches} watch starts (fault-free run: {baseline_watches}); slowest run {slowest:.1?}; all runs {:.1?}",
        scenario.name,
        started.elapsed()
    );
    assert!(
        injected > SEEDS as usize,
        "faults were injected: {injected}"
    );
    assert!(
        watches > baseline_watches * SEEDS as usize / 2,
        "watches ended by the server (or answered 410) were started again: {watches} watch starts in {SEEDS} runs, {baseline_watches} in the fault-free one"
    );
}

#[test]
fn success_under_faults() {
    same_ending_under_faults(&SUCCESS);
}

#[test]
fn migration_failure_under_faults() {
    same_ending_under_faults(&MIGRATION_FAILURE);
}

#[test]
fn rollback_under_faults() {
    same_ending_under_faults(&ROLLBACK);
}
