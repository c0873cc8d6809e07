//! Success, not-found and conflict cases of the writes: insert (one, bulk, and with their own
//! `_id` through `POST /import`), patch, delete and state changes.

use serde_json::Map;
use user_manager_service::store::{BulkPatch, Collection, StateChange};

use super::*;
use user_manager_service::store::StoreError;

fn conflict() -> ResponseTemplate {
    ResponseTemplate::new(409).set_body_json(json!({
        "statusCode": 409, "error": "Conflict",
        "message": "E11000 duplicate key error collection: db.users index: email_1 dup key: { email: \"a@b.c\" }"
    }))
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}))
}

#[tokio::test]
async fn insert_posts_the_document_without_acl_headers_and_returns_its_id() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/", ok_json(json!({"_id": "665f"}))).await;

    let id = crud.insert(&ctx, &json!({"name": "Ada"})).await;

    assert_eq!(id.as_deref(), Ok("665f"));
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), None);
    assert_eq!(body(&request), json!({"name": "Ada"}));
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn insert_of_a_duplicate_is_a_conflict_naming_the_field_in_words() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/", conflict()).await;

    let error = crud
        .insert(&ctx, &json!({"name": "Ada"}))
        .await
        .expect_err("a conflict");

    let message = "a user with this email already exists".to_owned();
    let field = Some("email".to_owned());
    assert_eq!(error, StoreError::Conflict { field, message });
    assert_eq!(error.to_string(), "a user with this email already exists");
}

#[tokio::test]
async fn insert_many_posts_the_array_to_bulk_and_returns_the_ids_in_order() {
    let (server, crud, ctx) = setup().await;
    mount_once(
        &server,
        "POST",
        "/users/bulk",
        ok_json(json!([{"_id": "a"}, {"_id": "b"}])),
    )
    .await;

    let ids = crud.insert_many(&ctx, &[json!({"n": 1}), json!({"n": 2})]).await;

    assert_eq!(ids, Ok(vec!["a".to_owned(), "b".to_owned()]));
    let request = only_request(&server).await;
    assert_eq!(body(&request), json!([{"n": 1}, {"n": 2}]));
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn insert_many_with_a_duplicate_is_a_conflict() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/bulk", conflict()).await;

    let error = crud
        .insert_many(&ctx, &[json!({"n": 1})])
        .await
        .expect_err("a conflict");

    assert!(matches!(error, StoreError::Conflict { .. }));
    assert_eq!(error.to_string(), "a user with this email already exists");
}

#[tokio::test]
async fn insert_with_ids_posts_an_ndjson_file_to_import_without_acl_headers() {
    let (server, crud, ctx) = setup().await;
    let uploaded = ResponseTemplate::new(201).set_body_json(json!({"message": "File uploaded successfully"}));
    mount_once(&server, "POST", "/users/import", uploaded).await;
    let docs = [
        json!({"_id": "a1", "name": "Ada"}),
        json!({"_id": "b2", "tags": ["x"]}),
    ];

    let inserted = crud.insert_with_ids(&ctx, &docs).await;

    assert_eq!(inserted, Ok(()));
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), None);
    assert_headers(&request, AclSent::Neither);
    let content_type = request.headers.get("content-type").unwrap().to_str().unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("a multipart form");
    let form = String::from_utf8(request.body.clone()).unwrap();
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"users.ndjson\"\r\n\
         content-type: application/x-ndjson\r\n\r\n\
         {{\"_id\":\"a1\",\"name\":\"Ada\"}}\n{{\"_id\":\"b2\",\"tags\":[\"x\"]}}\n\r\n--{boundary}--\r\n"
    );
    assert_eq!(form, part);
}

#[tokio::test]
async fn insert_with_ids_of_a_taken_id_is_a_conflict_naming_the_id_in_words() {
    let (server, crud, ctx) = setup().await;
    let taken = ResponseTemplate::new(409).set_body_json(json!({
        "statusCode": 409, "error": "Conflict",
        "message": "E11000 duplicate key error collection: db.users index: _id_ dup key: { _id: \"a1\" }"
    }));
    mount_once(&server, "POST", "/users/import", taken).await;

    let error = crud
        .insert_with_ids(&ctx, &[json!({"_id": "a1"})])
        .await
        .expect_err("a conflict");

    let message = "a user with this id already exists".to_owned();
    let field = Some("_id".to_owned());
    assert_eq!(error, StoreError::Conflict { field, message });
}

#[tokio::test]
async fn empty_bulk_calls_return_at_once_without_calling_the_service() {
    let (server, crud, ctx) = setup().await;

    assert_eq!(crud.insert_many(&ctx, &[]).await, Ok(vec![]));
    assert_eq!(crud.insert_with_ids(&ctx, &[]).await, Ok(()));
    assert_eq!(crud.patch_bulk(&ctx, &[]).await, Ok(0));
    assert_eq!(crud.set_state_many(&ctx, &[]).await, Ok(0));

    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(0));
}

