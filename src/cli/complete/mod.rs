//! Completion for kubectl's plugin-completion protocol. `kubectl __complete update ARGS… WORD`
//! runs `kubectl_complete-update ARGS… WORD` (this binary under a second name, or the
//! `kubectl-update __complete …` shim a krew install needs) and reads one candidate per line and a
//! final `:<directive>` line.
//!
//! Flags, subcommands and the values of enum flags come from clap's completion engine over the same
//! `Cli` that parses; namespaces, contexts and classifiers from `lookup` (the kubeconfig, and the
//! cluster when it answers within a second). Nothing here prints (`output::commands::completion_candidates`
//! does) and nothing fails: a question without an answer gets no candidates.

mod lookup;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};

use crate::cli::Cli;
use crate::cli::complete::lookup::Lookup;

/// The executable kubectl looks for to complete `kubectl update …`.
pub const COMPLETE_BINARY: &str = "kubectl_complete-update";
/// The first argument that asks `kubectl-update` itself to complete (for a two-line shim).
pub const COMPLETE_SUBCOMMAND: &str = "__complete";

/// cobra's `ShellCompDirective` bits that kubectl passes on to the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// Let the shell complete file names (for `-f` and `--kubeconfig`).
    Default = 0,
    /// Only these candidates.
    NoFileComp = 4,
}

/// The answer to one completion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<Candidate>,
    pub directive: Directive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    /// One line, shown by zsh and fish next to the value.
    pub help: Option<String>,
}

/// The words to complete when this process is a completion request: run as
/// `kubectl_complete-update`, or as `kubectl-update __complete …`.
pub fn requested(mut args: Vec<OsString>) -> Option<Vec<OsString>> {
    if args.is_empty() {
        return None;
    }
    let program = args.remove(0);
    if Path::new(&program).file_stem() == Some(OsStr::new(COMPLETE_BINARY)) {
        return Some(args);
    }
    match args.first() {
        Some(first) if first == COMPLETE_SUBCOMMAND => Some(args.split_off(1)),
        _ => None,
    }
}

/// Completes the last word of `words` (the arguments after `kubectl update`).
pub fn complete(mut words: Vec<OsString>) -> Completion {
    if words.is_empty() {
        words.push(OsString::new());
    }
    let current = words
        .last()
        .map(|it| it.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lookup = Arc::new(Lookup::from_words(&words[..words.len() - 1]));
    let wants_files = Arc::new(AtomicBool::new(false));
    let mut command = with_completers(Cli::command(), &lookup, &wants_files);
    // A flag whose value must follow `=` (`--dry-run`) takes none from the next word; the engine
    // would offer its values there, so it sees such a flag as given with an empty value.
    let equals_only = equals_only_flags(&command);
    let last = words.len() - 1;
    for word in &mut words[..last] {
        if equals_only.iter().any(|it| word == it.as_str()) {
            word.push("=");
        }
    }
    let mut args = vec![OsString::from("kubectl-update")];
    args.extend(words);
    let index = args.len() - 1;
    let current_dir = std::env::current_dir().ok();
    let mut found =
        clap_complete::engine::complete(&mut command, args.clone(), index, current_dir.as_deref())
            .unwrap_or_default();
    if current == "-" {
        // The engine offers one spelling per flag for `-` (the short one); kubectl offers both.
        args[index] = OsString::from("--");
        found.extend(
            clap_complete::engine::complete(&mut command, args, index, current_dir.as_deref())
                .unwrap_or_default(),
        );
    }
    if wants_files.load(Ordering::Relaxed) {
        return Completion {
            candidates: Vec::new(),
            directive: Directive::Default,
        };
    }
    Completion {
        candidates: candidates(&current, found),
        directive: Directive::NoFileComp,
    }
}

/// Turns the engine's candidates into kubectl's: flags only once a `-` is typed (as kubectl
/// does), and a `--flag=` value without the `--flag=` (the shell keeps it).
fn candidates(current: &str, found: Vec<CompletionCandidate>) -> Vec<Candidate> {
    let flag_prefix = match current.split_once('=') {
        Some((flag, _)) if flag.starts_with("--") => Some(format!("{flag}=")),
        _ => None,
    };
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .filter(|it| !it.is_hide_set())
        .filter_map(|it| {
            let value = it.get_value().to_string_lossy().into_owned();
            if (current.is_empty() && value.starts_with('-')) || !seen.insert(value.clone()) {
                return None;
            }
            let value = match &flag_prefix {
                Some(prefix) => value.strip_prefix(prefix.as_str())?.to_owned(),
                None => value,
            };
            let help = it
                .get_help()
                .map(|help| help.to_string())
                .and_then(|help| help.lines().next().map(str::to_owned))
                .filter(|help| !help.is_empty());
            Some(Candidate { value, help })
        })
        .collect()
}

/// Adds the cluster-backed completers to every command's `-n`, `--context` and `-c`, and marks
/// path arguments so that the shell completes file names.
fn with_completers(
    command: clap::Command,
    lookup: &Arc<Lookup>,
    wants_files: &Arc<AtomicBool>,
) -> clap::Command {
    let command = command.mut_args(|arg| {
        let lookup = lookup.clone();
        let path = matches!(
            arg.get_value_hint(),
            clap::ValueHint::AnyPath | clap::ValueHint::FilePath | clap::ValueHint::DirPath
        ) || matches!(arg.get_id().as_str(), "filenames" | "kubeconfig");
        if path && arg.get_action().takes_values() {
            let wants_files = wants_files.clone();
            return arg.add(ArgValueCompleter::new(move |_: &OsStr| {
                wants_files.store(true, Ordering::Relaxed);
                Vec::new()
            }));
        }
        match arg.get_id().as_str() {
            "namespaces" | "namespace" => arg.add(ArgValueCandidates::new(move || {
                to_candidates(lookup.namespaces())
            })),
            "context" => arg.add(ArgValueCandidates::new(move || {
                to_candidates(lookup.contexts())
            })),
            "classifier" => arg.add(ArgValueCandidates::new(move || {
                to_candidates(lookup.classifiers())
            })),
            _ => arg,
        }
    });
    command.mut_subcommands(|sub| with_completers(sub, lookup, wants_files))
}

/// `--long` of every flag, in every subcommand, whose value must be attached with `=`.
fn equals_only_flags(command: &clap::Command) -> Vec<String> {
    let mut res: Vec<String> = command
        .get_arguments()
        .filter(|it| it.is_require_equals_set())
        .filter_map(|it| it.get_long().map(|long| format!("--{long}")))
        .collect();
    for sub in command.get_subcommands() {
        res.extend(equals_only_flags(sub));
    }
    res
}

fn to_candidates(values: Vec<String>) -> Vec<CompletionCandidate> {
    values.into_iter().map(CompletionCandidate::new).collect()
}

#[cfg(test)]
mod tests;
