//! What the audit middleware records: every non-GET operation of the router is either in
//! [`AUDITED`] (its action name and where its target comes from) or in [`NOT_AUDITED`] with the
//! reason. A route in neither fails `every_write_operation_is_audited_or_listed_as_not_audited`.

/// One audited operation, as the router matches it.
pub(crate) struct Audited {
    /// The HTTP method.
    pub method: &'static str,
    /// The route as the router matches it (`/users/{id}`).
    pub route: &'static str,
    /// The action it records.
    pub action: Action,
    /// Where its target comes from, the first source that has one winning.
    pub target: &'static [Source],
}

/// The action name of an audited operation.
pub(crate) enum Action {
    /// Whatever the answer (a refused write is recorded as a failure).
    Always(&'static str),
    /// Only these answers are recorded, each with its action (a login: its refusals only).
    OnStatus(&'static [(u16, &'static str)]),
}

impl Action {
    /// The action recorded for an answer with `status`, if any.
    pub fn for_status(&self, status: u16) -> Option<&'static str> {
        match self {
            Self::Always(name) => Some(name),
            Self::OnStatus(statuses) => statuses.iter().find(|(s, _)| *s == status).map(|(_, name)| *name),
        }
    }
}

/// Where a record's target is read.
pub(crate) enum Source {
    /// The `id` path parameter.
    Path,
    /// A string field of the JSON (or form) request body, read by name; never a secret field.
    Body(&'static str),
    /// A string field of the JSON answer (a created id, a job id).
    Answer(&'static str),
}

impl Audited {
    /// Whether the target may come from the answer (which is then read).
    pub fn reads_answer(&self) -> bool {
        self.target.iter().any(|s| matches!(s, Source::Answer(_)))
    }
}

const fn audited(
    method: &'static str,
    route: &'static str,
    action: &'static str,
    target: &'static [Source],
) -> Audited {
    Audited {
        method,
        route,
        action: Action::Always(action),
        target,
    }
}

/// Login refusals: 401 and 403 (wrong credentials, blocked user, refused client), and 429
/// (an account locked after too many failures).
const LOGIN_REFUSALS: &[(u16, &str)] = &[
    (401, "login.failure"),
    (403, "login.failure"),
    (429, "login.locked"),
];

/// Every audited operation.
pub(crate) const AUDITED: &[Audited] = &[
    audited("POST", "/users/", "user.create", &[Source::Answer("_id")]),
    audited("POST", "/users", "user.create", &[Source::Answer("_id")]),
    audited(
        "POST",
        "/users/with-id",
        "user.create_with_id",
        &[Source::Answer("_id")],
    ),
    audited("POST", "/users/register", "user.register", &[Source::Body("_id")]),
    audited("PATCH", "/users/{id}", "user.update", &[Source::Path]),
    audited("DELETE", "/users/{id}", "user.delete", &[Source::Path]),
    audited("DELETE", "/users/", "user.delete_many", &[]),
    audited("PATCH", "/users/", "user.update_many", &[]),
    audited("PATCH", "/users/bulk", "user.update_bulk", &[]),
    audited(
        "POST",
        "/users/{id}/soft-delete",
        "user.soft_delete",
        &[Source::Path],
    ),
    audited("POST", "/users/{id}/expire", "user.expire", &[Source::Path]),
    audited("POST", "/users/state", "user.state", &[]),
    audited("POST", "/users/{id}/state", "user.state", &[Source::Path]),
    audited("PATCH", "/users/import", "user.import", &[]),
    audited("POST", "/users/import", "user.import", &[]),
    audited(
        "POST",
        "/users/change-password",
        "user.change_password",
        &[Source::Body("authUserId")],
    ),
    audited(
        "POST",
        "/jobs/bulk-activation",
        "job.bulk_activation.start",
        &[Source::Answer("jobId")],
    ),
    audited(
        "POST",
        "/jobs/change-password/bulk",
        "job.change_password.start",
        &[Source::Answer("jobId")],
    ),
    audited(
        "POST",
        "/jobs/reconcile",
        "job.reconcile.start",
        &[Source::Answer("jobId")],
    ),
    audited("POST", "/groups/", "group.create", &[Source::Body("userGroup")]),
    audited(
        "PATCH",
        "/groups/{id}",
        "group.update",
        &[Source::Answer("userGroup"), Source::Path],
    ),
    audited("DELETE", "/groups/{id}", "group.delete", &[Source::Path]),
    audited("POST", "/clients", "client.create", &[Source::Answer("clientId")]),
    audited("PATCH", "/users/me", "user.self_update", &[Source::Answer("_id")]),
    audited("DELETE", "/users/me", "user.self_delete", &[]),
    audited("POST", "/users/me/password", "user.self_password", &[]),
    audited("DELETE", "/clients/{id}", "client.delete", &[Source::Path]),
    Audited {
        method: "POST",
        route: "/oauth/token",
        action: Action::OnStatus(LOGIN_REFUSALS),
        target: &[Source::Body("username"), Source::Body("client_id")],
    },
];

/// The non-GET operations that are not audited, with the reason.
pub(crate) const NOT_AUDITED: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/refreshtoken",
        "a session renewal by its holder, not an administrative write",
    ),
    (
        "POST",
        "/users/reset-password",
        "redeems a reset token by its holder (requested through the audited POST /users/change-password)",
    ),
];

/// The audited operation `method route`, if it is one.
pub(crate) fn lookup(method: &str, route: &str) -> Option<&'static Audited> {
    AUDITED.iter().find(|a| a.method == method && a.route == route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_operation_is_audited_or_listed_as_not_audited() {
        let doc = crate::http::openapi();
        let mut missing = Vec::new();
        for (path, item) in &doc.paths.paths {
            let item = serde_json::to_value(item).unwrap_or_default();
            for method in ["post", "put", "patch", "delete"] {
                if item.get(method).is_none() {
                    continue;
                }
                let method = method.to_uppercase();
                let listed = lookup(&method, path).is_some()
                    || NOT_AUDITED.iter().any(|(m, r, _)| *m == method && r == path);
                if !listed {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(missing.is_empty(), "add to AUDITED or NOT_AUDITED: {missing:?}");
    }

    #[test]
    fn nothing_is_both_audited_and_not_audited() {
        for (method, route, _) in NOT_AUDITED {
            assert!(lookup(method, route).is_none(), "{method} {route}");
        }
    }

    #[test]
    fn a_login_records_its_refusals_only() {
        let login = lookup("POST", "/oauth/token").map(|a| &a.action);
        let action = |status| login.and_then(|a| a.for_status(status));
        assert_eq!(action(200), None);
        assert_eq!(action(400), None);
        assert_eq!(action(401), Some("login.failure"));
        assert_eq!(action(429), Some("login.locked"));
        assert_eq!(
            lookup("DELETE", "/users/{id}").and_then(|a| a.action.for_status(502)),
            Some("user.delete")
        );
    }
}
