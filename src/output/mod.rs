//! The only module that prints. stdout carries data (the plan table, the JSON report, manifests,
//! completion scripts); stderr carries messages, progress and errors.

pub mod ci;
pub mod progress;

use std::io::{self, Write};
use std::time::Duration;

use console::{Style, measure_text_width};

use crate::cli::{ColorChoice, DryRun, OutputFormat};
use crate::complete::Completion;
use crate::error::Failure;
use crate::manifest;
use crate::migrate::Outcome;
use crate::offline::Preview;
use crate::plan::Plan;
use crate::report::{Report, dry_run_name};
use crate::rewrite::{self, Rewrite};
use crate::rollback::Patched;
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
            let text = crate::offline::updated_yaml(preview).map_err(io::Error::other)?;
            stdout.write_all(text.as_bytes())?;
        }
    }
    stdout.flush()?;
    for warning in &preview.warnings {
        message(&format!("warning: {warning}"))?;
    }
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
    drop(stderr);
    let _ = annotate("kubectl update failed", &format!("{err:#}"));
}

/// Prints clap's message for a usage error (or the help or version asked for) and exits with its
/// code; a real usage error also gets a CI error annotation.
pub fn usage_error(err: clap::Error) -> ! {
    if !err.use_stderr() {
        err.exit()
    }
    let _ = err.print();
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    let _ = annotate(
        "kubectl update: usage",
        first.strip_prefix("error: ").unwrap_or(first),
    );
    std::process::exit(err.exit_code())
}

/// A CI error annotation (GitHub Actions), printed besides the usual message.
fn annotate(title: &str, message: &str) -> io::Result<()> {
    match ci::Service::detect().error_annotation(title, message) {
        Some(line) => writeln!(io::stderr().lock(), "{line}"),
        None => Ok(()),
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

/// Prints a completion answer in kubectl's plugin protocol: `value` or `value<TAB>help` per line,
/// then `:<directive>`.
pub fn completion_candidates(completion: &Completion) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    for candidate in &completion.candidates {
        match &candidate.help {
            Some(help) => writeln!(stdout, "{}\t{help}", candidate.value)?,
            None => writeln!(stdout, "{}", candidate.value)?,
        }
    }
    writeln!(stdout, ":{}", completion.directive as u8)?;
    stdout.flush()
}

/// Prints the man page. Its version is the crate's alone, so that the committed page does not go
/// stale with every commit.
pub fn man_page(command: clap::Command) -> io::Result<()> {
    let command = command
        .name("kubectl-update")
        .version(env!("CARGO_PKG_VERSION"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut stdout = io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

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
            "Dry run ({mode}): {} workload{} to update, {} migration{} to run; {detail}nothing was changed",
            plan.changed_workloads().count(),
            plural(plan.changed_workloads().count()),
            plan.migrations.len(),
            plural(plan.migrations.len()),
        ));
    }
    stdout.write_all(outcome_table(report).as_bytes())?;
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
                "{} {n} workload{} updated in {seconds}",
                green.apply_to("Succeeded:"),
                plural(n)
            ))
        }
        "unchanged" => message(&format!(
            "{} every workload already runs the target; nothing was written",
            green.apply_to("Unchanged:")
        )),
        _ => Ok(()),
    }
}

/// The outcome per workload and migration.
fn outcome_table(report: &Report) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    if !report.migrations.is_empty() {
        let mut rows = vec![
            ["NAMESPACE", "TEMPLATE", "JOB", "STATUS", "DURATION"]
                .map(|it| bold.apply_to(it).to_string()),
        ];
        for migration in &report.migrations {
            rows.push([
                migration.namespace.clone(),
                migration.template.clone(),
                migration.job.clone().unwrap_or_else(|| "-".to_owned()),
                migration.status.clone().unwrap_or_else(|| "-".to_owned()),
                migration
                    .duration_seconds
                    .map_or_else(|| "-".to_owned(), |it| format!("{it:.1}s")),
            ]);
        }
        out.push_str(&format!("{}\n", bold.apply_to("Migrations")));
        out.push_str(&table(&rows));
    }
    let mut rows = vec![
        ["NAMESPACE", "KIND", "NAME", "STATUS", "IMAGES"].map(|it| bold.apply_to(it).to_string()),
    ];
    for workload in &report.workloads {
        let images: Vec<String> = workload
            .containers
            .iter()
            .map(|it| format!("{}={}", it.name, it.to))
            .collect();
        let status = match &workload.reason {
            Some(reason) => format!(
                "{} ({})",
                workload.status,
                console::truncate_str(reason, 70, "…")
            ),
            None => workload.status.clone(),
        };
        rows.push([
            workload.namespace.clone(),
            workload.kind.clone(),
            workload.name.clone(),
            status,
            images.join(", "),
        ]);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{}\n", bold.apply_to("Workloads")));
    out.push_str(&table(&rows));
    out
}

