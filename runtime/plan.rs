//! The policy: which storage a value type gets, and why.

use core::fmt;

/// The three ways a map can hold its values.
///
/// # Examples
///
/// ```
/// use mapstore::{choose, StorageKind};
///
/// assert_eq!(choose(16, 8, false, false), StorageKind::Inline);
/// assert_eq!(choose(4096, 8, false, false), StorageKind::Pooled);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StorageKind {
    /// Values live in the hash table's buckets, next to their keys.
    Inline,
    /// Each value lives in its own heap allocation; the table holds a `Box`.
    Boxed,
    /// Values live in a chunked pool that never moves them; the table holds a
    /// `u32` slot index.
    Pooled,
}

impl StorageKind {
    /// The lowercase name used in `#[map_store(storage = "...")]`.
    ///
    /// ```
    /// assert_eq!(mapstore::StorageKind::Pooled.name(), "pooled");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            StorageKind::Inline => "inline",
            StorageKind::Boxed => "boxed",
            StorageKind::Pooled => "pooled",
        }
    }
}

impl fmt::Display for StorageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Values of at most this many bytes are stored inline in the table.
///
/// Above it, moving every value on each resize and reserving empty buckets
/// of the value's size cost more than one indirection per lookup.
///
/// Starting points: Go's runtime stores map values of at most 128 bytes
/// inline; folly's `F14FastMap` switches to vector storage above 24 bytes.
/// Measured by `benches/maps.rs` (`docs/bench/results.md`, u64 keys,
/// N = 100 000): at 128 B, grow-insert takes 151 ns inline against 32 ns
/// pooled, and the peak while growing is 269 against 151 bytes per entry;
/// but remove-and-reinsert churn takes 108 ns inline against 221 ns pooled,
/// and a pooled lookup takes two dependent cache misses where an inline one
/// takes one. At 64 B pooling still wins grow-insert at N = 100 000 (24
/// against 56 ns) and loses it at N = 1 000 (36 against 32 ns). 128 keeps
/// reads and churn on the inline path up to Go's threshold; above it the
/// pool wins insert, growth and memory by 2x or more.
pub const INLINE_MAX_SIZE: usize = 128;

/// Values of at least this many bytes are boxed rather than pooled.
///
/// At this size a pool chunk (at most 64 KiB, see the pool's `MAX_CHUNK_BYTES`)
/// holds a single value, so a pool degenerates into one allocation per value
/// that is only returned to the allocator by `shrink_to_fit`; a box returns
/// it on remove.
///
/// Measured by `benches/maps.rs` up to 4 KiB, where pooling and boxing are
/// within noise of each other on grow-insert (2032 against 1876 ns at
/// N = 100 000, 189 against 222 ns at N = 1 000) and lookups, and pooling
/// makes 0.0002 instead of 1 allocation per entry: boxing does not pay
/// below this size.
pub const BOXED_MIN_SIZE: usize = 64 * 1024;

/// Alignments above this are boxed: a pool chunk or table bucket aligned to
/// a page or more wastes most of its padding.
pub const BOXED_MIN_ALIGN: usize = 4096;

/// The policy: picks the storage for a value type from its layout.
///
/// `size` and `align` are `size_of::<V>()` and `align_of::<V>()`,
/// `needs_drop` is `needs_drop::<V>()` and `owns_heap` says whether any field
/// owns heap memory (`String`, `Vec`, `Box`, references...). The derive calls
/// this function in a constant, so the choice costs nothing at run time.
///
/// Today only size and alignment decide; `needs_drop` and `owns_heap` are
/// reported by [`Plan`] and taken as inputs so that a measured effect can be
/// added without changing any caller.
///
/// ```
/// use mapstore::{choose, StorageKind, INLINE_MAX_SIZE};
///
/// assert_eq!(choose(0, 1, false, false), StorageKind::Inline);
/// assert_eq!(choose(INLINE_MAX_SIZE, 8, true, true), StorageKind::Inline);
/// assert_eq!(choose(INLINE_MAX_SIZE + 1, 8, false, false), StorageKind::Pooled);
/// assert_eq!(choose(1 << 20, 8, false, false), StorageKind::Boxed);
/// ```
pub const fn choose(size: usize, align: usize, needs_drop: bool, owns_heap: bool) -> StorageKind {
    let _ = (needs_drop, owns_heap);
    if align >= BOXED_MIN_ALIGN || size >= BOXED_MIN_SIZE {
        StorageKind::Boxed
    } else if size <= INLINE_MAX_SIZE {
        StorageKind::Inline
    } else {
        StorageKind::Pooled
    }
}

/// Why [`choose`] picked what it picked, as one short phrase.
const fn reason_for(size: usize, align: usize) -> &'static str {
    if size == 0 {
        "zero-sized: stored inline, it costs nothing (a set would say so better)"
    } else if align >= BOXED_MIN_ALIGN {
        "alignment of a page or more: one box per value wastes no padding"
    } else if size >= BOXED_MIN_SIZE {
        "very large: one box per value, memory returns to the allocator on remove"
    } else if size <= INLINE_MAX_SIZE {
        "small: stored in the table, no allocation per insert, one probe per lookup"
    } else {
        "large: pooled, so resizes move 4-byte indices instead of values"
    }
}

