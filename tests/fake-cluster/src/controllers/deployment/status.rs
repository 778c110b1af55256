//! Deployment status (`sync.go` `calculateStatus`, `progress.go`): counters, the Available,
//! Progressing and ReplicaFailure conditions, and the check that lets settled Deployments skip a
//! sync. Never scales or creates ReplicaSets.

use super::*;

/// A complete, unpaused Deployment whose ReplicaSets and status already agree: the full sync would
/// write nothing.
pub(super) fn settled(deployment: &Value, world: &World) -> bool {
    let observed = int_at(deployment, "/status/observedGeneration").unwrap_or(0);
    if is_deleting(deployment)
        || observed != generation(deployment)
        || bool_at(deployment, "/spec/paused")
    {
        return false;
    }
    let conditions = deployment
        .at("/status/conditions")
        .and_then(Value::as_array);
    let condition = |kind: &str| {
        conditions.and_then(|it| it.iter().find(|it| str_at(it, "/type") == Some(kind)))
    };
    let progressing = condition("Progressing").and_then(|it| str_at(it, "/reason"));
    if progressing != Some("NewReplicaSetAvailable") || condition("ReplicaFailure").is_some() {
        return false;
    }
    let desired = replicas(deployment);
    let revision = annotation(deployment, REVISION);
    let owned = world.replicasets_of(uid(deployment));
    let mut new = None;
    for rs in &owned {
        if rs.failure || rs.deleting {
            return false;
        }
        if rs.revision.as_deref() == revision && revision.is_some() && new.is_none() {
            new = Some(*rs);
        } else if rs.replicas != 0 || rs.status_replicas != 0 {
            return false;
        }
    }
    let Some(new) = new else { return false };
    let limit = int_at(deployment, "/spec/revisionHistoryLimit")
        .unwrap_or(10)
        .max(0) as usize;
    if new.replicas != desired || new.desired_replicas != Some(desired) || owned.len() - 1 > limit {
        return false;
    }
    let sum = |get: fn(&RsInfo) -> i64| -> i64 { owned.iter().map(|it| get(it)).sum() };
    let available = sum(|it| it.available);
    let expected = [
        ("replicas", sum(|it| it.status_replicas)),
        ("updatedReplicas", new.status_replicas),
        ("readyReplicas", sum(|it| it.ready)),
        ("availableReplicas", available),
        (
            "unavailableReplicas",
            (sum(|it| it.replicas) - available).max(0),
        ),
    ];
    if expected
        .iter()
        .any(|(key, value)| status_count(deployment, key) != *value)
    {
        return false;
    }
    let available_ok = available >= desired - max_unavailable(deployment);
    let available_status = condition("Available").and_then(|it| str_at(it, "/status"));
    available_status == Some(if available_ok { "True" } else { "False" })
}

