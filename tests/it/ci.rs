//! CI ergonomics: GitHub Actions log groups, error annotations and the step summary; GitLab CI
//! collapsible sections. The services are detected from `GITHUB_ACTIONS` and `GITLAB_CI`.

use crate::cluster::{Cluster, report};
use crate::support::{Run, command, run_with};

/// Runs the binary as on GitHub Actions, with a step summary file; returns the run and the summary.
fn on_github(cluster: Option<&Cluster>, args: &[&str]) -> (Run, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let summary = dir.path().join("summary.md");
    let mut cmd = command();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    if let Some(cluster) = cluster {
        cmd.env("KUBECONFIG", cluster.kubeconfig());
    }
    let res = run_with(cmd, args, None);
    (res, std::fs::read_to_string(&summary).unwrap_or_default())
}

/// Checks that groups do not nest or interleave, and returns each group's title and lines.
#[track_caller]
fn groups(stderr: &str) -> Vec<(String, Vec<String>)> {
    let mut res: Vec<(String, Vec<String>)> = Vec::new();
    let mut open = false;
    for line in stderr.lines() {
        if let Some(title) = line.strip_prefix("::group::") {
            assert!(!open, "groups do not nest: {stderr}");
            open = true;
            res.push((title.to_owned(), Vec::new()));
        } else if line == "::endgroup::" {
            assert!(open, "an end closes an open group: {stderr}");
            open = false;
        } else if open {
            res.last_mut().expect("a group").1.push(line.to_owned());
        }
    }
    assert!(!open, "every group is closed: {stderr}");
    res
}

#[test]
fn github_step_summary_of_an_offline_preview() {
    let (res, summary) = on_github(
        None,
        &["-i", "busybox:1.37", "-c", "stable", "-f", "examples/"],
    );
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        summary.starts_with("### kubectl update: planned (dry run: client)\n"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "| default | Deployment | web | planned | app: `busybox:1.36` → `busybox:1.37` |"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("- default/DaemonSet/log-agent: uses busybox:1.36"),
        "near misses: {summary}"
    );
    assert!(
        summary.contains("| default | db-migrate | - | planned |"),
        "{summary}"
    );
}

#[test]
fn github_error_annotation_when_nothing_matched() {
    let (res, _) = on_github(
        None,
        &["-i", "busybox:1.37", "-c", "nope", "-f", "examples/"],
    );
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(
        res.stderr
            .lines()
            .any(|it| it.starts_with("::error title=kubectl update failed::nothing matched")),
        "{}",
        res.stderr
    );
}

#[test]
fn github_groups_migration_logs_and_summarises_the_outcome() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    // Both templates in one order: they run at once, and their logs still get a group each.
    let annotate = cluster.kubectl(&[
        "annotate",
        "-n",
        "shop",
        "job/search",
        "kubectl-update.io/order=1",
        "--overwrite",
    ]);
    assert_eq!(annotate.code, 0, "{}", annotate.render());
    let (res, summary) = on_github(
        Some(&cluster),
        &["-i", "busybox:1.37", "-c", "stable", "-n", "shop"],
    );
    assert_eq!(res.code, 0, "{}", res.render());
    let groups = groups(&res.stderr);
    assert_eq!(groups.len(), 2, "{}", res.stderr);
    for (title, lines) in &groups {
        let job = title
            .strip_prefix("Migration ")
            .and_then(|it| it.strip_suffix(": log"))
            .unwrap_or_else(|| panic!("a migration's group: {title}"));
        assert!(!lines.is_empty(), "{}", res.stderr);
        for line in lines {
            assert!(
                line.starts_with(&format!("[{job}] ")),
                "only {job}'s lines in its group: {}",
                res.stderr
            );
        }
    }
    assert!(
        summary.starts_with("### kubectl update: succeeded\n"),
        "{summary}"
    );
    assert!(summary.contains("| shop | schema | schema-"), "{summary}");
    assert!(
        summary.contains("| shop | Deployment | web | succeeded |"),
        "{summary}"
    );
}

#[test]
fn github_error_annotation_for_a_rolled_back_failure() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let (res, summary) = on_github(
        Some(&cluster),
        &[
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
        ],
    );
    assert_eq!(res.code, 4, "{}", res.render());
    assert_eq!(report(&res)["result"], "rolled-back");
    assert!(
        res.stderr
            .lines()
            .any(|it| it.starts_with("::error title=Rollout failed::rollout failed: ")),
        "{}",
        res.stderr
    );
    assert!(
        summary.starts_with("### kubectl update: rolled-back\n"),
        "{summary}"
    );
    // What runs now, and apart from it what was tried; the reason once, above the tables.
    assert!(
        summary.contains("| rolled-back | app: `busybox:1.36` (tried `busybox:missing-1`) |"),
        "{summary}"
    );
    // Why it failed: the failing pod's Warning Events, in a collapsed group of the log.
    let group = res
        .stderr
        .lines()
        .position(|it| it.starts_with("::group::Why shop/deployment/"))
        .unwrap_or_else(|| panic!("a diagnosis group: {}", res.stderr));
    let body: Vec<&str> = res.stderr.lines().skip(group + 1).collect();
    let end = body
        .iter()
        .position(|it| *it == "::endgroup::")
        .unwrap_or_else(|| panic!("the group ends: {}", res.stderr));
    assert!(
        body[..end].iter().any(|it| it.contains("warning events:")),
        "{}",
        res.stderr
    );
    assert!(
        body[..end]
            .iter()
            .any(|it| it.trim_start().starts_with("Failed: ") && it.contains("ErrImagePull")),
        "the pull failure's Warning Event: {}",
        res.stderr
    );
}

#[test]
fn gitlab_collapsible_sections_for_migration_logs() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let mut cmd = command();
    cmd.env("GITLAB_CI", "true")
        .env("KUBECONFIG", cluster.kubeconfig());
    let res = run_with(
        cmd,
        &["-i", "busybox:1.37", "-c", "stable", "-n", "shop"],
        None,
    );
    assert_eq!(res.code, 0, "{}", res.render());
    let starts = res.stderr.matches("\x1b[0Ksection_start:").count();
    let ends = res.stderr.matches("\x1b[0Ksection_end:").count();
    assert_eq!((starts, ends), (2, 2), "{}", res.stderr);
    let start = res
        .stderr
        .find("[collapsed=true]\r\x1b[0KMigration schema-")
        .expect("a section");
    let log = res.stderr.find("] migrating schema").expect("the log");
    let end = res.stderr.find("\x1b[0Ksection_end:").expect("an end");
    assert!(start < log && log < end, "{}", res.stderr);
    assert!(!res.stderr.contains("::group::"), "{}", res.stderr);
}

#[test]
fn github_error_annotation_for_a_usage_error() {
    let (res, _) = on_github(None, &["-i", "busybox:1.37", "-c", "stable", "--bogus"]);
    assert_eq!(res.code, 2, "{}", res.render());
    let lines: Vec<&str> = res.stderr.lines().collect();
    assert_eq!(
        lines[0], "error: unexpected argument '--bogus' found",
        "{}",
        res.stderr
    );
    assert_eq!(
        lines.last(),
        Some(&"::error title=kubectl update%3A usage::unexpected argument '--bogus' found"),
        "{}",
        res.stderr
    );
}
