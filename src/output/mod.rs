//! The only module that prints. stdout carries data (the plan table, the JSON report, manifests,
//! completion scripts); stderr carries messages, progress and errors. Stages never call it: they
//! report to `run::sink::Sink`, which `sink` implements here. Nothing here decides anything about
//! the cluster; it only renders what it is given.

pub mod ci;
pub mod commands;
pub mod failure;
pub mod fleet;
pub mod owners;
pub mod plan;
pub mod preview;
pub mod progress;
pub mod report;
pub mod sink;
pub mod status;
pub mod table;

use std::io::{self, Write};

use console::Style;

use crate::cli::ColorChoice;
use crate::error::Failure;

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
pub fn annotate(title: &str, message: &str) -> io::Result<()> {
    match ci::Service::detect().error_annotation(title, message) {
        Some(line) => writeln!(io::stderr().lock(), "{line}"),
        None => Ok(()),
    }
}

/// Writes data to stdout as is.
pub fn data(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
