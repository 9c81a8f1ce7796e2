//! The pass cases that need no crate of their own, as modules of one crate:
//! each must still build without a warning (each denies warnings, as does
//! this root) and run. One crate is one build where ten would be ten
//! builds and ten links. A case that is about the crate root itself
//! (`shadowing`, `no_implicit_prelude`, a `crate = "crate::..."` path) stays
//! a file of its own beside this one.
#![deny(warnings)]

#[path = "merged/alias_param_names.rs"]
pub mod alias_param_names;
#[path = "merged/basic.rs"]
pub mod basic;
#[path = "merged/c_names.rs"]
pub mod c_names;
#[path = "merged/deprecated_type.rs"]
pub mod deprecated_type;
#[path = "merged/forbid_dead_code.rs"]
pub mod forbid_dead_code;
#[path = "merged/generic_send_sync.rs"]
pub mod generic_send_sync;
#[path = "merged/held_in_itself.rs"]
pub mod held_in_itself;
#[path = "merged/hand_impl.rs"]
pub mod hand_impl;
#[path = "merged/lifetimes_and_cfg.rs"]
pub mod lifetimes_and_cfg;
#[path = "merged/local_and_macro_rules.rs"]
pub mod local_and_macro_rules;
#[path = "merged/macro_fragments.rs"]
pub mod macro_fragments;
#[path = "merged/optimize_goals.rs"]
pub mod optimize_goals;
#[path = "merged/repr.rs"]
pub mod repr;
#[path = "merged/unused_alias.rs"]
pub mod unused_alias;

fn main() {
    alias_param_names::main();
    basic::main();
    c_names::main();
    deprecated_type::main();
    forbid_dead_code::main();
    generic_send_sync::main();
    hand_impl::main();
    held_in_itself::main();
    lifetimes_and_cfg::main();
    local_and_macro_rules::main();
    macro_fragments::main();
    optimize_goals::main();
    repr::main();
    unused_alias::main();
}
