//! Create routes of `/users` (SPEC §5): `POST /users/` (also `POST /users`), `POST /users/with-id`
//! and `POST /users/register`. Thin handlers over `crate::users::create`.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{
    DownstreamFailures, IdempotencyKey, IdempotencyRefusals, JsonBodyRefusals, StateName,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{flags, ApiJson, Ctx, NoQuery};
use crate::secret::Secret;
use crate::state::AppState;
use crate::users::create::{self, CreateOptions, Registration};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        // The Composer keeps the trailing slash (`/users/`); plain clients call `/users`.
        .route("/users", post(create_user))
        .routes(routes!(create_user_with_id))
        .routes(routes!(register_user))
}

/// The `_id` of the created user.
#[derive(Debug, Serialize, ToSchema)]
struct CreatedUser {
    /// The new user's `_id`.
    #[serde(rename = "_id")]
    id: String,
}

/// A user to create (documentation only: the body is read as a JSON object, then checked and
/// validated against the schema of its group).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com", "password": "Passw0rd!"}))]
#[expect(dead_code, reason = "OpenAPI documentation of a body read as a JSON object")]
struct NewUserBody {
    /// The user's group: it must exist, and its `crudSchema` validates the document.
    user_group: String,
    /// Login username (unique).
    #[schema(required = false)]
    username: String,
    /// Login email (unique).
    #[schema(required = false, format = Email)]
    email: String,
    /// Whether the auth user starts blocked.
    #[schema(required = false)]
    blocked: bool,
    /// Rönd roles, granted when an auth user is created.
    #[schema(required = false)]
    roles: Vec<String>,
    /// When the user gets blocked (RFC 3339).
    #[schema(required = false, format = DateTime)]
    expiration_date: String,
    /// Initial password of the auth user, never stored; generated when absent (or `null`) with
    /// `RANDOM_PWD_GEN`, else required.
    #[schema(required = false, nullable, min_length = 1, format = Password)]
    password: String,
    /// `PUBLIC` (default), `DRAFT`, `TRASH` or `DELETED`; anything but `PUBLIC` starts blocked.
    #[serde(rename = "__STATE__")]
    #[schema(required = false, value_type = StateName)]
    state: String,
    /// Any field of the group schema; `authUserId`, `expirationId` and the store's `_id`,
    /// `creatorId`, `createdAt`, `updaterId`, `updatedAt` cannot be set (400).
    #[serde(flatten)]
    fields: HashMap<String, Value>,
}

/// A store user for an existing auth user (documentation only, like [`NewUserBody`]).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(dead_code, reason = "OpenAPI documentation of a body read as a JSON object")]
struct LinkedUserBody {
    /// The existing auth user; no store user may be linked to it yet.
    #[schema(min_length = 1)]
    auth_user_id: String,
    /// The user's group: it must exist, and its `crudSchema` validates the document.
    user_group: String,
    /// Any field of the group schema (`username`, `email`, `roles`, `expirationDate`, ...);
    /// no `password` (the auth user exists), and none of the fields `POST /users/` refuses.
    #[serde(flatten)]
    fields: HashMap<String, Value>,
}

/// The body of `POST /users/register`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    /// The store user's `_id`.
    #[serde(rename = "_id")]
    id: String,
    /// Initial password of the auth user; generated when absent (or `null`) with `RANDOM_PWD_GEN`.
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<Secret>,
}

