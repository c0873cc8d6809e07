//! The session itself: the calls of contracts/crud-service.md §8 in the order a back-office
//! user makes them, each followed by a check of both systems against what it should have done.
//! The same driver runs in every mode; only [`Session`]'s readers differ.

use reqwest::Method;
use serde_json::{json, Value};

use super::calls::{ids_in, PASSWORD};
use super::model::Expected;
use super::systems::Session;

/// The users of the session: `(name, surname)`; each gets `<name>@example.com` and a phone.
const PEOPLE: [(&str, &str); 6] = [
    ("Ann", "Rossi"),
    ("Bob", "Rossi"),
    ("Cy", "Rossi"),
    ("Dee", "Bianchi"),
    ("Eve", "Rossi"),
    ("Fay", "Bianchi"),
];

/// The store `_id`s of [`PEOPLE`], in order.
struct Cast {
    ann: String,
    bob: String,
    cy: String,
    dee: String,
    eve: String,
    fay: String,
}

/// Runs the whole session on `session`.
pub async fn run(session: &Session) {
    let mut expected = Expected::default();
    reads_the_collection_schema(session).await;
    let cast = creates_the_users(session, &mut expected).await;
    lists_a_page_and_counts_it(session, &expected, &cast).await;
    edits_one_user(session, &mut expected, &cast).await;
    blocks_two_users_in_bulk(session, &mut expected, &cast).await;
    updates_every_match_of_a_filter(session, &mut expected, &cast).await;
    trashes_four_users(session, &mut expected, &cast).await;
    restores_one_user(session, &mut expected, &cast).await;
    deletes_one_trashed_user(session, &mut expected, &cast).await;
    purges_the_trash(session, &mut expected, &cast).await;
    super::transfer::exports_in_every_format(session, &expected).await;
    super::transfer::imports_a_csv_and_an_ndjson_file(session, &mut expected, &cast.eve).await;
}

/// `GET /users/schema`: the Composer's `dataSchema` of the collection.
async fn reads_the_collection_schema(session: &Session) {
    let (status, schema) = session.call(Method::GET, "/users/schema", &[], None).await;
    assert_eq!(status, 200, "{schema}");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["userGroup"]));
    let mut groups: Vec<&str> = schema["properties"]["userGroup"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, ["backoffice_operator", "customer"]);
    for field in [
        "_id",
        "__STATE__",
        "name",
        "surname",
        "email",
        "phone",
        "blocked",
        "department",
    ] {
        assert!(schema["properties"].get(field).is_some(), "{field} in {schema}");
    }
    session.check(&Expected::default(), "GET /users/schema");
}

