//! The simulated cluster as the real kubectl sees it: the rollout, history, undo, scale, logs,
//! describe and wait commands give what they give against a real API server.

use serde_json::Value;

use crate::cluster::Cluster;

const APP: &str = "apiVersion: v1
kind: Namespace
metadata: {name: proof}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: proof}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: busybox:1.36, command: [sh, -c, 'while true; do sleep 3600; done']}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: good, namespace: proof}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: run, image: busybox:1.36, command: [sh, -c, 'echo one; sleep 5; echo two']}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: bad, namespace: proof}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: fail, image: busybox:1.36, command: [sh, -c, 'echo failing; exit 3']}]
";

#[track_caller]
fn ok(cluster: &Cluster, args: &[&str]) -> String {
    let res = cluster.kubectl(args);
    assert_eq!(res.code, 0, "kubectl {args:?}: {}", res.render());
    res.stdout
}

#[test]
fn rollout_history_undo_scale_and_describe() {
    let cluster = Cluster::start(&[]);
    cluster.apply(APP);
    ok(
        &cluster,
        &[
            "rollout",
            "status",
            "-n",
            "proof",
            "deployment/api",
            "--timeout=30s",
        ],
    );
    ok(
        &cluster,
        &[
            "set",
            "image",
            "-n",
            "proof",
            "deployment/api",
            "api=busybox:1.37",
        ],
    );
    let status = ok(
        &cluster,
        &[
            "rollout",
            "status",
            "-n",
            "proof",
            "deployment/api",
            "--timeout=30s",
        ],
    );
    assert!(
        status.ends_with("deployment \"api\" successfully rolled out\n"),
        "{status}"
    );
    let history = ok(
        &cluster,
        &["rollout", "history", "-n", "proof", "deployment/api"],
    );
    assert!(
        history.contains("1         <none>") && history.contains("2         <none>"),
        "{history}"
    );

    let replica_sets = |cluster: &Cluster| -> Vec<(String, String)> {
        let list = cluster.get(&["-n", "proof", "replicasets"]);
        let mut res: Vec<(String, String)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rs| {
                (
                    rs["metadata"]["name"].as_str().unwrap().to_owned(),
                    rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect();
        res.sort();
        res
    };
    let before = replica_sets(&cluster);
    assert_eq!(before.len(), 2, "{before:?}");
    let undo = ok(
        &cluster,
        &["rollout", "undo", "-n", "proof", "deployment/api"],
    );
    assert_eq!(undo.trim(), "deployment.apps/api rolled back");
    ok(
        &cluster,
        &[
            "rollout",
            "status",
            "-n",
            "proof",
            "deployment/api",
            "--timeout=30s",
        ],
    );
    let after = replica_sets(&cluster);
    assert_eq!(
        after.len(),
        2,
        "the first ReplicaSet is re-used, not a third created: {after:?}"
    );
    let first_rs = before
        .iter()
        .find(|(_, revision)| revision == "1")
        .unwrap()
        .0
        .clone();
    assert!(
        after.contains(&(first_rs, "3".to_owned())),
        "the re-used ReplicaSet gets revision 3: {after:?}"
    );
    let history = ok(
        &cluster,
        &["rollout", "history", "-n", "proof", "deployment/api"],
    );
    assert!(
        history.contains("2 ") && history.contains("3 ") && !history.contains("1         "),
        "{history}"
    );
    assert_eq!(
        cluster.image("proof", "deployment/api", "api"),
        "busybox:1.36"
    );

    let scaled = ok(
        &cluster,
        &["scale", "-n", "proof", "deployment/api", "--replicas=4"],
    );
    assert_eq!(scaled.trim(), "deployment.apps/api scaled");
    ok(
        &cluster,
        &[
            "rollout",
            "status",
            "-n",
            "proof",
            "deployment/api",
            "--timeout=30s",
        ],
    );
    let api = cluster.get(&["-n", "proof", "deployment/api"]);
    assert_eq!(api["status"]["readyReplicas"], 4);
    assert_eq!(
        api["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3",
        "scaling is not a rollout"
    );

    let described = ok(&cluster, &["describe", "-n", "proof", "deployment/api"]);
    assert!(
        described.contains("Replicas:") && described.contains("Events:"),
        "{described}"
    );
    assert!(described.contains("ScalingReplicaSet"), "{described}");
}

#[test]
fn rollout_status_reports_an_exceeded_progress_deadline() {
    let cluster = Cluster::start(&["deadline.yaml"]);
    ok(
        &cluster,
        &["rollout", "status", "deployment/slow", "--timeout=30s"],
    );
    ok(
        &cluster,
        &["set", "image", "deployment/slow", "app=busybox:unready-1"],
    );
    let res = cluster.kubectl(&["rollout", "status", "deployment/slow", "--timeout=60s"]);
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(
        res.stderr
            .contains("error: deployment \"slow\" exceeded its progress deadline"),
        "{}",
        res.stderr
    );
}

#[test]
fn jobs_logs_and_waits() {
    let cluster = Cluster::start(&[]);
    cluster.apply(APP);
    if crate::control_plane::selected() {
        // kwok serves a log file and never ends a follow: read the log once the Job is done.
        crate::support::skip(
            "kubectl::jobs_logs_and_waits (the `logs -f` part)",
            "kwok's log server never ends a follow; `kubectl logs` without -f is checked instead",
        );
        ok(
            &cluster,
            &[
                "wait",
                "-n",
                "proof",
                "--for=condition=complete",
                "job/good",
                "--timeout=30s",
            ],
        );
        assert_eq!(
            ok(&cluster, &["logs", "-n", "proof", "job/good"]),
            "one\ntwo\n"
        );
    } else {
        // As against a real API server, a container still being created has no log yet (400).
        let mut follow = String::new();
        for _ in 0..100 {
            let res = cluster.kubectl(&["logs", "-f", "-n", "proof", "job/good"]);
            if res.code == 0 {
                follow = res.stdout;
                break;
            }
            assert!(
                res.stderr.contains("is waiting to start"),
                "{}",
                res.render()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(
            follow, "one\ntwo\n",
            "logs -f streams until the container ends"
        );
    }
    let done = ok(
        &cluster,
        &[
            "wait",
            "-n",
            "proof",
            "--for=condition=complete",
            "job/good",
            "--timeout=30s",
        ],
    );
    assert_eq!(done.trim(), "job.batch/good condition met");
    let failed = ok(
        &cluster,
        &[
            "wait",
            "-n",
            "proof",
            "--for=condition=failed",
            "job/bad",
            "--timeout=30s",
        ],
    );
    assert_eq!(failed.trim(), "job.batch/bad condition met");
    let bad: Value = cluster.get(&["-n", "proof", "job/bad"]);
    let reasons: Vec<&str> = bad["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|it| it["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"BackoffLimitExceeded"), "{reasons:?}");
    assert_eq!(
        ok(&cluster, &["logs", "-n", "proof", "job/bad"]),
        "failing\n"
    );
    let deleted = ok(
        &cluster,
        &["delete", "-n", "proof", "job/good", "--cascade=foreground"],
    );
    // kubectl 1.34 adds " from proof namespace".
    assert!(
        deleted.starts_with("job.batch \"good\" deleted"),
        "{deleted}"
    );
    let pods = cluster.get(&[
        "-n",
        "proof",
        "pods",
        "-l",
        "batch.kubernetes.io/job-name=good",
    ]);
    assert_eq!(
        pods["items"],
        Value::Array(vec![]),
        "the cascade removed the Job's pods"
    );
}
