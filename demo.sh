#!/usr/bin/env bash
# The main job, end to end, with no cluster around: starts the bundled simulated cluster loaded with
# examples/, previews an update, runs it (a migration first, then the rollouts), then runs an update
# whose new pods crash, which is detected and rolled back.
#
#   ./demo.sh          on the simulator (starts at once)
#   ./demo.sh --real   the same story on a real control plane (etcd, kube-apiserver, controller-manager,
#                      scheduler, kwok) built from Go modules by tests/control-plane; the first build
#                      takes about 5 minutes on 2 cores, later starts about 10 seconds
set -euo pipefail
cd "$(dirname "$0")"

real=0
case "${1:-}" in
  "") ;;
  --real) real=1 ;;
  *) echo "demo.sh: unknown argument '$1' (use no argument, or --real)" >&2; exit 2 ;;
esac

# The first build compiles every dependency (a few minutes: 2 min 29 s measured cold on 2 quiet
# cores, far longer on busy ones; see the README); later ones take seconds. cargo's own progress
# shows on stderr.
if [ ! -x target/debug/kubectl-update ]; then
  echo "Building kubectl-update and the simulated cluster (the first build takes a few minutes; cargo's progress follows)..." >&2
else
  echo "Building kubectl-update (up to date in seconds)..." >&2
fi
cargo build --bin kubectl-update
bin=target/debug
work=$(mktemp -d)
if [ "$real" = 1 ]; then
  echo "Starting a real control plane (tests/control-plane/up; builds it first if needed)..."
  kubectl_bin="$(tests/control-plane/build)/kubectl"
  tests/control-plane/up --kubeconfig-out "$work/kubeconfig" --manifests examples >"$work/ready" 2>"$work/cluster.log" &
else
  cargo build -p fake-cluster --bin fake-cluster
  kubectl_bin=kubectl
  "$bin/fake-cluster" --kubeconfig-out "$work/kubeconfig" --manifests examples --time-scale 0.5 >"$work/ready" 2>"$work/cluster.log" &
fi
cluster=$!
trap 'kill $cluster 2>/dev/null; wait $cluster 2>/dev/null; rm -rf "$work"' EXIT
until grep -q '^READY' "$work/ready"; do
  if ! kill -0 "$cluster" 2>/dev/null; then
    echo "the cluster did not start:" >&2
    cat "$work/cluster.log" >&2
    exit 1
  fi
  sleep 0.1
done
export KUBECONFIG="$work/kubeconfig"
if [ "$real" = 1 ]; then
  echo "Real control plane: $(cat "$work/ready") ($("$kubectl_bin" version -o json | sed -nE 's/.*"gitVersion": "([^"]+)".*/\1/p' | tail -1))"
  # The examples roll out before the story starts.
  for kind in deployment statefulset; do "$kubectl_bin" rollout status "$kind" --timeout=120s >/dev/null; done
  # kwok runs no commands: it serves the migration's log lines (what its `sh -c` echoes) from a file.
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  printf '%s stdout F migrating schema\n%s stdout F migration done\n' "$now" "$now" >"$work/migrate.log"
  "$kubectl_bin" apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: demo-migrate}
spec:
  selector: {matchNamespaces: [default]}
  logs: [{containers: [migrate], logsFile: "$work/migrate.log"}]
EOF
else
  echo "Simulated cluster: $(cat "$work/ready")"
fi

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

if command -v "$kubectl_bin" >/dev/null 2>&1; then
  step "4. The real kubectl sees the result" kubectl rollout history deployment/web
  KUBECACHEDIR="$work/cache" "$kubectl_bin" rollout history deployment/web
fi
