//! Checks of a create body before anything is written: the fields a client may not set, the
//! password taken out of the document (it is never stored), the `__STATE__` default and the
//! blocked flag the auth user starts with.

use serde_json::{Map, Value};

use crate::secret::Secret;
use crate::store::DocState;
use crate::users::effects::parse_expiration;
use crate::users::UserError;
use crate::users::{str_field, SERVICE_ONLY_FIELDS};

/// Fields the user store writes itself (contracts/crud-service.md §1 `POST /`).
const STORE_FIELDS: [&str; 5] = ["_id", "creatorId", "createdAt", "updaterId", "updatedAt"];

/// Which create route the body came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// `POST /users/`: no `authUserId`; an optional `password`.
    Create,
    /// `POST /users/with-id`: `authUserId` required; no `password` (the auth user exists).
    WithId,
}

/// A user document ready to validate and insert, and what was taken out of the body.
pub(super) struct NewUserDoc {
    /// The document to insert (a JSON object, `__STATE__` set, no password).
    pub doc: Value,
    /// Its `__STATE__`.
    pub state: DocState,
    /// The password of the body, never stored.
    pub password: Option<Secret>,
}

/// Checks `body` for `route` and turns it into the document to insert: 400 for a field a client
/// may not set, a `password` that is not a string, or a `__STATE__` outside the four states;
/// `__STATE__` defaults to PUBLIC (the store default, DRAFT, would mean "blocked").
pub(super) fn prepare(mut body: Map<String, Value>, route: Route) -> Result<NewUserDoc, UserError> {
    for field in SERVICE_ONLY_FIELDS {
        if body.contains_key(field) && !(route == Route::WithId && field == "authUserId") {
            return Err(UserError::Invalid(format!(
                "{field} cannot be set: the service manages it"
            )));
        }
    }
    if let Some(field) = STORE_FIELDS.iter().find(|f| body.contains_key(**f)) {
        return Err(UserError::Invalid(format!(
            "{field} cannot be set: the user store manages it"
        )));
    }
    let password = take_password(&mut body)?;
    if route == Route::WithId {
        if password.is_some() {
            return Err(UserError::Invalid(
                "password cannot be set when linking an existing auth user".to_owned(),
            ));
        }
        let linked = body
            .get("authUserId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        if linked.is_none() {
            return Err(UserError::Invalid(
                "authUserId must be a non-empty string".to_owned(),
            ));
        }
    }
    let state = take_state(&mut body)?;
    Ok(NewUserDoc {
        doc: Value::Object(body),
        state,
        password,
    })
}

/// Takes `password` out of the body; `null` counts as absent. The value never appears in an error.
fn take_password(body: &mut Map<String, Value>) -> Result<Option<Secret>, UserError> {
    match body.remove("password") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(password)) if password.is_empty() => {
            Err(UserError::Invalid("password must not be empty".to_owned()))
        }
        Some(Value::String(password)) => Ok(Some(Secret::new(password))),
        Some(_) => Err(UserError::Invalid("password must be a string".to_owned())),
    }
}

/// The body's `__STATE__`, or PUBLIC written into the body when absent.
fn take_state(body: &mut Map<String, Value>) -> Result<DocState, UserError> {
    let Some(value) = body.get("__STATE__") else {
        body.insert("__STATE__".to_owned(), DocState::Public.as_str().into());
        return Ok(DocState::Public);
    };
    value.as_str().and_then(DocState::parse).ok_or_else(|| {
        UserError::Invalid("__STATE__ must be one of PUBLIC, DRAFT, TRASH, DELETED".to_owned())
    })
}

/// 400 when `expirationDate` is a string the Timer Service could not be given (checked before
/// the insert, so a bad date writes nothing).
pub(super) fn check_expiration(doc: &Value) -> Result<(), UserError> {
    match str_field(doc, "expirationDate") {
        Some(date) => parse_expiration(date).map(drop),
        None => Ok(()),
    }
}

/// Whether the auth user of a user in `state` starts blocked: `blocked: true`, or any state but
/// PUBLIC (DRAFT and TRASH mean blocked; a DELETED user must not log in either).
pub(crate) fn starts_blocked(doc: &Value, state: DocState) -> bool {
    state != DocState::Public || doc.get("blocked") == Some(&Value::Bool(true))
}

