//! Measurements 1 and 2: how soon the tool notices that a rollout finished or failed, next to
//! `kubectl rollout status` on an identical Deployment rolled out at the same time.
//!
//! Completion is dated by the simulator itself (the `lastUpdateTime` of the Deployment's
//! `Progressing=NewReplicaSetAvailable` condition), failure by the first "Failed to pull image"
//! event of a new pod; the tool's rollback is dated by its PATCH appearing in the access log.

use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};

use super::Ctx;
use super::process::{self, Measured};
use super::report::{Line, Section, Verdict};
use super::sim::{self, Setup, Sim, Spec};
use super::stats::{Series, Unit, ratio, table};

/// `later - earlier` in milliseconds, negative when `later` is earlier.
fn millis_between(earlier: SystemTime, later: SystemTime) -> f64 {
    match later.duration_since(earlier) {
        Ok(it) => it.as_secs_f64() * 1000.0,
        Err(err) => -err.duration().as_secs_f64() * 1000.0,
    }
}

/// One Deployment per namespace, all alike, rolled out before the measurement starts.
fn start(
    ctx: &Ctx,
    label: &str,
    namespaces: &[String],
    deadline_s: Option<u32>,
) -> anyhow::Result<Sim> {
    let mut docs = Vec::new();
    for namespace in namespaces {
        docs.push(sim::namespace(namespace));
        docs.push(sim::deployment(&Spec {
            namespace,
            name: "web",
            replicas: 2,
            image: "busybox:1.36",
            ready_after_s: None,
            progress_deadline_s: deadline_s,
        }));
    }
    let dir = ctx.scratch(label)?;
    let manifests = sim::write_yaml(&dir, "deployments.yaml", &docs)?;
    let sim = Sim::start(&Setup {
        controllers: true,
        manifests: vec![manifests],
        ..Setup::default()
    })?;
    sim.wait_settled(namespaces, Duration::from_secs(60))?;
    Ok(sim)
}

/// Runs the tool and `kubectl set image` + `kubectl rollout status` at the same time.
fn side_by_side(
    ctx: &Ctx,
    sim: &Sim,
    tool_args: &[String],
    kubectl_namespace: &str,
    image: &str,
    expected: (i32, i32),
) -> anyhow::Result<(Measured, Measured)> {
    let tool = ctx.tool(sim).args(tool_args.iter().cloned());
    let cache = sim.fresh_dir(&format!("cache-{kubectl_namespace}"))?;
    let set = ctx.kubectl(sim, &cache).args([
        "set",
        "image",
        "-n",
        kubectl_namespace,
        "deployment/web",
        &format!("app={image}"),
    ]);
    let status = ctx.kubectl(sim, &cache).args([
        "rollout",
        "status",
        "-n",
        kubectl_namespace,
        "deployment/web",
        "--timeout=5m",
    ]);
    std::thread::scope(|scope| {
        let tool = scope.spawn(|| process::run_expecting(&tool, true, expected.0));
        let kubectl = scope.spawn(|| {
            process::run_expecting(&set, false, 0)?;
            process::run_expecting(&status, true, expected.1)
        });
        let tool = tool.join().expect("the tool's thread");
        let kubectl = kubectl.join().expect("kubectl's thread");
        Ok((tool?, kubectl?))
    })
}

/// 1. From the simulator marking the rollout complete to the process exiting.
pub fn completion(ctx: &Ctx) -> anyhow::Result<Section> {
    let namespaces: Vec<String> = (0..ctx.reps)
        .flat_map(|rep| [format!("c{rep}-tool"), format!("c{rep}-kubectl")])
        .collect();
    let sim = start(ctx, "completion", &namespaces, None)?;
    let mut tool = Series::new(Unit::Millis);
    let mut kubectl = Series::new(Unit::Millis);
    let image = "busybox:1.37";
    for rep in 0..ctx.reps {
        let started = SystemTime::now();
        let (tool_ns, kubectl_ns) = (format!("c{rep}-tool"), format!("c{rep}-kubectl"));
        let args: Vec<String> = [
            "-i",
            image,
            "-c",
            "stable",
            "-n",
            &tool_ns,
            "--timeout",
            "2m",
        ]
        .map(str::to_owned)
        .to_vec();
        let (tool_run, kubectl_run) = side_by_side(ctx, &sim, &args, &kubectl_ns, image, (0, 0))?;
        for (namespace, run, series) in [
            (&tool_ns, &tool_run, &mut tool),
            (&kubectl_ns, &kubectl_run, &mut kubectl),
        ] {
            let done = sim
                .completed_at(namespace, "web")?
                .with_context(|| format!("{namespace}/web has no completion condition"))?;
            if done < started {
                bail!("{namespace}/web: the completion condition predates the run");
            }
            series.push(millis_between(done, run.exited_at));
        }
    }
    let median = tool.median().unwrap_or(f64::INFINITY);
    let mut section = Section::new("");
    section.line(Line {
        measurement: "1. Completion detection: server's completion → exit".to_owned(),
        tool: tool.summary(),
        comparison: format!("kubectl rollout status: {}", kubectl.summary()),
        ratio: ratio(&tool, &kubectl),
        target: "median ≤ 50 ms".to_owned(),
        verdict: if median <= 50.0 {
            Verdict::Met
        } else {
            Verdict::Missed(format!("median {:.0} ms over", median - 50.0))
        },
    });
    section.say(
        "Each repetition rolls out two identical Deployments (2 replicas, `busybox:1.36` → \
         `busybox:1.37`) at the same time: one with `kubectl update -n NS`, the other with \
         `kubectl set image` then `kubectl rollout status`. The clock starts at the `lastUpdateTime` \
         the simulated controller writes into the `Progressing` condition when it marks the rollout \
         complete (`NewReplicaSetAvailable`, millisecond precision) and stops when the process \
         exits. The tool's time includes printing its report and exiting.",
    );
    section.say(&table(&[
        ("kubectl-update", &tool),
        ("kubectl rollout status", &kubectl),
    ]));
    if median > 50.0 {
        section.say(&format!(
            "**Target missed** by {:.0} ms. Both clients learn of completion from the same watch \
             event, so the excess is what the tool does between that event and exiting (and the \
             simulator's tick writing the status a little after the timestamp it records).",
            median - 50.0
        ));
    }
    Ok(section)
}

