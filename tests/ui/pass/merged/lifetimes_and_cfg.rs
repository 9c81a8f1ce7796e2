//! Lifetime parameters (layout is the `'static` one) and `#[cfg]`'d fields.
#![deny(warnings)]

use mapstore::{MapStore, MapValue};

#[derive(MapStore)]
pub struct View<'a> {
    pub text: &'a str,
    pub len: usize,
}

#[derive(MapStore)]
pub struct Pair<'a, 'b: 'a> {
    pub left: &'a [u8],
    pub right: Option<&'b u8>,
}

#[derive(MapStore)]
pub struct Config {
    pub id: u32,
    #[cfg(any())]
    pub missing: DoesNotExist,
    #[cfg(all())]
    pub name: String,
    #[cfg(any())]
    pub also_missing: Vec<u8>,
}

#[derive(MapStore)]
pub enum Event {
    Start(u32),
    #[cfg(any())]
    Gone(DoesNotExist),
    #[cfg(all())]
    Log {
        line: String,
    },
}

pub fn main() {
    let text = String::from("borrowed");
    let mut views: ViewStore<'_, u8> = MapStore::new();
    views.insert(
        1,
        View {
            text: &text,
            len: text.len(),
        },
    );
    assert_eq!(views.get(&1).map(|v| v.text), Some("borrowed"));
    assert_eq!(<View<'static> as MapValue>::PLAN.heap_fields, &["text"]);
    assert_eq!(<View<'_> as MapValue>::PLAN.type_name, "View<'a>");
    assert_eq!(
        <Pair<'_, '_> as MapValue>::PLAN.heap_fields,
        &["left", "right"]
    );

    let mut configs: ConfigStore<u8> = MapStore::new();
    configs.insert(
        1,
        Config {
            id: 1,
            name: String::new(),
        },
    );
    assert_eq!(configs.get(&1).map(|c| c.id), Some(1));
    assert_eq!(<Config as MapValue>::PLAN.heap_fields, &["name"]);
    assert_eq!(<Event as MapValue>::PLAN.heap_fields, &["Log.line"]);
    let _ = (
        Event::Start(1),
        Event::Log {
            line: String::new(),
        },
    );
    let _ = configs.get(&1).map(|c| c.name.len());
    let _ = views.get(&1).map(|v| v.len);
    if let Event::Log { line } = (Event::Log {
        line: String::new(),
    }) {
        let _ = line;
    }
    if let Event::Start(n) = Event::Start(1) {
        let _ = n;
    }
}
