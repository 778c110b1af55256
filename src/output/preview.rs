//! The offline preview: the plan table, the diff of `--write` or `-o diff`, JSON or the updated
//! YAML on stdout, and a one-line summary on stderr. Never writes a file (`preview::rewrite` does).

use std::io::{self, Write};

use console::Style;

use crate::cli::{DryRun, OutputFormat};
use crate::output::plan::plan_table;
use crate::output::{ci, message, plural};
use crate::preview::Preview;
use crate::preview::rewrite::{self, Rewrite};
use crate::report::{Report, dry_run_name};

/// Prints an offline preview in the chosen format, and a one-line summary on stderr. With
/// `--write` (`written`), text output is the diff of the files written and JSON output lists them.
pub fn preview(
    preview: &Preview,
    rewrites: &[Rewrite],
    format: OutputFormat,
    written: bool,
    dry_run: DryRun,
) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match format {
        OutputFormat::Text if written => stdout.write_all(colored_diff(rewrites).as_bytes())?,
        OutputFormat::Diff => stdout.write_all(colored_diff(rewrites).as_bytes())?,
        OutputFormat::Text => stdout.write_all(plan_table(&preview.plan).as_bytes())?,
        OutputFormat::Json => {
            let mut report = Report::planned(&preview.plan, dry_run);
            if written {
                if !rewrites.is_empty() {
                    report.result = "written".to_owned();
                }
                report.dry_run = None;
                report.files_written = Some(rewrites.iter().map(|it| it.name.clone()).collect());
            }
            let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut stdout);
            serde_json::to_writer_pretty(&mut buffered, &report)?;
            buffered.write_all(b"\n")?;
            buffered.flush()?;
        }
        OutputFormat::Yaml => {
            let text = crate::preview::updated_yaml(preview).map_err(io::Error::other)?;
            stdout.write_all(text.as_bytes())?;
        }
    }
    stdout.flush()?;
    for warning in &preview.warnings {
        message(&format!("warning: {warning}"))?;
    }
    crate::output::owners::warn(&preview.plan)?;
    if written {
        let n_files = rewrites.len();
        let n_changed = preview.plan.changed_workloads().count();
        return message(&format!(
            "Wrote {n_files} file{} ({n_changed} workload{} updated in place); files with nothing to change were not touched",
            plural(n_files),
            plural(n_changed),
        ));
    }
    ci::append_step_summary(&Report::planned(&preview.plan, dry_run));
    let plan = &preview.plan;
    let n_changed = plan.changed_workloads().count();
    let n_unchanged = plan.workloads.len() - n_changed;
    let summary = format!(
        "Offline preview of {} document{}: {} workload{} to update, {} already at the target, {} migration{} to run{}; nothing was written (dry run: {})",
        preview.n_documents,
        plural(preview.n_documents),
        n_changed,
        plural(n_changed),
        n_unchanged,
        plan.migrations.len(),
        plural(plan.migrations.len()),
        crate::output::plan::rollback_standby(plan),
        dry_run_name(dry_run),
    );
    message(&summary)
}

/// A unified diff, `-` lines red and `+` lines green on a terminal.
fn colored_diff(rewrites: &[Rewrite]) -> String {
    let text = rewrite::diff(rewrites);
    if !console::colors_enabled() {
        return text;
    }
    let mut res = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let style = match line.as_bytes().first() {
            Some(b'-') if !line.starts_with("---") => Style::new().red(),
            Some(b'+') if !line.starts_with("+++") => Style::new().green(),
            Some(b'@') => Style::new().cyan(),
            _ => Style::new(),
        };
        let (body, end) = line.split_at(line.trim_end_matches(['\n', '\r']).len());
        res.push_str(&style.apply_to(body).to_string());
        res.push_str(end);
    }
    res
}
