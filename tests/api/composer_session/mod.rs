//! Issue #13's "done when": a Microfrontend Composer session end to end, in both modes. Every
//! call of contracts/crud-service.md §8, in the order a back-office user makes them (schema,
//! create, count and list, edit, detail, bulk block, update many, soft delete, restore,
//! definitive delete, purge, export in every format, import), each followed by a check of the
//! user store and of the auth provider against what the call should have done to both
//! (`model.rs`). One driver (`driver.rs`, `transfer.rs`) runs in CRUD mode on the CRUD Service
//! and Auth0 Client fakes, and in embedded mode on SQLite and the local provider; only the
//! readers of the two systems differ (`systems.rs`).

mod calls;
mod driver;
mod model;
mod systems;
mod transfer;

use systems::Session;

#[tokio::test]
async fn a_composer_session_keeps_store_and_auth_provider_in_step_in_crud_mode() {
    let session = Session::on_fakes().await;
    driver::run(&session).await;
    session.finish().await;
}

#[tokio::test]
async fn a_composer_session_keeps_store_and_auth_provider_in_step_in_embedded_mode() {
    let session = Session::embedded().await;
    driver::run(&session).await;
    session.finish().await;
}
