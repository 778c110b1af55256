//! Live progress on stderr. On a terminal: an indicatif MultiProgress, one line per migration
//! (spinner, elapsed, last log line) and per workload (bar of updated replicas, state). Elsewhere
//! (CI): plain timestamped lines, one per change of state, never repeated.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress reporting for one run; cheap to share behind an `Arc`.
pub struct Progress {
    mode: Mode,
    lines: Mutex<Lines>,
}

enum Mode {
    Bars(MultiProgress),
    Plain,
}

#[derive(Default)]
struct Lines {
    bars: HashMap<String, ProgressBar>,
    last: HashMap<String, String>,
}

/// Whether a line is about a migration or a workload (they are drawn differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Migration,
    Workload,
}

impl Progress {
    /// Bars on a terminal (unless verbose: logs and bars do not mix), plain lines elsewhere.
    pub fn new(verbose: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal()
            && std::env::var("TERM").map_or(true, |term| term != "dumb");
        let mode = if terminal && !verbose {
            Mode::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Plain
        };
        Progress {
            mode,
            lines: Mutex::new(Lines::default()),
        }
    }

    /// A message line (above the bars on a terminal).
    pub fn say(&self, text: &str) {
        match &self.mode {
            Mode::Bars(multi) => {
                let _ = multi.println(text);
            }
            Mode::Plain => plain(text),
        }
    }

    /// A log line of a migration, prefixed with its Job's name.
    pub fn log(&self, job: &str, line: &str) {
        let prefix = Style::new()
            .cyan()
            .for_stderr()
            .apply_to(format!("[{job}]"));
        let text = format!("{prefix} {line}");
        match &self.mode {
            Mode::Bars(multi) => {
                let _ = multi.println(&text);
                if let Some(bar) = self.lines.lock().expect("progress lock").bars.get(job) {
                    bar.set_message(truncate(line, 60));
                }
            }
            Mode::Plain => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    /// Sets an item's state; `done` of `total` drives a workload's bar. Repeated identical states
    /// print nothing.
    pub fn set(&self, key: &str, item: Item, state: &str, done: u64, total: u64) {
        let mut lines = self.lines.lock().expect("progress lock");
        let rendered = format!("{key}: {state} ({done}/{total})");
        if lines.last.get(key) == Some(&rendered) {
            return;
        }
        lines.last.insert(key.to_owned(), rendered);
        match &self.mode {
            Mode::Bars(multi) => {
                let bar = lines
                    .bars
                    .entry(key.to_owned())
                    .or_insert_with(|| new_bar(multi, key, item, total));
                bar.set_length(total.max(1));
                bar.set_position(done);
                if item == Item::Workload {
                    bar.set_message(state.to_owned());
                } else {
                    bar.set_prefix(format!("{key} {state}"));
                }
            }
            Mode::Plain if state.is_empty() => (),
            Mode::Plain => match item {
                Item::Workload => plain(&format!("{key}: {state} ({done}/{total} updated)")),
                Item::Migration => plain(&format!("{key}: {state}")),
            },
        }
    }

    /// Ends an item's line with a final state.
    pub fn finish(&self, key: &str, state: &str) {
        let mut lines = self.lines.lock().expect("progress lock");
        lines.last.insert(key.to_owned(), state.to_owned());
        match &self.mode {
            Mode::Bars(_) => {
                if let Some(bar) = lines.bars.get(key) {
                    bar.finish_with_message(state.to_owned());
                }
            }
            Mode::Plain => plain(&format!("{key}: {state}")),
        }
    }

    /// Clears the bars before the final report.
    pub fn clear(&self) {
        if let Mode::Bars(multi) = &self.mode {
            let lines = self.lines.lock().expect("progress lock");
            for bar in lines.bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
            let _ = multi.clear();
        }
    }
}

fn new_bar(multi: &MultiProgress, key: &str, item: Item, total: u64) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(total.max(1)));
    let style = match item {
        Item::Workload => {
            ProgressStyle::with_template("{prefix:40!} [{bar:20}] {pos}/{len} {wide_msg}")
                .expect("the template is valid")
                .progress_chars("=> ")
        }
        Item::Migration => {
            ProgressStyle::with_template("{spinner} {prefix:40!} {elapsed:>4} {msg}")
                .expect("the template is valid")
        }
    };
    bar.set_style(style);
    bar.set_prefix(key.to_owned());
    if item == Item::Migration {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

fn plain(text: &str) {
    let now = jiff::Zoned::now().strftime("%H:%M:%S");
    let _ = writeln!(std::io::stderr().lock(), "{now} {text}");
}

fn truncate(text: &str, width: usize) -> String {
    console::truncate_str(text, width, "…").into_owned()
}
