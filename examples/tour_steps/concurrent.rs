//! Tour step: a store shared between threads.
//!
//! Two threads share one `ConcurrentStore` of a derived type through `&self`,
//! then the same store is raced against DashMap and `RwLock<HashMap>` on two
//! threads (the testkit's race harness: interleaved, rotated, minimum over
//! rounds, `ConcurrentStore` timed twice so the noise is on screen).

use mapstore::{ConcurrentStore, MapStore, MapValue};
use mapstore_testkit::concurrent::{run_workload, Dash, Locked, Shared, EXCHANGE, READ_HEAVY};
use mapstore_testkit::data::Value;
use mapstore_testkit::race::Race;

/// A web session: a `String` and 240 bytes of cart; the derive picks its
/// storage (and so the concurrent store's).
#[derive(MapStore, Clone)]
pub struct Session {
    pub user: String,
    pub cart: [u64; 30],
    pub hits: u32,
}

impl Value for Session {
    const LABEL: &'static str = "Session";
    const OWNS_HEAP: bool = true;
    fn make(i: u64) -> Self {
        Session {
            user: format!("user{i}"),
            cart: [i; 30],
            hits: 0,
        }
    }
    fn read(&self) -> u64 {
        self.cart[0] ^ u64::from(self.hits)
    }
}

/// Runs the step.
pub fn run() {
    println!("\n4. Shared between threads: ConcurrentStore\n");
    println!("   {}", <Session as MapValue>::PLAN);
    let sessions: ConcurrentStore<u64, Session> = ConcurrentStore::new();
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let sessions = &sessions;
            s.spawn(move || {
                for i in 0..1000 {
                    // Atomic per key: both threads hit the same 100 sessions.
                    sessions
                        .entry(i % 100)
                        .or_insert_with(|| Session::make(i % 100))
                        .hits += 1;
                    if i % 10 == t {
                        sessions.read(&(i % 100), |s| s.user.len());
                    }
                }
            });
        }
    });
    let hits: u64 = sessions.iter().map(|s| u64::from(s.hits)).sum();
    println!(
        "   two threads, 2000 entry() updates on 100 sessions: {} sessions, {hits} hits (none lost), {:?} storage, {} bytes",
        sessions.len(),
        sessions.storage(),
        sessions.memory_usage()
    );
    let plain: MapStore<u64, Session> = sessions.into_map_store();
    println!(
        "   into_map_store() when the sharing ends: a MapStore of {} entries\n",
        plain.len()
    );

    println!("   A race on 2 threads (ns per operation, lower is better; ratio = theirs / ours):");
    for workload in [&READ_HEAVY, &EXCHANGE] {
        let (ops, space) = (100_000, 1 << 14);
        let mut race = Race::new();
        fn entrant<M: Shared<u64, Session> + Sync>(
            w: &'static mapstore_testkit::concurrent::Workload,
            ops: u64,
            space: u64,
        ) -> impl FnMut() -> Vec<f64> {
            move || vec![run_workload::<u64, Session, M>(w, 2, ops, space)]
        }
        let ours = race.enter(
            "ConcurrentStore",
            entrant::<ConcurrentStore<u64, Session>>(workload, ops, space),
        );
        let dash = race.enter(
            "DashMap",
            entrant::<Dash<u64, Session>>(workload, ops, space),
        );
        let locked = race.enter(
            "RwLock<HashMap>",
            entrant::<Locked<u64, Session>>(workload, ops, space),
        );
        race.control(ours).warm_up();
        let s = race.run(3);
        println!(
            "   {:<11} ConcurrentStore {:>6.1}  DashMap {:>6.1} ({:.2}x)  RwLock<HashMap> {:>6.1} ({:.2}x)  same-code spread {:.3}",
            workload.name,
            s.value(ours, 0),
            s.value(dash, 0),
            s.value(dash, 0) / s.value(ours, 0),
            s.value(locked, 0),
            s.value(locked, 0) / s.value(ours, 0),
            s.spread(0).unwrap_or(1.0)
        );
    }
    println!("   (this machine is shared and has few cores: read the spread before the ratios;");
    println!("   docs/concurrent.md has the full table)");
}
