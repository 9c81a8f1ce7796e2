//! Names from C, primitives shadowed: the derive adds no warning and no
//! error that the user's own code does not cause.
#![deny(warnings)]

/// A C struct's name, under its own `allow(non_camel_case_types)`: the
/// alias the derive writes (`sockaddr_tStore`) is not flagged either.
#[allow(non_camel_case_types)]
#[derive(mapstore::MapStore)]
#[repr(C)]
pub struct sockaddr_t {
    pub family: u16,
    pub port: u16,
}

/// Types of the user's own named like the primitives the generated code
/// names (`usize` for sizes, `bool` for the padding check, `u8` for a
/// self-holding type's storage): the expansion names them by full path.
#[allow(non_camel_case_types)]
pub mod primitives {
    pub struct usize;
    pub struct bool;
    pub struct u8;

    #[derive(mapstore::MapStore)]
    #[repr(C)]
    pub struct Padded {
        pub small: i8,
        pub big: i64,
        pub shadow: usize,
    }

    #[derive(mapstore::MapStore)]
    pub struct Tree {
        pub flag: bool,
        pub kids: mapstore::MapStore<i32, Tree>,
    }

    pub fn main() {
        let _ = (usize, bool, u8);
        let mut trees: TreeStore<i32> = mapstore::MapStore::new();
        trees.insert(
            1,
            Tree {
                flag: bool,
                kids: mapstore::MapStore::new(),
            },
        );
        let mut padded: PaddedStore<i32> = mapstore::MapStore::new();
        padded.insert(
            1,
            Padded {
                small: 1,
                big: 2,
                shadow: usize,
            },
        );
        assert_eq!(trees.len() + padded.len(), 2);
    }
}

pub fn main() {
    let mut sockets: sockaddr_tStore<u32> = mapstore::MapStore::new();
    sockets.insert(
        1,
        sockaddr_t {
            family: 2,
            port: 80,
        },
    );
    assert_eq!(sockets[&1].port, 80);
    primitives::main();
}
