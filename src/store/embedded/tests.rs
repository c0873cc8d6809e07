//! Unit tests of the embedded store: durability of a file database, index use for lookups,
//! concurrent writers, schema changes and paged exports. The CRUD semantics are covered by the
//! `store_contract` suite of the API tests, against the CRUD fake too.

use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::{json, Value};

use super::cursor::{composite_sql, ids_sql, keys_sql, rows_sql, scan_sql};
use super::{lock, EmbeddedCollection, EmbeddedDb};
use crate::context::CallContext;
use crate::store::StoreError;
use crate::store::{Collection, DocState, Filter, FindQuery};

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("ums-embedded-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("data").join("store.sqlite")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ctx() -> CallContext {
    CallContext::background("embedded-test")
}

fn users(db: &EmbeddedDb) -> EmbeddedCollection {
    db.open_collection(
        "/users",
        &["email", "username"],
        &["authUserId"],
        DocState::Draft,
        "miauserid",
    )
    .unwrap()
}

fn by_q(q: Value) -> FindQuery {
    FindQuery {
        filter: Filter {
            q: Some(q),
            ..Filter::any_state()
        },
        ..FindQuery::default()
    }
}

#[tokio::test]
async fn documents_written_to_a_file_are_read_back_after_reopening() {
    let dir = TempDir::new();
    let (id, other) = {
        let db = EmbeddedDb::open(&dir.db()).unwrap();
        let users = users(&db);
        let id = users
            .insert(&ctx(), &json!({"email": "a@x.io", "n": 1}))
            .await
            .unwrap();
        let other = users.insert(&ctx(), &json!({"email": "b@x.io"})).await.unwrap();
        users
            .patch(&ctx(), &id, &Filter::any_state(), &json!({"$inc": {"n": 1}}))
            .await
            .unwrap();
        users
            .set_state(&ctx(), &id, &Filter::default(), DocState::Public)
            .await
            .unwrap();
        assert!(users.delete(&ctx(), &other, &Filter::any_state()).await.unwrap());
        (id, other)
    };

    let db = EmbeddedDb::open(&dir.db()).unwrap();
    let mode: String = lock(&db.conn)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let users = users(&db);
    let doc = users.get(&ctx(), &id, &Filter::default()).await.unwrap().unwrap();
    assert_eq!(
        (doc["n"].as_i64(), doc["__STATE__"].as_str()),
        (Some(2), Some("PUBLIC"))
    );
    assert_eq!(users.get(&ctx(), &other, &Filter::any_state()).await, Ok(None));
    let dup = users
        .insert(&ctx(), &json!({"email": "a@x.io"}))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_its_wal_and_shm_files_and_a_new_directory_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = TempDir::new();
    let db = EmbeddedDb::open(&dir.db()).unwrap();
    users(&db)
        .insert(&ctx(), &json!({"email": "a@x.io"}))
        .await
        .unwrap();
    assert_eq!(mode(dir.db().parent().unwrap()), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", dir.db().display()));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn lookups_by_id_unique_and_indexed_fields_read_only_the_matching_rows() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = users(&db);
    let docs: Vec<Value> = (0..300)
        .map(|i| json!({"email": format!("u{i}@x.io"), "username": format!("u{i}"), "authUserId": format!("auth|{i}"), "name": format!("n{i}")}))
        .collect();
    let ids = users.insert_many(&ctx(), &docs).await.unwrap();
    let reads = |expected: u64, before: u64| {
        assert_eq!(users.rows_read() - before, expected, "rows read");
    };

    let before = users.rows_read();
    let doc = users
        .get(&ctx(), &ids[150], &Filter::any_state())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc["name"], "n150");
    reads(1, before);

    let before = users.rows_read();
    let email = FindQuery {
        filter: Filter {
            fields: vec![("email".to_owned(), "u7@x.io".to_owned())],
            ..Filter::any_state()
        },
        ..FindQuery::default()
    };
    assert_eq!(users.find(&ctx(), &email).await.unwrap().len(), 1);
    reads(1, before);

    let before = users.rows_read();
    let q = json!({"username": {"$eq": "u9"}, "authUserId": {"$in": ["auth|9", "auth|10"]}});
    assert_eq!(users.find(&ctx(), &by_q(q)).await.unwrap().len(), 1);
    reads(1, before);

    let before = users.rows_read();
    let q = json!({"authUserId": {"$in": ["auth|1", "auth|2"]}});
    assert_eq!(users.count(&ctx(), &by_q(q).filter, false).await, Ok(2));
    reads(2, before);

    let before = users.rows_read();
    let q = json!({"_id": {"$in": [ids[3], ids[4]]}});
    assert_eq!(
        users
            .patch_many(&ctx(), &by_q(q).filter, &json!({"$set": {"x": 1}}))
            .await,
        Ok(2)
    );
    reads(2, before);

    let before = users.rows_read();
    assert_eq!(
        users
            .find(&ctx(), &by_q(json!({"name": "n299"})))
            .await
            .unwrap()
            .len(),
        1
    );
    reads(300, before);
}

