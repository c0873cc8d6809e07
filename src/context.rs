//! `CallContext`: what one incoming request passes to every downstream call (forwarded headers,
//! ACL headers for the store, session credentials for the auth provider).

use reqwest::header::HeaderMap;

use crate::secret::Secret;

/// Per-request data every port method receives.
#[derive(Clone, Default)]
pub struct CallContext {
    /// Headers forwarded on every downstream call: the Mia headers, `x-request-id`,
    /// `x-forwarded-*` and `ADDITIONAL_HEADERS_TO_PROXY`. Nothing else is ever forwarded.
    pub forward: HeaderMap,
    /// `acl_rows` / `acl_read_columns`: sent to the user store on reads only.
    pub acl: Acl,
    /// Session credentials, sent only to the auth provider's session routes (userinfo, refresh).
    pub session: SessionHeaders,
    /// The request id (kept from the caller or generated); also inside `forward`.
    pub request_id: String,
    /// The incoming headers named by `TIMER_SERVICE_HEADERS`, copied into expiry callbacks.
    pub timer_headers: Vec<(String, String)>,
    /// Who is calling, for the audit trail: the value of the user id header (`USERID_HEADER_KEY`,
    /// set by the gateway; in `AUTHZ_MODE=scopes` set by this service from the verified token).
    /// `None` for work no caller started and for anonymous requests.
    pub actor: Option<String>,
    /// The address of the client: the TCP peer, or with `TRUSTED_PROXIES` the right-most
    /// `x-forwarded-for` address that is not a trusted proxy. `None` outside a request.
    pub client_address: Option<std::net::IpAddr>,
}

impl CallContext {
    /// The context of the service's own reads on behalf of this request: `acl_rows` still limits
    /// which documents the caller may act on, but `acl_read_columns` is dropped, because a
    /// projection hiding `authUserId`, `expirationId`, `userGroup` or `__STATE__` would break
    /// checks and silently skip side effects.
    pub fn internal(&self) -> Self {
        Self {
            acl: Acl {
                rows: self.acl.rows.clone(),
                read_columns: None,
                write_columns: None,
            },
            ..self.clone()
        }
    }

    /// The context of a check that must see every document whatever the caller may read (e.g.
    /// "does this group still have users?"): no ACL header at all. Its answer is a count or a
    /// yes/no, never documents, so nothing the caller may not read is disclosed.
    pub fn unrestricted(&self) -> Self {
        Self {
            acl: Acl::default(),
            ..self.clone()
        }
    }

    /// A context for work that no request started (jobs, health checks): only a request id.
    pub fn background(request_id: impl Into<String>) -> Self {
        let request_id = request_id.into();
        let mut forward = HeaderMap::new();
        if let Ok(value) = request_id.parse() {
            forward.insert("x-request-id", value);
        }
        Self {
            forward,
            request_id,
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Forwarded headers may include `authorization` or `cookie` through
        // ADDITIONAL_HEADERS_TO_PROXY: print only their names.
        let names: Vec<&str> = self.forward.keys().map(|k| k.as_str()).collect();
        f.debug_struct("CallContext")
            .field("request_id", &self.request_id)
            .field("forward", &names)
            .field("acl", &self.acl)
            .field("session", &self.session)
            .field("actor", &self.actor)
            .field("client_address", &self.client_address)
            .field(
                "timer_headers",
                &self.timer_headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The ACL headers the Mia gateway (or Rönd) sets for the CRUD Service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acl {
    /// `acl_rows`: a JSON filter (or array of filters) ANDed into every read.
    pub rows: Option<String>,
    /// `acl_read_columns`: comma-separated readable fields.
    pub read_columns: Option<String>,
    /// `acl_write_columns`: comma-separated fields a PATCH may change (checked by the service,
    /// never sent downstream: the service's own writes are not the caller's).
    pub write_columns: Option<String>,
}

/// Session credentials of the caller, forwarded to the auth provider's session routes only.
#[derive(Clone, Debug, Default)]
pub struct SessionHeaders {
    /// `authorization` header (bearer token).
    pub authorization: Option<Secret>,
    /// `cookie` header (`sid=...`).
    pub cookie: Option<Secret>,
    /// `client-key` header (Mia API key).
    pub client_key: Option<Secret>,
}
