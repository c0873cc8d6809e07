//! Unit tests of the indexes of declared fields: the same results with and without them (sorts
//! over mixed types, missing fields and arrays; ranges; prefixes), their use in query plans,
//! and their lifecycle (added, filled, dropped, kept across a reopening).

use serde_json::{json, Value};

use super::cursor::ordered_sql;
use super::plan::{key_ranges, range_sql};
use super::{lock, EmbeddedCollection, EmbeddedDb};
use crate::context::CallContext;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter};

fn ctx() -> CallContext {
    CallContext::background("embedded-index-test")
}

fn users(db: &EmbeddedDb) -> EmbeddedCollection {
    db.open_collection("/users", &["email"], &[], DocState::Public, "miauserid")
        .unwrap()
}

/// Documents with every kind of value in `name`, `age` and `address.city`, some missing.
fn mixed_docs() -> Vec<Value> {
    let mut docs = vec![
        json!({"name": "bea", "age": 30, "address": {"city": "rome"}}),
        json!({"name": "Ann", "age": 2.5, "address": {"city": "milan"}}),
        json!({"age": -1}),
        json!({"name": null, "age": "old"}),
        json!({"name": 7, "age": true, "address": {}}),
        json!({"name": "bea", "age": 30}),
        json!({"name": true, "age": 1e300}),
        json!({"name": "n12x", "age": 0}),
        json!({"name": "n123", "age": -0.0, "address": {"city": "n12"}}),
        json!({"name": "n13", "age": 12}),
        json!({"name": "Ñandu", "age": 9007199254740991_i64}),
    ];
    for i in 0..40 {
        docs.push(json!({"name": format!("u{:02}", i % 13), "age": i % 7, "address": {"city": format!("c{}", i % 5)}}));
    }
    docs
}

async fn seeded(db: &EmbeddedDb, docs: &[Value]) -> EmbeddedCollection {
    let users = users(db);
    for doc in docs {
        users.insert(&ctx(), doc).await.unwrap();
    }
    users
}

fn query(q: Option<Value>, sort: Option<&str>, skip: u64, limit: u32) -> FindQuery {
    FindQuery {
        filter: Filter {
            q,
            state: Some(StateFilter(vec![DocState::Public])),
            ..Filter::default()
        },
        sort: sort.map(str::to_owned),
        skip: Some(skip),
        limit: Some(limit),
        ..FindQuery::default()
    }
}

/// The queries compared with and without indexes.
fn queries() -> Vec<FindQuery> {
    let mut out = Vec::new();
    for sort in [
        "name",
        "-name",
        "age",
        "-age",
        "address.city,-age",
        "-address.city,name",
        "_id",
    ] {
        for (skip, limit) in [(0, 25), (3, 7), (45, 200)] {
            out.push(query(None, Some(sort), skip, limit));
            out.push(query(Some(json!({"age": {"$gte": 1}})), Some(sort), skip, limit));
        }
    }
    for q in [
        json!({"age": {"$gt": 2, "$lte": 30}}),
        json!({"age": {"$lt": 1}}),
        json!({"name": {"$gte": "b", "$lt": "u05"}}),
        json!({"name": {"$regex": "^n12"}}),
        json!({"name": {"$regex": "^n1"}, "age": {"$gte": 0}}),
        json!({"address.city": "c3"}),
        json!({"address.city": {"$in": ["c1", "rome"]}}),
        json!({"$and": [{"address.city": {"$gte": "c2"}}, {"name": {"$lt": "u09"}}]}),
        json!({"name": {"$gt": true}}),
    ] {
        out.push(query(Some(q.clone()), None, 0, 200));
        out.push(query(Some(q), Some("-name"), 1, 10));
    }
    out
}

async fn results(users: &EmbeddedCollection) -> Vec<(FindQuery, Vec<Value>, u64)> {
    let mut out = Vec::new();
    for q in queries() {
        let found = users.find(&ctx(), &q).await.unwrap();
        let count = users.count(&ctx(), &q.filter, false).await.unwrap();
        out.push((q, found, count));
    }
    out
}

