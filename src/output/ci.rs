//! CI services' log conventions, detected from the environment: on GitHub Actions
//! (`GITHUB_ACTIONS=true`) migration logs go in `::group::` blocks, failures become `::error::`
//! annotations (a workload's other owners `::warning::` ones) and a markdown summary of the report
//! is appended to `$GITHUB_STEP_SUMMARY`; on GitLab CI (`GITLAB_CI=true`) migration logs go in collapsible sections. Formatting is pure;
//! `output` and `progress` decide when to print.

use std::io::Write;

use crate::report::Report;

/// The CI service whose conventions the output follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GitHub,
    GitLab,
    /// A terminal, or a CI without special log syntax.
    Plain,
}

impl Service {
    /// From `GITHUB_ACTIONS` and `GITLAB_CI`, as those services set them.
    pub fn detect() -> Service {
        Service::from_env(|key| std::env::var(key).ok())
    }

    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Service {
        if var("GITHUB_ACTIONS").as_deref() == Some("true") {
            Service::GitHub
        } else if var("GITLAB_CI").as_deref() == Some("true") {
            Service::GitLab
        } else {
            Service::Plain
        }
    }

    /// The line that opens a collapsed block of `title`; `key` names it (GitLab wants a name).
    pub fn group_start(self, key: &str, title: &str) -> Option<String> {
        match self {
            Service::GitHub => Some(format!("::group::{}", escape_data(title))),
            Service::GitLab => Some(format!(
                "\x1b[0Ksection_start:{}:{}[collapsed=true]\r\x1b[0K{title}",
                unix_time(),
                section_name(key)
            )),
            Service::Plain => None,
        }
    }

    /// The line that closes the block `group_start` opened.
    pub fn group_end(self, key: &str) -> Option<String> {
        match self {
            Service::GitHub => Some("::endgroup::".to_owned()),
            Service::GitLab => Some(format!(
                "\x1b[0Ksection_end:{}:{}\r\x1b[0K",
                unix_time(),
                section_name(key)
            )),
            Service::Plain => None,
        }
    }

    /// A warning annotation (GitHub shows it on the run's summary page), besides the usual message.
    pub fn warning_annotation(self, title: &str, message: &str) -> Option<String> {
        match self {
            Service::GitHub => Some(format!(
                "::warning title={}::{}",
                escape_property(title),
                escape_data(message)
            )),
            Service::GitLab | Service::Plain => None,
        }
    }

    /// An error annotation (GitHub shows it on the run's summary page), besides the usual message.
    pub fn error_annotation(self, title: &str, message: &str) -> Option<String> {
        match self {
            Service::GitHub => Some(format!(
                "::error title={}::{}",
                escape_property(title),
                escape_data(message)
            )),
            Service::GitLab | Service::Plain => None,
        }
    }
}

/// Appends the report's markdown summary to `$GITHUB_STEP_SUMMARY` on GitHub Actions. A summary
/// that cannot be written is not worth failing the run for.
pub fn append_step_summary(report: &Report) {
    append_to_step_summary(&step_summary(report));
}

/// Appends markdown to `$GITHUB_STEP_SUMMARY` on GitHub Actions (best effort).
pub fn append_to_step_summary(markdown: &str) {
    if Service::detect() != Service::GitHub {
        return;
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|it| !it.is_empty()) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut file) = file {
        let _ = file.write_all(markdown.as_bytes());
    }
}

/// The report as markdown: a heading with the result, the migrations and workloads (the plan, or
/// the outcome) as tables, then the near misses.
pub fn step_summary(report: &Report) -> String {
    let mut out = format!(
        "### kubectl update: {}{}\n\n",
        report.result,
        match &report.dry_run {
            Some(mode) => format!(" (dry run: {mode})"),
            None => String::new(),
        }
    );
    out.push_str(&format!("Classifier `{}`", report.classifier));
    if !report.images.is_empty() {
        let images: Vec<String> = report.images.iter().map(|it| format!("`{it}`")).collect();
        out.push_str(&format!(" · {}", images.join(", ")));
    }
    if let Some(identity) = &report.identity {
        out.push_str(&format!(" · as `{identity}`"));
    }
    out.push_str("\n\n");
    if let Some(reason) = &report.reason {
        out.push_str(&format!("> {}\n\n", cell(reason)));
    }
    for (title, migrations) in [
        ("Migration template", &report.migrations),
        ("Rollback migration template", &report.rollback_migrations),
    ] {
        if migrations.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "| Namespace | {title} | Job | Status |\n| --- | --- | --- | --- |\n"
        ));
        for migration in migrations {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&migration.namespace),
                cell(&migration.template),
                cell(migration.job.as_deref().unwrap_or("-")),
                cell(migration.status.as_deref().unwrap_or("planned")),
            ));
        }
        out.push('\n');
    }
    if !report.workloads.is_empty() {
        out.push_str(
            "| Namespace | Kind | Name | Status | Containers |\n| --- | --- | --- | --- | --- |\n",
        );
        for workload in &report.workloads {
            let containers: Vec<String> = workload
                .containers
                .iter()
                .map(|it| match workload.status.as_str() {
                    // What runs now, and apart from it what was tried.
                    "rolled-back" => format!("{}: `{}` (tried `{}`)", it.name, it.from, it.to),
                    _ => format!("{}: `{}` → `{}`", it.name, it.from, it.to),
                })
                .collect();
            // The reason is told once, above the tables.
            let status = workload.status.clone();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&workload.namespace),
                cell(&workload.kind),
                cell(&workload.name),
                cell(&status),
                cell(&containers.join("<br>")),
            ));
        }
        out.push('\n');
    }
    if !report.near_misses.is_empty() {
        out.push_str("Near misses (not updated):\n\n");
        for miss in &report.near_misses {
            out.push_str(&format!(
                "- {}/{}/{}: {}\n",
                miss.namespace,
                miss.kind,
                miss.name,
                cell(&miss.reason)
            ));
        }
        out.push('\n');
    }
    for note in &report.notes {
        out.push_str(&format!("Note: {}\n\n", cell(note)));
    }
    out
}

