//! Server-level tests: the simulator driven by kube-rs and by the real kubectl (skipped with a
//! note when `kubectl` is not installed).

use std::{path::Path, process::Command, time::Duration};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use serde_json::{Value, json};

use crate::{FakeCluster, Options};

fn quiet() -> Options {
    Options {
        controllers: false,
        ..Options::default()
    }
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_crud_patch_and_errors() {
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(deployment("web")).unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.spec.replicas, Some(1));

    let list = deploys
        .list(&ListParams::default().labels("app!=other"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let strategic = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": [{"name": "app", "image": "nginx:2"}]}}}});
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(strategic))
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));
    let merge = json!({"metadata": {"labels": {"tier": "front"}}});
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(merge))
        .await
        .unwrap();
    assert_eq!(
        p.metadata.generation,
        Some(2),
        "labels do not bump generation"
    );
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]))
            .unwrap();
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Json::<()>(jp))
        .await
        .unwrap();
    assert_eq!(p.spec.replicas, Some(3));
    let apply = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    let p = deploys
        .patch(
            "web",
            &PatchParams::apply("test").force(),
            &Patch::Apply(apply),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.replicas, Some(2));

    let mut stale = created.clone();
    stale.spec.replicas = Some(5);
    let err = deploys
        .replace("web", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(
                s.message,
                "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let missing = deploys.get("nope").await.unwrap_err();
    assert!(
        matches!(missing, kube::Error::Api(ref s) if s.code == 404 && s.message == "deployments.apps \"nope\" not found")
    );
    let dry = deploys
        .patch(
            "web",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(dry.spec.replicas, Some(9));
    assert_eq!(deploys.get("web").await.unwrap().spec.replicas, Some(2));
    deploys
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();

    let token = cluster.mint_token("alice", &["devs"]);
    let alice = cluster.client_for_token(&token, "default").await.unwrap();
    let err = Api::<ConfigMap>::namespaced(alice, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 403
        && s.message == "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""));
    let bogus = cluster.client_for_token("bogus", "default").await.unwrap();
    let err = Api::<ConfigMap>::namespaced(bogus, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_lease_lock_round_trip() {
    use k8s_openapi::{
        api::coordination::v1::{Lease, LeaseSpec},
        apimachinery::pkg::apis::meta::v1::MicroTime,
    };
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await.unwrap(), "default");
    let now = MicroTime(jiff::Timestamp::now());
    let lease = Lease {
        metadata: kube::api::ObjectMeta {
            name: Some("deploy-lock".into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("ci-1".into()),
            lease_duration_seconds: Some(30),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let again = leases
        .create(&PostParams::default(), &lease)
        .await
        .unwrap_err();
    assert!(matches!(again, kube::Error::Api(ref s) if s.reason == "AlreadyExists"));
    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().renew_time = Some(MicroTime(jiff::Timestamp::now()));
    leases
        .replace("deploy-lock", &PostParams::default(), &renewed)
        .await
        .unwrap();
    let stale = leases
        .replace("deploy-lock", &PostParams::default(), &renewed)
        .await
        .unwrap_err();
    assert!(matches!(stale, kube::Error::Api(ref s) if s.code == 409));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watcher_relists_after_410() {
    let cluster = FakeCluster::start(Options {
        watch_timeout_s: Some(1),
        ..quiet()
    })
    .await
    .unwrap();
    let client = cluster.client().await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut stream = watcher(cms.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let mut seen = Vec::new();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    seen.push(first.metadata.name.unwrap());
    // Let the 1 s watch end, forget the history, then create: the re-watch gets 410 and relists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.compact_history();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "after-410"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let found = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(cm) = stream.try_next().await.unwrap() {
            if cm.metadata.name.as_deref() == Some("after-410") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(found);
    assert_eq!(seen, ["kube-root-ca.crt"]);
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_streaming_list_watcher() {
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut stream = watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut init_done = false;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        if matches!(ev, watcher::Event::InitDone) {
            init_done = true;
            break;
        }
    }
    assert!(init_done);
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "live"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, watcher::Event::Apply(ref c) if c.metadata.name.as_deref() == Some("live"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_and_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let opts = Options {
        error_rate: 0.5,
        seed: 7,
        access_log: Some(log.clone()),
        ..quiet()
    };
    let statuses = |cluster: FakeCluster| async move {
        let client = cluster.client().await.unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut out = Vec::new();
        for _ in 0..12 {
            out.push(match cms.list(&ListParams::default()).await {
                Ok(_) => 200,
                Err(kube::Error::Api(s)) => s.code,
                Err(other) => panic!("{other:?}"),
            });
        }
        out
    };
    let first = statuses(FakeCluster::start(opts.clone()).await.unwrap()).await;
    let second = statuses(FakeCluster::start(opts).await.unwrap()).await;
    assert_eq!(first, second);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("/configmaps")).unwrap();
    let cols: Vec<&str> = line.split('\t').collect();
    assert_eq!(cols.len(), 7, "{line}");
    assert_eq!(
        (cols[0], cols[1], cols[3]),
        ("GET", "/api/v1/namespaces/default/configmaps?", "admin")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_etcd_key_order_across_namespaces() {
    use k8s_openapi::api::core::v1::Namespace;
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in ["shop", "shop-eu"] {
        let it: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        namespaces
            .create(&PostParams::default(), &it)
            .await
            .unwrap();
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        for name in ["b", "a"] {
            let it: ConfigMap =
                serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
            maps.create(&PostParams::default(), &it).await.unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(client);
    let mut seen = Vec::new();
    let mut remaining = Vec::new();
    let mut params = ListParams::default().limit(1);
    loop {
        let page = all.list(&params).await.unwrap();
        for it in &page.items {
            let ns = it.metadata.namespace.clone().unwrap_or_default();
            if ns.starts_with("shop") {
                seen.push(format!(
                    "{ns}/{}",
                    it.metadata.name.clone().unwrap_or_default()
                ));
            }
        }
        remaining.push(page.metadata.remaining_item_count);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    // `-` sorts below `/`: shop-eu's keys come first, and paging one at a time skips none.
    assert_eq!(
        seen,
        [
            "shop-eu/a",
            "shop-eu/b",
            "shop-eu/kube-root-ca.crt",
            "shop/a",
            "shop/b",
            "shop/kube-root-ca.crt"
        ]
    );
    let counts: Vec<i64> = remaining.iter().map(|it| it.unwrap_or(0)).collect();
    assert!(counts.windows(2).all(|w| w[0] == w[1] + 1), "{counts:?}");
    assert_eq!(remaining.last(), Some(&None));

    // With a selector the count is unknown, as on kube-apiserver.
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await.unwrap(), "shop");
    let page = cms
        .list(&ListParams::default().limit(1).fields("metadata.name!=zzz"))
        .await
        .unwrap();
    assert!(page.metadata.continue_.is_some());
    assert_eq!(page.metadata.remaining_item_count, None);
}
