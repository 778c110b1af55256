//! The drift guard end to end: workloads another owner manages (Helm's labels, a server-side apply
//! by Argo CD's field manager, Flux's labels offline) are warned about in text, CI and JSON output
//! and updated, and `--refuse-managed` ends the run with exit 1 and one line before any change.
//! Live cases run on the simulator and, with `KUBECTL_UPDATE_E2E=control-plane`, on a real one.

use std::collections::BTreeMap;

use crate::cluster::Cluster;
use crate::schema;
use crate::support::{command, run, run_with};

/// A workload Argo CD would sync with server-side apply (applied by the test as its field manager).
const ARGO: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: synced-web
  namespace: managed
  annotations: {kubectl-update.io/classifier: gitops}
spec:
  replicas: 1
  selector: {matchLabels: {app: synced-web}}
  template:
    metadata: {labels: {app: synced-web}}
    spec:
      containers:
        - {name: app, image: "busybox:1.36", command: ["sh", "-c", "while true; do sleep 3600; done"]}
"#;

const FLUX: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    kustomize.toolkit.fluxcd.io/name: apps
    kustomize.toolkit.fluxcd.io/namespace: flux-system
  annotations: {kubectl-update.io/classifier: stable}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: app, image: "busybox:1.36"}
"#;

fn in_managed(namespace: &str) -> bool {
    namespace == "managed"
}

fn versions(cluster: &Cluster) -> BTreeMap<String, String> {
    cluster.settled_versions("deployments", &in_managed)
}

