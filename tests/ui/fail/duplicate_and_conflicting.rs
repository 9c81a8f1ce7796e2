use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(storage = "inline", storage = "inline")]
struct Twice {
    a: u8,
}

#[derive(MapStore)]
#[map_store(explain)]
#[map_store(explain, allow(padding, padding))]
struct AcrossAttributes {
    a: u8,
}

#[derive(MapStore)]
#[map_store(store = "Things", no_store)]
struct Conflicting {
    a: u8,
}

fn main() {}
