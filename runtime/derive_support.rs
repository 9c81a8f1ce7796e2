//! Items the derive's generated code refers to through
//! `::mapstore::__private` (warnings as `#[deprecated]` items and the like).
//!
//! # How the derive warns on stable Rust
//!
//! A proc macro cannot emit a warning on stable, but a use of a
//! `#[deprecated]` item can. The derive writes
//! `const _: () = balanced::Bytes::<{ exact(fires(&PLAN, Note::BoxedSmallValue), PLAN.size) }>::BOXED_SMALL_VALUE;`
//! where the const argument is computed at compile time from the type's
//! plan: [`SILENT`] when the condition does not hold (that impl's constants
//! are not deprecated), or the value's [`size_class`] when it does. Each
//! size class has its own concrete impl, whose deprecated constants say how
//! big the value is and which threshold it crossed, and rustc prints the
//! class in the path: `balanced::Bytes::<24>::BOXED_SMALL_VALUE` (sizes
//! over [`EXACT_MAX`] go through `BytesBetween::<FIRST, LAST>`). A generic
//! `impl<const N: usize>` would print `N`, hence one impl per class.
//!
//! There is one such module per [`Optimize`] goal (`balanced`, `reads`,
//! `writes`, `memory`): the derive knows the goal when it expands, and the
//! notes quote that goal's [`Thresholds`](crate::Thresholds). Each has a
//! `_heap` twin for values that own heap memory, where the goal keeps those
//! inline to a lower size: the derive uses both, [`fires_in`] selects one,
//! and each note quotes the one inline limit that applies. The impls
//! live in `derive_notes.rs`, generated from the runtime's own thresholds by
//! the test `notes_are_current` below (`MAPSTORE_BLESS=1 cargo test --lib
//! notes_are_current` rewrites it after a threshold changes; without the
//! switch the test fails while the file is stale).
//!
//! rustc drops deprecation warnings on tokens that carry a derive's span, so
//! the derive gives every token of that line the span of the user's
//! attribute or type name, which is also where the warning points.
//!
//! `#![deny(deprecated)]` turns the warnings into errors; each one is
//! silenced per type with `#[map_store(allow(...))]`, and `explain` by
//! removing it.

use crate::plan::{Optimize, Plan, Rule, SlowChoice};
use crate::storage::StorageKind;

#[allow(missing_docs)]
#[rustfmt::skip]
#[path = "derive_notes.rs"]
mod notes;

pub use notes::{
    balanced, balanced_heap, memory, memory_heap, padding, reads, reads_heap, writes, writes_heap,
};

/// The const argument that selects the silent impl of a notes struct, whose
/// constants are not deprecated. No type is this large
/// (`size_of` is at most `isize::MAX`), so no size class is `SILENT`.
pub const SILENT: usize = usize::MAX;

/// Sizes up to this many bytes are their own class; larger ones share a
/// class with their neighbours (see [`size_class`]).
pub const EXACT_MAX: usize = 256;

/// The size class of a value of `size` bytes, which is also the const
/// argument of the notes impl that describes it: the size itself up to
/// [`EXACT_MAX`], and above it the largest size of its range. Ranges end at
/// powers of two and at every goal's thresholds, so that the policy's rule
/// is the same across a range (except by alignment).
pub const fn size_class(size: usize) -> usize {
    if size <= EXACT_MAX {
        return size;
    }
    let top = isize::MAX as usize;
    let mut end = match size.checked_next_power_of_two() {
        Some(power) if power <= top => power,
        _ => top,
    };
    let mut i = 0;
    while i < Optimize::ALL.len() {
        let limits = Optimize::ALL[i].thresholds();
        let bounds = [
            limits.inline_max_size,
            limits.inline_max_size_owning,
            limits.boxed_min_size.saturating_sub(1),
            limits.boxed_min_align.saturating_sub(1),
        ];
        let mut j = 0;
        while j < bounds.len() {
            if bounds[j] >= size && bounds[j] < end {
                end = bounds[j];
            }
            j += 1;
        }
        i += 1;
    }
    end
}

