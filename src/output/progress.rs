//! Live progress on stderr. On a terminal: an indicatif MultiProgress, one line per migration
//! (spinner, elapsed, last log line) and per workload (bar of updated replicas, state). Elsewhere
//! (CI): plain timestamped lines, one per change of state, never repeated; on GitHub Actions and
//! GitLab CI each migration's log lines are in a collapsed group of their own.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::ci::Service;
use crate::run::sink::Item;

/// Progress reporting for one run; cheap to share behind an `Arc`.
pub struct Progress {
    mode: Mode,
    ci: Service,
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
    /// The migration whose CI log group is open. Groups cannot interleave, so the log lines of
    /// migrations running meanwhile are held until it closes.
    open_group: Option<String>,
    held: Vec<Held>,
    /// Other lines printed while a group is open, printed after it.
    held_plain: Vec<String>,
}

/// Log lines of a migration waiting for their CI group.
struct Held {
    job: String,
    lines: Vec<String>,
    finished: bool,
    /// Lines about the migration that follow its group (its final state).
    after: Vec<String>,
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
            ci: Service::detect(),
            lines: Mutex::new(Lines::default()),
        }
    }

    /// A message line (above the bars on a terminal).
    pub fn say(&self, text: &str) {
        match &self.mode {
            Mode::Bars(multi) => {
                let _ = multi.println(text);
            }
            Mode::Plain => {
                let mut lines = self.lines.lock().expect("progress lock");
                self.plain(&mut lines, text);
            }
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
            Mode::Plain if self.ci == Service::Plain => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
            Mode::Plain => {
                let mut lines = self.lines.lock().expect("progress lock");
                match &lines.open_group {
                    None => {
                        self.open_group(&mut lines, job);
                        let _ = writeln!(std::io::stderr().lock(), "{text}");
                    }
                    Some(open) if open == job => {
                        let _ = writeln!(std::io::stderr().lock(), "{text}");
                    }
                    Some(_) => match lines.held.iter_mut().find(|it| it.job == job) {
                        Some(held) => held.lines.push(text),
                        None => lines.held.push(Held {
                            job: job.to_owned(),
                            lines: vec![text],
                            finished: false,
                            after: Vec::new(),
                        }),
                    },
                }
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
                Item::Workload => self.plain(
                    &mut lines,
                    &format!("{key}: {state} ({done}/{total} updated)"),
                ),
                Item::Migration => self.plain(&mut lines, &format!("{key}: {state}")),
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
            Mode::Plain => {
                let text = format!("{key}: {state}");
                if lines.open_group.as_deref() == Some(key) {
                    self.close_group(&mut lines);
                } else if let Some(held) = lines.held.iter_mut().find(|it| it.job == key) {
                    held.finished = true;
                    held.after.push(stamped(&text));
                    return;
                }
                self.flush_held(&mut lines);
                self.plain(&mut lines, &text);
            }
        }
    }

    /// Clears the bars (or closes the CI log groups) before the final report.
    pub fn clear(&self) {
        if let Mode::Plain = &self.mode {
            let mut lines = self.lines.lock().expect("progress lock");
            self.close_group(&mut lines);
            for held in &mut lines.held {
                held.finished = true;
            }
            self.flush_held(&mut lines);
        }
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

impl Progress {
    fn open_group(&self, lines: &mut Lines, job: &str) {
        if let Some(start) = self.ci.group_start(job, &format!("Migration {job}: log")) {
            let _ = writeln!(std::io::stderr().lock(), "{start}");
            lines.open_group = Some(job.to_owned());
        }
    }

    /// A timestamped line; held while a CI group is open, so that the group holds only its log.
    fn plain(&self, lines: &mut Lines, text: &str) {
        let line = stamped(text);
        if lines.open_group.is_some() {
            lines.held_plain.push(line);
        } else {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    fn close_group(&self, lines: &mut Lines) {
        if let Some(job) = lines.open_group.take() {
            let mut stderr = std::io::stderr().lock();
            if let Some(end) = self.ci.group_end(&job) {
                let _ = writeln!(stderr, "{end}");
            }
            for line in lines.held_plain.drain(..) {
                let _ = writeln!(stderr, "{line}");
            }
        }
    }

    /// Prints held log lines once no group is open: finished migrations as whole groups, then
    /// the first one still running as the new open group.
    fn flush_held(&self, lines: &mut Lines) {
        while lines.open_group.is_none() && !lines.held.is_empty() {
            let held = lines.held.remove(0);
            self.open_group(lines, &held.job);
            let mut stderr = std::io::stderr().lock();
            for line in &held.lines {
                let _ = writeln!(stderr, "{line}");
            }
            drop(stderr);
            if held.finished {
                self.close_group(lines);
                let mut stderr = std::io::stderr().lock();
                for line in &held.after {
                    let _ = writeln!(stderr, "{line}");
                }
            }
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

fn stamped(text: &str) -> String {
    format!("{} {text}", jiff::Zoned::now().strftime("%H:%M:%S"))
}

fn truncate(text: &str, width: usize) -> String {
    console::truncate_str(text, width, "…").into_owned()
}
