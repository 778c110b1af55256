//! kubectl-update: ship a new container image to the workloads that opted in, with a
//! least-privilege token.
//!
//! The pipeline: `cli` parses → `config` resolves → (`manifest` | the cluster) gives objects →
//! `plan` decides, without I/O → migrate → roll out → roll back → `report`/`output`. Only `output`
//! prints; `main` prints the error chain once and picks the exit code.

mod annotations;
mod cli;
mod config;
mod error;
mod image;
mod manifest;
mod offline;
mod output;
mod plan;
mod report;
mod workload;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::config::Source;
use crate::error::{Exit, Failure};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    output::init(cli.global.color);
    match run(cli) {
        Ok(exit) => exit.into(),
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            output::error(&err);
            error::exit_code_of(&err).into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Some(Command::Completion { shell }) => {
            output::completion(*shell, &mut Cli::command())?;
            return Ok(Exit::Success);
        }
        Some(Command::Rbac(_) | Command::Kubeconfig(_) | Command::Rollback(_)) => {
            let name = match &cli.command {
                Some(Command::Rbac(_)) => "rbac",
                Some(Command::Kubeconfig(_)) => "kubeconfig",
                _ => "rollback",
            };
            return Err(Failure::new(
                Exit::Failed,
                format!("`kubectl update {name}` is not available in this version yet"),
            )
            .hint("see the README's roadmap")
            .into());
        }
        None => (),
    }
    let config = match config::resolve(&cli) {
        Ok(config) => config,
        Err(err) => err.exit(),
    };
    match &config.source {
        Source::Manifests(sources) => {
            let preview = offline::preview(&config, sources, &mut std::io::stdin().lock())?;
            if preview.plan.is_empty() {
                return Err(nothing_matched(&preview.plan, &config).into());
            }
            output::preview(&preview, config.output, config.dry_run.unwrap_or(cli::DryRun::Client))?;
            Ok(Exit::Success)
        }
        Source::Cluster(_) => Err(Failure::new(
            Exit::Failed,
            "updating a live cluster is not available in this version yet; preview offline with -f PATH",
        )
        .into()),
    }
}

/// Nothing matched is an error (a typo must not pass CI as a success), listing what nearly did.
fn nothing_matched(plan: &plan::Plan, config: &config::Config) -> Failure {
    let repositories: Vec<String> = plan
        .images
        .iter()
        .map(|it| it.repository().to_string())
        .collect();
    let scope = match &config.namespaces {
        config::Namespaces::Listed(listed) => format!(
            " in namespace{} {}",
            if listed.len() == 1 { "" } else { "s" },
            listed.join(", ")
        ),
        config::Namespaces::All | config::Namespaces::Default => String::new(),
    };
    let mut failure = Failure::new(
        Exit::Failed,
        format!(
            "nothing matched: no workload or migration template{scope} lists classifier `{}` and uses {}",
            plan.classifier,
            repositories.join(" or ")
        ),
    );
    for miss in &plan.near_misses {
        failure = failure.hint(format!(
            "near miss: {}/{}/{} {}",
            miss.id.namespace, miss.id.kind, miss.id.name, miss.reason
        ));
    }
    if plan.near_misses.is_empty() {
        failure = failure.hint(format!(
            "annotate the workloads with `{}: {}` and check the image repository",
            annotations::CLASSIFIER,
            plan.classifier
        ));
    }
    failure
}
