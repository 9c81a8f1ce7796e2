#!/usr/bin/env bash
# CI steps for FrozenStore, called from .ci/run. About a minute warm, a few
# minutes from a cold target directory (compiling), on 2 cores:
# - the FrozenStore tests with the serde feature, and the crate's doctests
#   (docs/frozen.md's among them), each run 5 times: the default hasher
#   draws a new seed in every process, so each run builds the stores under
#   other seeds (no assertion may depend on one);
# - the benchmark in quick mode (N = 1000, 2 rounds, writes nothing);
# - the large-N differential against std's HashMap (N = 1e5 and 1e6, optimized).
# FrozenStore has no unsafe code (`#![forbid(unsafe_code)]` in
# runtime/frozen.rs), so there is nothing of its own for Miri to check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

RUNS="${MAPSTORE_FROZEN_RUNS:-5}"

step "frozen: tests with the serde feature, $RUNS processes (a new hasher seed each)"
cargo test --features serde --test frozen --no-run
for run in $(seq "$RUNS"); do
  echo "-- run $run of $RUNS"
  cargo test --features serde --test frozen -q
done

step "frozen: doctests, $RUNS processes (a new hasher seed each)"
for run in $(seq "$RUNS"); do
  echo "-- run $run of $RUNS"
  cargo test -p mapstore --doc -q -- frozen Frozen
done

step "frozen: benchmark compiles and runs once (quick mode)"
cargo bench --bench frozen -- --test

# The bench profile (optimized): its dependencies are built already, by the
# step above and by .ci/run's own benches.
step "frozen: large-N differential against std's HashMap (N = 1e5, 1e6; optimized)"
cargo test --profile bench --test frozen -- --ignored large_n_matches_std

echo "frozen: passed"