impl<S: Store> Sync<'_, S> {
    /// `calculateStatus`, including the Available condition.
    pub(super) fn calculate_status(&self, new: Option<usize>) -> Value {
        let sum = |key: &str| -> i64 {
            self.replicasets
                .iter()
                .map(|it| status_count(it, key))
                .sum()
        };
        let available = sum("availableReplicas");
        let unavailable = (self.spec_sum(0..self.replicasets.len()) - available).max(0);
        let mut status = self
            .deployment
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.insert(
            "observedGeneration".into(),
            json!(generation(&self.deployment)),
        );
        put_count(&mut status, "replicas", sum("replicas"));
        put_count(
            &mut status,
            "updatedReplicas",
            new.map(|idx| status_count(&self.replicasets[idx], "replicas"))
                .unwrap_or(0),
        );
        put_count(&mut status, "readyReplicas", sum("readyReplicas"));
        put_count(&mut status, "availableReplicas", available);
        put_count(&mut status, "unavailableReplicas", unavailable);
        let mut conditions: Vec<Value> = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let condition = if available >= self.desired() - max_unavailable(&self.deployment) {
            Condition {
                kind: "Available",
                status: "True",
                reason: "MinimumReplicasAvailable",
                message: "Deployment has minimum availability.".into(),
            }
        } else {
            Condition {
                kind: "Available",
                status: "False",
                reason: "MinimumReplicasUnavailable",
                message: "Deployment does not have minimum availability.".into(),
            }
        };
        set_condition(&mut conditions, condition, now_ms(self.ctx), true);
        status.insert("conditions".into(), Value::Array(conditions));
        Value::Object(status)
    }

    /// `syncDeploymentStatus`: counters and Available only.
    pub(super) fn sync_status(&mut self, new: Option<usize>) {
        let status = self.calculate_status(new);
        self.deployment["status"] = status;
    }

    /// `syncRolloutStatus`: counters, Available, Progressing and ReplicaFailure.
    pub(super) fn sync_rollout_status(&mut self, new: Option<usize>) {
        let mut status = self.calculate_status(new);
        let mut conditions = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let now = now_ms(self.ctx);
        if !self.has_progress_deadline() {
            remove_condition(&mut conditions, "Progressing");
        }
        let current = find_condition(&conditions, "Progressing").cloned();
        let count =
            |status: &Value, key: &str| status.get(key).and_then(Value::as_i64).unwrap_or(0);
        let is_complete = count(&status, "replicas") == count(&status, "updatedReplicas")
            && current.as_ref().and_then(|it| str_at(it, "/reason"))
                == Some("NewReplicaSetAvailable");
        let subject = match new {
            Some(idx) => format!("ReplicaSet \"{}\"", name(&self.replicasets[idx])),
            None => format!("Deployment \"{}\"", name(&self.deployment)),
        };
        if self.has_progress_deadline() && !is_complete {
            let old_status = self
                .original
                .get("status")
                .cloned()
                .unwrap_or_else(|| json!({}));
            let progressing = count(&status, "updatedReplicas")
                > count(&old_status, "updatedReplicas")
                || count(&status, "replicas") - count(&status, "updatedReplicas")
                    < count(&old_status, "replicas") - count(&old_status, "updatedReplicas")
                || count(&status, "readyReplicas") > count(&old_status, "readyReplicas")
                || count(&status, "availableReplicas") > count(&old_status, "availableReplicas");
            if complete(&self.deployment, &status) {
                let message = format!("{subject} has successfully progressed.");
                set_condition(
                    &mut conditions,
                    Condition {
                        kind: "Progressing",
                        status: "True",
                        reason: "NewReplicaSetAvailable",
                        message,
                    },
                    now,
                    true,
                );
            } else if progressing {
                let mut transition = fmt_time(now);
                if let Some(current) = &current
                    && str_at(current, "/status") == Some("True")
                    && let Some(it) = str_at(current, "/lastTransitionTime")
                {
                    transition = it.to_owned();
                }
                remove_condition(&mut conditions, "Progressing");
                conditions.push(json!({
                    "type": "Progressing",
                    "status": "True",
                    "lastUpdateTime": fmt_time(now),
                    "lastTransitionTime": transition,
                    "reason": "ReplicaSetUpdated",
                    "message": format!("{subject} is progressing."),
                }));
            } else if self.timed_out(current.as_ref(), now) {
                let message = format!("{subject} has timed out progressing.");
                set_condition(
                    &mut conditions,
                    Condition {
                        kind: "Progressing",
                        status: "False",
                        reason: "ProgressDeadlineExceeded",
                        message,
                    },
                    now,
                    true,
                );
            }
        }
        let failure = new
            .and_then(|idx| replica_failure(&self.replicasets[idx]))
            .or_else(|| self.replicasets.iter().find_map(replica_failure));
        match failure {
            Some(failure) => {
                let condition = Condition {
                    kind: "ReplicaFailure",
                    status: str_at(&failure, "/status").unwrap_or("True"),
                    reason: str_at(&failure, "/reason").unwrap_or("FailedCreate"),
                    message: str_at(&failure, "/message").unwrap_or("").to_owned(),
                };
                let at = time_at(&failure, "/lastTransitionTime").unwrap_or(now);
                set_condition(&mut conditions, condition, at, true);
            }
            None => {
                remove_condition(&mut conditions, "ReplicaFailure");
            }
        }
        status["conditions"] = Value::Array(conditions);
        self.deployment["status"] = status;
    }

    /// `DeploymentTimedOut`.
    pub(super) fn timed_out(&self, condition: Option<&Value>, now: Millis) -> bool {
        let Some(condition) = condition else {
            return false;
        };
        match str_at(condition, "/reason") {
            Some("NewReplicaSetAvailable") => return false,
            Some("ProgressDeadlineExceeded") => return true,
            _ => (),
        }
        let Some(from) = time_at(condition, "/lastUpdateTime") else {
            return false;
        };
        let deadline = int_at(&self.deployment, "/spec/progressDeadlineSeconds").unwrap_or(600);
        from + scaled(self.ctx, deadline as f64) < now
    }
}

pub(super) fn replica_failure(rs: &Value) -> Option<Value> {
    let conditions = rs.at("/status/conditions").and_then(Value::as_array)?;
    conditions
        .iter()
        .find(|it| str_at(it, "/type") == Some("ReplicaFailure"))
        .cloned()
}
