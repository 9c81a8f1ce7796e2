use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(stroage = "inline")]
struct Typo {
    a: u8,
}

#[derive(MapStore)]
#[map_store(capacity = 16)]
struct Unknown {
    a: u8,
}

#[derive(MapStore)]
#[map_store(allow(slow_strage, everything))]
struct UnknownWarning {
    a: u8,
}

fn main() {}
