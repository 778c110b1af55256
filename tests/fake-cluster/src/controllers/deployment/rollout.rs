//! The rollout strategies: RollingUpdate (`rolling.go`), Recreate (`recreate.go`), proportional
//! scaling (`sync.go` `scale`) and history cleanup. Never computes status itself; it hands over to
//! `status`.

use super::*;

impl<S: Store> Sync<'_, S> {
    pub(super) fn rollout_rolling(&mut self) {
        let Some(new) = self.sync_revision(true) else {
            self.sync_rollout_status(None);
            return;
        };
        if self.reconcile_new(new) || self.reconcile_old(new) {
            self.sync_rollout_status(Some(new));
            return;
        }
        if complete(
            &self.deployment,
            self.original.get("status").unwrap_or(&Value::Null),
        ) {
            self.cleanup(Some(new));
        }
        self.sync_rollout_status(Some(new));
    }

    pub(super) fn reconcile_new(&mut self, new: usize) -> bool {
        let desired = self.desired();
        let current = replicas(&self.replicasets[new]);
        if current == desired {
            return false;
        }
        if current > desired {
            return self.scale_rs(new, desired);
        }
        let count = self.new_rs_new_replicas(self.spec_sum(0..self.replicasets.len()), current);
        self.scale_rs(new, count)
    }

    pub(super) fn reconcile_old(&mut self, new: usize) -> bool {
        let olds: Vec<usize> = self
            .olds(Some(new))
            .into_iter()
            .filter(|idx| replicas(&self.replicasets[*idx]) > 0)
            .collect();
        if self.spec_sum(olds.iter().copied()) == 0 {
            return false;
        }
        let all_pods = self.spec_sum(0..self.replicasets.len());
        let min_available = self.desired() - max_unavailable(&self.deployment);
        let new_rs = &self.replicasets[new];
        let new_unavailable = replicas(new_rs) - status_count(new_rs, "availableReplicas");
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        // cleanupUnhealthyReplicas: oldest first.
        let mut cleaned = 0;
        for idx in &olds {
            if cleaned >= max_scaled_down {
                break;
            }
            let rs = &self.replicasets[*idx];
            let (spec, available) = (replicas(rs), status_count(rs, "availableReplicas"));
            if spec == 0 || spec == available {
                continue;
            }
            let count = (max_scaled_down - cleaned).min(spec - available);
            self.scale_rs(*idx, spec - count);
            cleaned += count;
        }
        // scaleDownOldReplicaSetsForRollingUpdate.
        let available: i64 = self
            .replicasets
            .iter()
            .map(|it| status_count(it, "availableReplicas"))
            .sum();
        let mut scaled_down = 0;
        if available > min_available {
            let total = available - min_available;
            for idx in &olds {
                if scaled_down >= total {
                    break;
                }
                let spec = replicas(&self.replicasets[*idx]);
                if spec == 0 {
                    continue;
                }
                let count = spec.min(total - scaled_down);
                self.scale_rs(*idx, spec - count);
                scaled_down += count;
            }
        }
        cleaned + scaled_down > 0
    }

    pub(super) fn rollout_recreate(&mut self) {
        let mut new = self.sync_revision(false);
        let active_olds: Vec<usize> = self
            .olds(new)
            .into_iter()
            .filter(|idx| replicas(&self.replicasets[*idx]) > 0)
            .collect();
        let mut scaled = false;
        for idx in active_olds {
            scaled |= self.scale_rs(idx, 0);
        }
        if scaled || self.old_pods_running(new) {
            self.sync_rollout_status(new);
            return;
        }
        if new.is_none() {
            new = self.sync_revision(true);
        }
        if let Some(idx) = new {
            let desired = self.desired();
            self.scale_rs(idx, desired);
        }
        if complete(
            &self.deployment,
            self.original.get("status").unwrap_or(&Value::Null),
        ) {
            self.cleanup(new);
        }
        self.sync_rollout_status(new);
    }

    pub(super) fn old_pods_running(&self, new: Option<usize>) -> bool {
        let olds = self.olds(new);
        if olds
            .iter()
            .map(|idx| status_count(&self.replicasets[*idx], "replicas"))
            .sum::<i64>()
            > 0
        {
            return true;
        }
        olds.iter().any(|idx| {
            self.world
                .pod_infos_of(uid(&self.replicasets[*idx]))
                .iter()
                .any(|pod| !matches!(pod.phase, Some(Phase::Failed | Phase::Succeeded)))
        })
    }

    /// `scale`: proportional scaling when `spec.replicas` changed (or while paused).
    pub(super) fn scale(&mut self, new: Option<usize>) {
        let desired = self.desired();
        let mut olds = self.olds(new);
        olds.sort_by_key(|idx| std::cmp::Reverse(creation(&self.replicasets[*idx])));
        let active: Vec<usize> = olds
            .iter()
            .copied()
            .chain(new)
            .filter(|idx| replicas(&self.replicasets[*idx]) > 0)
            .collect();
        let target = match active.len() {
            0 => new.or(olds.first().copied()),
            1 => Some(active[0]),
            _ => None,
        };
        if let Some(idx) = target {
            if replicas(&self.replicasets[idx]) != desired {
                self.scale_rs(idx, desired);
            }
            return;
        }
        if let Some(idx) = new {
            let rs = &self.replicasets[idx];
            let saturated = replicas(rs) == desired
                && annotation(rs, DESIRED_REPLICAS).and_then(|it| it.parse::<i64>().ok())
                    == Some(desired)
                && status_count(rs, "availableReplicas") == desired;
            if saturated {
                for idx in olds
                    .iter()
                    .copied()
                    .filter(|idx| replicas(&self.replicasets[*idx]) > 0)
                    .collect::<Vec<_>>()
                {
                    self.scale_rs(idx, 0);
                }
                return;
            }
        }
        if !is_rolling(&self.deployment) {
            return;
        }
        let mut active = active;
        let total: i64 = self.spec_sum(active.iter().copied());
        let allowed = if desired > 0 {
            desired + max_surge(&self.deployment)
        } else {
            0
        };
        let to_add = allowed - total;
        if to_add > 0 {
            // ReplicaSetsBySizeNewer: larger first, newer first on ties.
            active.sort_by_key(|idx| {
                (
                    std::cmp::Reverse(replicas(&self.replicasets[*idx])),
                    std::cmp::Reverse(creation(&self.replicasets[*idx])),
                )
            });
        } else if to_add < 0 {
            // ReplicaSetsBySizeOlder: larger first, older first on ties.
            active.sort_by_key(|idx| {
                (
                    std::cmp::Reverse(replicas(&self.replicasets[*idx])),
                    creation(&self.replicasets[*idx]),
                )
            });
        }
        let mut added = 0;
        let mut sizes = Vec::new();
        for idx in &active {
            let rs = &self.replicasets[*idx];
            let size = replicas(rs);
            if to_add == 0 {
                sizes.push(size);
                continue;
            }
            let proportion = self.proportion(rs, to_add, added);
            sizes.push(size + proportion);
            added += proportion;
        }
        for (position, idx) in active.iter().enumerate() {
            let mut size = sizes[position];
            if position == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale_rs(*idx, size);
        }
    }

    /// `GetProportion`.
    pub(super) fn proportion(&self, rs: &Value, to_add: i64, added: i64) -> i64 {
        let size = replicas(rs);
        if size == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let desired = self.desired();
        let fraction = if desired == 0 {
            -size
        } else {
            let deployment_replicas = desired + max_surge(&self.deployment);
            let annotated = annotation(rs, MAX_REPLICAS)
                .and_then(|it| it.parse::<i64>().ok())
                .unwrap_or_else(|| status_count(&self.deployment, "replicas"));
            if annotated == 0 {
                0
            } else {
                ((size * deployment_replicas) as f64 / annotated as f64).round() as i64 - size
            }
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// `cleanupDeployment`: keeps `revisionHistoryLimit` old, scaled-down ReplicaSets.
    pub(super) fn cleanup(&mut self, new: Option<usize>) {
        let limit = int_at(&self.deployment, "/spec/revisionHistoryLimit")
            .unwrap_or(10)
            .max(0) as usize;
        let mut cleanable: Vec<usize> = self
            .olds(new)
            .into_iter()
            .filter(|idx| !is_deleting(&self.replicasets[*idx]))
            .collect();
        if cleanable.len() <= limit {
            return;
        }
        let diff = cleanable.len() - limit;
        cleanable.sort_by_key(|idx| {
            (
                revision(&self.replicasets[*idx]),
                creation(&self.replicasets[*idx]),
            )
        });
        for idx in cleanable.into_iter().take(diff) {
            let rs = &self.replicasets[idx];
            let observed = int_at(rs, "/status/observedGeneration").unwrap_or(0);
            if status_count(rs, "replicas") != 0 || replicas(rs) != 0 || generation(rs) > observed {
                continue;
            }
            let _ = self.store.delete("replicasets", namespace(rs), name(rs));
        }
    }
}
