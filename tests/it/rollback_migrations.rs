//! Rollback migrations (`kubectl-update.io/migration: rollback`) end to end, on the simulator and
//! on the real control plane: they run with the new image after a failed rollout was rolled back
//! when forward migrations ran, and never otherwise; a failed one exits 5 naming its Job; a bad
//! annotation stops the run before any change; previews list them apart. The app crashes
//! (`busybox:crash-1`) while the migrations run a tools image (`alpine:3.21`) that succeeds.

use serde_json::Value;

use crate::cluster::{Cluster, scenario};
use crate::privilege::ci_token;
use crate::schema::{check, validator};
use crate::support::{Run, run, run_with};

/// An update whose rollout fails (the app crashes) while its migrations succeed.
fn failing_update(cluster: &Cluster, json: bool) -> Run {
    let mut args = vec![
        "-i",
        "busybox:crash-1",
        "-i",
        "alpine:3.21",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
    ];
    if json {
        args.extend(["-o", "json"]);
    }
    cluster.update(&args)
}

/// The Jobs the tool made as copies of `template`, as kubectl sees them.
fn copies_of(cluster: &Cluster, template: &str) -> Vec<Value> {
    let selector = format!("kubectl-update.io/migration-of={template}");
    let list = cluster.get(&["-n", "shop", "jobs", "-l", &selector]);
    list["items"].as_array().expect("a list").clone()
}

