// Value types named like the alias's own parameters (`K`, `S`): the alias
// renames its parameters so the value type is not shadowed.
use mapstore::MapStore;

#[derive(MapStore)]
struct S {
    a: u64,
}

#[derive(MapStore)]
struct K(u8);

pub fn main() {
    let mut by_s: SStore<u32> = MapStore::new();
    by_s.insert(1, S { a: 7 });
    assert_eq!(by_s[&1].a, 7);

    let mut by_k: KStore<&str> = MapStore::new();
    by_k.insert("x", K(3));
    assert_eq!(by_k["x"].0, 3);
}
