//! List, get, count and export: `_st`, `_l`, `_s`, `_sk`, `_q`, field filters, projection, ACL.

use serde_json::{json, Value};

use crate::{bad_request, field, q, Ctx};

fn numbered(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"name": format!("u{i:02}"), "n": i, "even": i % 2 == 0}))
        .collect()
}

#[tokio::test]
async fn list_defaults_to_public_and_25_documents() {
    let ctx = Ctx::new().await;
    ctx.seed("/users", numbered(30));
    ctx.seed("/users", vec![json!({"name": "draft", "__STATE__": "DRAFT"})]);

    let page = ctx.get("/users/").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("application/json"));
    let names = field(&page.body, "name");
    assert_eq!(names.len(), 25);
    assert_eq!(names[0], json!("u00"));
    assert_eq!(names[24], json!("u24"));

    assert_eq!(
        field(&ctx.get("/users?_l=5").await.body, "n"),
        vec![json!(0), json!(1), json!(2), json!(3), json!(4)]
    );
    let all = ctx.get("/users/?_l=200&_st=PUBLIC,DRAFT").await;
    assert_eq!(all.body.as_array().unwrap().len(), 31);
    let drafts = ctx.get("/users/?_st=DRAFT").await;
    assert_eq!(field(&drafts.body, "name"), vec![json!("draft")]);
}

#[tokio::test]
async fn list_rejects_bad_limits_and_unknown_parameters() {
    let ctx = Ctx::new().await;
    let too_many = ctx.get("/users/?_l=500").await;
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.body, bad_request("querystring/_l must be <= 200"));
    assert_eq!(
        ctx.get("/users/?_l=0").await.body,
        bad_request("querystring/_l must be >= 1")
    );
    assert_eq!(ctx.get("/users/?_sk=-1").await.status, 400);
    assert_eq!(ctx.get("/users/?_st=GONE").await.status, 400);
    let unknown = ctx.get("/users/?_foo=1").await;
    assert_eq!(
        unknown.body,
        bad_request("querystring must NOT have additional properties. Property \"_foo\" is not defined in validation schema")
    );
}

#[tokio::test]
async fn sort_skip_and_limit() {
    let ctx = Ctx::new().await;
    ctx.seed("/users", numbered(10));
    let page = ctx.get("/users/?_s=-n&_sk=2&_l=3").await;
    assert_eq!(field(&page.body, "n"), vec![json!(7), json!(6), json!(5)]);
    let by_two_keys = ctx.get("/users/?_s=-even&_s=n&_l=4").await;
    assert_eq!(
        field(&by_two_keys.body, "n"),
        vec![json!(0), json!(2), json!(4), json!(6)]
    );
}

#[tokio::test]
async fn q_and_field_filters() {
    let ctx = Ctx::new().await;
    ctx.seed("/users", numbered(10));

    let page = ctx.get(&q("/users/", &json!({"n": {"$gte": 7}}))).await;
    assert_eq!(field(&page.body, "n"), vec![json!(7), json!(8), json!(9)]);
    let ored = ctx
        .get(&q(
            "/users/?even=false",
            &json!({"$or": [{"n": 1}, {"n": 2}, {"n": 3}]}),
        ))
        .await;
    assert_eq!(field(&ored.body, "n"), vec![json!(1), json!(3)]);
    assert_eq!(
        field(&ctx.get("/users/?n=4").await.body, "name"),
        vec![json!("u04")]
    );
    assert_eq!(
        field(&ctx.get("/users/?name=u05").await.body, "n"),
        vec![json!(5)]
    );

    let nor = ctx.get(&q("/users/", &json!({"$nor": [{"n": 1}]}))).await;
    assert_eq!(nor.status, 400);
    assert_eq!(nor.body["message"], json!("Unknown operator: $nor"));
    let not_json = ctx.get("/users/?_q=%7Bnope").await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.body["error"], json!("Bad Request"));
}

#[tokio::test]
async fn projection_and_acl_read_columns() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![json!({"name": "a", "email": "a@x.io", "secret": 1})],
    );
    let id = &ids[0];

    let projected = ctx.get("/users/?_p=name,email").await;
    assert_eq!(
        projected.body,
        json!([{"_id": id, "name": "a", "email": "a@x.io"}])
    );
    let one = ctx.get(&format!("/users/{id}?_p=email")).await;
    assert_eq!(one.body, json!({"_id": id, "email": "a@x.io"}));
    let acl = ctx
        .send(
            reqwest::Method::GET,
            "/users/?_p=name,secret",
            None,
            &[("acl_read_columns", "name,email")],
        )
        .await;
    assert_eq!(acl.body, json!([{"_id": id, "name": "a"}]));
}

