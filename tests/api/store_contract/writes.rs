//! Updates and deletes: operators, compare-and-set PATCH, positional `$set`, refusals, unique
//! indexes on update, PATCH many/bulk, DELETE one/many.

use serde_json::json;
use user_manager_service::store::{BulkPatch, DocState, Filter};

use super::*;

/// A PATCH of `id` with no filter: the new document (`None` on a miss).
async fn patch(store: &Store, id: &str, update: &Value) -> Result<Option<Value>, StoreError> {
    store.users.patch(&ctx(), id, &Filter::default(), update).await
}

pub async fn patch_applies_update_operators_on_dotted_paths_and_returns_the_new_document(store: Store) {
    let ids = seed(
        &store,
        &[json!({"name": "a", "logins": 1, "score": 2, "profile": {"city": "Rome", "zip": "001"}, "old": true})],
    )
    .await;
    let update = json!({
        "$set": {"profile.city": "Milan", "profile.geo.lat": 45},
        "$inc": {"logins": 2},
        "$mul": {"score": 1.5},
        "$unset": {"old": true, "profile.zip": true},
        "$currentDate": {"seenAt": true}
    });

    let doc = patch(&store, &ids[0], &update).await.unwrap().unwrap();

    assert_eq!(doc["profile"], json!({"city": "Milan", "geo": {"lat": 45}}));
    assert_eq!(doc["logins"], 3);
    assert_eq!(doc["score"].as_f64(), Some(3.0));
    assert!(doc.get("old").is_none());
    assert!(doc["seenAt"].is_string());
    assert_eq!(doc["updaterId"], "user-1");
    assert_eq!(stored(&store, &ids[0]).await.unwrap(), doc);
    let touched = store
        .users
        .patch(&ctx(), &ids[0], &Filter::default(), &json!({}))
        .await
        .unwrap();
    assert_eq!(touched.unwrap()["logins"], 3);
}

pub async fn patch_applies_array_operators(store: Store) {
    let ids = seed(
        &store,
        &[json!({"name": "a", "roles": ["dev"], "tags": ["x", "y", "x"]})],
    )
    .await;
    let update = json!({
        "$push": {"roles": "ops"},
        "$addToSet": {"tags": {"$each": ["y", "z"]}},
    });

    let doc = patch(&store, &ids[0], &update).await.unwrap().unwrap();
    assert_eq!(doc["roles"], json!(["dev", "ops"]));
    assert_eq!(doc["tags"], json!(["x", "y", "x", "z"]));

    let pull = json!({"$pull": {"tags": "x"}, "$push": {"roles": {"$each": ["qa"], "$position": 0}}});
    let doc = patch(&store, &ids[0], &pull).await.unwrap().unwrap();
    assert_eq!(doc["tags"], json!(["y", "z"]));
    assert_eq!(doc["roles"], json!(["qa", "dev", "ops"]));
}

pub async fn patch_is_a_compare_and_set_that_writes_nothing_on_a_miss(store: Store) {
    let ids = seed(&store, &[json!({"name": "a", "version": 3})]).await;
    let bump = json!({"$set": {"name": "b"}, "$inc": {"version": 1}});

    let stale = filter(json!({"version": 2}));
    assert_eq!(store.users.patch(&ctx(), &ids[0], &stale, &bump).await, Ok(None));
    let before = stored(&store, &ids[0]).await.unwrap();
    assert_eq!(before["version"], 3);
    assert_eq!(before["name"], "a");

    let current = filter(json!({"version": 3}));
    let after = store
        .users
        .patch(&ctx(), &ids[0], &current, &bump)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after["version"], 4);
    assert_eq!(
        store.users.patch(&ctx(), &ids[0], &current, &bump).await,
        Ok(None)
    );
    let missing = "0123456789abcdef01234567";
    assert_eq!(patch(&store, missing, &bump).await, Ok(None));
}

pub async fn patch_of_a_draft_document_needs_its_state_in_the_filter(store: Store) {
    let id = store.users.insert(&ctx(), &json!({"name": "a"})).await.unwrap();
    let update = json!({"$set": {"name": "b"}});

    assert_eq!(patch(&store, &id, &update).await, Ok(None));
    let drafts = in_states(&[DocState::Public, DocState::Draft]);
    let doc = store
        .users
        .patch(&ctx(), &id, &drafts, &update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc["name"], "b");
    assert_eq!(doc["__STATE__"], "DRAFT");
}

pub async fn a_positional_set_changes_the_element_selected_by_the_filter(store: Store) {
    let ids = seed(
        &store,
        &[json!({"name": "a", "items": [{"k": 1, "v": "x"}, {"k": 2, "v": "y"}]})],
    )
    .await;
    let selected = filter(json!({"items.k": 2}));
    let update = json!({"$set": {"items.$.merge": {"v": "z"}}});

    let doc = store
        .users
        .patch(&ctx(), &ids[0], &selected, &update)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(doc["items"], json!([{"k": 1, "v": "x"}, {"k": 2, "v": "z"}]));
}

