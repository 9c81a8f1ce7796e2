// The auto traits of FrozenStore's iterators and ConcurrentStore's `Unpin`
// follow `K`, `V` and `S` alone: each error names the value's type, std's
// types and the crate's public type, and no private type of the crate (the
// iterators once named their private layout enums, `ConcurrentStore` its
// table). Distinct value types, as rustc reports one unmet bound once.
use std::marker::PhantomPinned;
use std::rc::Rc;

use mapstore::{ConcurrentStore, FrozenStore};

fn is_send<T: Send>(_: T) {}
fn is_unpin<T: Unpin>(_: &T) {}

fn main() {
    let frozen: FrozenStore<u64, Rc<u8>> = FrozenStore::default();
    is_send(frozen.keys());
    let frozen: FrozenStore<u64, Rc<[u8; 128]>> = FrozenStore::default();
    is_send(frozen.into_values());
    let shared: ConcurrentStore<u64, PhantomPinned> = ConcurrentStore::new();
    is_unpin(&shared);
}
