//! How a run failed, on stderr: a failed migration with its last log lines, a failed rollout, why
//! each workload failed (in collapsed CI log groups), and a rollback that did not complete with the
//! commands that finish it by hand. Each also becomes a CI error annotation.

use std::io::{self, Write};

use console::Style;

use crate::output::{annotate, ci, plural};
use crate::plan::patch::Patched;
use crate::report::Report;
use crate::run::outcome::Outcome;

/// A failed migration: its reason and last log lines; nothing else was touched.
pub fn migration_failure(outcome: &Outcome) -> io::Result<()> {
    failed_migration(
        outcome,
        "Migration failed",
        "migration",
        "no workload was changed",
    )
}

/// A failed rollback migration: the workloads were rolled back, the rollback is incomplete.
pub fn rollback_migration_failure(outcome: &Outcome) -> io::Result<()> {
    failed_migration(
        outcome,
        "Rollback migration failed",
        "rollback migration",
        "the workloads were rolled back, but the rollback is incomplete",
    )
}

/// A failed migration Job, its last log lines and how to read the rest.
fn failed_migration(outcome: &Outcome, title: &str, what: &str, state: &str) -> io::Result<()> {
    let red = Style::new().red().bold().for_stderr();
    let mut stderr = io::stderr().lock();
    let text = format!(
        "{what} {} (from template {}) failed: {}; {state}",
        outcome.job,
        outcome.template,
        outcome.reason.as_deref().unwrap_or("unknown reason")
    );
    writeln!(stderr, "{} {text}", red.apply_to("error:"))?;
    if !outcome.last_lines.is_empty() {
        writeln!(stderr, "  last log lines of {}:", outcome.job)?;
        for line in &outcome.last_lines {
            writeln!(stderr, "    {line}")?;
        }
    }
    writeln!(
        stderr,
        "  hint: see the whole log with `kubectl logs -n {} job/{}`",
        outcome.namespace, outcome.job
    )?;
    drop(stderr);
    annotate(title, &text)
}

/// A failed rollout, rolled back or (with --no-rollback) left in place.
pub fn rollout_failure(failure: &str, rolled_back: bool) -> io::Result<()> {
    let red = Style::new().red().bold().for_stderr();
    let what = if rolled_back {
        "every changed workload was rolled back to its previous images"
    } else {
        "--no-rollback: the workloads were left as they are"
    };
    writeln!(
        io::stderr().lock(),
        "{} rollout failed: {}; {what}",
        red.apply_to("error:"),
        short_reason(failure)
    )?;
    annotate(
        "Rollout failed",
        &format!("rollout failed: {}; {what}", short_reason(failure)),
    )
}

/// Why each failed workload failed: one failing pod's Warning Events and last log lines, on
/// stderr, each in a collapsed CI log group.
pub fn diagnoses(report: &Report) -> io::Result<()> {
    let service = ci::Service::detect();
    let mut stderr = io::stderr().lock();
    for workload in &report.workloads {
        let Some(diagnosis) = &workload.diagnosis else {
            continue;
        };
        let key = format!(
            "{}/{}/{}",
            workload.namespace,
            workload.kind.to_lowercase(),
            workload.name
        );
        let title = format!("Why {key} failed: pod {}", diagnosis.pod);
        let group = service.group_start(&format!("diagnosis-{key}"), &title);
        match &group {
            Some(start) => writeln!(stderr, "{start}")?,
            None => writeln!(stderr, "  {title}")?,
        }
        for line in diagnosis_lines(diagnosis) {
            writeln!(stderr, "    {line}")?;
        }
        if group.is_some()
            && let Some(end) = service.group_end(&format!("diagnosis-{key}"))
        {
            writeln!(stderr, "{end}")?;
        }
    }
    Ok(())
}

