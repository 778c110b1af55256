//! The drift guard's warning: the workloads of a plan that another owner (Argo CD, Flux, Helm, a
//! server-side apply manager) would put back to the old image, one block on stderr, and a warning
//! annotation per workload on GitHub Actions. Renders only; `plan::owners` decides who owns what.

use std::io;

use console::Style;

use crate::output::{ci, message};
use crate::plan::Plan;
use crate::plan::owners::key;

/// The warning block's lines (empty when no changing workload has another owner).
pub fn lines(plan: &Plan) -> Vec<String> {
    let managed: Vec<_> = plan
        .changed_workloads()
        .filter(|it| !it.owners.is_empty())
        .collect();
    if managed.is_empty() {
        return Vec::new();
    }
    let mut res = vec![format!(
        "{} workload{} managed by another owner, which may put the old image back (--refuse-managed makes this an error):",
        managed.len(),
        if managed.len() == 1 { " is" } else { "s are" },
    )];
    for workload in managed {
        for owner in &workload.owners {
            res.push(format!(
                "  {}: {} ({})",
                key(&workload.id),
                owner.owner,
                owner.evidence
            ));
            res.push(format!("    instead: {}", owner.advice));
        }
    }
    res
}

/// Prints the warning block on stderr, and on GitHub Actions one warning annotation per owner.
pub fn warn(plan: &Plan) -> io::Result<()> {
    let lines = lines(plan);
    let Some((first, rest)) = lines.split_first() else {
        return Ok(());
    };
    let yellow = Style::new().yellow().bold().for_stderr();
    message(&format!("{} {first}", yellow.apply_to("warning:")))?;
    for line in rest {
        message(line)?;
    }
    let service = ci::Service::detect();
    for workload in plan.changed_workloads() {
        for owner in &workload.owners {
            let title = format!("{} is managed by {}", key(&workload.id), owner.owner);
            let text = format!("{} ({}); {}", title, owner.evidence, owner.advice);
            if let Some(line) = service.warning_annotation(&title, &text) {
                message(&line)?;
            }
        }
    }
    Ok(())
}
