//! The fleet's own outcome, from its clusters': the worst exit code (their meanings kept) and the
//! top of the fleet's report. Pure: no I/O.

use crate::config::Config;
use crate::error::Exit;
use crate::report::{ClusterReport, Report, dry_run_name};

/// How bad an exit is: success, then an error before any change, usage, a failed migration, a
/// failed rollout, a failed rollback, an interrupt.
fn severity(exit: Exit) -> u8 {
    match exit {
        Exit::Success => 0,
        Exit::Failed => 1,
        Exit::Usage => 2,
        Exit::MigrationFailed => 3,
        Exit::RolloutFailed => 4,
        Exit::RollbackFailed => 5,
        Exit::Interrupted => 6,
    }
}

/// The worse of two exits.
pub fn worse(a: Exit, b: Exit) -> Exit {
    if severity(b) > severity(a) { b } else { a }
}

/// The worst of the clusters' exits; success for none.
pub fn worst(exits: impl IntoIterator<Item = Exit>) -> Exit {
    exits.into_iter().fold(Exit::Success, worse)
}

/// The fleet's report: the clusters', and on top the worst result, every cluster's workloads,
/// migrations and near misses (in wave order), and why the fleet stopped (`stopped`).
pub fn fleet_report(
    config: &Config,
    clusters: Vec<ClusterReport>,
    worst: Exit,
    stopped: Option<String>,
) -> Report {
    let results: Vec<&str> = clusters
        .iter()
        .map(|it| it.report.result.as_str())
        .collect();
    let result = match worst {
        Exit::Success if results.iter().all(|it| *it == "unchanged") => "unchanged",
        Exit::Success if results.contains(&"succeeded") => "succeeded",
        Exit::Success => "planned",
        Exit::MigrationFailed => "migration-failed",
        Exit::RolloutFailed if results.contains(&"failed") => "failed",
        Exit::RolloutFailed => "rolled-back",
        Exit::RollbackFailed => "rollback-failed",
        Exit::Interrupted => "interrupted",
        Exit::Failed | Exit::Usage => "failed",
    };
    Report {
        result: result.to_owned(),
        dry_run: config.dry_run.map(|it| dry_run_name(it).to_owned()),
        images: config
            .request
            .images
            .iter()
            .map(|it| it.as_str().to_owned())
            .collect(),
        classifier: config.request.classifier.to_string(),
        workloads: clusters
            .iter()
            .flat_map(|it| it.report.workloads.clone())
            .collect(),
        migrations: clusters
            .iter()
            .flat_map(|it| it.report.migrations.clone())
            .collect(),
        rollback_migrations: clusters
            .iter()
            .flat_map(|it| it.report.rollback_migrations.clone())
            .collect(),
        near_misses: clusters
            .iter()
            .flat_map(|it| it.report.near_misses.clone())
            .collect(),
        identity: None,
        cause: config.cause.clone(),
        reason: stopped,
        notes: Vec::new(),
        duration_seconds: None,
        files_written: None,
        clusters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_wins_whatever_the_order() {
        assert_eq!(worst([]), Exit::Success);
        let exits = [Exit::Success, Exit::RolloutFailed, Exit::MigrationFailed];
        assert_eq!(worst(exits), Exit::RolloutFailed);
        let exits = [Exit::RollbackFailed, Exit::Interrupted, Exit::Success];
        assert_eq!(worst(exits), Exit::Interrupted);
        assert_eq!(worse(Exit::Failed, Exit::Success), Exit::Failed);
    }

    fn cluster(context: &str, wave: usize, result: &str, config: &Config) -> ClusterReport {
        let mut report = fleet_report(config, Vec::new(), Exit::Success, None);
        report.result = result.to_owned();
        report.workloads = vec![crate::report::WorkloadReport {
            namespace: "shop".to_owned(),
            kind: "Deployment".to_owned(),
            name: format!("web-{context}"),
            status: result.to_owned(),
            reason: None,
            containers: Vec::new(),
            diagnosis: None,
            owners: Vec::new(),
        }];
        ClusterReport {
            context: context.to_owned(),
            server: format!("https://{context}.example:6443/"),
            wave,
            report,
        }
    }

    #[test]
    fn the_top_of_the_report_holds_the_worst_result_and_every_workload() {
        use clap::Parser as _;
        let cli =
            crate::cli::Cli::try_parse_from(["kubectl-update", "-i", "app:1", "-c", "s"]).unwrap();
        let config = crate::config::resolve(&cli, &Default::default()).unwrap();
        let all = |results: &[&str], worst: Exit| {
            let clusters = results
                .iter()
                .enumerate()
                .map(|(idx, it)| cluster(&format!("c{idx}"), idx + 1, it, &config))
                .collect();
            fleet_report(&config, clusters, worst, Some("why".to_owned()))
        };
        let report = all(&["succeeded", "unchanged"], Exit::Success);
        assert_eq!(report.result, "succeeded");
        assert_eq!(report.dry_run, None);
        assert_eq!(report.workloads.len(), 2);
        assert_eq!(report.clusters[1].wave, 2);
        assert_eq!(
            all(&["unchanged", "unchanged"], Exit::Success).result,
            "unchanged"
        );
        let failed = ["rolled-back", "rolled-back", "not-started"];
        assert_eq!(all(&failed, Exit::RolloutFailed).result, "rolled-back");
        let failed = ["succeeded", "migration-failed", "not-started"];
        assert_eq!(
            all(&failed, Exit::MigrationFailed).result,
            "migration-failed"
        );
        let json = serde_json::to_value(all(&["succeeded", "planned"], Exit::Success)).unwrap();
        assert_eq!(json["clusters"][0]["context"], "c0");
        assert_eq!(json["clusters"][0]["result"], "succeeded", "flattened");
        assert!(json["clusters"][0].get("clusters").is_none());
    }
}
