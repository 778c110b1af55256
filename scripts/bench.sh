#!/usr/bin/env bash
# Runs the benchmarks and writes BENCHMARKS.md at the repository root.
#
#   scripts/bench.sh            # full run: 5 repetitions (about 8 minutes)
#   scripts/bench.sh --quick    # one repetition at tiny sizes: checks the harness works
#
# Extra arguments go to the harness (benches/harness.rs): --repetitions N, --out PATH,
# --kubectl PATH, --tool PATH, --only 4,5 (those measurements only, with --out elsewhere).
#
# The measured binary is the release build (lto, strip, as shipped). The harness itself (and the
# simulated cluster it runs in-process, tests/fake-cluster) is built with the bench profile minus
# LTO, which only shortens the build: it is not what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin kubectl-update
export CARGO_PROFILE_BENCH_LTO=false
export CARGO_PROFILE_BENCH_CODEGEN_UNITS=16
export BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
cargo bench --bench harness -- "$@"
