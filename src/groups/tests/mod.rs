//! Tests of the group registry and of user validation, against an in-memory config collection.

mod cache;
mod fake;
mod schema_cost;
mod schema_safety;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::config::InputLimits;
use crate::store::Collection;
use fake::FakeConfig;

fn config(name: &str, schema: Value) -> Value {
    json!({"_id": format!("id-{name}"), "userGroup": name, "label": name.to_uppercase(),
           "authUserCreationDisabled": false, "crudSchema": schema, "__STATE__": "PUBLIC"})
}

fn customer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "birthDate": {"type": "string", "format": "date"},
            "website": {"type": "string", "format": "uri"}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

fn registry(fake: &Arc<FakeConfig>, ttl: Duration) -> GroupRegistry {
    GroupRegistry::new(
        Arc::clone(fake) as Arc<dyn Collection>,
        ttl,
        crate::config::InputLimits::default(),
    )
}

fn customers() -> (Arc<FakeConfig>, GroupRegistry) {
    let fake = FakeConfig::with(vec![config("customer", customer_schema())]);
    let registry = registry(&fake, Duration::from_secs(60));
    (fake, registry)
}

fn ctx() -> CallContext {
    CallContext::background("test")
}

async fn customer() -> Arc<Group> {
    customers().1.get(&ctx(), "customer").await.unwrap()
}

#[tokio::test]
async fn a_valid_document_passes_and_the_config_fields_are_read() {
    let group = customer().await;
    assert_eq!(group.name, "customer");
    assert_eq!(group.label.as_deref(), Some("CUSTOMER"));
    assert!(!group.auth_user_creation_disabled);
    let doc = json!({"userGroup": "customer", "name": "Ada", "age": 36, "birthDate": "1989-12-10",
                     "website": "https://example.com/ada"});
    assert_eq!(group.violations(&doc), Vec::<String>::new());
}

#[tokio::test]
async fn every_violation_is_listed_with_its_path() {
    let group = customer().await;
    let doc = json!({"name": "Ada", "age": 12, "email": "not-an-email"});
    assert_eq!(
        group.violations(&doc),
        vec![
            "/age: 12 is less than the minimum of 18".to_owned(),
            "/email: \"not-an-email\" is not a \"email\"".to_owned(),
        ]
    );
    let root = group.violations(&json!({"nickname": "x"}));
    assert_eq!(
        root,
        vec![
            "/: \"name\" is a required property".to_owned(),
            "/: Additional properties are not allowed ('nickname' was unexpected)".to_owned(),
        ]
    );
}

#[tokio::test]
async fn formats_are_asserted() {
    let group = customer().await;
    let bad = json!({"name": "Ada", "email": "ada@", "expirationDate": "tomorrow",
                     "birthDate": "1989-13-45", "website": "not a uri"});
    assert_eq!(
        group.violations(&bad),
        vec![
            "/birthDate: \"1989-13-45\" is not a \"date\"".to_owned(),
            "/email: \"ada@\" is not a \"email\"".to_owned(),
            "/expirationDate: \"tomorrow\" is not a \"date-time\"".to_owned(),
            "/website: \"not a uri\" is not a \"uri\"".to_owned(),
        ]
    );
    let good = json!({"name": "Ada", "email": "ada@example.com", "expirationDate": "2030-01-01T00:00:00Z"});
    assert_eq!(group.violations(&good), Vec::<String>::new());
}

#[tokio::test]
async fn an_unknown_group_is_a_400_with_the_exact_message() {
    let (_, registry) = customers();
    let error = registry.get(&ctx(), "vendor").await.unwrap_err();
    assert_eq!(error.to_string(), "userGroup \"vendor\" does not exist");
    assert!(matches!(error, GroupError::Unknown(_)));
}

#[tokio::test]
async fn an_invalid_schema_makes_only_that_group_unusable() {
    let fake = FakeConfig::with(vec![
        config(
            "broken",
            json!({"type": "object", "properties": {"age": {"type": "integr"}}}),
        ),
        json!({"_id": "id-noschema", "userGroup": "noschema"}),
        config("text", json!("a string")),
        config("customer", customer_schema()),
    ]);
    let registry = registry(&fake, Duration::from_secs(60));
    assert_eq!(registry.get(&ctx(), "customer").await.unwrap().name, "customer");

    let error = registry.get(&ctx(), "broken").await.unwrap_err();
    assert!(matches!(&error, GroupError::Invalid { name, .. } if name == "broken"));
    assert_eq!(
        error.to_string(),
        "userGroup \"broken\" has an invalid crudSchema: /properties/age/type: \"integr\" is not valid \
         under any of the schemas listed in the 'anyOf' keyword"
    );
    assert!(matches!(error, GroupError::Invalid { .. }));

    let invalid = registry.invalid_groups();
    let names: Vec<&str> = invalid.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["broken", "noschema", "text"]);
    assert_eq!(invalid[1].1, "crudSchema is missing");
    assert_eq!(invalid[2].1, "crudSchema must be a JSON object, found a string");
    // The invalid groups did not cause extra reloads: all three lookups used the first load.
    assert_eq!(fake.finds(), 1);
}

