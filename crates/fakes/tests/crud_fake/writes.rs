//! Inserts (single, bulk, unique 409), PATCH (compare-and-set, many, bulk), DELETE, upsert-one.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{bad_request, field, is_hex24, q, Ctx};

fn is_iso_millis(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && &s[10..11] == "T" && &s[19..20] == "."
}

#[tokio::test]
async fn insert_sets_id_state_and_metadata() {
    let ctx = Ctx::new().await;
    let created = ctx
        .post("/users/", json!({"name": "a", "__STATE__": "PUBLIC"}))
        .await;
    assert_eq!(created.status, 200);
    let id = created.body["_id"].as_str().unwrap().to_owned();
    assert!(is_hex24(&id), "{id}");
    assert_eq!(created.body.as_object().unwrap().len(), 1);

    let doc = ctx.get(&format!("/users/{id}")).await.body;
    assert_eq!(doc["name"], json!("a"));
    assert_eq!(doc["__STATE__"], json!("PUBLIC"));
    assert_eq!(doc["creatorId"], json!("alice"));
    assert_eq!(doc["updaterId"], json!("alice"));
    assert!(is_iso_millis(&doc["createdAt"]), "{}", doc["createdAt"]);
    assert_eq!(doc["createdAt"], doc["updatedAt"]);

    let anonymous = ctx
        .send(Method::POST, "/users/", Some(json!({"x": 1})), &[])
        .await;
    let stored = ctx
        .fake
        .document("/users", anonymous.body["_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored["creatorId"], json!("public"));
}

#[tokio::test]
async fn insert_defaults_to_draft_which_default_reads_do_not_see() {
    let ctx = Ctx::new().await;
    let id = ctx.post("/users/", json!({"name": "d"})).await.body["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hidden = ctx.get(&format!("/users/{id}")).await;
    assert_eq!((hidden.status, hidden.body), (404, json!({"error": "not found"})));
    let shown = ctx.get(&format!("/users/{id}?_st=DRAFT")).await;
    assert_eq!(shown.body["__STATE__"], json!("DRAFT"));
    assert_eq!(ctx.get("/users/").await.body, json!([]));
    assert_eq!(
        ctx.patch(&format!("/users/{id}"), json!({"$set": {"a": 1}}))
            .await
            .status,
        404
    );
    assert_eq!(ctx.delete(&format!("/users/{id}")).await.status, 404);
}

#[tokio::test]
async fn insert_rejects_server_fields() {
    let ctx = Ctx::new().await;
    for key in ["_id", "creatorId", "createdAt", "updaterId", "updatedAt"] {
        let response = ctx.post("/users/", json!({ key: "x" })).await;
        assert_eq!(response.status, 400, "{key}");
        assert_eq!(response.body["statusCode"], json!(400));
    }
    assert_eq!(
        ctx.post("/users/", json!({"__STATE__": "NOPE"})).await.status,
        400
    );
    assert_eq!(ctx.post("/users/", json!([1])).await.status, 400);
    assert!(ctx.fake.documents("/users").is_empty());
}

#[tokio::test]
async fn unique_fields_give_409_and_missing_values_do_not_collide() {
    let ctx = Ctx::new().await;
    assert_eq!(ctx.post("/users/", json!({"email": "a@x.io"})).await.status, 200);
    let dup = ctx
        .post("/users/", json!({"email": "a@x.io", "username": "other"}))
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"statusCode": 409, "error": "Conflict",
               "message": "E11000 duplicate key error collection: db.users index: email_1 dup key: { email: \"a@x.io\" }"})
    );
    assert_eq!(ctx.post("/users/", json!({"name": "no email"})).await.status, 200);
    assert_eq!(
        ctx.post("/users/", json!({"name": "no email either", "email": null}))
            .await
            .status,
        200
    );
    assert_eq!(ctx.post("/users/", json!({"name": "x"})).await.status, 200);
    assert_eq!(ctx.fake.documents("/users").len(), 4);
}

#[tokio::test]
async fn bulk_insert_is_ordered_and_keeps_documents_before_a_duplicate() {
    let ctx = Ctx::new().await;
    let ok = ctx
        .post("/users/bulk", json!([{"username": "a"}, {"username": "b"}]))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body.as_array().unwrap().len(), 2);
    assert!(is_hex24(ok.body[1]["_id"].as_str().unwrap()));

    let partial = ctx
        .post(
            "/users/bulk",
            json!([{"username": "c"}, {"username": "d"}, {"username": "a"}, {"username": "e"}]),
        )
        .await;
    assert_eq!(partial.status, 409);
    let names = field(&Value::Array(ctx.fake.documents("/users")), "username");
    assert_eq!(names, vec![json!("a"), json!("b"), json!("c"), json!("d")]);
    assert_eq!(ctx.post("/users/bulk", json!([])).await.status, 400);
}

