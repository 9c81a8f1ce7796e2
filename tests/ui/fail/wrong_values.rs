use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(storage = inline, store = 5, no_store = true)]
struct NotStrings {
    a: u8,
}

#[derive(MapStore)]
#[map_store(store = "my store", crate = "not a path")]
struct NotNames {
    a: u8,
}

#[derive(MapStore)]
#[map_store(storage, allow)]
struct MissingValues {
    a: u8,
}

#[derive(MapStore)]
#[map_store]
struct NoParens {
    a: u8,
}

#[derive(MapStore)]
#[map_store(storage = "inline" explain)]
struct NotAList {
    a: u8,
}

#[derive(MapStore)]
#[map_store()]
struct EmptyList {
    a: u8,
}

#[derive(MapStore)]
#[map_store[storage = "inline"]]
struct Brackets {
    a: u8,
}

#[derive(MapStore)]
#[map_store(allow("padding", "zero_sized"))]
struct QuotedAllow {
    a: u8,
}

fn main() {}