/// `POST /users/` (create-data), one user at a time, each with a password: a PUBLIC store user
/// linked to a new, unblocked auth user with its email.
async fn creates_the_users(session: &Session, expected: &mut Expected) -> Cast {
    let mut ids = Vec::new();
    for (n, (name, surname)) in PEOPLE.iter().enumerate() {
        let email = format!("{}@example.com", name.to_lowercase());
        let phone = format!("+39 0{n}");
        let body = json!({"userGroup": "customer", "name": name, "surname": surname, "email": email,
                          "phone": phone, "password": PASSWORD});
        let (status, answer) = session.call(Method::POST, "/users/", &[], Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
        let id = answer["_id"].as_str().expect("the new _id").to_owned();
        let fields = json!({"userGroup": "customer", "name": name, "surname": surname, "email": email,
                            "phone": phone, "__STATE__": "PUBLIC", "password": null});
        expected.add(&id, fields, Some(false));
        session.check(expected, &format!("POST /users/ ({name})"));
        ids.push(id);
    }
    let [ann, bob, cy, dee, eve, fay] = <[String; 6]>::try_from(ids).unwrap();
    Cast {
        ann,
        bob,
        cy,
        dee,
        eve,
        fay,
    }
}

/// The Composer's fetch: `GET /users/count`, then `GET /users/` with the same filter, a
/// projection, a sort and a page.
async fn lists_a_page_and_counts_it(session: &Session, expected: &Expected, cast: &Cast) {
    let filter = [("_q", r#"{"surname":{"$eq":"Rossi"}}"#), ("_st", "PUBLIC")];
    let (status, count) = session.call(Method::GET, "/users/count", &filter, None).await;
    assert_eq!((status, count), (200, json!(4)), "Ann, Bob, Cy and Eve are Rossi");
    session.check(expected, "GET /users/count");

    let page = [
        ("_p", "_id,__STATE__,name,email"),
        ("_s", "-name"),
        ("_l", "2"),
        ("_sk", "1"),
    ];
    let query: Vec<(&str, &str)> = filter.iter().chain(page.iter()).copied().collect();
    let (status, users) = session.call(Method::GET, "/users/", &query, None).await;
    assert_eq!(status, 200, "{users}");
    let expected_page = json!([
        {"_id": cast.cy, "__STATE__": "PUBLIC", "name": "Cy", "email": "cy@example.com"},
        {"_id": cast.bob, "__STATE__": "PUBLIC", "name": "Bob", "email": "bob@example.com"},
    ]);
    assert_eq!(
        users, expected_page,
        "Eve, Cy, Bob, Ann by name descending; skip 1, take 2; only the projected fields"
    );
    session.check(expected, "GET /users/");
}

/// update-data: `PATCH /users/<id>?_st=PUBLIC` with `$set` and `$unset`; the auth user's email
/// follows. Then the detail view: `GET /users/<id>?_p=name,email`.
async fn edits_one_user(session: &Session, expected: &mut Expected, cast: &Cast) {
    let path = format!("/users/{}", cast.ann);
    let update = json!({"$set": {"email": "anna.rossi@example.com", "name": "Anna"},
                        "$unset": {"phone": true}});
    let (status, user) = session
        .call(Method::PATCH, &path, &[("_st", "PUBLIC")], Some(&update))
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        (&user["_id"], &user["email"], &user["name"], user.get("phone")),
        (
            &json!(cast.ann),
            &json!("anna.rossi@example.com"),
            &json!("Anna"),
            None
        ),
        "the updated document: {user}"
    );
    expected.set(&cast.ann, "email", json!("anna.rossi@example.com"));
    expected.set(&cast.ann, "name", json!("Anna"));
    expected.set(&cast.ann, "phone", Value::Null);
    session.check(expected, "PATCH /users/<id>");
    assert_eq!(
        session.login("anna.rossi@example.com").await,
        200,
        "the new email logs in"
    );
    assert_ne!(
        session.login("ann@example.com").await,
        200,
        "the old one no longer does"
    );

    let (status, user) = session
        .call(Method::GET, &path, &[("_p", "name,email")], None)
        .await;
    let projected = json!({"_id": cast.ann, "name": "Anna", "email": "anna.rossi@example.com"});
    assert_eq!((status, user), (200, projected));
    session.check(expected, "GET /users/<id>?_p=name,email");
}

/// bulk-update: `PATCH /users/bulk` blocking two users; their auth users are blocked too.
async fn blocks_two_users_in_bulk(session: &Session, expected: &mut Expected, cast: &Cast) {
    let block = json!({"$set": {"blocked": true}});
    let body = json!([
        {"filter": {"_id": cast.bob}, "update": block},
        {"filter": {"_id": cast.cy}, "update": block},
    ]);
    let (status, count) = session.call(Method::PATCH, "/users/bulk", &[], Some(&body)).await;
    assert_eq!((status, count), (200, json!(2)));
    for id in [&cast.bob, &cast.cy] {
        expected.set(id, "blocked", json!(true));
        expected.auth_blocked(id, true);
    }
    session.check(expected, "PATCH /users/bulk");
    assert_eq!(session.login("bob@example.com").await, session.refused_login());
}

/// `PATCH /users/?_q=...` (update many): every PUBLIC Rossi not blocked gets an address; no
/// auth user changes.
async fn updates_every_match_of_a_filter(session: &Session, expected: &mut Expected, cast: &Cast) {
    let query = [("_q", r#"{"surname":"Rossi","blocked":{"$ne":true}}"#)];
    let update = json!({"$set": {"address": {"city": "Rome"}}});
    let (status, count) = session
        .call(Method::PATCH, "/users/", &query, Some(&update))
        .await;
    assert_eq!((status, count), (200, json!(2)), "Anna and Eve");
    for id in [&cast.ann, &cast.eve] {
        expected.set(id, "address", json!({"city": "Rome"}));
    }
    session.check(expected, "PATCH /users/?_q=...");
}

/// delete-data (soft delete): `POST /users/state` to TRASH; each auth user is blocked (the
/// service's auth effect of TRASH, `src/users/effects/auth_state.rs`).
async fn trashes_four_users(session: &Session, expected: &mut Expected, cast: &Cast) {
    let to_trash = |id: &str| json!({"filter": {"_id": id}, "stateTo": "TRASH"});
    let body = json!([
        to_trash(&cast.bob),
        to_trash(&cast.cy),
        to_trash(&cast.dee),
        to_trash(&cast.fay)
    ]);
    let (status, count) = session.call(Method::POST, "/users/state", &[], Some(&body)).await;
    assert_eq!((status, count), (200, json!(4)));
    for id in [&cast.bob, &cast.cy, &cast.dee, &cast.fay] {
        expected.set(id, "__STATE__", json!("TRASH"));
        expected.auth_blocked(id, true);
    }
    session.check(expected, "POST /users/state (TRASH)");
    assert_eq!(session.login("dee@example.com").await, session.refused_login());
}

/// update-state (one row): `POST /users/<id>/state` back from the trash, TRASH → DRAFT (still
/// blocked) → PUBLIC (unblocked, and able to log in again).
async fn restores_one_user(session: &Session, expected: &mut Expected, cast: &Cast) {
    let path = format!("/users/{}/state", cast.dee);
    for (state, blocked) in [("DRAFT", true), ("PUBLIC", false)] {
        let body = json!({"stateTo": state});
        let (status, answer) = session.call(Method::POST, &path, &[], Some(&body)).await;
        assert_eq!((status, answer), (204, Value::Null), "to {state}");
        expected.set(&cast.dee, "__STATE__", json!(state));
        expected.auth_blocked(&cast.dee, blocked);
        session.check(expected, &format!("POST /users/<id>/state ({state})"));
    }
    assert_eq!(session.login("dee@example.com").await, 200);
}

/// The definitive delete of a trashed user: `DELETE /users/<id>?_st=TRASH` removes it from the
/// store and its auth user from the provider.
async fn deletes_one_trashed_user(session: &Session, expected: &mut Expected, cast: &Cast) {
    let auth_id = linked_auth_id(session, &cast.bob);
    let path = format!("/users/{}", cast.bob);
    let (status, answer) = session
        .call(Method::DELETE, &path, &[("_st", "TRASH")], None)
        .await;
    assert_eq!((status, answer), (204, Value::Null));
    expected.remove(&cast.bob);
    session.check(expected, "DELETE /users/<id>?_st=TRASH");
    assert_eq!(session.auth_user(&auth_id), None, "no auth user left for Bob");
}

/// http-delete: `DELETE /users/?_q={"_id":{"$in":[...]}}&_st=TRASH` purges the trashed users it
/// names (Anna, PUBLIC, is not matched) from both systems.
async fn purges_the_trash(session: &Session, expected: &mut Expected, cast: &Cast) {
    let auth_ids = [
        linked_auth_id(session, &cast.cy),
        linked_auth_id(session, &cast.fay),
    ];
    let q = ids_in(&[&cast.cy, &cast.fay, &cast.ann]);
    let query = [("_q", q.as_str()), ("_st", "TRASH")];
    let (status, count) = session.call(Method::DELETE, "/users/", &query, None).await;
    assert_eq!((status, count), (200, json!(2)));
    expected.remove(&cast.cy);
    expected.remove(&cast.fay);
    session.check(expected, "DELETE /users/?_q=...&_st=TRASH");
    for auth_id in &auth_ids {
        assert_eq!(session.auth_user(auth_id), None, "no auth user left");
    }
}

/// The `authUserId` of store user `id`.
fn linked_auth_id(session: &Session, id: &str) -> String {
    let user = session.user(id).expect("a stored user");
    user["authUserId"].as_str().expect("linked").to_owned()
}
