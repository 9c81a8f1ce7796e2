//! `Serialize` and `Deserialize` for every map, shaped like std's `HashMap`:
//! a serde map of keys to values. `MapStore` is one of these maps, so it has
//! them too.

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::mem::size_of;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};

use crate::map::Map;
use crate::storage::Storage;

impl<K, V, St, S> Serialize for Map<K, V, St, S>
where
    K: Serialize,
    V: Serialize,
    St: Storage,
{
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        serializer.collect_map(self.iter())
    }
}

/// How many entries to reserve for an input that claims `hint` of them: at
/// most 1 MiB worth of `(K, V)` pairs, none if the pair is zero-sized. This
/// is serde's rule for std's `HashMap` (`size_hint::cautious`); it bounds
/// what a lying length reserves for every storage, since a pooled slot or
/// a box holds a `V`, no larger than the pair. (`FrozenStore` uses it too.)
pub(crate) fn cautious<K, V>(hint: Option<usize>) -> usize {
    const MAX_PREALLOC_BYTES: usize = 1024 * 1024;
    match size_of::<(K, V)>() {
        0 => 0,
        pair => hint.unwrap_or(0).min(MAX_PREALLOC_BYTES / pair),
    }
}

struct MapVisitor<K, V, St: Storage, S> {
    marker: PhantomData<Map<K, V, St, S>>,
}

impl<'de, K, V, St, S> Visitor<'de> for MapVisitor<K, V, St, S>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    St: Storage,
    S: BuildHasher + Default,
{
    type Value = Map<K, V, St, S>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let capacity = cautious::<K, V>(access.size_hint());
        let mut map = Map::with_capacity_and_hasher(capacity, S::default());
        while let Some((key, value)) = access.next_entry()? {
            map.insert(key, value);
        }
        Ok(map)
    }
}

impl<'de, K, V, St, S> Deserialize<'de> for Map<K, V, St, S>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    St: Storage,
    S: BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor {
            marker: PhantomData,
        })
    }
}