#[tokio::test]
async fn acl_rows_are_anded_into_reads() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![
            json!({"name": "a", "tenant": "t1"}),
            json!({"name": "b", "tenant": "t2"}),
        ],
    );
    let rows = [("acl_rows", r#"[{"tenant":"t1"}]"#)];
    let page = ctx.send(reqwest::Method::GET, "/users/", None, &rows).await;
    assert_eq!(field(&page.body, "name"), vec![json!("a")]);
    let other = ctx
        .send(reqwest::Method::GET, &format!("/users/{}", ids[1]), None, &rows)
        .await;
    assert_eq!((other.status, other.body), (404, json!({"error": "not found"})));
    let single = ctx
        .send(
            reqwest::Method::GET,
            "/users/count",
            None,
            &[("acl_rows", r#"{"tenant":"t2"}"#)],
        )
        .await;
    assert_eq!(single.body, json!(1));
    let bad = ctx
        .send(
            reqwest::Method::GET,
            "/users/",
            None,
            &[("acl_rows", r#"{"$where":"1"}"#)],
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn count_respects_state_and_estimate_counts_everything() {
    let ctx = Ctx::new().await;
    ctx.seed("/users", numbered(4));
    ctx.seed(
        "/users",
        vec![json!({"__STATE__": "DRAFT"}), json!({"__STATE__": "TRASH"})],
    );
    assert_eq!(ctx.get("/users/count").await.body, json!(4));
    assert_eq!(ctx.get("/users/count?_st=DRAFT,TRASH").await.body, json!(2));
    assert_eq!(
        ctx.get(&q("/users/count", &json!({"n": {"$lt": 2}}))).await.body,
        json!(2)
    );
    assert_eq!(ctx.get("/users/count?_useEstimate=true&n=1").await.body, json!(6));
}

#[tokio::test]
async fn export_streams_ndjson_without_limit() {
    let ctx = Ctx::new().await;
    ctx.seed("/users", numbered(30));
    let export = ctx
        .http
        .get(ctx.url("/users/export?_s=-n&_p=n"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let text = export.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 30);
    assert_eq!(lines[0]["n"], json!(29));
    assert_eq!(lines[0].as_object().unwrap().len(), 2);

    let json_array = ctx
        .send(
            reqwest::Method::GET,
            "/users/export?n=3",
            None,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(field(&json_array.body, "name"), vec![json!("u03")]);
    let csv = ctx
        .send(
            reqwest::Method::GET,
            "/users/export",
            None,
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 406);
}

#[tokio::test]
async fn get_by_id_and_unknown_routes() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed("/users", vec![json!({"name": "a", "n": 1})]);
    let found = ctx.get(&format!("/users/{}", ids[0])).await;
    assert_eq!(found.body["name"], json!("a"));
    let miss = ctx.get(&q(&format!("/users/{}", ids[0]), &json!({"n": 2}))).await;
    assert_eq!((miss.status, miss.body), (404, json!({"error": "not found"})));
    assert_eq!(ctx.get("/nope/").await.body, json!({"error": "not found"}));
    assert_eq!(ctx.get("/usersx/").await.status, 404);
    assert_eq!(
        ctx.send(reqwest::Method::PUT, "/users/", None, &[]).await.status,
        404
    );
}

#[tokio::test]
async fn indexed_lookups_keep_filter_semantics_and_natural_order() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![
            json!({"username": "123", "email": "a@x.io"}),
            json!({"username": "u2", "email": "b@x.io", "__STATE__": "DRAFT"}),
            json!({"username": "u3", "email": "c@x.io"}),
        ],
    );
    let by_ids = ctx
        .get(&q(
            "/users/",
            &json!({"_id": {"$in": [ids[2], ids[1], ids[0], "zzz"]}}),
        ))
        .await;
    assert_eq!(field(&by_ids.body, "username"), vec![json!("123"), json!("u3")]);
    let coerced = ctx.get("/users/?username=123").await;
    assert_eq!(field(&coerced.body, "email"), vec![json!("a@x.io")]);
    let eq = ctx
        .get(&q("/users/?_st=DRAFT", &json!({"email": {"$eq": "b@x.io"}})))
        .await;
    assert_eq!(field(&eq.body, "username"), vec![json!("u2")]);
    let none = ctx
        .get(&q("/users/?email=a@x.io", &json!({"username": "u3"})))
        .await;
    assert_eq!(none.body, json!([]));
}

#[tokio::test]
async fn plain_indexes_follow_updates_and_deletes() {
    let ctx = Ctx::new().await;
    let ids = ctx.seed(
        "/users",
        vec![
            json!({"name": "a", "authUserId": "auth|1"}),
            json!({"name": "b", "authUserId": "auth|2"}),
            json!({"name": "c", "authUserId": "auth|1"}),
        ],
    );
    let by_auth = ctx.get("/users/?authUserId=auth%7C1").await;
    assert_eq!(field(&by_auth.body, "name"), vec![json!("a"), json!("c")]);
    let moved = ctx
        .patch(
            &format!("/users/{}", ids[0]),
            json!({"$set": {"authUserId": "auth|2"}}),
        )
        .await;
    assert_eq!(moved.status, 200);
    let in_q = ctx
        .get(&q(
            "/users/",
            &json!({"authUserId": {"$in": ["auth|2", "auth|9"]}}),
        ))
        .await;
    assert_eq!(field(&in_q.body, "name"), vec![json!("a"), json!("b")]);
    assert_eq!(ctx.delete(&format!("/users/{}", ids[1])).await.status, 204);
    let after = ctx.get("/users/?authUserId=auth%7C2").await;
    assert_eq!(field(&after.body, "name"), vec![json!("a")]);
    // An array value disables the index for that field; results stay the same.
    ctx.seed(
        "/users",
        vec![json!({"name": "d", "authUserId": ["auth|2", "auth|3"]})],
    );
    let with_array = ctx.get("/users/?authUserId=auth%7C2").await;
    assert_eq!(field(&with_array.body, "name"), vec![json!("a"), json!("d")]);
}
