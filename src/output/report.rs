//! The report of a live run or a rollback: `-o json` as one JSON object, or the outcome tables
//! with a summary line on stderr; also appended to the CI step summary. Failures are told apart
//! (`failure`), so that each is told once. Never changes a report beyond stamping its duration.

use std::io::{self, Write};
use std::time::Duration;

use console::Style;

use crate::cli::OutputFormat;
use crate::output::plan::plan_table;
use crate::output::table::{self, Cell, Role};
use crate::output::{ci, message, plural};
use crate::plan::Plan;
use crate::report::{MigrationReport, Report};

/// Prints the report of a live run: JSON, or tables (the plan for a dry run, the outcome otherwise)
/// with a summary line on stderr.
pub fn live_report(
    report: &mut Report,
    plan: &Plan,
    format: OutputFormat,
    elapsed: Duration,
) -> io::Result<()> {
    let report = finished(report, elapsed);
    if format == OutputFormat::Json {
        return json(report);
    }
    live_text(report, plan, elapsed, "")
}

/// The text of a live run's report: the plan for a dry run, else the outcome, on stdout, and a
/// summary line on stderr, after `label` (a fleet's `[context] `, else empty).
pub fn live_text(report: &Report, plan: &Plan, elapsed: Duration, label: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    let seconds = format!("{:.1}s", elapsed.as_secs_f64());
    if report.result == "planned" {
        stdout.write_all(plan_table(plan).as_bytes())?;
        stdout.flush()?;
        let mode = report.dry_run.as_deref().unwrap_or("client");
        let detail = if mode == "server" {
            "the server accepted every write, and "
        } else {
            ""
        };
        return message(&format!(
            "{label}Dry run ({mode}): {} workload{} to update, {} migration{} to run{}; {detail}nothing was changed",
            plan.changed_workloads().count(),
            plural(plan.changed_workloads().count()),
            plan.migrations.len(),
            plural(plan.migrations.len()),
            crate::output::plan::rollback_standby(plan),
        ));
    }
    stdout.write_all(outcome_table(report, table::terminal_width()).as_bytes())?;
    stdout.flush()?;
    let green = Style::new().green().bold().for_stderr();
    match report.result.as_str() {
        "succeeded" => {
            let n = report
                .workloads
                .iter()
                .filter(|it| it.status == "succeeded")
                .count();
            message(&format!(
                "{label}{} {n} workload{} updated in {seconds}",
                green.apply_to("Succeeded:"),
                plural(n)
            ))
        }
        "unchanged" => message(&format!(
            "{label}{} every workload already runs the target; nothing was written",
            green.apply_to("Unchanged:")
        )),
        _ => Ok(()),
    }
}

/// The outcome per workload and migration, as things stand now: a rolled-back workload shows the
/// images it runs again and, apart, the ones that were tried. Reasons are left to the one error
/// line (and the JSON report), so that a failure is told once.
fn outcome_table(report: &Report, width: usize) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    out.push_str(&migration_table("Migrations", &report.migrations, width));
    let header =
        ["NAMESPACE", "KIND", "NAME", "STATUS", "IMAGES"].map(|it| bold.apply_to(it).to_string());
    let rows: Vec<[Cell; 5]> = report
        .workloads
        .iter()
        .map(|workload| {
            let images: Vec<String> = workload
                .containers
                .iter()
                .map(|it| running_now(&workload.status, it))
                .collect();
            [
                workload.namespace.as_str().into(),
                workload.kind.as_str().into(),
                workload.name.as_str().into(),
                workload.status.as_str().into(),
                Cell(images),
            ]
        })
        .collect();
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{}\n", bold.apply_to("Workloads")));
    out.push_str(&table::render(
        header,
        &rows,
        [
            Role::Plain,
            Role::Kind,
            Role::Name,
            Role::Plain,
            Role::Images,
        ],
        width,
    ));
    let rollback = migration_table("Rollback migrations", &report.rollback_migrations, width);
    if !rollback.is_empty() {
        out.push('\n');
        out.push_str(&rollback);
    }
    out
}

