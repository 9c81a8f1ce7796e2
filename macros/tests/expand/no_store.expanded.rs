// The expansion of case `no_store` in macros/src/tests.rs. Generated: re-bless with
// MAPSTORE_BLESS=1 cargo test -p mapstore-macros
//
// Input of #[derive(MapStore)]:
//
// #[map_store(no_store)]
// struct User;

const _: () = {
    use ::mapstore as __mapstore;
    const __PLAN: __mapstore::__private::Plan = __mapstore::__private::Plan::new(
        "User",
        __mapstore::__private::core::mem::size_of::<User>(),
        __mapstore::__private::core::mem::align_of::<User>(),
        __mapstore::__private::core::mem::needs_drop::<User>(),
        &[],
        __mapstore::__private::core::option::Option::None,
    );
    #[automatically_derived]
    impl __mapstore::__private::MapValue for User {
        type Storage = <__mapstore::__private::Select<
            { __mapstore::__private::kind_of(&__PLAN) },
        > as __mapstore::__private::Pick>::S;
        const PLAN: __mapstore::__private::Plan = { __PLAN };
    }
    const _: () = __mapstore::__private::Warn::<
        { __mapstore::__private::zero_sized(&__PLAN) },
    >::ZERO_SIZED;
};
