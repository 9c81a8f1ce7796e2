//! The tour: placeholder until the derive lands.
fn main() {
    let mut map: mapstore::MapStore<String, u64> = mapstore::MapStore::new();
    map.insert("tour".into(), 1);
    println!("{}", <u64 as mapstore::MapValue>::PLAN);
}
