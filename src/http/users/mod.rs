//! The CRUD-alike `/users` routes the Microfrontend Composer calls as if they were a CRUD
//! collection (SPEC §5 "User management").

mod read;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every `/users` route.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(read::router())
}
