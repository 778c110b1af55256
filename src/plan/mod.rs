//! Planning: from the objects found (in manifests or in the cluster) and the request, decide which
//! containers change, which migrations run and which objects nearly matched. Pure: no I/O, no
//! clock. Live runs and offline previews share this one `Plan` type.
//!
//! The folder is the pure core: image references (`image`), the annotations (`annotations`), a
//! workload's facts (`facts`, `workload`), the migration Job copy (`migration`) and the bodies of
//! the writes (`patch`). Nothing here contacts a cluster, reads a file or prints.

pub mod annotations;
pub mod audit;
pub mod facts;
pub mod image;
pub mod migration;
pub mod owners;
pub mod patch;
pub mod workload;

use serde_json::Value;

use crate::error::{Exit, Failure};
use crate::plan::annotations::{Classifier, OptIn, Phase};
use crate::plan::facts::WorkloadFacts;
use crate::plan::image::{Repository, TargetImage, repository_of, same_image};
use crate::plan::workload::{Container, ContainerList, Kind, ObjectId};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub images: Vec<TargetImage>,
    pub classifier: Classifier,
}

/// One whole object to plan over (offline documents): its identity and body. `origin` is the
/// caller's handle to find the object again (an index into its own list).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub origin: usize,
    pub namespace: &'a str,
    pub kind: Kind,
    pub object: &'a Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub images: Vec<TargetImage>,
    pub classifier: Classifier,
    /// Matched workloads, ordered by namespace, kind and name (so every output, offline or live,
    /// lists them alike); those already at the target have no changes.
    pub workloads: Vec<WorkloadPlan>,
    /// Migration templates, ordered by namespace and name.
    pub migrations: Vec<MigrationPlan>,
    /// Rollback migration templates (`kubectl-update.io/migration: rollback`), ordered by
    /// namespace and name: run only after a rollout failed following forward migrations and the
    /// workloads were rolled back. Never among `migrations`.
    pub rollback_migrations: Vec<MigrationPlan>,
    /// Ordered by namespace, kind and name.
    pub near_misses: Vec<NearMiss>,
    /// Every classifier listed by an object in scope, sorted: what a mistyped `-c` is compared
    /// with.
    pub classifiers_seen: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPlan {
    pub id: ObjectId,
    pub origin: usize,
    /// Only the containers whose image changes.
    pub changes: Vec<ContainerChange>,
    /// Other owners that would revert the changed images (`owners`); empty when nothing changes.
    pub owners: Vec<owners::Owner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerChange {
    pub container: String,
    pub list: ContainerList,
    /// JSON pointer to the image field within the object.
    pub pointer: String,
    pub from: String,
    pub to: String,
}

/// A Job template to run as a copy with the new image before any workload changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPlan {
    pub template: ObjectId,
    pub origin: usize,
    /// The target image of the first matching container (the one reports name).
    pub image: String,
    /// Every matching container of the template, with the image its copy gets.
    pub containers: Vec<ContainerChange>,
}

/// An object that would have matched but for its classifier or its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    pub id: ObjectId,
    pub reason: String,
}

/// Planning stops on an annotation that cannot be read on an object that uses a requested image:
/// silently skipping it could leave part of an application behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id}: {problem}; {fix}")]
pub struct PlanError {
    pub id: ObjectId,
    pub problem: String,
    /// How to fix the annotation.
    pub fix: String,
}

/// How to fix a malformed classifier annotation.
const FIX_CLASSIFIER: &str =
    "fix the annotation to a comma-separated list of classifiers such as `stable, canary`";

impl Plan {
    /// Nothing matched: no workload (changed or not) and no migration template.
    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
            && self.migrations.is_empty()
            && self.rollback_migrations.is_empty()
    }

    /// Every migration template of the plan, forward ones first.
    pub fn all_migrations(&self) -> impl Iterator<Item = &MigrationPlan> {
        self.migrations.iter().chain(&self.rollback_migrations)
    }

    pub fn changed_workloads(&self) -> impl Iterator<Item = &WorkloadPlan> {
        self.workloads.iter().filter(|it| !it.changes.is_empty())
    }

    /// True when every matched workload already runs the target and no migration is planned.
    pub fn is_unchanged(&self) -> bool {
        !self.is_empty() && self.migrations.is_empty() && self.changed_workloads().next().is_none()
    }
}

