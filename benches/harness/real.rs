//! Measurement 8: the API load and the watches on a real control plane (`tests/control-plane/up`:
//! etcd, kube-apiserver, controller-manager, scheduler, kwok), with the requests counted by the
//! API server itself from its audit log (one JSON line per finished request, level Metadata, the
//! control plane's own components left out). 10 Deployments with a 20-s readiness delay, updated by
//! one run of the tool, next to `kubectl set image` + `kubectl rollout status` per Deployment.
//! Runs only in full mode and only where the control plane's binaries are built.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;

use super::Ctx;
use super::process::{self, Cmd, Tally};
use super::report::{Line, Section, Verdict};
use super::sim::{self, Spec};
use super::stats::{Series, Unit, ratio, table};

const NAMESPACE: &str = "real";
const WORKLOADS: usize = 10;

/// A running control plane; stopped (SIGTERM, it cleans up) when dropped.
struct ControlPlane {
    child: Child,
    kubeconfig: PathBuf,
    audit: PathBuf,
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub fn measure(ctx: &Ctx) -> anyhow::Result<Section> {
    let mut section = Section::new("");
    let bin = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/kubectl-update/control-plane/bin"))
        .unwrap_or_default();
    if ctx.quick || !bin.join("kube-apiserver").exists() {
        section.say(
            "Skipped: runs only in full mode, where `tests/control-plane/build` has built the \
             control plane's binaries.",
        );
        return Ok(section);
    }
    let kubectl = bin.join("kubectl");
    let dir = ctx.scratch("real")?;
    let mut docs = vec![sim::namespace(NAMESPACE)];
    for idx in 0..WORKLOADS {
        docs.push(sim::deployment(&Spec {
            namespace: NAMESPACE,
            name: &format!("d{idx:02}"),
            replicas: 1,
            image: "busybox:1.36",
            ready_after_s: Some(20),
            progress_deadline_s: None,
        }));
    }
    let manifests = sim::write_yaml(&dir, "real.yaml", &docs)?;
    let plane = start(&dir, &manifests)?;
    let kubeconfig = plane.kubeconfig.display().to_string();
    let run_kubectl = |args: &[String]| {
        let cmd = Cmd::new(&kubectl)
            .args(args.iter().cloned())
            .env("KUBECONFIG", kubeconfig.clone())
            .env(
                "KUBECACHEDIR",
                dir.join("kubectl-cache").display().to_string(),
            );
        process::run_expecting(&cmd, false, 0)
    };
    let settle = |_: ()| -> anyhow::Result<()> {
        for idx in 0..WORKLOADS {
            run_kubectl(&[
                "rollout".into(),
                "status".into(),
                "-n".into(),
                NAMESPACE.into(),
                format!("deployment/d{idx:02}"),
                "--timeout=180s".into(),
            ])?;
        }
        Ok(())
    };
    settle(())?;
    let mut tool = Tally::default();
    let mut kubectl_tally = Tally::default();
    let mut tool_per_workload = Series::new(Unit::Count);
    let mut kubectl_per_workload = Series::new(Unit::Count);
    let mut tool_watches = Series::new(Unit::Count);
    let mut kubectl_watches = Series::new(Unit::Count);
    let reps = ctx.reps.min(3);
    for rep in 0..reps {
        let image = format!("busybox:1.{}", 100 + rep);
        let mark = lines(&plane.audit)?;
        let cmd = Cmd::new(&ctx.tool)
            .args([
                "-i",
                &image,
                "-c",
                "stable",
                "-n",
                NAMESPACE,
                "--timeout",
                "5m",
            ])
            .env("KUBECONFIG", kubeconfig.clone())
            .env("NO_COLOR", "1");
        let run = process::run_expecting(&cmd, true, 0)?;
        std::thread::sleep(Duration::from_secs(1));
        let (count, watches) = audited(&plane.audit, mark)?;
        tool.push(&run, count);
        tool_per_workload.push(count as f64 / WORKLOADS as f64);
        tool_watches.push(watches as f64);
        settle(())?;

        let image = format!("busybox:1.{}", 200 + rep);
        let mark = lines(&plane.audit)?;
        let started = Instant::now();
        for idx in 0..WORKLOADS {
            run_kubectl(&[
                "set".into(),
                "image".into(),
                "-n".into(),
                NAMESPACE.into(),
                format!("deployment/d{idx:02}"),
                format!("app={image}"),
            ])?;
        }
        settle(())?;
        let elapsed = started.elapsed();
        std::thread::sleep(Duration::from_secs(1));
        let (count, watches) = audited(&plane.audit, mark)?;
        kubectl_tally.wall.push(elapsed.as_secs_f64());
        kubectl_per_workload.push(count as f64 / WORKLOADS as f64);
        kubectl_watches.push(watches as f64);
    }
    drop(plane);

    let median = tool_per_workload.median().unwrap_or(f64::INFINITY);
    section.line(Line {
        measurement: format!(
            "8. Real control plane: requests per workload (audit log), {WORKLOADS} Deployments, 20-s rollout"
        ),
        tool: tool_per_workload.summary(),
        comparison: format!(
            "kubectl set image + rollout status: {}",
            kubectl_per_workload.summary()
        ),
        ratio: ratio(&tool_per_workload, &kubectl_per_workload),
        target: "≤ 4".to_owned(),
        verdict: if median <= 4.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{:.1} over", median - 4.0))
        },
    });
    section.line(Line {
        measurement: "8. Real control plane: most watches open at once".to_owned(),
        tool: tool_watches.summary(),
        comparison: format!(
            "kubectl rollout status, one after another: {}",
            kubectl_watches.summary()
        ),
        ratio: "—".to_owned(),
        target: "≤ 2 (1 kind × 1 namespace + 1)".to_owned(),
        verdict: if tool_watches.max().unwrap_or(f64::INFINITY) <= 2.0 {
            Verdict::Met
        } else {
            Verdict::Missed("more watches than the bound".to_owned())
        },
    });
    section.say(&format!(
        "A real control plane (`tests/control-plane/up`, kube-apiserver v1.34.4, kwok running the \
         pods) with {WORKLOADS} Deployments (1 replica, a readinessProbe delaying Ready by 20 s) \
         in one namespace; {reps} repetitions. Requests are counted by the API server: the lines \
         of its audit log between the start and the end of each client's run, the control \
         plane's own components excluded (the audit policy drops them). Watches open at once \
         come from each watch's `requestReceivedTimestamp` and `stageTimestamp`. The tool runs \
         as the admin user, so its preflight's reviews are all answered yes."
    ));
    section.say(&table(&[
        ("kubectl-update: requests per workload", &tool_per_workload),
        (
            "kubectl script: requests per workload",
            &kubectl_per_workload,
        ),
        ("kubectl-update: wall", &tool.wall),
        ("kubectl script: wall", &kubectl_tally.wall),
        ("kubectl-update: peak RSS", &tool.rss),
        ("kubectl-update: CPU", &tool.cpu),
        ("kubectl-update: most watches open at once", &tool_watches),
        (
            "kubectl script: most watches open at once",
            &kubectl_watches,
        ),
    ]));
    Ok(section)
}

