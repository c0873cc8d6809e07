//! `/users` routes: create, read, list, patch, delete, and request recording.

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::{create, field, is_hex24, json_of, spawn};

#[tokio::test]
async fn create_user_returns_201_with_auth0_shape_and_duplicates_409() {
    let fake = spawn().await;
    let client = Client::new();
    let body = json!({"email": "Ada@Example.com", "username": "ada", "password": "pw", "connection": "db"});
    let response = create(&client, &fake, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user = json_of(response).await;
    let id = user["user_id"].as_str().unwrap();
    assert!(id.starts_with("auth0|") && is_hex24(&id[6..]), "{id}");
    assert_eq!(user["email"], "Ada@Example.com");
    assert_eq!(user["username"], "ada");
    assert_eq!(user["nickname"], "Ada");
    assert_eq!(user["name"], "Ada@Example.com");
    assert_eq!(user["blocked"], false);
    let identity = json!([{"connection": "db", "provider": "auth0", "user_id": &id[6..], "isSocial": false}]);
    assert_eq!(user["identities"], identity);
    assert_eq!(
        (user["app_metadata"].clone(), user["user_metadata"].clone()),
        (json!({}), json!({}))
    );
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(fake.user(id).unwrap(), user);

    let same_email = create(
        &client,
        &fake,
        json!({"email": "ada@example.COM", "password": "x"}),
    )
    .await;
    assert_eq!(same_email.status(), StatusCode::CONFLICT);
    let conflict = json!({"statusCode": 409, "error": "Conflict", "message": "The user already exists."});
    assert_eq!(json_of(same_email).await, conflict);
    let same_username = create(
        &client,
        &fake,
        json!({"email": "b@x.io", "username": "ada", "password": "x"}),
    )
    .await;
    assert_eq!(same_username.status(), StatusCode::CONFLICT);
    assert_eq!(fake.users().len(), 1);
}

#[tokio::test]
async fn create_user_without_password_or_email_is_400() {
    let fake = spawn().await;
    let client = Client::new();
    let no_password = create(&client, &fake, json!({"email": "a@x.io"})).await;
    assert_eq!(no_password.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(no_password).await["statusCode"], 400);
    let no_email = create(&client, &fake, json!({"username": "a", "password": "pw"})).await;
    assert_eq!(no_email.status(), StatusCode::BAD_REQUEST);
    assert!(fake.users().is_empty());
}

#[tokio::test]
async fn get_by_id_and_list_by_in_filter_email_and_pages() {
    let fake = spawn().await;
    let client = Client::new();
    let ids: Vec<String> = (0..5)
        .map(|i| fake.insert_user(&format!("u{i}@x.io"), None, "pw"))
        .collect();
    let users_url = format!("{}/users", fake.uri());

    let one = client
        .get(format!("{users_url}/{}", ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(json_of(one).await["email"], "u1@x.io");
    let missing = client
        .get(format!("{users_url}/auth0%7C000000000000000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let not_found = json!({"statusCode": 404, "error": "Not Found", "message": "The user does not exist."});
    assert_eq!(json_of(missing).await, not_found);

    let filter = json!({"$in": [ids[3], "auth0|ffffffffffffffffffffffff", ids[0]]}).to_string();
    let query = [("user_id", filter.as_str()), ("_l", "10")];
    let listed = client.get(&users_url).query(&query).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(
        field(&json_of(listed).await, "email"),
        vec![json!("u0@x.io"), json!("u3@x.io")]
    );

    let plain = client
        .get(&users_url)
        .query(&[("user_id", ids[2].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(field(&json_of(plain).await, "email"), vec![json!("u2@x.io")]);
    let by_email = client
        .get(&users_url)
        .query(&[("email", "U4@X.IO")])
        .send()
        .await
        .unwrap();
    assert_eq!(field(&json_of(by_email).await, "user_id"), vec![json!(ids[4])]);
    let page = client
        .get(format!("{users_url}?_l=2&_sk=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        field(&json_of(page).await, "email"),
        vec![json!("u2@x.io"), json!("u3@x.io")]
    );
    let all = client.get(&users_url).send().await.unwrap();
    assert_eq!(json_of(all).await.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn patch_updates_blocks_and_conflicts() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("a@x.io", Some("a"), "pw");
    fake.insert_user("b@x.io", Some("b"), "pw");
    let url = format!("{}/users/{}", fake.uri(), id);

    let change = json!({"email": "a2@x.io", "blocked": true, "nickname": "A"});
    let patched = client.patch(&url).json(&change).send().await.unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let user = json_of(patched).await;
    assert_eq!(
        [&user["email"], &user["blocked"], &user["nickname"]],
        [&json!("a2@x.io"), &json!(true), &json!("A")]
    );
    assert_eq!(fake.user(&id).unwrap()["blocked"], true);

    let taken_email = client
        .patch(&url)
        .json(&json!({"email": "B@x.io"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken_email.status(), StatusCode::CONFLICT);
    let taken_username = client
        .patch(&url)
        .json(&json!({"username": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken_username.status(), StatusCode::CONFLICT);
    let unknown_url = format!("{}/users/auth0|nope", fake.uri());
    let unknown = client
        .patch(unknown_url)
        .json(&json!({"blocked": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // The old email is free again.
    let reuse = create(&client, &fake, json!({"email": "a@x.io", "password": "pw"})).await;
    assert_eq!(reuse.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("a@x.io", None, "pw");
    let url = format!("{}/users/{}", fake.uri(), id);
    assert_eq!(
        client.delete(&url).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert!(fake.user(&id).is_none());
    assert_eq!(
        client.delete(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn requests_are_recorded_with_decoded_path_query_and_headers() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("a@x.io", None, "pw");
    let url = format!("{}/users/{}?fields=email", fake.uri(), id.replace('|', "%7C"));
    let response = client
        .get(url)
        .header("client-type", "cms")
        .header("x-request-id", "r-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 1);
    let request = &recorded[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", format!("/users/{id}").as_str())
    );
    assert_eq!(request.query.as_deref(), Some("fields=email"));
    assert_eq!(
        (request.header("Client-Type"), request.header("x-request-id")),
        (Some("cms"), Some("r-1"))
    );
    assert!(!request.has_header("acl_rows"));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
    let unknown_route = client.get(format!("{}/nope", fake.uri())).send().await.unwrap();
    assert_eq!(unknown_route.status(), StatusCode::NOT_FOUND);
    fake.shutdown().await;
}
