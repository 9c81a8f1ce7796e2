//! Items the derive's generated code refers to through
//! `::mapstore::__private` (warnings as `#[deprecated]` items and the like).
//!
//! # How the derive warns on stable Rust
//!
//! A proc macro cannot emit a warning on stable, but a use of a
//! `#[deprecated]` item can. Each warning below is an associated constant
//! that exists on both [`Warn<true>`](Warn) and [`Warn<false>`](Warn), and is
//! deprecated only on `Warn<true>`. The derive writes
//! `const _: () = Warn::<{ condition }>::NAME;` with a condition computed at
//! compile time from the type's layout (`size_of`, [`Plan`]...), so the
//! warning fires exactly when the condition holds. rustc drops deprecation
//! warnings on tokens that carry a derive's span, so the derive gives every
//! token of that line the span of the user's attribute or type name, which
//! is also where the warning points.
//!
//! `#![deny(deprecated)]` turns the warnings into errors; each one is
//! silenced per type with `#[map_store(allow(...))]`.

use crate::plan::{Plan, StorageKind};

/// Selects the deprecated (`true`) or the silent (`false`) version of each
/// warning constant.
pub struct Warn<const FIRES: bool>;

/// Selects the deprecated (`true`) or the silent (`false`) version of each
/// `explain` note.
pub struct Explain<const FIRES: bool>;

impl Warn<true> {
    /// `storage = "boxed"` forced on a value the policy stores inline.
    #[deprecated(
        note = "`storage = \"boxed\"` on a value the policy stores inline: every insert allocates and every lookup chases a pointer, for nothing (the `map[string]*User` trap); remove `storage` to let the policy choose (`<T as MapValue>::PLAN` shows the size), or silence this with `#[map_store(allow(slow_storage))]`"
    )]
    pub const BOXED_SMALL_VALUE: () = ();

    /// `storage = "inline"` forced on a value the policy would not inline.
    #[deprecated(
        note = "`storage = \"inline\"` on a value the policy would pool or box: every resize moves every value, and empty buckets reserve the value's full size (up to ~2.3x its size per entry after the table grows); remove `storage` to let the policy choose (`<T as MapValue>::PLAN` shows the size), or silence this with `#[map_store(allow(slow_storage))]`"
    )]
    pub const INLINE_LARGE_VALUE: () = ();

    /// A zero-sized value type.
    #[deprecated(
        note = "zero-sized map value: it holds no data, so each entry stores only its key and each lookup returns a value that says nothing a set would not; use a set (`HashSet<K>`), or silence this with `#[map_store(allow(zero_sized))]`"
    )]
    pub const ZERO_SIZED: () = ();

    /// `repr(C)` padding that reordering the fields would remove.
    #[deprecated(
        note = "`repr(C)` padding that reordering the fields would remove: every entry stores the wasted bytes, in the table or pool and in every empty bucket; order the fields by decreasing alignment, or drop `repr(C)` if the layout is not needed (compare `<T as MapValue>::PLAN.size` with the sum of the field sizes), or silence this with `#[map_store(allow(padding))]`"
    )]
    pub const PADDING: () = ();
}

impl Warn<false> {
    /// Silent: the value is not small, or `storage` is not `"boxed"`.
    pub const BOXED_SMALL_VALUE: () = ();
    /// Silent: the value is small enough, or `storage` is not `"inline"`.
    pub const INLINE_LARGE_VALUE: () = ();
    /// Silent: the value has a size.
    pub const ZERO_SIZED: () = ();
    /// Silent: no padding that reordering would remove.
    pub const PADDING: () = ();
}

impl Explain<true> {
    /// `explain` on a value stored inline.
    #[deprecated(
        note = "mapstore plan: stored inline, in the table's buckets: no allocation per insert, one probe per lookup; `<T as MapValue>::PLAN` (it implements `Display`) gives the size, alignment, heap fields and reason; remove `explain` to silence this note"
    )]
    pub const INLINE: () = ();

    /// `explain` on a value stored in a pool.
    #[deprecated(
        note = "mapstore plan: pooled: the table holds 4-byte slot indices into a chunked pool, so resizes never move values, at one indirection per lookup; `<T as MapValue>::PLAN` (it implements `Display`) gives the size, alignment, heap fields and reason; remove `explain` to silence this note"
    )]
    pub const POOLED: () = ();

    /// `explain` on a boxed value.
    #[deprecated(
        note = "mapstore plan: boxed: each value is its own heap allocation and the table holds a `Box`, so memory returns to the allocator on remove, at one allocation per insert; `<T as MapValue>::PLAN` (it implements `Display`) gives the size, alignment, heap fields and reason; remove `explain` to silence this note"
    )]
    pub const BOXED: () = ();
}

impl Explain<false> {
    /// Silent: not stored inline.
    pub const INLINE: () = ();
    /// Silent: not pooled.
    pub const POOLED: () = ();
    /// Silent: not boxed.
    pub const BOXED: () = ();
}

/// Whether `storage = "boxed"` was forced on a value the policy keeps inline.
pub const fn boxed_small_value(plan: &Plan) -> bool {
    matches!(
        (plan.storage, plan.chosen()),
        (StorageKind::Boxed, StorageKind::Inline)
    )
}

/// Whether `storage = "inline"` was forced on a value the policy would not
/// keep inline.
pub const fn inline_large_value(plan: &Plan) -> bool {
    matches!(
        (plan.storage, plan.chosen()),
        (
            StorageKind::Inline,
            StorageKind::Pooled | StorageKind::Boxed
        )
    )
}

/// Whether the value is zero-sized.
pub const fn zero_sized(plan: &Plan) -> bool {
    plan.size == 0
}

/// Whether the plan's storage is `kind`.
pub const fn stored(plan: &Plan, kind: StorageKind) -> bool {
    plan.storage as u8 == kind as u8
}

/// Whether a struct of `size` bytes and alignment `align`, whose fields add
/// up to `fields_size` bytes, is larger than the same fields ordered by
/// decreasing alignment (which leaves no padding between them).
pub const fn padding_reorder_removes(size: usize, align: usize, fields_size: usize) -> bool {
    let align = if align == 0 { 1 } else { align };
    let optimal = fields_size.div_ceil(align) * align;
    size > optimal
}
