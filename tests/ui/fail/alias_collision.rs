//! A type of the user's own named like the alias the derive writes
//! (`UserStore` for `User`): rustc's error points at the type's name, and
//! `store = "..."` or `no_store` is the fix (docs/derive.md, "The alias
//! collides with a name of mine"). A second error follows where the
//! `MapValue` impl names the alias, which here is the user's struct.
use mapstore::MapStore;

#[derive(MapStore)]
pub struct User {
    pub id: u64,
}

pub struct UserStore {
    pub users: Vec<User>,
}

fn main() {}
