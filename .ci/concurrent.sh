#!/usr/bin/env bash
# CI for `ConcurrentStore` (runtime/concurrent.rs): its threaded tests, the
# re-entrant-`Drop` tests, the debug re-lock checks, serde, the loom model
# checks, Miri over the threaded tests at tiny sizes, and the concurrent bench
# in quick mode. Installs what it needs itself. Called from .ci/run; about
# 6 minutes on a shared 2-core machine, most of it building the bench (the
# loom build has its own target directory, since `--cfg mapstore_loom`
# changes every crate's flags; its models run in under a second).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "concurrent: threaded tests, re-entrant drops, debug re-lock checks, serde"
cargo test -p mapstore --test concurrent --test concurrent_drop --test concurrent_relock
cargo test -p mapstore --features serde --test concurrent_serde

step "concurrent: loom models (distinct writes through the public API, each checked against a sequential history; exhaustive, under a second)"
RUSTFLAGS="--cfg mapstore_loom" CARGO_TARGET_DIR=target/loom \
  cargo test -p mapstore --test concurrent_loom

step "concurrent: Miri over the threaded tests (2 threads, tiny sizes)"
rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 \
  || rustup component add miri rust-src --toolchain nightly
cargo +nightly miri setup
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}" \
  cargo +nightly miri test -p mapstore --no-default-features --features std --test concurrent
echo "miri (concurrent): passed"

step "concurrent: bench, quick mode"
cargo bench --bench concurrent -- --test
