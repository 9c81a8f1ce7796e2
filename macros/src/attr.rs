//! Parsing of `#[map_store(...)]`.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta, Path, Token};

use crate::ctxt::{did_you_mean, Ctxt};

/// The keys `#[map_store(...)]` accepts.
pub(crate) const KEYS: &[&str] = &[
    "storage", "store", "no_store", "optimize", "explain", "crate", "allow",
];

/// The values `storage = "..."` accepts.
pub(crate) const STORAGES: &[&str] = &["inline", "boxed", "pooled"];

const STORAGE_EXAMPLE: &str = "storage = \"inline\"`, `\"pooled\"` or `\"boxed\"";

/// The values `optimize = "..."` accepts.
pub(crate) const GOALS: &[&str] = &["balanced", "reads", "writes", "memory"];

const GOAL_EXAMPLE: &str = "optimize = \"reads\"";

/// The goal named by `optimize = "..."`: the `Optimize` variant the policy
/// chooses for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Goal {
    #[default]
    Balanced,
    Reads,
    Writes,
    Memory,
}

impl Goal {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "balanced" => Some(Goal::Balanced),
            "reads" => Some(Goal::Reads),
            "writes" => Some(Goal::Writes),
            "memory" => Some(Goal::Memory),
            _ => None,
        }
    }

    /// The `Optimize` variant's name.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Goal::Balanced => "Balanced",
            Goal::Reads => "Reads",
            Goal::Writes => "Writes",
            Goal::Memory => "Memory",
        }
    }

    /// The name in `optimize = "..."`, also the runtime's notes module for
    /// this goal (`__private::reads`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Goal::Balanced => "balanced",
            Goal::Reads => "reads",
            Goal::Writes => "writes",
            Goal::Memory => "memory",
        }
    }
}

/// The warnings `allow(...)` can silence.
pub(crate) const ALLOWS: &[&str] = &["slow_storage", "zero_sized", "padding"];

/// A storage forced with `storage = "..."`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StorageKind {
    Inline,
    Boxed,
    Pooled,
}

impl StorageKind {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "inline" => Some(StorageKind::Inline),
            "boxed" => Some(StorageKind::Boxed),
            "pooled" => Some(StorageKind::Pooled),
            _ => None,
        }
    }

    /// The variant's name in `StorageKind` and the storage type's name.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            StorageKind::Inline => "Inline",
            StorageKind::Boxed => "Boxed",
            StorageKind::Pooled => "Pooled",
        }
    }
}

/// The forced storage with the span of its value.
#[derive(Clone, Copy)]
pub(crate) struct Storage {
    pub(crate) kind: StorageKind,
    pub(crate) value_span: Span,
}

/// `#[map_store(...)]`, every attribute of the type merged.
#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) storage: Option<Storage>,
    /// `store = "Name"`: the alias name.
    pub(crate) store: Option<Ident>,
    /// `no_store`, with its span.
    pub(crate) no_store: Option<Span>,
    /// `optimize = "..."`, when given.
    pub(crate) optimize: Option<Goal>,
    /// `explain`, with its span.
    pub(crate) explain: Option<Span>,
    /// `crate = "path"`.
    pub(crate) krate: Option<Path>,
    /// `allow(slow_storage)`.
    pub(crate) allow_slow_storage: bool,
    /// `allow(zero_sized)`.
    pub(crate) allow_zero_sized: bool,
    /// `allow(padding)`.
    pub(crate) allow_padding: bool,
    /// A `storage` key was written, valid or not (or an unknown key that
    /// reads as a misspelt `storage`): its own error is enough, and a
    /// generic type is not told to add one.
    pub(crate) storage_written: bool,
}

/// Keys seen so far, to report duplicates.
#[derive(Default)]
struct Seen {
    keys: Vec<String>,
    allows: Vec<String>,
}

