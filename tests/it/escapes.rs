//! The CI token as an attacker holds it: every way out of "ship an image, nothing else" that a review
//! found, and more of the same kind, tried with plain kubectl and raw API calls (strategic merge,
//! JSON merge, JSON patch, server-side apply, creates and deletes). Each attempt must be refused by
//! the generated RBAC or admission policy with a message naming the rule, and change nothing.
//! Runs on the simulator and on the real control plane alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::support::{Run, run_with};

/// One attempt: kubectl arguments, maybe a manifest on stdin.
struct Attempt {
    what: &'static str,
    args: Vec<String>,
    stdin: Option<String>,
}

fn attempt(what: &'static str, args: &[&str]) -> Attempt {
    Attempt {
        what,
        args: args.iter().map(|it| (*it).to_owned()).collect(),
        stdin: None,
    }
}

fn with_stdin(what: &'static str, args: &[&str], stdin: &str) -> Attempt {
    Attempt {
        stdin: Some(stdin.to_owned()),
        ..attempt(what, args)
    }
}

fn patch(what: &'static str, kind: &'static str, object: &str, body: &str) -> Attempt {
    let (namespace, object) = object.split_once('/').expect("namespace/object");
    attempt(
        what,
        &["patch", "-n", namespace, object, "--type", kind, "-p", body],
    )
}

/// Grants the generated RBAC and admission policy for shop and billing (classifiers stable and
/// canary, busybox images), plus read access an attacker would also have from elsewhere, and
/// returns the CI kubeconfig.
fn ci(cluster: &Cluster) -> PathBuf {
    let rbac = cluster.update(&[
        "rbac",
        "-n",
        "shop,billing",
        "-c",
        "stable,canary",
        "--allow-repository",
        "busybox",
    ]);
    assert_eq!(rbac.code, 0, "{}", rbac.render());
    cluster.apply(&rbac.stdout);
    cluster.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: test-reader}\n\
         rules: [{apiGroups: ['', apps, batch, coordination.k8s.io], resources: [pods, deployments, statefulsets, daemonsets, cronjobs, jobs, leases], verbs: [get, list, watch]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: test-reader}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: test-reader}\n\
         subjects: [{kind: ServiceAccount, name: kubectl-update, namespace: shop}]\n",
    );
    let minted = cluster.update(&["kubeconfig", "-n", "shop"]);
    assert_eq!(minted.code, 0, "{}", minted.render());
    let path = cluster.path("ci-kubeconfig");
    std::fs::write(&path, &minted.stdout).unwrap();
    wait_for_policies(cluster, &path);
    path
}

