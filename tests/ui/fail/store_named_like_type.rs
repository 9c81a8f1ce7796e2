//! `store = "..."` naming the alias after the type itself: one error from
//! the derive, not three from rustc about a name defined twice.
use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(store = "Session")]
pub struct Session {
    pub user: u64,
}

fn main() {}
