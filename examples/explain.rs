//! Print the storage plan of your types, as Go's `-gcflags=-m` prints its
//! escape analysis.
//!
//! ```sh
//! cargo run --example explain
//! ```
//!
//! `#[map_store(explain)]` on a type reports the same decision at compile
//! time, as a warning pointing at the type that names its size and the
//! threshold it crossed; `#[map_store(optimize = "...")]` picks the goal the
//! storage is chosen for.

// The types below exist for their layouts; most fields are never read.
#![allow(dead_code)]

use mapstore::{MapStore, MapValue, Optimize, Plan, SlowChoice, StorageKind};

#[derive(MapStore)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(MapStore)]
struct Customer {
    name: String,
    tags: Vec<String>,
    balance_cents: i64,
}

#[derive(MapStore)]
struct Thumbnail([u8; 48 * 48]);

#[derive(MapStore)]
enum Shape {
    Circle { radius: f32 },
    Polygon(Vec<(f32, f32)>),
}

/// The same layout as `Thumbnail`, chosen for a map that is built once and
/// read many times.
#[derive(MapStore)]
#[map_store(optimize = "reads")]
struct Tile([u8; 48 * 48]);

/// A hand-forced choice: boxing a small value. The derive would warn about
/// it; `allow(slow_storage)` says we mean it, and the plan says what it
/// costs.
#[derive(MapStore)]
#[map_store(storage = "boxed", allow(slow_storage))]
struct Session {
    token: [u8; 32],
}

/// A generic type must name its storage: its size is not known where the
/// derive runs.
#[derive(MapStore)]
#[map_store(storage = "pooled")]
struct Versioned<T> {
    value: T,
    version: u64,
}

fn main() {
    let plans: [Plan; 7] = [
        Point::PLAN,
        Customer::PLAN,
        Thumbnail::PLAN,
        Tile::PLAN,
        Shape::PLAN,
        Session::PLAN,
        <Versioned<[u8; 512]> as MapValue>::PLAN,
    ];
    for plan in &plans {
        println!("{plan}");
    }

    println!();
    for plan in &plans {
        if plan.forced && plan.storage != plan.chosen() {
            println!(
                "{}: forced {}, the policy would pick {} for {}{}",
                plan.type_name,
                plan.storage,
                plan.chosen(),
                plan.goal,
                match plan.slow_choice() {
                    Some(SlowChoice::BoxedSmall) =>
                        " (slower: an allocation per insert and a pointer chase per lookup for nothing)",
                    Some(SlowChoice::PooledSmall) =>
                        " (slower: a pointer chase per lookup into the pool for nothing)",
                    Some(SlowChoice::InlineLarge) =>
                        " (slower: every resize moves every value, empty buckets reserve its size)",
                    Some(SlowChoice::InlineOveraligned) =>
                        " (slower: every bucket is padded to its alignment)",
                    Some(_) => " (slower)",
                    None => "",
                }
            );
        }
    }

    println!();
    let limits = Thumbnail::PLAN.goal.thresholds();
    println!(
        "{} is {} bytes; the {} goal stores values up to {} bytes inline",
        Thumbnail::PLAN.type_name,
        Thumbnail::PLAN.size,
        Thumbnail::PLAN.goal,
        limits.inline_limit(!Thumbnail::PLAN.heap_fields.is_empty())
    );
    for goal in Optimize::ALL {
        println!(
            "  optimize = {:?}: {}",
            goal.name(),
            Thumbnail::PLAN.optimize(goal).storage
        );
    }

    // The decision is a type: `MapStore` uses it with no run-time branch.
    let mut thumbnails: ThumbnailStore<u32> = MapStore::new();
    thumbnails.insert(1, Thumbnail([0; 48 * 48]));
    assert_eq!(thumbnails.storage(), StorageKind::Pooled);
    println!(
        "\nthumbnails: {} entry in {} bytes",
        thumbnails.len(),
        thumbnails.memory_usage()
    );
}
