//! Tests of `ApiError`: statuses, bodies and the mapping of each layer's errors.
use super::*;
use crate::downstream::CallName;

fn downstream(kind: Cause) -> ApiError {
    ApiError::Downstream(Failure::new(CallName::new("CRUD", "PATCH", "/users/:id"), kind))
}

#[test]
fn downstream_failures_map_to_gateway_statuses_with_the_call_named() {
    let err = downstream(Cause::Failed { status: Some(500) });
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(err.public_message(), "CRUD PATCH /users/:id responded 500");
    assert_eq!(downstream(Cause::Timeout).status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(downstream(Cause::Unreachable).status(), StatusCode::BAD_GATEWAY);
    let conflict = downstream(Cause::Conflict {
        message:
            r#"E11000 duplicate key error collection: db.users index: email_1 dup key: { email: "a@b.c" }"#
                .into(),
    });
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        conflict.public_message(),
        "CRUD PATCH /users/:id responded 409: a user with this email already exists",
        "MongoDB's text never reaches the caller"
    );
    let rejected = downstream(Cause::Rejected {
        status: 400,
        message: "Unknown field: x".into(),
    });
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        rejected.public_message(),
        "CRUD PATCH /users/:id responded 400: Unknown field: x"
    );
}

#[test]
fn internal_errors_never_show_their_cause() {
    let err = ApiError::Internal("secret stack".into());
    assert_eq!(err.public_message(), "Something went wrong");
    let response = err.into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let cause = response.extensions().get::<ErrorCause>().unwrap();
    assert_eq!(cause.0.as_str(), "internal error: secret stack");
}

#[test]
fn error_body_uses_the_reason_phrase() {
    let body = error_body(StatusCode::PAYLOAD_TOO_LARGE, "too big");
    assert_eq!(body.status_code, 413);
    assert_eq!(body.error, "Payload Too Large");
}

fn status_and_message(error: impl Into<ApiError>) -> (u16, String) {
    let error = error.into();
    (error.status().as_u16(), error.public_message())
}

#[test]
fn port_errors_map_to_the_statuses_a_caller_can_act_on() {
    let taken = StoreError::Conflict {
        field: Some("email".into()),
        message: "a user with this email already exists".into(),
    };
    assert_eq!(
        status_and_message(taken),
        (409, "a user with this email already exists".into())
    );
    assert_eq!(status_and_message(StoreError::Invalid("bad _q".into())).0, 400);
    let timeout = Failure::new(CallName::new("CRUD", "GET", "/users/"), Cause::Timeout);
    assert_eq!(
        status_and_message(StoreError::Failed(timeout)),
        (504, "CRUD GET /users/ timed out".into())
    );
    assert_eq!(
        status_and_message(AuthError::Denied("blocked".into())),
        (403, "blocked".into())
    );
    assert_eq!(status_and_message(AuthError::NoSession("expired".into())).0, 401);
    assert_eq!(
        status_and_message(AuthError::Invalid("weak password".into())).0,
        400
    );
    assert_eq!(status_and_message(AuthError::Conflict("taken".into())).0, 409);
    // A store user linked to an auth user the provider does not know: the systems disagree.
    assert_eq!(status_and_message(AuthError::NotFound("gone".into())).0, 502);
}

#[test]
fn a_rate_limited_provider_is_a_429_with_retry_after() {
    let limited = AuthError::RateLimited {
        retry_after: Some(std::time::Duration::from_secs(7)),
        message: "Auth0 Client POST /users responded 429".into(),
    };
    let response = ApiError::from(limited).into_response();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
}

#[test]
fn use_case_errors_map_to_their_statuses() {
    assert_eq!(status_and_message(GroupError::Unknown("vendor".into())).0, 400);
    assert_eq!(
        status_and_message(GroupError::NotFound("group \"g\" not found".into())).0,
        404
    );
    assert_eq!(status_and_message(GroupError::Conflict("taken".into())).0, 409);
    assert_eq!(
        status_and_message(UserError::NotLoggedIn("no session".into())).0,
        401
    );
    assert_eq!(
        status_and_message(UserError::Unsupported("no sessions".into())).0,
        501
    );
    assert_eq!(status_and_message(UserError::Conflict("linked".into())).0, 409);
    assert_eq!(
        status_and_message(UserError::PreconditionFailed("stale".into())).0,
        412
    );
    assert_eq!(
        status_and_message(UserError::Internal("secret".into())),
        (500, "Something went wrong".into())
    );
    assert_eq!(status_and_message(JobError::Invalid("empty".into())).0, 400);
    assert_eq!(status_and_message(JobError::NotFound("job".into())).0, 404);
    assert_eq!(status_and_message(JobError::LeaseLost("j1".into())).0, 500);
}
