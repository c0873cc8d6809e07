//! List queries: `_q` operators, sort, paging, projection, field filters, `_id`, and the
//! refusals of a limit above 200 and of operators outside the contract.

use serde_json::json;
use user_manager_service::store::{Filter, FindQuery};

use super::*;

/// Four PUBLIC people with numbers, arrays, nested objects and optional fields.
pub async fn people(store: &Store) {
    seed(
        store,
        &[
            json!({"name": "ann", "age": 31, "roles": ["admin", "dev"], "city": "Rome", "tags": [{"k": "a", "v": 1}]}),
            json!({"name": "bob", "age": 25, "roles": ["dev"], "city": "Milan", "nick": "bobby"}),
            json!({"name": "cid", "age": 40, "roles": [], "city": "rome", "blocked": true}),
            json!({"name": "dan", "age": 25.0, "roles": ["ops"], "address": {"city": "Turin"}, "blocked": false}),
        ],
    )
    .await;
}

pub async fn list_filters_with_comparison_and_logical_operators(store: Store) {
    people(&store).await;

    assert_eq!(
        names_matching(&store, json!({"age": {"$gt": 30}})).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names_matching(&store, json!({"age": {"$gte": 31, "$lt": 40}})).await,
        ["ann"]
    );
    assert_eq!(
        names_matching(&store, json!({"age": {"$lte": 25}})).await,
        ["bob", "dan"]
    );
    assert_eq!(
        names_matching(&store, json!({"age": {"$eq": 25}})).await,
        ["bob", "dan"]
    );
    assert_eq!(
        names_matching(&store, json!({"name": {"$ne": "ann"}})).await,
        ["bob", "cid", "dan"]
    );
    assert_eq!(
        names_matching(&store, json!({"name": {"$in": ["bob", "zed"]}})).await,
        ["bob"]
    );
    assert_eq!(
        names_matching(&store, json!({"age": {"$nin": [25, 40]}})).await,
        ["ann"]
    );
    let or = json!({"$or": [{"city": "Milan"}, {"address.city": "Turin"}]});
    assert_eq!(names_matching(&store, or).await, ["bob", "dan"]);
    let and = json!({"$and": [{"age": {"$gte": 25}}, {"roles": "dev"}]});
    assert_eq!(names_matching(&store, and).await, ["ann", "bob"]);
}

pub async fn list_filters_with_array_existence_and_regex_operators(store: Store) {
    people(&store).await;

    assert_eq!(
        names_matching(&store, json!({"roles": "dev"})).await,
        ["ann", "bob"]
    );
    assert_eq!(
        names_matching(&store, json!({"roles": {"$all": ["dev", "admin"]}})).await,
        ["ann"]
    );
    assert_eq!(
        names_matching(&store, json!({"roles": {"$size": 0}})).await,
        ["cid"]
    );
    let elem = json!({"tags": {"$elemMatch": {"k": "a", "v": {"$gte": 1}}}});
    assert_eq!(names_matching(&store, elem).await, ["ann"]);
    assert_eq!(
        names_matching(&store, json!({"nick": {"$exists": true}})).await,
        ["bob"]
    );
    assert_eq!(
        names_matching(&store, json!({"blocked": {"$exists": false}})).await,
        ["ann", "bob"]
    );
    assert_eq!(
        names_matching(&store, json!({"city": {"$regex": "^rom"}})).await,
        ["cid"]
    );
    let insensitive = json!({"city": {"$regex": "^rom", "$options": "i"}});
    assert_eq!(names_matching(&store, insensitive).await, ["ann", "cid"]);
    assert_eq!(
        names_matching(&store, json!({"address.city": "Turin"})).await,
        ["dan"]
    );
}

pub async fn list_sorts_both_ways_and_pages_with_limit_and_skip(store: Store) {
    people(&store).await;
    let sorted = |sort: &str, limit: Option<u32>, skip: Option<u64>| FindQuery {
        sort: Some(sort.to_owned()),
        limit,
        skip,
        ..FindQuery::default()
    };

    let desc = store
        .users
        .find(&ctx(), &sorted("-name", None, None))
        .await
        .unwrap();
    assert_eq!(names(&desc), ["dan", "cid", "bob", "ann"]);
    let by_age = store
        .users
        .find(&ctx(), &sorted("age,-name", None, None))
        .await
        .unwrap();
    assert_eq!(names(&by_age), ["dan", "bob", "ann", "cid"]);
    let page = store
        .users
        .find(&ctx(), &sorted("name", Some(2), Some(1)))
        .await
        .unwrap();
    assert_eq!(names(&page), ["bob", "cid"]);
    let natural = FindQuery {
        limit: Some(3),
        skip: Some(2),
        ..FindQuery::default()
    };
    let rest = store.users.find(&ctx(), &natural).await.unwrap();
    assert_eq!(names(&rest), ["cid", "dan"]);

    let bad = store
        .users
        .find(&ctx(), &sorted("name,,age", None, None))
        .await
        .unwrap_err();
    rejected(bad);
}

