//! kubectl as a witness of how manifests read: `kubectl annotate --local -f FILE -o json
//! kubectl-update.io/witness-` prints every object exactly as kubectl's YAML layer read it, with no
//! cluster at all (`kubectl create --dry-run=client` needs the API server's discovery, checked:
//! "unable to recognize … connection refused"; `--local` never asks).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// kubectl v1.34 built with the control plane when present (`~/.cache/kubectl-update/…`), else the
/// `kubectl` on PATH. No kubectl at all fails the test: it must not pass without its witness.
pub fn kubectl() -> PathBuf {
    let cached = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/kubectl-update/control-plane/bin/kubectl"));
    if let Some(cached) = cached.filter(|it| it.is_file()) {
        return cached;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|it| it.join("kubectl"))
        .find(|it| it.is_file())
        .expect(
            "NO KUBECTL: these tests compare with kubectl's reading of YAML and need a kubectl binary \
             (build the control plane with tests/control-plane/build, or put kubectl on PATH)",
        )
}

/// The objects of `file` as kubectl reads them, or kubectl's error.
pub fn read(file: &Path) -> Result<Vec<Value>, String> {
    let output = Command::new(kubectl())
        .args(["annotate", "--local", "-o", "json", "-f"])
        .arg(file)
        .arg("kubectl-update.io/witness-")
        .env("KUBECONFIG", "/dev/null")
        .output()
        .expect("kubectl runs");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    // One JSON object per object read, one after the other.
    let mut items: Vec<Value> = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("kubectl prints JSON");
    for item in &mut items {
        // `annotate` adds an empty annotations map where there was none.
        let metadata = item.get_mut("metadata").and_then(Value::as_object_mut);
        if let Some(metadata) = metadata
            && metadata
                .get("annotations")
                .and_then(Value::as_object)
                .is_some_and(serde_json::Map::is_empty)
        {
            metadata.remove("annotations");
        }
    }
    Ok(items)
}
