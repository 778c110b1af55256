//! kubectl-update: ship a new container image to the workloads that opted in, with a
//! least-privilege token.
//!
//! The folders follow the pipeline: `cli` parses → `config` resolves one typed `Config` → the
//! objects come from the cluster (`cluster`: connect, discover, preflight) or from files
//! (`manifest`) → `plan` decides, without I/O → `run` migrates, rolls out and rolls back (`preview`
//! is the offline path instead) → `report` holds the outcome → `output` prints it. `rbac` is the
//! least-privilege side (`kubectl update rbac` and `kubeconfig`).
//!
//! Each module imports only those before it in: `error`, `manifest`, `plan`, `cluster`, `cli`,
//! `config`, `report`, `run`, `preview`, `rbac`, `output`. Stages report through `run::sink::Sink`,
//! which `output` implements. Only `output` prints; `main` wires the sink in, prints the error
//! chain once and picks the exit code.

mod cli;
mod cluster;
mod config;
mod error;
#[cfg(test)]
mod fuzz;
mod manifest;
mod output;
mod plan;
mod preview;
mod rbac;
mod report;
mod run;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::config::Source;
use crate::error::Exit;

fn main() -> ExitCode {
    if let Some(words) = cli::complete::requested(std::env::args_os().collect()) {
        // kubectl's plugin completion: never an error on stderr (it is the user's terminal).
        let completion = cli::complete::complete(words);
        return match output::commands::completion_candidates(&completion) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let cli = match cli::parse::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => output::usage_error(err),
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
            output::commands::completion(*shell, &mut Cli::command())?;
            return Ok(Exit::Success);
        }
        Some(Command::Man) => {
            output::commands::man_page(Cli::command())?;
            return Ok(Exit::Success);
        }
        Some(Command::Rollback(args)) => {
            let cause = match config::rollback_cause(args, &std::env::vars().collect()) {
                Ok(cause) => cause,
                Err(err) => output::usage_error(err),
            };
            let cluster_args = one_cluster(&cli.global);
            let sink = output::sink::new(cli.global.verbose);
            return runtime()?.block_on(run::restore::rollback_command(
                args,
                cause,
                &cluster_args,
                &sink,
            ));
        }
        Some(Command::Status(args)) => {
            let clusters =
                config::all_clusters(&cli.global).unwrap_or_else(|err| output::usage_error(err));
            let report = runtime()?.block_on(run::status::status_of_all(args, &clusters))?;
            output::status::status(&report, args.output)?;
            return Ok(Exit::Success);
        }
        Some(Command::Rbac(args)) => {
            let cluster_args = one_cluster(&cli.global);
            let objects = runtime()?.block_on(rbac::grant::rbac(args, &cluster_args))?;
            output::commands::manifests(&objects, args.output)?;
            return Ok(Exit::Success);
        }
        Some(Command::Kubeconfig(args)) => {
            let cluster_args = one_cluster(&cli.global);
            let minted = runtime()?.block_on(rbac::kubeconfig::mint(args, &cluster_args))?;
            output::commands::minted(&minted)?;
            return Ok(Exit::Success);
        }
        None => (),
    }
    let config = match config::resolve(&cli, &std::env::vars().collect()) {
        Ok(config) => config,
        Err(err) => output::usage_error(err),
    };
    match &config.source {
        Source::Manifests(sources) => {
            let preview = preview::preview(&config, sources, &mut std::io::stdin().lock())?;
            if preview.plan.is_empty() {
                return Err(plan::nothing_matched(&preview.plan, &config.namespaces).into());
            }
            // Every file is planned before any is written: an error leaves all of them untouched.
            let rewrites = if config.write || config.output == cli::OutputFormat::Diff {
                preview::rewrite::plan(&preview)?
            } else {
                Vec::new()
            };
            if config.write {
                preview::rewrite::write(&rewrites)?;
            }
            output::preview::preview(
                &preview,
                &rewrites,
                config.output,
                config.write,
                config.dry_run.unwrap_or(cli::DryRun::Client),
            )?;
            Ok(Exit::Success)
        }
        Source::Cluster(cluster_args) => {
            let sink = output::sink::new(config.verbose);
            runtime()?.block_on(run::live::run(&config, cluster_args, &sink))
        }
        Source::Fleet(waves) => {
            let sink = output::sink::new(config.verbose);
            runtime()?.block_on(run::fleet::run(&config, waves, &sink))
        }
    }
}

/// The one cluster of a subcommand; several contexts are a usage error (exit 2).
fn one_cluster(global: &cli::GlobalArgs) -> cluster::ClusterArgs {
    config::cluster_args(global).unwrap_or_else(|err| output::usage_error(err))
}

/// The async runtime for live runs; offline previews never start one.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Discovery decodes pages on the blocking pool; two threads keep both cores busy, and
        // fewer threads mean fewer malloc arenas each keeping its share of freed pages.
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}
