//! Deployments: rollouts over simulated time, rollback by template, progress deadlines, scaling
//! during a rollout, pausing, Recreate and history cleanup.
//!
//! This module holds the rollout helpers and the tests of rollouts that succeed; `failures` holds
//! the ones that get stuck or fail. Nothing here runs outside `cargo test`.

mod failures;

use serde_json::{Value, json};

use crate::controllers::tests::{Sim, check, condition, deployment};
use crate::controllers::util::{annotation, int_at, name, str_at, time_at};

fn image_of(rs: &Value) -> &str {
    str_at(rs, "/spec/template/spec/containers/0/image").unwrap_or("")
}

/// `image:spec/ready rev=N` for every ReplicaSet, oldest revision first.
fn replicasets(sim: &Sim) -> String {
    let mut all = sim.list("replicasets");
    all.sort_by_key(|it| {
        annotation(it, "deployment.kubernetes.io/revision")
            .unwrap_or("0")
            .parse::<i64>()
            .unwrap_or(0)
    });
    all.iter()
        .map(|rs| {
            let mut text = format!(
                "{}:{}/{} rev={}",
                image_of(rs),
                int_at(rs, "/spec/replicas").unwrap_or(0),
                int_at(rs, "/status/readyReplicas").unwrap_or(0),
                annotation(rs, "deployment.kubernetes.io/revision").unwrap_or("-"),
            );
            if let Some(history) = annotation(rs, "deployment.kubernetes.io/revision-history") {
                text.push_str(&format!(" history={history}"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rollout as `kubectl rollout status` would judge it.
fn rollout(sim: &Sim, deployment: &str) -> String {
    let object = sim.get("deployments", deployment);
    let count = |key: &str| int_at(&object, &format!("/status/{key}")).unwrap_or(0);
    format!(
        "gen={} observed={} rev={} replicas={} updated={} ready={} available={} unavailable={} {} {}",
        int_at(&object, "/metadata/generation").unwrap_or(0),
        count("observedGeneration"),
        annotation(&object, "deployment.kubernetes.io/revision").unwrap_or("-"),
        count("replicas"),
        count("updatedReplicas"),
        count("readyReplicas"),
        count("availableReplicas"),
        count("unavailableReplicas"),
        condition(&object, "Available"),
        condition(&object, "Progressing"),
    )
}

fn complete(sim: &Sim, deployment: &str) -> bool {
    let object = sim.get("deployments", deployment);
    condition(&object, "Progressing") == "True/NewReplicaSetAvailable"
        && int_at(&object, "/status/observedGeneration") == int_at(&object, "/metadata/generation")
        && int_at(&object, "/status/updatedReplicas") == int_at(&object, "/spec/replicas")
        && int_at(&object, "/status/replicas") == int_at(&object, "/spec/replicas")
}

fn set_image(sim: &mut Sim, deployment: &str, image: &str) {
    sim.edit("deployments", deployment, |it| {
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image)
    });
}

/// Distinct `old/new` ReplicaSet sizes seen at each tick until the rollout completes.
fn sizes_until_complete(sim: &mut Sim, deployment: &str, old_image: &str, limit: f64) -> String {
    let mut seen: Vec<String> = Vec::new();
    let end = sim.elapsed() + limit;
    while sim.elapsed() < end {
        sim.tick();
        let all = sim.list("replicasets");
        let size = |image: &str| {
            all.iter()
                .filter(|it| image_of(it) == image)
                .map(|it| int_at(it, "/spec/replicas").unwrap_or(0))
                .sum::<i64>()
        };
        let new_image = str_at(
            &sim.get("deployments", deployment),
            "/spec/template/spec/containers/0/image",
        )
        .unwrap_or("")
        .to_owned();
        let text = format!("{}/{}", size(old_image), size(&new_image));
        if seen.last() != Some(&text) {
            seen.push(text);
        }
        if complete(sim, deployment) {
            return seen.join(" ");
        }
    }
    panic!(
        "rollout did not complete: {}\n{}",
        seen.join(" "),
        sim.dump()
    );
}

#[test]
fn rollout_creates_one_replicaset_per_template_and_completes() {
    let mut sim = Sim::new(1.0);
    sim.create("deployments", deployment("web", 3, "nginx:1"));
    let took = sim.run_until(10.0, |sim| complete(sim, "web"));
    check(
        &format!("{took}s\n{}\n{}", rollout(&sim, "web"), replicasets(&sim)),
        "
        0.75s
        gen=1 observed=1 rev=1 replicas=3 updated=3 ready=3 available=3 unavailable=0 True/MinimumReplicasAvailable True/NewReplicaSetAvailable
        nginx:1:3/3 rev=1
        ",
    );
    let rs = &sim.list("replicasets")[0];
    let hash = str_at(rs, "/metadata/labels/pod-template-hash").unwrap();
    check(
        &format!(
            "{} {} {} {} desired={} max={} owner={}",
            name(rs) == format!("web-{hash}"),
            str_at(rs, "/spec/selector/matchLabels/pod-template-hash") == Some(hash),
            str_at(rs, "/spec/template/metadata/labels/pod-template-hash") == Some(hash),
            sim.pods()
                .iter()
                .all(|it| name(it).starts_with(&format!("web-{hash}-"))
                    && name(it).len() == format!("web-{hash}-").len() + 5),
            annotation(rs, "deployment.kubernetes.io/desired-replicas").unwrap(),
            annotation(rs, "deployment.kubernetes.io/max-replicas").unwrap(),
            rs["metadata"]["ownerReferences"][0]["kind"],
        ),
        r#"true true true true desired=3 max=4 owner="Deployment""#,
    );
    let progressing = sim.get("deployments", "web")["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["type"] == "Progressing")
        .unwrap()["message"]
        .clone();
    check(
        &progressing.to_string(),
        &format!(
            "\"ReplicaSet \\\"{}\\\" has successfully progressed.\"",
            name(rs)
        ),
    );

    sim.edit("deployments", "web", |it| {
        it["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!("image 2");
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    });
    check(
        &rollout(&sim, "web"),
        "gen=2 observed=1 rev=1 replicas=3 updated=3 ready=3 available=3 unavailable=0 True/MinimumReplicasAvailable True/NewReplicaSetAvailable",
    );
    let sizes = sizes_until_complete(&mut sim, "web", "nginx:1", 20.0);
    check(&sizes, "3/1 2/1 2/2 1/2 1/3 0/3");
    check(&replicasets(&sim), "nginx:1:0/0 rev=1, nginx:2:3/3 rev=2");
    let new_rs = sim
        .list("replicasets")
        .into_iter()
        .find(|it| image_of(it) == "nginx:2")
        .unwrap();
    check(
        annotation(&new_rs, "kubernetes.io/change-cause").unwrap_or("-"),
        "image 2",
    );
    let mut events = sim.list("events");
    events.sort_by_key(|it| time_at(it, "/firstTimestamp"));
    let events: Vec<String> = events
        .iter()
        .filter(|it| it["reason"] == "ScalingReplicaSet")
        .map(|it| {
            it["message"]
                .as_str()
                .unwrap()
                .replace(name(&new_rs), "NEW")
                .replace(name(rs), "OLD")
        })
        .collect();
    check(
        &events.join("\n"),
        "
        Scaled up replica set OLD to 3 from 0
        Scaled up replica set NEW to 1 from 0
        Scaled down replica set OLD to 2 from 3
        Scaled up replica set NEW to 2 from 1
        Scaled down replica set OLD to 1 from 2
        Scaled up replica set NEW to 3 from 2
        Scaled down replica set OLD to 0 from 1
        ",
    );
}

#[test]
fn max_unavailable_rollout_scales_old_down_first() {
    let mut sim = Sim::new(1.0);
    let mut object = deployment("api", 3, "app:1");
    object["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": 0, "maxUnavailable": 1});
    sim.create("deployments", object);
    sim.run_until(10.0, |sim| complete(sim, "api"));
    set_image(&mut sim, "api", "app:2");
    check(
        &sizes_until_complete(&mut sim, "api", "app:1", 20.0),
        "2/0 2/1 1/1 1/2 0/2 0/3",
    );
}

#[test]
fn rollback_reuses_the_old_replicaset_and_moves_its_revision() {
    let mut sim = Sim::new(1.0);
    sim.create("deployments", deployment("web", 2, "nginx:1"));
    sim.run_until(10.0, |sim| complete(sim, "web"));
    set_image(&mut sim, "web", "nginx:2");
    sim.run_until(10.0, |sim| complete(sim, "web"));
    // What `kubectl rollout undo` sends: the old template without pod-template-hash, with the
    // `creationTimestamp: null` and `resources: {}` noise of a typed round trip.
    sim.edit("deployments", "web", |it| {
        it["spec"]["template"] = json!({
            "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1", "resources": {}}], "restartPolicy": "Always"},
        });
    });
    sim.run_until(10.0, |sim| complete(sim, "web"));
    check(
        &format!("{}\n{}", replicasets(&sim), rollout(&sim, "web")),
        "
        nginx:2:0/0 rev=2, nginx:1:2/2 rev=3 history=1
        gen=3 observed=3 rev=3 replicas=2 updated=2 ready=2 available=2 unavailable=0 True/MinimumReplicasAvailable True/NewReplicaSetAvailable
        ",
    );
    set_image(&mut sim, "web", "nginx:2");
    sim.run_until(10.0, |sim| complete(sim, "web"));
    check(
        &replicasets(&sim),
        "nginx:1:0/0 rev=3 history=1, nginx:2:2/2 rev=4 history=2",
    );
}

#[test]
fn scaling_during_a_rollout_is_proportional_and_not_a_new_rollout() {
    let mut sim = Sim::new(1.0);
    sim.create("deployments", deployment("web", 10, "nginx:1"));
    sim.run_until(10.0, |sim| complete(sim, "web"));
    set_image(&mut sim, "web", "nginx:missing-2");
    sim.run_for(3.0);
    check(
        &replicasets(&sim),
        "nginx:1:8/8 rev=1, nginx:missing-2:5/0 rev=2",
    );
    sim.edit("deployments", "web", |it| {
        it["spec"]["replicas"] = json!(20)
    });
    sim.run_for(3.0);
    check(
        &format!("{}\n{}", replicasets(&sim), rollout(&sim, "web")),
        "
        nginx:1:15/15 rev=1, nginx:missing-2:10/0 rev=2
        gen=3 observed=3 rev=2 replicas=25 updated=10 ready=15 available=15 unavailable=10 True/MinimumReplicasAvailable True/ReplicaSetUpdated
        ",
    );
    sim.edit("deployments", "web", |it| it["spec"]["replicas"] = json!(4));
    sim.run_for(3.0);
    check(
        &replicasets(&sim),
        "nginx:1:3/3 rev=1, nginx:missing-2:2/0 rev=2",
    );
}

#[test]
fn paused_deployment_does_not_roll_out() {
    let mut sim = Sim::new(1.0);
    sim.create("deployments", deployment("web", 2, "nginx:1"));
    sim.run_until(10.0, |sim| complete(sim, "web"));
    sim.edit("deployments", "web", |it| {
        it["spec"]["paused"] = json!(true);
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    });
    sim.run_for(2.0);
    check(
        &format!("{}\n{}", replicasets(&sim), rollout(&sim, "web")),
        "
        nginx:1:2/2 rev=1
        gen=2 observed=2 rev=1 replicas=2 updated=0 ready=2 available=2 unavailable=0 True/MinimumReplicasAvailable Unknown/DeploymentPaused
        ",
    );
    sim.edit("deployments", "web", |it| {
        it["spec"]["paused"] = json!(false)
    });
    sim.run_until(10.0, |sim| complete(sim, "web"));
    check(&replicasets(&sim), "nginx:1:0/0 rev=1, nginx:2:2/2 rev=2");
}

#[test]
fn recreate_stops_old_pods_before_starting_new_ones() {
    let mut sim = Sim::new(1.0);
    let mut object = deployment("db", 2, "postgres:16");
    object["spec"]["strategy"] = json!({"type": "Recreate"});
    sim.create("deployments", object);
    sim.run_until(10.0, |sim| complete(sim, "db"));
    set_image(&mut sim, "db", "postgres:17");
    check(
        &sizes_until_complete(&mut sim, "db", "postgres:16", 20.0),
        "0/0 0/2",
    );
}

#[test]
fn history_is_limited_to_revision_history_limit() {
    let mut sim = Sim::new(1.0);
    let mut object = deployment("web", 1, "nginx:1");
    object["spec"]["revisionHistoryLimit"] = json!(2);
    sim.create("deployments", object);
    for version in 1..=5 {
        set_image(&mut sim, "web", &format!("nginx:{version}"));
        sim.run_until(10.0, |sim| complete(sim, "web"));
    }
    sim.run_for(0.5);
    check(
        &replicasets(&sim),
        "nginx:3:0/0 rev=3, nginx:4:0/0 rev=4, nginx:5:1/1 rev=5",
    );
}