/// Each rollback migration's template and status in the report.
fn statuses(report: &Value) -> Vec<(String, String)> {
    report["rollbackMigrations"]
        .as_array()
        .expect("rollbackMigrations")
        .iter()
        .map(|it| {
            (
                it["template"].as_str().unwrap().to_owned(),
                it["status"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn after_a_rolled_back_rollout_they_run_in_order_with_the_new_image() {
    let cluster = Cluster::start(&[
        "shop.yaml",
        "forward-tool-migration.yaml",
        "rollback-migrations.yaml",
    ]);
    let res = failing_update(&cluster, true);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = check(&validator(), &res);
    assert_eq!(report["result"], "rolled-back");
    assert_eq!(report["migrations"][0]["status"], "succeeded");
    assert_eq!(
        statuses(&report),
        pairs(&[("undo-schema", "succeeded"), ("undo-search", "succeeded")])
    );
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36",
        "the workloads were rolled back"
    );
    let at = |text: &str| {
        res.stderr
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} on stderr: {}", res.render()))
    };
    assert!(
        at("schema undone") < at("undoing search"),
        "order 1 before order 2: {}",
        res.stderr
    );
    assert!(
        at("rolling back") < at("undoing schema"),
        "after the rollback: {}",
        res.stderr
    );

    let job = report["rollbackMigrations"][0]["job"].as_str().unwrap();
    assert!(job.starts_with("undo-schema-"), "{job}");
    let copy = cluster.get(&["-n", "shop", "job", job]);
    assert_eq!(
        copy["spec"]["template"]["spec"]["containers"][0]["image"], "alpine:3.21",
        "the new image"
    );
    assert_eq!(
        copy["metadata"]["labels"]["kubectl-update.io/migration-of"],
        "undo-schema"
    );
    assert_eq!(
        cluster.image("shop", "job/undo-schema", "unschema"),
        "alpine:3.20",
        "templates are never changed"
    );

    // A retried CI job: what was undone is done again, and undone again; nothing is reused.
    let again = failing_update(&cluster, true);
    assert_eq!(again.code, 4, "{}", again.render());
    let again = check(&validator(), &again);
    assert_eq!(again["migrations"][0]["status"], "succeeded", "not reused");
    assert_eq!(
        statuses(&again),
        pairs(&[("undo-schema", "succeeded"), ("undo-search", "succeeded")])
    );
}

#[test]
fn a_failed_rollback_migration_exits_5_naming_its_job() {
    let cluster = Cluster::start(&[
        "shop.yaml",
        "forward-tool-migration.yaml",
        "failing-rollback-migration.yaml",
    ]);
    let res = failing_update(&cluster, false);
    assert_eq!(res.code, 5, "{}", res.render());
    assert!(
        res.stdout.contains("Rollback migrations") && res.stdout.contains("undo-broken"),
        "{}",
        res.render()
    );
    let copies = copies_of(&cluster, "undo-broken");
    assert_eq!(copies.len(), 1, "{copies:#?}");
    let job = copies[0]["metadata"]["name"].as_str().unwrap();
    assert!(
        res.stderr.contains(&format!(
            "rollback migration {job} (from template undo-broken) failed"
        )),
        "{}",
        res.stderr
    );
    assert!(
        res.stderr
            .contains(&format!("kubectl logs -n shop job/{job}")),
        "{}",
        res.stderr
    );
    assert!(res.stderr.contains("cannot undo"), "{}", res.stderr);
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.36",
        "the workloads stay rolled back"
    );
    let list = cluster.get(&["-n", "shop", "events"]);
    let recorded = list["items"].as_array().unwrap().iter().any(|it| {
        it["reason"] == "RollbackMigrationFailed"
            && it["involvedObject"]["name"] == "web"
            && it["message"].as_str().unwrap_or_default().contains(job)
    });
    assert!(recorded, "{list:#}");
}

#[test]
fn a_successful_rollout_never_runs_them() {
    let cluster = Cluster::start(&[
        "shop.yaml",
        "forward-tool-migration.yaml",
        "rollback-migrations.yaml",
    ]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "alpine:3.21",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let report = check(&validator(), &res);
    assert_eq!(report["result"], "succeeded");
    assert_eq!(
        statuses(&report),
        pairs(&[("undo-schema", "skipped"), ("undo-search", "skipped")])
    );
    assert_eq!(
        report["rollbackMigrations"][0]["reason"],
        "no rollout failed"
    );
    assert!(copies_of(&cluster, "undo-schema").is_empty());
    assert!(copies_of(&cluster, "undo-search").is_empty());
    assert_eq!(
        copies_of(&cluster, "schema").len(),
        1,
        "the forward one ran"
    );
}

#[test]
fn without_a_forward_migration_they_do_not_run() {
    let cluster = Cluster::start(&["shop.yaml", "rollback-migrations.yaml"]);
    let res = failing_update(&cluster, true);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = check(&validator(), &res);
    assert_eq!(report["result"], "rolled-back");
    assert_eq!(
        statuses(&report),
        pairs(&[("undo-schema", "skipped"), ("undo-search", "skipped")])
    );
    assert_eq!(
        report["rollbackMigrations"][0]["reason"],
        "no forward migration ran in this run"
    );
    assert!(copies_of(&cluster, "undo-schema").is_empty());
    assert!(copies_of(&cluster, "undo-search").is_empty());
}

#[test]
fn a_malformed_annotation_stops_before_any_change() {
    let cluster = Cluster::start(&["shop.yaml", "forward-tool-migration.yaml"]);
    cluster.apply(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: undo-typo
  namespace: shop
  annotations: {kubectl-update.io/classifier: stable, kubectl-update.io/migration: rolback}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: undo, image: "alpine:3.20", command: ["sh", "-c", "echo undo"]}
"#,
    );
    let before = cluster.get(&["-n", "shop", "deployment/web"]);
    let res = failing_update(&cluster, false);
    assert_eq!(res.code, 1, "{}", res.render());
    let lines: Vec<&str> = res.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", res.stderr);
    assert!(
        lines[0].contains("kubectl-update.io/migration=\"rolback\" is malformed")
            && lines[0].contains("undo-typo"),
        "{}",
        res.stderr
    );
    let after = cluster.get(&["-n", "shop", "deployment/web"]);
    assert_eq!(
        before["metadata"]["generation"],
        after["metadata"]["generation"]
    );
    assert!(copies_of(&cluster, "schema").is_empty(), "nothing ran");
    assert!(copies_of(&cluster, "undo-typo").is_empty());
}

#[test]
fn previews_list_them_apart() {
    let files = [
        "shop.yaml",
        "forward-tool-migration.yaml",
        "rollback-migrations.yaml",
    ]
    .map(|it| scenario(it).display().to_string());
    let mut args = vec!["-i", "busybox:1.37", "-i", "alpine:3.21", "-c", "stable"];
    for file in &files {
        args.extend(["-f", file.as_str()]);
    }
    let res = run(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    let heading = res
        .stdout
        .find("Rollback migrations (run only if a rollout fails after migrations)")
        .expect("a table of their own");
    let forward = res.stdout.find("Migrations (run first").expect("forward");
    assert!(forward < heading, "{}", res.stdout);
    assert!(
        res.stdout[heading..].contains("undo-schema"),
        "{}",
        res.stdout
    );
    assert!(
        !res.stdout[forward..heading].contains("undo-"),
        "{}",
        res.stdout
    );
    assert!(
        res.stderr.contains("2 rollback migrations on standby"),
        "{}",
        res.stderr
    );
    args.extend(["-o", "json"]);
    let res = run(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    let report = check(&validator(), &res);
    assert_eq!(report["migrations"].as_array().unwrap().len(), 1);
    assert_eq!(
        statuses(&report),
        pairs(&[("undo-schema", "-"), ("undo-search", "-")])
    );
    assert_eq!(report["rollbackMigrations"][0]["image"], "alpine:3.21");

    // A live client dry run lists them the same way and creates nothing.
    let cluster = Cluster::start(&[
        "shop.yaml",
        "forward-tool-migration.yaml",
        "rollback-migrations.yaml",
    ]);
    let res = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-i",
        "alpine:3.21",
        "-c",
        "stable",
        "-n",
        "shop",
        "--dry-run",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stdout
            .contains("Rollback migrations (run only if a rollout fails after migrations)"),
        "{}",
        res.stdout
    );
    assert!(copies_of(&cluster, "undo-schema").is_empty());
}

/// A Job copy of `template` (a template JSON object as the cluster stores it) with `image`, as the
/// tool makes it, made as JSON text by hand: the command `--dry-run=server` creates as the token.
fn forged_copy(template: &Value, image: &str, edit: impl Fn(&mut Value)) -> String {
    let name = template["metadata"]["name"].as_str().unwrap();
    let mut annotations = template["metadata"]["annotations"].clone();
    let annotations = annotations.as_object_mut().unwrap();
    annotations.remove("kubectl-update.io/classifier");
    annotations.remove("kubectl-update.io/order");
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.insert("kubectl-update.io/image".into(), Value::from(image));
    let mut pod = template["spec"]["template"].clone();
    pod["metadata"] = serde_json::json!({"labels": {"kubectl-update.io/migration-of": name}});
    pod["spec"]["containers"][0]["image"] = Value::from(image);
    let mut copy = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": format!("{name}-forged"), "namespace": "shop",
            "labels": {"kubectl-update.io/migration-of": name}, "annotations": annotations},
        "spec": {"backoffLimit": template["spec"]["backoffLimit"].clone(), "suspend": false,
            "ttlSecondsAfterFinished": 86400, "template": pod}});
    if let Some(spec) = template["spec"].as_object() {
        for (key, value) in spec {
            if ![
                "suspend",
                "selector",
                "manualSelector",
                "template",
                "backoffLimit",
            ]
            .contains(&key.as_str())
            {
                copy["spec"][key] = value.clone();
            }
        }
    }
    edit(&mut copy);
    copy.to_string()
}

