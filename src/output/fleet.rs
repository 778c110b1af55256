//! The report of a fleet (several `--context`): `-o json` as one object with a `clusters` section,
//! or one section per cluster (a heading with its wave, context and server, then the tables a
//! single cluster's run prints), grouped per cluster in CI logs, and a summary of every cluster
//! on stderr. Never changes a report beyond stamping its duration.

use std::io::{self, Write};
use std::time::Duration;

use console::Style;

use crate::cli::OutputFormat;
use crate::output::report::{json, live_text};
use crate::output::{ci, message, plural};
use crate::plan::Plan;
use crate::report::{ClusterReport, Report, round};

/// Prints a fleet's report; `plans` are the clusters' plans, in the order of `report.clusters`.
pub fn fleet_report(
    report: &mut Report,
    plans: &[&Plan],
    format: OutputFormat,
    elapsed: Duration,
) -> io::Result<()> {
    report.duration_seconds = Some(round(elapsed.as_secs_f64()));
    for cluster in &report.clusters {
        let title = format!("{}\n\n", heading(cluster));
        ci::append_to_step_summary(&format!(
            "#### {title}{}",
            ci::step_summary(&cluster.report)
        ));
    }
    if format == OutputFormat::Json {
        return json(report);
    }
    let service = ci::Service::detect();
    let bold = Style::new().bold();
    for (idx, (cluster, plan)) in report.clusters.iter().zip(plans).enumerate() {
        let key = format!("kubectl-update-cluster-{}", idx + 1);
        let title = heading(cluster);
        {
            let mut stdout = io::stdout().lock();
            if idx > 0 {
                writeln!(stdout)?;
            }
            if let Some(line) = service.group_start(&key, &title) {
                writeln!(stdout, "{line}")?;
            }
            writeln!(stdout, "{}", bold.apply_to(format!("== {title} ==")))?;
            stdout.flush()?;
        }
        let seconds = cluster.report.duration_seconds.unwrap_or_default();
        let label = format!("[{}] ", cluster.context);
        live_text(
            &cluster.report,
            plan,
            Duration::from_secs_f64(seconds),
            &label,
        )?;
        if let Some(line) = service.group_end(&key) {
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "{line}")?;
            stdout.flush()?;
        }
    }
    summary(report, elapsed)
}

/// `Wave 1 · cluster prod-eu (https://…)`.
fn heading(cluster: &ClusterReport) -> String {
    format!(
        "Wave {} · cluster {} ({})",
        cluster.wave, cluster.context, cluster.server
    )
}

/// One line for the fleet, then one per cluster with its result and why, on stderr.
fn summary(report: &Report, elapsed: Duration) -> io::Result<()> {
    let waves = report.clusters.iter().map(|it| it.wave).max().unwrap_or(0);
    let n = report.clusters.len();
    let mut text = format!(
        "Fleet: {} in {n} cluster{} and {waves} wave{} in {:.1}s",
        report.result,
        plural(n),
        plural(waves),
        elapsed.as_secs_f64()
    );
    if let Some(reason) = &report.reason {
        text.push_str(&format!(" ({reason})"));
    }
    for cluster in &report.clusters {
        text.push_str(&format!(
            "\n  wave {}  {}  {}",
            cluster.wave, cluster.context, cluster.report.result
        ));
        if let Some(reason) = &cluster.report.reason {
            text.push_str(&format!(": {reason}"));
        }
    }
    message(&text)
}
