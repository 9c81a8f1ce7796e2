// Stores of a value that is not `Send`, moved to another thread: each error
// names the value's type, std's types and the store, and no private type of
// the crate (`Send` follows `K`, `V` and `S` alone). Three value types, as
// rustc reports an unmet `Rc<u8>: Send` once.
use std::rc::Rc;

use mapstore::{ConcurrentStore, FrozenStore, MapStore};

fn main() {
    let frozen: FrozenStore<u64, Rc<u8>> = FrozenStore::default();
    std::thread::spawn(move || drop(frozen));
    let map: MapStore<u64, Rc<u16>> = MapStore::new();
    std::thread::spawn(move || drop(map));
    let shared: ConcurrentStore<u64, Rc<u32>> = ConcurrentStore::new();
    std::thread::spawn(move || drop(shared));
}
