//! The audit trail end to end: every change leaves a Kubernetes Event on the workload
//! (`ImageUpdated`, `RolledBack`, `MigrationFailed`) with the old and new images and the cause, the
//! cause (`--cause`, or the CI run's URL) goes into `kubernetes.io/change-cause`, dry runs record
//! nothing, and a bad cause is refused before anything changes. Runs as the CI token with the
//! generated RBAC and admission policies, on the simulator and on the real control plane.

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::privilege::ci_token;
use crate::support::{command, run_with};

/// The generated RBAC with the admission policies, for the canary workloads' busybox images.
const POLICY: &[&str] = &["-c", "stable,canary", "--allow-repository", "busybox"];

/// The Events about `name` in `namespace` that kubectl-update recorded, as kubectl sees them.
fn events(cluster: &Cluster, namespace: &str, name: &str) -> Vec<Value> {
    let selector = format!("involvedObject.name={name}");
    let list = cluster.get(&["-n", namespace, "events", "--field-selector", &selector]);
    let mut res: Vec<Value> = list["items"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|it| it["source"]["component"] == "kubectl-update")
        .cloned()
        .collect();
    res.sort_by_key(|it| it["eventTime"].as_str().unwrap_or_default().to_owned());
    res
}

fn change_cause(cluster: &Cluster, namespace: &str, resource: &str) -> String {
    cluster.get(&["-n", namespace, resource])["metadata"]["annotations"]
        ["kubernetes.io/change-cause"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_update_records_an_event_with_the_images_and_the_cause() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let ci = ci_token(&cluster, POLICY).display().to_string();
    let args = [
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "--cause",
        "release 1.37 (ticket OPS-7)",
        "-o",
        "json",
    ];
    for dry_run in ["--dry-run=server", "--dry-run=client"] {
        let res = cluster.update(&[&args[..], &[dry_run]].concat());
        assert_eq!(res.code, 0, "{}", res.render());
    }
    assert!(
        events(&cluster, "shop", "canary-web").is_empty(),
        "dry runs record nothing"
    );
    let res = cluster.update(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        !res.stderr.contains("could not record"),
        "the policy admits the tool's own Events: {}",
        res.stderr
    );
    let report = crate::schema::check(&crate::schema::validator(), &res);
    assert_eq!(report["cause"], "release 1.37 (ticket OPS-7)");
    let events = events(&cluster, "shop", "canary-web");
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["reason"], "ImageUpdated");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["involvedObject"]["kind"], "Deployment");
    assert_eq!(event["reportingComponent"], "kubectl-update");
    assert_eq!(
        event["message"],
        "image updated: app: busybox:1.36 -> busybox:1.37; cause: release 1.37 (ticket OPS-7)"
    );
    let uid = cluster.get(&["-n", "shop", "deployment/canary-web"])["metadata"]["uid"].clone();
    assert_eq!(
        event["involvedObject"]["uid"], uid,
        "kubectl describe finds it"
    );
    assert_eq!(
        change_cause(&cluster, "shop", "deployment/canary-web"),
        "kubectl-update: app=busybox:1.37 (release 1.37 (ticket OPS-7))"
    );
    let table = cluster.kubectl(&[
        "get",
        "events",
        "-n",
        "shop",
        "--field-selector",
        "involvedObject.name=canary-web,reason=ImageUpdated",
    ]);
    assert!(
        table.stdout.contains("ImageUpdated") && table.stdout.contains("deployment/canary-web"),
        "{}",
        table.render()
    );
}

#[test]
fn without_cause_the_ci_run_is_the_cause() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let mut cmd = command();
    cmd.env("KUBECONFIG", cluster.kubeconfig())
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_RUN_ATTEMPT", "2");
    let res = run_with(
        cmd,
        &[
            "-i",
            "busybox:1.37",
            "-c",
            "canary",
            "-n",
            "shop",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(res.code, 0, "{}", res.render());
    let url = "https://github.com/acme/shop/actions/runs/4242/attempts/2";
    assert_eq!(report(&res)["cause"], url);
    assert_eq!(
        change_cause(&cluster, "shop", "deployment/canary-web"),
        format!("kubectl-update: app=busybox:1.37 ({url})")
    );
    let events = events(&cluster, "shop", "canary-web");
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("; cause: {url}")),
        "{events:#?}"
    );
}

