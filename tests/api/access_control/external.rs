//! Tokens of an external issuer (`AUTHZ_JWKS_URL`): verified against its JWKS (refreshed on an
//! unknown `kid`), its issuer and this service's audience; scopes from `scope` or `permissions`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::get_as;
use crate::helpers::{customer_group, TestApp};

const ISSUER: &str = "https://issuer.example.com/";
const AUDIENCE: &str = "user-manager";

/// An Ed25519 key of the issuer: how it signs, and its public JWK.
struct IssuerKey {
    signing: EncodingKey,
    jwk: Value,
    kid: &'static str,
}

fn issuer_key(kid: &'static str) -> IssuerKey {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    IssuerKey {
        signing: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}),
        kid,
    }
}

fn token(key: &IssuerKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key.signing).unwrap()
}

fn claims(extra: Value) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims =
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|someone", "iat": now, "exp": now + 600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

async fn serve_jwks(server: &MockServer, keys: &[&IssuerKey]) {
    server.reset().await;
    let set = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(set))
        .mount(server)
        .await;
}

async fn app_trusting(issuer: &MockServer) -> TestApp {
    let jwks = format!("{}/.well-known/jwks.json", issuer.uri());
    TestApp::on_fakes()
        .with_groups(customer_group())
        .with_env(&[
            ("AUTHZ_MODE", "scopes"),
            ("AUTHZ_JWKS_URL", &jwks),
            ("AUTHZ_ISSUER", ISSUER),
            ("AUTHZ_AUDIENCE", AUDIENCE),
        ])
        .start()
        .await
}

#[tokio::test]
async fn an_external_token_gets_in_with_its_scope_or_permissions_and_nothing_else() {
    let issuer = MockServer::start().await;
    let key = issuer_key("k1");
    serve_jwks(&issuer, &[&key]).await;
    let app = app_trusting(&issuer).await;

    let app = &app;
    let status = |t: String| async move { get_as(app, &t, "/users/").await.status().as_u16() };
    assert_eq!(
        status(token(&key, &claims(json!({"scope": "openid users_search"})))).await,
        200
    );
    assert_eq!(
        status(token(&key, &claims(json!({"permissions": ["users_search"]})))).await,
        200
    );
    assert_eq!(
        status(token(&key, &claims(json!({"scope": "users_read"})))).await,
        403
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let refused = [
        (
            "another audience",
            claims(json!({"scope": "users_search", "aud": "someone-else"})),
        ),
        (
            "another issuer",
            claims(json!({"scope": "users_search", "iss": "https://evil.example.com/"})),
        ),
        (
            "expired",
            claims(json!({"scope": "users_search", "exp": now - 120})),
        ),
    ];
    for (what, claims) in refused {
        assert_eq!(status(token(&key, &claims)).await, 401, "{what}");
    }
    let stranger = issuer_key("k1");
    let forged = token(&stranger, &claims(json!({"scope": "users_search"})));
    assert_eq!(status(forged).await, 401, "same kid, another key");
    let public = URL_SAFE_NO_PAD.decode(key.jwk["x"].as_str().unwrap()).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".to_owned());
    let hmac = jsonwebtoken::encode(
        &hs,
        &claims(json!({"scope": "users_search"})),
        &EncodingKey::from_secret(&public),
    );
    assert_eq!(status(hmac.unwrap()).await, 401, "HS256 with the public key");
}

#[tokio::test]
async fn a_key_the_issuer_rotated_in_is_fetched_when_a_token_names_it() {
    let issuer = MockServer::start().await;
    let old = issuer_key("old");
    serve_jwks(&issuer, &[&old]).await;
    let app = app_trusting(&issuer).await;
    let scoped = claims(json!({"scope": "users_search"}));
    assert_eq!(get_as(&app, &token(&old, &scoped), "/users/").await.status(), 200);

    let new = issuer_key("new");
    serve_jwks(&issuer, &[&old, &new]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the JWKS is read at most once a second
    assert_eq!(
        get_as(&app, &token(&new, &scoped), "/users/").await.status(),
        200,
        "an unknown kid makes the service read the JWKS again"
    );
    let fetches = issuer.received_requests().await.unwrap().len();
    let unknown = issuer_key("unknown");
    for _ in 0..5 {
        assert_eq!(
            get_as(&app, &token(&unknown, &scoped), "/users/").await.status(),
            401
        );
    }
    let after = issuer.received_requests().await.unwrap().len();
    assert!(
        after - fetches <= 1,
        "unknown kids do not flood the issuer: {} fetches",
        after - fetches
    );
}

#[tokio::test]
async fn a_key_set_larger_than_a_mebibyte_is_refused_not_buffered() {
    let issuer = MockServer::start().await;
    let key = issuer_key("k1");
    let padding = "x".repeat(1 << 20);
    let set = json!({"keys": [key.jwk.clone()], "padding": padding});
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(set))
        .mount(&issuer)
        .await;
    let app = app_trusting(&issuer).await;

    let response = get_as(
        &app,
        &token(&key, &claims(json!({"scope": "users_search"}))),
        "/users/",
    )
    .await;

    assert_eq!(response.status(), 401, "its keys are not used");
    let logs = crate::helpers::captured_log_text();
    assert!(
        logs.contains("the key set is larger than 1048576 bytes"),
        "the reason is logged"
    );
}
