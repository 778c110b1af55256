//! Measurement 6: 50 Deployments (in 5 namespaces) rolled out together by one run of the tool —
//! its CPU time, peak RSS, wall time and requests — next to what a script needs with kubectl:
//! `kubectl set image -l` per namespace, then `kubectl rollout status` per Deployment (CPU times
//! and requests summed over the calls, the largest peak RSS).

use std::time::Duration;

use super::Ctx;
use super::process::{self, Tally};
use super::report::{Line, Section, Verdict};
use super::sim::{self, Setup, Sim, Spec};
use super::stats::{ratio, table};

pub fn measure(ctx: &Ctx) -> anyhow::Result<Section> {
    let namespace_count: usize = ctx.size(5, 2);
    let per_namespace: usize = ctx.size(10, 2);
    let total = namespace_count * per_namespace;
    let tool_namespaces: Vec<String> = (0..namespace_count)
        .map(|it| format!("many-t{it}"))
        .collect();
    let kubectl_namespaces: Vec<String> = (0..namespace_count)
        .map(|it| format!("many-k{it}"))
        .collect();
    let mut docs = Vec::new();
    for namespace in tool_namespaces.iter().chain(&kubectl_namespaces) {
        docs.push(sim::namespace(namespace));
        for idx in 0..per_namespace {
            docs.push(sim::deployment(&Spec {
                namespace,
                name: &format!("app-{idx:02}"),
                replicas: 1,
                image: "busybox:1.36",
                ready_after_s: None,
                progress_deadline_s: None,
            }));
        }
    }
    let dir = ctx.scratch("many")?;
    let sim = Sim::start(&Setup {
        controllers: true,
        manifests: vec![sim::write_yaml(&dir, "many.yaml", &docs)?],
        ..Setup::default()
    })?;
    let all: Vec<String> = tool_namespaces
        .iter()
        .chain(&kubectl_namespaces)
        .cloned()
        .collect();
    let settle = Duration::from_secs(120);
    sim.wait_settled(&all, settle)?;
    let mut tool = Tally::default();
    let mut kubectl = Tally::default();
    for rep in 0..ctx.reps {
        let image = format!("busybox:1.{}", 100 + rep);
        let mark = sim.tail.mark();
        let cmd = ctx.tool(&sim).args([
            "-i",
            &image,
            "-c",
            "stable",
            "-n",
            &tool_namespaces.join(","),
            "--timeout",
            "5m",
        ]);
        let run = process::run_expecting(&cmd, true, 0)?;
        tool.push(&run, sim.ci_requests_since(mark).len());
        sim.wait_settled(&tool_namespaces, settle)?;

        let cache = sim.fresh_dir(&format!("cache-{rep}"))?;
        let mark = sim.tail.mark();
        let mut runs = Vec::new();
        for namespace in &kubectl_namespaces {
            let cmd = ctx.kubectl(&sim, &cache).args([
                "set",
                "image",
                "-n",
                namespace,
                "deployment",
                "-l",
                "bench=true",
                &format!("app={image}"),
            ]);
            runs.push(process::run_expecting(&cmd, true, 0)?);
        }
        for namespace in &kubectl_namespaces {
            for idx in 0..per_namespace {
                let cmd = ctx.kubectl(&sim, &cache).args([
                    "rollout".to_owned(),
                    "status".to_owned(),
                    "-n".to_owned(),
                    namespace.clone(),
                    format!("deployment/app-{idx:02}"),
                    "--timeout=5m".to_owned(),
                ]);
                runs.push(process::run_expecting(&cmd, true, 0)?);
            }
        }
        kubectl.push(&process::combine(&runs), sim.ci_requests_since(mark).len());
        sim.wait_settled(&kubectl_namespaces, settle)?;
    }
    drop(sim);

    let mut section = Section::new("");
    for (what, tool_series, kubectl_series) in [
        ("CPU time", &tool.cpu, &kubectl.cpu),
        ("peak RSS", &tool.rss, &kubectl.rss),
        ("wall time", &tool.wall, &kubectl.wall),
    ] {
        section.line(Line {
            measurement: format!("6. Many at once: {total} Deployments, {what}"),
            tool: tool_series.summary(),
            comparison: format!(
                "kubectl, {} calls: {}",
                namespace_count + total,
                kubectl_series.summary()
            ),
            ratio: ratio(tool_series, kubectl_series),
            target: "—".to_owned(),
            verdict: Verdict::NoTarget,
        });
    }
    section.say(&format!(
        "{total} Deployments (1 replica) in {namespace_count} namespaces, opted in; each \
         repetition ships a new tag to all of them. The tool does it in one run \
         (`-n {}`); the kubectl script runs `kubectl set image deployment -l bench=true` per \
         namespace and then `kubectl rollout status` per Deployment, {} processes in all: their \
         CPU times, wall times and requests are summed, the peak RSS is the largest of any \
         one call.",
        tool_namespaces.join(","),
        namespace_count + total
    ));
    section.say(&table(&[
        ("kubectl-update: CPU", &tool.cpu),
        ("kubectl script: CPU (sum)", &kubectl.cpu),
        ("kubectl-update: peak RSS", &tool.rss),
        ("kubectl script: peak RSS (largest call)", &kubectl.rss),
        ("kubectl-update: wall", &tool.wall),
        ("kubectl script: wall (sum)", &kubectl.wall),
        ("kubectl-update: requests", &tool.requests),
        ("kubectl script: requests", &kubectl.requests),
    ]));
    Ok(section)
}
