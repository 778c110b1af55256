//! Unit tests of the simulated control plane: a `MemoryStore`, a stepping clock and
//! `reconcile_all`, with expectations rendered as short strings. Never starts the API server.

mod arithmetic;
mod deployment;
mod jobs;
mod kubelet;
mod sets;

use serde_json::{Value, json};

use crate::controllers::memory::MemoryStore;
use crate::controllers::store::Store;
use crate::controllers::util::{millis, name, str_at};
use crate::controllers::{SimContext, reconcile_all};

/// A simulated cluster with a clock that only moves when told to.
pub struct Sim {
    pub store: MemoryStore,
    pub now: i64,
    pub start: i64,
    pub time_scale: f64,
    pub nodes: Vec<String>,
    /// Real milliseconds between ticks.
    pub step: i64,
}

impl Sim {
    pub fn new(time_scale: f64) -> Sim {
        let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid timestamp");
        Sim {
            store: MemoryStore::new(start),
            now: millis(start),
            start: millis(start),
            time_scale,
            nodes: vec!["node-1".into(), "node-2".into(), "node-3".into()],
            step: 50,
        }
    }

    pub fn ctx(&self) -> SimContext {
        SimContext {
            now: jiff::Timestamp::from_millisecond(self.now).expect("valid time"),
            time_scale: self.time_scale,
            nodes: self.nodes.clone(),
        }
    }

    /// Seconds since the simulation started.
    pub fn elapsed(&self) -> f64 {
        (self.now - self.start) as f64 / 1000.0
    }

    pub fn tick(&mut self) {
        self.now += self.step;
        self.store.now = jiff::Timestamp::from_millisecond(self.now).expect("valid time");
        let ctx = self.ctx();
        reconcile_all(&mut self.store, &ctx);
    }

    /// Ticks for `seconds` of real time.
    pub fn run_for(&mut self, seconds: f64) {
        let end = self.now + (seconds * 1000.0) as i64;
        while self.now < end {
            self.tick();
        }
    }

    /// Ticks until `done` holds (checked after every tick), at most `seconds`; returns the seconds
    /// it took or panics.
    #[track_caller]
    pub fn run_until(&mut self, seconds: f64, done: impl Fn(&Sim) -> bool) -> f64 {
        let begin = self.now;
        let end = self.now + (seconds * 1000.0) as i64;
        while self.now < end {
            self.tick();
            if done(self) {
                return (self.now - begin) as f64 / 1000.0;
            }
        }
        panic!(
            "condition not reached within {seconds}s; state:\n{}",
            self.dump()
        );
    }

    pub fn create(&mut self, resource: &str, object: Value) -> Value {
        self.store.create(resource, object).expect("create")
    }

    pub fn get(&self, resource: &str, name: &str) -> Value {
        self.store
            .get(resource, "default", name)
            .unwrap_or(Value::Null)
    }

    /// Read-modify-write of an object's metadata/spec.
    pub fn edit(&mut self, resource: &str, name: &str, change: impl FnOnce(&mut Value)) {
        let mut object = self.get(resource, name);
        change(&mut object);
        self.store.update(resource, object).expect("update");
    }

    pub fn list(&self, resource: &str) -> Vec<Value> {
        self.store.list(resource)
    }

    pub fn pods(&self) -> Vec<Value> {
        self.list("pods")
    }

    pub fn dump(&self) -> String {
        let mut res = String::new();
        for resource in [
            "deployments",
            "replicasets",
            "jobs",
            "statefulsets",
            "daemonsets",
            "pods",
        ] {
            for object in self.list(resource) {
                res.push_str(&format!(
                    "{resource}/{}: {}\n",
                    name(&object),
                    object["status"]
                ));
            }
        }
        res
    }
}

/// Compares rendered output with an expectation (leading/trailing whitespace ignored per line).
#[track_caller]
pub fn check(actual: &str, expect: &str) {
    let norm = |text: &str| {
        text.trim()
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (actual, expect) = (norm(actual), norm(expect));
    assert!(
        actual == expect,
        "\n--- expected ---\n{expect}\n--- actual ---\n{actual}\n"
    );
}

/// A condition's `status/reason`, or `-`.
pub fn condition(object: &Value, kind: &str) -> String {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|it| it.iter().find(|it| str_at(it, "/type") == Some(kind)))
        .map(|it| {
            format!(
                "{}/{}",
                str_at(it, "/status").unwrap_or(""),
                str_at(it, "/reason").unwrap_or("")
            )
        })
        .unwrap_or_else(|| "-".into())
}

pub fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}], "restartPolicy": "Always"},
            },
        },
    })
}

pub fn job(name: &str, image: &str, command: &[&str], restart_policy: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 6,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "main", "image": image, "command": command}],
                    "restartPolicy": restart_policy,
                },
            },
        },
    })
}
