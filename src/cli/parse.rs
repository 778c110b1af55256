//! Parsing the command line as kubectl users expect: the flags every subcommand shares
//! (`--kubeconfig`, `--context`, `--request-timeout`, `--color`, `-v`) may come before the
//! subcommand (`kubectl update --context prod status -c stable`) or after it, while an update's own
//! flags with a subcommand are still a usage error. Never reads anything but the arguments.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches};

use crate::cli::{Cli, UpdateArgs};

/// Parses `args` (the program name first) into the command line.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = Cli::command();
    let matches = command.try_get_matches_from_mut(args)?;
    if let Some((name, _)) = matches.subcommand() {
        let update = UpdateArgs::augment_args(clap::Command::new("update"));
        for arg in update.get_arguments() {
            let id = arg.get_id().as_str();
            if matches.value_source(id) == Some(ValueSource::CommandLine) {
                let flag = arg
                    .get_long()
                    .map(|long| format!("--{long}"))
                    .unwrap_or_else(|| id.to_owned());
                return Err(command.error(
                    ErrorKind::ArgumentConflict,
                    format!(
                        "the subcommand '{name}' cannot be used with '{flag}' (an update's flag; put the subcommand's own flags after it)"
                    ),
                ));
            }
        }
    }
    Cli::from_arg_matches(&matches).map_err(|err| err.format(&mut command))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;

    #[test]
    fn shared_flags_may_come_before_the_subcommand() {
        let cli = parse([
            "kubectl-update",
            "--kubeconfig",
            "ci.yaml",
            "--context",
            "prod",
            "rollback",
            "-c",
            "stable",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Rollback(_))));
        assert_eq!(cli.global.context, ["prod"]);
        assert_eq!(cli.global.kubeconfig.len(), 1);
        let cli = parse(["kubectl-update", "status", "-c", "stable", "--context", "a"]).unwrap();
        assert_eq!(cli.global.context, ["a"]);
    }

    #[test]
    fn an_updates_flags_with_a_subcommand_are_a_usage_error() {
        let err = parse(["kubectl-update", "-i", "app:1", "status", "-c", "stable"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        assert!(
            err.to_string()
                .contains("the subcommand 'status' cannot be used with '--image'"),
            "{err}"
        );
        assert!(parse(["kubectl-update", "-i", "app:1", "-c", "stable"]).is_ok());
        assert!(
            parse(["kubectl-update", "-c", "stable"]).is_err(),
            "an update needs --image"
        );
    }
}
