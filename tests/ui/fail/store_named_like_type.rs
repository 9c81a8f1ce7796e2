//! `store = "..."` naming the alias after the type itself, or after
//! mapstore's own `MapStore`: one error from the derive, not three from
//! rustc about a name defined twice.
use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(store = "Session")]
pub struct Session {
    pub user: u64,
}

#[derive(MapStore)]
#[map_store(store = "MapStore")]
pub struct Token {
    pub id: u64,
}

fn main() {}
