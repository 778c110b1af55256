//! Deployments that do not complete: unpullable images past the progress deadline, crash-looping
//! pods, and refused pod creations reported as ReplicaFailure. Never tests successful rollouts.

use serde_json::{Value, json};

use crate::controllers::memory::MemoryStore;
use crate::controllers::tests::{Sim, check, condition, deployment};
use crate::controllers::util::{int_at, name, str_at};
use crate::controllers::{Logs, SimContext, Store, StoreError, reconcile_all};

use super::*;

#[test]
fn unpullable_image_exceeds_the_progress_deadline() {
    let mut sim = Sim::new(1.0);
    let mut object = deployment("web", 3, "nginx:1");
    object["spec"]["progressDeadlineSeconds"] = json!(10);
    sim.create("deployments", object);
    sim.run_until(10.0, |sim| complete(sim, "web"));
    set_image(&mut sim, "web", "nginx:missing-2");
    let mut reasons: Vec<String> = Vec::new();
    let begin = sim.elapsed();
    let mut pull_error_at = None;
    while sim.elapsed() - begin < 15.0 {
        sim.tick();
        let reason = condition(&sim.get("deployments", "web"), "Progressing");
        if reasons.last().is_none_or(|it| !it.starts_with(&reason)) {
            reasons.push(format!("{reason} at {:.2}", sim.elapsed() - begin));
        }
        let pulling = sim.pods().iter().any(|it| {
            it["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
        });
        if pulling && pull_error_at.is_none() {
            pull_error_at = Some(format!("{:.2}", sim.elapsed() - begin));
        }
    }
    check(
        &format!("pull error at {}\n{}\n{}", pull_error_at.unwrap_or_default(), reasons.join("\n"), rollout(&sim, "web")),
        "
        pull error at 0.65
        True/NewReplicaSetCreated at 0.05
        True/ReplicaSetUpdated at 0.15
        False/ProgressDeadlineExceeded at 10.20
        gen=2 observed=2 rev=2 replicas=4 updated=1 ready=3 available=3 unavailable=1 True/MinimumReplicasAvailable False/ProgressDeadlineExceeded
        ",
    );
    let deployment = sim.get("deployments", "web");
    let progressing = deployment["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["type"] == "Progressing")
        .unwrap()
        .clone();
    let new_rs = sim
        .list("replicasets")
        .into_iter()
        .find(|it| image_of(it) == "nginx:missing-2")
        .unwrap();
    check(
        progressing["message"].as_str().unwrap(),
        &format!(
            "ReplicaSet \"{}\" has timed out progressing.",
            name(&new_rs)
        ),
    );
    // A fixed image is a new rollout: the deadline clock restarts and the rollout completes.
    set_image(&mut sim, "web", "nginx:3");
    sim.run_until(10.0, |sim| complete(sim, "web"));
    check(
        &replicasets(&sim),
        "nginx:1:0/0 rev=1, nginx:missing-2:0/0 rev=2, nginx:3:3/3 rev=3",
    );
}

#[test]
fn crash_looping_pods_keep_the_rollout_waiting() {
    let mut sim = Sim::new(0.1);
    sim.create("deployments", deployment("web", 2, "nginx:1"));
    sim.run_until(10.0, |sim| complete(sim, "web"));
    set_image(&mut sim, "web", "nginx:crash-2");
    sim.run_for(10.0);
    check(
        &format!("{}\n{}", replicasets(&sim), rollout(&sim, "web")),
        "
        nginx:1:2/2 rev=1, nginx:crash-2:1/0 rev=2
        gen=2 observed=2 rev=2 replicas=3 updated=1 ready=2 available=2 unavailable=1 True/MinimumReplicasAvailable True/ReplicaSetUpdated
        ",
    );
    let restarts = int_at(
        &sim.pods()
            .into_iter()
            .find(|it| image_of_pod(it) == "nginx:crash-2")
            .unwrap(),
        "/status/containerStatuses/0/restartCount",
    );
    check(&format!("{restarts:?}"), "Some(4)");
}

fn image_of_pod(pod: &Value) -> &str {
    str_at(pod, "/spec/containers/0/image").unwrap_or("")
}

/// A store whose pod creations are refused while `refuse_pods` is set.
struct Refusing {
    inner: MemoryStore,
    refuse_pods: bool,
}

impl Store for Refusing {
    fn list(&self, resource: &str) -> Vec<Value> {
        self.inner.list(resource)
    }
    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.inner.get(resource, namespace, name)
    }
    fn create(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        if resource == "pods" && self.refuse_pods {
            let message =
                "exceeded quota: pods, requested: pods=1, used: pods=0, limited: pods=0".to_owned();
            return Err(StoreError::Invalid {
                resource: resource.to_owned(),
                message,
            });
        }
        self.inner.create(resource, object)
    }
    fn update(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        self.inner.update(resource, object)
    }
    fn update_status(&mut self, resource: &str, object: Value) -> Result<Value, StoreError> {
        self.inner.update_status(resource, object)
    }
    fn delete(&mut self, resource: &str, namespace: &str, name: &str) -> Result<(), StoreError> {
        self.inner.delete(resource, namespace, name)
    }
}

impl Logs for Refusing {
    fn append_log(&mut self, namespace: &str, pod: &str, container: &str, line: &str) {
        self.inner.append_log(namespace, pod, container, line);
    }
}

#[test]
fn refused_pod_creation_shows_as_replica_failure() {
    let sim = Sim::new(1.0);
    let ctx = |at: i64| SimContext {
        now: jiff::Timestamp::from_millisecond(sim.start + at * 50).unwrap(),
        time_scale: 1.0,
        nodes: sim.nodes.clone(),
    };
    let mut store = Refusing {
        inner: sim.store.clone(),
        refuse_pods: true,
    };
    Store::create(&mut store, "deployments", deployment("web", 2, "nginx:1")).unwrap();
    for at in 1..10 {
        reconcile_all(&mut store, &ctx(at));
    }
    let get = |store: &Refusing| Store::get(store, "deployments", "default", "web").unwrap();
    let failure = get(&store)["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["type"] == "ReplicaFailure")
        .cloned();
    check(
        &format!(
            "{} {}",
            condition(&get(&store), "ReplicaFailure"),
            failure.map(|it| it["message"].clone()).unwrap_or_default()
        ),
        r#"True/FailedCreate "Error creating: invalid pods: exceeded quota: pods, requested: pods=1, used: pods=0, limited: pods=0""#,
    );
    store.refuse_pods = false;
    for at in 10..40 {
        reconcile_all(&mut store, &ctx(at));
    }
    check(
        &format!(
            "{} {}",
            condition(&get(&store), "ReplicaFailure"),
            condition(&get(&store), "Available")
        ),
        "- True/MinimumReplicasAvailable",
    );
}