/// A titled table of migrations and how each ended; empty when there are none.
fn migration_table(title: &str, migrations: &[MigrationReport], width: usize) -> String {
    if migrations.is_empty() {
        return String::new();
    }
    let bold = Style::new().bold();
    let header = ["NAMESPACE", "TEMPLATE", "JOB", "STATUS", "DURATION"]
        .map(|it| bold.apply_to(it).to_string());
    let rows: Vec<[Cell; 5]> = migrations
        .iter()
        .map(|migration| {
            [
                migration.namespace.as_str().into(),
                migration.template.as_str().into(),
                migration.job.as_deref().unwrap_or("-").into(),
                migration.status.as_deref().unwrap_or("-").into(),
                migration
                    .duration_seconds
                    .map_or_else(|| "-".to_owned(), |it| format!("{it:.1}s"))
                    .into(),
            ]
        })
        .collect();
    let mut out = format!("{}\n", bold.apply_to(title));
    out.push_str(&table::render(
        header,
        &rows,
        [
            Role::Plain,
            Role::Name,
            Role::Name,
            Role::Plain,
            Role::Plain,
        ],
        width,
    ));
    out
}

/// A container's image as it is now, given its workload's status.
fn running_now(status: &str, container: &crate::report::ContainerReport) -> String {
    let name = &container.name;
    let (from, to) = (&container.from, &container.to);
    match status {
        "rolled-back" => format!("{name}={from}{}(tried {to})", table::SOFT_BREAK),
        "not-started" => format!("{name}={from}{}(planned {to})", table::SOFT_BREAK),
        "rollback-failed" => format!(
            "{name}={to}{}(rollback to {from} failed)",
            table::SOFT_BREAK
        ),
        _ => format!("{name}={to}"),
    }
}

/// Prints the report of `kubectl update rollback`.
pub fn rollback_report(
    report: &mut Report,
    format: OutputFormat,
    elapsed: Duration,
) -> io::Result<()> {
    let report = finished(report, elapsed);
    if format == OutputFormat::Json {
        return json(report);
    }
    let mut stdout = io::stdout().lock();
    let bold = Style::new().bold();
    let header = [
        "NAMESPACE",
        "KIND",
        "NAME",
        "CONTAINER",
        "FROM",
        "TO",
        "STATUS",
    ]
    .map(|it| bold.apply_to(it).to_string());
    let mut rows: Vec<[Cell; 7]> = Vec::new();
    for workload in &report.workloads {
        for container in &workload.containers {
            rows.push([
                workload.namespace.as_str().into(),
                workload.kind.as_str().into(),
                workload.name.as_str().into(),
                container.name.as_str().into(),
                container.from.as_str().into(),
                container.to.as_str().into(),
                workload.status.as_str().into(),
            ]);
        }
    }
    let roles = [
        Role::Plain,
        Role::Kind,
        Role::Name,
        Role::Plain,
        Role::Images,
        Role::Images,
        Role::Plain,
    ];
    stdout.write_all(table::render(header, &rows, roles, table::terminal_width()).as_bytes())?;
    stdout.flush()?;
    match report.result.as_str() {
        "rolled-back" => message(&format!(
            "Rolled back {} workload(s) in {:.1}s",
            report.workloads.len(),
            elapsed.as_secs_f64()
        )),
        "planned" => message("Dry run: nothing was changed"),
        _ => Ok(()),
    }
}

/// A copy of the report stamped with the run's duration; also appended to the CI step summary.
fn finished(report: &mut Report, elapsed: Duration) -> &Report {
    // Set in place, not on a copy: a report of 10,000 workloads is megabytes.
    report.duration_seconds = Some(crate::report::round(elapsed.as_secs_f64()));
    ci::append_step_summary(report);
    report
}

/// Writes a report as one pretty JSON object on stdout.
pub fn json(report: &Report) -> io::Result<()> {
    // Buffered: stdout is line-buffered, and a report of 10,000 workloads has 130,000 lines.
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    serde_json::to_writer_pretty(&mut stdout, report)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

#[cfg(test)]
mod tests;