/// Admission policies take effect a moment after they are created (the API server's informers):
/// waits until a denied change is denied.
fn wait_for_policies(cluster: &Cluster, ci: &Path) {
    let started = std::time::Instant::now();
    loop {
        let probe = as_ci(
            cluster,
            ci,
            &patch(
                "probe",
                "merge",
                "shop/deployment/web",
                r#"{"spec":{"replicas":9}}"#,
            ),
            true,
        );
        if probe.code != 0 {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the admission policy never took effect: {}",
            probe.render()
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

fn as_ci(cluster: &Cluster, ci: &Path, attempt: &Attempt, dry_run: bool) -> Run {
    let cmd = cluster.kubectl_command(ci, "kubectl-cache-ci");
    let mut args: Vec<&str> = attempt.args.iter().map(String::as_str).collect();
    if dry_run {
        args.push("--dry-run=server");
    }
    run_with(cmd, &args, attempt.stdin.as_deref())
}

/// resourceVersions of everything the token could touch in shop and billing, once settled.
fn state(cluster: &Cluster) -> BTreeMap<String, String> {
    cluster.settled_versions(
        "deployments,statefulsets,daemonsets,cronjobs,jobs,pods,leases,secrets,serviceaccounts",
        &|namespace| matches!(namespace, "shop" | "billing"),
    )
}

fn ready_pod(cluster: &Cluster) -> String {
    let pods: Value = cluster.get(&["-n", "shop", "pods", "-l", "app=web"]);
    pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a web pod")
        .to_owned()
}

const DEPLOYMENT: &str = "shop/deployment/web";

/// The tool's own `source` and `reportingComponent`.
const TOOL: &str = "source: {component: kubectl-update}\nreportingComponent: kubectl-update";

/// A core/v1 Event in shop about `kind` web in `namespace`, valid for the API server (with an
/// `eventTime`, an Event may name an object in another namespace), so only admission judges it.
fn forged_event(
    source: &str,
    reason: &str,
    api_version: &str,
    kind: &str,
    namespace: &str,
) -> String {
    format!(
        "apiVersion: v1
kind: Event
metadata: {{name: forged, namespace: shop}}
{source}
eventTime: '2026-01-01T00:00:00.000000Z'
reportingInstance: attacker
action: Update
reason: {reason}
type: Normal
message: approved by security
involvedObject: {{apiVersion: {api_version}, kind: {kind}, name: web, namespace: {namespace}}}
"
    )
}

fn attempts(pod: &str) -> Vec<Attempt> {
    let evil_job = "apiVersion: batch/v1
kind: Job
metadata: {name: innocent, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: x, image: busybox:1.37, command: [sh, -c, id]}]
";
    // A "copy" of the schema template that differs from it: another command, a ServiceAccount,
    // a hostPath, privileged.
    let forged_copy = |extra: &str| {
        format!(
            "apiVersion: batch/v1
kind: Job
metadata:
  name: schema-0123456789
  namespace: shop
  labels: {{kubectl-update.io/migration-of: schema}}
  annotations: {{kubectl-update.io/image: busybox:1.37}}
spec:
  backoffLimit: 0
  ttlSecondsAfterFinished: 86400
  template:
    metadata: {{labels: {{kubectl-update.io/migration-of: schema}}}}
    spec:
      restartPolicy: Never
{extra}"
        )
    };
    let schema_container = "      containers:
        - {name: migrate, image: \"busybox:1.37\", command: [\"sh\", \"-c\", \"echo migrating schema; sleep 1; echo schema done\"]}
";
    vec![
        // Images from elsewhere, with every patch type.
        attempt(
            "an image of another repository (set image)",
            &[
                "set",
                "image",
                "-n",
                "shop",
                "deployment/web",
                "app=evil.example.com/busybox:1",
            ],
        ),
        attempt(
            "a look-alike repository host",
            &[
                "set",
                "image",
                "-n",
                "shop",
                "deployment/web",
                "app=busybox.evil.io/busybox:1",
            ],
        ),
        patch(
            "a look-alike repository name (JSON patch)",
            "json",
            DEPLOYMENT,
            r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busyboxx:1.37"}]"#,
        ),
        patch(
            "a sidecar moved to an allowed image with another name (JSON merge)",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.37"}]}}}}"#,
        ),
        // Containers: fields other than the image.
        patch(
            "a container's command (strategic merge)",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","command":["sh","-c","id"]}]}}}}"#,
        ),
        patch(
            "a container's env",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"X","value":"1"}]}]}}}}"#,
        ),
        patch(
            "a container's securityContext",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","securityContext":{"privileged":true}}]}}}}"#,
        ),
        patch(
            "a container's imagePullPolicy (not listed anywhere)",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","imagePullPolicy":"Always"}]}}}}"#,
        ),
        patch(
            "a container's stdin and tty (not listed anywhere)",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","stdin":true,"tty":true}]}}}}"#,
        ),
        patch(
            "a new container",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"busybox:1.37"}]}}}}"#,
        ),
        patch(
            "a container moved from containers to initContainers",
            "json",
            DEPLOYMENT,
            r#"[{"op":"move","from":"/spec/template/spec/containers/1","path":"/spec/template/spec/initContainers/1"}]"#,
        ),
        patch(
            "an init container's image to another repository",
            "json",
            DEPLOYMENT,
            r#"[{"op":"replace","path":"/spec/template/spec/initContainers/0/image","value":"evil.example.com/x:1"}]"#,
        ),
        // The pod spec.
        patch(
            "the pod's serviceAccountName",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"serviceAccountName":"kubectl-update"}}}}"#,
        ),
        patch(
            "a hostPath volume",
            "strategic",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"volumes":[{"name":"root","hostPath":{"path":"/"}}]}}}}"#,
        ),
        patch(
            "shareProcessNamespace",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"shareProcessNamespace":true}}}}"#,
        ),
        patch(
            "hostAliases",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"hostAliases":[{"ip":"127.0.0.1","hostnames":["registry.example.com"]}]}}}}"#,
        ),
        patch(
            "nodeName",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"nodeName":"node-1"}}}}"#,
        ),
        patch(
            "dnsConfig",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"dnsConfig":{"nameservers":["203.0.113.1"]}}}}}"#,
        ),
        patch(
            "hostNetwork",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"spec":{"hostNetwork":true}}}}"#,
        ),
        // The pod template's metadata and the spec outside it.
        patch(
            "pod-template annotations",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"metadata":{"annotations":{"x":"y"}}}}}"#,
        ),
        patch(
            "pod-template labels",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"template":{"metadata":{"labels":{"extra":"y"}}}}}"#,
        ),
        patch(
            "replicas",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"replicas":7}}"#,
        ),
        attempt(
            "paused (kubectl rollout pause)",
            &["rollout", "pause", "-n", "shop", "deployment/web"],
        ),
        patch(
            "the Deployment strategy",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#,
        ),
        patch(
            "minReadySeconds",
            "merge",
            DEPLOYMENT,
            r#"{"spec":{"minReadySeconds":30}}"#,
        ),
        patch(
            "a StatefulSet's persistentVolumeClaimRetentionPolicy",
            "merge",
            "shop/statefulset/cache",
            r#"{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"}}}"#,
        ),
        patch(
            "a CronJob's suspend",
            "merge",
            "billing/cronjob/invoices",
            r#"{"spec":{"suspend":true}}"#,
        ),
        patch(
            "a CronJob's schedule",
            "merge",
            "billing/cronjob/invoices",
            r#"{"spec":{"schedule":"* * * * *"}}"#,
        ),
        // Object metadata.
        attempt(
            "labels (kubectl label)",
            &["label", "-n", "shop", "deployment/web", "x=y"],
        ),
        patch(
            "ownerReferences",
            "merge",
            DEPLOYMENT,
            r#"{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"kube-root-ca.crt","uid":"00000000-0000-0000-0000-000000000000"}]}}"#,
        ),
        patch(
            "finalizers",
            "json",
            DEPLOYMENT,
            r#"[{"op":"add","path":"/metadata/finalizers","value":["example.com/block"]}]"#,
        ),
        attempt(
            "another annotation",
            &[
                "annotate",
                "-n",
                "shop",
                "deployment/web",
                "example.com/x=y",
            ],
        ),
        // Opt-in and the records the tool trusts.
        patch(
            "opting a workload in and changing its image in one patch",
            "strategic",
            "shop/deployment/plain",
            r#"{"metadata":{"annotations":{"kubectl-update.io/classifier":"stable"}},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.37"}]}}}}"#,
        ),
        patch(
            "the image of a workload that did not opt in",
            "strategic",
            "shop/deployment/plain",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.37"}]}}}}"#,
        ),
        attempt(
            "the classifier annotation",
            &[
                "annotate",
                "--overwrite",
                "-n",
                "shop",
                "deployment/web",
                "kubectl-update.io/classifier=stable,nightly",
            ],
        ),
        attempt(
            "removing the classifier annotation",
            &[
                "annotate",
                "-n",
                "shop",
                "deployment/web",
                "kubectl-update.io/classifier-",
            ],
        ),
        attempt(
            "the legacy classifier annotation",
            &[
                "annotate",
                "-n",
                "shop",
                "statefulset/cache",
                "xcnt.io/update-classifier=nightly",
                "--overwrite",
            ],
        ),
        attempt(
            "a forged previous record naming another repository",
            &[
                "annotate",
                "-n",
                "shop",
                "deployment/web",
                r#"kubectl-update.io/previous=[{"kind":"Deployment","container":"app","previous":"evil.example.com/busybox:1","target":"busybox:1.36"}]"#,
            ],
        ),
        // Server-side apply changing a command.
        with_stdin(
            "server-side apply of another command",
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager",
                "kubectl-update",
                "-f",
                "-",
            ],
            "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
        - {name: app, command: [sh, -c, 'cat /var/run/secrets/kubernetes.io/serviceaccount/token']}
