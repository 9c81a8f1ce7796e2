#!/usr/bin/env bash
# CI steps for FrozenStore (issue 15), called from .ci/run. About 30 s warm,
# a few minutes from a cold target directory (compiling), on 2 cores:
# - the FrozenStore tests with the serde feature (serde round trip included);
# - the benchmark in quick mode (N = 1000, 2 rounds, writes nothing);
# - the large-N differential against std's HashMap (N = 1e5 and 1e6, optimized).
# FrozenStore has no unsafe code (`#![forbid(unsafe_code)]` in
# runtime/frozen.rs), so there is nothing of its own for Miri to check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "frozen: tests with the serde feature"
cargo test --features serde --test frozen

step "frozen: benchmark compiles and runs once (quick mode)"
cargo bench --bench frozen -- --test

# The bench profile (optimized): its dependencies are built already, by the
# step above and by .ci/run's own benches.
step "frozen: large-N differential against std's HashMap (N = 1e5, 1e6; optimized)"
cargo test --profile bench --test frozen -- --ignored large_n_matches_std

echo "frozen: passed"
