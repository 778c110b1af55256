//! Unit tests of the outcome tables: what a row says after an update, a failure or a rollback,
//! at several widths. Renders strings; never prints.

use super::*;
use crate::report::{ContainerReport, MigrationReport, WorkloadReport};

fn workload(
    kind: &str,
    name: &str,
    status: &str,
    containers: &[(&str, &str, &str)],
) -> WorkloadReport {
    WorkloadReport {
        namespace: "shop".to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        status: status.to_owned(),
        reason: Some("pod web-1 container app is in CrashLoopBackOff: back-off 10s restarting failed container=app pod=web-1_shop(0f9c2e3a-1b2c-4d5e-8f90-123456789abc)".to_owned()),
        containers: containers
            .iter()
            .map(|(name, from, to)| ContainerReport {
                name: (*name).to_owned(),
                init: false,
                from: (*from).to_owned(),
                to: (*to).to_owned(),
            })
            .collect(),
        diagnosis: None,
        owners: Vec::new(),
    }
}

/// A rolled-back run: rows long enough to need every narrowing step at 80 columns.
fn rolled_back() -> Report {
    Report {
        result: "rolled-back".to_owned(),
        dry_run: None,
        images: vec!["registry.example.com/shop/app:crash-1.38".to_owned()],
        classifier: "canary".to_owned(),
        workloads: vec![
            workload(
                "Deployment",
                "checkout-payment-gateway-worker",
                "rolled-back",
                &[
                    (
                        "app",
                        "registry.example.com/shop/app:1.37",
                        "registry.example.com/shop/app:crash-1.38",
                    ),
                    (
                        "sidecar",
                        "registry.example.com/shop/app:1.37",
                        "registry.example.com/shop/app:crash-1.38",
                    ),
                ],
            ),
            workload(
                "StatefulSet",
                "db",
                "rolled-back",
                &[("app", "busybox:1.37", "busybox:crash-1.38")],
            ),
            workload(
                "CronJob",
                "nightly",
                "succeeded",
                &[("app", "busybox:1.37", "busybox:1.38")],
            ),
        ],
        migrations: vec![MigrationReport {
            namespace: "shop".to_owned(),
            template: "db-migrate".to_owned(),
            image: "busybox:crash-1.38".to_owned(),
            job: Some("db-migrate-5f2d8c1a9b".to_owned()),
            status: Some("succeeded".to_owned()),
            reason: None,
            duration_seconds: Some(2.5),
        }],
        rollback_migrations: Vec::new(),
        near_misses: Vec::new(),
        identity: None,
        cause: None,
        reason: None,
        notes: Vec::new(),
        duration_seconds: None,
        files_written: None,
        clusters: Vec::new(),
    }
}

const MIGRATIONS: &str = "\
Migrations
  NAMESPACE  TEMPLATE    JOB                    STATUS     DURATION
  shop       db-migrate  db-migrate-5f2d8c1a9b  succeeded  2.5s

Workloads
";

#[test]
fn outcome_table_at_80_columns_wraps_abbreviates_and_shortens_names_but_never_cuts_an_image() {
    console::set_colors_enabled(false);
    let expected = format!(
        "{MIGRATIONS}{}",
        "  NAMESPACE  KIND    NAME          STATUS       IMAGES
  shop       deploy  checko…orker  rolled-back  app=registry.example.com/shop/app:1.37
                                                  (tried registry.example.com/shop/app:crash-1.38)
                                                sidecar=registry.example.com/shop/app:1.37
                                                  (tried registry.example.com/shop/app:crash-1.38)
  shop       sts     db            rolled-back  app=busybox:1.37
                                                  (tried busybox:crash-1.38)
  shop       cj      nightly       succeeded    app=busybox:1.38
"
    );
    assert_eq!(outcome_table(&rolled_back(), 80), expected);
}

#[test]
fn outcome_table_at_100_columns_fits() {
    console::set_colors_enabled(false);
    let expected = format!(
        "{MIGRATIONS}{}",
        "  NAMESPACE  KIND    NAME            STATUS       IMAGES
  shop       deploy  checkou…worker  rolled-back  app=registry.example.com/shop/app:1.37
                                                    (tried registry.example.com/shop/app:crash-1.38)
                                                  sidecar=registry.example.com/shop/app:1.37
                                                    (tried registry.example.com/shop/app:crash-1.38)
  shop       sts     db              rolled-back  app=busybox:1.37
                                                    (tried busybox:crash-1.38)
  shop       cj      nightly         succeeded    app=busybox:1.38
"
    );
    let table = outcome_table(&rolled_back(), 100);
    assert_eq!(table, expected);
    assert!(table.lines().all(|it| it.chars().count() <= 100));
}

#[test]
fn outcome_table_at_200_columns_only_wraps_the_images() {
    console::set_colors_enabled(false);
    let expected = format!(
        "{MIGRATIONS}{}",
        "  NAMESPACE  KIND         NAME                             STATUS       IMAGES
  shop       Deployment   checkout-payment-gateway-worker  rolled-back  app=registry.example.com/shop/app:1.37
                                                                          (tried registry.example.com/shop/app:crash-1.38)
                                                                        sidecar=registry.example.com/shop/app:1.37
                                                                          (tried registry.example.com/shop/app:crash-1.38)
  shop       StatefulSet  db                               rolled-back  app=busybox:1.37
                                                                          (tried busybox:crash-1.38)
  shop       CronJob      nightly                          succeeded    app=busybox:1.38
"
    );
    assert_eq!(outcome_table(&rolled_back(), 200), expected);
}

#[test]
fn a_narrow_outcome_stays_on_one_line_per_workload() {
    console::set_colors_enabled(false);
    let mut report = rolled_back();
    report.migrations.clear();
    report.workloads.drain(..1);
    assert_eq!(
        outcome_table(&report, 100),
        "Workloads
  NAMESPACE  KIND         NAME     STATUS       IMAGES
  shop       StatefulSet  db       rolled-back  app=busybox:1.37 (tried busybox:crash-1.38)
  shop       CronJob      nightly  succeeded    app=busybox:1.38
"
    );
}

#[test]
fn rollback_migrations_get_a_table_after_the_workloads() {
    console::set_colors_enabled(false);
    let mut report = rolled_back();
    report.migrations.clear();
    report.workloads.drain(..2);
    report.rollback_migrations = vec![MigrationReport {
        namespace: "shop".to_owned(),
        template: "db-undo".to_owned(),
        image: "busybox:crash-1.38".to_owned(),
        job: Some("db-undo-0a1b2c3d4e".to_owned()),
        status: Some("failed".to_owned()),
        reason: Some("BackoffLimitExceeded".to_owned()),
        duration_seconds: Some(1.25),
    }];
    assert_eq!(
        outcome_table(&report, 100),
        "Workloads
  NAMESPACE  KIND     NAME     STATUS     IMAGES
  shop       CronJob  nightly  succeeded  app=busybox:1.38

Rollback migrations
  NAMESPACE  TEMPLATE  JOB                 STATUS  DURATION
  shop       db-undo   db-undo-0a1b2c3d4e  failed  1.2s
"
    );
}
