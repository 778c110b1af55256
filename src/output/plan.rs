//! The plan as aligned tables: workloads (from → to), migrations, rollback migrations and near
//! misses, fitted to the terminal. Shared by the offline preview and a live dry run; only renders,
//! never prints.

use console::Style;

use crate::output::plural;
use crate::output::table::{self, Cell, Role};
use crate::plan::workload::ContainerList;
use crate::plan::{MigrationPlan, Plan};

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
    out.push_str(&migration_table(
        &plan.migrations,
        "Migrations",
        "run first, before any workload changes",
        width,
    ));
    out.push_str(&migration_table(
        &plan.rollback_migrations,
        "Rollback migrations",
        "run only if a rollout fails after migrations",
        width,
    ));
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

/// A titled table of migration templates and the image their copies run; empty when none.
fn migration_table(migrations: &[MigrationPlan], title: &str, when: &str, width: usize) -> String {
    if migrations.is_empty() {
        return String::new();
    }
    let bold = Style::new().bold();
    let new = Style::new().green();
    let header = ["NAMESPACE", "JOB TEMPLATE", "IMAGE"].map(|it| bold.apply_to(it).to_string());
    let rows: Vec<[Cell; 3]> = migrations
        .iter()
        .map(|migration| {
            [
                migration.template.namespace.as_str().into(),
                migration.template.name.as_str().into(),
                new.apply_to(&migration.image).to_string().into(),
            ]
        })
        .collect();
    let mut out = format!("\n{} ({when})\n", bold.apply_to(title));
    out.push_str(&table::render(
        header,
        &rows,
        [Role::Plain, Role::Name, Role::Images],
        width,
    ));
    out
}

/// For a summary line: `, 1 rollback migration on standby` when the plan has any, else nothing.
pub fn rollback_standby(plan: &Plan) -> String {
    match plan.rollback_migrations.len() {
        0 => String::new(),
        n => format!(", {n} rollback migration{} on standby", plural(n)),
    }
}
