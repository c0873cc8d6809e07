//! The scopes of `AUTHZ_MODE=scopes`: named as the cidaas Users API names them, plus those of the
//! routes cidaas does not have; optionally namespaced by `AUTHZ_SCOPE_PREFIX`.

use std::collections::BTreeSet;
use std::fmt;

/// One permission a token may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// List, count and export users.
    UsersSearch,
    /// Read one user.
    UsersRead,
    /// Create users: create, with-id, register, import.
    Register,
    /// Change users: patch, bulk patch, state changes, another user's password.
    UsersWrite,
    /// Delete users: delete, soft-delete, delete many.
    UsersDelete,
    /// Read the group configurations and schemas.
    GroupsRead,
    /// Change the group configurations and schemas.
    GroupsWrite,
    /// Start and read bulk jobs.
    Jobs,
    /// Manage the OAuth2 clients.
    ClientsWrite,
    /// Read the audit trail.
    AuditRead,
    /// Self-service: read one's own profile.
    Userinfo,
    /// Self-service: change one's own profile and password.
    Userupdate,
    /// Self-service: delete one's own account.
    Deleteuser,
}

impl Scope {
    /// Every scope, in the order of the README's table.
    pub const ALL: [Scope; 13] = [
        Scope::UsersSearch,
        Scope::UsersRead,
        Scope::Register,
        Scope::UsersWrite,
        Scope::UsersDelete,
        Scope::GroupsRead,
        Scope::GroupsWrite,
        Scope::Jobs,
        Scope::ClientsWrite,
        Scope::AuditRead,
        Scope::Userinfo,
        Scope::Userupdate,
        Scope::Deleteuser,
    ];

    /// What every person who logs in gets (cidaas: `userinfo`, `userupdate`, `deleteuser`).
    pub const SELF_SERVICE: [Scope; 3] = [Scope::Userinfo, Scope::Userupdate, Scope::Deleteuser];

    /// The name without prefix, e.g. `users_read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersSearch => "users_search",
            Self::UsersRead => "users_read",
            Self::Register => "register",
            Self::UsersWrite => "users_write",
            Self::UsersDelete => "users_delete",
            Self::GroupsRead => "groups_read",
            Self::GroupsWrite => "groups_write",
            Self::Jobs => "jobs",
            Self::ClientsWrite => "clients_write",
            Self::AuditRead => "audit_read",
            Self::Userinfo => "userinfo",
            Self::Userupdate => "userupdate",
            Self::Deleteuser => "deleteuser",
        }
    }

    /// The scope of an unprefixed name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    /// What the scope allows, for the OpenAPI document.
    pub fn description(self) -> &'static str {
        match self {
            Self::UsersSearch => "list, count and export users",
            Self::UsersRead => "read one user",
            Self::Register => "create users (create, with-id, register, import)",
            Self::UsersWrite => "change users (patch, state, another user's password)",
            Self::UsersDelete => "delete users (delete, soft-delete)",
            Self::GroupsRead => "read group configurations",
            Self::GroupsWrite => "change group configurations",
            Self::Jobs => "start and follow bulk jobs",
            Self::ClientsWrite => "manage OAuth2 clients",
            Self::AuditRead => "read the audit trail",
            Self::Userinfo => "read one's own profile",
            Self::Userupdate => "change one's own profile and password",
            Self::Deleteuser => "delete one's own account",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How scopes are spelt on the wire: `AUTHZ_SCOPE_PREFIX` + the name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeNames {
    prefix: String,
}

impl ScopeNames {
    /// Names with `prefix` (may be empty).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The wire name of `scope`, e.g. `ums:users_read` with prefix `ums:`.
    pub fn name(&self, scope: Scope) -> String {
        format!("{}{}", self.prefix, scope.as_str())
    }

    /// The scopes of a space-separated `scope` claim; names without the prefix, and names this
    /// service does not know, are ignored (a token may carry other services' scopes).
    pub fn parse_claim(&self, claim: &str) -> BTreeSet<Scope> {
        self.parse_names(claim.split_ascii_whitespace())
    }

    /// The scopes of a list of wire names (e.g. an Auth0 `permissions` claim); unknown ones are
    /// ignored.
    pub fn parse_names<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> BTreeSet<Scope> {
        names
            .into_iter()
            .filter_map(|name| name.strip_prefix(self.prefix.as_str()))
            .filter_map(Scope::parse)
            .collect()
    }

    /// The space-separated claim of `scopes`.
    pub fn claim<'a>(&self, scopes: impl IntoIterator<Item = &'a Scope>) -> String {
        let names: Vec<String> = scopes.into_iter().map(|s| self.name(*s)).collect();
        names.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_has_a_distinct_name_that_parses_back() {
        let names: BTreeSet<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Scope::ALL.len());
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }

    #[test]
    fn a_prefix_namespaces_the_claim_both_ways() {
        let names = ScopeNames::new("ums:");
        let claim = names.claim(&[Scope::UsersRead, Scope::Jobs]);
        assert_eq!(claim, "ums:users_read ums:jobs");
        let parsed = names.parse_claim("ums:users_read users_write other:jobs ums:nope  ums:jobs");
        assert_eq!(parsed, BTreeSet::from([Scope::UsersRead, Scope::Jobs]));
    }
}
