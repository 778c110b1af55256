//! The only module that prints. stdout carries data (the plan table, the JSON report, manifests,
//! completion scripts); stderr carries messages, progress and errors.

pub mod ci;
pub mod progress;
pub mod sink;
pub mod table;

use std::io::{self, Write};
use std::time::Duration;

use console::Style;

use crate::cli::complete::Completion;
use crate::cli::{ColorChoice, DryRun, OutputFormat};
use crate::error::Failure;
use crate::manifest;
use crate::plan::Plan;
use crate::plan::patch::Patched;
use crate::plan::workload::ContainerList;
use crate::preview::Preview;
use crate::preview::rewrite::{self, Rewrite};
use crate::report::{Report, dry_run_name};
use crate::run::migrate::Outcome;

use table::{Cell, Role};

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
            let text = crate::preview::updated_yaml(preview).map_err(io::Error::other)?;
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

/// The plan as aligned tables (workloads, migrations, near misses), fitted to the terminal.
pub fn plan_table(plan: &Plan) -> String {
    plan_table_width(plan, table::terminal_width())
}

/// The plan as aligned tables fitted to `width` columns.
pub fn plan_table_width(plan: &Plan, width: usize) -> String {
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
        let header = ["NAMESPACE", "KIND", "NAME", "CONTAINER", "FROM", "TO"]
            .map(|it| bold.apply_to(it).to_string());
        let mut rows: Vec<[Cell; 6]> = Vec::new();
        for workload in &plan.workloads {
            let id = &workload.id;
            if workload.changes.is_empty() {
                rows.push([
                    id.namespace.as_str().into(),
                    id.kind.to_string().into(),
                    id.name.as_str().into(),
                    "-".into(),
                    dim.apply_to("(already at the target)").to_string().into(),
                    "".into(),
                ]);
            }
            for change in &workload.changes {
                let container = match change.list {
                    ContainerList::InitContainers => format!("init:{}", change.container),
                    ContainerList::Containers => change.container.clone(),
                };
                rows.push([
                    id.namespace.as_str().into(),
                    id.kind.to_string().into(),
                    id.name.as_str().into(),
                    container.into(),
                    old.apply_to(&change.from).to_string().into(),
                    new.apply_to(&change.to).to_string().into(),
                ]);
            }
        }
        out.push_str(&format!("\n{}\n", bold.apply_to("Workloads")));
        out.push_str(&table::render(
            header,
            &rows,
            [
                Role::Plain,
                Role::Kind,
                Role::Name,
                Role::Plain,
                Role::Images,
                Role::Images,
            ],
            width,
        ));
    }
    if !plan.migrations.is_empty() {
        let header = ["NAMESPACE", "JOB TEMPLATE", "IMAGE"].map(|it| bold.apply_to(it).to_string());
        let rows: Vec<[Cell; 3]> = plan
            .migrations
            .iter()
            .map(|migration| {
                [
                    migration.template.namespace.as_str().into(),
                    migration.template.name.as_str().into(),
                    new.apply_to(&migration.image).to_string().into(),
                ]
            })
            .collect();
        out.push_str(&format!(
            "\n{} (run first, before any workload changes)\n",
            bold.apply_to("Migrations")
        ));
        out.push_str(&table::render(
            header,
            &rows,
            [Role::Plain, Role::Name, Role::Images],
            width,
        ));
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

/// The outcome per workload and migration, as things stand now: a rolled-back workload shows the
/// images it runs again and, apart, the ones that were tried. Reasons are left to the one error
/// line (and the JSON report), so that a failure is told once.
fn outcome_table(report: &Report, width: usize) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    if !report.migrations.is_empty() {
        let header = ["NAMESPACE", "TEMPLATE", "JOB", "STATUS", "DURATION"]
            .map(|it| bold.apply_to(it).to_string());
        let rows: Vec<[Cell; 5]> = report
            .migrations
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
        out.push_str(&format!("{}\n", bold.apply_to("Migrations")));
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
    }
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
pub fn minted(minted: &crate::rbac::grant::Minted) -> io::Result<()> {
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
    if minted.requested > crate::rbac::grant::LONGEST_RECOMMENDED {
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
    report.duration_seconds = Some(crate::report::round(elapsed.as_secs_f64()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ContainerReport, MigrationReport, WorkloadReport};

    fn workload(
        kind: &str,
        name: &str,
        status: &str,
        containers: &[(&str, &str, &str)],
    ) -> WorkloadReport {
        WorkloadReport {
            namespace: "shop".to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            status: status.to_owned(),
            reason: Some("pod web-1 container app is in CrashLoopBackOff: back-off 10s restarting failed container=app pod=web-1_shop(0f9c2e3a-1b2c-4d5e-8f90-123456789abc)".to_owned()),
            containers: containers
                .iter()
                .map(|(name, from, to)| ContainerReport {
                    name: (*name).to_owned(),
                    init: false,
                    from: (*from).to_owned(),
                    to: (*to).to_owned(),
                })
                .collect(),
            diagnosis: None,
        }
    }

    /// A rolled-back run: rows long enough to need every narrowing step at 80 columns.
    fn rolled_back() -> Report {
        Report {
            result: "rolled-back".to_owned(),
            dry_run: None,
            images: vec!["registry.example.com/shop/app:crash-1.38".to_owned()],
            classifier: "canary".to_owned(),
            workloads: vec![
                workload(
                    "Deployment",
                    "checkout-payment-gateway-worker",
                    "rolled-back",
                    &[
                        (
                            "app",
                            "registry.example.com/shop/app:1.37",
                            "registry.example.com/shop/app:crash-1.38",
                        ),
                        (
                            "sidecar",
                            "registry.example.com/shop/app:1.37",
                            "registry.example.com/shop/app:crash-1.38",
                        ),
                    ],
                ),
                workload(
                    "StatefulSet",
                    "db",
                    "rolled-back",
                    &[("app", "busybox:1.37", "busybox:crash-1.38")],
                ),
                workload(
                    "CronJob",
                    "nightly",
                    "succeeded",
                    &[("app", "busybox:1.37", "busybox:1.38")],
                ),
            ],
            migrations: vec![MigrationReport {
                namespace: "shop".to_owned(),
                template: "db-migrate".to_owned(),
                image: "busybox:crash-1.38".to_owned(),
                job: Some("db-migrate-5f2d8c1a9b".to_owned()),
                status: Some("succeeded".to_owned()),
                reason: None,
                duration_seconds: Some(2.5),
            }],
            near_misses: Vec::new(),
            identity: None,
            reason: None,
            notes: Vec::new(),
            duration_seconds: None,
            files_written: None,
        }
    }

    const MIGRATIONS: &str = "\
Migrations
  NAMESPACE  TEMPLATE    JOB                    STATUS     DURATION
  shop       db-migrate  db-migrate-5f2d8c1a9b  succeeded  2.5s

Workloads
";

    #[test]
    fn outcome_table_at_80_columns_wraps_abbreviates_and_shortens_names_but_never_cuts_an_image() {
        console::set_colors_enabled(false);
        let expected = format!(
            "{MIGRATIONS}{}",
            "  NAMESPACE  KIND    NAME          STATUS       IMAGES
  shop       deploy  checko…orker  rolled-back  app=registry.example.com/shop/app:1.37
                                                  (tried registry.example.com/shop/app:crash-1.38)
                                                sidecar=registry.example.com/shop/app:1.37
                                                  (tried registry.example.com/shop/app:crash-1.38)
  shop       sts     db            rolled-back  app=busybox:1.37
                                                  (tried busybox:crash-1.38)
  shop       cj      nightly       succeeded    app=busybox:1.38
"
        );
        assert_eq!(outcome_table(&rolled_back(), 80), expected);
    }

    #[test]
    fn outcome_table_at_100_columns_fits() {
        console::set_colors_enabled(false);
        let expected = format!(
            "{MIGRATIONS}{}",
            "  NAMESPACE  KIND    NAME            STATUS       IMAGES
  shop       deploy  checkou…worker  rolled-back  app=registry.example.com/shop/app:1.37
                                                    (tried registry.example.com/shop/app:crash-1.38)
                                                  sidecar=registry.example.com/shop/app:1.37
                                                    (tried registry.example.com/shop/app:crash-1.38)
  shop       sts     db              rolled-back  app=busybox:1.37
                                                    (tried busybox:crash-1.38)
  shop       cj      nightly         succeeded    app=busybox:1.38
"
        );
        let table = outcome_table(&rolled_back(), 100);
        assert_eq!(table, expected);
        assert!(table.lines().all(|it| it.chars().count() <= 100));
    }

    #[test]
    fn outcome_table_at_200_columns_only_wraps_the_images() {
        console::set_colors_enabled(false);
        let expected = format!(
            "{MIGRATIONS}{}",
            "  NAMESPACE  KIND         NAME                             STATUS       IMAGES
  shop       Deployment   checkout-payment-gateway-worker  rolled-back  app=registry.example.com/shop/app:1.37
                                                                          (tried registry.example.com/shop/app:crash-1.38)
                                                                        sidecar=registry.example.com/shop/app:1.37
                                                                          (tried registry.example.com/shop/app:crash-1.38)
  shop       StatefulSet  db                               rolled-back  app=busybox:1.37
                                                                          (tried busybox:crash-1.38)
  shop       CronJob      nightly                          succeeded    app=busybox:1.38
"
        );
        assert_eq!(outcome_table(&rolled_back(), 200), expected);
    }

    #[test]
    fn a_narrow_outcome_stays_on_one_line_per_workload() {
        console::set_colors_enabled(false);
        let mut report = rolled_back();
        report.migrations.clear();
        report.workloads.drain(..1);
        assert_eq!(
            outcome_table(&report, 100),
            "Workloads
  NAMESPACE  KIND         NAME     STATUS       IMAGES
  shop       StatefulSet  db       rolled-back  app=busybox:1.37 (tried busybox:crash-1.38)
  shop       CronJob      nightly  succeeded    app=busybox:1.38
"
        );
    }

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
