//! A field that names the derive's own alias without its key: rustc's
//! "missing generics" at the field, and nothing from the derive (which
//! once panicked building the twin of `NodeStore<>`).
use mapstore::MapStore;

#[derive(MapStore)]
pub struct Node {
    pub value: u32,
    pub kids: Box<NodeStore>,
}

fn main() {}