/// The storage decision for one value type, with the facts behind it.
///
/// Built by [`Plan::new`] (the derive and hand-written [`MapValue`] impls
/// build it the same way) and shown by its `Display` impl as one line, in
/// the spirit of Go's `-gcflags=-m`.
///
/// [`MapValue`]: crate::MapValue
///
/// ```
/// use mapstore::{Plan, StorageKind};
///
/// const PLAN: Plan = Plan::new("Point", 16, 8, false, &[], None);
/// assert_eq!(PLAN.storage, StorageKind::Inline);
/// assert!(!PLAN.forced);
/// assert_eq!(
///     PLAN.to_string(),
///     "Point: inline (16 bytes, align 8, no heap fields): small: stored in the table, \
///      no allocation per insert, one probe per lookup"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Plan {
    /// The type's name as written (lifetimes and generics included).
    pub type_name: &'static str,
    /// `size_of` the type.
    pub size: usize,
    /// `align_of` the type.
    pub align: usize,
    /// `needs_drop` of the type.
    pub needs_drop: bool,
    /// Fields that own or point to heap memory, by name (`"0"`, `"1"`... for
    /// tuple fields; `"Variant.field"` for enum variants).
    pub heap_fields: &'static [&'static str],
    /// The storage used.
    pub storage: StorageKind,
    /// Whether `storage` was forced by `#[map_store(storage = "...")]` or a
    /// hand-written impl rather than chosen by [`choose`].
    pub forced: bool,
    /// Why: the policy's reason, or why a forced choice differs from it.
    pub reason: &'static str,
}

impl Plan {
    /// Builds the plan for a type from its layout, calling [`choose`] unless
    /// `forced` names a storage.
    ///
    /// ```
    /// use mapstore::{Plan, StorageKind};
    ///
    /// let plan = Plan::new("Blob", 300, 8, false, &[], Some(StorageKind::Inline));
    /// assert!(plan.forced);
    /// assert_eq!(plan.storage, StorageKind::Inline);
    /// assert_eq!(plan.chosen(), StorageKind::Pooled);
    /// ```
    pub const fn new(
        type_name: &'static str,
        size: usize,
        align: usize,
        needs_drop: bool,
        heap_fields: &'static [&'static str],
        forced: Option<StorageKind>,
    ) -> Plan {
        let chosen = choose(size, align, needs_drop, !heap_fields.is_empty());
        let (storage, forced, reason) = match forced {
            None => (chosen, false, reason_for(size, align)),
            Some(kind) => (kind, true, forced_reason(kind, chosen)),
        };
        Plan {
            type_name,
            size,
            align,
            needs_drop,
            heap_fields,
            storage,
            forced,
            reason,
        }
    }

    /// What [`choose`] would pick for this layout, whether or not it was
    /// forced.
    ///
    /// ```
    /// use mapstore::{Plan, StorageKind};
    /// let plan = Plan::new("Token", 32, 1, false, &[], Some(StorageKind::Boxed));
    /// assert_eq!(plan.chosen(), StorageKind::Inline);
    /// ```
    pub const fn chosen(&self) -> StorageKind {
        choose(
            self.size,
            self.align,
            self.needs_drop,
            !self.heap_fields.is_empty(),
        )
    }

    /// Whether a forced storage is slower than the policy's choice: boxing a
    /// value the policy would keep inline, or inlining one it would not.
    ///
    /// ```
    /// use mapstore::{Plan, StorageKind};
    /// assert!(Plan::new("Token", 32, 1, false, &[], Some(StorageKind::Boxed)).is_slow_choice());
    /// assert!(!Plan::new("Token", 32, 1, false, &[], None).is_slow_choice());
    /// ```
    pub const fn is_slow_choice(&self) -> bool {
        matches!(
            (self.storage, self.chosen()),
            (StorageKind::Boxed, StorageKind::Inline)
                | (
                    StorageKind::Inline,
                    StorageKind::Pooled | StorageKind::Boxed
                )
        )
    }
}

const fn forced_reason(kind: StorageKind, chosen: StorageKind) -> &'static str {
    match (kind, chosen) {
        (StorageKind::Inline, StorageKind::Inline)
        | (StorageKind::Boxed, StorageKind::Boxed)
        | (StorageKind::Pooled, StorageKind::Pooled) => "forced, and the policy agrees",
        (StorageKind::Boxed, StorageKind::Inline) => {
            "forced; the policy would store it inline: an allocation per insert and a pointer chase per lookup for nothing"
        }
        (StorageKind::Inline, _) => {
            "forced; the policy would not store it inline: every resize moves every value and empty buckets reserve its size"
        }
        (StorageKind::Pooled, StorageKind::Inline) => {
            "forced; the policy would store it inline: one extra indirection per lookup"
        }
        (StorageKind::Pooled, StorageKind::Boxed) => {
            "forced; the policy would box it: pool chunks of very large values hold memory until the map is dropped"
        }
        (StorageKind::Boxed, StorageKind::Pooled) => {
            "forced; the policy would pool it: an allocation per insert the pool avoids"
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} bytes, align {}, ",
            self.type_name, self.storage, self.size, self.align
        )?;
        match self.heap_fields {
            [] => f.write_str("no heap fields")?,
            fields => {
                f.write_str("heap fields: ")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(field)?;
                }
            }
        }
        write!(f, "): {}", self.reason)
    }
}
