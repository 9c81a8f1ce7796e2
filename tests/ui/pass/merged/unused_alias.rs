//! An alias nobody uses draws no warning, whatever the type's visibility,
//! and wherever it is declared (a function, a `macro_rules!`).
#![deny(warnings, dead_code)]

use mapstore::MapValue;

#[derive(mapstore::MapStore)]
struct Private {
    id: u64,
}

#[derive(mapstore::MapStore)]
pub(crate) struct Crate {
    pub(crate) id: u64,
}

macro_rules! value_type {
    ($name:ident) => {
        #[derive(mapstore::MapStore)]
        pub(crate) struct $name {
            pub(crate) low: f64,
            pub(crate) high: f64,
        }
    };
}

value_type!(FloatUniform);

mod inner {
    macro_rules! private_type {
        () => {
            #[derive(mapstore::MapStore)]
            struct Hidden(u8);

            pub(crate) fn hidden() -> u8 {
                Hidden(3).0
            }
        };
    }
    private_type!();
}

pub fn main() {
    #[derive(mapstore::MapStore)]
    struct Local(u16);

    let ids = Private { id: 1 }.id + Crate { id: 2 }.id + u64::from(Local(3).0);
    let range = FloatUniform { low: 0.0, high: 1.0 };
    assert_eq!(ids + u64::from(inner::hidden()), 9);
    assert!(range.low < range.high);
    assert!(!<FloatUniform as MapValue>::PLAN.needs_drop);
}
