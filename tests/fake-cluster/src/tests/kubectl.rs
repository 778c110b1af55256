//! The simulator driven by the real kubectl (skipped with a note when `kubectl` is not installed).
//! Never uses kube-rs.

use std::{path::Path, process::Command, time::Duration};

use serde_json::{Value, json};

use crate::{FakeCluster, Options};

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Kubectl {
    kubeconfig: std::path::PathBuf,
    cache: tempfile::TempDir,
}

impl Kubectl {
    fn new(kubeconfig: &Path) -> Kubectl {
        Kubectl {
            kubeconfig: kubeconfig.to_path_buf(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use std::io::Write;
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.cache.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args, None);
        assert!(ok, "kubectl {args:?} failed: {out}{err}");
        out
    }
}

const DEPLOYMENT_YAML: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
";

#[test]
fn real_kubectl_against_the_simulator() {
    if !kubectl_available() {
        eprintln!("kubectl not installed; skipping the real-kubectl checks");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cluster = rt.block_on(FakeCluster::start(Options::default())).unwrap();
    let k = Kubectl::new(cluster.kubeconfig_path());
    assert!(k.ok(&["version"]).contains("Server Version: v1.32"));
    let resources = k.ok(&["api-resources"]);
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("deployments ") && l.contains("deploy"))
    );
    assert!(k.ok(&["get", "ns"]).contains("kube-system"));
    assert_eq!(
        k.ok(&["create", "ns", "prod"]).trim(),
        "namespace/prod created"
    );
    let (ok, out, err) = k.run(&["apply", "-f", "-"], Some(DEPLOYMENT_YAML));
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "deployment.apps/web created");
    let (ok, out, _) = k.run(
        &["apply", "-f", "-"],
        Some(&DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 3")),
    );
    assert!(ok);
    assert_eq!(out.trim(), "deployment.apps/web configured");
    let three = DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 3");
    let (ok, out, err) = k.run(&["apply", "--server-side", "-f", "-"], Some(&three));
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let (ok, _, err) = k.run(
        &["apply", "--server-side", "-f", "-"],
        Some(DEPLOYMENT_YAML),
    );
    assert!(!ok);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    let (ok, out, err) = k.run(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(DEPLOYMENT_YAML),
    );
    assert!(ok, "{out}{err}");
    let json: Value =
        serde_json::from_str(&k.ok(&["-n", "prod", "get", "deploy", "-o", "json"])).unwrap();
    assert_eq!(json["items"][0]["spec"]["replicas"], 2);
    assert_eq!(
        json["items"][0]["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
        "25%"
    );

    // A brief watch: the initial ADDED rows are printed, then the server keeps streaming.
    let mut watch = Command::new("kubectl")
        .args(["-n", "prod", "get", "deploy", "-w", "--request-timeout=3s"])
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .env("KUBECACHEDIR", k.cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = watch.kill();
    let out = watch.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("web"));

    // A ServiceAccount with a narrow Role.
    k.ok(&["-n", "prod", "create", "sa", "deployer"]);
    k.ok(&[
        "-n",
        "prod",
        "create",
        "role",
        "deployer",
        "--verb=get,patch",
        "--resource=deployments.apps",
        "--resource-name=web",
    ]);
    k.ok(&[
        "-n",
        "prod",
        "create",
        "rolebinding",
        "deployer",
        "--role=deployer",
        "--serviceaccount=prod:deployer",
    ]);
    let token = k.ok(&[
        "-n",
        "prod",
        "create",
        "token",
        "deployer",
        "--duration=10m",
    ]);
    assert_eq!(token.trim().split('.').count(), 3);
    let (ok, _, err) = k.run(
        &["-n", "prod", "create", "token", "deployer", "--duration=1m"],
        None,
    );
    assert!(!ok);
    assert!(
        err.contains("may not specify a duration less than 10 minutes"),
        "{err}"
    );
    let sa_config = k.cache.path().join("sa.kubeconfig");
    cluster
        .write_kubeconfig_for_token(&sa_config, token.trim(), "prod")
        .unwrap();
    let sa = Kubectl::new(&sa_config);
    assert!(
        sa.ok(&["auth", "whoami"])
            .contains("system:serviceaccount:prod:deployer")
    );
    assert_eq!(
        sa.ok(&["auth", "can-i", "patch", "deployments/web"]).trim(),
        "yes"
    );
    let (ok, out, _) = sa.run(&["auth", "can-i", "delete", "deployments/web"], None);
    assert!(!ok);
    assert_eq!(out.trim(), "no");
    assert!(
        sa.ok(&["auth", "can-i", "--list"])
            .contains("deployments.apps")
    );
    sa.ok(&["get", "deploy", "web"]);
    let (ok, _, err) = sa.run(&["get", "deploy"], None);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): deployments.apps is forbidden: User \"system:serviceaccount:prod:deployer\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"prod\""
    );

    // Cascading deletes.
    k.ok(&["-n", "prod", "create", "configmap", "owned"]);
    let uid = k.ok(&[
        "-n",
        "prod",
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let patch = json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": uid}]}}).to_string();
    k.ok(&["-n", "prod", "patch", "configmap", "owned", "-p", &patch]);
    k.ok(&["-n", "prod", "delete", "deploy", "web", "--cascade=orphan"]);
    let refs = k.ok(&[
        "-n",
        "prod",
        "get",
        "configmap",
        "owned",
        "-o",
        "jsonpath={.metadata.ownerReferences}",
    ]);
    assert_eq!(refs.trim(), "");
    let (ok, _, _) = k.run(&["apply", "-f", "-"], Some(DEPLOYMENT_YAML));
    assert!(ok);
    let uid = k.ok(&[
        "-n",
        "prod",
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let patch = json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": uid}]}}).to_string();
    k.ok(&["-n", "prod", "patch", "configmap", "owned", "-p", &patch]);
    k.ok(&[
        "-n",
        "prod",
        "delete",
        "deploy",
        "web",
        "--cascade=foreground",
    ]);
    let (ok, _, err) = k.run(&["-n", "prod", "get", "configmap", "owned"], None);
    assert!(!ok);
    assert!(err.contains("configmaps \"owned\" not found"), "{err}");
    drop(cluster);
}