",
        ),
        // Jobs.
        with_stdin("an arbitrary Job", &["create", "-f", "-"], evil_job),
        with_stdin(
            "a migration copy with another command",
            &["create", "-f", "-"],
            &forged_copy(
                "      containers:\n        - {name: migrate, image: busybox:1.37, command: [sh, -c, id]}\n",
            ),
        ),
        with_stdin(
            "a migration copy running as another ServiceAccount",
            &["create", "-f", "-"],
            &forged_copy(&format!(
                "      serviceAccountName: default\n{schema_container}"
            )),
        ),
        with_stdin(
            "a migration copy mounting the host",
            &["create", "-f", "-"],
            &forged_copy(&format!(
                "      volumes: [{{name: root, hostPath: {{path: /}}}}]\n{schema_container}"
            )),
        ),
        with_stdin(
            "a copy of a template that does not exist",
            &["create", "-f", "-"],
            &forged_copy(schema_container).replace("migration-of: schema", "migration-of: nothing"),
        ),
        attempt(
            "deleting a migration template",
            &["delete", "-n", "shop", "job/schema", "--wait=false"],
        ),
        patch(
            "starting a migration template (unsuspending it)",
            "merge",
            "shop/job/schema",
            r#"{"spec":{"suspend":false}}"#,
        ),
        // Pods, Leases, everything else.
        attempt(
            "deleting a Ready pod",
            &[
                "delete",
                "-n",
                "shop",
                &format!("pod/{pod}"),
                "--wait=false",
            ],
        ),
        attempt(
            "creating a pod",
            &[
                "run",
                "-n",
                "shop",
                "x",
                "--image=busybox:1.37",
                "--restart=Never",
            ],
        ),
        with_stdin(
            "a Lease that never expires under the tool's name",
            &["create", "-f", "-"],
            "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: kubectl-update-stable, namespace: shop}
spec: {holderIdentity: attacker, leaseDurationSeconds: 999999999}
",
        ),
        with_stdin(
            "a Lease of another name",
            &["create", "-f", "-"],
            "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: something-else, namespace: shop}
spec: {holderIdentity: attacker, leaseDurationSeconds: 15}
",
        ),
        with_stdin(
            "a forged Event from another component (the kubelet) about a workload",
            &["create", "-f", "-"],
            &forged_event(
                "source: {component: kubelet}\nreportingComponent: kubelet",
                "ImageUpdated",
                "apps/v1",
                "Deployment",
                "shop",
            ),
        ),
        with_stdin(
            "an Event of the tool with another reason",
            &["create", "-f", "-"],
            &forged_event(
                TOOL,
                "SecurityReviewPassed",
                "apps/v1",
                "Deployment",
                "shop",
            ),
        ),
        with_stdin(
            "an Event of the tool about a pod",
            &["create", "-f", "-"],
            &forged_event(TOOL, "ImageUpdated", "v1", "Pod", "shop"),
        ),
        with_stdin(
            "an Event of the tool about a workload in another namespace",
            &["create", "-f", "-"],
            &forged_event(TOOL, "ImageUpdated", "apps/v1", "Deployment", "billing"),
        ),
        with_stdin(
            "an Event of the tool without eventTime (the server then bounds nothing) carrying 300 KiB",
            &["create", "-f", "-"],
            &format!(
                "apiVersion: v1
kind: Event
metadata: {{name: padded, namespace: shop}}
{TOOL}
reason: ImageUpdated
type: Normal
count: 1
message: {}
involvedObject: {{apiVersion: apps/v1, kind: Deployment, name: web, namespace: shop}}
",
                "x".repeat(300 << 10)
            ),
        ),
        with_stdin(
            "an Event of the tool whose apiVersion and kind are split elsewhere",
            &["create", "-f", "-"],
            &forged_event(TOOL, "ImageUpdated", "apps", "v1/Deployment", "shop"),
        ),
        attempt("reading Secrets", &["get", "secrets", "-n", "shop"]),
        attempt("exec into a pod", &["exec", "-n", "shop", pod, "--", "id"]),
        attempt(
            "a RoleBinding to cluster-admin",
            &[
                "create",
                "rolebinding",
                "x",
                "-n",
                "shop",
                "--clusterrole=cluster-admin",
                "--serviceaccount=shop:kubectl-update",
            ],
        ),
        attempt(
            "the image of a workload in a namespace it was not granted",
            &[
                "set",
                "image",
                "-n",
                "default",
                "deployment/slow",
                "app=busybox:1.37",
            ],
        ),
    ]
}

