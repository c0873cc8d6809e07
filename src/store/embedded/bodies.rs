//! Insert and update bodies checked as the CRUD Service's schema does, with its 400 messages:
//! the stored form of an inserted document, and the update operators a PATCH may use (both in
//! `docquery`, shared with the CRUD fake).

use serde_json::Value;

use super::request::state;
use super::OpError;
use crate::store::DocState;

/// The document `POST /` stores for `body` (its `_id` still `null`), or the CRUD's 400.
pub(super) fn new_document(
    body: &Value,
    at: &str,
    default_state: DocState,
    user: &str,
    now: &str,
) -> Result<Value, OpError> {
    docquery::new_document(body, at, state(default_state), user, now).map_err(|e| OpError::Rejected(e.0))
}

/// The document `POST /import` stores for one row `body`, which carries its own `_id`, or the
/// CRUD's 400.
pub(super) fn imported_document(
    body: &Value,
    at: &str,
    default_state: DocState,
    user: &str,
    now: &str,
) -> Result<Value, OpError> {
    docquery::imported_document(body, at, state(default_state), user, now).map_err(|e| OpError::Rejected(e.0))
}

/// Checks an update body as the CRUD schema does (operators, protected fields, argument types),
/// then dry-runs it on an empty document so docquery's structural errors are 400 too.
pub(super) fn check_update(update: &Value, at: &str, now: &str) -> Result<(), OpError> {
    docquery::check_update(update, at, false, now).map_err(|e| OpError::Rejected(e.0))
}

/// Checks a document before it is stored: never a stub of an unreadable document, and nothing
/// the service could not read back (`docquery::Limits::STORE`).
pub(super) fn check_writable(doc: &Value, id: &str) -> Result<(), OpError> {
    if let Some(refusal) = crate::store::unreadable::stub_refusal(doc, &format!("document {id}")) {
        return Err(OpError::Rejected(refusal));
    }
    docquery::Limits::STORE
        .check_document(doc)
        .map_err(|e| OpError::Rejected(e.message))
}