fn start(dir: &Path, manifests: &Path) -> anyhow::Result<ControlPlane> {
    let kubeconfig = dir.join("real.kubeconfig");
    let audit = dir.join("audit.log");
    let mut child = Command::new("tests/control-plane/up")
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("--audit-log")
        .arg(&audit)
        .arg("--manifests")
        .arg(manifests)
        .args(["--parent-pid", &std::process::id().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tests/control-plane/up")?;
    let stdout = child.stdout.take().context("the control plane's stdout")?;
    let mut ready = String::new();
    BufReader::new(stdout).read_line(&mut ready)?;
    let plane = ControlPlane {
        child,
        kubeconfig,
        audit,
    };
    anyhow::ensure!(
        ready.starts_with("READY "),
        "the control plane did not start"
    );
    Ok(plane)
}

fn lines(audit: &Path) -> anyhow::Result<usize> {
    Ok(std::fs::read_to_string(audit)?.lines().count())
}

/// The requests logged after line `mark` by the admin user, and the most watches open at once.
fn audited(audit: &Path, mark: usize) -> anyhow::Result<(usize, usize)> {
    let text = std::fs::read_to_string(audit)?;
    let mut count = 0;
    let mut edges: Vec<(String, i32)> = Vec::new();
    for line in text.lines().skip(mark) {
        let event: Value = serde_json::from_str(line)?;
        if event["user"]["username"] != "admin" {
            continue;
        }
        count += 1;
        if event["verb"] == "watch" {
            let start = event["requestReceivedTimestamp"]
                .as_str()
                .unwrap_or_default();
            let end = event["stageTimestamp"].as_str().unwrap_or_default();
            edges.push((start.to_owned(), 1));
            edges.push((end.to_owned(), -1));
        }
    }
    // RFC 3339 timestamps with the same precision sort as text; ends before starts at a tie.
    edges.sort();
    let (mut current, mut peak) = (0i32, 0i32);
    for (_, delta) in edges {
        current += delta;
        peak = peak.max(current);
    }
    Ok((count, peak.max(0) as usize))
}
