//! Success and not-found cases of the reads: find, count, get, export, check.

use futures::StreamExt;
use user_manager_service::downstream::Cause;
use user_manager_service::store::Collection;

use super::*;
use user_manager_service::store::StoreError;

use crate::helpers::given;

#[tokio::test]
async fn find_sends_the_whole_query_with_both_acl_headers_and_returns_the_documents() {
    let (server, crud, ctx) = setup().await;
    mount_once(
        &server,
        "GET",
        "/users/",
        ok_json(json!([{"_id": "a"}, {"_id": "b"}])),
    )
    .await;

    let docs = crud.find(&ctx, &find_query()).await.expect("documents");

    assert_eq!(docs, vec![json!({"_id": "a"}), json!({"_id": "b"})]);
    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), find_query_pairs());
    assert_headers(&request, AclSent::Both);
}

#[tokio::test]
async fn find_raw_passes_the_stores_array_through_byte_for_byte() {
    let (server, crud, ctx) = setup().await;
    let body = r#"[{"_id":"a","name":"Ann"},{"_id":"b"}]"#;
    mount_once(
        &server,
        "GET",
        "/users/",
        ResponseTemplate::new(200).set_body_string(body),
    )
    .await;

    let bytes = crud.find_raw(&ctx, &find_query()).await.expect("documents");

    assert_eq!(&bytes[..], body.as_bytes());
    assert_headers(&only_request(&server).await, AclSent::Both);
}

#[tokio::test]
async fn find_raw_refuses_an_answer_that_is_not_an_array() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "GET", "/users/", ok_json(json!({"not": "a list"}))).await;

    let error = crud
        .find_raw(&ctx, &find_query())
        .await
        .expect_err("not an array");

    assert!(
        matches!(&error, StoreError::Failed(f) if f.cause == Cause::Failed { status: None }),
        "{error:?}"
    );
}

#[tokio::test]
async fn find_without_parameters_calls_the_list_route_with_its_trailing_slash_and_no_query() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "GET", "/users/", ok_json(json!([]))).await;

    let docs = crud.find(&ctx, &FindQuery::default()).await.expect("documents");

    assert!(docs.is_empty());
    assert_eq!(only_request(&server).await.url.query(), None);
}

#[tokio::test]
async fn count_sends_the_filter_and_reads_a_bare_integer() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "GET", "/users/count", ok_json(json!(42))).await;

    assert_eq!(crud.count(&ctx, &filter(), false).await, Ok(42));

    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, true));
    assert_headers(&request, AclSent::Both);
}

#[tokio::test]
async fn count_with_estimate_adds_use_estimate_true() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "GET", "/users/count", ok_json(json!(7))).await;

    assert_eq!(crud.count(&ctx, &Filter::default(), true).await, Ok(7));

    assert_eq!(
        query_pairs(&only_request(&server).await),
        vec![pair("_useEstimate", "true")]
    );
}

#[tokio::test]
async fn get_percent_encodes_the_id_and_sends_the_filter_without_id() {
    let (server, crud, ctx) = setup().await;
    mount_once(
        &server,
        "GET",
        "/users/a%20b%2Fc%3F",
        ok_json(json!({"_id": "a b/c?"})),
    )
    .await;

    let doc = crud.get(&ctx, "a b/c?", &filter()).await.expect("a document");

    assert_eq!(doc, Some(json!({"_id": "a b/c?"})));
    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), filter_pairs(true, false));
    assert_headers(&request, AclSent::Both);
}

#[tokio::test]
async fn get_of_a_missing_document_is_none() {
    let (server, crud, ctx) = setup().await;
    let not_found = ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}));
    mount_once(&server, "GET", "/users/u1", not_found).await;

    assert_eq!(crud.get(&ctx, "u1", &Filter::default()).await, Ok(None));
}

#[tokio::test]
async fn export_asks_for_ndjson_with_both_acl_headers_and_streams_the_body() {
    let (server, crud, ctx) = setup().await;
    let line = format!("{}\n", json!({"_id": "x".repeat(1_000)}));
    let ndjson = line.repeat(2_000);
    let response = ResponseTemplate::new(200).set_body_raw(ndjson.clone(), "application/x-ndjson");
    given("GET", "/users/export")
        .and(wiremock::matchers::header("accept", "application/x-ndjson"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;

    let stream = crud.export(&ctx, &find_query()).await.expect("a stream");
    let chunks: Vec<_> = stream.collect().await;

    assert!(chunks.len() > 1, "a 2 MB export must arrive in several chunks");
    let bytes: Vec<u8> = chunks
        .into_iter()
        .flat_map(|c| c.expect("a chunk").to_vec())
        .collect();
    assert_eq!(bytes, ndjson.into_bytes());
    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request), find_query_pairs());
    assert_headers(&request, AclSent::Both);
}

#[tokio::test]
async fn a_forwarded_accept_or_acl_header_is_replaced_never_sent_twice() {
    let (server, crud, mut ctx) = setup().await;
    ctx.forward.insert("accept", "text/csv".parse().expect("header"));
    ctx.forward.insert("acl_rows", "[]".parse().expect("header"));
    mount_once(&server, "GET", "/users/export", ResponseTemplate::new(200)).await;

    drop(crud.export(&ctx, &FindQuery::default()).await.expect("a stream"));

    let request = only_request(&server).await;
    let values = |name: &str| request.headers.get_all(name).iter().cloned().collect::<Vec<_>>();
    assert_eq!(values("accept"), ["application/x-ndjson"]);
    assert_eq!(values("acl_rows"), [r#"[{"tenantId":"t1"}]"#]);
}

#[tokio::test]
async fn check_calls_the_health_route_of_the_service_with_forwarded_headers_only() {
    let (server, crud, ctx) = setup().await;
    mount_once(&server, "GET", "/-/healthz", ok_json(json!({"status": "OK"}))).await;

    assert_eq!(crud.check(&ctx).await, Ok(()));

    assert_headers(&only_request(&server).await, AclSent::Neither);
}

#[tokio::test]
async fn check_of_a_service_without_the_health_route_is_an_error() {
    let (server, crud, ctx) = setup().await;

    let error = crud.check(&ctx).await.expect_err("a 404 health check must fail");

    assert!(
        matches!(&error, StoreError::Failed(f) if f.cause == Cause::NotFound),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "CRUD GET /-/healthz responded 404");
    drop(server);
}

#[tokio::test]
async fn base_url_and_path_slashes_are_normalised() {
    let server = MockServer::start().await;
    let client = build_http_client(TIMEOUT).expect("http client");
    let crud = CrudCollection::new(client, &format!("{}/", server.uri()), "users/");
    mount_once(&server, "GET", "/users/count", ok_json(json!(1))).await;

    assert_eq!(crud.path(), "/users");
    assert_eq!(crud.count(&context(), &Filter::default(), false).await, Ok(1));
}
