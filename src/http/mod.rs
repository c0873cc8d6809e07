//! The HTTP boundary: the router with its layers (request id, request logs and metrics, panics,
//! body limit), the Mia 404/405 fallbacks and the OpenAPI document built from the routes.

mod audit;
pub(crate) mod authz;
pub mod client_address;
mod doc;
pub mod error;
pub mod extract;
mod groups;
mod health;
mod idempotency;
mod jobs;
mod local_auth;
mod observe;
mod session;
mod users;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::http::error::ApiError;
use crate::state::AppState;

pub use audit::coverage as audit_coverage;

/// Top-level OpenAPI information; paths come from the route modules.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "user-manager-service",
        description = "Manages the users of an application across a user store and an authentication provider."
    ),
    components(schemas(crate::http::error::ErrorBody))
)]
struct ApiDoc;

/// Every route with its OpenAPI entry, before state and layers are applied.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(session::router())
        .merge(users::router())
        .merge(jobs::router())
        .merge(groups::router())
        .merge(local_auth::router())
        .merge(authz::clients::router())
        .merge(audit::router())
}

/// The OpenAPI document of every route, whatever the configuration (the service serves the
/// routes of its configuration only, see [`router`]).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Builds the service's router with its layers.
///
/// Every route first passes `authz::guard` (access control in `AUTHZ_MODE=scopes`). Layer order,
/// outermost first: a request id is set when missing (so every log line has one);
/// `observe` opens the request span, logs `request completed` and records metrics; the id is
/// copied to the response; panics become Mia 500 bodies; bodies over the limit are refused (413);
/// the operations of `audit::table::AUDITED` are recorded in the audit trail (outside the
/// idempotency guard, so a refused or replayed key is recorded too); `Idempotency-Key` is
/// honoured on the routes that create (`idempotency::ROUTES`).
/// `GET /documentation/json` serves the OpenAPI document of the routes this configuration serves.
pub fn router(state: AppState) -> Router {
    let (api, doc) = routes().split_for_parts();
    let doc = doc::served(doc, &state);
    let doc_json = std::sync::Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    let body_limit = state.config.body_limit_bytes;
    let query_limit = state.config.limits.query_string_bytes;
    api.route_layer(axum::middleware::from_fn_with_state(state.clone(), authz::guard))
        .merge(health::documentation_router(doc_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(axum::middleware::from_fn(observe::observe))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(observe::panic_response))
                .layer(axum::middleware::from_fn(move |req, next| {
                    limit_query(query_limit, req, next)
                }))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

/// Refuses a query string longer than `LIMIT_QUERY_STRING_BYTES` before any route reads it.
async fn limit_query(
    limit: usize,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let length = request.uri().query().map_or(0, str::len);
    if length > limit {
        return ApiError::BadRequest(format!(
            "the query string is {length} bytes long: the limit is {limit} bytes (LIMIT_QUERY_STRING_BYTES)"
        ))
        .into_response();
    }
    next.run(request).await
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("Route {method} {} not found", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("Method {method} is not allowed on {}", uri.path()))
}
