// The storage operations are crate-private: outside code that names them
// through a `Storage` bound must not compile (it once did, and freed a
// value twice). Each line below is one door that must stay shut.
use mapstore::storage::{Pooled, Storage};

fn use_after_free<St: Storage>() -> usize
where
    St::Side<u8, Box<usize>>: Default,
{
    let mut side: St::Side<u8, Box<usize>> = Default::default();
    let bucket = St::store(&mut side, 1u8, Box::new(0xDEAD_BEEF));
    St::clear::<u8, Box<usize>>(&mut side);
    let (_, v) = St::pair(&side, &bucket);
    **v
}

fn double_free<St: Storage>(side: &mut St::Side<u8, String>, bucket: St::Bucket<u8, String>) {
    let _ = St::take(side, bucket);
}

fn main() {
    let _ = use_after_free::<Pooled>();
    let _ = double_free::<Pooled>;
}
