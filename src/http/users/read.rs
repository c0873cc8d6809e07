//! Read routes of `/users`: list, count, export and one user, proxied to the user store.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
