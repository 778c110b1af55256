//! Measurement 7: watches at fleet scale. 1,000 Deployments in 10 namespaces updated by one run:
//! wall time, the tool's CPU time and peak RSS, its requests, and the most watch streams it held
//! open at once (from the access log), next to the bound the README states,
//! (kinds in the plan × namespaces) + one pod watch per namespace, and to what one watch per
//! workload (as `kubectl rollout status` per Deployment, or this tool before) would hold.

use std::time::Duration;

use super::Ctx;
use super::access;
use super::process::{self, Tally};
use super::report::{Line, Section, Verdict};
use super::sim::{self, Setup, Sim, Spec};
use super::stats::{Series, Unit, table};

pub fn measure(ctx: &Ctx) -> anyhow::Result<Section> {
    let namespace_count: usize = ctx.size(10, 2);
    let per_namespace: usize = ctx.size(100, 3);
    let total = namespace_count * per_namespace;
    let namespaces: Vec<String> = (0..namespace_count)
        .map(|it| format!("fleet-{it}"))
        .collect();
    let mut docs = Vec::new();
    for namespace in &namespaces {
        docs.push(sim::namespace(namespace));
        for idx in 0..per_namespace {
            docs.push(sim::deployment(&Spec {
                namespace,
                name: &format!("app-{idx:03}"),
                replicas: 1,
                image: "busybox:1.36",
                ready_after_s: None,
                progress_deadline_s: None,
            }));
        }
    }
    let dir = ctx.scratch("watches")?;
    // The simulator reads at most 1024 documents per file.
    let manifests = docs
        .chunks(1000)
        .enumerate()
        .map(|(idx, chunk)| sim::write_yaml(&dir, &format!("fleet-{idx:02}.yaml"), chunk))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sim = Sim::start(&Setup {
        controllers: true,
        manifests,
        ..Setup::default()
    })?;
    let settle = Duration::from_secs(600);
    sim.wait_settled(&namespaces, settle)?;
    let mut tool = Tally::default();
    let mut watches = Series::new(Unit::Count);
    for rep in 0..ctx.reps {
        let image = format!("busybox:1.{}", 100 + rep);
        let mark = sim.tail.mark();
        let cmd = ctx.tool(&sim).args([
            "-i",
            &image,
            "-c",
            "stable",
            "-n",
            &namespaces.join(","),
            "--timeout",
            "10m",
        ]);
        let run = process::run_expecting(&cmd, true, 0)?;
        // Watches are logged when they end: give the server a moment to log the closed streams.
        std::thread::sleep(Duration::from_millis(500));
        let requests = sim.ci_requests_since(mark);
        watches.push(access::max_watches_open(&requests) as f64);
        tool.push(&run, requests.len());
        sim.wait_settled(&namespaces, settle)?;
    }
    drop(sim);

    // One kind (Deployments) in the plan: one workload watch and one pod watch per namespace.
    let bound = 2 * namespace_count;
    let per_workload = total + namespace_count;
    let most = watches.max().unwrap_or(f64::INFINITY);
    let rss = tool.rss.median().unwrap_or(f64::INFINITY);
    let mut section = Section::new("");
    section.line(Line {
        measurement: format!(
            "7. Watches: most open at once, {total} Deployments in {namespace_count} namespaces"
        ),
        tool: watches.summary(),
        comparison: format!("one watch per workload: {per_workload}"),
        ratio: format!(
            "{:.3}×",
            watches.median().unwrap_or(f64::NAN) / per_workload as f64
        ),
        target: format!("≤ {bound} (kinds × namespaces + namespaces)"),
        verdict: if most <= bound as f64 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{most} open at once"))
        },
    });
    section.line(Line {
        measurement: format!("7. Watches: peak RSS, {total} Deployments"),
        tool: tool.rss.summary(),
        comparison: "—".to_owned(),
        ratio: "—".to_owned(),
        target: "≤ 100 MiB".to_owned(),
        verdict: if rss <= 100.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{:.1} MiB over", rss - 100.0))
        },
    });
    section.say(&format!(
        "{total} Deployments (1 replica) in {namespace_count} namespaces, opted in; each \
         repetition ships a new tag to all of them in one run (`-n {}`). Watches open at once \
         are computed from the access log (a watch is open from its start until its line is \
         logged); the bound is one workload watch per (kind, namespace) plus one pod watch per \
         namespace, here {bound}; one watch per workload would hold {per_workload}.",
        namespaces.join(","),
    ));
    section.say(&table(&[
        ("kubectl-update: wall", &tool.wall),
        ("kubectl-update: CPU", &tool.cpu),
        ("kubectl-update: peak RSS", &tool.rss),
        ("kubectl-update: requests", &tool.requests),
        ("kubectl-update: most watches open at once", &watches),
    ]));
    Ok(section)
}
