//! Unit tests of the status table at 80, 100 and 200 columns (insta snapshots). Renders strings;
//! never prints.

use super::*;
use crate::run::status::assemble::{LastChange, LockStatus, Rollout};

fn images(pairs: &[(&str, &str)]) -> Vec<ContainerImage> {
    pairs
        .iter()
        .map(|(name, image)| ContainerImage {
            name: (*name).to_owned(),
            init: false,
            image: (*image).to_owned(),
        })
        .collect()
}

fn rollout(state: &'static str, updated: i32) -> Rollout {
    Rollout {
        state,
        message: Some("kubectl's message".to_owned()),
        desired: Some(3),
        updated: Some(updated),
        ready: Some(updated),
    }
}

fn cluster() -> ClusterStatus {
    let deployment = WorkloadStatus {
        namespace: "shop".to_owned(),
        kind: "Deployment".to_owned(),
        name: "checkout-payment-gateway-worker".to_owned(),
        classifiers: vec!["stable".to_owned()],
        containers: images(&[
            ("app", "registry.example.com/app:1.38"),
            ("proxy", "nginx:1.27"),
        ]),
        revision: Some("4".to_owned()),
        rollout: rollout("in-progress", 1),
        last_change: LastChange {
            time: Some("2026-12-07T13:24:16.141985448Z".to_owned()),
            cause: Some("kubectl-update: app=registry.example.com/app:1.38".to_owned()),
        },
        previous: images(&[("app", "registry.example.com/app:1.37")]),
        locks: vec![LockStatus {
            classifier: "stable".to_owned(),
            lease: "kubectl-update-stable".to_owned(),
            state: "held",
            holder: Some("ci-runner-7/4242/abcd".to_owned()),
            renew_time: Some("2026-12-07T13:24:15.000000Z".to_owned()),
            lease_duration_seconds: Some(30),
        }],
    };
    let mut statefulset = deployment.clone();
    statefulset.kind = "StatefulSet".to_owned();
    statefulset.name = "db".to_owned();
    statefulset.containers = images(&[("db", "busybox:1.37")]);
    statefulset.revision = Some("db-5dbcdd7f4f".to_owned());
    statefulset.rollout = rollout("failed", 0);
    statefulset.rollout.message = Some("statefulset \"db\" cannot create pods".to_owned());
    statefulset.previous = images(&[("db", "busybox:1.36")]);
    statefulset.last_change.cause = Some("kubectl-update: db=busybox:1.37".to_owned());
    statefulset.locks[0].state = "expired";
    statefulset.locks[0].holder = None;
    let cronjob = WorkloadStatus {
        kind: "CronJob".to_owned(),
        name: "nightly".to_owned(),
        containers: images(&[("app", "busybox:1.36")]),
        revision: None,
        rollout: Rollout {
            state: "none",
            message: None,
            desired: None,
            updated: None,
            ready: None,
        },
        last_change: LastChange::default(),
        previous: Vec::new(),
        locks: Vec::new(),
        ..deployment.clone()
    };
    let mut done = deployment.clone();
    done.namespace = "billing".to_owned();
    done.name = "web".to_owned();
    done.rollout = rollout("complete", 3);
    done.locks.clear();
    ClusterStatus {
        context: Some("prod".to_owned()),
        server: "https://127.0.0.1:6443/".to_owned(),
        classifiers: vec!["stable".to_owned()],
        namespaces: Some(vec!["billing".to_owned(), "shop".to_owned()]),
        workloads: vec![done, deployment, statefulset, cronjob],
    }
}

#[test]
fn status_table_at_80_columns() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!("status_80", render(&cluster(), 80));
}

#[test]
fn status_table_at_100_columns() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!("status_100", render(&cluster(), 100));
}

#[test]
fn status_table_at_200_columns() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!("status_200", render(&cluster(), 200));
}

#[test]
fn several_classifiers_name_theirs_in_the_lock_column() {
    console::set_colors_enabled(false);
    let mut cluster = cluster();
    cluster.classifiers.push("canary".to_owned());
    let table = render(&cluster, 300);
    assert!(
        table.contains("stable: held by ci-runner-7/4242/abcd"),
        "{table}"
    );
    assert!(table.contains("stable: expired"), "{table}");
}

#[test]
fn the_summary_names_the_context_and_server() {
    assert_eq!(
        summary(&cluster()),
        "4 workloads of classifier stable (context prod, https://127.0.0.1:6443/)"
    );
}

#[test]
fn times_are_shown_to_the_second() {
    assert_eq!(
        seconds("2026-12-07T13:24:16.141985448Z"),
        "2026-12-07T13:24:16Z"
    );
    assert_eq!(seconds("2026-12-07T13:24:16Z"), "2026-12-07T13:24:16Z");
}

#[test]
fn a_table_too_wide_for_the_terminal_becomes_one_block_per_workload() {
    console::set_colors_enabled(false);
    let text = render(&cluster(), 80);
    assert!(
        text.starts_with("billing/Deployment/web\n  images "),
        "{text}"
    );
    assert!(
        text.lines()
            .all(|it| it.chars().count() <= 80 || it.contains("registry")),
        "{text}"
    );
}

#[test]
fn causes_written_by_the_tool_say_what_it_did() {
    assert_eq!(
        cause("kubectl-update: app=busybox:1.37"),
        "update by kubectl-update"
    );
    assert_eq!(
        cause("kubectl-update: rolled back to app=busybox:1.36"),
        "rollback by kubectl-update"
    );
    assert_eq!(
        cause("kubectl set image deploy/web app=x"),
        "kubectl set image deploy/web app=x"
    );
}

#[test]
fn a_failure_is_told_without_the_name_the_row_shows() {
    assert_eq!(
        unnamed("deployment \"web\" exceeded its progress deadline"),
        "exceeded its progress deadline"
    );
    assert_eq!(unnamed("no name here"), "no name here");
}
