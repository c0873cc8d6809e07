//! Pure pieces of a bulk activation: a store user checked and turned into a provider import
//! record, records packed into files by serialized bytes, and the provider's import errors
//! attributed to the users of a file.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::state::{ErrorDetail, ImportFile, UserFailure};
use crate::auth::ImportFailure;

/// The prefix the provider puts before the `user_id` of an imported user (Auth0 database
/// connections): the store's `authUserId` is this prefix and the store `_id`.
pub const PROVIDER_ID_PREFIX: &str = "auth0|";

/// One user of an import file, as the provider reads it.
#[derive(Serialize)]
struct ImportRecord<'a> {
    user_id: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    blocked: bool,
    email_verified: bool,
    /// The marker of users this service created: the store `_id` (the reconciler recognises
    /// an orphan by it).
    app_metadata: Marker<'a>,
}

/// `app_metadata` of an import record.
#[derive(Serialize)]
struct Marker<'a> {
    #[serde(rename = "umsUserId")]
    ums_user_id: &'a str,
}

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The serialized import record of the store user `id` (`doc`, `None` when not found), or why
/// it cannot be activated. `limit` is the largest file: a record that cannot fit alone fails.
pub fn import_record(id: &str, doc: Option<&Value>, limit: usize) -> Result<Vec<u8>, UserFailure> {
    let Some(doc) = doc else {
        return Err(UserFailure::new(
            id,
            "USER_NOT_FOUND",
            format!("user {id} is not in the user store"),
        ));
    };
    if let Some(linked) = doc
        .get("authUserId")
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
    {
        let linked = linked.as_str().map_or_else(|| linked.to_string(), str::to_owned);
        let message = format!("user {id} is already linked to the auth user {linked}");
        return Err(UserFailure::new(id, "ALREADY_ACTIVE", message));
    }
    let Some(email) = text(doc, "email") else {
        let message = format!("user {id} has no email: the auth provider needs one to import it");
        return Err(UserFailure::new(id, "EMAIL_REQUIRED", message));
    };
    let hidden = matches!(text(doc, "__STATE__"), Some("DRAFT" | "TRASH" | "DELETED"));
    let record = ImportRecord {
        user_id: id,
        email,
        username: text(doc, "username"),
        blocked: doc.get("blocked").and_then(Value::as_bool).unwrap_or(false) || hidden,
        email_verified: false,
        app_metadata: Marker { ums_user_id: id },
    };
    let bytes = serde_json::to_vec(&record)
        .map_err(|e| UserFailure::new(id, "INVALID_USER", format!("user {id} cannot be serialized: {e}")))?;
    if bytes.len() + 2 >= limit {
        let message = format!(
            "user {id} takes {} bytes: it does not fit an import file",
            bytes.len()
        );
        return Err(UserFailure::new(id, "RECORD_TOO_LARGE", message));
    }
    Ok(bytes)
}

/// Failures the plan puts in one file: past them it opens another file, so that a file
/// document stays bounded (users not found, say, fill no file by bytes).
pub const MAX_PLAN_FAILURES_PER_FILE: usize = 1_000;

/// Adds a record of `len` bytes (user `id`) to the last file of `files` if the file stays
/// under `limit` bytes serialized (`[` + records joined by `,` + `]`), else to a new file.
pub fn place(files: &mut Vec<ImportFile>, id: String, len: usize, limit: usize) {
    match files.last_mut() {
        Some(last) if last.user_ids.is_empty() => {
            last.user_ids.push(id);
            last.bytes = 2 + len;
        }
        Some(last) if last.bytes + 1 + len < limit => {
            last.user_ids.push(id);
            last.bytes += 1 + len;
        }
        _ => files.push(ImportFile {
            user_ids: vec![id],
            bytes: 2 + len,
            ..ImportFile::default()
        }),
    }
}

/// Adds a user that cannot be imported to the last file of `files` (the one its users are read
/// into), or to a new file once the last holds [`MAX_PLAN_FAILURES_PER_FILE`].
pub fn place_failure(files: &mut Vec<ImportFile>, failure: UserFailure) {
    match files.last_mut() {
        Some(last) if last.failures.len() < MAX_PLAN_FAILURES_PER_FILE => last.failures.push(failure),
        _ => files.push(ImportFile {
            bytes: 2,
            failures: vec![failure],
            ..ImportFile::default()
        }),
    }
}

/// Splits `records` (id, serialized record) into files each under `limit` bytes, in order.
pub fn split(records: &[(String, Vec<u8>)], limit: usize) -> Vec<ImportFile> {
    let mut files = Vec::new();
    for (id, record) in records {
        place(&mut files, id.clone(), record.len(), limit);
    }
    files
}

/// The import file of `records`: their JSON array.
pub fn file_body(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let size = 2 + records.iter().map(|(_, r)| r.len() + 1).sum::<usize>();
    let mut body = Vec::with_capacity(size);
    body.push(b'[');
    for (i, (_, record)) in records.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(record);
    }
    body.push(b']');
    body
}

/// The provider failures of a file whose users are `ids`, per user: matched by `user_id` (with or
/// without the provider prefix), else by email (`emails`: lower-case email → id). Returns the
/// failures and how many provider failures matched no user of the file.
pub fn attribute(
    ids: &[String],
    emails: &HashMap<String, String>,
    failures: Vec<ImportFailure>,
) -> (Vec<UserFailure>, usize) {
    let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut found: Vec<UserFailure> = Vec::new();
    let mut unattributed = 0;
    for failure in failures {
        let by_id = failure
            .user_id
            .as_deref()
            .map(|id| id.strip_prefix(PROVIDER_ID_PREFIX).unwrap_or(id))
            .filter(|id| known.contains(id))
            .map(str::to_owned);
        let by_email = || {
            let email = failure.email.as_deref()?.to_lowercase();
            emails.get(&email).cloned()
        };
        let Some(user_id) = by_id.or_else(by_email) else {
            unattributed += 1;
            continue;
        };
        let mut errors: Vec<ErrorDetail> = failure
            .errors
            .into_iter()
            .map(|e| ErrorDetail {
                code: e.code,
                message: e.message,
            })
            .collect();
        if errors.is_empty() {
            let message = "the auth provider did not import this user".to_owned();
            errors.push(ErrorDetail {
                code: "IMPORT_FAILED".to_owned(),
                message,
            });
        }
        match found.iter_mut().find(|f| f.user_id == user_id) {
            Some(existing) => existing.errors.extend(errors),
            None => found.push(UserFailure { user_id, errors }),
        }
    }
    (found, unattributed)
}