#[tokio::test]
async fn patch_by_id_is_a_compare_and_set() {
    let ctx = Ctx::new().await;
    let id = ctx
        .seed("/jobs", vec![json!({"version": 1, "tags": ["a"]})])
        .remove(0);
    let cas = |version: i64| q(&format!("/jobs/{id}"), &json!({ "version": version }));
    let body = json!({"$set": {"owner": "w1"}, "$inc": {"version": 1}, "$push": {"tags": "b"}});

    let hit = ctx.patch(&cas(1), body.clone()).await;
    assert_eq!(hit.status, 200);
    assert_eq!(hit.body["version"], json!(2));
    assert_eq!(hit.body["owner"], json!("w1"));
    assert_eq!(hit.body["tags"], json!(["a", "b"]));
    assert_eq!(hit.body["updaterId"], json!("bob"));

    let miss = ctx.patch(&cas(1), json!({"$set": {"owner": "w2"}})).await;
    assert_eq!((miss.status, miss.body), (404, json!({"error": "not found"})));
    assert_eq!(ctx.fake.document("/jobs", &id).unwrap()["owner"], json!("w1"));

    let forbidden = ctx
        .patch(&format!("/jobs/{id}"), json!({"$set": {"__STATE__": "DRAFT"}}))
        .await;
    assert_eq!(forbidden.status, 400);
    assert_eq!(
        ctx.patch(&format!("/jobs/{id}"), json!({"$rename": {"a": "b"}}))
            .await
            .status,
        400
    );
    let empty = ctx.patch(&format!("/jobs/{id}"), json!({})).await;
    assert_eq!(empty.body["version"], json!(2));
}

#[tokio::test]
async fn concurrent_compare_and_set_lets_exactly_one_win() {
    let ctx = Ctx::new().await;
    let id = ctx.seed("/jobs", vec![json!({"leaseUntil": 0})]).remove(0);
    let path = q(&format!("/jobs/{id}"), &json!({"leaseUntil": 0}));
    let attempts = (0..16).map(|i| ctx.patch(&path, json!({"$set": {"leaseUntil": 100, "owner": i}})));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 15);
}

#[tokio::test]
async fn patch_unique_violation_is_a_500() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![json!({"email": "a@x.io"}), json!({"email": "b@x.io"})],
    );
    let clash = ctx
        .patch(
            &format!("/users/{}", ids[1]),
            json!({"$set": {"email": "a@x.io"}}),
        )
        .await;
    assert_eq!(clash.status, 500);
    assert!(clash.body["message"]
        .as_str()
        .unwrap()
        .starts_with("E11000 duplicate key error"));
    assert_eq!(
        ctx.fake.document("/users", &ids[1]).unwrap()["email"],
        json!("b@x.io")
    );
}

#[tokio::test]
async fn patch_many_bulk_and_delete() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![
            json!({"g": "x", "n": 1}),
            json!({"g": "x", "n": 2}),
            json!({"g": "y", "n": 3}),
        ],
    );
    let many = ctx.patch("/users/?g=x", json!({"$inc": {"n": 10}})).await;
    assert_eq!(many.body, json!(2));
    assert_eq!(
        field(&ctx.get("/users/?_s=n").await.body, "n"),
        vec![json!(3), json!(11), json!(12)]
    );

    let bulk = json!([
        {"filter": {"_id": ids[0]}, "update": {"$set": {"b": true}}},
        {"filter": {"_q": "{\"n\":3}", "_st": "PUBLIC"}, "update": {"$unset": {"g": true}}},
        {"filter": {"_id": ids[1], "_st": "DRAFT"}, "update": {"$set": {"b": true}}}
    ]);
    assert_eq!(ctx.patch("/users/bulk", bulk).await.body, json!(2));
    assert_eq!(ctx.fake.document("/users", &ids[2]).unwrap().get("g"), None);
    assert_eq!(
        ctx.patch("/users/bulk", json!([{"filter": {}}])).await.status,
        400
    );

    assert_eq!(ctx.delete(&format!("/users/{}", ids[0])).await.status, 204);
    assert_eq!(ctx.delete(&format!("/users/{}", ids[0])).await.status, 404);
    assert_eq!(ctx.delete("/users/?g=nothing").await.body, json!(0));
    assert_eq!(ctx.delete("/users/").await.body, json!(2));
    assert!(ctx.fake.documents("/users").is_empty());
}

#[tokio::test]
async fn upsert_one_inserts_then_updates() {
    let ctx = Ctx::new().await;
    let path = "/ums-config/upsert-one?userGroup=admins&_st=PUBLIC,DRAFT";
    let body = json!({"$set": {"label": "Admins"}, "$setOnInsert": {"seeded": true}});
    let first = ctx.post(path, body.clone()).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["userGroup"], json!("admins"));
    assert_eq!(first.body["seeded"], json!(true));
    assert_eq!(first.body["__STATE__"], json!("DRAFT"));
    let second = ctx.post(path, json!({"$set": {"label": "Root"}})).await;
    assert_eq!(second.body["_id"], first.body["_id"]);
    assert_eq!(second.body["label"], json!("Root"));
    assert_eq!(ctx.fake.documents("/ums-config").len(), 1);
    assert_eq!(ctx.post("/users/", json!({})).await.status, 200);
    assert_eq!(ctx.post("/users/?_st=PUBLIC", json!({})).await.body, bad_request(
        "querystring must NOT have additional properties. Property \"_st\" is not defined in validation schema"
    ));
}

#[tokio::test]
async fn positional_set_uses_the_request_filter() {
    let ctx = Ctx::new().await;
    let id = ctx
        .seed("/users", vec![json!({"roles": ["old", "keep"]})])
        .remove(0);
    let path = q(&format!("/users/{id}"), &json!({"roles": "old"}));
    let replaced = ctx
        .patch(&path, json!({"$set": {"roles.$.replace": "new"}}))
        .await;
    assert_eq!(replaced.body["roles"], json!(["new", "keep"]));
    let unmatched = ctx
        .patch(&format!("/users/{id}"), json!({"$set": {"roles.$.replace": "x"}}))
        .await;
    assert_eq!(unmatched.status, 500);
}
