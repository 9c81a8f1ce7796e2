use mapstore::MapStore;

#[derive(MapStore)]
struct Wrapper<T> {
    value: T,
}

#[derive(MapStore)]
struct Buffer<'a, const N: usize> {
    bytes: &'a [u8; N],
}

// A `storage` key with a bad value: its own error, and no second one
// asking for a `storage` key.
#[derive(MapStore)]
#[map_store(storage = "Inline")]
struct Misspelt<T> {
    value: T,
}

fn main() {
    // No follow-on errors: the derive still emits an impl and the alias.
    let _: WrapperStore<u8, u8> = mapstore::MapStore::new();
}
