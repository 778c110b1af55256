//! The only module that prints. stdout carries data (the plan table, the JSON report, manifests,
//! completion scripts); stderr carries messages, progress and errors.

use std::io::{self, Write};

use console::{Style, measure_text_width};

use crate::cli::{ColorChoice, DryRun, OutputFormat};
use crate::error::Failure;
use crate::manifest;
use crate::offline::Preview;
use crate::plan::Plan;
use crate::report::{Report, dry_run_name};
use crate::workload::ContainerList;

/// Applies `--color` (and, under `auto`, NO_COLOR, CLICOLOR and whether each stream is a
/// terminal, which console checks itself).
pub fn init(color: ColorChoice) {
    match color {
        ColorChoice::Auto => (),
        ColorChoice::Always => {
            console::set_colors_enabled(true);
            console::set_colors_enabled_stderr(true);
        }
        ColorChoice::Never => {
            console::set_colors_enabled(false);
            console::set_colors_enabled_stderr(false);
        }
    }
}

/// Prints an offline preview in the chosen format, and a one-line summary on stderr.
pub fn preview(preview: &Preview, format: OutputFormat, dry_run: DryRun) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match format {
        OutputFormat::Text => stdout.write_all(plan_table(&preview.plan).as_bytes())?,
        OutputFormat::Json => {
            let report = Report::planned(&preview.plan, dry_run);
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            stdout.write_all(b"\n")?;
        }
        OutputFormat::Yaml => {
            let text = manifest::to_yaml(&preview.updated).map_err(io::Error::other)?;
            stdout.write_all(text.as_bytes())?;
        }
    }
    stdout.flush()?;
    let plan = &preview.plan;
    let n_changed = plan.changed_workloads().count();
    let n_unchanged = plan.workloads.len() - n_changed;
    let summary = format!(
        "Offline preview of {} document{}: {} workload{} to update, {} already at the target, {} migration{} to run; nothing was written (dry run: {})",
        preview.n_documents,
        plural(preview.n_documents),
        n_changed,
        plural(n_changed),
        n_unchanged,
        plan.migrations.len(),
        plural(plan.migrations.len()),
        dry_run_name(dry_run),
    );
    message(&summary)
}

/// The plan as aligned tables: workloads, migrations, near misses.
pub fn plan_table(plan: &Plan) -> String {
    let bold = Style::new().bold();
    let old = Style::new().red();
    let new = Style::new().green();
    let dim = Style::new().dim();
    let mut out = String::new();
    let images: Vec<&str> = plan.images.iter().map(|it| it.as_str()).collect();
    out.push_str(&format!(
        "Classifier {} · image{} {}\n",
        bold.apply_to(&plan.classifier),
        plural(images.len()),
        images.join(", ")
    ));

    if !plan.workloads.is_empty() {
        let mut rows = vec![
            ["NAMESPACE", "KIND", "NAME", "CONTAINER", "FROM", "TO"]
                .map(|it| bold.apply_to(it).to_string()),
        ];
        for workload in &plan.workloads {
            let id = &workload.id;
            if workload.changes.is_empty() {
                rows.push([
                    id.namespace.clone(),
                    id.kind.to_string(),
                    id.name.clone(),
                    "-".to_owned(),
                    dim.apply_to("(already at the target)").to_string(),
                    String::new(),
                ]);
            }
            for change in &workload.changes {
                let container = match change.list {
                    ContainerList::InitContainers => format!("init:{}", change.container),
                    ContainerList::Containers => change.container.clone(),
                };
                rows.push([
                    id.namespace.clone(),
                    id.kind.to_string(),
                    id.name.clone(),
                    container,
                    old.apply_to(&change.from).to_string(),
                    new.apply_to(&change.to).to_string(),
                ]);
            }
        }
        out.push_str(&format!("\n{}\n", bold.apply_to("Workloads")));
        out.push_str(&table(&rows));
    }
    if !plan.migrations.is_empty() {
        let mut rows =
            vec![["NAMESPACE", "JOB TEMPLATE", "IMAGE"].map(|it| bold.apply_to(it).to_string())];
        for migration in &plan.migrations {
            rows.push([
                migration.template.namespace.clone(),
                migration.template.name.clone(),
                new.apply_to(&migration.image).to_string(),
            ]);
        }
        out.push_str(&format!(
            "\n{} (run first, before any workload changes)\n",
            bold.apply_to("Migrations")
        ));
        out.push_str(&table(&rows));
    }
    if !plan.near_misses.is_empty() {
        out.push_str(&format!(
            "\n{} (not updated)\n",
            bold.apply_to("Near misses")
        ));
        for miss in &plan.near_misses {
            out.push_str(&format!(
                "  {}/{}/{}: {}\n",
                miss.id.namespace, miss.id.kind, miss.id.name, miss.reason
            ));
        }
    }
    out
}

/// Left-aligned columns, two spaces apart, widths measured without colour codes.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (idx, cell) in row.iter().enumerate() {
            widths[idx] = widths[idx].max(measure_text_width(cell));
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(" ");
        for (idx, cell) in row.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            if idx + 1 < N {
                line.push_str(&" ".repeat(widths[idx] - measure_text_width(cell) + 1));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A plain message on stderr.
pub fn message(text: &str) -> io::Result<()> {
    writeln!(io::stderr().lock(), "{text}")
}

/// Prints an error once, with its whole chain on one line, then any hints.
pub fn error(err: &anyhow::Error) {
    let red = Style::new().red().bold().for_stderr();
    let cyan = Style::new().cyan().for_stderr();
    let mut stderr = io::stderr().lock();
    let failure = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>());
    let _ = writeln!(stderr, "{} {err:#}", red.apply_to("error:"));
    for hint in failure.map(|it| it.hints.as_slice()).unwrap_or_default() {
        let _ = writeln!(stderr, "  {} {hint}", cyan.apply_to("hint:"));
    }
}

/// Prints a completion script for `shell`.
pub fn completion(shell: clap_complete::Shell, command: &mut clap::Command) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, command, "kubectl-update", &mut script);
    let mut stdout = io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
