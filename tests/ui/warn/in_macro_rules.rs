#![deny(deprecated)]

// Warnings point at the user's tokens wherever the type is written.
macro_rules! declare {
    ($name:ident) => {
        #[derive(mapstore::MapStore)]
        #[map_store(storage = "boxed")]
        pub struct $name {
            pub id: u32,
        }
    };
}

declare!(Small);

fn main() {
    #[derive(mapstore::MapStore)]
    struct Local;
}
