//! Which scope each route needs in `AUTHZ_MODE=scopes`: one table, read by the guard for every
//! request and by the OpenAPI document for every operation. A route missing here is refused
//! (403) and undocumented, and the table-driven test over the document fails.

use axum::http::Method;

use crate::authz::Scope;

/// What a route asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the operations routes, login and refresh, the JWKS, the password-reset redemption.
    Public,
    /// A bearer access token carrying the scope.
    Scope(Scope),
    /// The Timer Service's expiry callback: the credential this service gave the timer (header
    /// `x-ums-callback-token`, for the user of the path), or else a token carrying the scope.
    Callback(Scope),
}

/// The access of `method` on the route template `path` (as axum matched it, e.g.
/// `/users/{id}`); `None` for a route the table does not know.
pub fn access(method: &Method, path: &str) -> Option<Access> {
    use Scope::*;
    let scope = |scope| Some(Access::Scope(scope));
    let m = method.as_str();
    match (m, path) {
        (_, p) if p.starts_with("/-/") => Some(Access::Public),
        ("GET", "/documentation/json" | "/.well-known/jwks.json") => Some(Access::Public),
        ("POST", "/oauth/token" | "/refreshtoken" | "/users/reset-password") => Some(Access::Public),
        ("GET", "/userinfo" | "/users/me") => scope(Userinfo),
        ("PATCH", "/users/me") | ("POST", "/users/me/password") => scope(Userupdate),
        ("DELETE", "/users/me") => scope(Deleteuser),
        ("GET", "/users/" | "/users/count" | "/users/export" | "/users/schema") => scope(UsersSearch),
        ("GET", "/users/{id}") => scope(UsersRead),
        ("POST", "/users/" | "/users/with-id" | "/users/register") => scope(Register),
        // With `activate=true` the route also needs `Jobs` (it starts a bulk activation), which
        // it checks itself once the form's options are read (`users::import::activate`).
        ("POST" | "PATCH", "/users/import") => scope(Register),
        ("PATCH", "/users/" | "/users/bulk" | "/users/{id}") => scope(UsersWrite),
        ("POST", "/users/state" | "/users/change-password" | "/users/{id}/state") => scope(UsersWrite),
        ("POST", "/users/{id}/expire") => Some(Access::Callback(UsersWrite)),
        ("DELETE", "/users/" | "/users/{id}") => scope(UsersDelete),
        ("POST", "/users/{id}/soft-delete") => scope(UsersDelete),
        ("GET", "/groups/" | "/groups/{id}") => scope(GroupsRead),
        ("POST" | "PATCH" | "PUT" | "DELETE", "/groups/" | "/groups/{id}") => scope(GroupsWrite),
        (_, p) if p.starts_with("/jobs/") => scope(Jobs),
        (_, "/clients" | "/clients/" | "/clients/{id}") => scope(ClientsWrite),
        ("GET", "/audit") => scope(AuditRead),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_searches_writes_and_deletes_of_users_need_their_scopes() {
        let get = Method::GET;
        assert_eq!(access(&get, "/users/"), Some(Access::Scope(Scope::UsersSearch)));
        assert_eq!(access(&get, "/users/{id}"), Some(Access::Scope(Scope::UsersRead)));
        assert_eq!(
            access(&Method::DELETE, "/users/{id}"),
            Some(Access::Scope(Scope::UsersDelete))
        );
        assert_eq!(access(&get, "/-/healthz"), Some(Access::Public));
        assert_eq!(access(&get, "/nowhere"), None);
        assert_eq!(access(&Method::POST, "/users/{id}"), None);
    }
}
