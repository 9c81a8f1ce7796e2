//! Unit tests of the expansion, without the runtime.
//!
//! # Golden files
//!
//! What the derive generates is pinned by golden files: each case of
//! [`golden_cases`] is an input (a type with its attributes) whose expansion
//! is parsed as a `syn::File`, pretty-printed by `prettyplease` and compared
//! with `macros/tests/expand/<case>.expanded.rs`. Each file starts with its
//! input as a comment. A missing file, a different file, or a file that no
//! case names fails the test.
//!
//! After changing the expansion on purpose, re-bless every golden file with
//! one command, then review the diff:
//!
//! ```text
//! MAPSTORE_BLESS=1 cargo test -p mapstore-macros
//! git diff macros/tests/expand
//! ```
//!
//! Blessing writes the files that differ, creates missing ones and deletes
//! those that no case names (add `-- --nocapture` to list them). To add a case, add a line to [`golden_cases`]
//! and bless.
//!
//! The other tests check what text cannot: the exact error messages, that
//! every expansion parses as items, and that no input makes the derive panic.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use crate::expand;

/// The variable that turns checking golden files into rewriting them.
const BLESS_VAR: &str = "MAPSTORE_BLESS";

/// The command that re-blesses the golden files, for failure messages.
const BLESS_COMMAND: &str = "MAPSTORE_BLESS=1 cargo test -p mapstore-macros";

/// The suffix of a golden file's name, after the case's name.
const GOLDEN_SUFFIX: &str = ".expanded.rs";

/// The `compile_error!` messages of an expansion.
fn errors(input: TokenStream) -> Vec<String> {
    let input: syn::DeriveInput = syn::parse2(input).expect("valid input");
    let cx = crate::ctxt::Ctxt::new();
    let parsed = crate::ast::Input::from_syn(&cx, &input);
    crate::valid::check(&cx, &parsed);
    cx.into_errors()
}

/// Parses the expansion as items: it must always be valid Rust.
fn items(input: TokenStream) -> syn::File {
    syn::parse2(expand(input)).expect("the expansion parses as items")
}

