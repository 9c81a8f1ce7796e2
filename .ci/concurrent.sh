#!/usr/bin/env bash
# CI for `ConcurrentStore` (runtime/concurrent.rs on its table,
# runtime/concurrent_table.rs): its threaded tests, the re-entrant-`Drop`
# tests, the debug re-lock checks, serde, the linearizability check (a sweep
# of MAPSTORE_LIN_SEEDS rounds per storage, 5000 by default, every round
# migrating the table), the loom model checks (release, up to 4
# preemptions), shuttle's random schedules of larger models, Miri over the
# threaded tests at tiny sizes, ThreadSanitizer over the threaded tests
# (nightly, std rebuilt instrumented), AddressSanitizer with LeakSanitizer
# over the threaded and re-entrant-`Drop` tests, and the concurrent bench in
# quick mode.
# Installs what it needs itself. Called from .ci/run. The loom, shuttle and
# TSan builds have their own target directories, since `--cfg mapstore_loom`,
# `--cfg mapstore_shuttle` and `-Zsanitizer` change every crate's flags.
# The whole script: 110 s warm on a shared 2-core machine. Run times, built: loom 1.3-3.6 s, shuttle about
# 7 s, the 5000-round linearizability sweep about 12 s, Miri about 6 minutes,
# the TSan tests about 45 s, the ASan tests about 5 s. From cold add the loom and shuttle release
# builds (about 2.5 minutes each), the Miri build (2.5 minutes), the TSan
# build of std and the dev-dependencies (1.5-4.7 minutes) and the bench
# build (a few minutes); the ASan build of the dependencies (about 4 minutes
# here) is shared with .ci/run's AddressSanitizer step.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "concurrent: threaded tests, re-entrant drops, debug re-lock checks, serde"
cargo test -p mapstore --test concurrent --test concurrent_drop --test concurrent_relock
cargo test -p mapstore --features serde --test concurrent_serde

step "concurrent: linearizability check (${MAPSTORE_LIN_SEEDS:=5000} random histories per storage, checked key by key)"
MAPSTORE_LIN_SEEDS="$MAPSTORE_LIN_SEEDS" cargo test -p mapstore --test concurrent_linearizable

step "concurrent: loom models (distinct writes through the public API, each checked against a sequential history; migration paths; up to ${LOOM_MAX_PREEMPTIONS:=4} preemptions, about 4 s)"
# Release speed with debug assertions: the table's `debug_assert`s (a group read only when not
# moved, a new group filled only when empty) turn a use after free that loom cannot see into a
# failure; without them mutant T4 of docs/concurrent.md passed every model.
LOOM_MAX_PREEMPTIONS="$LOOM_MAX_PREEMPTIONS" RUSTFLAGS="--cfg mapstore_loom" CARGO_TARGET_DIR=target/loom \
  CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
  cargo test -p mapstore --release --features __model_check --test concurrent_loom

step "concurrent: shuttle, random schedules of models too large for loom (4 threads x 50 calls across six growths, alter and alter_all across growths; ${MAPSTORE_SHUTTLE_ITERS:=3000} schedules per model, about 10 s)"
# The same loom facade in the table, built on shuttle's primitives
# (Cargo.toml renames shuttle to `loom` under both cfgs). Debug assertions on,
# as for loom: the table's `debug_assert`s turn a use after free into a failure.
MAPSTORE_SHUTTLE_ITERS="$MAPSTORE_SHUTTLE_ITERS" \
  RUSTFLAGS="--cfg mapstore_loom --cfg mapstore_shuttle" CARGO_TARGET_DIR=target/shuttle \
  CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
  cargo test -p mapstore --release --features __model_check --test concurrent_shuttle

step "concurrent: Miri over the threaded tests, the mid-resize tests and the API tests (tiny sizes; about 6 minutes)"
rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 \
  || rustup component add miri rust-src --toolchain nightly
cargo +nightly miri setup
# Permissive provenance: parking_lot_core's parking queue stores thread
# pointers in lock words (integer-to-pointer casts), which strict provenance
# rejects. Stacked Borrows and Miri's leak check stay on: the table itself
# needs no other allowance.
MIRIFLAGS="${MIRIFLAGS:--Zmiri-permissive-provenance}" \
  cargo +nightly miri test -p mapstore --no-default-features --features std \
  --test concurrent --test concurrent_growth --test concurrent_api --test concurrent_unstable_hash
echo "miri (concurrent): passed"

step "concurrent: ThreadSanitizer over the threaded tests (nightly, -Zbuild-std)"
# std must be instrumented too (-Zbuild-std, which needs rust-src, installed
# above), or TSan cannot see std's locks and reports false races. With the
# default per-thread history, a race between two long loops went unreported
# here (TSan drops a report whose earlier access has left the thread's
# trace); history_size=7, the largest, reported it. A race fails the run
# (TSan's exit code 66) even when every test passed. The linearizability
# test runs its default 500 rounds per storage here.
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
TSAN_OPTIONS="${TSAN_OPTIONS:-history_size=7}" RUSTFLAGS="-Zsanitizer=thread" \
  MAPSTORE_LIN_SEEDS=500 \
  CARGO_TARGET_DIR=target/tsan \
  cargo +nightly test -Zbuild-std --target "$host" -p mapstore \
  --test concurrent --test concurrent_linearizable --test concurrent_api
echo "tsan (concurrent): passed"

step "concurrent: AddressSanitizer + LeakSanitizer over the threaded and re-entrant-Drop tests (nightly)"
# The same flags and target directory as .ci/run's AddressSanitizer step, so
# the instrumented dependencies are built once for both. No suppressions:
# the table leaks nothing in these tests.
# allocator_may_return_null: a request no allocator can satisfy returns null,
# as the system allocator's does (`try_reserve`'s error path is under test),
# instead of ASan ending the process.
CARGO_TARGET_DIR=target/asan RUSTFLAGS="-Zsanitizer=address" \
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  cargo +nightly test --target "$host" -p mapstore --test concurrent --test concurrent_drop \
  --test concurrent_growth
echo "asan (concurrent): passed"

step "concurrent: bench, quick mode"
cargo bench --bench concurrent -- --test
