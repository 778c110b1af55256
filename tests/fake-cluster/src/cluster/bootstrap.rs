//! What a fresh cluster has before any request: the four standard namespaces, the bootstrap RBAC
//! roles and bindings, and Ready nodes. Never runs after start.

use anyhow::Context;
use serde_json::{Value, json};

use crate::storage::{Storage, WriteMode};
use crate::{rbac, resources, storage};

/// The name every simulated node gets.
pub fn node_name(i: usize) -> String {
    format!("node-{i}")
}

fn node(i: usize) -> (Value, Value) {
    let name = node_name(i);
    let now = storage::now_rfc3339();
    let object = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/worker": "",
        }},
        "spec": {"podCIDR": format!("10.244.{i}.0/24"), "podCIDRs": [format!("10.244.{i}.0/24")]},
    });
    let status = json!({
        "capacity": {"cpu": "4", "memory": "16374624Ki", "pods": "110", "ephemeral-storage": "102626232Ki"},
        "allocatable": {"cpu": "4", "memory": "16272224Ki", "pods": "110", "ephemeral-storage": "94580335255"},
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
        ],
        "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + i)}, {"type": "Hostname", "address": name}],
        "nodeInfo": {"kubeletVersion": "v1.32.4", "kubeProxyVersion": "v1.32.4", "containerRuntimeVersion": "containerd://1.7.24",
            "operatingSystem": "linux", "architecture": "amd64", "osImage": "Fake Linux", "kernelVersion": "6.1.0",
            "machineID": "", "systemUUID": "", "bootID": ""},
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    });
    (object, status)
}

/// Fills a fresh storage with what every cluster has.
pub(super) fn bootstrap(storage: &mut Storage, nodes: usize) -> anyhow::Result<()> {
    let def = |p: &str| resources::by_plural(p).with_context(|| format!("resource {p}"));
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        storage.create(
            def("namespaces")?,
            "",
            json!({"metadata": {"name": ns}}),
            false,
        )?;
    }
    for (res, obj) in rbac::bootstrap_objects() {
        storage.create(def(res)?, "", obj, false)?;
    }
    for i in 1..=nodes {
        let (object, status) = node(i);
        let created = storage.create(def("nodes")?, "", object, false)?;
        let mut with_status = created;
        with_status["status"] = status;
        storage.update(
            def("nodes")?,
            "",
            &node_name(i),
            with_status,
            WriteMode::Status,
            false,
        )?;
    }
    Ok(())
}
