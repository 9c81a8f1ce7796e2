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

    let old = before(&events);
    let new = after(&events);

    // Same contents, looked up the same way.
    assert_eq!(new.len(), old.len());
    for (id, user) in &old {
        assert_eq!(&new[id.as_str()], &**user);
    }
    assert_eq!(new["ada"].logins, 3);

    println!("{}", User::PLAN);
    println!(
        "old: HashMap<String, Box<User>>: {} entries, {} allocations for values",
        old.len(),
        old.len()
    );
    let value_allocations = match new.storage() {
        StorageKind::Inline => "0 allocations for values".to_string(),
        StorageKind::Pooled => "values in a few pool chunks".to_string(),
        StorageKind::Boxed => format!("{} allocations for values", new.len()),
    };
    println!(
        "new: UserStore<String> ({} storage): {} entries, {value_allocations}, {} bytes held",
        new.storage(),
        new.len(),
        new.memory_usage()
    );

    // Code that took the old map by reference keeps working through the
    // same method names; generic code can take any `MapStore<K, V>`.
    fn total_logins<V: MapValue>(users: &MapStore<String, V>, logins: impl Fn(&V) -> u32) -> u32 {
        users.values().map(logins).sum()
    }
    println!("total logins: {}", total_logins(&new, |u| u.logins));
}
