//! `syncs_outside_store`: which changes of a user reach beyond the store, by configuration. The
//! import writes the others with its bulk patch, so a wrong answer here leaves a system stale.

use serde_json::{json, Value};

use super::harness::Harness;
use crate::users::update::syncs_outside_store;

/// `doc` with `changes` set (a `null` removes the field).
fn with(doc: &Value, changes: Value) -> Value {
    let mut after = doc.clone();
    for (key, value) in changes.as_object().expect("an object of changes") {
        let fields = after.as_object_mut().expect("an object");
        match value {
            Value::Null => fields.remove(key),
            _ => fields.insert(key.clone(), value.clone()),
        };
    }
    after
}

#[tokio::test]
async fn only_changes_another_system_holds_count_and_only_when_that_system_is_configured() {
    let on = Harness::new().await;
    let off = Harness::builder().without_rond().without_timer().build().await;
    let linked = json!({"_id": "u1", "userGroup": "customer", "name": "Ada", "authUserId": "a1",
                        "email": "a@x.io", "roles": ["r"], "expirationDate": "2030-01-01T00:00:00Z"});
    let unlinked = with(&linked, json!({"authUserId": null}));
    // (label, before, changes, with Rönd and the Timer Service, without them)
    let cases = [
        ("name", &linked, json!({"name": "Bo"}), false, false),
        ("same email", &linked, json!({"email": "a@x.io"}), false, false),
        ("email", &linked, json!({"email": "b@x.io"}), true, true),
        ("username", &linked, json!({"username": "ada"}), true, true),
        ("blocked", &linked, json!({"blocked": true}), true, true),
        ("blocked false", &linked, json!({"blocked": false}), false, false),
        (
            "unlinked email",
            &unlinked,
            json!({"email": "b@x.io"}),
            false,
            false,
        ),
        ("roles", &linked, json!({"roles": ["r", "w"]}), true, false),
        ("same roles", &linked, json!({"roles": ["r", "r"]}), false, false),
        (
            "unlinked roles (no subject)",
            &unlinked,
            json!({"roles": ["w"]}),
            false,
            false,
        ),
        (
            "expiry",
            &linked,
            json!({"expirationDate": "2031-01-01T00:00:00Z"}),
            true,
            false,
        ),
        (
            "expiry removed",
            &unlinked,
            json!({"expirationDate": null}),
            true,
            false,
        ),
        (
            "bad expiry",
            &unlinked,
            json!({"expirationDate": "tomorrow"}),
            true,
            false,
        ),
    ];
    for (label, before, changes, with_both, without) in cases {
        let after = with(before, changes);
        assert_eq!(
            syncs_outside_store(&on.svc, before, &after),
            with_both,
            "{label}, configured"
        );
        assert_eq!(
            syncs_outside_store(&off.svc, before, &after),
            without,
            "{label}, not configured"
        );
    }
}
