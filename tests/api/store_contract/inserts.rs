//! Inserts: the default state, a state in the body, the standard fields and ids, unique indexes,
//! bulk inserts, and imports of documents with their own `_id`.

use serde_json::json;
use user_manager_service::context::CallContext;
use user_manager_service::store::{DocState, Filter, FindQuery};

use super::*;

pub async fn a_document_inserted_without_state_is_draft_and_hidden_from_default_reads(store: Store) {
    let id = store.users.insert(&ctx(), &json!({"name": "Ada"})).await.unwrap();

    let default = FindQuery::default();
    assert!(store.users.find(&ctx(), &default).await.unwrap().is_empty());
    assert_eq!(store.users.count(&ctx(), &Filter::default(), false).await, Ok(0));
    assert_eq!(store.users.get(&ctx(), &id, &Filter::default()).await, Ok(None));

    let drafts = FindQuery {
        filter: in_states(&[DocState::Draft]),
        ..FindQuery::default()
    };
    let found = store.users.find(&ctx(), &drafts).await.unwrap();
    assert_eq!(names(&found), ["Ada"]);
    assert_eq!(found[0]["__STATE__"], "DRAFT");
    let got = store
        .users
        .get(&ctx(), &id, &in_states(&[DocState::Draft]))
        .await
        .unwrap();
    assert_eq!(got.unwrap()["_id"], id.as_str());
}

pub async fn a_state_given_in_the_body_is_kept(store: Store) {
    let body = json!({"name": "Ada", "__STATE__": "PUBLIC"});
    let id = store.users.insert(&ctx(), &body).await.unwrap();

    let got = store
        .users
        .get(&ctx(), &id, &Filter::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["__STATE__"], "PUBLIC");
    assert_eq!(got["name"], "Ada");
}

fn is_iso_millis(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() == 24
        && bytes[10] == b'T'
        && bytes[19] == b'.'
        && text.ends_with('Z')
        && time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

pub async fn insert_sets_the_standard_fields_and_a_24_hex_id(store: Store) {
    let id = store.users.insert(&ctx(), &json!({"name": "Ada"})).await.unwrap();
    let anonymous = store
        .users
        .insert(&CallContext::default(), &json!({"name": "Bob"}))
        .await
        .unwrap();

    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    let doc = stored(&store, &id).await.unwrap();
    assert_eq!(doc["_id"], id.as_str());
    assert_eq!(doc["creatorId"], "user-1");
    assert_eq!(doc["updaterId"], "user-1");
    assert!(is_iso_millis(doc["createdAt"].as_str().unwrap()), "{doc}");
    assert_eq!(doc["createdAt"], doc["updatedAt"]);
    let doc = stored(&store, &anonymous).await.unwrap();
    assert_eq!(doc["creatorId"], "public");
    assert_eq!(doc["updaterId"], "public");

    let refused = store
        .users
        .insert(&ctx(), &json!({"_id": "x", "name": "Eve"}))
        .await;
    assert_eq!(
        refused.map_err(rejected).unwrap_err(),
        "body must NOT have additional properties. Property \"_id\" is not allowed"
    );
}

pub async fn a_duplicate_email_or_username_is_a_conflict_and_a_missing_email_never_conflicts(store: Store) {
    let users = &store.users;
    users
        .insert(&ctx(), &json!({"email": "a@x.io", "username": "a"}))
        .await
        .unwrap();

    for (dup, field) in [
        (json!({"email": "a@x.io"}), "email"),
        (json!({"username": "a"}), "username"),
    ] {
        let err = users.insert(&ctx(), &dup).await.unwrap_err();
        match err {
            StoreError::Conflict { message, .. } => {
                assert_eq!(message, format!("a user with this {field} already exists"))
            }
            other => panic!("expected a conflict for {dup}, got {other:?}"),
        }
    }
    for free in [
        json!({"name": "n1"}),
        json!({"name": "n2"}),
        json!({"email": null}),
        json!({"email": null}),
    ] {
        users.insert(&ctx(), &free).await.unwrap();
    }
    users
        .insert(&ctx(), &json!({"email": "b@x.io", "username": "b"}))
        .await
        .unwrap();
    let all = in_states(&[DocState::Draft]);
    assert_eq!(users.count(&ctx(), &all, false).await, Ok(6));
}

pub async fn a_bulk_insert_returns_the_ids_in_order_and_a_duplicate_in_it_is_a_conflict(store: Store) {
    let ids = seed(
        &store,
        &[json!({"name": "a"}), json!({"name": "b"}), json!({"name": "c"})],
    )
    .await;

    assert_eq!(ids.len(), 3);
    let listed = store.users.find(&ctx(), &FindQuery::default()).await.unwrap();
    let listed_ids: Vec<&str> = listed.iter().map(|d| d["_id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(store.users.insert_many(&ctx(), &[]).await, Ok(Vec::new()));

    let docs = [json!({"email": "d@x.io"}), json!({"email": "d@x.io"})];
    let err = store.users.insert_many(&ctx(), &docs).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

pub async fn an_import_keeps_each_documents_own_id_and_a_taken_id_or_email_is_a_conflict(store: Store) {
    let users = &store.users;
    let docs = [
        json!({"_id": "a1", "name": "Ada", "email": "ada@x.io", "__STATE__": "PUBLIC"}),
        json!({"_id": "b2", "name": "Bob"}),
    ];

    users.insert_with_ids(&ctx(), &docs).await.unwrap();

    let ada = stored(&store, "a1").await.unwrap();
    assert_eq!(
        (&ada["_id"], &ada["name"], &ada["__STATE__"]),
        (&json!("a1"), &json!("Ada"), &json!("PUBLIC"))
    );
    assert_eq!(
        (&ada["creatorId"], &ada["updaterId"]),
        (&json!("user-1"), &json!("user-1"))
    );
    assert!(is_iso_millis(ada["createdAt"].as_str().unwrap()), "{ada}");
    assert_eq!(stored(&store, "b2").await.unwrap()["__STATE__"], "DRAFT");
    assert_eq!(users.insert_with_ids(&ctx(), &[]).await, Ok(()));

    for (dup, field, words) in [
        (json!({"_id": "a1", "name": "Again"}), "_id", "id"),
        (json!({"_id": "c3", "email": "ada@x.io"}), "email", "email"),
    ] {
        match users.insert_with_ids(&ctx(), std::slice::from_ref(&dup)).await {
            Err(StoreError::Conflict {
                field: taken,
                message,
            }) => {
                assert_eq!(taken.as_deref(), Some(field), "{dup}");
                assert_eq!(message, format!("a user with this {words} already exists"));
            }
            other => panic!("expected a conflict for {dup}, got {other:?}"),
        }
    }
    assert_eq!(stored(&store, "a1").await.unwrap()["name"], "Ada");
    assert_eq!(stored(&store, "c3").await, None);
}