#[tokio::test]
async fn lookups_and_scan_pages_search_by_key_and_never_sort() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = users(&db);
    let table = users.table();
    let conn = lock(&db.conn);

    for sql in [
        ids_sql(table, 3),
        keys_sql(table, "k_email", 1),
        keys_sql(table, "k_authUserId", 2),
        composite_sql(table, "k_username"),
        super::plan::range_sql(
            table,
            "k_authUserId",
            &super::plan::key_ranges(&json!({"a": {"$gt": 1}}))[0].1,
        ),
        rows_sql(table, 2, Some(2)),
        scan_sql(table, Some(3), super::cursor::PAGE_SIZE),
    ] {
        let plan = query_plan(&conn, &sql);
        let keyed = plan.contains("INDEX") || plan.contains("INTEGER PRIMARY KEY");
        assert!(plan.starts_with("SEARCH") && keyed, "{sql}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
    }
}

#[tokio::test]
async fn an_array_in_an_indexed_field_is_still_found_by_equality() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = users(&db);
    users
        .insert(&ctx(), &json!({"authUserId": ["a", "b"], "name": "arr"}))
        .await
        .unwrap();
    users
        .insert(&ctx(), &json!({"authUserId": "b", "name": "one"}))
        .await
        .unwrap();
    users
        .insert(&ctx(), &json!({"authUserId": "c", "name": "other"}))
        .await
        .unwrap();

    let found = users
        .find(&ctx(), &by_q(json!({"authUserId": "b"})))
        .await
        .unwrap();

    let names: Vec<&str> = found.iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["arr", "one"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_corrupt_the_store_and_a_compare_and_set_succeeds_once() {
    let dir = TempDir::new();
    // Two connections on one file: the mutex serialises each, SQLite's locks the two.
    let dbs = [
        EmbeddedDb::open(&dir.db()).unwrap(),
        EmbeddedDb::open(&dir.db()).unwrap(),
    ];
    let stores: Vec<Arc<EmbeddedCollection>> = dbs.iter().map(|db| Arc::new(users(db))).collect();
    let body = json!({"name": "shared", "version": 0, "hits": 0, "__STATE__": "PUBLIC"});
    let shared = stores[0].insert(&ctx(), &body).await.unwrap();

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (users, shared) = (stores[i % 2].clone(), shared.clone());
            tokio::spawn(async move {
                let cas = Filter {
                    q: Some(json!({"version": 0})),
                    ..Filter::default()
                };
                let won = users
                    .patch(&ctx(), &shared, &cas, &json!({"$inc": {"version": 1}}))
                    .await
                    .unwrap()
                    .is_some();
                let hit = json!({"$inc": {"hits": 1}, "$push": {"by": i}});
                users
                    .patch(&ctx(), &shared, &Filter::default(), &hit)
                    .await
                    .unwrap()
                    .unwrap();
                let mine = users
                    .insert(&ctx(), &json!({"email": format!("w{i}@x.io")}))
                    .await
                    .is_ok();
                let same = users.insert(&ctx(), &json!({"email": "same@x.io"})).await.is_ok();
                (won, mine, same)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    assert_eq!(
        results.iter().filter(|r| r.0).count(),
        1,
        "one compare-and-set wins"
    );
    assert!(results.iter().all(|r| r.1), "every distinct email is inserted");
    assert_eq!(
        results.iter().filter(|r| r.2).count(),
        1,
        "one duplicate email wins"
    );
    let doc = stores[1]
        .get(&ctx(), &shared, &Filter::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (doc["version"].as_i64(), doc["hits"].as_i64()),
        (Some(1), Some(16))
    );
    assert_eq!(doc["by"].as_array().map(Vec::len), Some(16));
    assert_eq!(stores[0].count(&ctx(), &Filter::any_state(), false).await, Ok(18));
    let check: String = lock(&dbs[0].conn)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn a_unique_index_added_later_is_built_from_the_stored_documents() {
    let db = EmbeddedDb::in_memory().unwrap();
    let plain = db
        .collection("/roles", &[], &[], DocState::Public, "miauserid")
        .unwrap();
    plain.insert(&ctx(), &json!({"roleId": "admin"})).await.unwrap();
    plain.insert(&ctx(), &json!({"roleId": "dev"})).await.unwrap();

    let roles = db
        .open_collection("/roles", &["roleId"], &[], DocState::Public, "miauserid")
        .unwrap();
    let dup = roles.insert(&ctx(), &json!({"roleId": "dev"})).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
    let before = roles.rows_read();
    let found = roles
        .find(&ctx(), &by_q(json!({"roleId": "admin"})))
        .await
        .unwrap();
    assert_eq!((found.len(), roles.rows_read() - before), (1, 1));

    let relaxed = db
        .collection("/roles", &[], &["roleId"], DocState::Public, "miauserid")
        .unwrap();
    relaxed.insert(&ctx(), &json!({"roleId": "dev"})).await.unwrap();
    let refused = db.collection("/roles", &["roleId"], &[], DocState::Public, "miauserid");
    assert!(refused.is_err(), "existing duplicates prevent a unique index");
}

#[tokio::test]
async fn an_export_reads_the_collection_in_pages_and_streams_every_match() {
    let db = EmbeddedDb::in_memory().unwrap();
    let users = users(&db);
    let docs: Vec<Value> = (0..1_100)
        .map(|i| json!({"n": i, "__STATE__": "PUBLIC"}))
        .collect();
    users.insert_many(&ctx(), &docs).await.unwrap();

    let query = FindQuery {
        filter: Filter {
            q: Some(json!({"n": {"$gte": 100}})),
            ..Filter::default()
        },
        ..FindQuery::default()
    };
    let mut stream = users.export(&ctx(), &query).await.unwrap();
    let (mut chunks, mut lines) = (0, Vec::new());
    while let Some(chunk) = stream.next().await {
        chunks += 1;
        let text = String::from_utf8(chunk.unwrap().to_vec()).unwrap();
        lines.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["n"].clone()),
        );
    }

    assert_eq!(chunks, 3, "one chunk per page of 500 rows");
    assert_eq!(lines.len(), 1_000);
    assert_eq!((lines[0].clone(), lines[999].clone()), (json!(100), json!(1_099)));
}

/// SQLite's plan of `sql` (every parameter bound to `"x"`), its steps joined by ` | `.
pub(super) fn query_plan(conn: &rusqlite::Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let plan: Vec<String> = stmt
        .query_map(
            rusqlite::params_from_iter(vec!["x"; stmt.parameter_count()]),
            |row| row.get::<_, String>(3),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    plan.join(" | ")
}