/// Plans an update over whole objects: planning reads only their facts.
pub fn plan(request: &Request, candidates: &[Candidate<'_>]) -> Result<Plan, PlanError> {
    let facts: Vec<WorkloadFacts> = candidates
        .iter()
        .map(|it| WorkloadFacts::of_object(it.object, it.kind, it.namespace))
        .collect();
    plan_facts(
        request,
        candidates
            .iter()
            .zip(&facts)
            .map(|(candidate, facts)| (candidate.origin, facts)),
    )
}

/// Plans an update over the facts of the objects found, each with its `origin` (the caller's
/// handle to find the object again).
pub fn plan_facts<'a>(
    request: &Request,
    candidates: impl IntoIterator<Item = (usize, &'a WorkloadFacts)>,
) -> Result<Plan, PlanError> {
    let mut res = Plan {
        images: request.images.clone(),
        classifier: request.classifier.clone(),
        workloads: Vec::new(),
        migrations: Vec::new(),
        rollback_migrations: Vec::new(),
        near_misses: Vec::new(),
        classifiers_seen: Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    for (origin, facts) in candidates {
        if facts.migration_copy {
            // The tool's own migration copies are neither templates nor near misses.
            continue;
        }
        let id = facts.id();
        let containers = &facts.containers;
        let matched: Vec<(&Container, &TargetImage)> = containers
            .iter()
            .filter_map(|container| target_for(request, container).map(|t| (container, t)))
            .collect();
        let opt_in = match OptIn::from_facts(facts) {
            Ok(opt_in) => opt_in,
            Err(malformed) if !matched.is_empty() => {
                return Err(PlanError {
                    id,
                    problem: malformed.to_string(),
                    fix: FIX_CLASSIFIER.to_owned(),
                });
            }
            Err(_) => continue,
        };
        if let Some(opt_in) = &opt_in {
            seen.extend(opt_in.classifiers.iter().map(ToString::to_string));
        }
        let listed = opt_in
            .as_ref()
            .is_some_and(|it| it.lists(&request.classifier));
        match (listed, matched.is_empty()) {
            (true, false) => {
                let changes: Vec<ContainerChange> = matched
                    .iter()
                    .map(|(container, target)| ContainerChange {
                        container: container.name.clone(),
                        list: container.list,
                        pointer: container.image_pointer(facts.kind),
                        from: container.image.clone(),
                        to: target.as_str().to_owned(),
                    })
                    .collect();
                if facts.kind.is_migration_template() {
                    let phase = Phase::of(facts).map_err(|malformed| PlanError {
                        id: id.clone(),
                        problem: malformed.to_string(),
                        fix: "set it to `rollback` (run only after a failed rollout was rolled back) or `forward`, or remove it".to_owned(),
                    })?;
                    let image = changes[0].to.clone();
                    let migration = MigrationPlan {
                        template: id,
                        origin,
                        image,
                        containers: changes,
                    };
                    match phase {
                        Phase::Forward => res.migrations.push(migration),
                        Phase::Rollback => res.rollback_migrations.push(migration),
                    }
                } else {
                    let changes = changes
                        .into_iter()
                        .filter(|change| !same_image(&change.from, &change.to))
                        .collect::<Vec<_>>();
                    let changed: Vec<(ContainerList, &str)> = changes
                        .iter()
                        .map(|it| (it.list, it.container.as_str()))
                        .collect();
                    let owners = match changes.first() {
                        Some(first) => owners::owners(facts, &changed, &first.to),
                        None => Vec::new(),
                    };
                    res.workloads.push(WorkloadPlan {
                        id,
                        origin,
                        changes,
                        owners,
                    });
                }
            }
            (true, true) => {
                let images: Vec<&str> = containers.iter().map(|it| it.image.as_str()).collect();
                res.near_misses.push(NearMiss {
                    id,
                    reason: format!(
                        "lists classifier `{}` but no container uses {}; its images: {}",
                        request.classifier,
                        requested_repositories(request),
                        if images.is_empty() {
                            "none".to_owned()
                        } else {
                            images.join(", ")
                        }
                    ),
                });
            }
            (false, false) => {
                let (container, _) = matched[0];
                let reason = match &opt_in {
                    None => format!("uses {} but has no classifier annotation", container.image),
                    Some(opt_in) => format!(
                        "uses {} but its classifier annotation lists {}, not `{}`",
                        container.image,
                        opt_in
                            .classifiers
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        request.classifier
                    ),
                };
                res.near_misses.push(NearMiss { id, reason });
            }
            (false, true) => (),
        }
    }
    res.workloads.sort_by(|a, b| a.id.cmp(&b.id));
    res.migrations.sort_by(|a, b| a.template.cmp(&b.template));
    res.rollback_migrations
        .sort_by(|a, b| a.template.cmp(&b.template));
    res.near_misses.sort_by(|a, b| a.id.cmp(&b.id));
    res.classifiers_seen = seen.into_iter().collect();
    Ok(res)
}

/// The known name closest to a mistyped one (`stabel` → `stable`), if any is close enough to be
/// what was meant.
pub fn closest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .filter(|it| *it != typed)
        .map(|it| {
            (
                strsim::jaro_winkler(&typed.to_lowercase(), &it.to_lowercase()),
                it,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, it)| it)
}

/// The target image whose repository this container uses, if any. Containers whose image does not
/// parse never match.
fn target_for<'a>(request: &'a Request, container: &Container) -> Option<&'a TargetImage> {
    let repository: Repository = repository_of(&container.image).ok()?;
    request
        .images
        .iter()
        .find(|target| *target.repository() == repository)
}

