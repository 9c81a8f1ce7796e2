use mapstore::ConcurrentStore;
use std::hint::black_box;
type Dash = mapstore_testkit::concurrent::Dash<u64, u64>;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: u64 = std::env::var("N").map_or(200_000, |v| v.parse().unwrap());
    let store: ConcurrentStore<u64, u64> = ConcurrentStore::new();
    let dash = Dash::default();
    let mut x = 1u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    match mode.as_str() {
        "grow" => {
            for _ in 0..n {
                store.insert(next(), 1);
            }
        }
        "presized" => {
            let store: ConcurrentStore<u64, u64> = ConcurrentStore::with_capacity(300_000);
            for _ in 0..n {
                store.insert(next(), 1);
            }
            black_box(store.len());
        }
        "dgrow" => {
            for _ in 0..n {
                dash.insert(next(), 1);
            }
        }
        "read" => {
            for k in 0..65536u64 {
                store.insert(k, k);
            }
            let mut s = 0;
            for _ in 0..n {
                s += store.read(&(next() & 65535), |v| *v).unwrap_or(0);
            }
            black_box(s);
        }
        "dread" => {
            for k in 0..65536u64 {
                dash.insert(k, k);
            }
            let mut s = 0;
            for _ in 0..n {
                s += dash.get(&(next() & 65535)).map_or(0, |v| *v);
            }
            black_box(s);
        }
        "xchg" => {
            for k in 0..65536u64 {
                store.insert(k, k);
            }
            for _ in 0..n {
                let k = next();
                if k & 1 == 0 {
                    store.insert(k & 65535, k);
                } else {
                    store.remove(&(k & 65535));
                }
            }
        }
        "dxchg" => {
            for k in 0..65536u64 {
                dash.insert(k, k);
            }
            for _ in 0..n {
                let k = next();
                if k & 1 == 0 {
                    dash.insert(k & 65535, k);
                } else {
                    dash.remove(&(k & 65535));
                }
            }
        }
        _ => {}
    }
    black_box((store.len(), dash.len()));
}
