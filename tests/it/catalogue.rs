//! The bad-input catalogue: one table of inputs the tool must refuse, each with its exit code and
//! the first line of its error. The live cases run against one simulated cluster and prove that no
//! object's resourceVersion changed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use crate::cluster::Cluster;
use crate::support::{command, run_with};

/// One bad input.
struct Case {
    name: &'static str,
    args: Vec<String>,
    /// `KUBECONFIG` for the run: the cluster's admin kubeconfig unless a case names another.
    kubeconfig: Kubeconfig,
    stdin: Option<&'static str>,
    exit: i32,
    /// The error line starts with this (after `error: `).
    error: String,
}

enum Kubeconfig {
    /// Offline: no kubeconfig at all.
    None,
    Admin,
    Path(PathBuf),
}

fn case(name: &'static str, args: &[&str], exit: i32, error: &str) -> Case {
    Case {
        name,
        args: args.iter().map(|it| (*it).to_owned()).collect(),
        kubeconfig: Kubeconfig::None,
        stdin: None,
        exit,
        error: error.to_owned(),
    }
}

fn live(name: &'static str, args: &[&str], exit: i32, error: &str) -> Case {
    Case {
        kubeconfig: Kubeconfig::Admin,
        ..case(name, args, exit, error)
    }
}

fn with_kubeconfig(mut case: Case, path: &Path) -> Case {
    case.kubeconfig = Kubeconfig::Path(path.to_owned());
    case
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {kubectl-update.io/classifier: stable}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox:1.36}]
";

/// The admin kubeconfig of a real cluster with its user's credentials replaced by `token`, and
/// `shop` as its namespace.
fn real_token_kubeconfig(cluster: &Cluster, dir: &TempDir, name: &str, token: &str) -> PathBuf {
    let text = std::fs::read_to_string(cluster.kubeconfig()).expect("the admin kubeconfig");
    let mut config: serde_json::Value = serde_saphyr::from_str(&text).expect("a kubeconfig");
    for user in config["users"].as_array_mut().expect("users") {
        user["user"] = serde_json::json!({"token": token});
    }
    for context in config["contexts"].as_array_mut().expect("contexts") {
        context["context"]["namespace"] = serde_json::json!("shop");
    }
    let path = dir.path().join(name);
    std::fs::write(&path, serde_saphyr::to_string(&config).unwrap()).unwrap();
    path
}

/// A kubeconfig for a new ServiceAccount of `shop`, bound to a ClusterRole if given.
fn service_account_kubeconfig(
    cluster: &Cluster,
    dir: &TempDir,
    name: &str,
    cluster_role: Option<&str>,
) -> PathBuf {
    let created = cluster.kubectl(&["create", "serviceaccount", name, "-n", "shop"]);
    assert_eq!(created.code, 0, "{}", created.render());
    if let Some(role) = cluster_role {
        let granted = cluster.kubectl(&[
            "create",
            "rolebinding",
            name,
            "-n",
            "shop",
            &format!("--clusterrole={role}"),
            &format!("--serviceaccount=shop:{name}"),
        ]);
        assert_eq!(granted.code, 0, "{}", granted.render());
    }
    let token = cluster.kubectl(&["create", "token", name, "-n", "shop"]);
    assert_eq!(token.code, 0, "{}", token.render());
    real_token_kubeconfig(cluster, dir, &format!("kc-{name}"), token.stdout.trim())
}

/// A kubeconfig whose token was bound to a Secret that is gone, once the API server refuses it.
fn revoked_token_kubeconfig(cluster: &Cluster, dir: &TempDir) -> PathBuf {
    let secret = cluster.kubectl(&["create", "secret", "generic", "revokes", "-n", "shop"]);
    assert_eq!(secret.code, 0, "{}", secret.render());
    let token = cluster.kubectl(&[
        "create",
        "token",
        "default",
        "-n",
        "shop",
        "--bound-object-kind=Secret",
        "--bound-object-name=revokes",
    ]);
    assert_eq!(token.code, 0, "{}", token.render());
    let path = real_token_kubeconfig(cluster, dir, "kc-expired", token.stdout.trim());
    let deleted = cluster.kubectl(&["delete", "secret", "revokes", "-n", "shop"]);
    assert_eq!(deleted.code, 0, "{}", deleted.render());
    cluster.wait_until_refused(&path);
    path
}

