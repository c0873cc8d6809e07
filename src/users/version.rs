//! Versions of a user for optimistic concurrency (SPEC §12): the `ETag` of a user is its
//! `updatedAt` (every store write moves it), and an `If-Match` precondition is checked against the
//! user as read before a change; the store write itself is a compare-and-set on `updatedAt`.

use serde_json::Value;

use crate::users::{UserError, UserResult};

/// The strong entity tag of `user`: `"<updatedAt>"`; `None` without `updatedAt` (hidden by
/// `acl_read_columns`, or a document no store write made).
pub fn etag(user: &Value) -> Option<String> {
    user.get("updatedAt")?.as_str().map(|at| format!("\"{at}\""))
}

/// `PreconditionFailed` unless `if_match` (an `If-Match` header: `*` or a comma-separated list of
/// entity tags, compared strongly) matches the user `id` as read.
pub fn check_if_match(if_match: Option<&str>, id: &str, user: &Value) -> UserResult<()> {
    let Some(if_match) = if_match.map(str::trim) else {
        return Ok(());
    };
    if if_match == "*" {
        return Ok(());
    }
    let current = etag(user);
    if if_match
        .split(',')
        .map(str::trim)
        .any(|tag| Some(tag) == current.as_deref())
    {
        return Ok(());
    }
    Err(UserError::PreconditionFailed(format!(
        "user \"{id}\" is not at the version of If-Match ({if_match}): it is now {}; read it again",
        current.as_deref().unwrap_or("unversioned")
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_etag_is_the_quoted_updated_at_and_if_match_compares_it_strongly() {
        let user = json!({"_id": "u1", "updatedAt": "2024-05-01T10:00:00.000Z"});
        let tag = etag(&user).unwrap();
        assert_eq!(tag, "\"2024-05-01T10:00:00.000Z\"");
        assert!(check_if_match(None, "u1", &user).is_ok());
        assert!(check_if_match(Some("*"), "u1", &user).is_ok());
        assert!(check_if_match(Some(&tag), "u1", &user).is_ok());
        assert!(check_if_match(Some(&format!("\"old\", {tag}")), "u1", &user).is_ok());
        let weak = format!("W/{tag}");
        for stale in ["\"2024-04-01T10:00:00.000Z\"", weak.as_str(), ""] {
            let error = check_if_match(Some(stale), "u1", &user).unwrap_err();
            assert!(
                matches!(error, UserError::PreconditionFailed(_)),
                "{stale}: {error}"
            );
        }
        assert_eq!(etag(&json!({"_id": "u1"})), None);
    }
}