/// Creates a user: inserts it in the user store, creates and links its auth user, grants its
/// Rönd roles and schedules its expiry; any failure undoes the completed steps.
///
/// On a 502 or 504, the completed steps were undone.
#[utoipa::path(post, path = "/users/", tag = "users",
    params(
        IdempotencyKey,
        ("postponeAuthUserCreation" = Option<bool>, Query,
            description = "`true`: store the user only (`POST /users/register` creates the auth user later); default false"),
        ("sendResetPwdEmail" = Option<bool>, Query,
            description = "`false`: the auth provider sends no email to the new user; default true")),
    request_body(content = NewUserBody, description = "The user: `userGroup` plus fields of the group schema"),
    responses(
        (status = 200, description = "The user is created", body = CreatedUser),
        (status = 400, description = "Malformed JSON, invalid query, a field that cannot be set, unknown \
            group, schema violations, no password without `RANDOM_PWD_GEN`, an invalid `Idempotency-Key`", body = ErrorBody),
        (status = 409, description = "Email or username taken, or a request with the same `Idempotency-Key` \
            is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        DownstreamFailures))]
async fn create_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<ApiJson<CreatedUser>> {
    let [postpone, send_email] = flags(
        raw.as_deref(),
        [("postponeAuthUserCreation", false), ("sendResetPwdEmail", true)],
    )?;
    let options = CreateOptions {
        postpone_auth_user_creation: postpone,
        send_reset_password_email: send_email,
    };
    let id = create::create_user(&state.users, &ctx, body, options).await?;
    Ok(ApiJson(CreatedUser { id }))
}

/// Creates a store user for an existing auth user: same validation, roles and expiry as
/// `POST /users/`; the auth user must exist and not be linked to another user.
///
/// On a 502 or 504, the completed steps were undone.
#[utoipa::path(post, path = "/users/with-id", tag = "users",
    params(IdempotencyKey),
    request_body(content = LinkedUserBody, description = "The user: `authUserId`, `userGroup` and fields of the group schema"),
    responses(
        (status = 200, description = "The user is created", body = CreatedUser),
        (status = 400, description = "Malformed JSON, a query parameter, a field that cannot be set, \
            unknown group, schema violations, an invalid `Idempotency-Key`", body = ErrorBody),
        (status = 404, description = "The auth user does not exist", body = ErrorBody),
        (status = 409, description = "The auth user is already linked, or email/username taken, or a request \
            with the same `Idempotency-Key` is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        DownstreamFailures))]
async fn create_user_with_id(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    _: NoQuery,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<ApiJson<CreatedUser>> {
    let id = create::create_with_id(&state.users, &ctx, body).await?;
    Ok(ApiJson(CreatedUser { id }))
}

/// Creates and links the auth user of a store-only user (created with
/// `postponeAuthUserCreation=true`) and grants its Rönd roles.
///
/// On a 502 or 504, the completed steps were undone.
#[utoipa::path(post, path = "/users/register", tag = "users",
    params(IdempotencyKey, ("sendResetPwdEmail" = Option<bool>, Query,
        description = "`false`: the auth provider sends no email to the user; default true")),
    request_body(content = RegisterBody),
    responses(
        (status = 204, description = "The auth user is created and linked"),
        (status = 400, description = "Malformed JSON, invalid query, a user without userGroup, a group \
            that does not allow auth users, no password without `RANDOM_PWD_GEN`, an invalid `Idempotency-Key`", body = ErrorBody),
        (status = 404, description = "No store user has this `_id`", body = ErrorBody),
        (status = 409, description = "The user is already linked, or email/username taken, or a request with \
            the same `Idempotency-Key` is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        DownstreamFailures))]
async fn register_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<StatusCode> {
    let [send_email] = flags(raw.as_deref(), [("sendResetPwdEmail", true)])?;
    let registration = Registration {
        id: body.id,
        password: body.password,
    };
    create::register(&state.users, &ctx, registration, send_email).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ApiError;

    const CREATE: [(&str, bool); 2] = [("postponeAuthUserCreation", false), ("sendResetPwdEmail", true)];

    fn message<T: std::fmt::Debug>(result: ApiResult<T>) -> String {
        match result {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn flags_take_their_defaults_and_parse_true_and_false() {
        assert_eq!(flags(None, CREATE).unwrap(), [false, true]);
        let raw = "sendResetPwdEmail=false&postponeAuthUserCreation=true";
        assert_eq!(flags(Some(raw), CREATE).unwrap(), [true, false]);
    }

    #[test]
    fn unknown_repeated_or_non_boolean_flags_are_refused_by_name() {
        assert_eq!(
            message(flags(Some("foo=1"), CREATE)),
            "unknown query parameter \"foo\": this route accepts postponeAuthUserCreation, sendResetPwdEmail"
        );
        assert_eq!(
            message(flags(Some("sendResetPwdEmail=yes"), CREATE)),
            "sendResetPwdEmail must be true or false"
        );
        assert_eq!(
            message(flags(
                Some("sendResetPwdEmail=true&sendResetPwdEmail=true"),
                CREATE
            )),
            "query parameter sendResetPwdEmail must appear only once"
        );
        assert_eq!(
            message(flags(Some("x=1"), [])),
            "unknown query parameter \"x\": this route takes no query parameters"
        );
    }
}
