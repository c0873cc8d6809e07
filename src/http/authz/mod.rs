//! Access control at the HTTP boundary (`AUTHZ_MODE=scopes`): the guard every routed request
//! passes (bearer token → principal → the route's scope), the `security` of every operation in
//! the OpenAPI document, `POST /oauth/token`'s client-credentials grant and the `/clients` routes.

pub mod clients;
pub mod table;
pub mod token;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::OpenApi;

use self::table::Access;
use crate::auth::AuthError;
use crate::authz::{AuthzError, Principal, PrincipalKind, Scope};
use crate::context::CallContext;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::users::UserError;

/// The OpenAPI security scheme every scoped operation names.
const SCHEME: &str = "oauth2";

/// The OpenAPI security scheme of the expiry callback's credential.
const CALLBACK_SCHEME: &str = "timerCallback";

impl From<AuthzError> for ApiError {
    fn from(error: AuthzError) -> Self {
        match error {
            AuthzError::Unauthenticated(message) => Self::Unauthorized(message),
            AuthzError::InvalidClient => Self::Unauthorized(error.to_string()),
            AuthzError::MissingScope(message) => Self::Forbidden(message),
            AuthzError::Invalid(message) => Self::BadRequest(message),
            AuthzError::NotManaged => Self::NotImplemented(error.to_string()),
            AuthzError::Store(e) => e.into(),
            AuthzError::Signing => Self::Internal(error.to_string()),
        }
    }
}

/// The guard of every routed request. `gateway` mode: nothing. `scopes` mode: a public route
/// passes; any other needs `authorization: Bearer <access token>` — signed by this service, or by
/// the external issuer — carrying the route's scope: 401 without a valid token, 403 naming a
/// missing scope, 403 for a route the table does not know. A person's token has the self-service
/// scopes plus its group's `scopes` (read when needed) and, when this service signed it, must not
/// be revoked. The verified caller becomes the request's user id header (`USERID_HEADER_KEY`:
/// `client:<id>` or the user's auth id), whatever the caller sent.
pub async fn guard(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(authz) = state.authz.as_ref() else {
        return next.run(request).await;
    };
    let path = matched.as_ref().map_or("", MatchedPath::as_str);
    let scope = match table::access(request.method(), path) {
        Some(Access::Public) => return next.run(request).await,
        Some(Access::Scope(scope)) => scope,
        Some(Access::Callback(scope)) => match callback_credential(&request) {
            Some((credential, user)) if authz.tokens().verify_callback(credential, &user) => {
                return as_actor(&state, "timer-service", request, next).await;
            }
            Some(_) => return unauthenticated("the callback credential is not valid for this user"),
            None => scope,
        },
        None => {
            let message = format!("no scope is declared for {} {path}: refused", request.method());
            return ApiError::Forbidden(message).into_response();
        }
    };
    let Some(token) = bearer(&request) else {
        return unauthenticated(
            "missing access token: send \"authorization: Bearer <token>\" (get one at POST /oauth/token)",
        );
    };
    let mut principal = match authz.authenticate(token).await {
        Ok(principal) => principal,
        Err(error) => return unauthenticated(&error.to_string()),
    };
    let ctx = CallContext::background(request_id(&request));
    let ours = !principal.external;
    if let (PrincipalKind::User, Some(local), true) = (principal.kind, state.local_auth.as_ref(), ours) {
        // A person's token of the local provider: refused once revoked (password reset, block,
        // delete) — one indexed read of its credential.
        if let Err(error) = local.verify_access_token(&ctx, token).await {
            return match error {
                AuthError::Failed(failure) => ApiError::Downstream(failure).into_response(),
                refused => unauthenticated(&refused.to_string()),
            };
        }
    }
    if let Err(error) = with_group_scopes(&state, &ctx, &mut principal, scope).await {
        return ApiError::from(error).into_response();
    }
    if let Err(error) = authz.require(&principal, scope) {
        return ApiError::from(error).into_response();
    }
    let actor = principal.actor();
    request.extensions_mut().insert(principal);
    as_actor(&state, &actor, request, next).await
}