/// Every input whose expansion is pinned by a golden file, by case name
/// (the file's name without `.expanded.rs`).
fn golden_cases() -> Vec<(&'static str, TokenStream)> {
    vec![
        // Shapes.
        (
            "plain_struct",
            quote! {
                pub struct User { id: u64, name: String }
            },
        ),
        (
            "tuple_struct",
            quote!(
                struct Pair(u8, Box<u8>);
            ),
        ),
        (
            "unit_struct",
            quote!(
                struct Unit;
            ),
        ),
        (
            "enum",
            quote! {
                enum Shape {
                    Circle { r: f32 },
                    Named(String),
                    Pair(u8, Vec<u8>),
                    #[cfg(any())]
                    Gone(Box<u8>),
                }
            },
        ),
        (
            "lifetimes",
            quote! {
                pub(crate) struct View<'a, 'b: 'a> { a: &'a str, b: &'b [u8] }
            },
        ),
        (
            "cfg_fields",
            quote! {
                #[repr(C)]
                struct S { a: u8, #[cfg(feature = "x")] b: Vec<u8>, c: u64 }
            },
        ),
        (
            "raw_identifiers",
            quote! {
                struct r#type { r#struct: Box<u8> }
            },
        ),
        // Generic types: the storage is forced, the layout read from `Self`.
        (
            "generic_pooled_explain",
            quote! {
                #[map_store(storage = "pooled", explain)]
                pub struct Slot<'a, K: Clone, const N: usize = 4, S = u8> where K: Copy {
                    k: &'a K,
                    s: [S; N],
                }
            },
        ),
        (
            "generic_repr_c_inline",
            quote! {
                #[repr(C)]
                #[map_store(storage = "inline")]
                struct S<T> { a: u8, b: T }
            },
        ),
        // Padding: warned for repr(C) structs only.
        (
            "repr_c_padding",
            quote! {
                #[repr(C, align(16))]
                struct S<'a> { a: u8, b: &'a Self }
            },
        ),
        (
            "repr_c_packed_no_padding",
            quote! {
                #[repr(C, packed)]
                struct S { a: u8, b: u64 }
            },
        ),
        (
            "repr_c_one_field_no_padding",
            quote! {
                #[repr(C)]
                struct S { a: u64 }
            },
        ),
        (
            "repr_c_allow_padding",
            quote! {
                #[repr(C)]
                #[map_store(allow(padding))]
                struct S { a: u8, b: u64 }
            },
        ),
        (
            "repr_rust_no_padding",
            quote! {
                struct S { a: u8, b: u64 }
            },
        ),
        // Forced storages and their warnings.
        (
            "forced_inline",
            quote! {
                #[map_store(storage = "inline")]
                struct S;
            },
        ),
        (
            "forced_boxed",
            quote! {
                #[map_store(storage = "boxed")]
                struct S { a: u8 }
            },
        ),
        (
            "forced_pooled",
            quote! {
                #[map_store(storage = "pooled")]
                struct S { a: [u8; 64] }
            },
        ),
        (
            "forced_inline_allowed",
            quote! {
                #[map_store(storage = "inline", allow(slow_storage, zero_sized))]
                struct S { a: u8 }
            },
        ),
        // Explanations.
        (
            "explain",
            quote! {
                #[map_store(explain)]
                struct S { a: u8, b: String }
            },
        ),
        (
            "explain_forced_boxed",
            quote! {
                #[map_store(storage = "boxed", explain)]
                struct S { a: u8 }
            },
        ),
        // The alias and the crate's path.
        (
            "store_rename",
            quote! {
                #[map_store(store = "Users")]
                pub struct User { id: u64 }
            },
        ),
        (
            "no_store",
            quote! {
                #[map_store(no_store)]
                struct User;
            },
        ),
        (
            "crate_path",
            quote! {
                #[map_store(store = "Users", crate = "my::reexport")]
                struct User;
            },
        ),
        // Errors, followed by the fallback impl and alias.
        (
            "error_generic_without_storage",
            quote! {
                pub struct W<T> { t: T }
            },
        ),
        (
            "error_bad_storage_value",
            quote! {
                #[map_store(storage = 1)]
                struct W;
            },
        ),
        (
            "error_bad_storage_forced_kept",
            quote! {
                #[map_store(storage = "pooled", stroage = "inline")]
                struct W { a: u8 }
            },
        ),
        ("error_union", quote!(union U { a: u8 })),
        (
            "optimize_reads_explain",
            quote! {
                #[map_store(optimize = "reads", explain)]
                struct Row { id: u64 }
            },
        ),
        (
            "forced_boxed_memory",
            quote! {
                #[map_store(storage = "boxed", optimize = "memory")]
                struct Token { bytes: [u8; 32] }
            },
        ),
    ]
}

/// Whether this run rewrites golden files instead of checking them.
fn blessing() -> bool {
    std::env::var_os(BLESS_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// `macros/tests/expand`.
fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand")
}

/// A golden file's path as the workspace names it (`macros/tests/...`).
fn shown(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(""));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Prefixes each line of `text` with `// `, for the input header.
fn commented(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                "//\n".to_string()
            } else {
                format!("// {line}\n")
            }
        })
        .collect()
}

