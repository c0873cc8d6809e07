//! Tests of the registry cache: ttl, reload on a miss (rate limited), paging, store failures,
//! single flight and the interval task.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::fake::FakeConfig;
use super::{config, ctx, customer_schema, customers, registry};
use crate::groups::GroupError;
use crate::store::Filter;

#[tokio::test]
async fn a_second_get_within_ttl_makes_no_store_call() {
    let (fake, registry) = customers();
    assert!(!registry.is_loaded());
    let first = registry.get(&ctx(), "customer").await.unwrap();
    let second = registry.get(&ctx(), "customer").await.unwrap();
    assert_eq!(fake.finds(), 1);
    assert!(registry.is_loaded());
    assert!(Arc::ptr_eq(&first, &second));
    let query = fake.queries.lock().unwrap()[0].clone();
    assert_eq!(query.filter, Filter::default());
    assert_eq!(
        (query.limit, query.skip, query.sort.as_deref()),
        (Some(200), Some(0), Some("_id"))
    );
}

#[tokio::test]
async fn an_expired_cache_is_reloaded_and_unchanged_schemas_are_not_recompiled() {
    let fake = FakeConfig::with(vec![config("customer", customer_schema())]);
    let registry = registry(&fake, Duration::ZERO);
    let first = registry.get(&ctx(), "customer").await.unwrap();
    let second = registry.get(&ctx(), "customer").await.unwrap();
    assert_eq!(fake.finds(), 2);
    assert!(Arc::ptr_eq(&first, &second));
    fake.docs.lock().unwrap()[0]["label"] = json!("Client");
    let third = registry.get(&ctx(), "customer").await.unwrap();
    assert_eq!(third.label.as_deref(), Some("Client"));
}

#[tokio::test]
async fn a_miss_reloads_and_finds_a_newly_added_group() {
    let (fake, registry) = customers();
    registry.refresh(&ctx()).await.unwrap();
    fake.add(config("vendor", json!({"type": "object"})));
    let vendor = registry.get(&ctx(), "vendor").await.unwrap();
    assert_eq!(vendor.label.as_deref(), Some("VENDOR"));
    assert_eq!(fake.finds(), 2);
}

#[tokio::test]
async fn repeated_misses_within_a_second_reload_at_most_once() {
    let (fake, registry) = customers();
    registry.refresh(&ctx()).await.unwrap();
    for _ in 0..5 {
        let error = registry.get(&ctx(), "ghost").await.unwrap_err();
        assert_eq!(error.to_string(), "userGroup \"ghost\" does not exist");
    }
    assert_eq!(fake.finds(), 2);
    fake.add(config("ghost", json!({"type": "object"})));
    assert!(matches!(
        registry.get(&ctx(), "ghost").await,
        Err(GroupError::Unknown(name)) if name == "ghost"
    ));
    assert_eq!(fake.finds(), 2);
    // An explicit refresh is never rate limited.
    registry.refresh(&ctx()).await.unwrap();
    assert_eq!(registry.get(&ctx(), "ghost").await.unwrap().name, "ghost");
    assert_eq!(fake.finds(), 3);
}

#[tokio::test]
async fn paging_reads_more_than_200_groups() {
    let docs = (0..450)
        .map(|i| config(&format!("g{i:03}"), json!({"type": "object"})))
        .collect();
    let fake = FakeConfig::with(docs);
    let registry = registry(&fake, Duration::from_secs(60));
    assert_eq!(registry.get(&ctx(), "g449").await.unwrap().name, "g449");
    assert_eq!(registry.get(&ctx(), "g000").await.unwrap().name, "g000");
    let pages: Vec<(Option<u32>, Option<u64>)> = fake
        .queries
        .lock()
        .unwrap()
        .iter()
        .map(|q| (q.limit, q.skip))
        .collect();
    assert_eq!(
        pages,
        [
            (Some(200), Some(0)),
            (Some(200), Some(200)),
            (Some(200), Some(400))
        ]
    );
}