#[test]
fn a_failed_rollout_records_the_rollback() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let ci = ci_token(&cluster, POLICY).display().to_string();
    let res = cluster.update(&[
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:missing-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "--cause",
        "try missing-1",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let events = events(&cluster, "shop", "canary-web");
    let reasons: Vec<&str> = events
        .iter()
        .map(|it| it["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["ImageUpdated", "RolledBack"], "{events:#?}");
    assert_eq!(events[1]["type"], "Warning");
    assert_eq!(
        events[1]["message"],
        "rolled back: app: busybox:missing-1 -> busybox:1.36; cause: try missing-1"
    );
    assert_eq!(
        change_cause(&cluster, "shop", "deployment/canary-web"),
        "kubectl-update: rolled back to app=busybox:1.36 (try missing-1)"
    );
}

#[test]
fn a_failed_migration_records_it_on_the_workloads_it_stopped() {
    let cluster = Cluster::start(&["shop.yaml", "failing-migration.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "--cause",
        "schema v2",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 3, "{}", res.render());
    let job = report(&res)["migrations"][0]["job"]
        .as_str()
        .unwrap()
        .to_owned();
    for (resource, name) in [("deployment/web", "web"), ("statefulset/cache", "cache")] {
        let events = events(&cluster, "shop", name);
        assert_eq!(events.len(), 1, "{resource}: {events:#?}");
        assert_eq!(events[0]["reason"], "MigrationFailed");
        assert_eq!(events[0]["type"], "Warning");
        let message = events[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("not updated: ")
                && message.contains(&format!("migration Job shop/{job} failed: "))
                && message.ends_with("; cause: schema v2"),
            "{message}"
        );
    }
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36"
    );
}

#[test]
fn a_cause_with_a_newline_is_refused_before_anything_changes() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let before = cluster.versions();
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "--cause",
        "a\nb",
    ]);
    assert_eq!(res.code, 2, "{}", res.render());
    let first = res.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: invalid value for --cause: a cause is one line"),
        "{}",
        res.stderr
    );
    assert!(!res.stderr.contains("\nb"), "{}", res.stderr);
    assert_eq!(cluster.versions(), before);
    assert!(events(&cluster, "shop", "canary-web").is_empty());
}

#[test]
fn the_rollback_command_records_its_cause() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let ci = ci_token(&cluster, POLICY).display().to_string();
    let update = cluster.update(&[
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
    ]);
    assert_eq!(update.code, 0, "{}", update.render());
    let bad = cluster.update(&[
        "rollback",
        "--kubeconfig",
        &ci,
        "-c",
        "canary",
        "-n",
        "shop",
        "--cause",
        "two\nlines",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.render());
    assert!(bad.stderr.contains("--cause"), "{}", bad.stderr);
    assert_eq!(
        events(&cluster, "shop", "canary-web").len(),
        1,
        "the bad cause changed nothing"
    );
    let res = cluster.update(&[
        "rollback",
        "--kubeconfig",
        &ci,
        "-c",
        "canary",
        "-n",
        "shop",
        "--cause",
        "revert OPS-8",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let report: Value = serde_json::from_str(&res.stdout).expect("a JSON report");
    assert_eq!(report["cause"], "revert OPS-8");
    let events = events(&cluster, "shop", "canary-web");
    let reasons: Vec<&str> = events
        .iter()
        .filter_map(|it| it["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["ImageUpdated", "RolledBack"], "{events:#?}");
    let message = events[1]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("busybox:1.37 -> busybox:1.36")
            && message.ends_with("cause: revert OPS-8"),
        "{message}"
    );
    assert_eq!(
        change_cause(&cluster, "shop", "deployment/canary-web"),
        "kubectl-update: rolled back to app=busybox:1.36 (revert OPS-8)"
    );
}