/// 2. From the first pull error of a new pod to the rollback patch.
pub fn failure(ctx: &Ctx) -> anyhow::Result<Section> {
    let fail_after_s: u32 = ctx.size(5, 1);
    let deadline_s: u32 = ctx.size(15, 3);
    let namespaces: Vec<String> = (0..ctx.reps)
        .flat_map(|rep| [format!("f{rep}-tool"), format!("f{rep}-kubectl")])
        .collect();
    let sim = start(ctx, "failure", &namespaces, Some(deadline_s))?;
    let mut to_patch = Series::new(Unit::Millis);
    let mut to_exit = Series::new(Unit::Millis);
    let mut kubectl = Series::new(Unit::Millis);
    let image = "busybox:missing-1";
    for rep in 0..ctx.reps {
        let (tool_ns, kubectl_ns) = (format!("f{rep}-tool"), format!("f{rep}-kubectl"));
        let mark = sim.tail.mark();
        let fail_after = format!("{fail_after_s}s");
        let args: Vec<String> = [
            "-i",
            image,
            "-c",
            "stable",
            "-n",
            &tool_ns,
            "--fail-after",
            &fail_after,
            "--timeout",
            "2m",
        ]
        .map(str::to_owned)
        .to_vec();
        let (tool_run, kubectl_run) = side_by_side(ctx, &sim, &args, &kubectl_ns, image, (4, 1))?;
        let patches: Vec<SystemTime> = sim
            .ci_requests_since(mark)
            .into_iter()
            .filter(|it| {
                it.method == "PATCH"
                    && it.path.starts_with(&format!(
                        "/apis/apps/v1/namespaces/{tool_ns}/deployments/web"
                    ))
            })
            .map(|it| it.ended())
            .collect();
        let [_update, rollback, ..] = patches[..] else {
            bail!(
                "{tool_ns}: expected an update and a rollback PATCH, saw {}",
                patches.len()
            );
        };
        let tool_error = sim
            .first_pull_error(&tool_ns)?
            .with_context(|| format!("{tool_ns}: no pull error event"))?;
        let kubectl_error = sim
            .first_pull_error(&kubectl_ns)?
            .with_context(|| format!("{kubectl_ns}: no pull error event"))?;
        to_patch.push(millis_between(tool_error, rollback));
        to_exit.push(millis_between(tool_error, tool_run.exited_at));
        kubectl.push(millis_between(kubectl_error, kubectl_run.exited_at));
    }
    let target_ms = f64::from(fail_after_s + 1) * 1000.0;
    let median = to_patch.median().unwrap_or(f64::INFINITY);
    let mut section = Section::new("");
    section.line(Line {
        measurement: format!(
            "2. Failure detection: first pull error → rollback patch (`--fail-after {fail_after_s}s`)"
        ),
        tool: to_patch.summary(),
        comparison: format!(
            "kubectl rollout status (progressDeadlineSeconds {deadline_s}): {}",
            kubectl.summary()
        ),
        ratio: ratio(&to_patch, &kubectl),
        target: format!("≤ --fail-after + 1 s = {:.0} ms", target_ms),
        verdict: if median <= target_ms {
            Verdict::Met
        } else {
            Verdict::Missed(format!("median {:.0} ms over", median - target_ms))
        },
    });
    section.say(&format!(
        "Each repetition sets the unpullable image `{image}` on two identical Deployments \
         (2 replicas, `progressDeadlineSeconds: {deadline_s}`) at once: the tool with \
         `--fail-after {fail_after_s}s`, and `kubectl set image` + `kubectl rollout status`, which \
         only gives up when the controller reports `ProgressDeadlineExceeded`. The clock starts at \
         the first `Failed to pull image` event of a new pod (its `firstTimestamp`, written by the \
         simulated kubelet) and stops at the tool's rollback PATCH in the access log, or when \
         kubectl exits. The default `--fail-after` is 10 s and the default progress deadline 600 s; \
         smaller values keep the run short without changing what is compared."
    ));
    section.say(&table(&[
        ("kubectl-update: pull error → rollback PATCH", &to_patch),
        ("kubectl-update: pull error → exit (rolled back)", &to_exit),
        ("kubectl rollout status: pull error → exit", &kubectl),
    ]));
    if median > target_ms {
        section.say(&format!(
            "**Target missed** by {:.0} ms: the tool counts `--fail-after` from the moment it \
             sees the stuck pod and re-checks on a 250 ms tick, then sends the rollback.",
            median - target_ms
        ));
    }
    Ok(section)
}
