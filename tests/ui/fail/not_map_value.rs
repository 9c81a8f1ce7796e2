// A value type without `MapValue` gets a message saying what to do.
use mapstore::MapStore;

struct Plain {
    id: u64,
}

fn count(map: &MapStore<u32, Plain>) -> usize {
    map.values().map(|plain| plain.id as usize).sum()
}

fn main() {}