/// A diagnosis as text lines (UIDs left out; the JSON report keeps every message whole).
pub fn diagnosis_lines(diagnosis: &crate::report::Diagnosis) -> Vec<String> {
    let mut lines = Vec::new();
    if diagnosis.events.is_empty() {
        lines.push("warning events: none".to_owned());
    } else {
        lines.push("warning events:".to_owned());
        for event in &diagnosis.events {
            let times = if event.count > 1 {
                format!(" (×{})", event.count)
            } else {
                String::new()
            };
            lines.push(format!(
                "  {}: {}{times}",
                event.reason,
                without_uids(&event.message)
            ));
        }
    }
    let container = diagnosis.container.as_deref().unwrap_or("its container");
    match diagnosis.logs_of.as_deref() {
        Some(of) if diagnosis.log_lines.is_empty() => {
            lines.push(format!("log of {container} ({of} run): empty"));
        }
        Some(of) => {
            lines.push(format!(
                "last {} log line{} of {container} ({of} run):",
                diagnosis.log_lines.len(),
                plural(diagnosis.log_lines.len())
            ));
            for line in &diagnosis.log_lines {
                lines.push(format!("  {line}"));
            }
        }
        None if diagnosis.problems.is_empty() => {
            lines.push(format!("log of {container}: none"));
        }
        None => (),
    }
    lines.extend(diagnosis.problems.iter().cloned());
    lines
}

/// A failure reason as the text output shows it: without pod UIDs and kubelet's repetition of the
/// pod and container, at most 160 columns. The JSON report keeps the whole text.
pub fn short_reason(reason: &str) -> String {
    let mut res = without_uids(reason);
    // kubelet's CrashLoopBackOff message repeats the container and the pod:
    // `back-off 10s restarting failed container=app pod=web-…_default`.
    if let Some(at) = res.find(" restarting failed container=") {
        res.truncate(at);
    }
    console::truncate_str(res.trim_end(), 160, "…").into_owned()
}

/// A Kubernetes UID: 36 characters of hex digits and dashes, dashes at 8, 13, 18 and 23.
fn is_uid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(idx, c)| match idx {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `text` without Kubernetes UIDs in parentheses.
fn without_uids(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close) if is_uid(&after[..close]) => {
                res.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                res.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    res.push_str(rest);
    res
}

/// A rollback that could not complete: each workload's state and how to finish by hand.
pub fn rollback_failure(report: &Report, patched: &[Patched]) -> io::Result<()> {
    let red = Style::new().red().bold().for_stderr();
    let mut stderr = io::stderr().lock();
    writeln!(
        stderr,
        "{} the rollback did not complete; the application may be half updated",
        red.apply_to("error:")
    )?;
    for workload in patched {
        let state = report
            .workloads
            .iter()
            .find(|it| {
                it.namespace == workload.id.namespace
                    && it.name == workload.id.name
                    && it.kind == workload.id.kind.as_str()
            })
            .map(|it| match &it.reason {
                Some(reason) => format!("{} ({reason})", it.status),
                None => it.status.clone(),
            })
            .unwrap_or_default();
        let images: Vec<String> = workload
            .previous
            .containers
            .iter()
            .map(|it| format!("{}={}", it.name, it.previous))
            .collect();
        writeln!(
            stderr,
            "  {}/{}/{}: {state}",
            workload.id.namespace, workload.id.kind, workload.id.name
        )?;
        writeln!(
            stderr,
            "    finish by hand: kubectl set image -n {} {}/{} {}",
            workload.id.namespace,
            workload.id.kind.as_str().to_lowercase(),
            workload.id.name,
            images.join(" ")
        )?;
    }
    drop(stderr);
    annotate(
        "Rollback failed",
        "the rollback did not complete; the application may be half updated",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reason_loses_uids_and_kubelets_repetition() {
        assert_eq!(
            short_reason(
                "shop/deployment/web: pod web-1 container app is in CrashLoopBackOff: back-off 10s restarting failed container=app pod=web-1_shop(0f9c2e3a-1b2c-4d5e-8f90-123456789abc)"
            ),
            "shop/deployment/web: pod web-1 container app is in CrashLoopBackOff: back-off 10s"
        );
        assert_eq!(short_reason("exit (1) (not a uid)"), "exit (1) (not a uid)");
    }
}
