//! Jobs: success and captured logs, back-off and the backoff limit, active deadlines, in-place
//! restarts, TTL after finishing, suspension and parallelism. Never tests other workload kinds.

use serde_json::{Value, json};

use crate::controllers::tests::{Sim, check, condition, job};
use crate::controllers::util::{int_at, name, time_at};

fn conditions(object: &Value) -> String {
    object["status"]["conditions"]
        .as_array()
        .map(|it| {
            it.iter()
                .map(|it| {
                    format!(
                        "{}={}/{}",
                        it["type"].as_str().unwrap_or(""),
                        it["status"].as_str().unwrap_or(""),
                        it["reason"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn job_status(sim: &Sim, job: &str) -> String {
    let object = sim.get("jobs", job);
    let count = |key: &str| {
        int_at(&object, &format!("/status/{key}"))
            .map(|it| it.to_string())
            .unwrap_or("-".into())
    };
    format!(
        "active={} ready={} succeeded={} failed={} {}",
        count("active"),
        count("ready"),
        count("succeeded"),
        count("failed"),
        conditions(&object)
    )
}

fn finished(sim: &Sim, job: &str) -> bool {
    let object = sim.get("jobs", job);
    condition(&object, "Complete") == "True/CompletionsReached"
        || condition(&object, "Failed").starts_with("True/")
}

#[test]
fn job_succeeds_and_its_logs_are_captured() {
    let mut sim = Sim::new(1.0);
    sim.create(
        "jobs",
        job(
            "migrate",
            "busybox:1",
            &["sh", "-c", "echo migrating; sleep 1; exit 0"],
            "Never",
        ),
    );
    let took = sim.run_until(10.0, |sim| finished(sim, "migrate"));
    let pod = sim.pods().pop().unwrap();
    check(
        &format!(
            "{took}s\n{}\npod {} {} logs={:?} labels={} {}",
            job_status(&sim, "migrate"),
            name(&pod).starts_with("migrate-") && name(&pod).len() == "migrate-".len() + 5,
            pod["status"]["phase"],
            sim.store.logs("default", name(&pod), "main"),
            pod["metadata"]["labels"]["job-name"],
            pod["metadata"]["ownerReferences"][0]["kind"],
        ),
        r#"
        1.65s
        active=- ready=0 succeeded=1 failed=- SuccessCriteriaMet=True/CompletionsReached Complete=True/CompletionsReached
        pod true "Succeeded" logs=["migrating"] labels="migrate" "Job"
        "#,
    );
    assert!(sim.get("jobs", "migrate")["status"]["completionTime"].is_string());
}

#[test]
fn failed_pods_are_recreated_with_back_off_until_the_limit() {
    let mut sim = Sim::new(1.0);
    let mut object = job(
        "migrate",
        "busybox:1",
        &["sh", "-c", "echo boom; exit 1"],
        "Never",
    );
    object["spec"]["backoffLimit"] = json!(2);
    sim.create("jobs", object);
    let took = sim.run_until(60.0, |sim| finished(sim, "migrate"));
    let mut created: Vec<i64> = sim
        .pods()
        .iter()
        .map(|it| time_at(it, "/metadata/creationTimestamp").unwrap())
        .collect();
    created.sort();
    let gaps: Vec<String> = created
        .windows(2)
        .map(|it| format!("{}", (it[1] - it[0]) as f64 / 1000.0))
        .collect();
    let job = sim.get("jobs", "migrate");
    let failed = job["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["type"] == "Failed")
        .unwrap()
        .clone();
    check(
        &format!(
            "{took}s gaps={}\n{}\n{}",
            gaps.join(","),
            job_status(&sim, "migrate"),
            failed["message"]
        ),
        r#"
        31.75s gaps=10.55,20.55
        active=- ready=0 succeeded=- failed=3 FailureTarget=True/BackoffLimitExceeded Failed=True/BackoffLimitExceeded
        "Job has reached the specified backoff limit"
        "#,
    );
    let warnings: Vec<String> = sim
        .list("events")
        .iter()
        .filter(|it| it["type"] == "Warning")
        .map(|it| format!("{} {}", it["reason"], it["message"]))
        .collect();
    check(
        &warnings.join("\n"),
        r#""BackoffLimitExceeded" "Job has reached the specified backoff limit""#,
    );
}

#[test]
fn active_deadline_fails_the_job_and_removes_its_pods() {
    let mut sim = Sim::new(1.0);
    let mut object = job("slow", "busybox:1", &["sleep", "100"], "Never");
    object["spec"]["activeDeadlineSeconds"] = json!(2);
    sim.create("jobs", object);
    let took = sim.run_until(10.0, |sim| finished(sim, "slow"));
    check(
        &format!("{took}s pods={}\n{}", sim.pods().len(), job_status(&sim, "slow")),
        "
        2.1s pods=0
        active=- ready=0 succeeded=- failed=- FailureTarget=True/DeadlineExceeded Failed=True/DeadlineExceeded
        ",
    );
}

#[test]
fn on_failure_restarts_in_place_and_counts_restarts_against_the_limit() {
    let mut sim = Sim::new(1.0);
    let mut object = job("flaky", "app:crash-1", &[], "OnFailure");
    object["spec"]["backoffLimit"] = json!(2);
    sim.create("jobs", object);
    let took = sim.run_until(60.0, |sim| finished(sim, "flaky"));
    check(&format!("{took}s pods={}\n{}", sim.pods().len(), job_status(&sim, "flaky")), "
        11.65s pods=0
        active=- ready=0 succeeded=- failed=- FailureTarget=True/BackoffLimitExceeded Failed=True/BackoffLimitExceeded
    ");
}

#[test]
fn finished_jobs_expire_after_their_ttl() {
    let mut sim = Sim::new(1.0);
    let mut object = job("once", "busybox:1", &["true"], "Never");
    object["spec"]["ttlSecondsAfterFinished"] = json!(2);
    sim.create("jobs", object);
    sim.run_until(10.0, |sim| finished(sim, "once"));
    let took = sim.run_until(10.0, |sim| sim.get("jobs", "once").is_null());
    check(&format!("{took}s pods={}", sim.pods().len()), "2s pods=0");
}

#[test]
fn suspended_jobs_run_no_pods_until_resumed() {
    let mut sim = Sim::new(1.0);
    let mut object = job("later", "busybox:1", &["true"], "Never");
    object["spec"]["suspend"] = json!(true);
    sim.create("jobs", object);
    sim.run_for(1.0);
    check(
        &format!("pods={} {}", sim.pods().len(), job_status(&sim, "later")),
        "pods=0 active=- ready=0 succeeded=- failed=- Suspended=True/JobSuspended",
    );
    sim.edit("jobs", "later", |it| it["spec"]["suspend"] = json!(false));
    sim.run_until(10.0, |sim| finished(sim, "later"));
    check(
        &job_status(&sim, "later"),
        "active=- ready=0 succeeded=1 failed=- Suspended=False/JobResumed SuccessCriteriaMet=True/CompletionsReached Complete=True/CompletionsReached",
    );
}

#[test]
fn parallel_jobs_run_up_to_parallelism_until_completions() {
    let mut sim = Sim::new(1.0);
    let mut object = job("batch", "busybox:1", &["sh", "-c", "sleep 1"], "Never");
    object["spec"]["completions"] = json!(5);
    object["spec"]["parallelism"] = json!(2);
    sim.create("jobs", object);
    let took = sim.run_until(30.0, |sim| finished(sim, "batch"));
    check(&format!("{took}s pods={}\n{}", sim.pods().len(), job_status(&sim, "batch")), "
        4.75s pods=5
        active=- ready=0 succeeded=5 failed=- SuccessCriteriaMet=True/CompletionsReached Complete=True/CompletionsReached
    ");
}
