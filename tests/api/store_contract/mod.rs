//! One contract suite for every `Collection`: the same tests run against the CRUD adapter over
//! the in-process CRUD fake (`store_contract::crud_fake::*`) and against the embedded SQLite
//! store (`store_contract::embedded::*`), so the two cannot drift apart.

mod inserts;
mod queries;
mod reads;
mod states;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use futures::StreamExt;
use serde_json::{json, Value};
use ums_fakes::crud::{CrudFake, RunningCrudFake};
use user_manager_service::context::{Acl, CallContext};
use user_manager_service::downstream::build_http_client;
use user_manager_service::store::crud_http::CrudCollection;
use user_manager_service::store::embedded::EmbeddedDb;
use user_manager_service::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreError};

/// A store under test; keeps the CRUD fake alive while the test runs.
pub struct Store {
    pub users: Arc<dyn Collection>,
    _crud: Option<RunningCrudFake>,
}

/// The `/users` collection of a standard CRUD fake, through the HTTP adapter.
pub async fn crud_fake() -> Store {
    let crud = CrudFake::standard().spawn().await;
    let client = build_http_client(Duration::from_secs(5)).unwrap();
    let users = CrudCollection::new(client, &crud.uri(), "/users");
    Store {
        users: Arc::new(users),
        _crud: Some(crud),
    }
}

/// The `/users` collection of an in-memory embedded store, configured like the fake's.
pub async fn embedded() -> Store {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = db
        .collection(
            "/users",
            &["email", "username"],
            &["authUserId"],
            DocState::Draft,
            "miauserid",
        )
        .unwrap();
    Store { users, _crud: None }
}

/// Generates one `#[tokio::test]` per listed test in a module per store.
macro_rules! contract_suite {
    ($($group:ident :: $test:ident),* $(,)?) => {
        mod crud_fake {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$group::$test(super::crud_fake().await).await;
                }
            )*
        }
        mod embedded {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$group::$test(super::embedded().await).await;
                }
            )*
        }
    };
}

contract_suite!(
    inserts::a_document_inserted_without_state_is_draft_and_hidden_from_default_reads,
    inserts::a_state_given_in_the_body_is_kept,
    inserts::insert_sets_the_standard_fields_and_a_24_hex_id,
    inserts::a_duplicate_email_or_username_is_a_conflict_and_a_missing_email_never_conflicts,
    inserts::a_bulk_insert_returns_the_ids_in_order_and_a_duplicate_in_it_is_a_conflict,
    inserts::an_import_keeps_each_documents_own_id_and_a_taken_id_or_email_is_a_conflict,
    queries::list_filters_with_comparison_and_logical_operators,
    queries::list_filters_with_array_existence_and_regex_operators,
    queries::list_sorts_both_ways_and_pages_with_limit_and_skip,
    queries::list_projects_the_requested_fields_and_always_the_id,
    queries::field_filters_coerce_booleans_and_numbers_and_match_array_elements,
    queries::list_by_id_parameter_or_id_in_finds_the_documents,
    queries::a_limit_above_200_is_rejected_with_400,
    queries::an_unknown_or_unsupported_query_operator_is_rejected_with_400,
    reads::count_honours_the_filter_and_the_estimate_counts_every_state,
    reads::get_finds_by_id_and_answers_none_for_a_missing_id_or_a_failed_filter,
    reads::export_streams_every_match_as_ndjson_beyond_the_list_limit,
    reads::acl_rows_restrict_reads_and_acl_read_columns_project_them,
    reads::check_answers_when_the_store_is_up,
    writes::patch_applies_update_operators_on_dotted_paths_and_returns_the_new_document,
    writes::patch_applies_array_operators,
    writes::patch_is_a_compare_and_set_that_writes_nothing_on_a_miss,
    writes::patch_of_a_draft_document_needs_its_state_in_the_filter,
    writes::a_positional_set_changes_the_element_selected_by_the_filter,
    writes::patch_refuses_unknown_operators_and_protected_fields_with_400,
    writes::a_patch_that_would_duplicate_a_unique_value_fails_and_writes_nothing,
    writes::patch_many_and_patch_bulk_return_the_modified_counts,
    writes::delete_removes_one_match_and_delete_many_returns_the_count,
    states::set_state_follows_the_transition_table_and_refuses_others_with_400,
    states::set_state_ignores_the_current_state_and_answers_false_for_an_unknown_id,
    states::set_state_many_moves_only_documents_in_a_source_state,
    states::set_state_many_on_the_updated_at_read_is_a_compare_and_set,
    states::set_state_many_refuses_filter_keys_outside_the_contract,
);

