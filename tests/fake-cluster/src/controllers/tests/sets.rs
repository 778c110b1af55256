//! StatefulSets (ordered creation, updates from the highest ordinal, OnDelete) and DaemonSets (one
//! pod per node, one-at-a-time updates). Never tests Jobs or Deployments.

use serde_json::{Value, json};

use crate::controllers::store::Store;
use crate::controllers::tests::{Sim, check};
use crate::controllers::util::{int_at, name, pod_ready, str_at};

fn statefulset(name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "podManagementPolicy": "OrderedReady",
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "db", "image": image}]}},
        },
    })
}

/// `name:image:ready` of every pod.
fn pod_images(sim: &Sim) -> String {
    sim.pods()
        .iter()
        .map(|it| {
            format!(
                "{}:{}{}",
                name(it),
                str_at(it, "/spec/containers/0/image").unwrap_or(""),
                if pod_ready(it) { "" } else { "*" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Distinct pod snapshots until `done`.
fn snapshots_until(sim: &mut Sim, limit: f64, done: impl Fn(&Sim) -> bool) -> String {
    let mut seen: Vec<String> = Vec::new();
    let end = sim.elapsed() + limit;
    while sim.elapsed() < end {
        sim.tick();
        let text = pod_images(sim);
        if seen.last() != Some(&text) {
            seen.push(text);
        }
        if done(sim) {
            return seen.join("\n");
        }
    }
    panic!("not done: {}\n{}", seen.join("\n"), sim.dump());
}

fn sts_status(sim: &Sim) -> String {
    let sts = sim.get("statefulsets", "db");
    let count = |key: &str| int_at(&sts, &format!("/status/{key}")).unwrap_or(0);
    format!(
        "replicas={} ready={} current={} updated={} revisions-equal={}",
        count("replicas"),
        count("readyReplicas"),
        count("currentReplicas"),
        count("updatedReplicas"),
        sts["status"]["currentRevision"] == sts["status"]["updateRevision"],
    )
}

#[test]
fn statefulset_creates_in_order_and_updates_from_the_highest_ordinal() {
    let mut sim = Sim::new(1.0);
    sim.create("statefulsets", statefulset("db", 3, "pg:1"));
    let ready =
        |sim: &Sim| int_at(&sim.get("statefulsets", "db"), "/status/readyReplicas") == Some(3);
    let created = snapshots_until(&mut sim, 10.0, ready);
    check(
        &created,
        "
        db-0:pg:1*
        db-0:pg:1 db-1:pg:1*
        db-0:pg:1 db-1:pg:1 db-2:pg:1*
        db-0:pg:1 db-1:pg:1 db-2:pg:1
        ",
    );
    sim.run_for(0.2);
    check(
        &sts_status(&sim),
        "replicas=3 ready=3 current=3 updated=3 revisions-equal=true",
    );
    let pod = sim.get("pods", "db-1");
    let revision = sim.get("statefulsets", "db")["status"]["updateRevision"].clone();
    check(
        &format!(
            "{} {}",
            pod["metadata"]["labels"]["controller-revision-hash"] == revision,
            sim.list("controllerrevisions").len()
        ),
        "true 1",
    );

    sim.edit("statefulsets", "db", |it| {
        it["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(1);
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("pg:2");
    });
    let updated = |sim: &Sim| {
        int_at(&sim.get("statefulsets", "db"), "/status/updatedReplicas") == Some(2)
            && int_at(&sim.get("statefulsets", "db"), "/status/readyReplicas") == Some(3)
    };
    let partitioned = snapshots_until(&mut sim, 10.0, updated);
    check(
        &partitioned,
        "
        db-0:pg:1 db-1:pg:1
        db-0:pg:1 db-1:pg:1 db-2:pg:2*
        db-0:pg:1 db-2:pg:2
        db-0:pg:1 db-1:pg:2* db-2:pg:2
        db-0:pg:1 db-1:pg:2 db-2:pg:2
        ",
    );
    sim.run_for(1.0);
    check(
        &format!("{}\n{}", pod_images(&sim), sts_status(&sim)),
        "
        db-0:pg:1 db-1:pg:2 db-2:pg:2
        replicas=3 ready=3 current=1 updated=2 revisions-equal=false
    ",
    );
    sim.edit("statefulsets", "db", |it| {
        it["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(0)
    });
    sim.run_for(2.0);
    check(
        &format!("{}\n{}", pod_images(&sim), sts_status(&sim)),
        "
        db-0:pg:2 db-1:pg:2 db-2:pg:2
        replicas=3 ready=3 current=3 updated=3 revisions-equal=true
    ",
    );
}

#[test]
fn statefulset_on_delete_waits_for_manual_deletion() {
    let mut sim = Sim::new(1.0);
    let mut object = statefulset("db", 2, "pg:1");
    object["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
    sim.create("statefulsets", object);
    sim.run_for(3.0);
    sim.edit("statefulsets", "db", |it| {
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("pg:2")
    });
    sim.run_for(2.0);
    check(&pod_images(&sim), "db-0:pg:1 db-1:pg:1");
    Store::delete(&mut sim.store, "pods", "default", "db-0").unwrap();
    sim.run_for(2.0);
    check(
        &format!("{}\n{}", pod_images(&sim), sts_status(&sim)),
        "
        db-0:pg:2 db-1:pg:1
        replicas=2 ready=2 current=1 updated=1 revisions-equal=false
    ",
    );
}

fn daemonset(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "agent", "image": image}]}},
        },
    })
}

fn ds_status(sim: &Sim) -> String {
    let ds = sim.get("daemonsets", "agent");
    let count = |key: &str| int_at(&ds, &format!("/status/{key}")).unwrap_or(-1);
    format!(
        "desired={} current={} updated={} ready={} available={} unavailable={}",
        count("desiredNumberScheduled"),
        count("currentNumberScheduled"),
        count("updatedNumberScheduled"),
        count("numberReady"),
        count("numberAvailable"),
        count("numberUnavailable"),
    )
}

#[test]
fn daemonset_runs_one_pod_per_node_and_updates_one_at_a_time() {
    let mut sim = Sim::new(1.0);
    sim.create("daemonsets", daemonset("agent:1"));
    sim.run_for(2.0);
    let mut nodes: Vec<String> = sim
        .pods()
        .iter()
        .map(|it| str_at(it, "/spec/nodeName").unwrap_or("").to_owned())
        .collect();
    nodes.sort();
    check(
        &format!("{}\n{}", nodes.join(" "), ds_status(&sim)),
        "
        node-1 node-2 node-3
        desired=3 current=3 updated=3 ready=3 available=3 unavailable=0
    ",
    );
    sim.edit("daemonsets", "agent", |it| {
        it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2")
    });
    let mut worst = 0;
    while sim.elapsed() < 10.0 {
        sim.tick();
        let available = sim.pods().iter().filter(|it| pod_ready(it)).count();
        worst = worst.max(3 - available.min(3));
    }
    check(
        &format!(
            "worst unavailable={worst}\n{}\n{}",
            pod_images(&sim)
                .split(' ')
                .map(|it| it.split(':').skip(1).collect::<Vec<_>>().join(":"))
                .collect::<Vec<_>>()
                .join(" "),
            ds_status(&sim)
        ),
        "
        worst unavailable=1
        agent:2 agent:2 agent:2
        desired=3 current=3 updated=3 ready=3 available=3 unavailable=0
        ",
    );
}
