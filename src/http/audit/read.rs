//! `GET /audit`: the audit records, newest first, filtered by actor, target, action and time,
//! one page at a time (`_l`, `_sk`, as the other lists); 501 when records are log lines only.

use axum::extract::{RawQuery, State};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::{AuditError, AuditQuery, AuditRecord, MAX_LIMIT};
use crate::http::doc::DownstreamFailures;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{query_pairs, ApiJson, Ctx};
use crate::state::AppState;

pub(in crate::http) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// The query of `GET /audit`; every filter given must match.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "OpenAPI documentation of a query parsed by hand")]
struct AuditParams {
    /// Only the records of this actor (the user id header of the call).
    actor: Option<String>,
    /// Only the records of this target (a user id, a login name, a group, a job id).
    target: Option<String>,
    /// Only the records of this action (`user.create`, `login.failure`, ...).
    action: Option<String>,
    /// Only the records at or after this time (RFC 3339, e.g. `2026-01-31T00:00:00Z`).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only the records at or before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Page size, 1 to 200 (default 25).
    #[param(rename = "_l", minimum = 1, maximum = 200)]
    l: Option<u32>,
    /// How many matching records to skip.
    #[param(rename = "_sk", minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    sk: Option<u64>,
}

/// The audit trail: administrative writes and refused logins, newest first. Records name the
/// fields a request carried, never their values.
#[utoipa::path(get, path = "/audit", tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "The matching records, newest first", body = Vec<AuditRecord>),
        (status = 400, description = "Unknown or repeated parameter, a time that is not RFC 3339, `_l` or `_sk` \
            out of range, a malformed `acl_rows` header (which does not apply to the records)", body = ErrorBody),
        (status = 501, description = "Records are written to the log only: no AUDIT_CRUD_ENDPOINT", body = ErrorBody),
        DownstreamFailures))]
async fn list_audit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<ApiJson<Vec<AuditRecord>>> {
    let query = parse(query_pairs(raw.as_deref())?)?;
    match state.audit.find(&ctx, &query).await {
        Ok(records) => Ok(ApiJson(records)),
        Err(AuditError::NotStored) => Err(ApiError::NotImplemented(
            "the audit trail is written to the log only: set AUDIT_CRUD_ENDPOINT to store and read it".into(),
        )),
        Err(AuditError::Store(error)) => Err(error.into()),
    }
}

const PARAMS: &str = "actor, target, action, from, to, _l, _sk";

fn parse(pairs: Vec<(String, String)>) -> ApiResult<AuditQuery> {
    let mut query = AuditQuery::default();
    for (name, value) in pairs {
        let bad = |what: &str| ApiError::BadRequest(format!("{name} must be {what}"));
        let repeated = || ApiError::BadRequest(format!("query parameter {name} must appear only once"));
        let slot_taken = match name.as_str() {
            "actor" => query.actor.replace(value).is_some(),
            "target" => query.target.replace(value).is_some(),
            "action" => query.action.replace(value).is_some(),
            "from" => query
                .from
                .replace(instant(&value).ok_or_else(|| bad(RFC3339))?)
                .is_some(),
            "to" => query
                .to
                .replace(instant(&value).ok_or_else(|| bad(RFC3339))?)
                .is_some(),
            "_l" => {
                let limit = value.parse::<u32>().ok().filter(|l| (1..=MAX_LIMIT).contains(l));
                let limit = limit.ok_or_else(|| bad(&format!("an integer between 1 and {MAX_LIMIT}")))?;
                query.limit.replace(limit).is_some()
            }
            "_sk" => {
                let skip = value.parse::<u64>().ok().filter(|s| i64::try_from(*s).is_ok());
                let skip = skip.ok_or_else(|| bad("an integer between 0 and 9223372036854775807"))?;
                query.skip.replace(skip).is_some()
            }
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter \"{name}\": this route accepts {PARAMS}"
                )))
            }
        };
        if slot_taken {
            return Err(repeated());
        }
    }
    Ok(query)
}

const RFC3339: &str = "an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z";

/// An RFC 3339 time as a record's `at` is written (UTC, milliseconds), so that they compare as
/// text. `T` and `Z` may be lower case (RFC 3339 §5.6).
fn instant(text: &str) -> Option<String> {
    let at = OffsetDateTime::parse(&text.to_ascii_uppercase(), &Rfc3339).ok()?;
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    Some(crate::jobs::iso_of_millis(i64::try_from(millis).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn refused(items: &[(&str, &str)]) -> String {
        match parse(pairs(items)) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn every_parameter_is_read_and_times_are_normalised_to_utc_milliseconds() {
        let query = parse(pairs(&[
            ("actor", "admin"),
            ("target", "u1"),
            ("action", "user.create"),
            ("from", "2026-01-31T13:00:00+01:00"),
            ("to", "2026-02-01t00:00:00.5z"),
            ("_l", "10"),
            ("_sk", "5"),
        ]))
        .unwrap();
        assert_eq!(query.from.as_deref(), Some("2026-01-31T12:00:00.000Z"));
        assert_eq!(query.to.as_deref(), Some("2026-02-01T00:00:00.500Z"));
        assert_eq!((query.limit, query.skip), (Some(10), Some(5)));
        assert_eq!(query.actor.as_deref(), Some("admin"));
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        assert!(refused(&[("from", "yesterday")]).starts_with("from must be an RFC 3339"));
        assert!(refused(&[("_l", "0")]).starts_with("_l must be"));
        assert!(refused(&[("_l", "201")]).starts_with("_l must be"));
        assert!(refused(&[("_sk", "-1")]).starts_with("_sk must be"));
        assert!(refused(&[("actor", "a"), ("actor", "b")]).contains("only once"));
        assert!(refused(&[("_q", "{}")]).contains("unknown query parameter \"_q\""));
    }
}
