//! A type named like the crate's store that is not it: the derive lays out
//! the type's twins with the crate's maps in its place, finds a storage that
//! the policy picks at a twin's size, and the check then finds that the
//! policy picks another at the type's own size. The error says to name one.
use std::marker::PhantomData;

/// Not the crate's store: a kilobyte of its own.
pub struct MapStore<K, V>([u8; 1024], PhantomData<(K, V)>);

#[derive(mapstore::MapStore)]
pub struct Node {
    pub more: MapStore<u8, Node>,
}

fn main() {}
