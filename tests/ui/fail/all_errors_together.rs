use mapstore::MapStore;

// Every error of one derive is reported, not only the first.
#[derive(MapStore)]
#[map_store(storag = "inline", store = "1st", crate = 2)]
#[map_store(explain, explain)]
struct Many<T> {
    value: T,
}

fn main() {}
