//! The policy: which storage a value type gets, and why.

use core::fmt;

/// The three ways a map can hold its values.
///
/// # Examples
///
/// ```
/// use mapstore::{choose, Optimize, StorageKind, ValueLayout};
///
/// assert_eq!(choose(ValueLayout::new(16, 8, false, false), Optimize::Balanced), StorageKind::Inline);
/// assert_eq!(choose(ValueLayout::new(4096, 8, false, false), Optimize::Balanced), StorageKind::Pooled);
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

/// The goal a value type's storage is chosen for.
///
/// Set with `#[map_store(optimize = "...")]`; [`Optimize::Balanced`] is the
/// default. Each goal has its own [`Thresholds`], measured by the project's
/// sweep (`benches/sweep.rs`, results in the README).
///
/// ```
/// use mapstore::Optimize;
/// assert_eq!(Optimize::default(), Optimize::Balanced);
/// assert_eq!(Optimize::Reads.name(), "reads");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Optimize {
    /// Grow from empty, then about three lookups per entry.
    #[default]
    Balanced,
    /// Built once, looked up many times.
    Reads,
    /// Growth, remove-and-reinsert churn, clear.
    Writes,
    /// Fewest bytes per entry, at the peak and at the end.
    Memory,
}

impl Optimize {
    /// Every goal, in declaration order.
    pub const ALL: [Optimize; 4] = [
        Optimize::Balanced,
        Optimize::Reads,
        Optimize::Writes,
        Optimize::Memory,
    ];

    /// The lowercase name used in `#[map_store(optimize = "...")]`.
    pub const fn name(self) -> &'static str {
        match self {
            Optimize::Balanced => "balanced",
            Optimize::Reads => "reads",
            Optimize::Writes => "writes",
            Optimize::Memory => "memory",
        }
    }

    /// The thresholds [`choose`] applies for this goal.
    ///
    /// ```
    /// use mapstore::{Optimize, BALANCED};
    /// assert_eq!(Optimize::Balanced.thresholds(), BALANCED);
    /// ```
    pub const fn thresholds(self) -> Thresholds {
        match self {
            Optimize::Balanced => BALANCED,
            Optimize::Reads => READS,
            Optimize::Writes => WRITES,
            Optimize::Memory => MEMORY,
        }
    }
}

impl fmt::Display for Optimize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The size limits [`choose`] applies for one [`Optimize`] goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Thresholds {
    /// Values of at most this many bytes are stored inline in the table.
    pub inline_max_size: usize,
    /// Values of at least this many bytes are boxed rather than pooled.
    pub boxed_min_size: usize,
    /// Values aligned to at least this many bytes are boxed.
    pub boxed_min_align: usize,
}

/// Thresholds for [`Optimize::Balanced`].
pub const BALANCED: Thresholds = Thresholds {
    inline_max_size: INLINE_MAX_SIZE,
    boxed_min_size: BOXED_MIN_SIZE,
    boxed_min_align: BOXED_MIN_ALIGN,
};

/// Thresholds for [`Optimize::Reads`].
pub const READS: Thresholds = BALANCED;

/// Thresholds for [`Optimize::Writes`].
pub const WRITES: Thresholds = BALANCED;

/// Thresholds for [`Optimize::Memory`].
pub const MEMORY: Thresholds = BALANCED;

/// Values of at most this many bytes are stored inline in the table
/// ([`Optimize::Balanced`]).
pub const INLINE_MAX_SIZE: usize = 128;

/// Values of at least this many bytes are boxed rather than pooled
/// ([`Optimize::Balanced`]).
pub const BOXED_MIN_SIZE: usize = 64 * 1024;

/// Alignments from this up are boxed: a pool chunk or table bucket aligned to
/// a page or more wastes most of its padding.
pub const BOXED_MIN_ALIGN: usize = 4096;

/// The layout facts [`choose`] decides from.
///
/// ```
/// use mapstore::ValueLayout;
/// let layout = ValueLayout::of::<String>(true);
/// assert_eq!(layout.size, core::mem::size_of::<String>());
/// assert!(layout.needs_drop && layout.owns_heap);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ValueLayout {
    /// `size_of` the value type.
    pub size: usize,
    /// `align_of` the value type.
    pub align: usize,
    /// `needs_drop` of the value type.
    pub needs_drop: bool,
    /// Whether a field owns or points to heap memory (`String`, `Vec`,
    /// `Box`, references...).
    pub owns_heap: bool,
}

impl ValueLayout {
    /// The layout of `V`; `owns_heap` says whether a field of it owns heap
    /// memory (the derive finds this from the field types).
    pub const fn of<V>(owns_heap: bool) -> ValueLayout {
        ValueLayout {
            size: core::mem::size_of::<V>(),
            align: core::mem::align_of::<V>(),
            needs_drop: core::mem::needs_drop::<V>(),
            owns_heap,
        }
    }

    /// A layout from its parts.
    pub const fn new(size: usize, align: usize, needs_drop: bool, owns_heap: bool) -> ValueLayout {
        ValueLayout {
            size,
            align,
            needs_drop,
            owns_heap,
        }
    }
}

/// The policy: picks the storage for a value type from its layout and the
/// goal it is optimized for.
///
/// The derive calls this function in a constant, so the choice costs
/// nothing at run time.
///
/// ```
/// use mapstore::{choose, Optimize, StorageKind, ValueLayout, INLINE_MAX_SIZE};
///
/// let small = ValueLayout::new(16, 8, false, false);
/// assert_eq!(choose(small, Optimize::Balanced), StorageKind::Inline);
/// let large = ValueLayout::new(INLINE_MAX_SIZE + 1, 8, false, false);
/// assert_eq!(choose(large, Optimize::Balanced), StorageKind::Pooled);
/// ```
pub const fn choose(layout: ValueLayout, goal: Optimize) -> StorageKind {
    let limits = goal.thresholds();
    if layout.align >= limits.boxed_min_align || layout.size >= limits.boxed_min_size {
        StorageKind::Boxed
    } else if layout.size <= limits.inline_max_size {
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
        let chosen = choose(
            ValueLayout::new(size, align, needs_drop, !heap_fields.is_empty()),
            Optimize::Balanced,
        );
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
            ValueLayout::new(
                self.size,
                self.align,
                self.needs_drop,
                !self.heap_fields.is_empty(),
            ),
            Optimize::Balanced,
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
