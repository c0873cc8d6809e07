//! One user group: its configuration and its compiled `crudSchema`, extended with the service
//! fields every user document carries, and the validation of a user document against it.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::safety;
use crate::config::InputLimits;

/// The longest violation message kept; an instance value quoted in a message is cut here.
const MAX_VIOLATION_CHARS: usize = 300;

/// A usable user group: configuration plus the compiled validator of its user documents.
pub struct Group {
    /// `userGroup`: the group's unique name.
    pub name: String,
    /// `label`: the human name shown in the back-office.
    pub label: Option<String>,
    /// `authUserCreationDisabled`: users of this group never get an auth-provider user.
    pub auth_user_creation_disabled: bool,
    /// `scopes`: the administrative scopes (`AUTHZ_MODE=scopes`) the access tokens of this
    /// group's users carry, unprefixed (e.g. `users_search`); empty by default.
    pub scopes: Vec<String>,
    /// `selfEditable`: the top-level fields a user of this group may change on itself
    /// (`PATCH /users/me`); empty by default.
    pub self_editable: Vec<String>,
    /// The `crudSchema` as configured (used to recognise an unchanged schema on refresh).
    crud_schema: Value,
    /// The schema actually validated: `crud_schema` with the service fields declared.
    schema: Value,
    validator: Arc<jsonschema::Validator>,
    /// `LIMIT_DOCUMENT_DEPTH` when compiled: the safety checks bound the cost of validating
    /// documents up to this depth, so deeper ones are never handed to the validator.
    max_document_depth: usize,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.name)
            .field("label", &self.label)
            .field("auth_user_creation_disabled", &self.auth_user_creation_disabled)
            .finish_non_exhaustive()
    }
}

impl Group {
    /// Compiles a group from its `crudSchema`; `Err` carries the reason the schema is unusable
    /// (refused by the schema safety checks under `limits`: too large, too deep, a non-local or
    /// cyclic `$ref`; or not an object, not a valid JSON Schema, unknown `$schema`, unresolvable
    /// `$ref`).
    ///
    /// Also the check the `/groups` routes use to refuse a `crudSchema` that does not compile.
    pub fn compile(
        name: impl Into<String>,
        label: Option<String>,
        auth_user_creation_disabled: bool,
        crud_schema: &Value,
        limits: &InputLimits,
    ) -> Result<Self, String> {
        // Before jsonschema sees it: a cyclic or oversized schema must never reach the compiler.
        safety::check(crud_schema, limits)?;
        let schema = extend_schema(crud_schema)?;
        let validator = compile_validator(&schema)?;
        Ok(Self {
            name: name.into(),
            label,
            auth_user_creation_disabled,
            scopes: Vec::new(),
            self_editable: Vec::new(),
            crud_schema: crud_schema.clone(),
            schema,
            validator: Arc::new(validator),
            max_document_depth: limits.document.max_depth,
        })
    }

    /// The schema user documents are validated against: the group's `crudSchema` with the
    /// service fields (`_id`, `email`, `blocked`, `roles`, ...) declared where it does not
    /// declare them itself. Useful to type values (CSV import) by the group schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The `crudSchema` exactly as configured.
    pub fn crud_schema(&self) -> &Value {
        &self.crud_schema
    }

    /// Every violation of `doc` against the group schema, as "<JSON pointer path>: <message>"
    /// (e.g. `/email: "x" is not a "email"`; root violations with path `/`), sorted by path then
    /// message. Empty when valid. A document nested deeper than `LIMIT_DOCUMENT_DEPTH` is one
    /// violation, without running the validator.
    pub fn violations(&self, doc: &Value) -> Vec<String> {
        let depth = docquery::depth(doc);
        if depth > self.max_document_depth {
            return vec![format!(
                "/: the document is nested {depth} levels deep: the limit is {} (LIMIT_DOCUMENT_DEPTH)",
                self.max_document_depth
            )];
        }
        let mut found: Vec<(String, String)> = self
            .validator
            .iter_errors(doc)
            .map(|error| {
                let path = error.instance_path.as_str();
                let path = if path.is_empty() { "/" } else { path };
                (path.to_owned(), error.to_string())
            })
            .collect();
        // A stable order whatever the validator's: by path, then message.
        found.sort();
        found
            .into_iter()
            .map(|(path, message)| truncate(format!("{path}: {message}")))
            .collect()
    }

    /// The same compiled group under a new label / creation flag (the schema did not change).
    pub(crate) fn relabel(&self, label: Option<String>, auth_user_creation_disabled: bool) -> Self {
        Self {
            name: self.name.clone(),
            label,
            auth_user_creation_disabled,
            scopes: self.scopes.clone(),
            self_editable: self.self_editable.clone(),
            crud_schema: self.crud_schema.clone(),
            schema: self.schema.clone(),
            validator: Arc::clone(&self.validator),
            max_document_depth: self.max_document_depth,
        }
    }
}