/// The golden text of one case: a header naming the case and its input,
/// then the pretty-printed expansion.
fn golden_text(case: &str, input: &TokenStream) -> String {
    let input_file: syn::File = syn::parse2(input.clone())
        .unwrap_or_else(|err| panic!("case `{case}`: the input is not an item ({err})"));
    let expansion = expand(input.clone());
    let file: syn::File = syn::parse2(expansion.clone()).unwrap_or_else(|err| {
        panic!("case `{case}`: the expansion does not parse as items ({err}):\n{expansion}")
    });
    let mut text = format!(
        "// The expansion of case `{case}` in macros/src/tests.rs. Generated: re-bless with\n\
         // {BLESS_COMMAND}\n\
         //\n\
         // Input of #[derive(MapStore)]:\n\
         //\n"
    );
    text += &commented(&prettyplease::unparse(&input_file));
    text += "\n";
    text += &prettyplease::unparse(&file);
    text
}

/// A line diff of `old` (the golden file) against `new` (the expansion),
/// as hunks with two lines of context: longest common subsequence, enough
/// for files of a few hundred lines.
fn line_diff(old: &str, new: &str) -> String {
    const CONTEXT: usize = 2;
    const MAX_LINES: usize = 120;
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // lcs[i][j]: the length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Each line of the edit script: (tag, line in the golden file, text).
    let mut script: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            script.push((' ', i + 1, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            script.push(('-', i + 1, a[i]));
            i += 1;
        } else {
            script.push(('+', i + 1, b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..script.len()).filter(|&k| script[k].0 != ' ').collect();
    let mut out = String::new();
    let mut printed = 0;
    let mut last_end = None;
    for &k in &changed {
        let start = k.saturating_sub(CONTEXT);
        let end = (k + CONTEXT + 1).min(script.len());
        let from = match last_end {
            Some(last) if start <= last => last,
            _ => {
                let _ = writeln!(out, "@@ golden line {} @@", script[start].1);
                start
            }
        };
        for (tag, _, line) in &script[from..end] {
            if printed == MAX_LINES {
                out += "... (diff cut)\n";
                return out;
            }
            let _ = writeln!(out, "{tag} {line}");
            printed += 1;
        }
        last_end = Some(end.max(from));
    }
    if out.is_empty() && old != new {
        out += "(the files differ only in line endings or a final newline)\n";
    }
    out
}

/// Checks (or, when blessing, writes) the golden file of each case, and
/// reports every problem at once.
fn check_golden_files(cases: &[(&str, TokenStream)], dir: &Path, bless: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut names: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "golden case names must be unique");
    if bless {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    }
    for (case, input) in cases {
        let path = dir.join(format!("{case}{GOLDEN_SUFFIX}"));
        let actual = golden_text(case, input);
        let expected = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text.replace("\r\n", "\n")),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => panic!("cannot read {}: {err}", shown(&path)),
        };
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            std::fs::write(&path, &actual)
                .unwrap_or_else(|err| panic!("cannot write {}: {err}", shown(&path)));
            eprintln!("blessed {}", shown(&path));
            continue;
        }
        problems.push(match expected {
            None => format!(
                "golden file {} is missing (case `{case}`); create it with\n    {BLESS_COMMAND}",
                shown(&path)
            ),
            Some(expected) => format!(
                "golden file {} differs from the expansion of case `{case}` \
                 (- golden, + expansion):\n{}",
                shown(&path),
                line_diff(&expected, &actual).trim_end()
            ),
        });
    }
    // Files no case names: stale after a rename or a removal.
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return problems,
        Err(err) => panic!("cannot list {}: {err}", dir.display()),
    };
    let mut stale: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
            file.strip_suffix(GOLDEN_SUFFIX)
                .is_some_and(|case| !names.contains(&case))
        })
        .collect();
    stale.sort();
    for path in stale {
        if bless {
            std::fs::remove_file(&path)
                .unwrap_or_else(|err| panic!("cannot remove {}: {err}", shown(&path)));
            eprintln!("removed {}", shown(&path));
        } else {
            problems.push(format!(
                "golden file {} belongs to no case; remove it, or re-bless with\n    {BLESS_COMMAND}",
                shown(&path)
            ));
        }
    }
    problems
}