/// Parses every `#[map_store(...)]` attribute, recording each error in `cx`.
pub(crate) fn parse(cx: &Ctxt, attrs: &[Attribute]) -> Attrs {
    let mut out = Attrs::default();
    let mut seen = Seen::default();
    for attr in attrs {
        if !attr.path().is_ident("map_store") {
            continue;
        }
        let list = match &attr.meta {
            Meta::List(list) if !matches!(list.delimiter, syn::MacroDelimiter::Paren(_)) => {
                cx.error_spanned_by(
                    &attr.meta,
                    "expected `#[map_store(...)]` with arguments in parentheses, like `#[map_store(storage = \"pooled\")]`",
                );
                continue;
            }
            Meta::List(list) if list.tokens.is_empty() => {
                cx.error_spanned_by(
                    &attr.meta,
                    "empty `map_store` attribute\nhelp: give it a key, like `#[map_store(storage = \"pooled\")]`, or remove it",
                );
                continue;
            }
            Meta::List(list) => list,
            other => {
                cx.error_spanned_by(
                    other,
                    "expected `#[map_store(...)]` with arguments in parentheses, like `#[map_store(storage = \"pooled\")]`",
                );
                continue;
            }
        };
        let metas = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
            Ok(metas) => metas,
            Err(err) => {
                cx.push(err);
                continue;
            }
        };
        for meta in &metas {
            parse_meta(cx, meta, &mut out, &mut seen);
        }
    }
    if let (Some(_), Some(span)) = (&out.store, out.no_store) {
        cx.error_at(span, "`store` and `no_store` cannot be used together");
    }
    out
}

fn key_name(path: &Path) -> String {
    let mut name = String::new();
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            name.push_str("::");
        }
        name.push_str(&segment.ident.to_string());
    }
    name
}

fn parse_meta(cx: &Ctxt, meta: &Meta, out: &mut Attrs, seen: &mut Seen) {
    let path = meta.path();
    let key = key_name(path);
    if !KEYS.contains(&key.as_str()) {
        let close = did_you_mean(&key, KEYS);
        out.storage_written |= close == Some("storage");
        let message = match close {
            Some(close) => format!("unknown `map_store` key `{key}`, did you mean `{close}`?"),
            None => format!(
                "unknown `map_store` key `{key}`, expected one of `storage`, `store`, `no_store`, `optimize`, `explain`, `crate`, `allow`"
            ),
        };
        cx.error_spanned_by(path, message);
        return;
    }
    if seen.keys.contains(&key) {
        cx.error_spanned_by(path, format!("duplicate `map_store` key `{key}`"));
        return;
    }
    seen.keys.push(key.clone());
    match key.as_str() {
        "storage" => {
            out.storage_written = true;
            let Some(value) = string_value(cx, meta, "storage", STORAGE_EXAMPLE) else {
                return;
            };
            match StorageKind::from_name(&value.value()) {
                Some(kind) => {
                    out.storage = Some(Storage {
                        kind,
                        value_span: value.span(),
                    });
                }
                None => {
                    let found = value.value();
                    let hint = match did_you_mean(&found, STORAGES) {
                        Some(close) => format!(", did you mean `\"{close}\"`?"),
                        None => String::new(),
                    };
                    cx.error_at(
                        value.span(),
                        format!(
                            "unknown storage `\"{found}\"`: expected `\"inline\"`, `\"boxed\"` or `\"pooled\"`{hint}"
                        ),
                    );
                }
            }
        }
        "optimize" => {
            let Some(value) = string_value(cx, meta, "optimize", GOAL_EXAMPLE) else {
                return;
            };
            let found = value.value();
            match Goal::from_name(&found) {
                Some(goal) => out.optimize = Some(goal),
                None => {
                    let hint = match did_you_mean(&found, GOALS) {
                        Some(close) => format!(", did you mean `\"{close}\"`?"),
                        None => String::new(),
                    };
                    cx.error_at(
                        value.span(),
                        format!(
                            "unknown optimize goal `\"{found}\"`: expected `\"balanced\"` (the default), `\"reads\"`, `\"writes\"` or `\"memory\"`{hint}"
                        ),
                    );
                }
            }
        }
        "store" => {
            let Some(value) = string_value(cx, meta, "store", "store = \"UserMap\"") else {
                return;
            };
            match value.parse::<Ident>() {
                Ok(ident) => out.store = Some(ident),
                Err(_) => cx.error_at(
                    value.span(),
                    format!(
                        "`store` must name an identifier, found `\"{}\"`",
                        value.value()
                    ),
                ),
            }
        }
        "crate" => {
            let Some(value) = string_value(cx, meta, "crate", "crate = \"my_crate::mapstore\"")
            else {
                return;
            };
            match value.parse::<Path>() {
                Ok(path) => out.krate = Some(path),
                Err(_) => cx.error_at(
                    value.span(),
                    format!(
                        "`crate` must be a path, like `crate = \"my_crate::mapstore\"`, found `\"{}\"`",
                        value.value()
                    ),
                ),
            }
        }
        "no_store" => out.no_store = flag(cx, meta, "no_store"),
        "explain" => out.explain = flag(cx, meta, "explain"),
        "allow" => parse_allow(cx, meta, out, seen),
        _ => {}
    }
}

