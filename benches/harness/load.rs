//! Measurement 3: API requests per workload while 10 Deployments roll out, counted in the access
//! log, for three clients each against a cluster of its own, run at the same time: the tool; a
//! loop that GETs every Deployment each 100 ms (the design of the older in-cluster service); and
//! `kubectl set image` + `kubectl rollout status` per Deployment. Two rollout durations show
//! whether the count depends on how long the rollout takes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::bail;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::Ctx;
use super::access::{self, Counts};
use super::process;
use super::report::{Line, Section, Verdict};
use super::sim::{self, Setup, Sim, Spec};
use super::stats::{Series, Unit, ratio, table};

const NAMESPACE: &str = "load";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Tool,
    Poller,
    Kubectl,
}

impl Client {
    const ALL: [Client; 3] = [Client::Tool, Client::Poller, Client::Kubectl];

    fn label(self) -> &'static str {
        match self {
            Client::Tool => "kubectl-update",
            Client::Poller => "GET loop every 100 ms",
            Client::Kubectl => "kubectl set image + rollout status",
        }
    }
}

/// One client's figures at one rollout duration.
struct Figures {
    per_workload: Series,
    wall: Series,
    counts: Counts,
}

pub fn measure(ctx: &Ctx) -> anyhow::Result<Section> {
    let workloads: usize = ctx.size(10, 3);
    let durations: Vec<u32> = ctx.size(vec![20, 5], vec![2]);
    let mut results: Vec<(u32, Vec<Figures>)> = Vec::new();
    for &duration in &durations {
        let figures = std::thread::scope(|scope| {
            let handles: Vec<_> = Client::ALL
                .map(|client| scope.spawn(move || run_client(ctx, client, workloads, duration)))
                .into_iter()
                .collect();
            handles
                .into_iter()
                .map(|it| it.join().expect("a load thread"))
                .collect::<anyhow::Result<Vec<Figures>>>()
        })?;
        results.push((duration, figures));
    }

    let mut section = Section::new("");
    let long = &results[0];
    let tool = &long.1[0].per_workload;
    let tool_median = tool.median().unwrap_or(f64::INFINITY);
    let tool_medians: Vec<f64> = results
        .iter()
        .filter_map(|(_, figures)| figures[0].per_workload.median())
        .collect();
    let spread = tool_medians.iter().copied().fold(f64::NAN, f64::max)
        - tool_medians.iter().copied().fold(f64::NAN, f64::min);
    for (idx, comparison) in [(1, Client::Poller), (2, Client::Kubectl)] {
        section.line(Line {
            measurement: format!(
                "3. API load: requests per workload, {workloads} Deployments, {}-s rollout",
                long.0
            ),
            tool: tool.summary(),
            comparison: format!(
                "{}: {}",
                comparison.label(),
                long.1[idx].per_workload.summary()
            ),
            ratio: ratio(tool, &long.1[idx].per_workload),
            target: if idx == 1 { "≤ 4" } else { "—" }.to_owned(),
            verdict: match idx {
                1 if tool_median <= 4.0 => Verdict::Met,
                1 => Verdict::Missed(format!("{:.1} over", tool_median - 4.0)),
                _ => Verdict::NoTarget,
            },
        });
    }
    if results.len() > 1 {
        let summary: Vec<String> = results
            .iter()
            .map(|(duration, figures)| {
                format!("{duration} s: {}", figures[0].per_workload.summary())
            })
            .collect();
        section.line(Line {
            measurement: "3. API load: tool's requests per workload vs rollout duration".to_owned(),
            tool: summary.join("; "),
            comparison: results
                .iter()
                .map(|(duration, figures)| {
                    format!("loop {duration} s: {}", figures[1].per_workload.summary())
                })
                .collect::<Vec<_>>()
                .join("; "),
            ratio: "—".to_owned(),
            target: "independent of duration".to_owned(),
            verdict: if spread <= 0.5 {
                Verdict::Met
            } else {
                Verdict::Missed(format!("medians differ by {spread:.1} per workload"))
            },
        });
    }

    section.say(&format!(
        "Each client updates {workloads} Deployments (1 replica; a readinessProbe with \
         `initialDelaySeconds` sets how long the rollout takes) in one namespace of a simulated \
         cluster of its own, and waits until all are rolled out. The three run at the same time. \
         Requests are counted in the simulator's access log (only the measured client's user), \
         everything included: discovery, access reviews, lists, watches (a watch counts once, \
         however long it stays open), GETs and PATCHes. kubectl starts each repetition with an \
         empty discovery cache, as a CI job would."
    ));
    for (duration, figures) in &results {
        let rows: Vec<(String, &Series)> = Client::ALL
            .iter()
            .zip(figures)
            .flat_map(|(client, it)| {
                [
                    (
                        format!("{}: requests per workload", client.label()),
                        &it.per_workload,
                    ),
                    (format!("{}: wall time", client.label()), &it.wall),
                ]
            })
            .collect();
        let rows: Vec<(&str, &Series)> = rows.iter().map(|(l, s)| (l.as_str(), *s)).collect();
        section.say(&format!("**{duration}-s rollout**\n\n{}", table(&rows)));
        let mut breakdown = "| Last repetition | total | discovery | reads (GET/LIST) | watches | access reviews | other writes |\n| --- | --- | --- | --- | --- | --- | --- |".to_owned();
        for (client, it) in Client::ALL.iter().zip(figures) {
            let c = it.counts;
            breakdown.push_str(&format!(
                "\n| {} | {} | {} | {} | {} | {} | {} |",
                client.label(),
                c.total,
                c.discovery,
                c.reads,
                c.watches,
                c.reviews,
                c.writes
            ));
        }
        section.say(&breakdown);
    }
    if tool_median > 4.0 {
        section.say(&format!(
            "**Target missed**: {tool_median:.1} requests per workload, {:.1} over the target. \
             See the breakdown above for where the requests go.",
            tool_median - 4.0
        ));
    }
    section.say(
        "Per run, the tool makes one PATCH and one audit Event per workload and a constant: the \
         identity check, five discovery lists per namespace, one rules review per namespace \
         (access reviews only for what its rules leave open, e.g. a Role narrowed with \
         `resourceNames` or a webhook authorizer), the lock (create, \
         a renewal every 10 s, delete), and one list + watch per (kind, namespace) and per \
         namespace for pods, however many workloads roll out. Only the lock's renewals grow \
         with the rollout's duration, by one request per 10 s per namespace.",
    );
    Ok(section)
}