#[test]
fn expansions_match_golden_files() {
    let problems = check_golden_files(&golden_cases(), &golden_dir(), blessing());
    assert!(
        problems.is_empty(),
        "{}\n\n{} golden file problem(s). If the new expansion is intended, re-bless with\n    \
         {BLESS_COMMAND}\nand review `git diff macros/tests/expand`.",
        problems.join("\n\n"),
        problems.len()
    );
}

/// The golden-file check itself: a missing file fails unless blessing,
/// a changed one fails with a diff, a stale one fails, and blessing makes
/// all of them pass. Runs in a temporary directory of its own.
#[test]
fn golden_files_fail_when_missing_changed_or_stale() {
    let dir = std::env::temp_dir().join(format!(
        "mapstore-macros-golden-selftest-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the self-test directory");
    let cases = [(
        "unit",
        quote!(
            struct Unit;
        ),
    )];

    let missing = check_golden_files(&cases, &dir, false);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("is missing"), "{missing:?}");
    assert!(missing[0].contains(BLESS_COMMAND), "{missing:?}");

    assert!(check_golden_files(&cases, &dir, true).is_empty());
    assert!(check_golden_files(&cases, &dir, false).is_empty());

    let path = dir.join(format!("unit{GOLDEN_SUFFIX}"));
    let blessed = std::fs::read_to_string(&path).expect("blessed file");
    assert!(blessed.contains("// struct Unit;"), "{blessed}");
    let edited = blessed.replace("UnitStore", "OtherStore");
    assert_ne!(edited, blessed, "the alias is in the golden file");
    std::fs::write(&path, &edited).expect("edit the golden file");
    let changed = check_golden_files(&cases, &dir, false);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].contains("differs"), "{changed:?}");
    assert!(
        changed[0].contains("- pub type OtherStore") || changed[0].contains("- type OtherStore"),
        "{changed:?}"
    );
    assert!(changed[0].contains("+ type UnitStore"), "{changed:?}");

    std::fs::write(dir.join(format!("gone{GOLDEN_SUFFIX}")), "").expect("stale file");
    let stale = check_golden_files(&cases, &dir, false);
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(stale[1].contains("belongs to no case"), "{stale:?}");

    assert!(check_golden_files(&cases, &dir, true).is_empty());
    assert!(check_golden_files(&cases, &dir, false).is_empty());
    assert!(!dir.join(format!("gone{GOLDEN_SUFFIX}")).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn line_diff_shows_changed_lines_with_context() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
    let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n";
    assert_eq!(
        line_diff(old, new),
        "@@ golden line 2 @@\n  b\n  c\n- d\n+ D\n  e\n  f\n\
         @@ golden line 9 @@\n  i\n  j\n+ k\n"
    );
    // Changes closer than twice the context share one hunk.
    assert_eq!(
        line_diff("a\nb\nc\nd\n", "a\nB\nc\nD\n"),
        "@@ golden line 1 @@\n  a\n- b\n+ B\n  c\n- d\n+ D\n"
    );
    assert_eq!(line_diff(old, old), "");
    assert_eq!(
        line_diff("a\n", "a"),
        "(the files differ only in line endings or a final newline)\n"
    );
}

/// Every path into the runtime goes through `crate = "..."` when it is
/// given: no `mapstore` identifier is left in the expansion.
#[test]
fn crate_path_replaces_every_mapstore_path() {
    fn idents(tokens: TokenStream, out: &mut Vec<String>) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => out.push(ident.to_string()),
                TokenTree::Group(group) => idents(group.stream(), out),
                _ => {}
            }
        }
    }
    for input in [
        quote! {
            #[map_store(crate = "my::reexport", explain)]
            #[repr(C)]
            struct User { a: u8, b: u64, name: String }
        },
        quote! {
            #[map_store(crate = "my::reexport", storage = "boxed", explain)]
            pub struct Slot<T> { t: T }
        },
        quote! {
            #[map_store(crate = "my::reexport", storage = 1)]
            struct Bad;
        },
    ] {
        let out = expand(input);
        let mut names = Vec::new();
        idents(out.clone(), &mut names);
        assert!(names.iter().any(|n| n == "reexport"), "{out}");
        assert!(!names.iter().any(|n| n == "mapstore"), "{out}");
    }
}

