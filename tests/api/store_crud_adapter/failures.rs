//! The failure cases every call shares: a 400 is `Rejected` with the upstream message, a 500 is
//! `Failed` and names the route, an answer slower than the client timeout is `Timeout`.

use user_manager_service::downstream::Cause;
use user_manager_service::store::{BulkPatch, Collection, StateChange};

use super::*;
use user_manager_service::store::StoreError;

const MESSAGE: &str = "transition from PUBLIC to DELETED not allowed.";

fn bad_request() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "statusCode": 400, "error": "Bad Request", "message": MESSAGE
    }))
}

/// For each call: `module: "METHOD /route" => |crud, ctx| <call>`; the call's result is dropped
/// to `()`, so every return type fits.
macro_rules! failure_cases {
    ($($module:ident: $route:literal => |$crud:ident, $ctx:ident| $call:expr;)+) => {$(
        mod $module {
            use super::*;

            #[tokio::test]
            async fn a_400_is_rejected_with_the_upstream_message() {
                let (server, $crud, $ctx) = setup().await;
                answer_any(&server, bad_request()).await;
                let error = $call.await.map(drop).expect_err("a 400 must fail");
                assert_eq!(error, StoreError::Invalid(format!("CRUD {} responded 400: {MESSAGE}", $route)));
                assert_eq!(error.to_string(), format!("CRUD {} responded 400: {MESSAGE}", $route));
            }

            #[tokio::test]
            async fn a_500_is_failed_and_the_error_names_the_route() {
                let (server, $crud, $ctx) = setup().await;
                answer_any(&server, ResponseTemplate::new(500)).await;
                let error = $call.await.map(drop).expect_err("a 500 must fail");
                assert!(matches!(&error, StoreError::Failed(f) if f.cause == Cause::Failed { status: Some(500) }), "{error:?}");
                assert_eq!(error.to_string(), format!("CRUD {} responded 500", $route));
            }

            #[tokio::test]
            async fn an_answer_slower_than_the_client_timeout_is_a_timeout() {
                let (server, $crud, $ctx) = setup().await;
                answer_any(&server, ResponseTemplate::new(200).set_delay(SLOW)).await;
                let error = $call.await.map(drop).expect_err("a slow answer must fail");
                assert!(matches!(&error, StoreError::Failed(f) if f.cause == Cause::Timeout), "{error:?}");
                assert_eq!(error.to_string(), format!("CRUD {} timed out", $route));
            }
        }
    )+};
}

fn bulk_patch() -> Vec<BulkPatch> {
    vec![BulkPatch {
        filter: Filter::default(),
        update: json!({"$set": {"a": 1}}),
    }]
}

fn state_changes() -> Vec<StateChange> {
    let mut filter = serde_json::Map::new();
    filter.insert("_id".to_owned(), json!("u1"));
    vec![StateChange {
        filter,
        state_to: DocState::Trash,
    }]
}

failure_cases! {
    find: "GET /users/" => |crud, ctx| crud.find(&ctx, &find_query());
    find_raw: "GET /users/" => |crud, ctx| crud.find_raw(&ctx, &find_query());
    count: "GET /users/count" => |crud, ctx| crud.count(&ctx, &filter(), true);
    get: "GET /users/:id" => |crud, ctx| crud.get(&ctx, "u1", &filter());
    insert: "POST /users/" => |crud, ctx| crud.insert(&ctx, &json!({"name": "Ada"}));
    insert_many: "POST /users/bulk" => |crud, ctx| crud.insert_many(&ctx, &[json!({"name": "Ada"})]);
    insert_with_ids: "POST /users/import" => |crud, ctx| crud.insert_with_ids(&ctx, &[json!({"_id": "a1"})]);
    patch: "PATCH /users/:id" => |crud, ctx| crud.patch(&ctx, "u1", &filter(), &json!({}));
    patch_many: "PATCH /users/" => |crud, ctx| crud.patch_many(&ctx, &filter(), &json!({}));
    patch_bulk: "PATCH /users/bulk" => |crud, ctx| crud.patch_bulk(&ctx, &bulk_patch());
    delete: "DELETE /users/:id" => |crud, ctx| crud.delete(&ctx, "u1", &filter());
    delete_many: "DELETE /users/" => |crud, ctx| crud.delete_many(&ctx, &filter());
    set_state: "POST /users/:id/state" => |crud, ctx| crud.set_state(&ctx, "u1", &filter(), DocState::Deleted);
    set_state_many: "POST /users/state" => |crud, ctx| crud.set_state_many(&ctx, &state_changes());
    export: "GET /users/export" => |crud, ctx| crud.export(&ctx, &find_query());
    check: "GET /-/healthz" => |crud, ctx| crud.check(&ctx);
}
