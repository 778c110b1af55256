//! The drift guard: who else writes the image fields an update changes, and would put the old
//! image back. Argo CD (its tracking annotation or instance label, or its field manager), Flux
//! (the kustomize-controller and helm-controller labels), Helm (`managed-by: Helm` with the
//! `meta.helm.sh/release-*` annotations), and any other server-side apply manager owning a changed
//! image field (`metadata.managedFields`). Each owner says what to do instead. Pure: reads only a
//! workload's `Marks`, never does I/O or prints.

pub mod marks;

#[cfg(test)]
mod tests;

use crate::error::{Exit, Failure};
use crate::plan::Plan;
use crate::plan::facts::WorkloadFacts;
use crate::plan::workload::{ContainerList, ObjectId};

pub use marks::Marks;

/// Which tool owns the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ArgoCd,
    Flux,
    Helm,
    /// Any other server-side apply manager.
    FieldManager,
}

impl Tool {
    /// The report's name for it (`owners[].kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::ArgoCd => "argocd",
            Tool::Flux => "flux",
            Tool::Helm => "helm",
            Tool::FieldManager => "field-manager",
        }
    }
}

/// Another owner of a workload that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub tool: Tool,
    /// Who, in words: `Helm release shop/web`, `field manager \`ci\` (server-side apply)`.
    pub owner: String,
    /// What it was found by: the labels, annotations or managedFields entry.
    pub evidence: String,
    /// What the user should do instead.
    pub advice: String,
}

