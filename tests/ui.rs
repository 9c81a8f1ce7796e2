//! `#[derive(MapStore)]` compile tests: what must build, what must be
//! rejected with which message, and which warnings fire where.
//!
//! `TRYBUILD=overwrite cargo test --test ui` regenerates the `.stderr`
//! snapshots (they depend on the toolchain pinned in `rust-toolchain.toml`).
//!
//! Each case is a crate of its own, built by its own rustc run, except
//! `tests/ui/pass/merged.rs`: the pass cases that need no crate root of
//! their own are its modules (`tests/ui/pass/merged/`), one build for all.
//! trybuild's project depends on the package's dev-dependencies except
//! those under `cfg(not(trybuild))` in `Cargo.toml`; a case that needs one
//! of those moves it up.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // Expansions that must build, without any warning, and run.
    t.pass("tests/ui/pass/*.rs");
    // Misuse: each error spanned at the offending tokens.
    t.compile_fail("tests/ui/fail/*.rs");
    // Warnings, made errors by `#![deny(deprecated)]` so their text is checked.
    t.compile_fail("tests/ui/warn/*.rs");
}
