//! `/clients`: the OAuth2 clients of `AUTHZ_MODE=scopes` (scope `clients_write`): create (the
//! secret is in this answer only), list, read, delete. Without access control, or without a
//! clients collection, a 501 says why.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::{Authz, AuthzError, Client, Scope};
use crate::http::doc::{DownstreamFailures, JsonBodyRefusals, NonBlank};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Ctx};
use crate::state::AppState;

/// Longest client name accepted.
const MAX_NAME_CHARS: usize = 200;

pub(in crate::http) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, delete_client))
}

/// A client to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// What the client is for (1 to 200 characters, not blank).
    #[schema(value_type = NonBlank, max_length = 200)]
    pub name: String,
    /// The scopes its tokens carry (names as in `POST /oauth/token`'s answer; at least one).
    #[schema(min_items = 1)]
    pub scopes: Vec<String>,
}

/// A client as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    /// Its `client_id`.
    pub client_id: String,
    /// What it is for.
    pub name: String,
    /// The scopes its tokens carry.
    pub scopes: Vec<String>,
    /// When it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// A client just created: its secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClient {
    /// The client.
    #[serde(flatten)]
    pub client: ClientView,
    /// Its secret: store it now, it cannot be read again.
    pub client_secret: String,
}

fn authz(state: &AppState) -> Result<&Authz, ApiError> {
    state.authz.as_deref().ok_or_else(|| {
        ApiError::NotImplemented(
            "clients exist only with AUTHZ_MODE=scopes (this service trusts its gateway)".into(),
        )
    })
}

fn view(authz: &Authz, client: Client) -> ClientView {
    ClientView {
        client_id: client.id,
        name: client.name,
        scopes: client.scopes.iter().map(|s| authz.names().name(*s)).collect(),
        created_at: client.created_at,
    }
}

/// Creates a client with the scopes given.
#[utoipa::path(post, path = "/clients", tag = "clients",
    request_body = NewClient,
    responses(
        (status = 201, description = "Created: the answer carries the secret, shown only once", body = CreatedClient),
        (status = 400, description = "Blank or long name, no scope, or an unknown scope", body = ErrorBody),
        JsonBodyRefusals,
        (status = 501, description = "No access control, or no clients collection", body = ErrorBody),
        DownstreamFailures))]
async fn create_client(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<NewClient>,
) -> ApiResult<(StatusCode, ApiJson<CreatedClient>)> {
    let authz = authz(&state)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::BadRequest(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, not blank"
        )));
    }
    let mut scopes = BTreeSet::new();
    for wire in &body.scopes {
        let known = authz.names().parse_names([wire.as_str()]);
        if known.is_empty() {
            let all: Vec<String> = Scope::ALL.iter().map(|s| authz.names().name(*s)).collect();
            return Err(ApiError::BadRequest(format!(
                "scopes: \"{wire}\" is not a scope of this service (known: {})",
                all.join(", ")
            )));
        }
        scopes.extend(known);
    }
    if scopes.is_empty() {
        return Err(ApiError::BadRequest("scopes must list at least one scope".into()));
    }
    let (client, secret) = authz
        .clients()
        .create(&ctx, name, scopes)
        .await
        .map_err(AuthzError::from)?
        .ok_or(AuthzError::NotManaged)?;
    let created = CreatedClient {
        client: view(authz, client),
        client_secret: secret.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// Lists the clients (at most 200, oldest first).
#[utoipa::path(get, path = "/clients", tag = "clients",
    responses(
        (status = 200, description = "The clients, without their secrets", body = Vec<ClientView>),
        (status = 501, description = "No access control, or no clients collection", body = ErrorBody),
        DownstreamFailures))]
async fn list_clients(State(state): State<AppState>, Ctx(ctx): Ctx) -> ApiResult<ApiJson<Vec<ClientView>>> {
    let authz = authz(&state)?;
    if !authz.clients().managed() {
        return Err(AuthzError::NotManaged.into());
    }
    let clients = authz.clients().list(&ctx).await.map_err(AuthzError::from)?;
    Ok(ApiJson(clients.into_iter().map(|c| view(authz, c)).collect()))
}

/// One client, or 404.
#[utoipa::path(get, path = "/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The `client_id`")),
    responses(
        (status = 200, description = "The client, without its secret", body = ClientView),
        (status = 404, description = "No such client", body = ErrorBody),
        (status = 501, description = "No access control, or no clients collection", body = ErrorBody),
        DownstreamFailures))]
async fn get_client(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ClientView>> {
    let authz = authz(&state)?;
    match authz.clients().get(&ctx, &id).await.map_err(AuthzError::from)? {
        Some(client) => Ok(ApiJson(view(authz, client))),
        None if !authz.clients().managed() => Err(AuthzError::NotManaged.into()),
        None => Err(ApiError::NotFound(format!("client \"{id}\" not found"))),
    }
}

/// Deletes a client: its secret no longer gets tokens (tokens already issued stay valid until
/// they expire).
#[utoipa::path(delete, path = "/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The `client_id`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such client", body = ErrorBody),
        (status = 501, description = "No access control, or no clients collection", body = ErrorBody),
        DownstreamFailures))]
async fn delete_client(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let authz = authz(&state)?;
    if !authz.clients().managed() {
        return Err(AuthzError::NotManaged.into());
    }
    match authz
        .clients()
        .delete(&ctx, &id)
        .await
        .map_err(AuthzError::from)?
    {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound(format!("client \"{id}\" not found"))),
    }
}