#[test]
fn every_escape_of_the_ci_token_is_denied_and_named() {
    let cluster = Cluster::start(&[
        "shop.yaml",
        "migrations.yaml",
        "unlisted.yaml",
        "deadline.yaml",
    ]);
    let ci = ci(&cluster);
    let pod = ready_pod(&cluster);
    let before = state(&cluster);
    let mut failures = Vec::new();
    let attempts = attempts(&pod);
    for attempt in &attempts {
        let res = as_ci(&cluster, &ci, attempt, false);
        // An admission denial names the policy and binding ("… policy '<name>' with binding
        // '<name>' denied request: <message>"); an RBAC one the verb and resource ("… cannot
        // create resource \"pods\" …").
        let stderr = res.stderr.to_lowercase();
        let named = stderr.contains("policy '") && stderr.contains("denied request")
            || stderr.contains("forbidden") && stderr.contains("cannot ");
        if res.code == 0 || !named {
            failures.push(format!("{}: {}", attempt.what, res.render()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} attempts were not denied with a named rule:\n{}",
        failures.len(),
        attempts.len(),
        failures.join("\n")
    );
    assert_eq!(
        state(&cluster),
        before,
        "a denied attempt changed something"
    );

    // The legitimate path still works under the same policy.
    let res = cluster.update(&[
        "--kubeconfig",
        &ci.display().to_string(),
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop,billing",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        !res.stderr.contains("could not record"),
        "the tool's own Events pass: {}",
        res.stderr
    );
}

/// kube-apiserver type-checks every ValidatingAdmissionPolicy against the OpenAPI schema and
/// writes what does not check into `status.typeChecking.expressionWarnings`: none may appear, for
/// a namespaced set and a cluster-wide one. (The simulator does no type checking.)
#[test]
fn every_generated_policy_type_checks_on_the_real_api_server() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    if cluster.simulated() {
        crate::support::skip(
            "escapes::every_generated_policy_type_checks_on_the_real_api_server",
            "the simulator does no CEL type checking",
        );
        return;
    }
    for args in [
        &[
            "rbac",
            "-n",
            "shop,billing",
            "-c",
            "stable,canary",
            "--allow-repository",
            "busybox",
        ][..],
        &[
            "rbac",
            "-n",
            "ci",
            "--cluster-wide",
            "-c",
            "stable",
            "--allow-repository",
            "registry.example.com/team/app",
        ][..],
    ] {
        if args.contains(&"ci") {
            cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: ci}\n");
        }
        let rbac = cluster.update(args);
        assert_eq!(rbac.code, 0, "{}", rbac.render());
        cluster.apply(&rbac.stdout);
    }
    let started = std::time::Instant::now();
    loop {
        let policies = cluster.get(&["validatingadmissionpolicies"]);
        let items = policies["items"].as_array().expect("a list");
        assert!(items.len() >= 6, "{policies:#}");
        let checked = items.iter().all(|it| {
            it["status"]["observedGeneration"] == it["metadata"]["generation"]
                && it["status"]["typeChecking"].is_object()
        });
        if checked {
            for policy in items {
                let warnings = &policy["status"]["typeChecking"]["expressionWarnings"];
                assert!(
                    warnings.is_null() || warnings.as_array().is_some_and(Vec::is_empty),
                    "{}: {warnings:#}",
                    policy["metadata"]["name"]
                );
            }
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the API server never type-checked every policy: {policies:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
