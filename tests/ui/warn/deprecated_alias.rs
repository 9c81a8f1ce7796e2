// The store alias of a deprecated type is deprecated too: a use of it
// warns as a use of the type does (the type's `#[deprecated]` is copied
// onto the alias; its note comes along).
#![deny(deprecated)]

#[deprecated(note = "use `Session` instead")]
#[derive(mapstore::MapStore)]
pub struct OldSession {
    pub user: u64,
}

pub fn sessions() -> usize {
    let store: OldSessionStore<u64> = mapstore::MapStore::new();
    store.len()
}

fn main() {
    sessions();
}
