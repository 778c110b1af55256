//! Offline previews (`-f`): output formats, the CLI contract, and every error's message and exit
//! code. None of these needs a cluster or a kubeconfig.

use insta::assert_snapshot;
use serde_json::Value;

use crate::support::{command, run, run_stdin, run_with};

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {kubectl-update.io/classifier: "stable, canary"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - {name: migrate-check, image: "registry.example.com:5000/shop/app:1.0"}
      containers:
      - {name: app, image: "registry.example.com:5000/shop/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
      - {name: other-port, image: "registry.example.com:5001/shop/app:1.0"}
      - {name: worker, image: "registry.example.com:5000/shop/app-worker:1.0"}
"#;

#[test]
fn text_preview_of_the_examples() {
    assert_snapshot!(run(&["-i", "busybox:1.37", "-c", "stable", "-f", "examples/"]).render());
}

#[test]
fn json_report_of_the_examples() {
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
    assert_eq!(res.code, 0, "{}", res.stderr);
    let report: Value = serde_json::from_str(&res.stdout).expect("stdout is one JSON object");
    assert_eq!(report["result"], "planned");
    assert_eq!(report["dryRun"], "client");
    assert_eq!(report["classifier"], "stable");
    assert_eq!(report["migrations"][0]["template"], "db-migrate");
    assert_eq!(report["nearMisses"][0]["name"], "log-agent");
    assert_snapshot!(res.stdout);
}

#[test]
fn yaml_output_changes_only_image_fields() {
    let res = run_stdin(
        &[
            "-i",
            "registry.example.com:5000/shop/app:2.0",
            "-c",
            "canary",
            "-f",
            "-",
            "-o",
            "yaml",
        ],
        WEB,
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_snapshot!(res.stdout);
}

#[test]
fn registry_port_digest_and_similar_names() {
    let res = run_stdin(
        &[
            "-i",
            "registry.example.com:5000/shop/app:2.0",
            "-c",
            "stable",
            "-f",
            "-",
            "-o",
            "json",
        ],
        WEB,
    );
    let report: Value = serde_json::from_str(&res.stdout).unwrap();
    let changed: Vec<&str> = report["workloads"][0]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        vec!["migrate-check", "app"],
        "port 5001 and app-worker are other repositories"
    );
    assert_eq!(report["workloads"][0]["containers"][0]["init"], true);
}

#[test]
fn already_at_target_is_unchanged() {
    let res = run_stdin(
        &[
            "-i",
            "busybox:1.36",
            "-c",
            "stable",
            "-f",
            "-",
            "-o",
            "json",
        ],
        include_str!("../../examples/web.yaml"),
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    let report: Value = serde_json::from_str(&res.stdout).unwrap();
    assert_eq!(report["result"], "unchanged");
    assert_eq!(report["workloads"][0]["status"], "unchanged");
    assert_eq!(report["workloads"][0]["containers"], Value::Array(vec![]));
}

#[test]
fn legacy_annotation_env_vars_and_alias() {
    let mut with_env = command();
    with_env
        .env("KUBECTL_UPDATE_IMAGE", "busybox:1.37")
        .env("KUBECTL_UPDATE_CLASSIFIER", "canary");
    let res = run_with(with_env, &["-f", "examples/cache.yaml", "-o", "json"], None);
    assert_eq!(res.code, 0, "{}", res.stderr);
    let report: Value = serde_json::from_str(&res.stdout).unwrap();
    assert_eq!(report["workloads"][0]["name"], "cache");
    let res = run(&[
        "--image",
        "busybox:1.37",
        "--update-classifier",
        "canary",
        "-f",
        "examples/cache.yaml",
    ]);
    assert_eq!(res.code, 0, "{}", res.stderr);
}

#[test]
fn namespace_flag_sets_the_default_and_filters() {
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        "examples/web.yaml",
        "-n",
        "prod",
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_str(&res.stdout).unwrap();
    assert_eq!(report["workloads"][0]["namespace"], "prod");
    let res = run_stdin(
        &[
            "-i",
            "registry.example.com:5000/shop/app:2",
            "-c",
            "stable",
            "-f",
            "-",
            "-n",
            "other",
        ],
        WEB,
    );
    assert_eq!(res.code, 1);
    assert!(res.stderr.contains("in namespace other"), "{}", res.stderr);
}

#[test]
fn colour_only_when_asked() {
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        "examples/web.yaml",
    ]);
    assert!(
        !res.stdout.contains('\u{1b}'),
        "NO_COLOR and a pipe mean no colour"
    );
    let res = run(&[
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-f",
        "examples/web.yaml",
        "--color",
        "always",
    ]);
    assert!(
        res.stdout.contains('\u{1b}'),
        "--color always forces colour"
    );
}

#[test]
fn help_says_kubectl_update_and_lists_exit_codes() {
    let res = run(&["--help"]);
    assert_eq!(res.code, 0);
    assert!(
        res.stdout.contains("Usage: kubectl update"),
        "{}",
        res.stdout
    );
    assert!(res.stdout.contains("130  interrupted"), "{}", res.stdout);
}

/// Each bad input: its exit code and its one-line error (plus hints), and nothing on stdout.
#[test]
fn bad_inputs() {
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        ("missing_image", &["-c", "stable", "-f", "examples"], None),
        (
            "missing_classifier",
            &["-i", "app:1", "-f", "examples"],
            None,
        ),
        (
            "uppercase_image",
            &["-i", "Acme/App:1", "-c", "stable", "-f", "examples"],
            None,
        ),
        (
            "empty_tag",
            &["-i", "acme/app:", "-c", "stable", "-f", "examples"],
            None,
        ),
        (
            "bad_digest",
            &[
                "-i",
                "acme/app@sha256:xyz",
                "-c",
                "stable",
                "-f",
                "examples",
            ],
            None,
        ),
        (
            "long_tag",
            &[
                "-i",
                &format!("acme/app:{}", "t".repeat(129)),
                "-c",
                "stable",
                "-f",
                "examples",
            ],
            None,
        ),
        (
            "space_in_image",
            &["-i", "acme/app 1", "-c", "stable", "-f", "examples"],
            None,
        ),
        (
            "empty_image",
            &["-i", "", "-c", "stable", "-f", "examples"],
            None,
        ),
        (
            "bad_classifier",
            &["-i", "app:1", "--classifier=-stable", "-f", "examples"],
            None,
        ),
        (
            "empty_classifier",
            &["-i", "app:1", "--classifier=", "-f", "examples"],
            None,
        ),
        (
            "classifier_charset",
            &["-i", "app:1", "-c", "st@ble", "-f", "examples"],
            None,
        ),
        (
            "same_repository_twice",
            &[
                "-i",
                "app:1",
                "-i",
                "docker.io/library/app:2",
                "-c",
                "s",
                "-f",
                "examples",
            ],
            None,
        ),
        (
            "namespace_and_all",
            &["-i", "app:1", "-c", "s", "-n", "a", "-A", "-f", "examples"],
            None,
        ),
        (
            "yaml_without_files",
            &["-i", "app:1", "-c", "s", "-o", "yaml"],
            None,
        ),
        (
            "server_dry_run_offline",
            &[
                "-i",
                "app:1",
                "-c",
                "s",
                "--dry-run=server",
                "-f",
                "examples",
            ],
            None,
        ),
        (
            "bad_duration",
            &[
                "-i",
                "app:1",
                "-c",
                "s",
                "--timeout",
                "ten",
                "-f",
                "examples",
            ],
            None,
        ),
        (
            "missing_file",
            &["-i", "app:1", "-c", "s", "-f", "does/not/exist.yaml"],
            None,
        ),
        (
            "yaml_syntax",
            &["-i", "app:1", "-c", "s", "-f", "-"],
            Some("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [web\n"),
        ),
        (
            "wrong_type",
            &["-i", "app:1", "-c", "s", "-f", "-"],
            Some(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: three\n",
            ),
        ),
        (
            "unknown_api_version",
            &["-i", "app:1", "-c", "s", "-f", "-"],
            Some("apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: web}\n"),
        ),
        (
            "malformed_annotation",
            &["-i", "busybox:1", "-c", "s", "-f", "-"],
            Some(
                include_str!("../../examples/web.yaml")
                    .replace("classifier: stable", "classifier: \"stable,,\"")
                    .leak(),
            ),
        ),
        (
            "nothing_matched",
            &["-i", "busybox:1.37", "-c", "nope", "-f", "examples"],
            None,
        ),
        (
            "nothing_matched_no_near_miss",
            &["-i", "redis:7", "-c", "stable", "-f", "examples"],
            None,
        ),
        ("no_kubeconfig", &["-i", "app:1", "-c", "s"], None),
        ("unknown_subcommand_argument", &["rbac", "--bogus"], None),
    ];
    let mut rendered = String::new();
    for (name, args, stdin) in cases {
        let res = run_stdin(args, stdin.unwrap_or_default());
        assert!(res.code == 1 || res.code == 2, "{name}: {}", res.render());
        assert!(
            res.stdout.is_empty(),
            "{name}: errors print nothing on stdout: {}",
            res.stdout
        );
        let first = res.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:"), "{name}: {}", res.stderr);
        rendered.push_str(&format!(
            "## {name}\nexit {}\n{}\n",
            res.code,
            clap_usage_trimmed(&res.stderr)
        ));
    }
    assert_snapshot!(rendered);
}

/// clap appends a usage block and a `--help` pointer; the error line itself is what matters here.
fn clap_usage_trimmed(stderr: &str) -> String {
    stderr
        .lines()
        .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
        .collect::<Vec<_>>()
        .join("\n")
}
