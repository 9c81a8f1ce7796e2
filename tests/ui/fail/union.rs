use mapstore::MapStore;

#[derive(MapStore)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