/// The first size of the class that holds `size` (see [`size_class`]).
pub const fn class_start(size: usize) -> usize {
    if size <= EXACT_MAX {
        return size;
    }
    let mut start = EXACT_MAX + 1;
    loop {
        let end = size_class(start);
        if size <= end {
            return start;
        }
        start = end + 1;
    }
}

/// The const argument of a notes module's `Bytes<N>`: `size` if the note
/// fires and the size is at most [`EXACT_MAX`], [`SILENT`] if not.
pub const fn exact(fires: bool, size: usize) -> usize {
    if fires && size <= EXACT_MAX {
        size
    } else {
        SILENT
    }
}

/// The const arguments of a notes module's `BytesBetween<FIRST, LAST>`: the
/// class of `size` if the note fires and the size is over [`EXACT_MAX`],
/// [`SILENT`] twice if not.
pub const fn between(fires: bool, size: usize) -> (usize, usize) {
    if fires && size > EXACT_MAX {
        (class_start(size), size_class(size))
    } else {
        (SILENT, SILENT)
    }
}

/// One note of the derive: the name of its constant in the notes modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// `explain`: the policy stores the value inline.
    Inline,
    /// `explain`: the policy pools the value.
    Pooled,
    /// `explain`: the policy boxes the value for its size.
    Boxed,
    /// `explain`: the policy boxes the value for its alignment.
    BoxedAligned,
    /// [`SlowChoice::BoxedSmall`].
    BoxedSmallValue,
    /// [`SlowChoice::PooledSmall`].
    PooledSmallValue,
    /// [`SlowChoice::InlineLarge`].
    InlineLargeValue,
    /// [`SlowChoice::InlineOveraligned`].
    InlineAlignedValue,
}

impl Note {
    /// Every note a goal's module may hold, in the order they are written.
    #[cfg(all(test, not(miri)))]
    const ALL: [Note; 8] = [
        Note::Inline,
        Note::Pooled,
        Note::Boxed,
        Note::BoxedAligned,
        Note::BoxedSmallValue,
        Note::PooledSmallValue,
        Note::InlineLargeValue,
        Note::InlineAlignedValue,
    ];

    /// The explain note of the policy's rule.
    const fn of_rule(rule: Rule) -> Note {
        match rule {
            Rule::Small => Note::Inline,
            Rule::Large => Note::Pooled,
            Rule::Huge => Note::Boxed,
            Rule::Overaligned => Note::BoxedAligned,
        }
    }

    /// The warning of a slow forced choice.
    const fn of_slow_choice(slow: SlowChoice) -> Note {
        match slow {
            SlowChoice::BoxedSmall => Note::BoxedSmallValue,
            SlowChoice::PooledSmall => Note::PooledSmallValue,
            SlowChoice::InlineLarge => Note::InlineLargeValue,
            SlowChoice::InlineOveraligned => Note::InlineAlignedValue,
        }
    }

    const fn is(self, other: Note) -> bool {
        self as u8 == other as u8
    }
}

/// Whether `note` applies to `plan`: the explain note of the policy's rule
/// for the plan's layout and goal, or the warning of its
/// [`Plan::slow_choice`].
pub const fn fires(plan: &Plan, note: Note) -> bool {
    if note.is(Note::of_rule(plan.rule())) {
        return true;
    }
    match plan.slow_choice() {
        Some(slow) => note.is(Note::of_slow_choice(slow)),
        None => false,
    }
}

/// Whether `plan`'s notes come from its goal's `_heap` module: the value
/// owns heap memory and its goal keeps such values inline to a lower size
/// than others, so that each note quotes the one inline limit that applies
/// to this value.
pub const fn heap_notes(plan: &Plan) -> bool {
    let t = plan.goal.thresholds();
    !plan.heap_fields.is_empty() && t.inline_max_size_owning != t.inline_max_size
}

/// [`fires`] for the note's constant in the goal's `_heap` module (`heap`)
/// or in its plain one: at most one of the two fires.
pub const fn fires_in(plan: &Plan, note: Note, heap: bool) -> bool {
    fires(plan, note) && heap_notes(plan) == heap
}

