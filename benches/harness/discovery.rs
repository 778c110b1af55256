//! Measurement 4: read-only discovery (`--dry-run`) over 500 namespaces × 20 Deployments with
//! 20 ms added to every request: `-A` (cluster-wide lists, paginated) and `-n` over 50
//! namespaces, next to `kubectl get` of the same kinds (`-A`, and one call per namespace as a
//! script would loop). Also the tool's peak RSS, its pages, and how many requests it had in flight
//! at once (from the access log).

use super::Ctx;
use super::access;
use super::process::{self, Cmd, Measured, Tally};
use super::report::{Line, Section, Verdict};
use super::sim::{self, Setup, Sim, Spec};
use super::stats::{Series, Unit, ratio, table};

const KINDS: &str = "deployments,statefulsets,daemonsets,cronjobs,jobs";
const LATENCY_MS: u64 = 20;

pub fn measure(ctx: &Ctx) -> anyhow::Result<Section> {
    let namespace_count: usize = ctx.size(500, 5);
    let per_namespace: usize = ctx.size(20, 4);
    let listed_count: usize = ctx.size(50, 3);
    let namespaces: Vec<String> = (0..namespace_count)
        .map(|it| format!("ns-{it:03}"))
        .collect();
    let mut docs = Vec::with_capacity(namespace_count * (per_namespace + 1));
    for namespace in &namespaces {
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
    let total = namespace_count * per_namespace;
    let dir = ctx.scratch("discovery")?;
    // The simulator reads at most 1024 documents per file.
    let manifests = docs
        .chunks(1000)
        .enumerate()
        .map(|(idx, chunk)| sim::write_yaml(&dir, &format!("discovery-{idx:02}.yaml"), chunk))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sim = Sim::start(&Setup {
        latency_ms: LATENCY_MS,
        controllers: false,
        manifests,
    })?;
    let listed = namespaces[..listed_count].join(",");

    let mut tool_all = Tally::default();
    let mut kubectl_all = Tally::default();
    let mut tool_listed = Tally::default();
    let mut tool_status = Tally::default();
    let mut kubectl_listed = Tally::default();
    let mut in_flight = Series::new(Unit::Count);
    let mut pages = 0;
    // Of the last `-A` run's Deployment pages: the server's time per page, and the client's time
    // from one page's end to the next page's request.
    let mut page_serve = Series::new(Unit::Millis);
    let mut page_gap = Series::new(Unit::Millis);
    let tool_args = |scope: &[&str]| {
        let mut args = vec![
            "-i",
            "busybox:1.37",
            "-c",
            "stable",
            "--dry-run",
            "-o",
            "json",
        ];
        args.extend_from_slice(scope);
        ctx.tool(&sim).args(args)
    };
    for rep in 0..ctx.reps {
        let mark = sim.tail.mark();
        let run = process::run_expecting(&tool_args(&["-A"]), true, 0)?;
        check_planned(&run, total)?;
        let requests = sim.ci_requests_since(mark);
        let deployment_pages: Vec<&access::Entry> = requests
            .iter()
            .filter(|it| it.path.contains("/deployments") && it.method == "GET")
            .collect();
        pages = deployment_pages.len();
        page_serve = Series::new(Unit::Millis);
        page_gap = Series::new(Unit::Millis);
        for page in &deployment_pages {
            page_serve.push(millis(page.started(), page.ended()));
        }
        for pair in deployment_pages.windows(2) {
            page_gap.push(millis(pair[0].ended(), pair[1].started()));
        }
        tool_all.push(&run, requests.len());

        // `kubectl update status` reads the same workloads (and each namespace's lock).
        let mark = sim.tail.mark();
        let cmd = Cmd::new(&ctx.tool).env("NO_COLOR", "1").args([
            "status".to_owned(),
            "-c".to_owned(),
            "stable".to_owned(),
            "-A".to_owned(),
            "-o".to_owned(),
            "json".to_owned(),
            "--kubeconfig".to_owned(),
            sim.kubeconfig_str(),
        ]);
        let run = process::run_expecting(&cmd, true, 0)?;
        check_status(&run, total)?;
        tool_status.push(&run, sim.ci_requests_since(mark).len());

        let cache = sim.fresh_dir(&format!("cache-all-{rep}"))?;
        let mark = sim.tail.mark();
        let cmd = ctx
            .kubectl(&sim, &cache)
            .args(["get", KINDS, "-A", "-o", "json"]);
        let run = process::run_expecting(&cmd, true, 0)?;
        kubectl_all.push(&run, sim.ci_requests_since(mark).len());

        let mark = sim.tail.mark();
        let run = process::run_expecting(&tool_args(&["-n", &listed]), true, 0)?;
        check_planned(&run, listed_count * per_namespace)?;
        let requests = sim.ci_requests_since(mark);
        in_flight.push(access::max_in_flight(&requests) as f64);
        tool_listed.push(&run, requests.len());

        let cache = sim.fresh_dir(&format!("cache-listed-{rep}"))?;
        let mark = sim.tail.mark();
        let mut runs = Vec::new();
        for namespace in &namespaces[..listed_count] {
            let cmd = ctx
                .kubectl(&sim, &cache)
                .args(["get", KINDS, "-n", namespace, "-o", "json"]);
            runs.push(process::run_expecting(&cmd, true, 0)?);
        }
        kubectl_listed.push(&process::combine(&runs), sim.ci_requests_since(mark).len());
    }
    drop(sim);

    let mut section = Section::new("");
    let all_median = tool_all.wall.median().unwrap_or(f64::INFINITY);
    let rss = tool_all.rss.max().unwrap_or(f64::INFINITY);
    let rss_listed = tool_listed.rss.max().unwrap_or(0.0);
    let peak_rss = rss.max(rss_listed);
    let bound = in_flight.max().unwrap_or(0.0);
    section.line(Line {
        measurement: format!(
            "4. Discovery `-A --dry-run`, {total} Deployments, {LATENCY_MS} ms latency"
        ),
        tool: tool_all.wall.summary(),
        comparison: format!("kubectl get -A: {}", kubectl_all.wall.summary()),
        ratio: ratio(&tool_all.wall, &kubectl_all.wall),
        target: "≤ 1.0 s".to_owned(),
        verdict: if all_median <= 1.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("median {:.2} s over", all_median - 1.0))
        },
    });
    section.line(Line {
        measurement: format!("4. Discovery `-n` × {listed_count} namespaces"),
        tool: tool_listed.wall.summary(),
        comparison: format!(
            "kubectl get -n, {listed_count} calls in a loop: {}",
            kubectl_listed.wall.summary()
        ),
        ratio: ratio(&tool_listed.wall, &kubectl_listed.wall),
        target: "—".to_owned(),
        verdict: Verdict::NoTarget,
    });
    section.line(Line {
        measurement: "4. Discovery: peak RSS of the tool (`-A`)".to_owned(),
        tool: tool_all.rss.summary(),
        comparison: format!("kubectl get -A: {}", kubectl_all.rss.summary()),
        ratio: ratio(&tool_all.rss, &kubectl_all.rss),
        target: "≤ 50 MiB".to_owned(),
        verdict: if peak_rss <= 50.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{:.1} MiB over", peak_rss - 50.0))
        },
    });
    section.line(Line {
        measurement: format!("4. `status -c stable -A`, {total} Deployments: wall / peak RSS"),
        tool: format!(
            "{} / {}",
            tool_status.wall.summary(),
            tool_status.rss.summary()
        ),
        comparison: format!(
            "kubectl get -A: {} / {}",
            kubectl_all.wall.summary(),
            kubectl_all.rss.summary()
        ),
        ratio: ratio(&tool_status.rss, &kubectl_all.rss),
        target: "—".to_owned(),
        verdict: Verdict::NoTarget,
    });
    section.line(Line {
        measurement: format!("4. Discovery `-n` × {listed_count}: most requests in flight"),
        tool: in_flight.summary(),
        comparison: "kubectl loop: 1".to_owned(),
        ratio: "—".to_owned(),
        target: "concurrent, bounded".to_owned(),
        verdict: if bound > 1.0 && bound <= 8.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("peak {bound:.0} in flight (bound 8)"))
        },
    });

    section.say(&format!(
        "{namespace_count} namespaces × {per_namespace} Deployments = {total} Deployments, all \
         opted in with classifier `stable` and running `busybox:1.36`, seeded at start \
         (controllers off, so no pods); the simulator adds {LATENCY_MS} ms to every request. \
         The tool runs `--dry-run -o json` (it lists the five kinds it reads, plans and prints \
         the JSON report of every matched workload); kubectl runs `get {KINDS} -o json`, with an \
         empty discovery cache each time. `-n` covers the first {listed_count} namespaces: \
         the tool takes them in one call, kubectl needs one call per namespace."
    ));
    section.say(&table(&[
        ("kubectl-update -A: wall", &tool_all.wall),
        ("kubectl get -A: wall", &kubectl_all.wall),
        ("kubectl-update -n: wall", &tool_listed.wall),
        ("kubectl get -n loop: wall", &kubectl_listed.wall),
        ("kubectl-update -A: peak RSS", &tool_all.rss),
        ("kubectl get -A: peak RSS", &kubectl_all.rss),
        ("kubectl-update -n: peak RSS", &tool_listed.rss),
        (
            "kubectl get -n (largest call): peak RSS",
            &kubectl_listed.rss,
        ),
        ("kubectl-update status -A: wall", &tool_status.wall),
        ("kubectl-update status -A: peak RSS", &tool_status.rss),
        ("kubectl-update status -A: requests", &tool_status.requests),
        ("kubectl-update -A: CPU", &tool_all.cpu),
        ("kubectl get -A: CPU", &kubectl_all.cpu),
        ("kubectl-update -A: requests", &tool_all.requests),
        ("kubectl get -A: requests", &kubectl_all.requests),
        ("kubectl-update -n: requests", &tool_listed.requests),
        ("kubectl get -n loop: requests", &kubectl_listed.requests),
        ("kubectl-update -n: most requests in flight", &in_flight),
    ]));
    section.say(&format!(
        "The tool's `-A` run made {pages} Deployment list requests (up to {} items each) in the last \
         repetition. The server took a median {} per page ({LATENCY_MS} ms of it the added \
         latency), and the tool asked for the next page a median {} after a page ended. \
         \"In flight\" is computed from the access log, which stamps each request's start and \
         end.",
        total.div_ceil(pages.max(1)),
        page_serve.summary(),
        page_gap.summary()
    ));
    if all_median > 1.0 {
        section.say(&format!(
            "**Target missed**: `-A` took a median {all_median:.2} s, {:.2} s over 1.0 s. The \
             {pages} Deployment pages of one list follow each other (each needs the previous \
             page's `continue` token); the tool requests the next page as soon as it has read the \
             token and decodes the current one meanwhile, so what remains per page is the \
             round trip: {LATENCY_MS} ms plus the server's time to serve a page.",
            all_median - 1.0
        ));
    }
    if peak_rss > 50.0 {
        section.say(&format!(
            "**Target missed**: peak RSS {peak_rss:.1} MiB. Pages are decoded straight into \
             typed workload facts (no JSON values held); what remains is the page bodies in \
             flight, the plan and report written at the end, and the allocator's high-water \
             mark."
        ));
    }
    Ok(section)
}

/// Milliseconds from `start` to `end` (0 when `end` is earlier).
fn millis(start: std::time::SystemTime, end: std::time::SystemTime) -> f64 {
    end.duration_since(start)
        .map_or(0.0, |it| it.as_secs_f64() * 1000.0)
}

/// Fails unless the JSON report lists `expected` workloads.
fn check_planned(run: &Measured, expected: usize) -> anyhow::Result<()> {
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)?;
    let found = report["workloads"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        found == expected,
        "the dry run planned {found} workloads, expected {expected}"
    );
    Ok(())
}

/// The status report lists every opted-in workload.
fn check_status(run: &Measured, expected: usize) -> anyhow::Result<()> {
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)
        .map_err(|err| anyhow::anyhow!("status did not print a JSON report: {err}"))?;
    let found: usize = report["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|cluster| cluster["workloads"].as_array().map_or(0, Vec::len))
        .sum();
    anyhow::ensure!(
        found == expected,
        "status listed {found} workloads, expected {expected}"
    );
    Ok(())
}
