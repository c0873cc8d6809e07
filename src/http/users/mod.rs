//! The CRUD-alike `/users` routes the Microfrontend Composer calls as if they were a CRUD
//! collection (SPEC §5 "User management").

mod create;
mod import;
mod lifecycle;
mod me;
mod read;
mod schema;
mod update;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every `/users` route.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(read::router())
        .merge(create::router())
        .merge(update::router())
        .merge(lifecycle::router())
        .merge(import::router())
        .merge(me::router())
        .merge(schema::router())
}
