//! SIGINT and SIGTERM during a live run. The first signal asks the run to stop at the next safe
//! point: before any write it simply stops; during migrations it stops waiting (the copies are kept
//! or deleted as `--on-interrupt` says) and touches no workload; during the rollout it rolls back
//! what this run patched (unless `--no-rollback`). Either way the run exits 130. A second signal
//! exits at once, printing (through the sink) where each workload stands and the commands that
//! finish the job by hand. Never writes to the cluster itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::error::{Exit, Failure};
use crate::run::sink::{Event, Sink};

/// Whether the run was asked to stop; cheap to clone and to poll.
#[derive(Debug, Clone)]
pub struct Interrupt {
    rx: Option<watch::Receiver<bool>>,
}

impl Interrupt {
    /// An interrupt that never comes (for steps that must finish, like a rollback).
    pub fn never() -> Interrupt {
        Interrupt { rx: None }
    }

    pub fn is_set(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Resolves once the run has been asked to stop; never for [`Interrupt::never`].
    pub async fn wait(&self) {
        let Some(rx) = &self.rx else {
            return std::future::pending().await;
        };
        let mut rx = rx.clone();
        if rx.wait_for(|it| *it).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The failure a run ends with when it stops before changing anything.
pub fn interrupted_before_changes(step: &str) -> Failure {
    Failure::new(
        Exit::Interrupted,
        format!("interrupted {step}; nothing was changed"),
    )
}

/// Where each workload or migration stands, and how to finish by hand, for the second signal.
#[derive(Default)]
struct Ledger {
    states: BTreeMap<String, String>,
    commands: Vec<String>,
}

static LEDGER: Mutex<Ledger> = Mutex::new(Ledger {
    states: BTreeMap::new(),
    commands: Vec::new(),
});

/// Records the state of one workload or migration (`key` like `shop/deployment/web`).
pub fn note(key: &str, state: &str) {
    if let Ok(mut ledger) = LEDGER.lock() {
        ledger.states.insert(key.to_owned(), state.to_owned());
    }
}

/// Records a command that finishes the run by hand (printed once, in order).
pub fn finish_with(command: &str) {
    if let Ok(mut ledger) = LEDGER.lock()
        && !ledger.commands.iter().any(|it| it == command)
    {
        ledger.commands.push(command.to_owned());
    }
}

/// What a second signal prints before exiting.
fn abandon_text() -> String {
    let ledger = LEDGER.lock().map_or_else(
        |_| Ledger::default(),
        |it| Ledger {
            states: it.states.clone(),
            commands: it.commands.clone(),
        },
    );
    let mut text = String::from("Interrupted again: exiting now, without finishing the cleanup.");
    if ledger.states.is_empty() {
        text.push_str("\n  nothing had been changed yet");
    }
    for (key, state) in &ledger.states {
        text.push_str(&format!("\n  {key}: {state}"));
    }
    for command in &ledger.commands {
        text.push_str(&format!("\n  to finish by hand: {command}"));
    }
    text
}

/// Starts listening for SIGINT and SIGTERM (inside the runtime).
pub fn install(sink: Arc<dyn Sink>) -> Interrupt {
    let (tx, rx) = watch::channel(false);
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // No signal handling (should not happen on Unix): the default actions stay.
        return Interrupt { rx: Some(rx) };
    };
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            seen += 1;
            if seen == 1 {
                tx.send_replace(true);
                sink.event(Event::Signal { name });
            } else {
                sink.event(Event::Abandon {
                    ledger: &abandon_text(),
                });
                std::process::exit(Exit::Interrupted as i32);
            }
        }
    });
    Interrupt { rx: Some(rx) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_is_never_set() {
        let never = Interrupt::never();
        assert!(!never.is_set());
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), never.wait()).await;
        assert!(waited.is_err());
    }

    #[test]
    fn the_ledger_says_where_things_stand() {
        note(
            "shop/deployment/web",
            "patched to busybox:1.37, rolling out",
        );
        finish_with("kubectl update rollback -c stable -n shop");
        finish_with("kubectl update rollback -c stable -n shop");
        let text = abandon_text();
        assert!(text.contains("shop/deployment/web: patched to busybox:1.37, rolling out"));
        assert_eq!(
            text.matches("to finish by hand: kubectl update rollback")
                .count(),
            1
        );
    }
}
