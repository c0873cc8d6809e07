//! What a session expects of both systems after each call, and the check that compares them:
//! every store user, every auth user. A call that changed something it should not have (an
//! extra user, a leftover auth user, a field of another user) fails the check as surely as one
//! that missed its own change.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::systems::Session;

/// One user the session made, as it expects to find it.
struct ExpectedUser {
    /// Fields the stored document must hold with these values; `Null` means "absent".
    fields: Map<String, Value>,
    /// `Some(blocked)`: linked to an auth user with the user's email and this `blocked`;
    /// `None`: a store-only user (no `authUserId`, no auth user).
    auth: Option<bool>,
}

/// The users both systems should hold, by store `_id`.
#[derive(Default)]
pub struct Expected {
    users: BTreeMap<String, ExpectedUser>,
}

impl Expected {
    /// A new user `id` with `fields` (an object) and its auth user (`Some(blocked)`) or none.
    pub fn add(&mut self, id: &str, fields: Value, auth: Option<bool>) {
        let Value::Object(fields) = fields else {
            panic!("expected fields are an object")
        };
        self.users.insert(id.to_owned(), ExpectedUser { fields, auth });
    }

    fn user(&mut self, id: &str) -> &mut ExpectedUser {
        self.users
            .get_mut(id)
            .unwrap_or_else(|| panic!("no expected user {id}"))
    }

    /// `field` of user `id` is now `value` (`Null`: removed).
    pub fn set(&mut self, id: &str, field: &str, value: Value) {
        self.user(id).fields.insert(field.to_owned(), value);
    }

    /// The auth user of `id` is now (un)blocked.
    pub fn auth_blocked(&mut self, id: &str, blocked: bool) {
        let user = self.user(id);
        assert!(user.auth.is_some(), "{id} has no auth user to block");
        user.auth = Some(blocked);
    }

    /// User `id` is gone from both systems.
    pub fn remove(&mut self, id: &str) {
        self.users.remove(id).expect("an expected user");
    }
}

impl Session {
    /// Compares both systems with `expected`, after the call named `step`.
    pub fn check(&self, expected: &Expected, step: &str) {
        let stored = self.users();
        let ids: Vec<&str> = stored.iter().filter_map(|u| u["_id"].as_str()).collect();
        let wanted: Vec<&str> = expected.users.keys().map(String::as_str).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted, wanted,
            "after {step}: the store holds exactly these users"
        );

        let auth_users = self.auth_users();
        let mut linked = Vec::new();
        for (id, user) in &expected.users {
            let doc = stored.iter().find(|u| u["_id"] == id.as_str()).unwrap();
            for (field, value) in &user.fields {
                let found = doc.get(field).unwrap_or(&Value::Null);
                assert_eq!(
                    found, value,
                    "after {step}: store user {id}, field {field}: {doc}"
                );
            }
            let auth_id = doc.get("authUserId").and_then(Value::as_str);
            let Some(blocked) = user.auth else {
                assert_eq!(auth_id, None, "after {step}: {id} is a store-only user: {doc}");
                continue;
            };
            let auth_id = auth_id.unwrap_or_else(|| panic!("after {step}: {id} is not linked: {doc}"));
            let auth = auth_users
                .iter()
                .find(|a| a.id == auth_id)
                .unwrap_or_else(|| panic!("after {step}: no auth user {auth_id} for {id}"));
            let email = user.fields.get("email").and_then(Value::as_str);
            assert_eq!(
                auth.email.as_deref(),
                email,
                "after {step}: the email of {id}'s auth user"
            );
            assert_eq!(
                auth.blocked, blocked,
                "after {step}: whether {id}'s auth user is blocked"
            );
            linked.push(auth_id.to_owned());
        }
        let mut provider: Vec<String> = auth_users.into_iter().map(|a| a.id).collect();
        provider.sort_unstable();
        linked.sort_unstable();
        assert_eq!(
            provider, linked,
            "after {step}: the auth provider holds exactly the auth users of the expected users"
        );
    }
}
