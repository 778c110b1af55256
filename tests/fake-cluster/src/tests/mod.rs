//! Server-level tests: the simulator driven by kube-rs and by the real kubectl (skipped with a
//! note when `kubectl` is not installed).
//!
//! This module holds the shared fixtures; the tests live in one file per area. Nothing here is
//! compiled outside `cargo test`.

mod faults;
mod kube_rs;
mod kubectl;
mod paging;

use serde_json::{Value, json};

use crate::Options;

pub(super) fn quiet() -> Options {
    Options {
        controllers: false,
        ..Options::default()
    }
}

pub(super) fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}
    })
}
