//! A fleet: one update across several clusters, in waves (`--context a,b --context c`). Each
//! `--context` is a wave; its clusters are updated in parallel, and the waves run in order.
//!
//! The phases, each finished on every cluster before the next starts: the contexts are checked
//! against the kubeconfig (nothing contacted); every cluster of every wave is connected,
//! discovered, planned and preflighted (reads only: any failure ends the run with nothing written
//! anywhere); every cluster's lock is taken (all up front, so that no other run slips in between
//! waves); then wave by wave each cluster runs its own update (`live::Staged::change`: migrate,
//! patch, watch, roll itself back on a failure). When a cluster of a wave fails, the clusters of
//! that wave that succeeded are rolled back, no later wave starts, and with `--fleet-rollback` the
//! waves already done are rolled back too, newest first. The locks are released however it ends.
//!
//! Never prints: each cluster reports through its own labelled sink (`label`), and the fleet's
//! report (`summary`) goes to the run's sink once at the end.

mod label;
mod summary;

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use futures::future::join_all;

use crate::cluster::{self, ClusterArgs};
use crate::config::Config;
use crate::error::{Exit, Failure, exit_code_of};
use crate::report::ClusterReport;
use crate::run::live::Staged;
use crate::run::lock::Lock;
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Ending, Event, Sink};

/// One cluster of the fleet: its context, its wave (from 1) and how to reach it.
struct Member {
    context: String,
    wave: usize,
    args: ClusterArgs,
}

impl Member {
    /// `cluster "b" (wave 2)`, for errors.
    fn describe(&self) -> String {
        format!("cluster {:?} (wave {})", self.context, self.wave)
    }
}

/// Runs the update on every cluster of `waves`, in waves, and reports it to `sink`. SIGINT and
/// SIGTERM stop it safely: a running wave rolls back what it patched, later waves do not start.
pub async fn run(
    config: &Config,
    waves: &[Vec<ClusterArgs>],
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<Exit> {
    let members: Vec<Member> = waves
        .iter()
        .enumerate()
        .flat_map(|(idx, wave)| {
            wave.iter().map(move |args| Member {
                context: args.context.clone().unwrap_or_default(),
                wave: idx + 1,
                args: args.clone(),
            })
        })
        .collect();
    check_contexts(&members)?;
    let interrupt = signals::install(sink.clone());
    let sinks: Vec<Arc<dyn Sink>> = members
        .iter()
        .map(|it| label::labelled(sink.clone(), &it.context))
        .collect();
    let mut held: Vec<Option<Lock>> = members.iter().map(|_| None).collect();
    let fleet = Fleet {
        config,
        members: &members,
        sink,
        interrupt: &interrupt,
        started: Instant::now(),
    };
    let res = fleet.update(&sinks, &mut held).await;
    join_all(held.into_iter().flatten().map(Lock::release)).await;
    res
}

/// Every context is in the (merged) kubeconfig: checked before any cluster is contacted.
fn check_contexts(members: &[Member]) -> anyhow::Result<()> {
    let kubeconfigs = &members[0].args.kubeconfigs;
    let Some(kubeconfig) = cluster::load_kubeconfig(kubeconfigs)? else {
        return Err(Failure::new(
            Exit::Failed,
            "no kubeconfig found, but a fleet names its clusters by kubeconfig context",
        )
        .hint("pass --kubeconfig PATH (repeatable) or set KUBECONFIG")
        .into());
    };
    for member in members {
        cluster::check_context(&kubeconfig, &member.context)?;
    }
    Ok(())
}

/// What every phase of a fleet reads.
struct Fleet<'a> {
    config: &'a Config,
    members: &'a [Member],
    sink: &'a Arc<dyn Sink>,
    interrupt: &'a Interrupt,
    started: Instant,
}