/// A person whose token lacks `scope` may have it from its group config, read now (so that a
/// change applies at once): its group's scopes are added to `principal`.
pub(crate) async fn with_group_scopes(
    state: &AppState,
    ctx: &CallContext,
    principal: &mut Principal,
    scope: Scope,
) -> Result<(), UserError> {
    if principal.kind == PrincipalKind::User && !principal.scopes.contains(&scope) {
        let names = crate::users::scopes::granted(&state.users, ctx, &principal.subject).await?;
        principal
            .scopes
            .extend(names.iter().filter_map(|n| Scope::parse(n)));
    }
    Ok(())
}

/// Runs `request` as `actor`: the user id header says so (whatever the caller sent), and so does
/// the response, for the audit trail.
async fn as_actor(state: &AppState, actor: &str, mut request: Request, next: Next) -> Response {
    let header = state.config.headers.user_id.clone();
    request.headers_mut().remove(&header);
    if let Ok(value) = HeaderValue::from_str(actor) {
        request.headers_mut().insert(header, value);
    }
    let mut response = next.run(request).await;
    response.extensions_mut().insert(VerifiedActor(actor.to_owned()));
    response
}

/// The expiry callback's credential header and the user of the path (`/users/{id}/expire`).
fn callback_credential(request: &Request) -> Option<(&str, String)> {
    let credential = request
        .headers()
        .get(crate::users::CALLBACK_TOKEN_HEADER)?
        .to_str()
        .ok()?;
    let segment = request.uri().path().split('/').nth(2)?;
    let user = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    Some((credential, user.into_owned()))
}

/// The caller the guard verified, on the response (for the audit trail, which records after the
/// answer and must not believe a user id header the caller sent).
#[derive(Clone, Debug)]
pub struct VerifiedActor(pub String);

/// The request id the request-id layer set.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The bearer token of the request's `authorization` header.
fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A 401 with `WWW-Authenticate: Bearer` (RFC 6750).
fn unauthenticated(message: &str) -> Response {
    let mut response = ApiError::Unauthorized(message.to_owned()).into_response();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"user-manager-service\""),
    );
    response
}

/// In `scopes` mode, the document declares the OAuth2 client-credentials scheme with every
/// scope, and each operation its scope (`security: []` for a public one). An operation the
/// table does not know gets no `security` at all (the table-driven test fails on it).
pub(super) fn document_security(doc: &mut OpenApi, state: &AppState) {
    let Some(authz) = state.authz.as_ref() else {
        return;
    };
    let names = authz.names();
    let scopes = Scopes::from_iter(Scope::ALL.map(|s| (names.name(s), s.description().to_owned())));
    let flow = Flow::ClientCredentials(ClientCredentials::new("/oauth/token", scopes));
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(SCHEME, SecurityScheme::OAuth2(OAuth2::new([flow])));
    let callback = ApiKey::Header(ApiKeyValue::with_description(
        crate::users::CALLBACK_TOKEN_HEADER,
        "the credential this service gives the Timer Service with each expiry timer",
    ));
    components.add_security_scheme(CALLBACK_SCHEME, SecurityScheme::ApiKey(callback));
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            (axum::http::Method::GET, item.get.as_mut()),
            (axum::http::Method::POST, item.post.as_mut()),
            (axum::http::Method::PUT, item.put.as_mut()),
            (axum::http::Method::PATCH, item.patch.as_mut()),
            (axum::http::Method::DELETE, item.delete.as_mut()),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            operation.security = match table::access(&method, path) {
                Some(Access::Public) => Some(Vec::new()),
                Some(Access::Scope(scope)) => {
                    refusals(operation, &names.name(scope));
                    Some(vec![SecurityRequirement::new(SCHEME, [names.name(scope)])])
                }
                Some(Access::Callback(scope)) => {
                    refusals(operation, &names.name(scope));
                    Some(vec![
                        SecurityRequirement::new(SCHEME, [names.name(scope)]),
                        SecurityRequirement::new(CALLBACK_SCHEME, Vec::<String>::new()),
                    ])
                }
                None => None,
            };
        }
    }
}

/// The 401 and 403 of the guard, on a scoped operation (kept when the route documents its own).
fn refusals(operation: &mut utoipa::openapi::path::Operation, scope: &str) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let responses = &mut operation.responses.responses;
    let body = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build()
    };
    let refused = [
        (
            "401",
            "No access token, or one this service does not accept".to_owned(),
        ),
        ("403", format!("The access token lacks the scope {scope}")),
    ];
    for (status, description) in refused {
        responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", body())
                .build()
                .into()
        });
    }
}
