//! Benchmarks: the three storages against the maps users would pick.
fn main() {}
