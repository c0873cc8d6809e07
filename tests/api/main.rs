//! The one integration-test binary: black-box tests of the service and of its adapters.

mod auth0_adapter;
mod helpers;
mod rond_timer_adapters;
mod store_crud_adapter;
