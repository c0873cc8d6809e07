//! Forged, expired and misused tokens are refused with a 401.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::Ed25519KeyPair;
use serde_json::{json, Value};

use super::{admin_token, call_as, get_as, person, post_as, scoped_app};
use crate::helpers::{temp_data_dir, TestApp};

/// Claims like the service's own, for `sub`, valid for `lifetime` seconds from now (negative: expired).
fn claims(iss: &str, lifetime: i64) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"iss": iss, "sub": "intruder", "iat": now, "exp": now + lifetime, "jti": "x",
           "scope": "users_search users_read", "gty": "client-credentials", "client_id": "intruder"})
}

fn ed_token(key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, key).unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    let response = get_as(app, token, "/users/").await;
    response.status().as_u16()
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_refused() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    assert_eq!(status_with(&app, &admin).await, 200, "the genuine token works");
    let issuer = "user-manager-service";
    let pem = std::fs::read_to_string(dir.join("signing-key.pem")).unwrap();
    let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(base64).unwrap();
    let service_key = EncodingKey::from_ed_der(&der);
    assert_eq!(
        status_with(&app, &ed_token(&service_key, &claims(issuer, 600))).await,
        200,
        "the forging itself is sound: the service's own key gets in"
    );

    let mut attacks: Vec<(&str, String)> = Vec::new();
    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(issuer, 600))
    );
    attacks.push(("alg none", none));
    let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(issuer, 600),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    attacks.push(("HS256 signed with the public key", hs));
    let parts: Vec<&str> = admin.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("somebody-else");
    attacks.push((
        "modified payload",
        format!("{}.{}.{}", parts[0], b64(&payload), parts[2]),
    ));
    attacks.push(("expired", ed_token(&service_key, &claims(issuer, -1))));
    attacks.push((
        "another issuer",
        ed_token(&service_key, &claims("someone-else", 600)),
    ));
    let other = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let other_key = EncodingKey::from_ed_der(other.as_ref());
    attacks.push(("another key", ed_token(&other_key, &claims(issuer, 600))));
    let (_, login) = person(&app, &admin, "ann@example.com").await;
    let refresh = login["refreshToken"].as_str().unwrap().to_owned();
    attacks.push(("a refresh token", refresh));
    attacks.push(("garbage", "not-a-token".to_owned()));

    for (attack, token) in attacks {
        assert_eq!(status_with(&app, &token).await, 401, "{attack}");
    }
}

#[tokio::test]
async fn a_person_gets_the_self_service_scopes_only() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, login) = person(&app, &admin, "ann@example.com").await;
    let token = login["accessToken"].as_str().unwrap();
    let info = get_as(&app, token, "/userinfo").await;
    assert_eq!(info.status(), 200);
    let other = get_as(&app, token, &format!("/users/{id}")).await;
    assert_eq!(other.status(), 403, "reading users needs users_read");
}

#[tokio::test]
async fn a_person_gets_the_scopes_of_its_group_and_loses_them_with_the_group_config() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let operator = json!({"userGroup": "backoffice_operator", "name": "Olga", "email": "olga@example.com",
                          "department": "support", "password": "Passw0rd!long"});
    let created = post_as(&app, &admin, "/users/", &operator).await;
    assert_eq!(created.status(), 200);
    let login = json!({"username": "olga@example.com", "password": "Passw0rd!long"});
    let tokens: Value = app.post_json("/oauth/token", &login).await.json().await.unwrap();
    let token = tokens["accessToken"].as_str().unwrap().to_owned();
    let list = || app.client.get(app.url("/users/")).bearer_auth(&token).send();
    assert_eq!(
        list().await.unwrap().status(),
        200,
        "the shipped operator group grants users_search"
    );
    let clients = get_as(&app, &token, "/clients").await;
    assert_eq!(clients.status(), 403, "but not clients_write");

    let groups: Value = get_as(
        &app,
        &admin,
        "/groups/?_q={\"userGroup\":\"backoffice_operator\"}",
    )
    .await
    .json()
    .await
    .unwrap();
    let group_id = groups[0]["_id"].as_str().unwrap();
    let unknown = json!({"$set": {"scopes": ["users_everything"]}});
    let url = format!("/groups/{group_id}");
    let patch = reqwest::Method::PATCH;
    let refused = call_as(&app, &admin, patch.clone(), &url, Some(&unknown)).await;
    assert_eq!(refused.status(), 400);
    let none = json!({"$set": {"scopes": []}});
    let patched = call_as(&app, &admin, patch, &url, Some(&none)).await;
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    assert_eq!(
        list().await.unwrap().status(),
        403,
        "the same token, the group's scopes gone"
    );
}

#[tokio::test]
async fn a_person_token_is_refused_by_every_route_once_its_user_is_blocked() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let operator = json!({"userGroup": "backoffice_operator", "name": "Olga", "email": "olga@example.com",
                          "department": "support", "password": "Passw0rd!long"});
    let created = post_as(&app, &admin, "/users/", &operator).await;
    let id = created.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = json!({"username": "olga@example.com", "password": "Passw0rd!long"});
    let tokens: Value = app.post_json("/oauth/token", &login).await.json().await.unwrap();
    let token = tokens["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(status_with(&app, &token).await, 200);
    let to_trash = json!([{"filter": {"_id": id}, "stateTo": "TRASH"}]);
    let blocked = post_as(&app, &admin, "/users/state", &to_trash).await;
    assert_eq!(blocked.status(), 200);
    assert_eq!(
        status_with(&app, &token).await,
        401,
        "the token issued before the block"
    );
}
