//! What the other subcommands print: completion scripts and answers, the man page, the RBAC
//! manifests of `kubectl update rbac` and the kubeconfig of `kubectl update kubeconfig`. Never
//! builds what it prints: `cli`, `rbac` and clap's generators do.

use std::io::{self, Write};

use crate::cli::complete::Completion;
use crate::manifest;
use crate::output::{data, message};

/// Prints a completion script for `shell`.
pub fn completion(shell: clap_complete::Shell, command: &mut clap::Command) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, command, "kubectl-update", &mut script);
    let mut stdout = io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()
}

/// Prints a completion answer in kubectl's plugin protocol: `value` or `value<TAB>help` per line,
/// then `:<directive>`.
pub fn completion_candidates(completion: &Completion) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    for candidate in &completion.candidates {
        match &candidate.help {
            Some(help) => writeln!(stdout, "{}\t{help}", candidate.value)?,
            None => writeln!(stdout, "{}", candidate.value)?,
        }
    }
    writeln!(stdout, ":{}", completion.directive as u8)?;
    stdout.flush()
}

/// Prints the man page. Its version is the crate's alone, so that the committed page does not go
/// stale with every commit.
pub fn man_page(command: clap::Command) -> io::Result<()> {
    let command = command
        .name("kubectl-update")
        .version(env!("CARGO_PKG_VERSION"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut stdout = io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()
}

/// Prints Kubernetes objects as multi-document YAML or a JSON List.
pub fn manifests(
    objects: &[serde_json::Value],
    format: crate::cli::rbac::ManifestFormat,
) -> io::Result<()> {
    let text = match format {
        crate::cli::rbac::ManifestFormat::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).map_err(io::Error::other)?
            )
        }
        crate::cli::rbac::ManifestFormat::Yaml => {
            let documents: Vec<manifest::Document> = objects
                .iter()
                .map(|value| manifest::Document {
                    source: String::new(),
                    index: 0,
                    value: value.clone(),
                    layout: None,
                })
                .collect();
            manifest::to_yaml(&documents).map_err(io::Error::other)?
        }
    };
    data(&text)
}

/// A minted CI kubeconfig on stdout; on stderr who it is for, when the API server made it expire,
/// and how to revoke it sooner.
pub fn minted(minted: &crate::rbac::kubeconfig::Minted) -> io::Result<()> {
    let granted = humantime::format_duration(minted.granted_rounded());
    let mut lines = vec![format!(
        "minted a token for {}: it expires at {} (in {granted})",
        minted.identity, minted.expires
    )];
    if minted.granted_rounded() != minted.requested {
        lines.push(format!(
            "note: the API server granted {granted}, not the {} asked for (its --service-account-max-token-expiration)",
            humantime::format_duration(minted.requested)
        ));
    }
    if minted.requested > crate::rbac::kubeconfig::LONGEST_RECOMMENDED {
        lines.push(
            "note: a token longer than a day outlives the pipeline run it is for: mint one per run (see the README's security model)"
                .to_owned(),
        );
    }
    match &minted.revocation_secret {
        Some((namespace, name)) => lines.push(format!(
            "revoke it before then with: kubectl delete secret {name} -n {namespace}"
        )),
        None => lines
            .push("it is bound to no Secret: it cannot be revoked before it expires".to_owned()),
    }
    for line in lines {
        message(&line)?;
    }
    data(&minted.kubeconfig)
}
