// Guards moved to other threads: the error names the guard and std's
// `MutexGuard` (what keeps it on its thread), and no private type of the
// crate (rustc reports the unmet `MutexGuard: Send` once for all three).
use mapstore::ConcurrentStore;

fn main() {
    let store: ConcurrentStore<u64, String> = [(1, "one".to_string())].into_iter().collect();
    let read = store.get(&1).unwrap();
    let entry = store.entry(2);
    let walk = store.iter();
    std::thread::scope(|s| {
        s.spawn(move || drop(read));
        s.spawn(move || drop(entry));
        s.spawn(move || drop(walk));
    });
}