// ----- helpers shared by the groups -----

/// A request context whose user id header is `user-1`.
pub fn ctx() -> CallContext {
    let mut forward = HeaderMap::new();
    forward.insert("miauserid", "user-1".parse().unwrap());
    CallContext {
        forward,
        ..CallContext::default()
    }
}

/// A context carrying ACL headers.
pub fn acl_ctx(rows: &str, read_columns: Option<&str>) -> CallContext {
    CallContext {
        acl: Acl {
            rows: Some(rows.to_owned()),
            read_columns: read_columns.map(str::to_owned),
            ..Acl::default()
        },
        ..ctx()
    }
}

/// Inserts `docs` as PUBLIC documents; their ids in order.
pub async fn seed(store: &Store, docs: &[Value]) -> Vec<String> {
    let docs: Vec<Value> = docs
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d["__STATE__"] = json!("PUBLIC");
            d
        })
        .collect();
    store.users.insert_many(&ctx(), &docs).await.unwrap()
}

/// A list query with `_q` = `q` (and the store's default `_l`).
pub fn query(q: Value) -> FindQuery {
    FindQuery {
        filter: filter(q),
        ..FindQuery::default()
    }
}

/// A filter with `_q` = `q`.
pub fn filter(q: Value) -> Filter {
    Filter {
        q: Some(q),
        ..Filter::default()
    }
}

/// A filter accepting the listed states.
pub fn in_states(states: &[DocState]) -> Filter {
    Filter {
        state: Some(StateFilter(states.to_vec())),
        ..Filter::default()
    }
}

/// The `name` of each document.
pub fn names(docs: &[Value]) -> Vec<&str> {
    docs.iter().map(|d| d["name"].as_str().unwrap_or("?")).collect()
}

/// The names of the documents `_q` = `q` lists (sorted by name, so order does not matter).
pub async fn names_matching(store: &Store, q: Value) -> Vec<String> {
    let mut query = query(q);
    query.sort = Some("name".to_owned());
    let docs = store.users.find(&ctx(), &query).await.unwrap();
    names(&docs).into_iter().map(str::to_owned).collect()
}

/// The store's own message of an `Invalid` refusal (the CRUD adapter names its call before it:
/// `CRUD POST /users/ responded 400: ...`); fails on any other error.
pub fn rejected(error: StoreError) -> String {
    match error {
        StoreError::Invalid(message) => match message.split_once(" responded 400: ") {
            Some((_call, store_message)) => store_message.to_owned(),
            None => message,
        },
        other => panic!("expected an invalid-request refusal, got {other:?}"),
    }
}

/// The whole export stream as parsed lines.
pub async fn export_lines(store: &Store, ctx: &CallContext, query: &FindQuery) -> Vec<Value> {
    let mut stream = store.users.export(ctx, query).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "NDJSON ends with a newline: {text:?}"
    );
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The stored document `id`, whatever its state.
pub async fn stored(store: &Store, id: &str) -> Option<Value> {
    let all = in_states(&[
        DocState::Public,
        DocState::Draft,
        DocState::Trash,
        DocState::Deleted,
    ]);
    store.users.get(&ctx(), id, &all).await.unwrap()
}
