//! The policy: which storage a value type gets, and why.

use core::fmt;

use crate::storage::{Storage, StorageKind};

/// The goal a value type's storage is chosen for.
///
/// Set with `#[map_store(optimize = "...")]`; [`Optimize::Balanced`] is the
/// default. Each goal has its own [`Thresholds`], measured by the project's
/// sweep (`benches/sweep.rs`, results in `docs/policy.md`).
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
///
/// Every value comes from the project's sweep (`benches/sweep.rs`, its
/// per-cell minimums in `docs/bench/sweep.csv`, summarised in `docs/policy.md`):
/// `tools/pick_thresholds.py` tries every limit at the swept sizes (8 B to
/// 4 KiB) and keeps, per goal, the set whose worst ratio of the picked
/// storage to the best of the three is smallest. Sizes between two swept
/// sizes go with the smaller one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Thresholds {
    /// Values of at most this many bytes are stored inline in the table.
    pub inline_max_size: usize,
    /// The inline limit for values that own heap memory (a `String`,
    /// `Vec`, `Box`... field): they need a destructor per entry, and
    /// dropping them moves the balance between the storages.
    pub inline_max_size_owning: usize,
    /// Values of at least this many bytes are boxed rather than pooled.
    pub boxed_min_size: usize,
    /// Values aligned to at least this many bytes are boxed.
    pub boxed_min_align: usize,
}

impl Thresholds {
    /// The inline limit that applies to a value that does, or does not, own
    /// heap memory.
    ///
    /// ```
    /// use mapstore::WRITES;
    /// assert!(WRITES.inline_limit(true) <= WRITES.inline_limit(false));
    /// ```
    pub const fn inline_limit(&self, owns_heap: bool) -> usize {
        if owns_heap {
            self.inline_max_size_owning
        } else {
            self.inline_max_size
        }
    }
}

/// Thresholds for [`Optimize::Balanced`]: grow from empty, then about three
/// lookups per entry.
///
/// Sweep: inline up to 48 B puts the picked storage within 1.05x of the best
/// in the most cells; from 64 B the pool wins the build by more than the
/// inline table wins the lookups. Boxing never won a balanced cell by more
/// than the noise up to 4 KiB, so the box limit stays where a pool chunk
/// would hold a single value.
pub const BALANCED: Thresholds = Thresholds {
    inline_max_size: INLINE_MAX_SIZE,
    inline_max_size_owning: INLINE_MAX_SIZE,
    boxed_min_size: BOXED_MIN_SIZE,
    boxed_min_align: BOXED_MIN_ALIGN,
};

/// Thresholds for [`Optimize::Reads`]: built once, looked up many times.
///
/// Sweep: pointer-free values stay inline up to 256 B (one cache miss per
/// lookup instead of two); heap-owning values up to 96 B, above which the
/// smaller table of a pool or of boxes keeps more of it in cache.
pub const READS: Thresholds = Thresholds {
    inline_max_size: 256,
    inline_max_size_owning: 96,
    boxed_min_size: BOXED_MIN_SIZE,
    boxed_min_align: BOXED_MIN_ALIGN,
};

/// Thresholds for [`Optimize::Writes`]: growth, remove-and-reinsert churn,
/// clear.
///
/// Sweep: pointer-free values stay inline up to 64 B, where updating in
/// place beats the pool's free list; heap-owning values stay inline up to
/// 24 B and are pooled above (from 32 B for a value with a pointer in it,
/// whose size is a multiple of 8), where dropping and moving them inline
/// costs more than a slot.
pub const WRITES: Thresholds = Thresholds {
    inline_max_size: 64,
    inline_max_size_owning: 24,
    boxed_min_size: BOXED_MIN_SIZE,
    boxed_min_align: BOXED_MIN_ALIGN,
};

/// Thresholds for [`Optimize::Memory`]: the fewest bytes per entry, at the
/// peak and at the end.
///
/// Sweep: inline up to 16 B; from 24 B a box (one allocator block of the
/// value's size) holds the fewest bytes per entry over every N measured: a
/// pool is within 2 % of it from N = 1e5 up but keeps a partly filled
/// chunk at N = 1e3, and an inline table reserves empty buckets. A value of
/// 17 to 23 bytes, between the two limits, is pooled, as between them for
/// any goal (the sweep's sizes step from 16 to 24).
pub const MEMORY: Thresholds = Thresholds {
    inline_max_size: 16,
    inline_max_size_owning: 16,
    boxed_min_size: 24,
    boxed_min_align: BOXED_MIN_ALIGN,
};

/// Values of at most this many bytes are stored inline in the table
/// ([`Optimize::Balanced`]; see [`BALANCED`] for where it comes from).
pub const INLINE_MAX_SIZE: usize = 48;

