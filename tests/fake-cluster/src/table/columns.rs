//! The column definitions of the real server's printers, per kind, and which of them only
//! `-o wide` shows. Never computes a cell.

use crate::resources::ResourceDef;

pub(super) fn columns(def: &ResourceDef) -> Vec<(&'static str, &'static str)> {
    match def.plural {
        "pods" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Status", "string"),
            ("Restarts", "string"),
            ("Age", "string"),
            ("IP", "string"),
            ("Node", "string"),
        ],
        "deployments" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "replicasets" => vec![
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "statefulsets" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
        ],
        "daemonsets" => vec![
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Node Selector", "string"),
            ("Age", "string"),
        ],
        "jobs" => vec![
            ("Name", "string"),
            ("Status", "string"),
            ("Completions", "string"),
            ("Duration", "string"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "cronjobs" => vec![
            ("Name", "string"),
            ("Schedule", "string"),
            ("Timezone", "string"),
            ("Suspend", "boolean"),
            ("Active", "integer"),
            ("Last Schedule", "string"),
            ("Age", "string"),
        ],
        "namespaces" => vec![("Name", "string"), ("Status", "string"), ("Age", "string")],
        "nodes" => vec![
            ("Name", "string"),
            ("Status", "string"),
            ("Roles", "string"),
            ("Age", "string"),
            ("Version", "string"),
        ],
        "configmaps" => vec![("Name", "string"), ("Data", "string"), ("Age", "string")],
        "secrets" => vec![
            ("Name", "string"),
            ("Type", "string"),
            ("Data", "string"),
            ("Age", "string"),
        ],
        "serviceaccounts" => vec![("Name", "string"), ("Secrets", "string"), ("Age", "string")],
        "leases" => vec![("Name", "string"), ("Holder", "string"), ("Age", "string")],
        "events" => vec![
            ("Last Seen", "string"),
            ("Type", "string"),
            ("Reason", "string"),
            ("Object", "string"),
            ("Message", "string"),
        ],
        "rolebindings" | "clusterrolebindings" => {
            vec![("Name", "string"), ("Role", "string"), ("Age", "string")]
        }
        "controllerrevisions" => vec![
            ("Name", "string"),
            ("Controller", "string"),
            ("Revision", "integer"),
            ("Age", "string"),
        ],
        "services" => vec![
            ("Name", "string"),
            ("Type", "string"),
            ("Cluster-IP", "string"),
            ("External-IP", "string"),
            ("Port(s)", "string"),
            ("Age", "string"),
        ],
        _ => vec![("Name", "string"), ("Created At", "date")],
    }
}

/// Priority 1 (`-o wide`) columns.
pub(super) fn wide(name: &str) -> bool {
    matches!(name, "IP" | "Node" | "Containers" | "Images" | "Selector")
}