pub async fn list_projects_the_requested_fields_and_always_the_id(store: Store) {
    people(&store).await;
    let query = FindQuery {
        projection: Some(vec![
            "name".to_owned(),
            "address.city".to_owned(),
            "unknown".to_owned(),
        ]),
        sort: Some("name".to_owned()),
        ..FindQuery::default()
    };

    let docs = store.users.find(&ctx(), &query).await.unwrap();

    for doc in &docs {
        let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            keys.iter().all(|k| ["_id", "name", "address"].contains(k)),
            "{doc}"
        );
        assert!(doc["_id"].is_string());
    }
    assert_eq!(docs[3]["address"], json!({"city": "Turin"}));
}

pub async fn field_filters_coerce_booleans_and_numbers_and_match_array_elements(store: Store) {
    people(&store).await;
    let by_fields = |fields: &[(&str, &str)]| FindQuery {
        filter: Filter {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Filter::default()
        },
        sort: Some("name".to_owned()),
        ..FindQuery::default()
    };

    let find = |q: FindQuery| {
        let users = store.users.clone();
        async move { users.find(&ctx(), &q).await.unwrap() }
    };
    assert_eq!(names(&find(by_fields(&[("blocked", "true")])).await), ["cid"]);
    assert_eq!(names(&find(by_fields(&[("blocked", "false")])).await), ["dan"]);
    assert_eq!(names(&find(by_fields(&[("age", "25")])).await), ["bob", "dan"]);
    assert_eq!(
        names(&find(by_fields(&[("roles", "dev"), ("city", "Rome")])).await),
        ["ann"]
    );
    assert_eq!(
        names(&find(by_fields(&[("address.city", "Turin")])).await),
        ["dan"]
    );
}

pub async fn list_by_id_parameter_or_id_in_finds_the_documents(store: Store) {
    let ids = seed(
        &store,
        &[json!({"name": "a"}), json!({"name": "b"}), json!({"name": "c"})],
    )
    .await;

    let by_param = FindQuery {
        filter: Filter {
            id: Some(ids[1].clone()),
            ..Filter::default()
        },
        ..FindQuery::default()
    };
    assert_eq!(names(&store.users.find(&ctx(), &by_param).await.unwrap()), ["b"]);
    let within = query(json!({"_id": {"$in": [ids[0], ids[2], "000000000000000000000000"]}}));
    assert_eq!(
        names(&store.users.find(&ctx(), &within).await.unwrap()),
        ["a", "c"]
    );
}

pub async fn a_limit_above_200_is_rejected_with_400(store: Store) {
    seed(&store, &[json!({"name": "a"})]).await;
    let query = FindQuery {
        limit: Some(500),
        ..FindQuery::default()
    };

    let message = rejected(store.users.find(&ctx(), &query).await.unwrap_err());

    assert!(message.contains("_l must be <= 200"), "{message}");
    let at_max = FindQuery {
        limit: Some(200),
        ..FindQuery::default()
    };
    assert_eq!(store.users.find(&ctx(), &at_max).await.unwrap().len(), 1);
}

pub async fn an_unknown_or_unsupported_query_operator_is_rejected_with_400(store: Store) {
    seed(&store, &[json!({"name": "a"})]).await;

    let nor = query(json!({"$nor": [{"name": "a"}]}));
    assert_eq!(
        rejected(store.users.find(&ctx(), &nor).await.unwrap_err()),
        "Unknown operator: $nor"
    );
    let not = filter(json!({"name": {"$not": {"$eq": "a"}}}));
    let err = store.users.count(&ctx(), &not, false).await.unwrap_err();
    assert_eq!(rejected(err), "Unsupported operator: $not");
    let regex = filter(json!({"name": {"$regex": "("}}));
    rejected(
        store
            .users
            .patch_many(&ctx(), &regex, &json!({"$set": {"x": 1}}))
            .await
            .unwrap_err(),
    );
}
