//! Reads: count, get by id, export, the ACL headers and the health check.

use serde_json::json;
use user_manager_service::store::{DocState, Filter, FindQuery};

use super::queries::people;
use super::*;

pub async fn count_honours_the_filter_and_the_estimate_counts_every_state(store: Store) {
    people(&store).await;
    store
        .users
        .insert(&ctx(), &json!({"name": "draft"}))
        .await
        .unwrap();

    assert_eq!(store.users.count(&ctx(), &Filter::default(), false).await, Ok(4));
    assert_eq!(
        store
            .users
            .count(&ctx(), &filter(json!({"age": 25})), false)
            .await,
        Ok(2)
    );
    let both = in_states(&[DocState::Public, DocState::Draft]);
    assert_eq!(store.users.count(&ctx(), &both, false).await, Ok(5));
    assert_eq!(
        store.users.count(&ctx(), &filter(json!({"age": 25})), true).await,
        Ok(5)
    );
}

pub async fn get_finds_by_id_and_answers_none_for_a_missing_id_or_a_failed_filter(store: Store) {
    let ids = seed(&store, &[json!({"name": "a", "version": 1})]).await;

    let got = store
        .users
        .get(&ctx(), &ids[0], &Filter::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["name"], "a");
    let matching = filter(json!({"version": 1}));
    assert!(store
        .users
        .get(&ctx(), &ids[0], &matching)
        .await
        .unwrap()
        .is_some());
    let stale = filter(json!({"version": 2}));
    assert_eq!(store.users.get(&ctx(), &ids[0], &stale).await, Ok(None));
    let missing = "0123456789abcdef01234567";
    assert_eq!(
        store.users.get(&ctx(), missing, &Filter::default()).await,
        Ok(None)
    );
}

pub async fn export_streams_every_match_as_ndjson_beyond_the_list_limit(store: Store) {
    let docs: Vec<Value> = (0..30)
        .map(|i| json!({"name": format!("u{i:02}"), "n": i}))
        .collect();
    seed(&store, &docs).await;
    store
        .users
        .insert(&ctx(), &json!({"name": "draft"}))
        .await
        .unwrap();

    let all = export_lines(&store, &ctx(), &FindQuery::default()).await;
    assert_eq!(all.len(), 30);
    assert_eq!(all[0]["name"], "u00");
    assert_eq!(all[29]["name"], "u29");

    let shaped = FindQuery {
        filter: filter(json!({"n": {"$gte": 10}})),
        projection: Some(vec!["n".to_owned()]),
        sort: Some("-n".to_owned()),
        skip: Some(1),
        limit: Some(3),
        ..FindQuery::default()
    };
    let lines = export_lines(&store, &ctx(), &shaped).await;
    let ns: Vec<i64> = lines.iter().map(|d| d["n"].as_i64().unwrap()).collect();
    assert_eq!(ns, [28, 27, 26]);
    assert!(lines
        .iter()
        .all(|d| d.get("name").is_none() && d["_id"].is_string()));
}

pub async fn acl_rows_restrict_reads_and_acl_read_columns_project_them(store: Store) {
    let ids = seed(
        &store,
        &[
            json!({"name": "a", "tenant": "t1", "secret": 1}),
            json!({"name": "b", "tenant": "t2", "secret": 2}),
            json!({"name": "c", "tenant": "t1", "secret": 3, "level": 5}),
        ],
    )
    .await;
    let ctx = acl_ctx(r#"[{"tenant":"t1"},{"secret":{"$gte":1}}]"#, Some("name,tenant"));

    let docs = store.users.find(&ctx, &FindQuery::default()).await.unwrap();
    assert_eq!(names(&docs), ["a", "c"]);
    assert!(
        docs.iter()
            .all(|d| d.get("secret").is_none() && d["tenant"] == "t1"),
        "{docs:?}"
    );
    assert_eq!(store.users.count(&ctx, &Filter::default(), false).await, Ok(2));
    assert_eq!(store.users.get(&ctx, &ids[1], &Filter::default()).await, Ok(None));
    let got = store
        .users
        .get(&ctx, &ids[2], &Filter::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, json!({"_id": ids[2], "name": "c", "tenant": "t1"}));
    let exported = export_lines(&store, &ctx, &FindQuery::default()).await;
    assert_eq!(names(&exported), ["a", "c"]);

    let single = acl_ctx(r#"{"level":5}"#, None);
    let docs = store.users.find(&single, &FindQuery::default()).await.unwrap();
    assert_eq!(names(&docs), ["c"]);
    assert_eq!(docs[0]["secret"], 3);
}

pub async fn check_answers_when_the_store_is_up(store: Store) {
    assert_eq!(store.users.check(&ctx()).await, Ok(()));
}
