#!/usr/bin/env bash
# CI steps for FrozenStore (issue 15), called from .ci/run. About 3-5 minutes
# on the 2-core CI machine, most of it compiling:
# - the FrozenStore tests with the serde feature (serde round trip included);
# - the large-N differential against std's HashMap (N = 1e5 and 1e6, release);
# - the benchmark in quick mode (N = 1000, 2 rounds, writes nothing);
# - Miri over FrozenStore's one unsafe block (the scatter), at tiny sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "frozen: tests with the serde feature"
cargo test --features serde --test frozen --test frozen_miri

step "frozen: large-N differential against std's HashMap (release)"
cargo test --release --test frozen -- --ignored large_n_matches_std

step "frozen: benchmark compiles and runs once (quick mode)"
cargo bench --bench frozen -- --test

step "frozen: Miri over the scatter (tiny sizes)"
rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 \
  || rustup component add miri rust-src --toolchain nightly
cargo +nightly miri setup
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}" \
  cargo +nightly miri test -p mapstore --no-default-features --features std --test frozen_miri
echo "frozen: passed"
