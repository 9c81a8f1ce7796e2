//! User items named like the paths the generated code uses.
#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod std {}
mod mapstore_like {}
struct Box;
struct Option;
struct Some;
struct None;
struct Plan;
struct Select;
trait Pick {}
trait MapValue {}
struct DefaultHashBuilder;
struct StorageKind;
struct Inline;
const __PLAN: u8 = 0;
fn size_of() {}

mod inner {
    // A user type named `MapStore` beside the derive.
    pub struct MapStore;

    #[derive(::mapstore::MapStore)]
    pub struct Value {
        pub x: u32,
        pub name: ::std::string::String,
    }

    #[derive(::mapstore::MapStore)]
    #[map_store(storage = "boxed")]
    pub struct Big {
        pub bytes: [u8; 70000],
    }
}

#[derive(::mapstore::MapStore)]
struct r#type {
    r#type: u8,
    r#struct: ::std::vec::Vec<u8>,
}

fn main() {
    let _ = inner::MapStore;
    let mut values: inner::ValueStore<u8> = ::mapstore::MapStore::new();
    values.insert(
        1,
        inner::Value {
            x: 5,
            name: "n".into(),
        },
    );
    assert_eq!(values.get(&1).map(|v| v.x), ::std::option::Option::Some(5));
    assert_eq!(
        values.get(&1).map(|v| v.name.len()),
        ::std::option::Option::Some(1)
    );
    let mut raw: typeStore<u8> = ::mapstore::MapStore::new();
    raw.insert(
        0,
        r#type {
            r#type: 1,
            r#struct: vec![],
        },
    );
    assert_eq!(raw.len(), 1);
    assert_eq!(
        <r#type as ::mapstore::MapValue>::PLAN.heap_fields,
        &["struct"]
    );
    assert_eq!(<r#type as ::mapstore::MapValue>::PLAN.type_name, "type");
    assert_eq!(
        <inner::Big as ::mapstore::MapValue>::PLAN.storage,
        ::mapstore::StorageKind::Boxed
    );
}
