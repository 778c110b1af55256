#!/usr/bin/env bash
# The main job, end to end, with no cluster around: starts the bundled simulated cluster loaded with
# examples/, previews an update, runs it (a migration first, then the rollouts), then runs an update
# whose new pods crash, which is detected and rolled back.
set -euo pipefail
cd "$(dirname "$0")"

cargo build --quiet --bin kubectl-update && cargo build --quiet -p fake-cluster --bin fake-cluster
bin=target/debug
work=$(mktemp -d)
"$bin/fake-cluster" --kubeconfig-out "$work/kubeconfig" --manifests examples --time-scale 0.5 > "$work/ready" 2> "$work/cluster.log" &
cluster=$!
trap 'kill $cluster 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^READY' "$work/ready" && break; sleep 0.1; done
export KUBECONFIG="$work/kubeconfig"
echo "Simulated cluster: $(cat "$work/ready")"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

step "1. Preview (read-only)" kubectl update --image busybox:1.37 --classifier stable --dry-run
"$bin/kubectl-update" --image busybox:1.37 --classifier stable --dry-run

step "2. Update: the migration runs first, then every rollout is watched" kubectl update --image busybox:1.37 --classifier stable
"$bin/kubectl-update" --image busybox:1.37 --classifier stable

step "3. A bad image: the crash loop is detected and everything is rolled back (exit 4)" \
  kubectl update --image busybox:crash-1.38 --classifier canary --fail-after 3s
set +e
"$bin/kubectl-update" --image busybox:crash-1.38 --classifier canary --fail-after 3s
echo "exit code: $?"
set -e

if command -v kubectl >/dev/null 2>&1; then
  step "4. The real kubectl sees the result" kubectl rollout history deployment/web
  KUBECACHEDIR="$work/cache" kubectl rollout history deployment/web
fi
