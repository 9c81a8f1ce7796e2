// An array the crate does not cover (its length is neither 0 to 32 nor a
// power of two, or its elements are not primitives): the error says which
// ones it covers and gives the one-line fix.
use mapstore::MapStore;

fn digests(map: &MapStore<u64, [u8; 48]>) -> usize {
    map.len()
}

fn main() {}