/// The `__STATE__` of a stored user: PUBLIC when absent (a document without state), DRAFT when
/// unreadable (so its auth user starts blocked).
pub(crate) fn stored_state(doc: &Value) -> DocState {
    match doc.get("__STATE__") {
        None => DocState::Public,
        Some(value) => value
            .as_str()
            .and_then(DocState::parse)
            .unwrap_or(DocState::Draft),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test bodies are objects"),
        }
    }

    fn message(result: Result<NewUserDoc, UserError>) -> String {
        match result {
            Err(UserError::Invalid(message)) => message,
            Err(other) => panic!("expected a 400, got {other:?}"),
            Ok(_) => panic!("expected a 400, got a document"),
        }
    }

    #[test]
    fn the_password_is_taken_out_and_the_state_defaults_to_public() {
        let input = body(json!({"userGroup": "g", "password": "s3cret!", "name": "a"}));
        let prepared = prepare(input, Route::Create).unwrap();
        assert_eq!(
            prepared.doc,
            json!({"userGroup": "g", "name": "a", "__STATE__": "PUBLIC"})
        );
        assert_eq!(prepared.state, DocState::Public);
        assert_eq!(prepared.password.unwrap().expose(), "s3cret!");
    }

    #[test]
    fn service_and_store_fields_are_refused_by_name() {
        for field in [
            "authUserId",
            "expirationId",
            "_id",
            "creatorId",
            "createdAt",
            "updaterId",
            "updatedAt",
        ] {
            let input = body(json!({"userGroup": "g", field: "x"}));
            assert!(message(prepare(input, Route::Create)).starts_with(&format!("{field} cannot be set")));
        }
    }

    #[test]
    fn with_id_requires_an_auth_user_id_and_refuses_a_password() {
        let linked = prepare(
            body(json!({"userGroup": "g", "authUserId": "auth0|1"})),
            Route::WithId,
        );
        assert_eq!(linked.unwrap().doc["authUserId"], "auth0|1");
        let missing = message(prepare(body(json!({"userGroup": "g"})), Route::WithId));
        assert_eq!(missing, "authUserId must be a non-empty string");
        let input = body(json!({"userGroup": "g", "authUserId": "a", "password": "p4ss"}));
        let error = message(prepare(input, Route::WithId));
        assert!(error.starts_with("password cannot be set") && !error.contains("p4ss"));
        let input = body(json!({"userGroup": "g", "authUserId": "a", "expirationId": "t"}));
        assert!(message(prepare(input, Route::WithId)).starts_with("expirationId cannot be set"));
    }

    #[test]
    fn a_given_state_is_kept_and_an_unknown_one_refused() {
        let trash = prepare(
            body(json!({"userGroup": "g", "__STATE__": "TRASH"})),
            Route::Create,
        )
        .unwrap();
        assert_eq!(
            (trash.state, &trash.doc["__STATE__"]),
            (DocState::Trash, &json!("TRASH"))
        );
        for bad in [json!("public"), json!(1)] {
            let error = message(prepare(
                body(json!({"userGroup": "g", "__STATE__": bad})),
                Route::Create,
            ));
            assert_eq!(error, "__STATE__ must be one of PUBLIC, DRAFT, TRASH, DELETED");
        }
    }

    #[test]
    fn a_password_must_be_a_non_empty_string_and_null_means_absent() {
        let error = message(prepare(
            body(json!({"userGroup": "g", "password": 12345})),
            Route::Create,
        ));
        assert_eq!(error, "password must be a string");
        let error = message(prepare(
            body(json!({"userGroup": "g", "password": ""})),
            Route::Create,
        ));
        assert_eq!(error, "password must not be empty");
        let prepared = prepare(body(json!({"userGroup": "g", "password": null})), Route::Create).unwrap();
        assert!(prepared.password.is_none() && prepared.doc.get("password").is_none());
    }

    #[test]
    fn auth_users_start_blocked_outside_public_or_when_blocked() {
        assert!(!starts_blocked(&json!({}), DocState::Public));
        assert!(!starts_blocked(&json!({"blocked": false}), DocState::Public));
        assert!(starts_blocked(&json!({"blocked": true}), DocState::Public));
        for state in [DocState::Draft, DocState::Trash, DocState::Deleted] {
            assert!(starts_blocked(&json!({}), state));
        }
        assert_eq!(stored_state(&json!({})), DocState::Public);
        assert_eq!(stored_state(&json!({"__STATE__": "TRASH"})), DocState::Trash);
        assert_eq!(stored_state(&json!({"__STATE__": 3})), DocState::Draft);
    }

    #[test]
    fn expiration_dates_are_checked_when_they_are_strings() {
        assert!(check_expiration(&json!({"expirationDate": "2030-01-31T10:00:00Z"})).is_ok());
        assert!(check_expiration(&json!({"expirationDate": "tomorrow"})).is_err());
        assert!(check_expiration(&json!({})).is_ok());
    }
}