#[test]
fn a_generic_type_without_a_storage_key_is_told_to_add_one() {
    assert_eq!(
        errors(quote! {
            #[map_store(explain)]
            struct W<T> { a: T }
        }),
        ["`#[derive(MapStore)]` cannot pick a storage for the generic type `W<T>`: its size depends on its parameters\nhelp: choose one with `#[map_store(storage = \"inline\")]`, `\"pooled\"` or `\"boxed\"`"]
    );
}

#[test]
fn errors_are_collected_and_spanned() {
    assert_eq!(
        errors(quote! {
            #[map_store(stroage = "inline", storage = "heap")]
            #[map_store(store = "a b", no_store, crate = 5)]
            union U<T> { a: T }
        }),
        [
            "unknown `map_store` key `stroage`, did you mean `storage`?",
            "unknown storage `\"heap\"`: expected `\"inline\"`, `\"boxed\"` or `\"pooled\"`",
            "`store` must name an identifier, found `\"a b\"`",
            "expected a string literal for `crate`, like `crate = \"my_crate::mapstore\"`",
            "`#[derive(MapStore)]` does not support unions: implement `MapValue` by hand, or use `InlineMap`, `BoxedMap` or `PooledMap`, which take any value",
        ]
    );
}

#[test]
fn fallback_expansions_are_items() {
    for input in [
        quote!(
            struct W<T> {
                t: T,
            }
        ),
        quote!(
            #[map_store(storage = 1)]
            struct W;
        ),
        quote!(union U { a: u8 }),
    ] {
        let file = items(input.clone());
        assert!(
            file.items
                .iter()
                .any(|item| matches!(item, syn::Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error"))),
            "no compile_error! for {input}"
        );
    }
}

#[test]
fn never_panics_on_odd_input() {
    for input in [
        quote!(),
        quote!(
            fn f() {}
        ),
        quote!(struct),
        quote!(
            #[map_store(,)]
            struct S;
        ),
        quote!(
            #[map_store(storage)]
            struct S;
        ),
        quote!(
            #[map_store(allow())]
            struct S;
        ),
        quote!(
            #[map_store(allow(slow_storage, slow_storage))]
            struct S;
        ),
        quote!(
            #[map_store(storage = "inline" "boxed")]
            struct S;
        ),
        quote!(
            #[map_store(a::b = "c")]
            struct S;
        ),
        quote!(
            #[map_store = "x"]
            struct S;
        ),
        quote!(
            #[repr]
            #[repr(C(x))]
            struct S {
                a: u8,
                b: u16,
            }
        ),
        quote!(
            enum E {}
        ),
        quote!(
            struct S<T: ?Sized>(Box<T>);
        ),
    ] {
        let _ = expand(input);
    }
}

/// A small deterministic generator (xorshift64*), so the corpus is the same
/// on every run and any failure names its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One derive input: a struct, enum or union of a random shape, under a
/// random soup of `map_store` attributes (valid, invalid and malformed).
fn generated_input(g: &mut Gen) -> String {
    const FIELD_TYPES: &[&str] = &[
        "u8",
        "u64",
        "String",
        "&'a str",
        "Vec<T>",
        "[u8; 300]",
        "Box<dyn Fn()>",
        "*const u8",
        "Option<std::rc::Rc<u8>>",
        "(u8, String)",
        "[Vec<u8>; 2]",
        "core::marker::PhantomData<T>",
        "Self",
        "[u8; N]",
    ];
    const ATTRS: &[&str] = &[
        "storage = \"inline\"",
        "storage = \"boxed\"",
        "storage = \"pooled\"",
        "storage = \"bogus\"",
        "storage = 1",
        "storage",
        "store = \"Users\"",
        "store = \"1x\"",
        "store = Users",
        "no_store",
        "explain",
        "explain = \"yes\"",
        "crate = \"::mapstore\"",
        "crate = \"a b\"",
        "crate = 5",
        "allow(slow_storage)",
        "allow(zero_sized, padding)",
        "allow(everything)",
        "allow",
        "stroage = \"inline\"",
        "a::b = \"c\"",
        "",
        ",",
    ];
    const GENERICS: &[&str] = &[
        "",
        "",
        "<'a>",
        "<T>",
        "<'a, T: Clone>",
        "<const N: usize>",
        "<K, S>",
        "<T = u8>",
    ];
    const REPRS: &[&str] = &[
        "",
        "",
        "#[repr(C)]",
        "#[repr(C, packed)]",
        "#[repr(align(8))]",
        "#[repr(transparent)]",
        "#[repr(u8)]",
    ];
    let field = |g: &mut Gen| g.pick(FIELD_TYPES).to_string();
    let mut attrs = String::new();
    for _ in 0..g.below(3) {
        let keys: Vec<&str> = (0..g.below(4)).map(|_| g.pick(ATTRS)).collect();
        attrs += &format!("#[map_store({})]\n", keys.join(", "));
    }
    let generics = g.pick(GENERICS);
    let repr = g.pick(REPRS);
    let vis = g.pick(&["", "pub ", "pub(crate) "]);
    let body = match g.below(5) {
        0 => format!("struct Subject{generics};"),
        1 => {
            let fields: Vec<String> = (0..g.below(4)).map(|_| field(g)).collect();
            format!("struct Subject{generics}({});", fields.join(", "))
        }
        2 => {
            let fields: Vec<String> = (0..g.below(5))
                .map(|i| format!("f{i}: {}", field(g)))
                .collect();
            format!("struct Subject{generics} {{ {} }}", fields.join(", "))
        }
        3 => {
            let variants: Vec<String> = (0..g.below(4))
                .map(|i| match g.below(3) {
                    0 => format!("V{i}"),
                    1 => format!("V{i}({})", field(g)),
                    _ => format!("V{i} {{ x: {} }}", field(g)),
                })
                .collect();
            format!("enum Subject{generics} {{ {} }}", variants.join(", "))
        }
        _ => format!("union Subject{generics} {{ a: u8, b: {} }}", field(g)),
    };
    format!("{attrs}{repr}\n{vis}{body}")
}

#[test]
fn never_panics_on_a_generated_corpus() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let (mut expanded, mut rejected) = (0, 0);
    for case in 0..3000 {
        let source = generated_input(&mut g);
        let Ok(tokens) = source.parse::<TokenStream>() else {
            continue;
        };
        if syn::parse2::<syn::DeriveInput>(tokens.clone()).is_err() {
            continue;
        }
        let out = std::panic::catch_unwind(|| expand(tokens))
            .unwrap_or_else(|_| panic!("case {case} panicked:\n{source}"));
        let file: syn::File = syn::parse2(out.clone())
            .unwrap_or_else(|err| panic!("case {case}: not Rust items ({err}):\n{source}\n{out}"));
        let text = out.to_string();
        let has_error = text.contains("compile_error");
        let has_impl = file.items.iter().any(|item| match item {
            syn::Item::Const(item) => quote!(#item).to_string().contains("MapValue"),
            syn::Item::Impl(_) => true,
            _ => false,
        });
        assert!(
            has_error || has_impl,
            "case {case}: neither an impl nor an error:\n{source}\n{out}"
        );
        if has_error {
            rejected += 1;
        } else {
            expanded += 1;
        }
    }
    // The corpus exercises both outcomes, not just one of them.
    assert!(expanded > 300, "{expanded} expanded");
    assert!(rejected > 300, "{rejected} rejected");
}