impl Fleet<'_> {
    /// The phases in order; `held` gets each cluster's lock, for `run` to release.
    async fn update(
        &self,
        sinks: &[Arc<dyn Sink>],
        held: &mut [Option<Lock>],
    ) -> anyhow::Result<Exit> {
        let mut staged = self.prepare(sinks).await?;
        for ((one, member), slot) in staged.iter_mut().zip(self.members).zip(held.iter_mut()) {
            if one.ended.is_none() {
                one.lock(slot).await.with_context(|| member.describe())?;
            }
        }
        let mut exits: Vec<Option<Exit>> = staged.iter().map(|it| it.ended).collect();
        let last_wave = self.members.iter().map(|it| it.wave).max().unwrap_or(0);
        let mut stopped = None;
        for wave in 1..=last_wave {
            if self.interrupt.is_set() {
                let why = format!("interrupted before wave {wave}");
                if self.config.fleet_rollback && wave > 1 {
                    self.roll_back_waves(wave - 1, &why, &mut staged, &mut exits)
                        .await;
                }
                stopped = Some(why);
                break;
            }
            self.run_wave(wave, &mut staged, &mut exits).await;
            let failed = self.members.iter().zip(&exits).find(|(member, exit)| {
                member.wave == wave && exit.is_some_and(|it| it != Exit::Success)
            });
            if let Some((member, _)) = failed {
                let why = format!("{} failed", member.describe());
                self.roll_back_waves(wave, &why, &mut staged, &mut exits)
                    .await;
                stopped = Some(why);
                break;
            }
        }
        let why = stopped.as_deref().unwrap_or_default();
        for (one, exit) in staged.iter_mut().zip(&exits) {
            if exit.is_none() {
                one.not_started(&format!("not started: {why}"));
            }
        }
        let mut worst = summary::worst(exits.iter().flatten().copied());
        if self.interrupt.is_set() {
            worst = summary::worse(worst, Exit::Interrupted);
        }
        self.report(&mut staged, worst, stopped)?;
        Ok(worst)
    }

    /// Connects to, discovers, plans and preflights every cluster of every wave, in parallel.
    /// Reads only: the first failure (in wave order) ends the fleet with nothing written.
    async fn prepare<'s>(&'s self, sinks: &'s [Arc<dyn Sink>]) -> anyhow::Result<Vec<Staged<'s>>> {
        let work = self
            .members
            .iter()
            .zip(sinks)
            .map(|(member, sink)| async move {
                Staged::prepare(self.config, &member.args, sink, self.interrupt)
                    .await
                    .with_context(|| member.describe())
            });
        let mut staged = join_all(work)
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        for one in staged.iter_mut().filter(|it| it.ended.is_some()) {
            one.stamp();
        }
        for (idx, one) in staged.iter().enumerate() {
            if let Some(first) = staged[..idx]
                .iter()
                .position(|it| it.server() == one.server())
            {
                let (a, b) = (&self.members[first].context, &self.members[idx].context);
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "contexts {a:?} and {b:?} reach the same API server {}; a fleet updates each cluster once",
                        one.server()
                    ),
                )
                .hint("to update several namespaces of one cluster, give one context and -n NS,NS or -A")
                .into());
            }
        }
        Ok(staged)
    }

    /// Runs the update of each cluster of `wave` that has something to write, in parallel.
    async fn run_wave(&self, wave: usize, staged: &mut [Staged<'_>], exits: &mut [Option<Exit>]) {
        let work = staged
            .iter_mut()
            .zip(self.members)
            .enumerate()
            .filter(|(_, (one, member))| member.wave == wave && one.ended.is_none())
            .map(|(idx, (one, member))| async move {
                let res = one.change().await;
                one.stamp();
                (idx, member, res)
            });
        let mut failed = Vec::new();
        for (idx, member, res) in join_all(work).await {
            exits[idx] = Some(match res {
                Ok(exit) => exit,
                Err(err) => {
                    let exit = exit_code_of(&err);
                    failed.push((idx, member, format!("{err:#}")));
                    exit
                }
            });
        }
        for (idx, member, error) in failed {
            let report = staged[idx].report();
            report.result = "failed".to_owned();
            report.reason = Some(error.clone());
            let text = format!("error: {error}");
            let _ = self.sink.end(Ending::About {
                cluster: &member.context,
                ending: Box::new(Ending::Message(&text)),
            });
        }
    }

    /// After `wave` failed: rolls back the clusters of that wave that succeeded and, with
    /// `--fleet-rollback`, every cluster of the waves before it, newest wave first.
    async fn roll_back_waves(
        &self,
        wave: usize,
        why: &str,
        staged: &mut [Staged<'_>],
        exits: &mut [Option<Exit>],
    ) {
        if !self.config.rollback {
            return;
        }
        let oldest = if self.config.fleet_rollback { 1 } else { wave };
        let names: Vec<String> = self
            .members
            .iter()
            .zip(staged.iter())
            .filter(|(member, one)| (oldest..=wave).contains(&member.wave) && one.changed())
            .map(|(member, _)| member.context.clone())
            .collect();
        self.sink.event(Event::WaveFailed {
            wave,
            why,
            rolled_back: &names,
        });
        for back in (oldest..=wave).rev() {
            let work = staged
                .iter_mut()
                .zip(self.members)
                .enumerate()
                .filter(|(_, (one, member))| member.wave == back && one.changed())
                .map(|(idx, (one, member))| async move {
                    let res = one.roll_back(why).await.with_context(|| member.describe());
                    one.stamp();
                    (idx, res)
                });
            for (idx, res) in join_all(work).await {
                let exit = res.unwrap_or_else(|err| {
                    let text = format!("error: the fleet's rollback failed: {err:#}");
                    let _ = self.sink.end(Ending::About {
                        cluster: &self.members[idx].context,
                        ending: Box::new(Ending::Message(&text)),
                    });
                    Exit::RollbackFailed
                });
                exits[idx] = Some(summary::worse(exits[idx].unwrap_or(Exit::Success), exit));
            }
        }
    }

    /// Ends the fleet with its report: each cluster's, and the worst outcome on top.
    fn report(
        &self,
        staged: &mut [Staged<'_>],
        worst: Exit,
        stopped: Option<String>,
    ) -> anyhow::Result<()> {
        let clusters: Vec<ClusterReport> = staged
            .iter_mut()
            .zip(self.members)
            .map(|(one, member)| ClusterReport {
                context: member.context.clone(),
                server: one.server().to_owned(),
                wave: member.wave,
                report: one.report().clone(),
            })
            .collect();
        let mut report = summary::fleet_report(self.config, clusters, worst, stopped);
        let plans: Vec<_> = staged.iter().map(|it| it.plan()).collect();
        self.sink.end(Ending::Fleet {
            report: &mut report,
            plans: &plans,
            format: self.config.output,
            elapsed: self.started.elapsed(),
        })?;
        Ok(())
    }
}
