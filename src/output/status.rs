//! Prints `kubectl update status`: per cluster, a table of the classifiers' workloads fitted to the
//! terminal (one row each, by namespace, kind and name), or the whole `StatusReport` as JSON
//! (`docs/status.schema.json`). Renders only what it is given; decides nothing.

use std::io::{self, Write};

use console::Style;

use crate::cli::ReadFormat;
use crate::output::table::{self, Cell, Role, SOFT_BREAK};
use crate::output::{message, plural};
use crate::run::status::StatusReport;
use crate::run::status::assemble::{ClusterStatus, ContainerImage, WorkloadStatus};

/// Prints the report: JSON on stdout, or per cluster a table on stdout and a summary on stderr.
pub fn status(report: &StatusReport, format: ReadFormat) -> io::Result<()> {
    if format == ReadFormat::Json {
        let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, report)?;
        stdout.write_all(b"\n")?;
        return stdout.flush();
    }
    for cluster in &report.clusters {
        let text = render(cluster, table::terminal_width());
        let mut stdout = io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        drop(stdout);
        message(&summary(cluster))?;
    }
    Ok(())
}

/// One line: how many workloads, of which classifiers, on which cluster.
fn summary(cluster: &ClusterStatus) -> String {
    let count = cluster.workloads.len();
    let context = cluster
        .context
        .as_deref()
        .map_or_else(String::new, |it| format!("context {it}, "));
    format!(
        "{count} workload{} of classifier {} ({context}{})",
        plural(count),
        cluster.classifiers.join(", "),
        cluster.server
    )
}

/// The table of one cluster's workloads, fitted to `width` columns; when even the narrowed table
/// is wider, one block per workload instead (`kubectl describe`'s layout), so nothing is cut.
pub fn render(cluster: &ClusterStatus, width: usize) -> String {
    let bold = Style::new().bold();
    let header = HEADER.map(|it| bold.apply_to(it).to_string());
    let several = cluster.classifiers.len() > 1;
    let rows: Vec<[Cell; 9]> = cluster
        .workloads
        .iter()
        .map(|it| row(it, several))
        .collect();
    let roles = [
        Role::Plain,
        Role::Kind,
        Role::Name,
        Role::Images,
        Role::Plain,
        Role::Plain,
        Role::Plain,
        Role::Images,
        Role::Plain,
    ];
    let table = table::render(header, &rows, roles, width);
    if table
        .lines()
        .all(|it| console::measure_text_width(it) <= width)
    {
        return table;
    }
    blocks(cluster, &rows)
}

const HEADER: [&str; 9] = [
    "NAMESPACE",
    "KIND",
    "NAME",
    "IMAGES",
    "REVISION",
    "ROLLOUT",
    "LAST CHANGE",
    "PREVIOUS",
    "LOCK",
];

/// One block per workload: `namespace/Kind/name`, then a line per column that has something.
fn blocks(cluster: &ClusterStatus, rows: &[[Cell; 9]]) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    for (workload, row) in cluster.workloads.iter().zip(rows) {
        let title = format!("{}/{}/{}", workload.namespace, workload.kind, workload.name);
        out.push_str(&format!("{}\n", bold.apply_to(title)));
        for (label, cell) in HEADER.iter().zip(row).skip(3) {
            let label = label.to_lowercase();
            let text = cell.0.join(", ").replace(SOFT_BREAK, " ");
            out.push_str(&format!("  {label:<12} {text}\n"));
        }
    }
    out
}

const NONE: &str = "-";

fn row(workload: &WorkloadStatus, several: bool) -> [Cell; 9] {
    let rollout = &workload.rollout;
    let rollout = match (rollout.state, rollout.updated, rollout.desired) {
        ("in-progress", Some(updated), Some(desired)) => {
            format!("in progress{SOFT_BREAK}({updated}/{desired} updated)")
        }
        ("failed", ..) => format!(
            "failed:{SOFT_BREAK}{}",
            unnamed(rollout.message.as_deref().unwrap_or_default())
        ),
        ("none", ..) => NONE.to_owned(),
        (state, ..) => state.to_owned(),
    };
    let last = &workload.last_change;
    let last_change: Vec<String> = [
        last.time.as_deref().map(seconds),
        last.cause.as_deref().map(cause),
    ]
    .into_iter()
    .flatten()
    .collect();
    let locks: Vec<String> = workload
        .locks
        .iter()
        .map(|it| {
            let state = match &it.holder {
                Some(holder) => format!("held by{SOFT_BREAK}{holder}"),
                None => it.state.to_owned(),
            };
            if several {
                format!("{}: {state}", it.classifier)
            } else {
                state
            }
        })
        .collect();
    let revision = workload
        .revision
        .as_deref()
        .unwrap_or(NONE)
        .replace(" (current", &format!("{SOFT_BREAK}(current"));
    [
        workload.namespace.as_str().into(),
        workload.kind.as_str().into(),
        workload.name.as_str().into(),
        images(&workload.containers),
        revision.into(),
        rollout.into(),
        or_none(last_change),
        images(&workload.previous),
        or_none(locks),
    ]
}

/// kubectl's message without the `kind "name"` the row already shows:
/// `deployment "web" exceeded its progress deadline` → `exceeded its progress deadline`.
fn unnamed(message: &str) -> &str {
    match message
        .split_once(" \"")
        .and_then(|(_, rest)| rest.split_once("\" "))
    {
        Some((_, rest)) if !rest.is_empty() => rest,
        _ => message,
    }
}

/// A change cause as the table shows it: kubectl-update's own (whose images the IMAGES and
/// PREVIOUS columns show) by what it was; any other as written. JSON keeps the whole text.
fn cause(text: &str) -> String {
    match text.strip_prefix("kubectl-update: ") {
        Some(rest) if rest.starts_with("rolled back to ") => {
            "rollback by kubectl-update".to_owned()
        }
        Some(_) => "update by kubectl-update".to_owned(),
        None => text.to_owned(),
    }
}

/// An RFC 3339 time to the second: `2026-12-07T13:24:16.141985448Z` → `2026-12-07T13:24:16Z`.
fn seconds(time: &str) -> String {
    match (time.find('.'), time.strip_suffix('Z')) {
        (Some(dot), Some(_)) => format!("{}Z", &time[..dot]),
        _ => time.to_owned(),
    }
}

fn images(containers: &[ContainerImage]) -> Cell {
    or_none(
        containers
            .iter()
            .map(|it| format!("{}={}", it.name, it.image))
            .collect(),
    )
}

fn or_none(items: Vec<String>) -> Cell {
    if items.is_empty() {
        NONE.into()
    } else {
        Cell(items)
    }
}

#[cfg(test)]
mod tests;