/// Selects the deprecated (`true`) or the silent (`false`) version of the
/// warnings that need no size.
pub struct Warn<const FIRES: bool>;

impl Warn<true> {
    /// A zero-sized value type.
    #[deprecated(
        note = "zero-sized map value (0 bytes): it holds no data, so each entry stores only its key and each lookup returns a value that says nothing a set would not; use a set (`HashSet<K>`), or silence this with `#[map_store(allow(zero_sized))]`"
    )]
    pub const ZERO_SIZED: () = ();
}

impl Warn<false> {
    /// Silent: the value has a size.
    pub const ZERO_SIZED: () = ();
}

/// `explain` on a generic type: its size depends on its parameters, so the
/// note names the forced storage only.
pub struct Generic;

impl Generic {
    /// `explain` on a generic type stored inline.
    #[deprecated(
        note = "mapstore plan: stored inline, as `storage = \"inline\"` forces; the size depends on the type's parameters: print `<T<..> as MapValue>::PLAN` (it implements `Display`) for a concrete `T<..>`; remove `explain` to silence this note"
    )]
    pub const INLINE: () = ();

    /// `explain` on a generic type stored in a pool.
    #[deprecated(
        note = "mapstore plan: pooled, as `storage = \"pooled\"` forces; the size depends on the type's parameters: print `<T<..> as MapValue>::PLAN` (it implements `Display`) for a concrete `T<..>`; remove `explain` to silence this note"
    )]
    pub const POOLED: () = ();

    /// `explain` on a boxed generic type.
    #[deprecated(
        note = "mapstore plan: boxed, as `storage = \"boxed\"` forces; the size depends on the type's parameters: print `<T<..> as MapValue>::PLAN` (it implements `Display`) for a concrete `T<..>`; remove `explain` to silence this note"
    )]
    pub const BOXED: () = ();
}

/// `explain` on a concrete type whose storage `storage = "..."` forces: the
/// note names that storage (the policy's own choice, and whether the forced
/// one is slower, are `slow_storage`'s and the plan's to say).
pub struct Forced;

impl Forced {
    /// `explain` with `storage = "inline"`.
    #[deprecated(
        note = "mapstore plan: stored inline, as `storage = \"inline\"` forces; a `slow_storage` warning says when the policy's choice would be faster; print `<T as MapValue>::PLAN` (it implements `Display`) for the layout and the policy's choice; remove `explain` to silence this note"
    )]
    pub const INLINE: () = ();

    /// `explain` with `storage = "pooled"`.
    #[deprecated(
        note = "mapstore plan: pooled, as `storage = \"pooled\"` forces; a `slow_storage` warning says when the policy's choice would be faster; print `<T as MapValue>::PLAN` (it implements `Display`) for the layout and the policy's choice; remove `explain` to silence this note"
    )]
    pub const POOLED: () = ();

    /// `explain` with `storage = "boxed"`.
    #[deprecated(
        note = "mapstore plan: boxed, as `storage = \"boxed\"` forces; a `slow_storage` warning says when the policy's choice would be faster; print `<T as MapValue>::PLAN` (it implements `Display`) for the layout and the policy's choice; remove `explain` to silence this note"
    )]
    pub const BOXED: () = ();
}

/// The storage of a type held in its own store (`struct Node { children:
/// MapStore<String, Node> }`), as the `u8` a [`Select`](crate::__private::Select)
/// takes: `plans` are the policy's plans of its twins laid out with inline,
/// pooled and boxed maps in place of that store (its size depends on the
/// pick), and the first storage that the policy picks at its own twin's size
/// is taken. If none is, pooled (and [`held_in_itself`] fails).
pub const fn held_fixed_point(plans: &[Plan; 3]) -> u8 {
    let kinds = [StorageKind::Inline, StorageKind::Pooled, StorageKind::Boxed];
    let mut i = 0;
    while i < kinds.len() {
        if plans[i].storage as u8 == kinds[i] as u8 {
            return kinds[i] as u8;
        }
        i += 1;
    }
    StorageKind::Pooled as u8
}

