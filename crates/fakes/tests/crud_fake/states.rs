//! `POST /:id/state` and `POST /state`.

use serde_json::json;

use crate::{bad_request, Ctx};

#[tokio::test]
async fn single_state_changes_follow_the_transition_table() {
    let ctx = Ctx::new().await;
    let id = ctx.seed("/users", vec![json!({"name": "a"})]).remove(0);
    let path = format!("/users/{id}/state");

    let to_trash = ctx.post(&path, json!({"stateTo": "TRASH"})).await;
    assert_eq!((to_trash.status, to_trash.body), (204, serde_json::Value::Null));
    let doc = ctx.fake.document("/users", &id).unwrap();
    assert_eq!(doc["__STATE__"], json!("TRASH"));
    assert_eq!(doc["updaterId"], json!("alice"));

    let back = ctx.post(&path, json!({"stateTo": "PUBLIC"})).await;
    assert_eq!(back.status, 400);
    assert_eq!(
        back.body,
        bad_request("transition from TRASH to PUBLIC not allowed.")
    );
    assert_eq!(ctx.post(&path, json!({"stateTo": "TRASH"})).await.status, 204);
    assert_eq!(ctx.post(&path, json!({"stateTo": "DELETED"})).await.status, 204);
    assert_eq!(ctx.post(&path, json!({"stateTo": "DRAFT"})).await.status, 400);

    let public = ctx.seed("/users", vec![json!({"name": "p"})]).remove(0);
    let jump = ctx
        .post(&format!("/users/{public}/state"), json!({"stateTo": "DELETED"}))
        .await;
    assert_eq!(
        jump.body["message"],
        json!("transition from PUBLIC to DELETED not allowed.")
    );
}

#[tokio::test]
async fn single_state_change_filters_and_errors() {
    let ctx = Ctx::new().await;
    let id = ctx
        .seed("/users", vec![json!({"name": "a", "__STATE__": "DRAFT"})])
        .remove(0);
    let missing = ctx
        .post(
            "/users/000000000000000000000000/state",
            json!({"stateTo": "PUBLIC"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.body),
        (404, json!({"error": "not found"}))
    );
    let filtered = ctx
        .post(&format!("/users/{id}/state?name=b"), json!({"stateTo": "PUBLIC"}))
        .await;
    assert_eq!(filtered.status, 404);
    let with_st = ctx
        .post(
            &format!("/users/{id}/state?_st=DRAFT"),
            json!({"stateTo": "PUBLIC"}),
        )
        .await;
    assert_eq!(with_st.status, 400);
    assert_eq!(
        ctx.post(&format!("/users/{id}/state"), json!({"stateTo": "GONE"}))
            .await
            .status,
        400
    );
    assert_eq!(
        ctx.post(&format!("/users/{id}/state"), json!({})).await.status,
        400
    );
    // The current state does not filter: a DRAFT document is found without `_st`.
    assert_eq!(
        ctx.post(&format!("/users/{id}/state?name=a"), json!({"stateTo": "PUBLIC"}))
            .await
            .status,
        204
    );
    assert_eq!(ctx.get(&format!("/users/{id}")).await.body["name"], json!("a"));

    let stateless = ctx.fake.insert_raw("/users", json!({"name": "raw"})).unwrap();
    assert_eq!(
        ctx.post(
            &format!("/users/{stateless}/state"),
            json!({"stateTo": "DELETED"})
        )
        .await
        .status,
        204
    );
}

#[tokio::test]
async fn bulk_state_only_moves_documents_in_a_source_state() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![
            json!({"g": "x", "__STATE__": "PUBLIC"}),
            json!({"g": "x", "__STATE__": "DRAFT"}),
            json!({"g": "x", "__STATE__": "TRASH"}),
            json!({"g": "x", "__STATE__": "DELETED"}),
            json!({"g": "y", "__STATE__": "PUBLIC"}),
        ],
    );
    let to_trash = ctx
        .post(
            "/users/state",
            json!([{"filter": {"g": "x"}, "stateTo": "TRASH"}]),
        )
        .await;
    assert_eq!((to_trash.status, to_trash.body), (200, json!(3)));
    let states: Vec<_> = ctx
        .fake
        .documents("/users")
        .iter()
        .map(|d| d["__STATE__"].clone())
        .collect();
    assert_eq!(
        states,
        vec![
            json!("TRASH"),
            json!("TRASH"),
            json!("TRASH"),
            json!("TRASH"),
            json!("PUBLIC")
        ]
    );

    let by_id = json!([
        {"filter": {"_id": ids[0]}, "stateTo": "DELETED"},
        {"filter": {"_id": ids[4]}, "stateTo": "DELETED"}
    ]);
    assert_eq!(ctx.post("/users/state", by_id).await.body, json!(1));
    assert_eq!(
        ctx.fake.document("/users", &ids[4]).unwrap()["__STATE__"],
        json!("PUBLIC")
    );

    assert_eq!(ctx.post("/users/state", json!([])).await.status, 400);
    let with_q = json!([{"filter": {"_q": "{}"}, "stateTo": "TRASH"}]);
    assert_eq!(ctx.post("/users/state", with_q).await.status, 400);
}