#[test]
fn the_ci_token_runs_them_under_the_generated_policy_and_cannot_forge_one() {
    let cluster = Cluster::start(&[
        "shop.yaml",
        "forward-tool-migration.yaml",
        "rollback-migrations.yaml",
    ]);
    let kubeconfig = ci_token(
        &cluster,
        &[
            "-c",
            "stable",
            "--allow-repository",
            "busybox",
            "--allow-repository",
            "alpine",
        ],
    );
    let create = |body: &str| {
        let cmd = cluster.kubectl_command(&kubeconfig, "kubectl-cache-ci");
        run_with(cmd, &["create", "--dry-run=server", "-f", "-"], Some(body))
    };
    let undo = cluster.get(&["-n", "shop", "job/undo-schema"]);
    let schema = cluster.get(&["-n", "shop", "job/schema"]);
    // A forward template's copy claiming to be a rollback one, and a rollback template's copy
    // without its phase or with another command: each refused (once the policy is in effect).
    let forged = [
        forged_copy(&schema, "alpine:3.21", |it| {
            it["metadata"]["annotations"]["kubectl-update.io/migration"] = "rollback".into()
        }),
        forged_copy(&undo, "alpine:3.21", |it| {
            it["metadata"]["annotations"]
                .as_object_mut()
                .unwrap()
                .remove("kubectl-update.io/migration");
        }),
        forged_copy(&undo, "alpine:3.21", |it| {
            it["spec"]["template"]["spec"]["containers"][0]["command"] =
                serde_json::json!(["sh", "-c", "echo pwned"])
        }),
    ];
    let started = std::time::Instant::now();
    while create(&forged[0]).code == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the admission policy never took effect"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    for body in &forged {
        let res = create(body);
        assert_ne!(res.code, 0, "{body}: {}", res.render());
        assert!(
            res.stderr.contains("ValidatingAdmissionPolicy")
                || res.stderr.contains("denied")
                || res.stderr.contains("forbidden"),
            "{}",
            res.render()
        );
    }
    let honest = forged_copy(&undo, "alpine:3.21", |_| {});
    let res = create(&honest);
    assert_eq!(
        res.code,
        0,
        "the copy as the tool makes it: {}",
        res.render()
    );

    let ci = kubeconfig.display().to_string();
    let res = cluster.update(&[
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:crash-1",
        "-i",
        "alpine:3.21",
        "-c",
        "stable",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = check(&validator(), &res);
    assert_eq!(
        statuses(&report),
        pairs(&[("undo-schema", "succeeded"), ("undo-search", "succeeded")])
    );
    assert!(!res.stderr.contains("could not record"), "{}", res.stderr);
}
