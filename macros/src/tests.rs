//! Unit tests of the expansion, without the runtime.

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand;

fn expand_str(input: TokenStream) -> String {
    expand(input).to_string()
}

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

#[test]
fn concrete_struct() {
    let out = expand_str(quote! {
        pub struct User { id: u64, name: String }
    });
    items(quote!(
        pub struct User {
            id: u64,
            name: String,
        }
    ));
    assert!(out.contains("pub type UserStore < K , S = :: mapstore :: __private :: DefaultHashBuilder > = :: mapstore :: __private :: MapStore < K , User , S >"), "{out}");
    assert!(out.contains("const __PLAN : :: mapstore :: __private :: Plan = :: mapstore :: __private :: Plan :: new (\"User\" , :: mapstore :: __private :: core :: mem :: size_of :: < User > ()"), "{out}");
    assert!(out.contains("& [\"name\"]"), "{out}");
    assert!(
        out.contains(":: mapstore :: __private :: core :: option :: Option :: None"),
        "{out}"
    );
    assert!(out.contains("type Storage = < :: mapstore :: __private :: Select < { :: mapstore :: __private :: kind_of (& __PLAN) } > as :: mapstore :: __private :: Pick > :: S"), "{out}");
    assert!(
        out.contains(
            "Warn :: < { :: mapstore :: __private :: zero_sized (& __PLAN) } > :: ZERO_SIZED"
        ),
        "{out}"
    );
    assert!(!out.contains("PADDING"), "{out}");
    assert!(!out.contains("Explain"), "{out}");
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn lifetimes_become_static_in_consts() {
    let input = quote! {
        pub(crate) struct View<'a, 'b: 'a> { a: &'a str, b: &'b [u8] }
    };
    items(input.clone());
    let out = expand_str(input);
    assert!(
        out.contains("size_of :: < View < 'static , 'static > > ()"),
        "{out}"
    );
    assert!(
        out.contains(
            "impl < 'a , 'b : 'a > :: mapstore :: __private :: MapValue for View < 'a , 'b >"
        ),
        "{out}"
    );
    assert!(
        out.contains("pub (crate) type ViewStore < 'a , 'b , K , S"),
        "{out}"
    );
    assert!(
        out.contains("MapStore < K , View < 'a , 'b > , S >"),
        "{out}"
    );
    assert!(out.contains("\"View<'a, 'b>\""), "{out}");
    assert!(out.contains("& [\"a\" , \"b\"]"), "{out}");
}

#[test]
fn tuple_unit_and_enum() {
    let out = expand_str(quote!(
        struct Pair(u8, Box<u8>);
    ));
    assert!(out.contains("& [\"1\"]"), "{out}");
    let out = expand_str(quote!(
        struct Unit;
    ));
    assert!(out.contains("& []"), "{out}");
    let out = expand_str(quote! {
        enum Shape { Circle { r: f32 }, Named(String), Pair(u8, Vec<u8>), #[cfg(any())] Gone(Box<u8>) }
    });
    assert!(
        out.contains("& [\"Named.0\" , \"Pair.1\" , # [cfg (any ())] \"Gone.0\"]"),
        "{out}"
    );
    assert!(!out.contains("PADDING"), "{out}");
}

#[test]
fn cfg_fields_keep_their_cfg() {
    let out = expand_str(quote! {
        #[repr(C)]
        struct S { a: u8, #[cfg(feature = "x")] b: Vec<u8>, c: u64 }
    });
    assert!(out.contains("# [cfg (feature = \"x\")] \"b\""), "{out}");
    assert!(out.contains("# [cfg (feature = \"x\")] :: mapstore :: __private :: core :: mem :: size_of :: < Vec < u8 > > ()"), "{out}");
    assert!(out.contains("PADDING"), "{out}");
}

#[test]
fn padding_only_for_repr_c_structs() {
    for input in [
        quote!(
            #[repr(C, packed)]
            struct S {
                a: u8,
                b: u64,
            }
        ),
        quote!(
            #[repr(C)]
            struct S {
                a: u64,
            }
        ),
        quote!(
            struct S {
                a: u8,
                b: u64,
            }
        ),
        quote!(
            #[repr(C)]
            #[map_store(allow(padding))]
            struct S {
                a: u8,
                b: u64,
            }
        ),
        quote!(
            #[repr(C)]
            #[map_store(storage = "inline")]
            struct S<T> {
                a: u8,
                b: T,
            }
        ),
    ] {
        let out = expand_str(input);
        assert!(!out.contains("PADDING"), "{out}");
    }
    let out = expand_str(quote!(
        #[repr(C, align(16))]
        struct S<'a> {
            a: u8,
            b: &'a Self,
        }
    ));
    assert!(out.contains("PADDING"), "{out}");
    assert!(
        out.contains("size_of :: < & 'static S < 'static > > ()"),
        "{out}"
    );
}

#[test]
fn forced_storage_and_warnings() {
    let out = expand_str(quote! {
        #[map_store(storage = "boxed", explain)]
        struct S { a: u8 }
    });
    assert!(
        out.contains("Option :: Some (:: mapstore :: __private :: StorageKind :: Boxed)"),
        "{out}"
    );
    assert!(out.contains("BOXED_SMALL_VALUE"), "{out}");
    assert!(!out.contains("INLINE_LARGE_VALUE"), "{out}");
    for name in [":: INLINE ;", ":: POOLED ;", ":: BOXED ;"] {
        assert!(out.contains(name), "{name} in {out}");
    }
    let out = expand_str(quote! {
        #[map_store(storage = "inline", allow(slow_storage, zero_sized))]
        struct S { a: u8 }
    });
    assert!(!out.contains("INLINE_LARGE_VALUE"), "{out}");
    assert!(!out.contains("ZERO_SIZED"), "{out}");
    let out = expand_str(quote!(
        #[map_store(storage = "inline")]
        struct S;
    ));
    assert!(out.contains("INLINE_LARGE_VALUE"), "{out}");
}

#[test]
fn generic_types_name_their_storage() {
    let input = quote! {
        #[map_store(storage = "pooled", explain)]
        pub struct Slot<'a, K: Clone, const N: usize = 4, S = u8> where K: Copy { k: &'a K, s: [S; N] }
    };
    items(input.clone());
    let out = expand_str(input);
    assert!(out.contains("pub type SlotStore < 'a , K , const N : usize , S , K1 , S1 = :: mapstore :: __private :: DefaultHashBuilder > = :: mapstore :: __private :: MapStore < K1 , Slot < 'a , K , N , S > , S1 >"), "{out}");
    assert!(
        out.contains("type Storage = :: mapstore :: __private :: Pooled ;"),
        "{out}"
    );
    assert!(out.contains("size_of :: < Self > ()"), "{out}");
    assert!(out.contains("\"Slot<'a, K, N, S>\""), "{out}");
    assert!(out.contains("Explain :: < true > :: POOLED"), "{out}");
    assert!(!out.contains("ZERO_SIZED"), "{out}");
    assert!(!out.contains("__PLAN"), "{out}");
}

#[test]
fn store_crate_and_no_store() {
    let out = expand_str(quote! {
        #[map_store(store = "Users", crate = "my::reexport")]
        struct User;
    });
    assert!(
        out.contains("type Users < K , S = my :: reexport :: __private :: DefaultHashBuilder >"),
        "{out}"
    );
    assert!(!out.contains(":: mapstore"), "{out}");
    let out = expand_str(quote!(
        #[map_store(no_store)]
        struct User;
    ));
    assert!(!out.contains("type UserStore"), "{out}");
    let out = expand_str(quote!(
        struct r#type {
            r#struct: Box<u8>,
        }
    ));
    assert!(out.contains("type typeStore"), "{out}");
    assert!(out.contains("& [\"struct\"]"), "{out}");
    assert!(out.contains("MapValue for r#type"), "{out}");
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
            "`#[derive(MapStore)]` cannot pick a storage for the generic type `U<T>`: its size depends on its parameters\nhelp: choose one with `#[map_store(storage = \"inline\")]`, `\"pooled\"` or `\"boxed\"`",
        ]
    );
}

#[test]
fn errors_come_with_a_fallback_impl() {
    let out = expand_str(quote!(
        struct W<T> {
            t: T,
        }
    ));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("type Storage = :: mapstore :: __private :: Inline ;"),
        "{out}"
    );
    assert!(
        out.contains("pub type WStore") || out.contains("type WStore"),
        "{out}"
    );
    let out = expand_str(quote!(
        #[map_store(storage = 1)]
        struct W;
    ));
    assert!(out.contains("compile_error"), "{out}");
    items(quote!(
        #[map_store(storage = 1)]
        struct W;
    ));
    items(quote!(union U { a: u8 }));
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
