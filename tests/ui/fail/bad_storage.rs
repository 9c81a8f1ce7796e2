use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(storage = "box")]
struct Close {
    a: u8,
}

#[derive(MapStore)]
#[map_store(storage = "heap")]
struct Far {
    a: u8,
}

fn main() {}
