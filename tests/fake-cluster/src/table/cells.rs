//! The cells of one row, per kind, in the order `columns` defines. Never decides which columns
//! exist or how the Table is laid out.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

use super::format::{
    age, human_duration, int, or_none, pod_status, selector, string, template_containers,
};

pub(super) fn cells(def: &ResourceDef, o: &Value) -> Vec<Value> {
    let name = json!(string(o, "/metadata/name"));
    let created = age(o, "/metadata/creationTimestamp");
    match def.plural {
        "pods" => {
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = statuses
                .iter()
                .filter(|s| s.get("ready") == Some(&json!(true)))
                .count();
            let restarts: i64 = statuses.iter().map(|s| int(s, "/restartCount")).sum();
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                json!(created),
                json!(or_none(string(o, "/status/podIP"))),
                json!(or_none(string(o, "/spec/nodeName"))),
            ]
        }
        "deployments" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    int(o, "/spec/replicas")
                )),
                json!(int(o, "/status/updatedReplicas")),
                json!(int(o, "/status/availableReplicas")),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "replicasets" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(int(o, "/spec/replicas")),
                json!(int(o, "/status/replicas")),
                json!(int(o, "/status/readyReplicas")),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "statefulsets" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    int(o, "/spec/replicas")
                )),
                json!(created),
                json!(c),
                json!(i),
            ]
        }
        "daemonsets" => {
            let ns = o
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object)
                .map(|m| {
                    let mut v: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect();
                    v.sort();
                    v.join(",")
                });
            vec![
                name,
                json!(int(o, "/status/desiredNumberScheduled")),
                json!(int(o, "/status/currentNumberScheduled")),
                json!(int(o, "/status/numberReady")),
                json!(int(o, "/status/updatedNumberScheduled")),
                json!(int(o, "/status/numberAvailable")),
                json!(or_none(ns.unwrap_or_default())),
                json!(created),
            ]
        }
        "jobs" => {
            let conds = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let has = |t: &str| {
                conds
                    .iter()
                    .any(|c| c["type"] == t && c["status"] == "True")
            };
            let status = if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else if has("Suspended") {
                "Suspended"
            } else if has("FailureTarget") {
                "FailureTarget"
            } else if o.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                "Running"
            };
            let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(c) => format!("{}/{c}", int(o, "/status/succeeded")),
                None => format!(
                    "{}/1 of {}",
                    int(o, "/status/succeeded"),
                    int(o, "/spec/parallelism")
                ),
            };
            let start = o
                .pointer("/status/startTime")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::Timestamp>().ok());
            let end = o
                .pointer("/status/completionTime")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            let duration = start
                .map(|s| human_duration(end.as_second() - s.as_second()))
                .unwrap_or_default();
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(status),
                json!(completions),
                json!(duration),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "cronjobs" => {
            let last = o
                .pointer("/status/lastScheduleTime")
                .map(|_| age(o, "/status/lastScheduleTime"))
                .unwrap_or_else(|| "<none>".into());
            vec![
                name,
                json!(string(o, "/spec/schedule")),
                json!(or_none(string(o, "/spec/timeZone"))),
                json!(
                    o.pointer("/spec/suspend")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                json!(
                    o.pointer("/status/active")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                ),
                json!(last),
                json!(created),
            ]
        }
        "namespaces" => vec![name, json!(string(o, "/status/phase")), json!(created)],
        "nodes" => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .map(|c| c["status"] == "True")
                .unwrap_or(false);
            let mut roles: Vec<String> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            vec![
                name,
                json!(if ready { "Ready" } else { "NotReady" }),
                json!(or_none(roles.join(","))),
                json!(created),
                json!(string(o, "/status/nodeInfo/kubeletVersion")),
            ]
        }
        "configmaps" => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
                + o.get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
            vec![name, json!(n.to_string()), json!(created)]
        }
        "secrets" => vec![
            name,
            json!(string(o, "/type")),
            json!(
                o.get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
                    .to_string()
            ),
            json!(created),
        ],
        "serviceaccounts" => vec![
            name,
            json!(
                o.get("secrets")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
                    .to_string()
            ),
            json!(created),
        ],
        "leases" => vec![
            name,
            json!(or_none(string(o, "/spec/holderIdentity"))),
            json!(created),
        ],
        "events" => {
            let last = if o.get("lastTimestamp").is_some_and(|v| !v.is_null()) {
                age(o, "/lastTimestamp")
            } else {
                age(o, "/eventTime")
            };
            let object = format!(
                "{}/{}",
                string(o, "/involvedObject/kind").to_lowercase(),
                string(o, "/involvedObject/name")
            );
            vec![
                json!(last),
                json!(string(o, "/type")),
                json!(string(o, "/reason")),
                json!(object),
                json!(string(o, "/message")),
            ]
        }
        "rolebindings" | "clusterrolebindings" => {
            let role = format!(
                "{}/{}",
                string(o, "/roleRef/kind"),
                string(o, "/roleRef/name")
            );
            vec![name, json!(role), json!(created)]
        }
        "controllerrevisions" => {
            let owner = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|r| r.iter().find(|r| r.get("controller") == Some(&json!(true))))
                .map(|r| {
                    let kind = r
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_lowercase();
                    let group = r
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .and_then(|a| a.split_once('/'))
                        .map(|(g, _)| g)
                        .unwrap_or("");
                    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                    if group.is_empty() {
                        format!("{kind}/{name}")
                    } else {
                        format!("{kind}.{group}/{name}")
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![
                name,
                json!(owner),
                json!(int(o, "/revision")),
                json!(created),
            ]
        }
        "services" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            format!(
                                "{}/{}",
                                int(p, "/port"),
                                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(string(o, "/spec/type")),
                json!(or_none(string(o, "/spec/clusterIP"))),
                json!("<none>"),
                json!(if ports.is_empty() {
                    "<none>".to_string()
                } else {
                    ports.join(",")
                }),
                json!(created),
            ]
        }
        _ => vec![name, json!(string(o, "/metadata/creationTimestamp"))],
    }
}
