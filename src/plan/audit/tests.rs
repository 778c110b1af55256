//! Unit tests of the audit trail: causes from the CI environment, their validation, change-causes
//! and Event bodies. Pure, like the module.

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn github_run_url() {
    let github = env(&[
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_RUN_ID", "42"),
        ("CI_PIPELINE_URL", "https://gitlab.com/x/-/pipelines/1"),
    ]);
    assert_eq!(
        ci_cause(&github).as_deref(),
        Some("https://github.com/acme/shop/actions/runs/42")
    );
    let mut retried = github.clone();
    retried.insert("GITHUB_RUN_ATTEMPT".into(), "2".into());
    assert_eq!(
        ci_cause(&retried).as_deref(),
        Some("https://github.com/acme/shop/actions/runs/42/attempts/2")
    );
}

#[test]
fn other_ci_systems() {
    let cases = [
        (
            env(&[("CI_JOB_URL", "https://gitlab.com/a/-/jobs/7")]),
            "https://gitlab.com/a/-/jobs/7",
        ),
        (
            env(&[
                ("CI_JOB_URL", "https://gitlab.com/a/-/jobs/7"),
                ("CI_PIPELINE_URL", "https://gitlab.com/a/-/pipelines/3"),
            ]),
            "https://gitlab.com/a/-/pipelines/3",
        ),
        (
            env(&[("BUILD_URL", "https://jenkins.example/job/app/9/")]),
            "https://jenkins.example/job/app/9/",
        ),
        (
            env(&[(
                "BUILDKITE_BUILD_URL",
                "https://buildkite.com/acme/app/builds/5",
            )]),
            "https://buildkite.com/acme/app/builds/5",
        ),
        (
            env(&[("CIRCLE_BUILD_URL", "https://circleci.com/gh/acme/app/8")]),
            "https://circleci.com/gh/acme/app/8",
        ),
        (
            env(&[
                ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
                ("SYSTEM_TEAMPROJECT", "shop"),
                ("BUILD_BUILDID", "11"),
            ]),
            "https://dev.azure.com/acme/shop/_build/results?buildId=11",
        ),
    ];
    for (env, want) in cases {
        assert_eq!(ci_cause(&env).as_deref(), Some(want), "{env:?}");
    }
    assert_eq!(ci_cause(&env(&[("GITHUB_RUN_ID", "1")])), None);
    assert_eq!(ci_cause(&env(&[])), None);
}

#[test]
fn the_flag_wins_and_bad_causes_are_refused() {
    let github = env(&[
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_RUN_ID", "42"),
    ]);
    assert_eq!(
        resolve_cause(Some("hotfix #12"), &github)
            .unwrap()
            .as_deref(),
        Some("hotfix #12")
    );
    assert_eq!(resolve_cause(None, &env(&[])).unwrap(), None);
    for bad in ["a\nb", "a\rb", "tab\there", "", "  ", "esc\u{1b}[31m"] {
        let err = resolve_cause(Some(bad), &github).unwrap_err();
        assert!(err.starts_with("invalid value for --cause: "), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
    let long = "x".repeat(MAX_CAUSE + 1);
    assert!(
        resolve_cause(Some(&long), &github)
            .unwrap_err()
            .contains("at most 1024 bytes")
    );
    assert!(resolve_cause(Some(&long[1..]), &github).is_ok());
    let bad_ci = env(&[("BUILD_URL", "https://x/\u{7}")]);
    assert!(
        resolve_cause(None, &bad_ci)
            .unwrap_err()
            .contains("pass --cause")
    );
}

#[test]
fn change_cause_keeps_the_prefix() {
    assert_eq!(change_cause("app=a:2", None), "kubectl-update: app=a:2");
    assert_eq!(
        change_cause("app=a:2", Some("https://ci/1")),
        "kubectl-update: app=a:2 (https://ci/1)"
    );
}

#[test]
fn event_bodies() {
    use crate::plan::workload::Kind;
    let id = ObjectId {
        namespace: "shop".into(),
        kind: Kind::Deployment,
        name: "web".into(),
    };
    let record = Record {
        id: &id,
        uid: Some("u1"),
        reason: Reason::ImageUpdated,
        images: vec![ImageChange {
            container: "app".into(),
            from: "busybox:1.36".into(),
            to: "busybox:1.37".into(),
        }],
        detail: None,
        cause: Some("https://ci/1"),
    };
    let event = event(&record, "2026-12-07T13:00:00.123456Z", "host/1/ab");
    assert_eq!(
        event["message"],
        "image updated: app: busybox:1.36 -> busybox:1.37; cause: https://ci/1"
    );
    assert_eq!(event["metadata"]["generateName"], "web.");
    assert_eq!(event["metadata"]["namespace"], "shop");
    assert_eq!(
        event["involvedObject"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web", "uid": "u1"})
    );
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["reason"], "ImageUpdated");
    assert_eq!(event["source"]["component"], COMPONENT);
    assert_eq!(event["reportingComponent"], COMPONENT);
    assert_eq!(event["firstTimestamp"], "2026-12-07T13:00:00Z");
    assert_eq!(event["eventTime"], "2026-12-07T13:00:00.123456Z");
    let failed = Record {
        reason: Reason::MigrationFailed,
        detail: Some("migration Job shop/db-migrate-1 failed: BackoffLimitExceeded".into()),
        cause: None,
        ..record.clone()
    };
    let event = super::event(&failed, "t", "i");
    assert_eq!(event["type"], "Warning");
    assert_eq!(
        event["message"],
        "not updated: app: busybox:1.36 -> busybox:1.37; migration Job shop/db-migrate-1 failed: BackoffLimitExceeded"
    );
    let long = "x".repeat(MAX_CAUSE);
    let message = message(&Record {
        reason: Reason::RolledBack,
        cause: Some(&long),
        ..record
    });
    assert!(message.len() <= MAX_MESSAGE && message.ends_with("..."));
    assert!(message.starts_with("rolled back: app: busybox:1.36 -> busybox:1.37; cause: xx"));
}
