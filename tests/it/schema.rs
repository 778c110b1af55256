//! The JSON report's schema (`docs/report.schema.json`) validates real reports: offline previews,
//! and live runs against the simulated cluster that succeed, fail and are rolled back, or roll back
//! by request.

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::support::{Run, repo_root, run};

pub fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("docs/report.schema.json"))
        .expect("docs/report.schema.json is readable");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the schema is a valid draft 2020-12 schema")
}

#[track_caller]
pub fn check(validator: &jsonschema::Validator, res: &Run) -> Value {
    let report = report(res);
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", res.stdout);
    report
}

#[test]
fn offline_previews_match_the_schema() {
    let validator = validator();
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        "examples",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let planned = check(&validator, &res);
    assert!(!planned["nearMisses"].as_array().unwrap().is_empty());
    let res = run(&[
        "-i",
        "busybox:1.36",
        "-c",
        "stable",
        "-f",
        "examples/web.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(check(&validator, &res)["result"], "unchanged");

    // `--write`, on a copy of the examples.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let dir_arg = dir.path().display().to_string();
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        &dir_arg,
        "--write",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    let written = check(&validator, &res);
    assert_eq!(written["result"], "written");
    assert!(!written["filesWritten"].as_array().unwrap().is_empty());
}

#[test]
fn the_schema_rejects_what_reports_never_hold() {
    let validator = validator();
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        "examples",
        "-o",
        "json",
    ]);
    let mut report = report(&res);
    assert!(validator.is_valid(&report));
    report["workloads"][0]["status"] = "done".into();
    assert!(!validator.is_valid(&report), "an unknown status");
    let mut report = self::report(&res);
    report["dry_run"] = "client".into();
    assert!(!validator.is_valid(&report), "an undocumented field");
}

#[test]
fn live_reports_match_the_schema() {
    let validator = validator();
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
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
    let mut dry_run = args.to_vec();
    dry_run.push("--dry-run=server");
    let res = cluster.update(&dry_run);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(check(&validator, &res)["dryRun"], "server");

    let res = cluster.update(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    let succeeded = check(&validator, &res);
    assert_eq!(succeeded["result"], "succeeded");
    assert_eq!(succeeded["migrations"][0]["status"], "succeeded");

    let res = cluster.update(&[
        "rollback",
        "-c",
        "stable",
        "-n",
        "shop,billing",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(check(&validator, &res)["result"], "rolled-back");
}

#[test]
fn failed_live_reports_match_the_schema() {
    let validator = validator();
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&[
        "-i",
        "busybox:missing-1",
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
    let rolled_back = check(&validator, &res);
    assert_eq!(rolled_back["result"], "rolled-back");
    assert!(
        rolled_back["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|it| it["reason"].is_string())
    );
    // Why it failed: one failing pod per failed workload, with its Warning Events (the pull
    // failure, as kubelet records it).
    let diagnosed: Vec<&Value> = rolled_back["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|it| it["diagnosis"].is_object())
        .collect();
    assert!(!diagnosed.is_empty(), "{}", res.stdout);
    let events = diagnosed[0]["diagnosis"]["events"].as_array().unwrap();
    assert!(
        events.iter().any(
            |it| it["message"].as_str().unwrap().contains("ErrImagePull")
                || it["message"].as_str().unwrap().contains("pull")
        ),
        "{}",
        res.stdout
    );
}

#[test]
fn a_crash_loop_is_explained_by_events_and_the_previous_runs_log() {
    let validator = validator();
    let cluster = Cluster::start(&["shop.yaml"]);
    if !cluster.conventions() {
        crate::support::skip(
            "a_crash_loop_is_explained_by_events_and_the_previous_runs_log",
            "needs `crash-` images that crash-loop",
        );
        return;
    }
    let res = cluster.update(&[
        "-i",
        "busybox:crash-1",
        "-c",
        "canary",
        "-n",
        "shop",
        "--fail-after",
        "2s",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 4, "{}", res.render());
    let report = check(&validator, &res);
    let diagnosis = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|it| it["diagnosis"].as_object())
        .unwrap_or_else(|| panic!("a diagnosis: {}", res.stdout));
    // web's init container `wait` and its `app` both run the image; either may be the one.
    assert!(
        ["app", "wait"].contains(&diagnosis["container"].as_str().unwrap_or_default()),
        "{diagnosis:?}"
    );
    assert!(diagnosis["pod"].is_string(), "{diagnosis:?}");
    assert!(diagnosis.get("problems").is_none(), "{diagnosis:?}");
    if cluster.simulated() {
        // kubelet's BackOff Event. kwok sends one only when the container restarts, after the
        // 2 s that fail it here; and it runs no process, so only the simulator prints the crashed
        // run's line.
        let events = diagnosis["events"].as_array().unwrap();
        assert!(
            events.iter().any(|it| it["reason"] == "BackOff"),
            "{diagnosis:?}"
        );
        assert_eq!(diagnosis["logsOf"], "previous", "{diagnosis:?}");
        assert!(
            diagnosis["logLines"][0]
                .as_str()
                .is_some_and(|it| it.contains("simulated crash")),
            "{diagnosis:?}"
        );
    }
    // The text on stderr carries the same.
    assert!(res.stderr.contains("warning events:"), "{}", res.stderr);
    if cluster.simulated() {
        assert!(res.stderr.contains("BackOff: "), "{}", res.stderr);
    }
}