/// A failed migration: its reason and last log lines; nothing else was touched.
pub fn migration_failure(outcome: &Outcome) -> io::Result<()> {
    let red = Style::new().red().bold().for_stderr();
    let mut stderr = io::stderr().lock();
    writeln!(
        stderr,
        "{} migration {} (from template {}) failed: {}; no workload was changed",
        red.apply_to("error:"),
        outcome.job,
        outcome.template,
        outcome.reason.as_deref().unwrap_or("unknown reason")
    )?;
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
    annotate(
        "Migration failed",
        &format!(
            "migration {} (from template {}) failed: {}; no workload was changed",
            outcome.job,
            outcome.template,
            outcome.reason.as_deref().unwrap_or("unknown reason")
        ),
    )
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
        "{} rollout failed: {failure}; {what}",
        red.apply_to("error:")
    )?;
    annotate(
        "Rollout failed",
        &format!("rollout failed: {failure}; {what}"),
    )
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
    let mut rows = vec![
        [
            "NAMESPACE",
            "KIND",
            "NAME",
            "CONTAINER",
            "FROM",
            "TO",
            "STATUS",
        ]
        .map(|it| bold.apply_to(it).to_string()),
    ];
    for workload in &report.workloads {
        for container in &workload.containers {
            rows.push([
                workload.namespace.clone(),
                workload.kind.clone(),
                workload.name.clone(),
                container.name.clone(),
                container.from.clone(),
                container.to.clone(),
                workload.status.clone(),
            ]);
        }
    }
    stdout.write_all(table(&rows).as_bytes())?;
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

/// Prints Kubernetes objects as multi-document YAML or a JSON List.
pub fn manifests(
    objects: &[serde_json::Value],
    format: crate::cli::ManifestFormat,
) -> io::Result<()> {
    let text = match format {
        crate::cli::ManifestFormat::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).map_err(io::Error::other)?
            )
        }
        crate::cli::ManifestFormat::Yaml => {
            let documents: Vec<manifest::Document> = objects
                .iter()
                .map(|value| manifest::Document {
                    source: String::new(),
                    index: 0,
                    value: value.clone(),
                    layout: None,
                })
                .collect();
            manifest::to_yaml(&documents).map_err(io::Error::other)?
        }
    };
    data(&text)
}

/// A minted CI kubeconfig on stdout; on stderr who it is for, when the API server made it expire,
/// and how to revoke it sooner.
pub fn minted(minted: &crate::grant::Minted) -> io::Result<()> {
    let granted = humantime::format_duration(minted.granted_rounded());
    let mut lines = vec![format!(
        "minted a token for {}: it expires at {} (in {granted})",
        minted.identity, minted.expires
    )];
    if minted.granted_rounded() != minted.requested {
        lines.push(format!(
            "note: the API server granted {granted}, not the {} asked for (its --service-account-max-token-expiration)",
            humantime::format_duration(minted.requested)
        ));
    }
    if minted.requested > crate::grant::LONGEST_RECOMMENDED {
        lines.push(
            "note: a token longer than a day outlives the pipeline run it is for: mint one per run (see the README's security model)"
                .to_owned(),
        );
    }
    match &minted.revocation_secret {
        Some((namespace, name)) => lines.push(format!(
            "revoke it before then with: kubectl delete secret {name} -n {namespace}"
        )),
        None => lines
            .push("it is bound to no Secret: it cannot be revoked before it expires".to_owned()),
    }
    for line in lines {
        message(&line)?;
    }
    data(&minted.kubeconfig)
}

/// Writes data to stdout as is.
pub fn data(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// A copy of the report stamped with the run's duration; also appended to the CI step summary.
fn finished(report: &mut Report, elapsed: Duration) -> &Report {
    // Set in place, not on a copy: a report of 10,000 workloads is megabytes.
    report.duration_seconds = Some(crate::live::round(elapsed.as_secs_f64()));
    ci::append_step_summary(report);
    report
}

/// Writes a report as one pretty JSON object on stdout.
fn json(report: &Report) -> io::Result<()> {
    // Buffered: stdout is line-buffered, and a report of 10,000 workloads has 130,000 lines.
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    serde_json::to_writer_pretty(&mut stdout, report)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}