impl Group {
    /// The dotted paths of the fields its `crudSchema` declares (`properties`, through nested
    /// object properties up to [`DECLARED_FIELD_DEPTH`] segments): what the user store indexes.
    pub fn declared_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_declared(&self.crud_schema, "", 1, &mut out);
        out
    }

    /// The group with `access` (its `scopes` and `selfEditable`).
    pub(crate) fn with_access(mut self, access: GroupAccess) -> Self {
        self.scopes = access.scopes;
        self.self_editable = access.self_editable;
        self
    }

    /// Its `scopes` and `selfEditable`.
    pub(crate) fn access(&self) -> GroupAccess {
        GroupAccess {
            scopes: self.scopes.clone(),
            self_editable: self.self_editable.clone(),
        }
    }
}

/// What a group's config grants its users: administrative scopes and self-editable fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupAccess {
    /// `scopes`.
    pub scopes: Vec<String>,
    /// `selfEditable`.
    pub self_editable: Vec<String>,
}

impl GroupAccess {
    /// The access a group document declares (arrays of strings; anything else is ignored).
    pub fn of_doc(doc: &Value) -> Self {
        let strings = |key: &str| -> Vec<String> {
            doc.get(key)
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            scopes: strings("scopes"),
            self_editable: strings("selfEditable"),
        }
    }
}

/// Compiles `schema`, asserting `format` keywords; without `$schema` the draft is 2020-12.
fn compile_validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    // `jsonschema::options()` detects the draft from `$schema` and defaults to 2020-12; the
    // schema is checked against its meta-schema before compiling.
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| {
            let path = error.instance_path.as_str();
            if path.is_empty() {
                error.to_string()
            } else {
                format!("{path}: {error}")
            }
        })
}

/// The fields the service writes on every user document, with their types. A group schema
/// need not declare them; when it does, its own declaration is kept.
fn service_fields() -> [(&'static str, Value); 14] {
    let string = || json!({"type": "string"});
    [
        ("_id", string()),
        ("userGroup", string()),
        ("authUserId", string()),
        ("username", string()),
        ("email", json!({"type": "string", "format": "email"})),
        ("blocked", json!({"type": "boolean"})),
        ("expirationDate", json!({"type": "string", "format": "date-time"})),
        ("expirationId", string()),
        ("roles", json!({"type": "array", "items": {"type": "string"}})),
        ("__STATE__", string()),
        ("createdAt", string()),
        ("updatedAt", string()),
        ("creatorId", string()),
        ("updaterId", string()),
    ]
}

/// The JSON Schema of the whole users collection (`GET /users/schema`): an object whose
/// properties are the service fields and every property the groups declare (the first group,
/// by name, wins when two declare one differently), `userGroup` one of the group names, and
/// `userGroup` required.
pub fn collection_schema(groups: &[Arc<Group>]) -> Value {
    let mut properties: Map<String, Value> = service_fields()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for group in groups {
        if let Some(Value::Object(declared)) = group.crud_schema.get("properties") {
            for (name, declaration) in declared {
                properties
                    .entry(name.clone())
                    .or_insert_with(|| declaration.clone());
            }
        }
    }
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    properties.insert("userGroup".to_owned(), json!({"type": "string", "enum": names}));
    json!({"type": "object", "properties": properties, "required": ["userGroup"]})
}

/// A copy of `crud_schema` whose root `properties` also declares the service fields it lacks.
/// `required` is left untouched. A `properties` that is not an object is left for the
/// compiler to refuse.
fn extend_schema(crud_schema: &Value) -> Result<Value, String> {
    let Value::Object(root) = crud_schema else {
        return Err(format!(
            "crudSchema must be a JSON object, found {}",
            kind(crud_schema)
        ));
    };
    let mut root = root.clone();
    let properties = root
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        for (name, declaration) in service_fields() {
            properties.entry(name).or_insert(declaration);
        }
    }
    Ok(Value::Object(root))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate(message: String) -> String {
    if message.chars().count() <= MAX_VIOLATION_CHARS {
        return message;
    }
    let mut cut: String = message.chars().take(MAX_VIOLATION_CHARS).collect();
    cut.push('…');
    cut
}

/// The most segments of a declared field path that is indexed (`address.geo.city`).
pub const DECLARED_FIELD_DEPTH: usize = 3;

fn collect_declared(schema: &Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, sub) in properties {
        let path = format!("{prefix}{name}");
        let nested = sub.get("properties").is_some_and(Value::is_object);
        if nested && depth < DECLARED_FIELD_DEPTH {
            collect_declared(sub, &format!("{path}."), depth + 1, out);
        } else {
            out.push(path);
        }
    }
}
