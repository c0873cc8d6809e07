//! The expiry timer of a user (`expirationDate`): scheduled on the Timer Service to call
//! `POST /users/:id/expire`, and aborted.

use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::context::CallContext;
use crate::failure::Failure;
use crate::timer::{Callback, Schedule};
use crate::users::{UserError, UserService};

/// Parses an `expirationDate` (RFC 3339).
pub fn parse_expiration(date: &str) -> Result<OffsetDateTime, UserError> {
    OffsetDateTime::parse(date, &Rfc3339).map_err(|_| {
        UserError::Invalid(format!(
            "expirationDate \"{date}\" is not an RFC 3339 date-time (e.g. 2030-01-31T10:00:00Z)"
        ))
    })
}

/// Schedules the expiry callback `POST /users/<id>/expire` at `date`; returns its
/// `expirationId`, or `None` without `TIMER_SERVICE` (a warning is logged once per process).
pub async fn schedule_expiry(
    svc: &UserService,
    ctx: &CallContext,
    user_id: &str,
    date: &str,
) -> Result<Option<String>, UserError> {
    let fire_at = parse_expiration(date)?;
    let Some(expiry) = &svc.expiry else {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!("expirationDate is stored but not enforced: TIMER_SERVICE is not set");
        });
        return Ok(None);
    };
    let mut callback = callback(&expiry.callback_base_url, user_id, ctx)?;
    if let Some(credential) = expiry
        .callback_signer
        .as_ref()
        .and_then(|s| s.sign(user_id, fire_at))
    {
        let header = crate::users::CALLBACK_TOKEN_HEADER.to_owned();
        callback
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(&header));
        callback.headers.push((header, credential));
    }
    let schedule = Schedule {
        // The date travels with the callback, so a callback of a timer since replaced is ignored.
        payload: json!({ "userId": user_id, "expirationDate": date }),
        fire_at,
        callback,
    };
    Ok(Some(expiry.timer.schedule(ctx, &schedule).await?))
}

fn callback(base_url: &str, user_id: &str, ctx: &CallContext) -> Result<Callback, UserError> {
    let url = url::Url::parse(base_url)
        .map_err(|e| UserError::Internal(format!("TIMER_CALLBACK_BASE_URL is not a URL: {e}")))?;
    let base_path = url.path().trim_end_matches('/');
    Ok(Callback {
        protocol: url.scheme().to_owned(),
        hostname: url.host_str().unwrap_or_default().to_owned(),
        port: url.port_or_known_default().unwrap_or(80),
        path: format!(
            "{base_path}/users/{}/expire",
            crate::downstream::encode_segment(user_id)
        ),
        headers: ctx.timer_headers.clone(),
    })
}

/// Aborts an expiry timer; does nothing without `TIMER_SERVICE`.
pub async fn abort_expiry(svc: &UserService, ctx: &CallContext, expiration_id: &str) -> Result<(), Failure> {
    match &svc.expiry {
        Some(expiry) => expiry.timer.abort(ctx, expiration_id).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_targets_the_expire_route_with_the_timer_headers() {
        let ctx = CallContext {
            timer_headers: vec![("miauserid".into(), "admin".into())],
            ..CallContext::default()
        };
        let cb = callback("https://ums.example.com:8443/base/", "abc", &ctx).unwrap();
        assert_eq!(cb.protocol, "https");
        assert_eq!(cb.hostname, "ums.example.com");
        assert_eq!(cb.port, 8443);
        assert_eq!(cb.path, "/base/users/abc/expire");
        assert_eq!(cb.headers, vec![("miauserid".to_owned(), "admin".to_owned())]);
        let cb = callback("http://user-manager-service", "abc", &ctx).unwrap();
        assert_eq!((cb.port, cb.path.as_str()), (80, "/users/abc/expire"));
    }

    #[test]
    fn expiration_dates_must_be_rfc3339() {
        assert!(parse_expiration("2030-01-31T10:00:00Z").is_ok());
        assert!(parse_expiration("2030-01-31").is_err());
    }
}
