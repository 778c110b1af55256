//! A real Kubernetes control plane per test (tests/control-plane/up: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok), started when `KUBECTL_UPDATE_E2E` is
//! `control-plane`. Never used otherwise: the default backend is the simulator.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::repo_root;

/// The variable that selects the backend of the live suites: `simulator` (the default) or
/// `control-plane`. `KUBECTL_UPDATE_E2E_KUBECONFIG` (an existing cluster) takes precedence.
pub const BACKEND: &str = "KUBECTL_UPDATE_E2E";

/// True when the live suites start a real control plane for each test.
pub fn selected() -> bool {
    match std::env::var(BACKEND).as_deref() {
        Ok("control-plane") => true,
        Ok("simulator") | Ok("") | Err(_) => false,
        Ok(other) => panic!("{BACKEND}={other}: expected `simulator` or `control-plane`"),
    }
}

/// The directory of the built control-plane binaries (etcd, kube-apiserver, …, kubectl, kwok),
/// building them once per test process if a pin changed.
pub fn bin_dir() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let output = Command::new(repo_root().join("tests/control-plane/build"))
            .stderr(Stdio::inherit())
            .output()
            .expect("tests/control-plane/build runs");
        assert!(
            output.status.success(),
            "tests/control-plane/build failed: {}",
            output.status
        );
        PathBuf::from(
            String::from_utf8(output.stdout)
                .expect("a UTF-8 path")
                .trim(),
        )
    })
}

/// One running control plane; stopped (SIGTERM, which removes its data) when dropped.
pub struct ControlPlane {
    child: Child,
    kubeconfig: PathBuf,
}

impl ControlPlane {
    /// Starts one with `manifests` applied (and the API server's audit log at `audit_log`), and
    /// waits for `READY`.
    pub fn start(dir: &Path, manifests: &[PathBuf], audit_log: Option<&Path>) -> ControlPlane {
        bin_dir();
        let kubeconfig = dir.join("kubeconfig");
        let log_path = dir.join("control-plane.log");
        let log = std::fs::File::create(&log_path).expect("a log file");
        let mut command = Command::new(repo_root().join("tests/control-plane/up"));
        command.arg("--kubeconfig-out").arg(&kubeconfig);
        for manifest in manifests {
            command.arg("--manifests").arg(manifest);
        }
        if let Some(path) = audit_log {
            command.arg("--audit-log").arg(path);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("tests/control-plane/up starts");
        let started = Instant::now();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first = String::new();
        let read = BufReader::new(stdout).read_line(&mut first);
        if !matches!(read, Ok(n) if n > 0) || !first.starts_with("READY ") {
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the control plane did not start:\n{log}");
        }
        eprintln!(
            "control plane {} ready in {:.1} s",
            first.trim().trim_start_matches("READY "),
            started.elapsed().as_secs_f64()
        );
        ControlPlane { child, kubeconfig }
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // SIGTERM lets `up` stop its components and remove its data; SIGKILL would orphan them.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The audit log's lines after the first `skip`, in the simulator's access-log format (method,
/// path and query, status, user, milliseconds; tab-separated), so the same assertions read both.
pub fn audit_as_access_log(path: &Path, skip: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = String::new();
    for line in text.lines().skip(skip) {
        let event: serde_json::Value = serde_json::from_str(line).expect("an audit event");
        let method = match event["verb"].as_str().unwrap_or_default() {
            "create" => "POST",
            "update" => "PUT",
            "patch" => "PATCH",
            "delete" | "deletecollection" => "DELETE",
            _ => "GET",
        };
        let millis = match (
            event["requestReceivedTimestamp"]
                .as_str()
                .map(jiff::Timestamp::from_str),
            event["stageTimestamp"]
                .as_str()
                .map(jiff::Timestamp::from_str),
        ) {
            (Some(Ok(start)), Some(Ok(end))) => end.duration_since(start).as_millis(),
            _ => 0,
        };
        out.push_str(&format!(
            "{method}\t{}\t{}\t{}\t{millis}\n",
            event["requestURI"].as_str().unwrap_or_default(),
            event["responseStatus"]["code"],
            event["user"]["username"].as_str().unwrap_or_default(),
        ));
    }
    out
}

/// How many lines the audit log has now.
pub fn audit_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

/// The lines a container's `sh -c` script echoes before its `exit`, for each container of each Job
/// in `yaml` (namespace, container, lines). kwok runs no commands: the tests make it serve these
/// lines as the containers' logs (ClusterLogs objects, one per namespace and container name).
pub fn script_logs(yaml: &str) -> Vec<(String, String, Vec<String>)> {
    let mut res = Vec::new();
    for doc in yaml.split("\n---") {
        let Ok(object) = serde_saphyr::from_str::<serde_json::Value>(doc) else {
            continue;
        };
        if object["kind"] != "Job" {
            continue;
        }
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let spec = &object["spec"]["template"]["spec"];
        for container in spec["containers"].as_array().into_iter().flatten() {
            let words: Vec<&str> = container["command"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(container["args"].as_array().into_iter().flatten())
                .filter_map(serde_json::Value::as_str)
                .collect();
            let script = match words.as_slice() {
                [shell, flag, script, ..] if shell.ends_with("sh") && flag.starts_with('-') => {
                    *script
                }
                _ => continue,
            };
            let lines = echoed(script);
            if !lines.is_empty() {
                res.push((
                    namespace.to_owned(),
                    container["name"].as_str().unwrap_or_default().to_owned(),
                    lines,
                ));
            }
        }
    }
    res
}

/// `echo` statements of a script up to its first `exit`, split on `;`, `&&`, `||` and newlines.
fn echoed(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for statement in script
        .split(['\n', ';'])
        .flat_map(|it| it.split("&&"))
        .flat_map(|it| it.split("||"))
        .map(str::trim)
    {
        if statement == "exit" || statement.starts_with("exit ") {
            break;
        }
        if let Some(text) = statement.strip_prefix("echo ") {
            lines.push(text.trim().trim_matches(['"', '\'']).to_owned());
        }
    }
    lines
}

/// The ClusterLogs object (and the CRI-format log file it names, written under `dir`) that makes
/// kwok serve `lines` as the log of every `container` in `namespace`.
pub fn cluster_logs(dir: &Path, namespace: &str, container: &str, lines: &[String]) -> String {
    let now = jiff::Timestamp::now();
    let file = dir.join(format!("log-{namespace}-{container}.log"));
    let text: String = lines
        .iter()
        .map(|line| format!("{now} stdout F {line}\n"))
        .collect();
    std::fs::write(&file, text).expect("a log file");
    format!(
        "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {{name: {namespace}-{container}}}
spec:
  selector: {{matchNamespaces: [{namespace}]}}
  logs:
  - containers: [{container}]
    logsFile: {}
",
        file.display()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn echoes_up_to_the_exit() {
        assert_eq!(
            super::echoed("echo starting migration; echo 'column already exists'; exit 1; echo no"),
            ["starting migration", "column already exists"]
        );
        assert_eq!(
            super::echoed("echo migrating schema; sleep 1; echo schema done"),
            ["migrating schema", "schema done"]
        );
    }
}
