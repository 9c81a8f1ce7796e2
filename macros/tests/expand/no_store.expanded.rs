// The expansion of case `no_store` in macros/src/tests.rs. Generated: re-bless with
// MAPSTORE_BLESS=1 cargo test -p mapstore-macros
//
// Input of #[derive(MapStore)]:
//
// #[map_store(no_store)]
// struct User;

const _: () = {
    use ::mapstore::__private as __mapstore;
    const __PLAN: __mapstore::Plan = __mapstore::Plan::new(
        "User",
        __mapstore::core::mem::size_of::<User>(),
        __mapstore::core::mem::align_of::<User>(),
        __mapstore::core::mem::needs_drop::<User>(),
        &[],
        __mapstore::core::option::Option::None,
    );
    #[automatically_derived]
    #[doc(hidden)]
    impl __mapstore::Chosen for User {
        type Storage = <__mapstore::Select<
            { __mapstore::kind_of(&__PLAN) },
        > as __mapstore::Pick>::S;
    }
    #[automatically_derived]
    impl __mapstore::MapValue for User {
        type Storage = <User as __mapstore::Chosen>::Storage;
        const PLAN: __mapstore::Plan = { __PLAN };
    }
    const _: () = __mapstore::Warn::<{ __mapstore::zero_sized(&__PLAN) }>::ZERO_SIZED;
};