/// The only `error:` line of a refused run.
#[track_caller]
fn refused_line(res: &crate::support::Run) -> String {
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(res.stdout.is_empty(), "{}", res.render());
    let errors: Vec<&str> = res
        .stderr
        .lines()
        .filter(|it| it.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", res.render());
    errors[0].to_owned()
}

#[test]
fn a_helm_release_is_warned_about_and_updated() {
    let cluster = Cluster::start(&["managed.yaml"]);
    let validator = schema::validator();
    let preview = cluster.update(&[
        "-i",
        "busybox:1.37",
        "-c",
        "helm",
        "-n",
        "managed",
        "--dry-run",
        "-o",
        "json",
    ]);
    let report = schema::check(&validator, &preview);
    let owners = &report["workloads"][0]["owners"];
    assert_eq!(owners.as_array().map(Vec::len), Some(1), "{report:#}");
    assert_eq!(owners[0]["kind"], "helm");
    assert_eq!(owners[0]["owner"], "Helm release managed/chart-web");
    assert!(
        owners[0]["advice"].as_str().unwrap().contains(
            "helm upgrade chart-web CHART -n managed --reuse-values --set IMAGE_VALUE=busybox:1.37"
        ),
        "{report:#}"
    );
    assert!(
        preview
            .stderr
            .contains("warning: 1 workload is managed by another owner")
    );

    let res = cluster.update(&["-i", "busybox:1.37", "-c", "helm", "-n", "managed"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stderr.contains(
            "warning: 1 workload is managed by another owner, which may put the old image back (--refuse-managed makes this an error):\n  managed/Deployment/chart-web: Helm release managed/chart-web (label app.kubernetes.io/managed-by=Helm, annotation meta.helm.sh/release-name)\n    instead: the next `helm upgrade` puts the chart's image back;"
        ),
        "{}",
        res.render()
    );
    assert_eq!(
        cluster.image("managed", "deployment/chart-web", "app"),
        "busybox:1.37"
    );
}

#[test]
fn refuse_managed_changes_nothing() {
    let cluster = Cluster::start(&["managed.yaml"]);
    let before = versions(&cluster);
    for extra in [
        &[][..],
        &["--dry-run"],
        &["--dry-run=server"],
        &["-o", "json"],
    ] {
        let mut args = vec![
            "-i",
            "busybox:1.37",
            "-c",
            "helm",
            "-n",
            "managed",
            "--refuse-managed",
        ];
        args.extend_from_slice(extra);
        let res = cluster.update(&args);
        assert_eq!(
            refused_line(&res),
            "error: --refuse-managed: 1 workload is managed by another owner that would revert the image: managed/Deployment/chart-web (Helm release managed/chart-web); nothing was changed",
            "{extra:?}"
        );
        assert!(
            res.stderr
                .contains("  hint: managed/Deployment/chart-web: the next `helm upgrade`")
        );
    }
    assert_eq!(versions(&cluster), before, "no object changed");
    assert_eq!(
        cluster.image("managed", "deployment/chart-web", "app"),
        "busybox:1.36"
    );
    let leases = cluster.get(&["-n", "managed", "leases"]);
    assert_eq!(
        leases["items"].as_array().map(Vec::len),
        Some(0),
        "no lock was taken"
    );
}

#[test]
fn a_server_side_apply_manager_of_the_image_is_found_in_managed_fields() {
    let cluster = Cluster::start(&["managed.yaml"]);
    let apply = cluster.kubectl_command(cluster.kubeconfig(), "kubectl-cache");
    let res = run_with(
        apply,
        &[
            "apply",
            "--server-side",
            "--field-manager=argocd-controller",
            "-f",
            "-",
        ],
        Some(ARGO),
    );
    assert_eq!(res.code, 0, "{}", res.render());
    let args = ["-i", "busybox:1.37", "-c", "gitops", "-n", "managed"];
    let refused = cluster.update(&[&args[..], &["--refuse-managed"]].concat());
    assert!(
        refused_line(&refused)
            .ends_with("managed/Deployment/synced-web (Argo CD); nothing was changed"),
        "{}",
        refused.render()
    );
    let res = cluster.update(&[&args[..], &["-o", "json"]].concat());
    let report = schema::check(&schema::validator(), &res);
    assert_eq!(report["result"], "succeeded", "{}", res.render());
    let owner = &report["workloads"][0]["owners"][0];
    assert_eq!(owner["kind"], "argocd", "{report:#}");
    assert_eq!(
        owner["evidence"],
        "managedFields: manager `argocd-controller` (Apply) owns the image of `app`"
    );
    assert!(
        res.stderr
            .contains("managed/Deployment/synced-web: Argo CD (managedFields")
    );
    // The image patch took the field over: Argo CD's next apply conflicts (or, forced, reverts),
    // and the next run of the tool has no other owner to warn about.
    let object = cluster.get(&[
        "-n",
        "managed",
        "deployment/synced-web",
        "--show-managed-fields",
    ]);
    let owners_of_image: Vec<&str> = object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| {
            entry
                .pointer(
                    "/fieldsV1/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}/f:image",
                )
                .is_some()
        })
        .map(|entry| entry["manager"].as_str().unwrap())
        .collect();
    assert_eq!(owners_of_image, vec!["kubectl-update"], "{object:#}");
    let again = cluster.update(&[
        "-i",
        "busybox:1.38",
        "-c",
        "gitops",
        "-n",
        "managed",
        "--dry-run",
    ]);
    assert_eq!(again.code, 0, "{}", again.render());
    assert!(!again.stderr.contains("warning:"), "{}", again.render());
}

#[test]
fn offline_previews_warn_about_flux() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.yaml");
    std::fs::write(&path, FLUX).unwrap();
    let file = path.to_str().unwrap();
    let args = ["-i", "busybox:1.37", "-c", "stable", "-f", file];
    let res = run(&args);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stderr.contains(
            "  shop/Deployment/web: Flux Kustomization flux-system/apps (labels kustomize.toolkit.fluxcd.io/name and /namespace)\n    instead: Flux applies its source again"
        ),
        "{}",
        res.render()
    );
    let json = run(&[&args[..], &["-o", "json"]].concat());
    let report = schema::check(&schema::validator(), &json);
    assert_eq!(report["workloads"][0]["owners"][0]["kind"], "flux");
    // GitHub Actions gets a warning annotation.
    let mut github = command();
    github.env("GITHUB_ACTIONS", "true");
    let annotated = run_with(github, &args, None);
    assert!(
        annotated.stderr.lines().any(|it| it.starts_with(
            "::warning title=shop/Deployment/web is managed by Flux Kustomization flux-system/apps::"
        )),
        "{}",
        annotated.render()
    );
    // Refused, even with --write: the file stays as it was.
    let refused = run(&[&args[..], &["--refuse-managed", "--write"]].concat());
    assert!(refused_line(&refused).starts_with("error: --refuse-managed: 1 workload"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FLUX);
    // Without another owner, nothing is said.
    let plain = FLUX.replace("    kustomize.toolkit.fluxcd.io/name: apps\n", "");
    let plain = plain.replace(
        "    kustomize.toolkit.fluxcd.io/namespace: flux-system\n",
        "",
    );
    std::fs::write(&path, plain).unwrap();
    let quiet = run(&[&args[..], &["--refuse-managed"]].concat());
    assert_eq!(quiet.code, 0, "{}", quiet.render());
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.render());
}

#[test]
fn after_waiting_for_the_lock_the_warning_is_not_repeated() {
    let cluster = Cluster::start(&["managed.yaml"]);
    let path = cluster.path("lease.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {{name: kubectl-update-helm, namespace: managed}}
spec:
  holderIdentity: ci-runner-2/77/busy
  leaseDurationSeconds: 3
  acquireTime: \"{now}\"
  renewTime: \"{now}\"
",
            now = crate::lock::micro_now()
        ),
    )
    .unwrap();
    let applied = cluster.kubectl(&["apply", "-f", &path.display().to_string()]);
    assert_eq!(applied.code, 0, "{}", applied.render());
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "helm", "-n", "managed"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stderr
            .contains("Waiting for the lock managed/kubectl-update-helm"),
        "the run waited, so it planned again: {}",
        res.stderr
    );
    assert_eq!(
        res.stderr
            .matches("workload is managed by another owner")
            .count(),
        1,
        "{}",
        res.stderr
    );
}
