// The expansion of case `no_store` in macros/src/tests.rs. Generated: re-bless with
// MAPSTORE_BLESS=1 cargo test -p mapstore-macros
//
// Input of #[derive(MapStore)]:
//
// #[map_store(no_store)]
// struct User;

const _: () = {
    const __PLAN: ::mapstore::__private::Plan = ::mapstore::__private::Plan::new(
        "User",
        ::mapstore::__private::core::mem::size_of::<User>(),
        ::mapstore::__private::core::mem::align_of::<User>(),
        ::mapstore::__private::core::mem::needs_drop::<User>(),
        &[],
        ::mapstore::__private::core::option::Option::None,
    );
    #[automatically_derived]
    impl ::mapstore::__private::MapValue for User {
        type Storage = <::mapstore::__private::Select<
            { ::mapstore::__private::kind_of(&__PLAN) },
        > as ::mapstore::__private::Pick>::S;
        const PLAN: ::mapstore::__private::Plan = { __PLAN };
    }
    const _: () = ::mapstore::__private::Warn::<
        { ::mapstore::__private::zero_sized(&__PLAN) },
    >::ZERO_SIZED;
};
