//! The audit of the `chaos` scenario: every store user (all states) and every auth user read
//! straight from the fakes, and the inconsistencies between them counted by kind.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

/// The kinds of inconsistency, in report order, with what each means.
pub const KINDS: [(&str, &str); 6] = [
    ("orphanAuthUsers", "auth users no store user's `authUserId` names"),
    (
        "danglingLinks",
        "store users whose `authUserId` is not an auth user",
    ),
    (
        "customerWithoutAuthUser",
        "`customer` store users in PUBLIC/DRAFT/TRASH without `authUserId`",
    ),
    ("emailMismatch", "linked pairs whose emails differ"),
    (
        "blockedMismatch",
        "linked pairs where auth `blocked` ≠ (state ≠ PUBLIC)",
    ),
    (
        "deletedStillLinked",
        "DELETED store users still linked (AUTH_HARD_DELETE=true unlinks them)",
    ),
];

/// How many examples of each kind are kept.
const EXAMPLES: usize = 3;

/// What one audit found.
#[derive(Debug, Default)]
pub struct Audit {
    /// Store users read (every state).
    pub store_users: usize,
    /// Auth users read.
    pub auth_users: usize,
    /// Inconsistencies by kind (every kind of [`KINDS`] present).
    pub counts: BTreeMap<&'static str, usize>,
    /// A few ids of each kind.
    pub examples: BTreeMap<&'static str, Vec<String>>,
}

impl Audit {
    fn found(&mut self, kind: &'static str, example: String) {
        *self.counts.entry(kind).or_default() += 1;
        let examples = self.examples.entry(kind).or_default();
        if examples.len() < EXAMPLES {
            examples.push(example);
        }
    }

    /// Inconsistencies of `kind`.
    pub fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or_default()
    }

    /// Inconsistencies of every kind.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// Reads every page of `url`: `_l` = `page`, `_sk` = documents to skip (the CRUD Service) or,
/// `by_page`, the page number (the Auth0 Client).
async fn read_all(
    client: &reqwest::Client,
    url: &str,
    page: usize,
    by_page: bool,
) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    loop {
        let skip = if by_page { all.len() / page } else { all.len() };
        let response = client
            .get(url)
            .query(&[("_l", page), ("_sk", skip)])
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| format!("GET {url}: {e}"))?;
        let Some(items) = body.as_array().filter(|_| status.is_success()) else {
            return Err(format!("GET {url}: {status} {body}"));
        };
        let n = items.len();
        all.extend(items.iter().cloned());
        if n < page {
            return Ok(all);
        }
    }
}

/// Reads both fakes and counts the inconsistencies.
pub async fn audit(client: &reqwest::Client, crud: &str, auth: &str) -> Result<Audit, String> {
    let store_url = format!("{crud}/users/?_st=PUBLIC,DRAFT,TRASH,DELETED");
    let store = read_all(client, &store_url, 200, false).await?;
    let auth_users = read_all(client, &format!("{auth}/users"), 100, true).await?;
    Ok(count(&store, &auth_users))
}

/// The inconsistencies between `store` users and `auth` users.
pub fn count(store: &[Value], auth: &[Value]) -> Audit {
    let mut audit = Audit {
        store_users: store.len(),
        auth_users: auth.len(),
        counts: KINDS.iter().map(|(kind, _)| (*kind, 0)).collect(),
        ..Audit::default()
    };
    let by_id: HashMap<&str, &Value> = auth
        .iter()
        .filter_map(|user| Some((user["user_id"].as_str()?, user)))
        .collect();
    let mut linked: HashSet<&str> = HashSet::new();
    for user in store {
        let id = user["_id"].as_str().unwrap_or("?");
        let state = user["__STATE__"].as_str().unwrap_or("?");
        let Some(auth_id) = user["authUserId"].as_str() else {
            let live = matches!(state, "PUBLIC" | "DRAFT" | "TRASH");
            if live && user["userGroup"] == "customer" {
                audit.found("customerWithoutAuthUser", format!("{id} ({state})"));
            }
            continue;
        };
        linked.insert(auth_id);
        if state == "DELETED" {
            audit.found("deletedStillLinked", format!("{id} → {auth_id}"));
        }
        let Some(auth_user) = by_id.get(auth_id) else {
            audit.found("danglingLinks", format!("{id} → {auth_id}"));
            continue;
        };
        if user["email"] != auth_user["email"] {
            let pair = format!("{id} {} ≠ {}", user["email"], auth_user["email"]);
            audit.found("emailMismatch", pair);
        }
        let blocked = auth_user["blocked"].as_bool().unwrap_or(false);
        if blocked != (state != "PUBLIC") {
            audit.found("blockedMismatch", format!("{id} {state}, blocked {blocked}"));
        }
    }
    for id in by_id.keys() {
        if !linked.contains(id) {
            audit.found("orphanAuthUsers", (*id).to_owned());
        }
    }
    audit
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_each_kind() {
        let store = [
            json!({"_id": "ok", "__STATE__": "PUBLIC", "userGroup": "customer", "email": "a@x", "authUserId": "auth0|a"}),
            json!({"_id": "dangling", "__STATE__": "PUBLIC", "email": "b@x", "authUserId": "auth0|gone"}),
            json!({"_id": "lonely", "__STATE__": "DRAFT", "userGroup": "customer", "email": "c@x"}),
            json!({"_id": "deleted", "__STATE__": "DELETED", "userGroup": "customer", "email": "d@x"}),
            json!({"_id": "mail", "__STATE__": "TRASH", "email": "e@x", "authUserId": "auth0|e"}),
            json!({"_id": "unblocked", "__STATE__": "DRAFT", "email": "f@x", "authUserId": "auth0|f"}),
        ];
        let auth = [
            json!({"user_id": "auth0|a", "email": "a@x", "blocked": false}),
            json!({"user_id": "auth0|e", "email": "old@x", "blocked": true}),
            json!({"user_id": "auth0|f", "email": "f@x", "blocked": false}),
            json!({"user_id": "auth0|orphan", "email": "o@x", "blocked": false}),
        ];
        let audit = count(&store, &auth);
        assert_eq!(audit.count("orphanAuthUsers"), 1);
        assert_eq!(audit.count("danglingLinks"), 1);
        assert_eq!(audit.count("customerWithoutAuthUser"), 1);
        assert_eq!(audit.count("emailMismatch"), 1);
        assert_eq!(audit.count("blockedMismatch"), 1);
        assert_eq!(audit.count("deletedStillLinked"), 0);
        assert_eq!(audit.total(), 5);
    }
}
