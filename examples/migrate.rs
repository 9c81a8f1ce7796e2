//! Replacing a `HashMap<String, Box<User>>` with a `MapStore`.
//!
//! ```sh
//! cargo run --example migrate
//! ```
//!
//! Boxing every value is the usual answer to "my values are big" (Go's
//! `map[string]*User`). It costs an allocation per insert and a pointer
//! chase per lookup, and for small values it buys nothing. With
//! `#[derive(MapStore)]` the type picks its storage from its layout, and the
//! code that uses the map barely changes: same methods, same entry API,
//! lookups by `&str`.

use std::collections::HashMap;

use mapstore::{MapStore, MapValue, StorageKind};
use mapstore_testkit::alloc::{Counting, Meter};

/// Counts the bytes each map holds, so the two can be compared.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(MapStore, Clone, Debug, PartialEq)]
struct User {
    name: String,
    email: String,
    logins: u32,
}

/// Before: std's map with a box per value.
fn before(events: &[(&str, &str)]) -> HashMap<String, Box<User>> {
    let mut users: HashMap<String, Box<User>> = HashMap::new();
    for &(id, name) in events {
        users
            .entry(id.to_string())
            .and_modify(|user| user.logins += 1)
            .or_insert_with(|| {
                Box::new(User {
                    name: name.to_string(),
                    email: format!("{id}@example.com"),
                    logins: 1,
                })
            });
    }
    users
}

/// After: the derive made `UserStore<K>`; the body is the same minus the box.
fn after(events: &[(&str, &str)]) -> UserStore<String> {
    let mut users: UserStore<String> = MapStore::new();
    for &(id, name) in events {
        users
            .entry(id.to_string())
            .and_modify(|user| user.logins += 1)
            .or_insert_with(|| User {
                name: name.to_string(),
                email: format!("{id}@example.com"),
                logins: 1,
            });
    }
    users
}

fn main() {
    let events = [
        ("ada", "Ada"),
        ("alan", "Alan"),
        ("ada", "Ada"),
        ("grace", "Grace"),
        ("ada", "Ada"),
    ];

    // Heap bytes each map holds once built (the users' own strings included).
    let meter = Meter::start();
    let old = before(&events);
    let old_bytes = meter.live();
    drop(meter);
    let meter = Meter::start();
    let new = after(&events);
    let new_bytes = meter.live();
    drop(meter);

    // Same contents, looked up the same way.
    assert_eq!(new.len(), old.len());
    for (id, user) in &old {
        assert_eq!(&new[id.as_str()], &**user);
    }
    assert_eq!(new["ada"].logins, 3);

    println!("{}", User::PLAN);
    println!(
        "old: HashMap<String, Box<User>>: {} entries, {} allocations for values, {old_bytes} bytes held",
        old.len(),
        old.len()
    );
    let value_allocations = match new.storage() {
        StorageKind::Inline => "0 allocations for values".to_string(),
        StorageKind::Pooled => "values in a few pool chunks".to_string(),
        StorageKind::Boxed => format!("{} allocations for values", new.len()),
    };
    println!(
        "new: UserStore<String> ({} storage): {} entries, {value_allocations}, {new_bytes} bytes held",
        new.storage(),
        new.len(),
    );
    println!(
        "     (a pool starts with a chunk of slots, so with a handful of entries it holds more than\n      \
         the boxes; at scale the two are close: the tour prints bytes per entry at 100 000)"
    );

    // Code that took the old map by reference keeps working through the
    // same method names; generic code can take any `MapStore<K, V>`.
    fn total_logins<V: MapValue>(users: &MapStore<String, V>, logins: impl Fn(&V) -> u32) -> u32 {
        users.values().map(logins).sum()
    }
    println!("total logins: {}", total_logins(&new, |u| u.logins));
}