/// The derive's check for a type held in its own store: the policy picks,
/// at the type's own size (`plan`), the storage that
/// [`held_fixed_point`] named (`held`). Fails to compile, with the fix,
/// where it does not.
pub const fn held_in_itself(plan: &Plan, held: u8) {
    if plan.storage as u8 != held {
        panic!(
            "this type holds itself in a `MapStore` or `ConcurrentStore`: its storage was \
             picked from its layout with each storage's map in that store's place, and at its \
             own size the policy picks another; name one with `#[map_store(storage = \"...\")]`"
        );
    }
}

/// Whether the value is zero-sized.
pub const fn zero_sized(plan: &Plan) -> bool {
    plan.size == 0
}

/// The size of the field that `field` reads, found without naming its type
/// (`size_of_field(|v: &User| &v.name)`): the padding check names no field
/// type, so that a deprecated one is reported once, where the user wrote it.
pub const fn size_of_field<T, F>(_field: fn(&T) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// Whether a struct of `size` bytes and alignment `align`, whose fields add
/// up to `fields_size` bytes, is larger than the same fields ordered by
/// decreasing alignment (which leaves no padding between them).
pub const fn padded(size: usize, align: usize, fields_size: usize) -> bool {
    let align = if align == 0 { 1 } else { align };
    let optimal = fields_size.div_ceil(align) * align;
    size > optimal
}

/// The generator of `derive_notes.rs`, and the checks that it covers every
/// note the derive can select.
///
/// Not under Miri: they touch no `unsafe` code, read and write the
/// generated file (which Miri's isolation forbids) and enumerate tens of
/// thousands of layouts (hours under the interpreter).
#[cfg(all(test, not(miri)))]
mod tests {
    extern crate std;

    use super::*;
    use crate::plan::{decide, ValueLayout};
    use crate::storage::StorageKind;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    const GENERATED: &str = "runtime/derive_notes.rs";

    /// Every size class: `(first size, last size)`.
    fn classes() -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = (0..=EXACT_MAX).map(|s| (s, s)).collect();
        let mut lo = EXACT_MAX + 1;
        loop {
            let hi = size_class(lo);
            out.push((lo, hi));
            if hi >= isize::MAX as usize {
                return out;
            }
            lo = hi + 1;
        }
    }

    /// The rules `choose` can apply to a value whose size is in `lo..=hi`,
    /// for `goal`: probed at the ends of the range, at each threshold and
    /// its neighbours, at each power of two, with every alignment such a
    /// size allows and every `needs_drop` / `owns_heap`.
    fn rules(goal: Optimize, lo: usize, hi: usize, heap: Option<bool>) -> Vec<Rule> {
        let mut sizes = vec![lo, hi];
        for g in Optimize::ALL {
            let t = g.thresholds();
            for b in [
                t.inline_max_size,
                t.inline_max_size_owning,
                t.boxed_min_size,
                t.boxed_min_align,
            ] {
                sizes.extend([b.saturating_sub(1), b, b.saturating_add(1)]);
            }
        }
        sizes.extend((0..usize::BITS).map(|k| 1usize << k));
        let mut out = Vec::new();
        for size in sizes.into_iter().filter(|s| (lo..=hi).contains(s)) {
            for align in (0..30).map(|k| 1usize << k) {
                if size != 0 && size % align != 0 {
                    continue;
                }
                for (needs_drop, owns_heap) in
                    [(false, false), (false, true), (true, false), (true, true)]
                {
                    if heap.is_some_and(|heap| heap != owns_heap) {
                        continue;
                    }
                    let rule = decide(ValueLayout::new(size, align, needs_drop, owns_heap), goal);
                    if !out.contains(&rule) {
                        out.push(rule);
                    }
                }
            }
        }
        out
    }

    /// The notes a goal's impl for `lo..=hi` must hold.
    fn notes_for(goal: Optimize, lo: usize, hi: usize, heap: Option<bool>) -> Vec<Note> {
        let rules = rules(goal, lo, hi, heap);
        Note::ALL
            .into_iter()
            .filter(|note| {
                rules.iter().any(|&rule| {
                    note.is(Note::of_rule(rule))
                        || match rule {
                            Rule::Small => {
                                note.is(Note::BoxedSmallValue) || note.is(Note::PooledSmallValue)
                            }
                            Rule::Large | Rule::Huge => note.is(Note::InlineLargeValue),
                            Rule::Overaligned => note.is(Note::InlineAlignedValue),
                        }
                })
            })
            .collect()
    }

    fn const_name(note: Note) -> &'static str {
        match note {
            Note::Inline => "INLINE",
            Note::Pooled => "POOLED",
            Note::Boxed => "BOXED",
            Note::BoxedAligned => "BOXED_ALIGNED",
            Note::BoxedSmallValue => "BOXED_SMALL_VALUE",
            Note::PooledSmallValue => "POOLED_SMALL_VALUE",
            Note::InlineLargeValue => "INLINE_LARGE_VALUE",
            Note::InlineAlignedValue => "INLINE_ALIGNED_VALUE",
        }
    }

    fn module_name(goal: Optimize) -> &'static str {
        goal.name()
    }

    /// Whether `goal` keeps values that own heap memory inline to another
    /// size than other values (then each note has a `_heap` twin).
    fn limits_differ(goal: Optimize) -> bool {
        let t = goal.thresholds();
        t.inline_max_size_owning != t.inline_max_size
    }

    /// The note of `note` for `goal`, for any size: the size is in the path
    /// rustc prints before it (`balanced::Bytes::<24>::INLINE`).
    /// Where the goal's two inline limits differ, `heap` says which
    /// module the note is for (values that own heap memory or not), and the
    /// note quotes that limit alone.
    fn note_text(note: Note, goal: Optimize, heap: Option<bool>) -> String {
        let t = goal.thresholds();
        let (boxed, align) = (t.boxed_min_size, t.boxed_min_align);
        let (size, whose) = match heap {
            None => (t.inline_max_size, ""),
            Some(false) => (t.inline_max_size, " for values that own no heap memory"),
            Some(true) => (t.inline_max_size_owning, " for values that own heap memory"),
        };
        let limit = format!("the {size}-byte inline limit{whose}");
        // In the warnings, after the goal: "the 96-byte inline limit of
        // `optimize = "reads"` for values that own heap memory".
        let goal_limit =
            format!("the {size}-byte inline limit of `optimize = \\\"{goal}\\\"`{whose}");
        let plan =
            format!("mapstore plan for `optimize = \\\"{goal}\\\"`: a value of this many bytes");
        let explain_end = "a `storage = \\\"...\\\"` key overrides this; print `<T as MapValue>::PLAN` (it implements `Display`) for the rest; remove `explain` to silence this note";
        let slow_end = "remove `storage` to let the policy choose, or silence this with `#[map_store(allow(slow_storage))]`";
        match note {
            Note::Inline => format!(
                "{plan}, at most {limit}, is stored inline: no allocation per insert, one probe per lookup; {explain_end}"
            ),
            Note::Pooled => format!(
                "{plan}, over {limit} and under the {boxed}-byte box limit, is pooled: the table holds slot pointers, so resizes never move values and no insert calls the allocator, at one pointer chase per lookup as with a box; {explain_end}"
            ),
            Note::Boxed => format!(
                "{plan}, at least the {boxed}-byte box limit, is boxed: one allocation per value, returned to the allocator on remove; {explain_end}"
            ),
            Note::BoxedAligned => format!(
                "{plan}, aligned to {align} bytes or more (the box alignment limit), is boxed: buckets and pool slots would be padded to that alignment; {explain_end}"
            ),
            Note::BoxedSmallValue => format!(
                "`storage = \\\"boxed\\\"` on a value of this many bytes, at most {goal_limit}: every insert allocates and every lookup chases a pointer, for nothing (the `map[string]*User` trap); {slow_end}"
            ),
            Note::PooledSmallValue => format!(
                "`storage = \\\"pooled\\\"` on a value of this many bytes, at most {goal_limit}: every lookup chases a pointer into the pool, as into a box, for nothing (the table would hold the value beside its key); {slow_end}"
            ),
            Note::InlineLargeValue => format!(
                "`storage = \\\"inline\\\"` on a value of this many bytes, over {goal_limit}: every resize moves every value, and empty buckets reserve its full size (up to ~2.3x its size per entry after the table grows); {slow_end}"
            ),
            Note::InlineAlignedValue => format!(
                "`storage = \\\"inline\\\"` on a value of this many bytes aligned to {align} bytes or more, the box alignment limit of `optimize = \\\"{goal}\\\"`: every bucket, empty or not, is padded to that alignment; {slow_end}"
            ),
        }
    }

    const PADDING_TEXT: &str = "`repr(C)` padding in a value of this many bytes that ordering the fields by decreasing alignment would remove: every entry and every empty bucket stores the wasted bytes; reorder the fields (largest alignment first), or drop `repr(C)` if the layout is not needed, or silence this with `#[map_store(allow(padding))]`";

    /// One notes module: `Bytes<N>` for each exact size, `BytesBetween<FIRST,
    /// LAST>` for each range, each impl holding the constants `names` gives
    /// for its class, whose notes `text` gives.
    fn module(
        name: &str,
        doc: &str,
        consts: &[&str],
        text: &dyn Fn(&str) -> String,
        names: &dyn Fn(usize, usize) -> Vec<&'static str>,
    ) -> String {
        let mut out = format!("\n/// {doc}\npub mod {name} {{\n");
        out += "    /// A value of exactly `N` bytes.\n    pub struct Bytes<const N: usize>;\n\n";
        out += "    /// A value of `FIRST` to `LAST` bytes.\n    pub struct BytesBetween<const FIRST: usize, const LAST: usize>;\n";
        for head in [
            "impl Bytes<{ usize::MAX }>",
            "impl BytesBetween<{ usize::MAX }, { usize::MAX }>",
        ] {
            out += &format!("\n    {head} {{\n");
            for c in consts {
                out += &format!("        pub const {c}: () = ();\n");
            }
            out += "    }\n";
        }
        let classes = classes();
        // The distinct sets of constants, each written once in a macro that
        // stamps the impls of its classes; exact sizes in runs.
        let mut sets: Vec<Vec<&str>> = Vec::new();
        let mut exact_runs: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut ranges: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
        for &(lo, hi) in &classes {
            let names = names(lo, hi);
            if names.is_empty() {
                continue;
            }
            let set = match sets.iter().position(|s| *s == names) {
                Some(i) => i,
                None => {
                    sets.push(names);
                    sets.len() - 1
                }
            };
            if hi <= EXACT_MAX {
                match exact_runs.last_mut() {
                    Some((last, sizes)) if *last == set => sizes.push(lo),
                    _ => exact_runs.push((set, vec![lo])),
                }
            } else {
                match ranges.iter_mut().find(|(s, _)| *s == set) {
                    Some((_, list)) => list.push((lo, hi)),
                    None => ranges.push((set, vec![(lo, hi)])),
                }
            }
        }
        // Classes past `u32::MAX` bytes exist on 64-bit targets only:
        // their literals overflow a 32-bit `usize` (and no value there is
        // that large).
        let narrow =
            |&(_, hi): &(usize, usize)| u64::try_from(hi).is_ok_and(|hi| hi <= u64::from(u32::MAX));
        for (i, set) in sets.iter().enumerate() {
            // A macro that stamps only such classes is defined only there.
            let used_narrow = exact_runs.iter().any(|(s, _)| *s == i)
                || ranges
                    .iter()
                    .any(|(s, list)| *s == i && list.iter().any(narrow));
            let cfg = if used_narrow {
                ""
            } else {
                "\n    #[cfg(target_pointer_width = \"64\")]"
            };
            out += &format!(
                "\n    // {}{cfg}\n    macro_rules! notes_{i} {{\n",
                set.join(", ")
            );
            for (arm, head) in [
                ("exact $($n:literal)*", "impl Bytes<$n>"),
                (
                    "between $($first:literal, $last:literal;)*",
                    "impl BytesBetween<$first, $last>",
                ),
            ] {
                out += &format!("        ({arm}) => {{$(\n            {head} {{\n");
                for c in set {
                    out += &format!(
                        "                #[deprecated(note = \"{}\")]\n                pub const {c}: () = ();\n",
                        text(c)
                    );
                }
                out += "            }\n        )*};\n";
            }
            out += "    }\n";
        }
        out += "\n";
        for (set, sizes) in exact_runs {
            out += &format!("    notes_{set}!(exact");
            let mut column = 100;
            for size in sizes {
                let word = format!(" {size}");
                if column + word.len() > 96 {
                    out += "\n       ";
                    column = 7;
                }
                out += &word;
                column += word.len();
            }
            out += ");\n";
        }
        for (set, list) in ranges {
            let (narrow, wide): (Vec<_>, Vec<_>) = list.into_iter().partition(narrow);
            for (cfg, part) in [
                ("", narrow),
                ("    #[cfg(target_pointer_width = \"64\")]\n", wide),
            ] {
                if part.is_empty() {
                    continue;
                }
                out += cfg;
                out += &format!("    notes_{set}!(between");
                for (lo, hi) in part {
                    out += &format!("\n        {lo}, {hi};");
                }
                out += "\n    );\n";
            }
        }
        out += "}\n";
        out
    }

    /// The text of `derive_notes.rs`.
    fn generate() -> String {
        let mut out = String::from(
            "//! @generated by `derive_support::tests::notes_are_current` from the\n\
             //! thresholds in `plan.rs`. Do not edit: after a threshold changes, run\n\
             //! `MAPSTORE_BLESS=1 cargo test --lib notes_are_current`.\n\
             //!\n\
             //! One module per `Optimize` goal, and `padding`. In each, one impl per\n\
             //! size class (`size_class`) holds only the notes that can apply to it;\n\
             //! the impls at `SILENT` (`usize::MAX`) hold them all, silent.\n",
        );
        let all: Vec<&str> = Note::ALL.into_iter().map(const_name).collect();
        for goal in Optimize::ALL {
            // The plain module, then the `_heap` one (notes only where the
            // goal's two inline limits differ: `heap_notes`).
            for heap in [false, true] {
                let split = limits_differ(goal);
                let which = split.then_some(heap);
                let doc = match which {
                    None if heap => format!(
                        "Unused: `optimize = \"{goal}\"` has one inline limit (see `heap_notes`)."
                    ),
                    None => format!("The derive's notes for `optimize = \"{goal}\"`, by size."),
                    Some(false) => format!(
                        "The derive's notes for `optimize = \"{goal}\"` and values that own no heap memory, by size."
                    ),
                    Some(true) => format!(
                        "The derive's notes for `optimize = \"{goal}\"` and values that own heap memory, by size."
                    ),
                };
                let text = |c: &str| {
                    let note = Note::ALL
                        .into_iter()
                        .find(|&n| const_name(n) == c)
                        .expect("a note");
                    note_text(note, goal, which)
                };
                let names = |lo, hi| {
                    if heap && !split {
                        return Vec::new();
                    }
                    notes_for(goal, lo, hi, which)
                        .into_iter()
                        .map(const_name)
                        .collect()
                };
                let name = if heap {
                    format!("{}_heap", module_name(goal))
                } else {
                    String::from(module_name(goal))
                };
                out += &module(&name, &doc, &all, &text, &names);
            }
        }
        let text = |_: &str| String::from(PADDING_TEXT);
        let names = |_, hi| if hi > 0 { vec!["PADDING"] } else { Vec::new() };
        out += &module(
            "padding",
            "The derive's `repr(C)` padding warning, by size.",
            &["PADDING"],
            &text,
            &names,
        );
        out
    }

    /// Fails while `derive_notes.rs` is not what the thresholds generate;
    /// `MAPSTORE_BLESS=1` rewrites it.
    #[test]
    fn notes_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
        let fresh = generate();
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == fresh {
            return;
        }
        if std::env::var_os("MAPSTORE_BLESS").is_some() {
            std::fs::write(&path, fresh).expect("writing derive_notes.rs");
        } else {
            panic!(
                "{GENERATED} is stale (a threshold changed?): run `MAPSTORE_BLESS=1 cargo test --lib notes_are_current` and commit it"
            );
        }
    }

    #[test]
    fn classes_tile_every_size_and_end_at_thresholds() {
        let classes = classes();
        for pair in classes.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0, "{pair:?}");
        }
        assert_eq!(classes.last().map(|c| c.1), Some(isize::MAX as usize));
        for &(lo, hi) in &classes {
            assert_eq!(size_class(lo), hi);
            assert_eq!(size_class(hi), hi);
            assert_ne!(hi, SILENT);
        }
        for goal in Optimize::ALL {
            let t = goal.thresholds();
            assert_eq!(
                size_class(t.inline_max_size),
                t.inline_max_size
                    .max(size_class(t.inline_max_size).min(t.inline_max_size))
            );
            if t.boxed_min_size > EXACT_MAX + 1 {
                assert_eq!(size_class(t.boxed_min_size - 1), t.boxed_min_size - 1);
            }
        }
    }

    /// Every note `fires` selects exists in the impl that `exact` or
    /// `between` select: over every size to 4 KiB and every class's ends,
    /// with every alignment, forced or not, for every goal.
    #[test]
    fn every_selected_note_is_generated() {
        let generated: Vec<(Optimize, bool, usize, Vec<Note>)> = Optimize::ALL
            .into_iter()
            .flat_map(|goal| {
                [false, true].into_iter().flat_map(move |heap| {
                    let which = limits_differ(goal).then_some(heap);
                    classes().into_iter().map(move |(lo, hi)| {
                        let notes = if heap && which.is_none() {
                            Vec::new()
                        } else {
                            notes_for(goal, lo, hi, which)
                        };
                        (goal, heap, lo, notes)
                    })
                })
            })
            .collect();
        let sizes = (0..=4096).chain(classes().into_iter().flat_map(|(lo, hi)| [lo, hi]));
        let mut checked = 0;
        for size in sizes {
            for align in (0..30).map(|k| 1usize << k) {
                if size != 0 && size % align != 0 {
                    continue;
                }
                let kinds = [
                    None,
                    Some(StorageKind::Inline),
                    Some(StorageKind::Pooled),
                    Some(StorageKind::Boxed),
                ];
                for (forced, heap_fields) in kinds
                    .into_iter()
                    .flat_map(|k| [(k, &[][..]), (k, &["s"][..])])
                {
                    for goal in Optimize::ALL {
                        let plan =
                            Plan::new("T", size, align, false, heap_fields, forced).optimize(goal);
                        for note in Note::ALL {
                            let heap = heap_notes(&plan);
                            assert!(!fires_in(&plan, note, !heap), "{plan:?}");
                            let fires = fires_in(&plan, note, heap);
                            assert_eq!(fires, super::fires(&plan, note));
                            let (e, (first, last)) = (exact(fires, size), between(fires, size));
                            if !fires {
                                assert_eq!((e, first, last), (SILENT, SILENT, SILENT));
                                continue;
                            }
                            let first = if e == SILENT { first } else { e };
                            assert!(first <= size && (e != SILENT || size <= last), "{plan:?}");
                            let (_, _, _, notes) = generated
                                .iter()
                                .find(|(g, h, lo, _)| *g == goal && *h == heap && *lo == first)
                                .expect("a class for every size");
                            assert!(notes.contains(&note), "{note:?} missing for {plan:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn the_file_names_each_threshold() {
        let text = generate();
        for goal in Optimize::ALL {
            let t = goal.thresholds();
            let needle = format!("at most the {}-byte inline limit", t.inline_max_size);
            assert!(text.contains(&needle), "{needle}");
            let needle = format!("of `optimize = \\\"{goal}\\\"`");
            assert!(text.contains(&needle), "{needle}");
            assert!(text.contains(&format!("pub mod {} {{", goal.name())));
            assert!(text.contains(&format!("pub mod {}_heap {{", goal.name())));
            if limits_differ(goal) {
                let needle = format!(
                    "the {}-byte inline limit for values that own heap memory",
                    t.inline_max_size_owning
                );
                assert!(text.contains(&needle), "{needle}");
            }
        }
        assert!(text.contains("impl Bytes<$n>"));
        assert!(text.contains("        513, 1024;"));
    }
}
