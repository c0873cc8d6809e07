//! `GET /users/schema`: the JSON Schema of the users collection, as the CRUD Service serves its
//! collection's — here built from the group schemas, in both modes (never proxied to the store).

use axum::extract::State;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::groups::collection_schema;
use crate::http::doc::DownstreamFailures;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Ctx, NoQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(users_schema))
}

/// The JSON Schema of the users collection: `{type: "object", properties, required}` — the
/// service fields and every property the user groups declare (`userGroup` one of their names).
/// A user is validated against its own group's schema; this one describes the collection.
#[utoipa::path(get, path = "/users/schema", tag = "users",
    responses(
        (status = 200, description = "The collection's JSON Schema", body = Object),
        (status = 400, description = "A query parameter was sent (this route takes none)", body = crate::http::error::ErrorBody),
        DownstreamFailures))]
async fn users_schema(State(state): State<AppState>, Ctx(ctx): Ctx, _: NoQuery) -> ApiResult<ApiJson<Value>> {
    let groups = state
        .users
        .groups
        .usable(&ctx)
        .await
        .map_err(crate::users::UserError::from)?;
    Ok(ApiJson(collection_schema(&groups)))
}