#[tokio::test]
async fn service_fields_are_allowed_without_being_declared() {
    let group = customer().await;
    let doc = json!({
        "_id": "u1", "name": "Ada", "userGroup": "customer", "authUserId": "auth0|1", "username": "ada",
        "email": "ada@example.com", "blocked": false, "expirationDate": "2030-01-01T00:00:00.000Z",
        "expirationId": "job-1", "roles": ["admin"], "__STATE__": "PUBLIC",
        "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z",
        "creatorId": "c", "updaterId": "u"
    });
    assert_eq!(group.violations(&doc), Vec::<String>::new());
    let typed = json!({"name": "Ada", "blocked": "yes", "roles": ["a", 1]});
    assert_eq!(
        group.violations(&typed),
        vec![
            "/blocked: \"yes\" is not of type \"boolean\"".to_owned(),
            "/roles/1: 1 is not of type \"string\"".to_owned(),
        ]
    );
    // Declared, never required: a document without any service field passes.
    assert_eq!(group.violations(&json!({"name": "Ada"})), Vec::<String>::new());
    // The configured schema is kept as is; the effective one declares the service fields.
    assert_eq!(group.crud_schema(), &customer_schema());
    assert_eq!(
        group.schema()["properties"]["roles"],
        json!({"type": "array", "items": {"type": "string"}})
    );
}

#[tokio::test]
async fn the_group_schema_declaration_of_a_service_field_wins() {
    let schema = json!({"type": "object", "properties": {"username": {"type": "integer"},
                        "email": {"type": "string"}}, "required": ["email"]});
    let fake = FakeConfig::with(vec![config("numbered", schema)]);
    let group = registry(&fake, Duration::from_secs(60))
        .get(&ctx(), "numbered")
        .await
        .unwrap();
    assert_eq!(
        group.violations(&json!({"username": "bob", "email": "free text"})),
        vec!["/username: \"bob\" is not of type \"integer\"".to_owned()]
    );
    assert_eq!(
        group.violations(&json!({"username": 7, "email": "x"})),
        Vec::<String>::new()
    );
    assert_eq!(
        group.violations(&json!({})),
        vec!["/: \"email\" is a required property".to_owned()]
    );
}

#[tokio::test]
async fn a_schema_without_dollar_schema_is_draft_2020_12_and_a_declared_draft_is_honoured() {
    let draft4 = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                        "properties": {"age": {"type": "integer", "maximum": 10, "exclusiveMaximum": true}}});
    let mut modern = draft4.clone();
    modern.as_object_mut().unwrap().remove("$schema");
    let fake = FakeConfig::with(vec![config("old", draft4), config("new", modern)]);
    let registry = registry(&fake, Duration::from_secs(60));
    let old = registry.get(&ctx(), "old").await.unwrap();
    assert_eq!(
        old.violations(&json!({"age": 10})),
        vec!["/age: 10 is greater than or equal to the maximum of 10".to_owned()]
    );
    let error = registry.get(&ctx(), "new").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "userGroup \"new\" has an invalid crudSchema: /properties/age/exclusiveMaximum: true is not of type \"number\""
    );
}

#[tokio::test]
async fn validate_user_checks_the_user_group_and_lists_every_violation() {
    let (_, registry) = customers();
    let ok = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com"});
    assert_eq!(
        validate_user(&registry, &InputLimits::default(), &ctx(), &ok)
            .await
            .unwrap()
            .name,
        "customer"
    );

    let bad = json!({"userGroup": "customer", "name": "Ada", "age": 3, "email": "x"});
    let error = validate_user(&registry, &InputLimits::default(), &ctx(), &bad)
        .await
        .unwrap_err();
    assert!(matches!(error, GroupError::Refused(_)));
    assert_eq!(
        error.to_string(),
        "user does not match the schema of group \"customer\": /age: 3 is less than the minimum of 18; \
         /email: \"x\" is not a \"email\""
    );

    let cases = [
        (json!({"name": "Ada"}), "userGroup is required"),
        (json!({"userGroup": 1}), "userGroup must be a string"),
        (json!(["customer"]), "user must be a JSON object"),
        (json!({"userGroup": "nope"}), "userGroup \"nope\" does not exist"),
    ];
    for (doc, message) in cases {
        let error = validate_user(&registry, &InputLimits::default(), &ctx(), &doc)
            .await
            .unwrap_err();
        assert!(
            matches!(error, GroupError::Refused(_) | GroupError::Unknown(_)),
            "{error}"
        );
        assert_eq!(error.to_string(), message);
    }
}

#[tokio::test]
async fn the_registry_refuses_unsafe_schemas_under_its_limits() {
    let fake = FakeConfig::with(vec![
        config("loop", json!({"$defs": {"a": {"$ref": "#/$defs/a"}}})),
        config("customer", customer_schema()),
        config("small", json!({"type": "object"})),
    ]);
    let limits = crate::config::InputLimits {
        group_schema_bytes: 64,
        ..crate::config::InputLimits::default()
    };
    let registry = GroupRegistry::new(
        Arc::clone(&fake) as Arc<dyn Collection>,
        Duration::from_secs(60),
        limits,
    );
    assert_eq!(registry.limits(), &limits);
    assert!(registry.get(&ctx(), "small").await.is_ok());
    let error = registry.get(&ctx(), "loop").await.unwrap_err();
    assert!(matches!(error, GroupError::Invalid { .. }));
    let invalid = registry.invalid_groups();
    let names: Vec<&str> = invalid.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["customer", "loop"]);
    assert_eq!(
        invalid[0].1,
        "the schema is larger than 64 bytes (LIMIT_GROUP_SCHEMA_BYTES): make it smaller"
    );
    assert!(
        invalid[1].1.starts_with(
            "the references form a cycle that never descends into the document: #/$defs/a → #/$defs/a;"
        ),
        "{}",
        invalid[1].1
    );
}