/// GitHub's escaping of a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A markdown table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// GitLab section names allow letters, digits, `_`, `.` and `-`.
fn section_name(key: &str) -> String {
    key.chars()
        .map(|it| {
            if it.is_ascii_alphanumeric() || matches!(it, '_' | '.' | '-') {
                it
            } else {
                '_'
            }
        })
        .collect()
}

fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |it| it.as_secs())
}

#[cfg(test)]
mod tests {
    use crate::output::ci::{Service, step_summary};
    use crate::report::{ContainerReport, Report, WorkloadReport};

    #[test]
    fn detection() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            Service::from_env(env(&[("GITHUB_ACTIONS", "true")])),
            Service::GitHub
        );
        assert_eq!(
            Service::from_env(env(&[("GITLAB_CI", "true")])),
            Service::GitLab
        );
        assert_eq!(Service::from_env(env(&[("CI", "true")])), Service::Plain);
        assert_eq!(
            Service::from_env(env(&[("GITHUB_ACTIONS", "false")])),
            Service::Plain
        );
    }

    #[test]
    fn github_commands_are_escaped() {
        assert_eq!(
            Service::GitHub.error_annotation("rollout failed: web", "50% done\nthen stuck"),
            Some("::error title=rollout failed%3A web::50%25 done%0Athen stuck".to_owned())
        );
        assert_eq!(
            Service::GitHub.group_start("job", "Migration job"),
            Some("::group::Migration job".to_owned())
        );
        assert_eq!(Service::Plain.group_start("job", "Migration job"), None);
        let start = Service::GitLab
            .group_start("db/migrate", "Migration")
            .unwrap();
        assert!(start.starts_with("\x1b[0Ksection_start:"), "{start:?}");
        assert!(
            start.ends_with(":db_migrate[collapsed=true]\r\x1b[0KMigration"),
            "{start:?}"
        );
    }

    #[test]
    fn summary_is_a_markdown_table() {
        let report = Report {
            result: "rolled-back".to_owned(),
            dry_run: None,
            images: vec!["busybox:1.37".to_owned()],
            classifier: "stable".to_owned(),
            workloads: vec![WorkloadReport {
                namespace: "shop".to_owned(),
                kind: "Deployment".to_owned(),
                name: "web".to_owned(),
                status: "rolled-back".to_owned(),
                reason: Some("pod web-1: ErrImagePull | for 2s".to_owned()),
                containers: vec![ContainerReport {
                    name: "app".to_owned(),
                    init: false,
                    from: "busybox:1.36".to_owned(),
                    to: "busybox:1.37".to_owned(),
                }],
                diagnosis: None,
                owners: Vec::new(),
            }],
            migrations: Vec::new(),
            rollback_migrations: Vec::new(),
            near_misses: Vec::new(),
            identity: Some("ci".to_owned()),
            cause: None,
            reason: Some("shop/deployment/web: ErrImagePull | for 2s".to_owned()),
            notes: Vec::new(),
            duration_seconds: None,
            files_written: None,
            clusters: Vec::new(),
        };
        assert_eq!(
            step_summary(&report),
            "### kubectl update: rolled-back\n\n\
             Classifier `stable` · `busybox:1.37` · as `ci`\n\n\
             > shop/deployment/web: ErrImagePull \\| for 2s\n\n\
             | Namespace | Kind | Name | Status | Containers |\n| --- | --- | --- | --- | --- |\n\
             | shop | Deployment | web | rolled-back | app: `busybox:1.36` (tried `busybox:1.37`) |\n\n"
        );
    }
}