/// The other owners of a workload whose `changed` containers (list, name) get the image `to`.
/// Label and annotation marks count for the whole workload; a field manager counts only when it
/// owns the image field of a changed container. kubectl-update's own manager never counts.
pub fn owners(facts: &WorkloadFacts, changed: &[(ContainerList, &str)], to: &str) -> Vec<Owner> {
    let marks = &facts.marks;
    let mut res = Vec::new();
    let flux_kustomization = flux(marks, "kustomize");
    let flux_helm = flux(marks, "helm");
    let helm_release = marks
        .annotation("meta.helm.sh/release-name")
        .filter(|_| marks.label("app.kubernetes.io/managed-by") == Some("Helm"));
    if let Some(tracking) = marks.annotation("argocd.argoproj.io/tracking-id") {
        let app = tracking.split(':').next().unwrap_or(tracking);
        res.push(argo(
            app,
            "annotation argocd.argoproj.io/tracking-id",
            to,
            "",
        ));
    } else if let Some(app) = marks.label("argocd.argoproj.io/instance") {
        res.push(argo(app, "label argocd.argoproj.io/instance", to, ""));
    } else if let Some(app) = marks.label("app.kubernetes.io/instance")
        && helm_release.is_none()
        && flux_kustomization.is_none()
        && flux_helm.is_none()
    {
        res.push(argo(
            app,
            "label app.kubernetes.io/instance (Argo CD's default tracking label; other tools set it too)",
            to,
            "possibly ",
        ));
    }
    if let Some((namespace, name)) = flux_kustomization {
        res.push(Owner {
            tool: Tool::Flux,
            owner: format!("Flux Kustomization {namespace}/{name}"),
            evidence: "labels kustomize.toolkit.fluxcd.io/name and /namespace".to_owned(),
            advice: format!(
                "Flux applies its source again at the next reconciliation and reverts the image; commit {to} to the Git source (e.g. `kustomize edit set image`), or let Flux image automation update it"
            ),
        });
    }
    if let Some((namespace, name)) = flux_helm {
        res.push(Owner {
            tool: Tool::Flux,
            owner: format!("Flux HelmRelease {namespace}/{name}"),
            evidence: "labels helm.toolkit.fluxcd.io/name and /namespace".to_owned(),
            advice: format!(
                "Flux upgrades the release again at the next reconciliation and reverts the image; set {to} in the HelmRelease's values in its source, or let Flux image automation update it"
            ),
        });
    } else if let Some(release) = helm_release {
        let namespace = marks
            .annotation("meta.helm.sh/release-namespace")
            .unwrap_or(&facts.namespace);
        res.push(Owner {
            tool: Tool::Helm,
            owner: format!("Helm release {namespace}/{release}"),
            evidence: "label app.kubernetes.io/managed-by=Helm, annotation meta.helm.sh/release-name".to_owned(),
            advice: format!(
                "the next `helm upgrade` puts the chart's image back; upgrade the release with the new image: `helm upgrade {release} CHART -n {namespace} --reuse-values --set IMAGE_VALUE={to}`"
            ),
        });
    }
    for manager in &marks.image_managers {
        let name = &*manager.manager;
        let containers: Vec<&str> = manager
            .containers
            .iter()
            .filter(|(list, it)| changed.contains(&(*list, &**it)))
            .map(|(_, it)| &**it)
            .collect();
        if !marks::may_own(name, manager.apply) || containers.is_empty() {
            continue;
        }
        let tool = match name {
            _ if name.starts_with("argocd") => Tool::ArgoCd,
            "kustomize-controller" | "helm-controller" => Tool::Flux,
            "helm" => Tool::Helm,
            _ if manager.apply => Tool::FieldManager,
            // An Update by another client (kubectl create, edit, set, a one-off patch) is not
            // repeated by itself.
            _ => continue,
        };
        if res.iter().any(|it| it.tool == tool) {
            continue;
        }
        let operation = if manager.apply { "Apply" } else { "Update" };
        let evidence = format!(
            "managedFields: manager `{name}` ({operation}) owns the image of {}",
            containers
                .iter()
                .map(|it| format!("`{it}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let owner = match tool {
            Tool::ArgoCd => argo("?", &evidence, to, ""),
            Tool::Flux => Owner {
                tool,
                owner: format!("Flux ({name})"),
                evidence,
                advice: format!(
                    "Flux reconciles its source again and reverts the image; commit {to} to the source Flux applies, or let Flux image automation update it"
                ),
            },
            Tool::Helm => Owner {
                tool,
                owner: "a Helm release".to_owned(),
                evidence,
                advice: format!(
                    "the next `helm upgrade` puts the chart's image back; upgrade the release with --set IMAGE_VALUE={to} instead"
                ),
            },
            Tool::FieldManager => Owner {
                tool,
                owner: format!("field manager `{name}` (server-side apply)"),
                evidence,
                advice: format!(
                    "its next apply reverts the image (or conflicts); change the image to {to} in what `{name}` applies"
                ),
            },
        };
        res.push(owner);
    }
    res
}

/// The Flux object named by the `<prefix>.toolkit.fluxcd.io/name` and `/namespace` labels.
fn flux<'a>(marks: &'a Marks, prefix: &str) -> Option<(&'a str, &'a str)> {
    let name = marks.label(&format!("{prefix}.toolkit.fluxcd.io/name"))?;
    let namespace = marks
        .label(&format!("{prefix}.toolkit.fluxcd.io/namespace"))
        .unwrap_or("?");
    Some((namespace, name))
}

fn argo(app: &str, evidence: &str, to: &str, hedge: &str) -> Owner {
    let (owner, app_arg) = if app == "?" {
        ("Argo CD".to_owned(), "APP".to_owned())
    } else {
        (
            format!("{hedge}Argo CD application `{app}`"),
            app.to_owned(),
        )
    };
    Owner {
        tool: Tool::ArgoCd,
        owner,
        evidence: evidence.to_owned(),
        advice: format!(
            "Argo CD syncs the image in Git back (automated sync, or the next sync); change the image in the Application's source instead, or set it with `argocd app set {app_arg} --kustomize-image {to}`"
        ),
    }
}

/// The one-line refusal of `--refuse-managed`: `None` when no changing workload has another
/// owner.
pub fn refusal(plan: &Plan) -> Option<Failure> {
    let managed: Vec<String> = plan
        .changed_workloads()
        .filter(|it| !it.owners.is_empty())
        .map(|it| {
            let owners: Vec<&str> = it.owners.iter().map(|it| it.owner.as_str()).collect();
            format!("{} ({})", key(&it.id), owners.join(", "))
        })
        .collect();
    if managed.is_empty() {
        return None;
    }
    let mut failure = Failure::new(
        Exit::Failed,
        format!(
            "--refuse-managed: {} workload{} managed by another owner that would revert the image: {}; nothing was changed",
            managed.len(),
            if managed.len() == 1 { " is" } else { "s are" },
            managed.join(", ")
        ),
    );
    for workload in plan.changed_workloads() {
        for owner in &workload.owners {
            failure = failure.hint(format!("{}: {}", key(&workload.id), owner.advice));
        }
    }
    Some(failure)
}

/// `namespace/Kind/name`, as the warnings and the refusal name a workload.
pub fn key(id: &ObjectId) -> String {
    format!("{}/{}/{}", id.namespace, id.kind, id.name)
}
