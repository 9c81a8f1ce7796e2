// A `crate = "..."` path that does not lead to mapstore: one error at the
// attribute's string for the derive's impl, and one where the alias (outside
// the derive's `const _` block) names the crate, not one per path the
// generated code names. The same for a path to a crate that is not mapstore
// (a re-exporting crate named in place of its `mapstore` module).
#[derive(mapstore::MapStore)]
#[map_store(crate = "nothere")]
struct Missing {
    id: u64,
}

#[derive(mapstore::MapStore)]
#[map_store(crate = "std")]
struct Elsewhere {
    id: u64,
}

fn main() {}
