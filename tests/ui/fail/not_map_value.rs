// A value type without `MapValue` gets a message saying what to do.
use mapstore::MapStore;

struct Plain {
    id: u64,
}

fn main() {
    let mut map: MapStore<u32, Plain> = MapStore::new();
    map.insert(1, Plain { id: 1 });
}
