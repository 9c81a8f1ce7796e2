//! `#[derive(MapStore)]` compile tests: what must build, what must be
//! rejected with which message, and which warnings fire where.
//!
//! `TRYBUILD=overwrite cargo test --test ui` regenerates the `.stderr`
//! snapshots (they depend on the toolchain pinned in `rust-toolchain.toml`).

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