/// The kinds a run could write.
const WRITABLE: &str = "deployments,statefulsets,daemonsets,cronjobs,jobs,leases,replicasets";

/// Not the control plane's own namespaces: a real one renews its Leases in kube-system and
/// kube-node-lease all the time.
fn outside_the_control_plane(namespace: &str) -> bool {
    !matches!(namespace, "kube-system" | "kube-node-lease")
}

#[test]
fn bad_inputs_are_refused_with_their_exit_code_and_error_line() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let syntax = file(
        "syntax.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n  bad: [\n",
    );
    let wrong_type = file(
        "types.yaml",
        &DEPLOYMENT.replace("[{name: app, image: busybox:1.36}]", "\"busybox\""),
    );
    let replicas = file(
        "replicas.yaml",
        &DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: three\n  selector"),
    );
    let api_version = file("v9.yaml", &DEPLOYMENT.replace("apps/v1", "apps/v9"));
    let annotation = file(
        "annotation.yaml",
        &DEPLOYMENT.replace("classifier: stable", "classifier: \"stable,,canary\""),
    );
    let phase = file(
        "phase.yaml",
        "apiVersion: batch/v1
kind: Job
metadata: {name: undo, annotations: {kubectl-update.io/classifier: stable, kubectl-update.io/migration: later}}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: undo, image: \"busybox:1.36\"}]
",
    );
    let migration = file(
        "migration.yaml",
        "apiVersion: batch/v1
kind: Job
metadata: {name: mig, annotations: {kubectl-update.io/classifier: stable}}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: alpine:3.21}]
",
    );
    let kc_garbage = PathBuf::from(file("kc-garbage", "garbage: [\n"));
    let kc_no_context = PathBuf::from(file(
        "kc-no-context",
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    ));
    let kc_unreachable = PathBuf::from(file(
        "kc-unreachable",
        "apiVersion: v1
kind: Config
current-context: x
clusters: [{name: x, cluster: {server: \"https://127.0.0.1:1\"}}]
contexts: [{name: x, context: {cluster: x, user: x}}]
users: [{name: x, user: {token: abc}}]
",
    ));
    let fake = cluster.fake();
    let token_kubeconfig = |name: &str, token: &str| -> PathBuf {
        let path = dir.path().join(name);
        fake.expect("the simulator")
            .write_kubeconfig_for_token(&path, token, "shop")
            .unwrap();
        path
    };
    let simulated = cluster.simulated();
    let (kc_wrong, kc_expired, kc_nobody, kc_viewer) = if simulated {
        let fake = fake.unwrap();
        let expired = fake
            .service_account_token("shop", "default", 1)
            .expect("a token");
        let nobody = fake.mint_token("nobody", &[]);
        let viewer = fake.mint_token("viewer", &[]);
        let granted = cluster.kubectl(&[
            "create",
            "rolebinding",
            "viewer",
            "-n",
            "shop",
            "--clusterrole=view",
            "--user=viewer",
        ]);
        assert_eq!(granted.code, 0, "{}", granted.render());
        (
            token_kubeconfig("kc-wrong", "not-a-token"),
            token_kubeconfig("kc-expired", &expired),
            token_kubeconfig("kc-nobody", &nobody),
            token_kubeconfig("kc-viewer", &viewer),
        )
    } else {
        // A real API server mints no token shorter than 10 minutes: a revoked one (its bound
        // Secret deleted) is refused the same way as an expired one.
        (
            real_token_kubeconfig(&cluster, &dir, "kc-wrong", "not-a-token"),
            revoked_token_kubeconfig(&cluster, &dir),
            service_account_kubeconfig(&cluster, &dir, "nobody", None),
            service_account_kubeconfig(&cluster, &dir, "viewer", Some("view")),
        )
    };
    // A malformed annotation in the cluster, on an object using the image.
    let broken = file(
        "broken.yaml",
        "apiVersion: v1
kind: Namespace
metadata: {name: broken}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: broken, annotations: {kubectl-update.io/classifier: \"stable; canary\"}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox:1.36}]
",
    );
    let applied = cluster.kubectl(&["apply", "-f", &broken]);
    assert_eq!(applied.code, 0, "{}", applied.render());

    let offline = ["-c", "stable", "-f", "examples"];
    let image = |reference: &str| -> Vec<String> {
        let mut args = vec!["-i".to_owned(), reference.to_owned()];
        args.extend(offline.iter().map(|it| (*it).to_owned()));
        args
    };
    let mut cases: Vec<Case> = vec![
        // Image references.
        Case {
            args: image("Acme/App:1"),
            ..case(
                "uppercase repository",
                &[],
                2,
                "invalid value 'Acme/App:1' for '--image <REF>': the repository path must be lowercase",
            )
        },
        Case {
            args: image("acme/app:"),
            ..case(
                "empty tag",
                &[],
                2,
                "invalid value 'acme/app:' for '--image <REF>': the tag after `:` is empty",
            )
        },
        Case {
            args: image("acme/app@sha256:xyz"),
            ..case(
                "bad digest",
                &[],
                2,
                "invalid value 'acme/app@sha256:xyz' for '--image <REF>': the digest",
            )
        },
        Case {
            args: image("acme/app 1"),
            ..case(
                "space in reference",
                &[],
                2,
                "invalid value 'acme/app 1' for '--image <REF>': an image reference cannot contain spaces",
            )
        },
        Case {
            args: image(""),
            ..case(
                "empty reference",
                &[],
                2,
                "invalid value '' for '--image <REF>': an image reference cannot be empty",
            )
        },
        Case {
            args: image(&format!("acme/app:{}", "t".repeat(129))),
            ..case("tag too long", &[], 2, "invalid value 'acme/app:ttt")
        },
        Case {
            args: image("acme//app:1"),
            ..case(
                "empty path component",
                &[],
                2,
                "invalid value 'acme//app:1' for '--image <REF>': it is not of the form",
            )
        },
        Case {
            args: image("http://acme/app:1"),
            ..case(
                "URL instead of a reference",
                &[],
                2,
                "invalid value 'http://acme/app:1' for '--image <REF>': it is not of the form",
            )
        },
        // Classifiers.
        case(
            "empty classifier",
            &["-i", "app:1", "--classifier=", "-f", "examples"],
            2,
            "invalid value '' for '--classifier <NAME>': a classifier cannot be empty",
        ),
        case(
            "classifier starting with a dash",
            &["-i", "app:1", "--classifier=-stable", "-f", "examples"],
            2,
            "invalid value '-stable' for '--classifier <NAME>': a classifier must start and end with a letter or digit",
        ),
        case(
            "classifier too long",
            &["-i", "app:1", "-c", &"a".repeat(64), "-f", "examples"],
            2,
            "invalid value 'aaaa",
        ),
        case(
            "classifier with a space",
            &["-i", "app:1", "-c", "sta ble", "-f", "examples"],
            2,
            "invalid value 'sta ble' for '--classifier <NAME>'",
        ),
        case(
            "missing classifier",
            &["-i", "app:1", "-f", "examples"],
            2,
            "the following required arguments were not provided",
        ),
        case(
            "missing image",
            &["-c", "stable", "-f", "examples"],
            2,
            "the following required arguments were not provided",
        ),
        // Conflicting or malformed flags.
        case(
            "-n with -A",
            &["-i", "app:1", "-c", "s", "-n", "a", "-A"],
            2,
            "the argument '--namespace <NS>' cannot be used with '--all-namespaces'",
        ),
        case(
            "-o yaml against a cluster",
            &["-i", "app:1", "-c", "s", "-o", "yaml"],
            2,
            "-o yaml prints updated manifests and needs -f",
        ),
        case(
            "--dry-run=server offline",
            &[
                "-i",
                "app:1",
                "-c",
                "s",
                "--dry-run=server",
                "-f",
                "examples",
            ],
            2,
            "--dry-run=server needs a cluster, but -f previews offline",
        ),
        case(
            "--no-lock with --lock-timeout",
            &[
                "-i",
                "app:1",
                "-c",
                "s",
                "--no-lock",
                "--lock-timeout",
                "1m",
            ],
            2,
            "the argument '--no-lock' cannot be used with '--lock-timeout <DURATION>'",
        ),
        case(
            "two images of one repository",
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
            2,
            "--image app:1 and --image docker.io/library/app:2 name the same repository docker.io/library/app",
        ),
        case(
            "malformed namespace",
            &["-i", "app:1", "-c", "s", "-n", "Shop"],
            2,
            "invalid value \"Shop\" for --namespace",
        ),
        case(
            "duration without a unit",
            &["-i", "app:1", "-c", "s", "--timeout", "10"],
            2,
            "invalid value '10' for '--timeout <DURATION>'",
        ),
        case(
            "unknown --on-interrupt",
            &["-i", "app:1", "-c", "s", "--on-interrupt", "maybe"],
            2,
            "invalid value 'maybe' for '--on-interrupt <WHAT>'",
        ),
        case(
            "unknown flag",
            &["-i", "app:1", "-c", "s", "--imgae", "x"],
            2,
            "unexpected argument '--imgae' found",
        ),
        // Manifest files.
        case(
            "missing manifest file",
            &["-i", "busybox:1.37", "-c", "stable", "-f", "nosuch.yaml"],
            1,
            "nosuch.yaml: cannot read: No such file or directory",
        ),
        case(
            "YAML syntax error",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &syntax],
            1,
            &format!("{syntax}: line 4, column 6: invalid YAML"),
        ),
        case(
            "wrong type for containers",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &wrong_type],
            1,
            &format!(
                "{wrong_type}: document 1: line 9: Deployment \"web\" is malformed: spec.template.spec.containers: invalid type: string \"busybox\", expected a sequence"
            ),
        ),
        case(
            "wrong type for replicas",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &replicas],
            1,
            &format!(
                "{replicas}: document 1: line 5: Deployment \"web\" is malformed: spec.replicas: invalid type: string \"three\""
            ),
        ),
        case(
            "unknown apiVersion",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &api_version],
            1,
            &format!(
                "{api_version}: document 1: Deployment has apiVersion apps/v9; kubectl-update reads apps/v1"
            ),
        ),
        case(
            "malformed annotation in a manifest",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &annotation],
            1,
            "deployments/web in namespace default: annotation kubectl-update.io/classifier=\"stable,,canary\" is malformed: the list has an empty entry",
        ),
        case(
            "malformed migration phase in a manifest",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &phase],
            1,
            "jobs/undo in namespace default: annotation kubectl-update.io/migration=\"later\" is malformed: it must be `forward` or `rollback`; set it to `rollback` (run only after a failed rollout was rolled back) or `forward`, or remove it",
        ),
        case(
            "migration template without a matching container",
            &["-i", "busybox:1.37", "-c", "stable", "-f", &migration],
            1,
            "nothing matched: no workload or migration template lists classifier `stable` and uses docker.io/library/busybox",
        ),
        Case {
            stdin: Some(""),
            ..case(
                "empty stdin",
                &["-i", "busybox:1.37", "-c", "stable", "-f", "-"],
                1,
                "nothing matched",
            )
        },
        // Reaching the cluster.
        live(
            "missing --kubeconfig file",
            &[
                "-i",
                "busybox:1.37",
                "-c",
                "stable",
                "--kubeconfig",
                "/nonexistent/kubeconfig",
            ],
            1,
            "cannot load kubeconfig \"/nonexistent/kubeconfig\": no such file",
        ),
        with_kubeconfig(
            live(
                "no kubeconfig anywhere",
                &["-i", "busybox:1.37", "-c", "stable"],
                1,
                "no kubeconfig found and not running inside a cluster",
            ),
            Path::new("/nonexistent/kubeconfig"),
        ),
        with_kubeconfig(
            live(
                "malformed kubeconfig",
                &["-i", "busybox:1.37", "-c", "stable"],
                1,
                "cannot load kubeconfig",
            ),
            &kc_garbage,
        ),
        with_kubeconfig(
            live(
                "kubeconfig without a current context",
                &["-i", "busybox:1.37", "-c", "stable"],
                1,
                "cannot use the kubeconfig: failed to determine current context",
            ),
            &kc_no_context,
        ),
        with_kubeconfig(
            live(
                "unreachable server",
                &["-i", "busybox:1.37", "-c", "stable"],
                1,
                "cannot reach the API server at https://127.0.0.1:1/: connection refused",
            ),
            &kc_unreachable,
        ),
        live(
            "unknown context",
            &["-i", "busybox:1.37", "-c", "stable", "--context", "nope"],
            1,
            "context \"nope\" is not in the kubeconfig",
        ),
        live(
            "unknown namespace",
            &["-i", "busybox:1.37", "-c", "stable", "-n", "nosuch"],
            1,
            "nothing matched",
        ),
        live(
            "nothing matched",
            &["-i", "busybox:1.37", "-c", "nightly", "-n", "shop"],
            1,
            "nothing matched",
        ),
        live(
            "malformed annotation in the cluster",
            &["-i", "busybox:1.37", "-c", "stable", "-n", "broken"],
            1,
            "deployments/web in namespace broken: annotation kubectl-update.io/classifier=\"stable; canary\" is malformed",
        ),
    ];
    {
        cases.extend([
            with_kubeconfig(
                live(
                    "wrong token",
                    &["-i", "busybox:1.37", "-c", "stable"],
                    1,
                    "unauthorized: the server at ",
                ),
                &kc_wrong,
            ),
            with_kubeconfig(
                live(
                    "expired token",
                    &["-i", "busybox:1.37", "-c", "stable"],
                    1,
                    "unauthorized: the server at ",
                ),
                &kc_expired,
            ),
            with_kubeconfig(
                live(
                    "Forbidden on discovery",
                    &["-i", "busybox:1.37", "-c", "stable"],
                    1,
                    "forbidden: this token may not list ",
                ),
                &kc_nobody,
            ),
            with_kubeconfig(
                live(
                    "Forbidden at the preflight",
                    &["-i", "busybox:1.37", "-c", "stable"],
                    1,
                    "forbidden: this token may not ",
                ),
                &kc_viewer,
            ),
        ]);
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());

    // Let the expired token expire, and the cluster settle.
    std::thread::sleep(Duration::from_secs(2));
    let before = cluster.settled_versions(WRITABLE, &outside_the_control_plane);
    let mut failures = Vec::new();
    for case in &cases {
        let mut cmd = command();
        match &case.kubeconfig {
            Kubeconfig::None => (),
            Kubeconfig::Admin => {
                cmd.env("KUBECONFIG", cluster.kubeconfig());
            }
            Kubeconfig::Path(path) => {
                cmd.env("KUBECONFIG", path);
            }
        }
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let res = run_with(cmd, &args, case.stdin);
        let first = res.stderr.lines().find(|it| it.starts_with("error: "));
        let line_ok = first.is_some_and(|line| line["error: ".len()..].starts_with(&case.error));
        // In the user's words: no library internals, no path quoted twice.
        let plain = first.is_some_and(|line| {
            !["ServiceError", "client error (", "'\"", "\"'"]
                .iter()
                .any(|internal| line.contains(internal))
        });
        if res.code != case.exit || !line_ok || !plain || !res.stdout.is_empty() {
            failures.push(format!(
                "{}: expected exit {} and `error: {}…`\n{}",
                case.name,
                case.exit,
                case.error,
                res.render()
            ));
        }
        if !matches!(case.kubeconfig, Kubeconfig::None) {
            let after = cluster.resource_versions(WRITABLE, &outside_the_control_plane);
            assert_eq!(after, before, "{}: an object changed", case.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