fn requested_repositories(request: &Request) -> String {
    request
        .images
        .iter()
        .map(|it| it.repository().to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Which namespaces to look in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespaces {
    /// `-A`.
    All,
    /// `-n a,b`.
    Listed(Vec<String>),
    /// Neither: the context's namespace live; every document's own namespace offline.
    Default,
}

impl Namespaces {
    /// Whether an object in `namespace` is in scope.
    pub fn includes(&self, namespace: &str) -> bool {
        match self {
            Namespaces::Listed(listed) => listed.iter().any(|it| it == namespace),
            Namespaces::All | Namespaces::Default => true,
        }
    }
}

/// Nothing matched is an error (a typo must not pass CI as a success), listing what nearly did.
pub fn nothing_matched(plan: &Plan, namespaces: &Namespaces) -> Failure {
    let repositories: Vec<String> = plan
        .images
        .iter()
        .map(|it| it.repository().to_string())
        .collect();
    let scope = match namespaces {
        Namespaces::Listed(listed) => format!(
            " in namespace{} {}",
            if listed.len() == 1 { "" } else { "s" },
            listed.join(", ")
        ),
        Namespaces::All | Namespaces::Default => String::new(),
    };
    let mut failure = Failure::new(
        Exit::Failed,
        format!(
            "nothing matched: no workload or migration template{scope} lists classifier `{}` and uses {}",
            plan.classifier,
            repositories.join(" or ")
        ),
    );
    let listed = plan
        .classifiers_seen
        .iter()
        .any(|it| it.as_str() == plan.classifier.as_str());
    if !listed
        && let Some(closest) = closest(
            plan.classifier.as_str(),
            plan.classifiers_seen.iter().map(String::as_str),
        )
    {
        failure = failure.hint(format!(
            "did you mean `{closest}`? no object lists `{}`",
            plan.classifier
        ));
    }
    for miss in &plan.near_misses {
        failure = failure.hint(format!(
            "near miss: {}/{}/{} {}",
            miss.id.namespace, miss.id.kind, miss.id.name, miss.reason
        ));
    }
    if plan.near_misses.is_empty() {
        failure = failure.hint(format!(
            "annotate the workloads with `{}: {}` and check the image repository",
            annotations::CLASSIFIER,
            plan.classifier
        ));
    }
    failure
}

#[cfg(test)]
mod tests;