/// The string of `key = "..."`, or an error.
fn string_value(cx: &Ctxt, meta: &Meta, key: &str, example: &str) -> Option<LitStr> {
    match meta {
        Meta::NameValue(nv) => match ungrouped(&nv.value) {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.clone()),
            other => {
                cx.error_spanned_by(
                    other,
                    format!("expected a string literal for `{key}`, like `{example}`"),
                );
                None
            }
        },
        _ => {
            cx.error_spanned_by(meta, format!("`{key}` needs a value, like `{example}`"));
            None
        }
    }
}

/// `expr` without the invisible groups around it: a `macro_rules!`
/// fragment (`storage = $storage` with `$storage:literal` or `:expr`)
/// reaches the derive wrapped in one.
fn ungrouped(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// The span of a value-less key written as such, or an error.
fn flag(cx: &Ctxt, meta: &Meta, key: &str) -> Option<Span> {
    match meta {
        Meta::Path(path) => Some(path.span()),
        _ => {
            cx.error_spanned_by(meta, format!("`{key}` takes no value: write `{key}`"));
            None
        }
    }
}

fn parse_allow(cx: &Ctxt, meta: &Meta, out: &mut Attrs, seen: &mut Seen) {
    let list = match meta {
        Meta::List(list) => list,
        _ => {
            cx.error_spanned_by(
                meta,
                "expected `allow(...)` with warning names, like `allow(slow_storage, zero_sized, padding)`",
            );
            return;
        }
    };
    let names = match list.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated) {
        Ok(names) => names,
        Err(err) => {
            // `allow("padding")`: names, not strings.
            match list.parse_args_with(Punctuated::<LitStr, Token![,]>::parse_terminated) {
                Ok(strings) if !strings.is_empty() => {
                    let written: Vec<String> = strings.iter().map(LitStr::value).collect();
                    cx.error_spanned_by(
                        &list.tokens,
                        format!(
                            "`allow` takes warning names, not strings\nhelp: write `allow({})`",
                            written.join(", ")
                        ),
                    );
                }
                _ => cx.push(err),
            }
            return;
        }
    };
    if names.is_empty() {
        cx.error_spanned_by(
            meta,
            "`allow()` is empty: name the warnings to silence, like `allow(slow_storage, zero_sized, padding)`",
        );
    }
    for name_path in &names {
        let name = key_name(name_path);
        match name.as_str() {
            "slow_storage" => out.allow_slow_storage = true,
            "zero_sized" => out.allow_zero_sized = true,
            "padding" => out.allow_padding = true,
            _ => {
                let message = match did_you_mean(&name, ALLOWS) {
                    Some(close) => format!("unknown `map_store` warning `{name}`, did you mean `{close}`?"),
                    None => format!(
                        "unknown `map_store` warning `{name}`, expected one of `slow_storage`, `zero_sized`, `padding`"
                    ),
                };
                cx.error_spanned_by(name_path, message);
                continue;
            }
        }
        if seen.allows.contains(&name) {
            cx.error_spanned_by(name_path, format!("duplicate warning `{name}` in `allow`"));
        } else {
            seen.allows.push(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse_attrs(attrs: Vec<Attribute>) -> (Attrs, Vec<String>) {
        let cx = Ctxt::new();
        let parsed = parse(&cx, &attrs);
        let errors = cx.into_errors();
        (parsed, errors)
    }

    #[test]
    fn every_key() {
        let (attrs, errors) = parse_attrs(vec![
            parse_quote!(#[map_store(storage = "pooled", store = "Users", explain)]),
            parse_quote!(#[map_store(crate = "my::mapstore", allow(slow_storage, padding))]),
            parse_quote!(#[map_store(optimize = "memory")]),
            parse_quote!(#[derive(Clone)]),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(attrs.optimize, Some(Goal::Memory));
        assert_eq!(attrs.storage.map(|s| s.kind), Some(StorageKind::Pooled));
        assert_eq!(attrs.store.map(|s| s.to_string()).as_deref(), Some("Users"));
        assert!(attrs.explain.is_some());
        assert!(attrs.no_store.is_none());
        assert!(attrs.krate.is_some());
        assert!(attrs.allow_slow_storage && attrs.allow_padding && !attrs.allow_zero_sized);
    }

    #[test]
    fn all_errors_are_collected() {
        let (_, errors) = parse_attrs(vec![
            parse_quote!(#[map_store(stroage = "inline")]),
            parse_quote!(#[map_store(storage = "box", storage = "inline")]),
            parse_quote!(#[map_store(store = "not an ident", no_store)]),
            parse_quote!(#[map_store(crate = "1 + 1", explain = true, allow(paddin))]),
            parse_quote!(#[map_store(no_store, store = 5)]),
            parse_quote!(#[map_store]),
        ]);
        assert_eq!(
            errors,
            [
                "unknown `map_store` key `stroage`, did you mean `storage`?",
                "unknown storage `\"box\"`: expected `\"inline\"`, `\"boxed\"` or `\"pooled\"`, did you mean `\"boxed\"`?",
                "duplicate `map_store` key `storage`",
                "`store` must name an identifier, found `\"not an ident\"`",
                "`crate` must be a path, like `crate = \"my_crate::mapstore\"`, found `\"1 + 1\"`",
                "`explain` takes no value: write `explain`",
                "unknown `map_store` warning `paddin`, did you mean `padding`?",
                "duplicate `map_store` key `no_store`",
                "duplicate `map_store` key `store`",
                "expected `#[map_store(...)]` with arguments in parentheses, like `#[map_store(storage = \"pooled\")]`",
            ]
        );
    }

    #[test]
    fn every_goal_and_its_errors() {
        for (name, goal) in
            GOALS
                .iter()
                .zip([Goal::Balanced, Goal::Reads, Goal::Writes, Goal::Memory])
        {
            let attr: Attribute = syn::parse_str::<syn::DeriveInput>(&format!(
                "#[map_store(optimize = \"{name}\")] struct T;"
            ))
            .expect("an input")
            .attrs
            .remove(0);
            let (attrs, errors) = parse_attrs(vec![attr]);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(attrs.optimize, Some(goal));
            assert_eq!(goal.name(), *name);
        }
        let (attrs, errors) = parse_attrs(vec![parse_quote!(#[map_store(storage = "pooled")])]);
        assert!(errors.is_empty() && attrs.optimize.is_none());
        let (_, errors) = parse_attrs(vec![
            parse_quote!(#[map_store(optimize = "read", optimize = "memory")]),
            parse_quote!(#[map_store(optimise = "reads")]),
        ]);
        assert_eq!(
            errors,
            [
                "unknown optimize goal `\"read\"`: expected `\"balanced\"` (the default), `\"reads\"`, `\"writes\"` or `\"memory\"`, did you mean `\"reads\"`?",
                "duplicate `map_store` key `optimize`",
                "unknown `map_store` key `optimise`, did you mean `optimize`?",
            ]
        );
        let (_, errors) = parse_attrs(vec![parse_quote!(#[map_store(optimize = "fast")])]);
        assert_eq!(
            errors,
            ["unknown optimize goal `\"fast\"`: expected `\"balanced\"` (the default), `\"reads\"`, `\"writes\"` or `\"memory\"`"]
        );
        let (_, errors) = parse_attrs(vec![parse_quote!(#[map_store(optimize)])]);
        assert_eq!(
            errors,
            ["`optimize` needs a value, like `optimize = \"reads\"`"]
        );
    }

    #[test]
    fn conflicting_store_keys() {
        let (_, errors) = parse_attrs(vec![parse_quote!(#[map_store(store = "Users", no_store)])]);
        assert_eq!(errors, ["`store` and `no_store` cannot be used together"]);
    }

    #[test]
    fn non_string_values() {
        let (_, errors) = parse_attrs(vec![
            parse_quote!(#[map_store(storage = inline, crate, allow)]),
        ]);
        assert_eq!(
            errors,
            [
                "expected a string literal for `storage`, like `storage = \"inline\"`, `\"pooled\"` or `\"boxed\"`",
                "`crate` needs a value, like `crate = \"my_crate::mapstore\"`",
                "expected `allow(...)` with warning names, like `allow(slow_storage, zero_sized, padding)`",
            ]
        );
    }
}