#[tokio::test]
async fn documents_without_a_string_user_group_are_ignored() {
    let fake = FakeConfig::with(vec![
        json!({"_id": "a", "userGroup": 3, "crudSchema": {"type": "object"}}),
        json!({"_id": "b", "crudSchema": {"type": "object"}}),
        config("customer", customer_schema()),
    ]);
    let registry = registry(&fake, Duration::from_secs(60));
    registry.refresh(&ctx()).await.unwrap();
    assert_eq!(registry.get(&ctx(), "customer").await.unwrap().name, "customer");
    assert_eq!(registry.invalid_groups(), Vec::<(String, String)>::new());
}
#[tokio::test]
async fn a_store_failure_is_a_downstream_error_and_a_cached_group_is_still_served() {
    let fake = FakeConfig::with(vec![config("customer", customer_schema())]);
    fake.failing.store(true, Ordering::SeqCst);
    let registry = registry(&fake, Duration::ZERO);
    let error = registry.get(&ctx(), "customer").await.unwrap_err();
    assert!(matches!(error, GroupError::Store(_)));
    assert_eq!(error.to_string(), "CRUD GET /user-groups/ responded 500");
    // Within a second of a failure no further load is attempted.
    assert!(registry.get(&ctx(), "customer").await.is_err());
    assert_eq!(fake.finds(), 1);
    assert!(registry.refresh(&ctx()).await.is_err());
    assert_eq!(fake.finds(), 2);

    fake.failing.store(false, Ordering::SeqCst);
    registry.refresh(&ctx()).await.unwrap();
    fake.failing.store(true, Ordering::SeqCst);
    // Stale (ttl zero) and the store down: the cached group is served.
    assert_eq!(registry.get(&ctx(), "customer").await.unwrap().name, "customer");
    assert_eq!(fake.finds(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_share_one_load() {
    let (fake, registry) = customers();
    registry.refresh(&ctx()).await.unwrap();
    fake.add(config("vendor", json!({"type": "object"})));
    *fake.latency.lock().unwrap() = Duration::from_millis(50);
    let registry = Arc::new(registry);
    let lookups = (0..8).map(|_| {
        let registry = Arc::clone(&registry);
        tokio::spawn(async move { registry.get(&ctx(), "vendor").await.map(|g| g.name.clone()) })
    });
    for result in futures::future::join_all(lookups).await {
        assert_eq!(result.unwrap().unwrap(), "vendor");
    }
    assert_eq!(fake.finds(), 2);
}

#[tokio::test]
async fn the_refresher_reloads_until_shutdown() {
    let (fake, registry) = customers();
    let registry = Arc::new(registry);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = registry.spawn_refresher(Duration::from_millis(10), shutdown.clone());
    for _ in 0..500 {
        if fake.finds() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(fake.finds() >= 3);
    assert!(registry.is_loaded());
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn each_load_that_changes_the_declared_fields_indexes_exactly_them() {
    let users = FakeConfig::with(Vec::new());
    let nested = json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}, "geo": {
            "type": "object", "properties": {"lat": {"type": "number"},
                "deep": {"type": "object", "properties": {"x": {}}}}}}}
    }});
    let fake = FakeConfig::with(vec![config("customer", customer_schema()), config("vip", nested)]);
    let indexer = Arc::new(crate::groups::FieldIndexer::new(
        Arc::clone(&users) as Arc<dyn crate::store::Collection>
    ));
    let registry = registry(&fake, Duration::from_secs(60)).with_indexer(indexer);
    let asked = || users.indexed.lock().unwrap().clone();
    let settle = || tokio::time::sleep(Duration::from_millis(50));

    registry.refresh(&ctx()).await.unwrap();
    settle().await;
    registry.refresh(&ctx()).await.unwrap();
    settle().await;

    let expected: Vec<String> = [
        "address.city",
        "address.geo.deep",
        "address.geo.lat",
        "age",
        "birthDate",
        "name",
        "website",
    ]
    .map(str::to_owned)
    .to_vec();
    assert_eq!(
        asked(),
        vec![expected],
        "asked once: the second load declared the same fields"
    );
    fake.add(config(
        "extra",
        json!({"type": "object", "properties": {"tier": {"type": "string"}}}),
    ));
    registry.refresh(&ctx()).await.unwrap();
    settle().await;
    assert!(asked().last().unwrap().contains(&"tier".to_owned()));
    assert_eq!(asked().len(), 2);
}