#[tokio::test]
async fn patch_sends_the_filter_and_update_with_read_columns_and_returns_the_updated_document() {
    let (server, crud, ctx) = setup().await;
    mount_once(
        &server,
        "PATCH",
        "/users/u%2F1",
        ok_json(json!({"_id": "u/1", "version": 4})),
    )
    .await;
    let update = json!({"$set": {"email": "x@y"}, "$inc": {"version": 1}});

    let doc = crud.patch(&ctx, "u/1", &filter(), &update).await;

    assert_eq!(doc, Ok(Some(json!({"_id": "u/1", "version": 4}))));
    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, false));
    assert_eq!(body(&request), update);
    assert_headers(&request, AclSent::ReadColumnsOnly);
}

#[tokio::test]
async fn patch_that_matches_nothing_is_none() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "PATCH", "/users/u1", not_found()).await;

    assert_eq!(crud.patch(&ctx, "u1", &filter(), &json!({})).await, Ok(None));
}

#[tokio::test]
async fn patch_many_sends_the_filter_with_id_and_returns_the_count() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "PATCH", "/users/", ok_json(json!(3))).await;
    let update = json!({"$set": {"blocked": true}});

    assert_eq!(crud.patch_many(&ctx, &filter(), &update).await, Ok(3));

    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, true));
    assert_eq!(body(&request), update);
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn patch_bulk_sends_filters_with_q_as_a_string_and_returns_the_count() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "PATCH", "/users/bulk", ok_json(json!(2))).await;
    let items = [
        BulkPatch {
            filter: filter(),
            update: json!({"$set": {"blocked": true}}),
        },
        BulkPatch {
            filter: Filter {
                id: Some("b".to_owned()),
                ..Filter::default()
            },
            update: json!({"$unset": {"email": true}}),
        },
    ];

    assert_eq!(crud.patch_bulk(&ctx, &items).await, Ok(2));

    let request = only_request(&server).await;
    assert_eq!(request.url.query(), None);
    let expected = json!([
        {"filter": {"_q": "{\"version\":3}", "_st": "PUBLIC,DRAFT", "_id": "665f00000000000000000001",
                    "blocked": "false"},
         "update": {"$set": {"blocked": true}}},
        {"filter": {"_id": "b"}, "update": {"$unset": {"email": true}}},
    ]);
    assert_eq!(body(&request), expected);
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn delete_sends_the_filter_without_id_and_is_true_on_204() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "DELETE", "/users/u1", ResponseTemplate::new(204)).await;

    assert_eq!(crud.delete(&ctx, "u1", &filter()).await, Ok(true));

    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, false));
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn delete_that_matches_nothing_is_false() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "DELETE", "/users/u1", not_found()).await;

    assert_eq!(crud.delete(&ctx, "u1", &Filter::default()).await, Ok(false));
}

#[tokio::test]
async fn delete_many_sends_the_filter_and_returns_the_count() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "DELETE", "/users/", ok_json(json!(0))).await;

    assert_eq!(crud.delete_many(&ctx, &filter()).await, Ok(0));

    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, true));
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn set_state_posts_state_to_with_q_and_fields_but_never_st() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/u1/state", ResponseTemplate::new(204)).await;

    assert_eq!(
        crud.set_state(&ctx, "u1", &filter(), DocState::Trash).await,
        Ok(true)
    );

    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(false, false));
    assert_eq!(body(&request), json!({"stateTo": "TRASH"}));
    assert_headers(&request, AclSent::Neither);
}

#[tokio::test]
async fn set_state_that_matches_nothing_is_false() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/u1/state", not_found()).await;

    assert_eq!(
        crud.set_state(&ctx, "u1", &Filter::default(), DocState::Draft)
            .await,
        Ok(false)
    );
}

#[tokio::test]
async fn set_state_many_posts_filters_and_targets_and_returns_the_count() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "POST", "/users/state", ok_json(json!(2))).await;
    let mut by_email = Map::new();
    by_email.insert("email".to_owned(), json!("a@b"));
    let mut by_id = Map::new();
    by_id.insert("_id".to_owned(), json!("u1"));
    let items = [
        StateChange {
            filter: by_id,
            state_to: DocState::Trash,
        },
        StateChange {
            filter: by_email,
            state_to: DocState::Public,
        },
    ];

    assert_eq!(crud.set_state_many(&ctx, &items).await, Ok(2));

    let request = only_request(&server).await;
    let expected = json!([
        {"filter": {"_id": "u1"}, "stateTo": "TRASH"},
        {"filter": {"email": "a@b"}, "stateTo": "PUBLIC"},
    ]);
    assert_eq!(body(&request), expected);
    assert_headers(&request, AclSent::Neither);
}
