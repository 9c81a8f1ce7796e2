// A FrozenStore of a value that is not `RefUnwindSafe` (a `Cell`), used by
// reference in `catch_unwind`, and one of a value that is not `UnwindSafe`
// (a `&mut`), moved in: each error names the value's type, std's types and
// the store, and no private type of the crate (the store's unwind safety
// follows `K`, `V` and `S` alone, with std's `HashMap`'s bounds).
use std::cell::Cell;

use mapstore::FrozenStore;

fn main() {
    let frozen: FrozenStore<u64, Cell<u8>> = FrozenStore::default();
    let _ = std::panic::catch_unwind(|| frozen.len());
    let frozen: FrozenStore<u64, &mut u16> = FrozenStore::default();
    let _ = std::panic::catch_unwind(move || frozen.len());
}
