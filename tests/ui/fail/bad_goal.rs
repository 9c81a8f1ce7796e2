use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(optimize = "read")]
struct Close {
    a: u8,
}

#[derive(MapStore)]
#[map_store(optimize = "fast")]
struct Far {
    a: u8,
}

#[derive(MapStore)]
#[map_store(optimize = reads, optimize = "memory")]
struct NotAString {
    a: u8,
}

#[derive(MapStore)]
#[map_store(optimize = "writes")]
#[map_store(optimise = "writes", optimize = "memory")]
struct Twice {
    a: u8,
}

fn main() {}
