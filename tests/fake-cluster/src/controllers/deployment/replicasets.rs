//! The Deployment's ReplicaSets (`sync.go`): finding or creating the new one for the current
//! template, its revision and replica annotations, and scaling one ReplicaSet. Never decides how
//! many replicas a strategy wants; `rollout` does.

use super::*;

impl<S: Store> Sync<'_, S> {
    /// `getAllReplicaSetsAndSyncRevision`: finds (or creates) the new ReplicaSet, syncs its
    /// annotations and the Deployment's revision.
    pub(super) fn sync_revision(&mut self, create: bool) -> Option<usize> {
        let found = self.find_new();
        let max_old = self
            .olds(found)
            .into_iter()
            .map(|idx| revision(&self.replicasets[idx]))
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(idx) = found {
            let mut rs = self.replicasets[idx].clone();
            let mut changed = self.set_new_rs_annotations(&mut rs, new_revision, true);
            let min_ready = int_at(&self.deployment, "/spec/minReadySeconds").unwrap_or(0);
            if int_at(&rs, "/spec/minReadySeconds").unwrap_or(0) != min_ready {
                rs["spec"]["minReadySeconds"] = json!(min_ready);
                changed = true;
            }
            if changed {
                self.replicasets[idx] = write(self.store, "replicasets", &rs).unwrap_or(rs);
            }
            let rs_revision = annotation(&self.replicasets[idx], REVISION)
                .unwrap_or("")
                .to_owned();
            if annotation(&self.deployment, REVISION) != Some(rs_revision.as_str()) {
                set_annotation(&mut self.deployment, REVISION, &rs_revision);
            }
            if self.has_progress_deadline() && self.progressing_condition().is_none() {
                let message = format!("Found new replica set \"{}\"", name(&self.replicasets[idx]));
                self.set_deployment_condition(Condition {
                    kind: "Progressing",
                    status: "True",
                    reason: "FoundNewReplicaSet",
                    message,
                });
            }
            return Some(idx);
        }
        if !create {
            return None;
        }
        self.create_new(new_revision)
    }

    fn create_new(&mut self, new_revision: i64) -> Option<usize> {
        let collision_count = int_at(&self.deployment, "/status/collisionCount");
        let mut template = self
            .deployment
            .at("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let hash = template_hash(&template, collision_count);
        let rs_name = format!("{}-{hash}", name(&self.deployment));
        obj_mut(&mut template, "metadata");
        let labels = obj_mut(&mut template["metadata"], "labels");
        labels.insert(HASH_LABEL.into(), json!(hash));
        let labels = Value::Object(labels.clone());
        let mut selector = self
            .deployment
            .at("/spec/selector")
            .cloned()
            .unwrap_or_else(|| json!({}));
        obj_mut(&mut selector, "matchLabels").insert(HASH_LABEL.into(), json!(hash));
        let mut rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": namespace(&self.deployment),
                "labels": labels,
                "annotations": {},
                "ownerReferences": [owner_reference(&self.deployment, "apps/v1", "Deployment")],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int_at(&self.deployment, "/spec/minReadySeconds").unwrap_or(0),
                "selector": selector,
                "template": template,
            },
        });
        self.set_new_rs_annotations(&mut rs, new_revision, false);
        let all_specs = self.spec_sum(0..self.replicasets.len());
        let count = self.new_rs_new_replicas(all_specs, 0);
        rs["spec"]["replicas"] = json!(count);
        match self.store.create("replicasets", rs) {
            Ok(created) => {
                if count > 0 {
                    self.event(
                        false,
                        "ScalingReplicaSet",
                        format!("Scaled up replica set {rs_name} to {count} from 0"),
                    );
                }
                if self.has_progress_deadline() {
                    let message = format!("Created new replica set \"{rs_name}\"");
                    self.set_deployment_condition(Condition {
                        kind: "Progressing",
                        status: "True",
                        reason: "NewReplicaSetCreated",
                        message,
                    });
                }
                set_annotation(&mut self.deployment, REVISION, &new_revision.to_string());
                self.replicasets.push(created);
                Some(self.replicasets.len() - 1)
            }
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = self
                    .store
                    .get("replicasets", namespace(&self.deployment), &rs_name);
                let ours = existing.as_ref().is_some_and(|it| {
                    controller_uid(it) == Some(uid(&self.deployment))
                        && same_template(&self.deployment, it)
                });
                if !ours {
                    let count = collision_count.unwrap_or(0) + 1;
                    status_mut(&mut self.deployment).insert("collisionCount".into(), json!(count));
                }
                None
            }
            Err(error) => {
                if self.has_progress_deadline() {
                    let message =
                        format!("Failed to create new replica set \"{rs_name}\": {error}");
                    self.set_deployment_condition(Condition {
                        kind: "Progressing",
                        status: "False",
                        reason: "ReplicaSetCreateError",
                        message,
                    });
                }
                self.event(
                    true,
                    "FailedCreate",
                    format!("Failed to create new replica set \"{rs_name}\": {error}"),
                );
                None
            }
        }
    }

    /// `SetNewReplicaSetAnnotations`; returns whether anything changed.
    fn set_new_rs_annotations(&self, rs: &mut Value, new_revision: i64, exists: bool) -> bool {
        let mut changed = false;
        let wanted = self
            .deployment
            .at("/metadata/annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, value) in wanted {
            if SKIPPED_ANNOTATIONS.contains(&key.as_str()) {
                continue;
            }
            if rs.at("/metadata/annotations").and_then(|it| it.get(&key)) != Some(&value) {
                set_annotation(rs, &key, value.as_str().unwrap_or(""));
                changed = true;
            }
        }
        let old = annotation(rs, REVISION).map(str::to_owned);
        let old_number: i64 = old.as_deref().and_then(|it| it.parse().ok()).unwrap_or(0);
        if old_number < new_revision {
            set_annotation(rs, REVISION, &new_revision.to_string());
            changed = true;
            if let Some(old) = old.filter(|it| !it.is_empty()) {
                let history = match annotation(rs, REVISION_HISTORY).filter(|it| !it.is_empty()) {
                    Some(history) => {
                        let mut items: Vec<&str> = history.split(',').collect();
                        items.push(&old);
                        while items.iter().map(|it| it.len() + 1).sum::<usize>() > 2000
                            && items.len() > 1
                        {
                            items.remove(0);
                        }
                        items.join(",")
                    }
                    None => old.clone(),
                };
                set_annotation(rs, REVISION_HISTORY, &history);
            }
        }
        if !exists {
            changed |= self.set_replicas_annotations(rs);
        }
        changed
    }

    fn set_replicas_annotations(&self, rs: &mut Value) -> bool {
        let desired = self.desired().to_string();
        let max = (self.desired() + max_surge(&self.deployment)).to_string();
        let mut changed = false;
        for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
            if annotation(rs, key) != Some(value.as_str()) {
                set_annotation(rs, key, &value);
                changed = true;
            }
        }
        changed
    }

    /// `NewRSNewReplicas`.
    pub(super) fn new_rs_new_replicas(&self, all_specs: i64, new_spec: i64) -> i64 {
        let desired = self.desired();
        if !is_rolling(&self.deployment) {
            return desired;
        }
        let max_total = desired + max_surge(&self.deployment);
        if all_specs >= max_total {
            return new_spec;
        }
        new_spec + (max_total - all_specs).min(desired - new_spec)
    }

    /// Scales one ReplicaSet, keeping its replica annotations in sync; returns whether the size
    /// changed.
    pub(super) fn scale_rs(&mut self, idx: usize, new_scale: i64) -> bool {
        let mut rs = self.replicasets[idx].clone();
        let old_scale = replicas(&rs);
        let size_changed = old_scale != new_scale;
        let annotations_changed = self.set_replicas_annotations(&mut rs);
        if !size_changed && !annotations_changed {
            return false;
        }
        rs["spec"]["replicas"] = json!(new_scale);
        self.replicasets[idx] = write(self.store, "replicasets", &rs).unwrap_or(rs);
        if size_changed {
            let direction = if new_scale > old_scale { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} to {new_scale} from {old_scale}",
                name(&self.replicasets[idx])
            );
            self.event(false, "ScalingReplicaSet", message);
        }
        size_changed
    }
}