/// Values of at least this many bytes are boxed rather than pooled
/// ([`Optimize::Balanced`], [`Optimize::Reads`], [`Optimize::Writes`]).
///
/// At this size a 2 MiB pool chunk holds 32 values and boxing never lost
/// to pooling by more than the noise in the sweep up to 4 KiB, so values
/// this large go to the allocator one by one and return to it on remove.
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
/// With `t = goal.thresholds()`, the first rule that applies decides:
///
/// 1. aligned to at least `t.boxed_min_align`: [`Boxed`](StorageKind::Boxed);
/// 2. at least `t.boxed_min_size` bytes: [`Boxed`](StorageKind::Boxed);
/// 3. at most the inline limit, `t.inline_max_size_owning` for a value that
///    owns heap memory and `t.inline_max_size` for any other:
///    [`Inline`](StorageKind::Inline);
/// 4. otherwise: [`Pooled`](StorageKind::Pooled).
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
    decide(layout, goal).storage()
}

/// Which rule of the policy decides a layout's storage: the one place the
/// thresholds are compared. [`choose`], [`Plan`]'s reason and the derive's
/// notes all read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Aligned to at least `boxed_min_align`: boxed.
    Overaligned,
    /// At least `boxed_min_size` bytes: boxed.
    Huge,
    /// At most `inline_max_size` bytes: inline.
    Small,
    /// Between the two: pooled.
    Large,
}

impl Rule {
    pub(crate) const fn storage(self) -> StorageKind {
        match self {
            Rule::Overaligned | Rule::Huge => StorageKind::Boxed,
            Rule::Small => StorageKind::Inline,
            Rule::Large => StorageKind::Pooled,
        }
    }
}

/// The rule [`choose`] applies to `layout` for `goal`.
pub(crate) const fn decide(layout: ValueLayout, goal: Optimize) -> Rule {
    let limits = goal.thresholds();
    if layout.align >= limits.boxed_min_align {
        Rule::Overaligned
    } else if layout.size >= limits.boxed_min_size {
        Rule::Huge
    } else if layout.size <= limits.inline_limit(layout.owns_heap) {
        Rule::Small
    } else {
        Rule::Large
    }
}

/// Why the policy picks what it picks, as one short phrase.
const fn reason_for(rule: Rule, size: usize) -> &'static str {
    match rule {
        Rule::Small if size == 0 => {
            "zero-sized: stored inline, it costs nothing (a set would say so better)"
        }
        Rule::Small => "small: stored in the table, no allocation per insert, one probe per lookup",
        Rule::Large => "large: pooled, so resizes move slot pointers instead of values and inserts do not allocate",
        Rule::Huge => "at or over the box limit: one box per value, an allocator block of its own size, returned on remove",
        Rule::Overaligned => "alignment of a page or more: one box per value wastes no padding",
    }
}

/// A forced storage that is slower than the policy's choice: the cases the
/// derive warns about (silenced by `#[map_store(allow(slow_storage))]`).
///
/// [`Plan::slow_choice`] is the one place this rule is written.
///
/// ```
/// use mapstore::{Plan, SlowChoice, StorageKind};
///
/// let plan = Plan::new("Token", 32, 1, false, &[], Some(StorageKind::Boxed));
/// assert_eq!(plan.slow_choice(), Some(SlowChoice::BoxedSmall));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlowChoice {
    /// `Boxed` forced on a value the policy stores inline: an allocation per
    /// insert and a pointer chase per lookup for nothing.
    BoxedSmall,
    /// `Pooled` forced on a value the policy stores inline: a pointer chase
    /// per lookup (into the pool, as into a box) for nothing.
    PooledSmall,
    /// `Inline` forced on a value over the inline size limit: every resize
    /// moves every value, empty buckets reserve its size.
    InlineLarge,
    /// `Inline` forced on a value aligned to the box alignment limit or more:
    /// every bucket is padded to that alignment.
    InlineOveraligned,
}

/// The storage decision for one value type, with the facts behind it.
///
/// Built by [`Plan::new`], or by [`Plan::of`] in a hand-written
/// [`MapValue`] impl (the derive builds it the same way), and shown by its
/// `Display` impl as one line, in the spirit of Go's `-gcflags=-m`.
///
/// [`MapValue`]: crate::MapValue
///
/// ```
/// use mapstore::{Optimize, Plan, StorageKind};
///
/// const PLAN: Plan = Plan::new("Point", 16, 8, false, &[], None);
/// assert_eq!(PLAN.storage, StorageKind::Inline);
/// assert_eq!(PLAN.goal, Optimize::Balanced);
/// assert!(!PLAN.forced);
/// assert_eq!(
///     PLAN.to_string(),
///     "Point: inline (16 bytes, align 8, no heap fields), optimized for balanced: small: \
///      stored in the table, no allocation per insert, one probe per lookup \
///      (at most the 48-byte inline limit)"
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
    /// The goal the storage is chosen for (`#[map_store(optimize = "...")]`).
    pub goal: Optimize,
    /// Why: the policy's reason, or why a forced choice differs from it.
    pub reason: &'static str,
}