fn run_client(
    ctx: &Ctx,
    client: Client,
    workloads: usize,
    duration: u32,
) -> anyhow::Result<Figures> {
    let names: Vec<String> = (0..workloads).map(|it| format!("d{it:02}")).collect();
    let mut docs = vec![sim::namespace(NAMESPACE)];
    for name in &names {
        docs.push(sim::deployment(&Spec {
            namespace: NAMESPACE,
            name,
            replicas: 1,
            image: "busybox:1.36",
            ready_after_s: Some(duration),
            progress_deadline_s: None,
        }));
    }
    let dir = ctx.scratch(&format!("load-{client:?}-{duration}"))?;
    let sim = Sim::start(&Setup {
        controllers: true,
        manifests: vec![sim::write_yaml(&dir, "load.yaml", &docs)?],
        ..Setup::default()
    })?;
    let namespaces = vec![NAMESPACE.to_owned()];
    let settle = Duration::from_secs(u64::from(duration) * 3 + 60);
    sim.wait_settled(&namespaces, settle)?;
    let mut per_workload = Series::new(Unit::Count);
    let mut wall = Series::new(Unit::Seconds);
    let mut counts = Counts::default();
    for rep in 0..ctx.reps {
        let image = format!("busybox:1.{}", 100 + rep);
        let mark = sim.tail.mark();
        let started = Instant::now();
        match client {
            Client::Tool => {
                let cmd = ctx.tool(&sim).args([
                    "-i",
                    &image,
                    "-c",
                    "stable",
                    "-n",
                    NAMESPACE,
                    "--timeout",
                    "5m",
                ]);
                process::run_expecting(&cmd, false, 0)?;
            }
            Client::Poller => sim.rt.block_on(poll_loop(&sim, &names, &image))?,
            Client::Kubectl => {
                let cache = sim.fresh_dir(&format!("cache-{rep}"))?;
                for name in &names {
                    let cmd = ctx.kubectl(&sim, &cache).args([
                        "set",
                        "image",
                        "-n",
                        NAMESPACE,
                        &format!("deployment/{name}"),
                        &format!("app={image}"),
                    ]);
                    process::run_expecting(&cmd, false, 0)?;
                }
                for name in &names {
                    let cmd = ctx.kubectl(&sim, &cache).args([
                        "rollout",
                        "status",
                        "-n",
                        NAMESPACE,
                        &format!("deployment/{name}"),
                        "--timeout=5m",
                    ]);
                    process::run_expecting(&cmd, false, 0)?;
                }
            }
        }
        wall.push(started.elapsed().as_secs_f64());
        let requests = sim.ci_requests_since(mark);
        counts = access::count(&requests);
        per_workload.push(requests.len() as f64 / workloads as f64);
        sim.wait_settled(&namespaces, settle)?;
    }
    Ok(Figures {
        per_workload,
        wall,
        counts,
    })
}

/// The older service's design: patch each Deployment, then GET each unfinished one every 100 ms
/// until all are rolled out.
async fn poll_loop(sim: &Sim, names: &[String], image: &str) -> anyhow::Result<()> {
    let client = sim.ci_client().await?;
    let api: Api<Deployment> = Api::namespaced(client, NAMESPACE);
    let body =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
    for name in names {
        api.patch(name, &PatchParams::default(), &Patch::Strategic(&body))
            .await?;
    }
    let mut pending: BTreeSet<&String> = names.iter().collect();
    let mut interval = tokio::time::interval(Duration::from_millis(100));
    let started = Instant::now();
    while !pending.is_empty() {
        interval.tick().await;
        let mut done = Vec::new();
        for name in &pending {
            if rolled_out(&api.get(name).await?) {
                done.push(*name);
            }
        }
        for name in done {
            pending.remove(name);
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the GET loop's rollout did not finish");
        }
    }
    Ok(())
}

/// Rolled out by kubectl's rules for Deployments.
fn rolled_out(deployment: &Deployment) -> bool {
    let generation = deployment.metadata.generation.unwrap_or_default();
    let spec = deployment.spec.replicas.unwrap_or(1);
    let Some(status) = &deployment.status else {
        return false;
    };
    status.observed_generation.unwrap_or_default() >= generation
        && status.updated_replicas.unwrap_or_default() >= spec
        && status.replicas.unwrap_or_default() <= status.updated_replicas.unwrap_or_default()
        && status.available_replicas.unwrap_or_default()
            >= status.updated_replicas.unwrap_or_default()
}