pub async fn patch_refuses_unknown_operators_and_protected_fields_with_400(store: Store) {
    let ids = seed(&store, &[json!({"name": "a"})]).await;
    let patch = |update: Value| {
        let (users, id) = (store.users.clone(), ids[0].clone());
        async move { users.patch(&ctx(), &id, &Filter::default(), &update).await }
    };

    let message = rejected(patch(json!({"$rename": {"name": "n"}})).await.unwrap_err());
    assert!(message.contains("$rename"), "{message}");
    let message = rejected(patch(json!({"$set": {"createdAt": "x"}})).await.unwrap_err());
    assert!(message.contains("createdAt"), "{message}");
    rejected(patch(json!({"$set": {"__STATE__": "TRASH"}})).await.unwrap_err());
    rejected(patch(json!({"$inc": {"n": "1"}})).await.unwrap_err());
    rejected(patch(json!({"$unset": {"name": 1}})).await.unwrap_err());
    assert_eq!(stored(&store, &ids[0]).await.unwrap()["name"], "a");
}

pub async fn a_patch_that_would_duplicate_a_unique_value_fails_and_writes_nothing(store: Store) {
    let ids = seed(
        &store,
        &[
            json!({"email": "a@x.io"}),
            json!({"email": "b@x.io", "name": "b"}),
        ],
    )
    .await;
    let update = json!({"$set": {"email": "a@x.io", "name": "changed"}});

    let result = patch(&store, &ids[1], &update).await;

    assert!(result.is_err(), "{result:?}");
    let doc = stored(&store, &ids[1]).await.unwrap();
    assert_eq!(
        (doc["email"].as_str(), doc["name"].as_str()),
        (Some("b@x.io"), Some("b"))
    );
    let same = json!({"$set": {"email": "b@x.io", "name": "kept"}});
    let doc = patch(&store, &ids[1], &same).await.unwrap().unwrap();
    assert_eq!(doc["name"], "kept");
}

/// Public `a` and `b` in group `g1` and `c` in `g2` (their ids, in order), and a draft `d` in `g1`
/// (its id).
async fn seed_two_groups(store: &Store) -> (Vec<String>, String) {
    let public = [
        json!({"name": "a", "group": "g1"}),
        json!({"name": "b", "group": "g1"}),
        json!({"name": "c", "group": "g2"}),
    ];
    let ids = seed(store, &public).await;
    let draft = json!({"name": "d", "group": "g1"});
    (ids, store.users.insert(&ctx(), &draft).await.unwrap())
}

pub async fn patch_many_and_patch_bulk_return_the_modified_counts(store: Store) {
    let (ids, _draft) = seed_two_groups(&store).await;

    let g1 = filter(json!({"group": "g1"}));
    let n = store
        .users
        .patch_many(&ctx(), &g1, &json!({"$set": {"seen": true}}))
        .await;
    assert_eq!(n, Ok(2));
    assert_eq!(names_matching(&store, json!({"seen": true})).await, ["a", "b"]);
    let none = filter(json!({"group": "g9"}));
    assert_eq!(
        store
            .users
            .patch_many(&ctx(), &none, &json!({"$set": {"x": 1}}))
            .await,
        Ok(0)
    );

    let by_id = |id: &str, q: Option<Value>| Filter {
        id: Some(id.to_owned()),
        q,
        ..Filter::default()
    };
    let items = [
        BulkPatch {
            filter: by_id(&ids[0], None),
            update: json!({"$set": {"n": 1}}),
        },
        BulkPatch {
            filter: by_id(&ids[2], Some(json!({"group": "g2"}))),
            update: json!({"$inc": {"n": 2}}),
        },
        BulkPatch {
            filter: by_id(&ids[1], Some(json!({"group": "g2"}))),
            update: json!({"$set": {"n": 3}}),
        },
        BulkPatch {
            filter: by_id("0123456789abcdef01234567", None),
            update: json!({"$set": {"n": 4}}),
        },
    ];
    assert_eq!(store.users.patch_bulk(&ctx(), &items).await, Ok(2));
    assert_eq!(stored(&store, &ids[0]).await.unwrap()["n"], 1);
    assert_eq!(stored(&store, &ids[2]).await.unwrap()["n"], 2);
    assert!(stored(&store, &ids[1]).await.unwrap().get("n").is_none());
    assert_eq!(store.users.patch_bulk(&ctx(), &[]).await, Ok(0));
}

/// Deletes `id` with no filter.
async fn delete(store: &Store, id: &str) -> Result<bool, StoreError> {
    store.users.delete(&ctx(), id, &Filter::default()).await
}

pub async fn delete_removes_one_match_and_delete_many_returns_the_count(store: Store) {
    let (ids, draft) = seed_two_groups(&store).await;

    assert_eq!(
        store
            .users
            .delete(&ctx(), &ids[0], &filter(json!({"group": "g2"})))
            .await,
        Ok(false)
    );
    assert_eq!(delete(&store, &ids[0]).await, Ok(true));
    assert_eq!(delete(&store, &ids[0]).await, Ok(false));
    assert_eq!(delete(&store, &draft).await, Ok(false));

    let g1 = filter(json!({"group": "g1"}));
    assert_eq!(store.users.delete_many(&ctx(), &g1).await, Ok(1));
    assert_eq!(store.users.delete_many(&ctx(), &g1).await, Ok(0));
    assert!(stored(&store, &draft).await.is_some());
    assert_eq!(names_matching(&store, json!({})).await, ["c"]);
}