impl Plan {
    /// Builds the plan for a type from its layout, calling [`choose`] for
    /// [`Optimize::Balanced`] unless `forced` names a storage
    /// ([`Plan::optimize`] picks another goal).
    ///
    /// In a hand-written [`MapValue`](crate::MapValue) impl, prefer
    /// [`Plan::of`], which reads the layout and the storage from the type
    /// itself. With `Plan::new`, `forced` must name the impl's `Storage`
    /// (`Some(StorageKind::Pooled)` for `type Storage = Pooled`), or `None`
    /// if `Storage` is what [`choose`] picks: nothing checks it, and a plan
    /// that disagrees with its `Storage` misreports the storage the map
    /// uses (the map itself is still correct).
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
        Plan::build(
            type_name,
            ValueLayout::new(size, align, needs_drop, !heap_fields.is_empty()),
            heap_fields,
            forced,
            Optimize::Balanced,
        )
    }

    /// The plan of `V` as its own `MapValue` impl states it: layout from the
    /// compiler, storage from `V::Storage`, `forced`. This is the one way a
    /// hand-written impl states its storage once, and it is not a cycle
    /// inside that impl (it reads `V::Storage`, not `V::PLAN`).
    ///
    /// ```
    /// use mapstore::{storage::Pooled, MapValue, Plan, StorageKind};
    ///
    /// struct Page([u8; 4096]);
    ///
    /// impl MapValue for Page {
    ///     type Storage = Pooled;
    ///     const PLAN: Plan = Plan::of::<Self>("Page", &[]);
    /// }
    ///
    /// assert_eq!(Page::PLAN.storage, StorageKind::Pooled);
    /// assert_eq!(Page::PLAN.size, 4096);
    /// assert!(Page::PLAN.forced);
    /// ```
    pub const fn of<V: crate::MapValue>(
        type_name: &'static str,
        heap_fields: &'static [&'static str],
    ) -> Plan {
        Plan::build(
            type_name,
            ValueLayout::of::<V>(!heap_fields.is_empty()),
            heap_fields,
            Some(<V::Storage as Storage>::KIND),
            Optimize::Balanced,
        )
    }

    /// The same plan for another goal: [`choose`] picks again for `goal`
    /// unless the storage was forced, whose reason is then measured against
    /// `goal`'s thresholds.
    ///
    /// ```
    /// use mapstore::{choose, Optimize, Plan, ValueLayout};
    ///
    /// const PLAN: Plan = Plan::new("Row", 96, 8, false, &[], None).optimize(Optimize::Reads);
    /// assert_eq!(PLAN.goal, Optimize::Reads);
    /// assert_eq!(PLAN.storage, choose(ValueLayout::new(96, 8, false, false), Optimize::Reads));
    /// assert!(PLAN.to_string().contains("optimized for reads"));
    /// ```
    pub const fn optimize(self, goal: Optimize) -> Plan {
        Plan::build(
            self.type_name,
            self.layout(),
            self.heap_fields,
            if self.forced {
                Some(self.storage)
            } else {
                None
            },
            goal,
        )
    }

    const fn build(
        type_name: &'static str,
        layout: ValueLayout,
        heap_fields: &'static [&'static str],
        forced: Option<StorageKind>,
        goal: Optimize,
    ) -> Plan {
        let rule = decide(layout, goal);
        let (storage, is_forced) = match forced {
            None => (rule.storage(), false),
            Some(kind) => (kind, true),
        };
        let mut plan = Plan {
            type_name,
            size: layout.size,
            align: layout.align,
            needs_drop: layout.needs_drop,
            heap_fields,
            storage,
            forced: is_forced,
            goal,
            reason: "",
        };
        plan.reason = if is_forced {
            forced_reason(&plan)
        } else {
            reason_for(rule, layout.size)
        };
        plan
    }

    /// The layout [`choose`] decides from.
    const fn layout(&self) -> ValueLayout {
        ValueLayout::new(
            self.size,
            self.align,
            self.needs_drop,
            !self.heap_fields.is_empty(),
        )
    }

    /// The rule of the policy that applies to this layout and goal.
    pub(crate) const fn rule(&self) -> Rule {
        decide(self.layout(), self.goal)
    }

    /// What [`choose`] would pick for this layout and goal, whether or not
    /// it was forced.
    ///
    /// ```
    /// use mapstore::{Plan, StorageKind};
    /// let plan = Plan::new("Token", 32, 1, false, &[], Some(StorageKind::Boxed));
    /// assert_eq!(plan.chosen(), StorageKind::Inline);
    /// ```
    pub const fn chosen(&self) -> StorageKind {
        choose(self.layout(), self.goal)
    }

    /// Which way a forced storage is slower than the policy's choice, if it
    /// is: boxing a value the policy would keep inline, or inlining one it
    /// would not. The derive's `slow_storage` warnings, [`Plan::reason`] and
    /// [`Plan::is_slow_choice`] all come from here.
    ///
    /// [`Plan::reason`]: Plan#structfield.reason
    ///
    /// ```
    /// use mapstore::{Plan, SlowChoice, StorageKind};
    /// let inlined = Plan::new("Blob", 300, 8, false, &[], Some(StorageKind::Inline));
    /// assert_eq!(inlined.slow_choice(), Some(SlowChoice::InlineLarge));
    /// assert_eq!(Plan::new("Blob", 300, 8, false, &[], None).slow_choice(), None);
    /// ```
    pub const fn slow_choice(&self) -> Option<SlowChoice> {
        if !self.forced {
            return None;
        }
        match (self.storage, self.rule()) {
            // A box of a zero-sized value allocates nothing and its pointer
            // is never read: not slow (the `zero_sized` warning says what
            // is wrong with such a value).
            (StorageKind::Boxed, Rule::Small) if self.size > 0 => Some(SlowChoice::BoxedSmall),
            // A pooled zero-sized value is read through a slot pointer that
            // points at nothing to read: not slow either.
            (StorageKind::Pooled, Rule::Small) if self.size > 0 => Some(SlowChoice::PooledSmall),
            (StorageKind::Inline, Rule::Large | Rule::Huge) => Some(SlowChoice::InlineLarge),
            (StorageKind::Inline, Rule::Overaligned) => Some(SlowChoice::InlineOveraligned),
            _ => None,
        }
    }

    /// Whether a forced storage is slower than the policy's choice
    /// ([`Plan::slow_choice`] is `Some`).
    ///
    /// ```
    /// use mapstore::{Plan, StorageKind};
    /// assert!(Plan::new("Token", 32, 1, false, &[], Some(StorageKind::Boxed)).is_slow_choice());
    /// assert!(!Plan::new("Token", 32, 1, false, &[], None).is_slow_choice());
    /// ```
    pub const fn is_slow_choice(&self) -> bool {
        self.slow_choice().is_some()
    }
}

