//! Placeholder router of the create routes of `/users`.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