fn fields(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn indexed_queries_answer_exactly_what_the_scan_answers() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = seeded(&db, &mixed_docs()).await;
    let scanned = results(&users).await;

    users
        .index_fields(&fields(&["name", "age", "address.city"]))
        .await
        .unwrap();
    for field in ["name", "age", "address.city"] {
        assert!(users.table().column(field).is_some(), "{field} is indexed");
    }
    let read_before = users.rows_read();
    let indexed = results(&users).await;

    for ((query, expected, count), (_, found, indexed_count)) in scanned.iter().zip(&indexed) {
        assert_eq!(found, expected, "{query:?}");
        assert_eq!(indexed_count, count, "{query:?}");
    }
    let scan_cost = read_before;
    let index_cost = users.rows_read() - read_before;
    assert!(
        index_cost < scan_cost,
        "indexes read fewer rows: {index_cost} vs {scan_cost}"
    );

    // An array in a sorted field: its sort falls back to the in-memory one, still exact.
    users
        .insert(&ctx(), &json!({"name": ["zed", "abe"], "age": [3, 1]}))
        .await
        .unwrap();
    let db2 = EmbeddedDb::in_memory().unwrap();
    let mut with_array = mixed_docs();
    with_array.push(json!({"name": ["zed", "abe"], "age": [3, 1]}));
    let reference = seeded(&db2, &with_array).await;
    for q in queries() {
        let expected = reference.find(&ctx(), &q).await.unwrap();
        let found = users.find(&ctx(), &q).await.unwrap();
        let strip = |docs: Vec<Value>| -> Vec<Value> {
            docs.into_iter()
                .map(|mut d| {
                    for f in ["_id", "createdAt", "updatedAt"] {
                        d.as_object_mut().map(|o| o.remove(f));
                    }
                    d
                })
                .collect()
        };
        if q.sort.as_deref() != Some("_id") {
            assert_eq!(strip(found), strip(expected), "{q:?}");
        }
    }
}

#[tokio::test]
async fn sorted_pages_ranges_and_prefixes_search_the_index() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = seeded(&db, &mixed_docs()).await;
    users
        .index_fields(&fields(&["name", "address.city"]))
        .await
        .unwrap();
    let table = users.table();
    let name = table.column("name").unwrap().name;
    let city = table.column("address.city").unwrap().name;
    let conn = lock(&db.conn);
    let range = |q: Value| key_ranges(&q).remove(0).1;
    let plans = [
        ordered_sql(table, Some(1), &format!("\"{name}\" ASC, seq ASC"), "seq", 25, 0),
        ordered_sql(
            table,
            Some(2),
            &format!("\"{name}\" DESC, seq ASC"),
            "seq, doc",
            25,
            100,
        ),
        ordered_sql(table, None, "id ASC, seq ASC", "seq", 25, 0),
        range_sql(table, &city, &range(json!({"c": {"$regex": "^n12"}}))),
        range_sql(table, &name, &range(json!({"n": {"$gte": 3, "$lt": 9}}))),
    ];
    for sql in plans {
        let plan = super::tests::query_plan(&conn, &sql);
        assert!(
            plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"),
            "{sql}: {plan}"
        );
        assert!(!plan.contains("TEMP B-TREE FOR ORDER BY"), "{sql}: {plan}");
        assert!(
            !plan.contains("SCAN docs_users\n") && !plan.ends_with("SCAN docs_users"),
            "{sql}: {plan}"
        );
    }
}

#[tokio::test]
async fn index_columns_follow_the_declared_fields_and_survive_a_reopening() {
    let dir = std::env::temp_dir().join(format!("ums-index-{}", uuid::Uuid::new_v4()));
    let path = dir.join("store.sqlite");
    {
        let db = EmbeddedDb::open(&path).unwrap();
        let users = seeded(&db, &mixed_docs()).await;
        users.index_fields(&fields(&["name", "age"])).await.unwrap();
        users
            .index_fields(&fields(&["age", "address.city"]))
            .await
            .unwrap();
        let table = users.table();
        assert!(table.column("name").is_none(), "no longer declared: dropped");
        assert!(table.column("age").is_some() && table.column("address.city").is_some());
        assert!(
            table.column("email").is_some(),
            "configured columns are never dropped"
        );
    }
    let db = EmbeddedDb::open(&path).unwrap();
    let users = users(&db);
    assert!(
        users.table().column("address.city").is_some(),
        "kept ready across a reopening"
    );
    let found = users
        .find(
            &ctx(),
            &query(Some(json!({"address.city": "c3"})), Some("age"), 0, 200),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 8);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_unique_field_no_longer_configured_accepts_duplicates() {
    let db = EmbeddedDb::in_memory().unwrap();
    let before = db
        .open_collection(
            "/users",
            &["email", "username"],
            &[],
            DocState::Public,
            "miauserid",
        )
        .unwrap();
    before.insert(&ctx(), &json!({"username": "ann"})).await.unwrap();
    let after = db
        .open_collection("/users", &["email"], &[], DocState::Public, "miauserid")
        .unwrap();

    after.insert(&ctx(), &json!({"username": "ann"})).await.unwrap();

    let twins = query(Some(json!({"username": "ann"})), None, 0, 10);
    assert_eq!(after.find(&ctx(), &twins).await.unwrap().len(), 2);
}