/// The reason of a forced plan: its slow-choice case first, then how it
/// differs from the policy's choice.
const fn forced_reason(plan: &Plan) -> &'static str {
    match plan.slow_choice() {
        Some(SlowChoice::BoxedSmall) => {
            "forced; the policy would store it inline: an allocation per insert and a pointer chase per lookup for nothing"
        }
        Some(SlowChoice::PooledSmall) => {
            "forced; the policy would store it inline: a pointer chase per lookup into the pool for nothing"
        }
        Some(SlowChoice::InlineLarge) => {
            "forced; the policy would not store it inline: every resize moves every value and empty buckets reserve its size"
        }
        Some(SlowChoice::InlineOveraligned) => {
            "forced; the policy would box it: every bucket is padded to its alignment"
        }
        None => match (plan.storage, plan.chosen()) {
            (StorageKind::Pooled, StorageKind::Boxed) => {
                "forced; the policy would box it: for this goal a box per value measured better, and a pool keeps freed slots until the map is cleared or shrunk"
            }
            (StorageKind::Boxed, StorageKind::Pooled) => {
                "forced; the policy would pool it: an allocation per insert the pool avoids"
            }
            _ => "forced, and the policy agrees",
        },
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = if self.size == 1 { "byte" } else { "bytes" };
        write!(
            f,
            "{}: {} ({} {bytes}, align {}, ",
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
        write!(f, "), optimized for {}: {} (", self.goal, self.reason)?;
        let limits = self.goal.thresholds();
        let owning = !self.heap_fields.is_empty();
        let inline = limits.inline_limit(owning);
        let which = if owning && inline != limits.inline_max_size {
            "inline limit for heap-owning values"
        } else {
            "inline limit"
        };
        match self.rule() {
            Rule::Small => write!(f, "at most the {inline}-byte {which}")?,
            Rule::Large => write!(
                f,
                "over the {inline}-byte {which}, under the {}-byte box limit",
                limits.boxed_min_size
            )?,
            Rule::Huge => write!(f, "at least the {}-byte box limit", limits.boxed_min_size)?,
            Rule::Overaligned => write!(
                f,
                "aligned to at least the {}-byte box alignment",
                limits.boxed_min_align
            )?,
        }
        f.write_str(")")
    }
}
