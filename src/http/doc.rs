//! Documentation-only types shared by the route annotations: the CRUD query parameters and ACL
//! headers with the ranges and forms the service really accepts, the refusals of every JSON
//! body, and the document served by a configuration (only the routes it serves).
//!
//! The handlers read these parameters from the raw query string (`crate::store::query`), so the
//! types here are never built: they exist for `utoipa`.

#![expect(
    dead_code,
    reason = "OpenAPI documentation of inputs read from the raw request"
)]

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use crate::http::error::ErrorBody;
use crate::state::AppState;
use crate::store::DocState;

/// A string that is not blank: at least one character that is not whitespace as `str::trim`
/// sees it (ids and names the service refuses when blank).
#[derive(ToSchema)]
#[schema(pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
pub(super) struct NonBlank(String);

/// A `__STATE__` name, as `_st` lists them.
#[derive(ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub(super) enum StateName {
    /// Visible to default reads.
    Public,
    /// Not yet published.
    Draft,
    /// Soft-deleted.
    Trash,
    /// Deleted (still a document).
    Deleted,
}

/// `_q` and `_st`: the filter of the filtering routes, ANDed with the `acl_rows` header.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FilterQuery {
    /// A MongoDB-style filter as a JSON object, ANDed with the other filters, e.g.
    /// `{"name": {"$regex": "^A", "$options": "i"}}`. Top-level keys: field paths, `$and`, `$or`,
    /// `$text`; field operators: `$eq $ne $gt $gte $lt $lte $in $nin $all $exists $regex $options
    /// $elemMatch $size $nearSphere`. Anything else, or a `$regex` that does not compile, is a
    /// 400. An empty `_q=` is no filter (as in the CRUD Service). Field equality filters
    /// (`name=Ada`) are accepted too, as in the CRUD Service.
    #[param(rename = "_q")]
    q: Option<String>,
    /// The states to match, comma-separated (`PUBLIC,DRAFT`); default PUBLIC. An empty `_st=`
    /// is a 400, as in the CRUD Service.
    #[param(rename = "_st", style = Form, explode = false, min_items = 1, inline)]
    st: Option<Vec<StateName>>,
}

/// `_p` and `_rawp` of a route that returns one document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ProjectionQuery {
    /// The fields to return, comma-separated (`_id` always comes back).
    #[param(rename = "_p")]
    p: Option<String>,
    /// A JSON projection instead of `_p`, e.g. `{"name": 1}` (not both).
    #[param(rename = "_rawp")]
    rawp: Option<String>,
}

/// `_p`, `_s`, `_l` and `_sk` of a list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// The fields to return, comma-separated (`_id` always comes back). An empty `_p=` returns
    /// every field. `_rawp` (a JSON projection) is accepted instead, as in the CRUD Service.
    #[param(rename = "_p")]
    p: Option<String>,
    /// Sort keys, comma-separated, `-` before a key for descending (`name,-createdAt`); dotted
    /// paths for nested fields. May be repeated. An empty `_s=` is no sort.
    #[param(
        rename = "_s",
        pattern = r"^(-?[^-$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*(\.[^$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*)*(,-?[^-$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*(\.[^$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*)*)*)?$"
    )]
    s: Option<String>,
    /// Page size, 1 to 200 (default 25).
    #[param(rename = "_l", minimum = 1, maximum = 200)]
    l: Option<u32>,
    /// How many matching documents to skip.
    #[param(rename = "_sk", minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    sk: Option<u64>,
}

/// `_p`, `_s`, `_l` and `_sk` of an export: `_l` has no default and no maximum of 200.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExportQuery {
    /// The fields to return, comma-separated (`_id` always comes back). An empty `_p=` returns
    /// every field.
    #[param(rename = "_p")]
    p: Option<String>,
    /// Sort keys, comma-separated, `-` before a key for descending (`name,-createdAt`). An
    /// empty `_s=` is no sort.
    #[param(
        rename = "_s",
        pattern = r"^(-?[^-$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*(\.[^$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*)*(,-?[^-$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*(\.[^$,.\s\x00-\x1f\x7f-\x9f][^,.\s\x00-\x1f\x7f-\x9f]*)*)*)?$"
    )]
    s: Option<String>,
    /// How many users at most (no default: every matching user).
    #[param(rename = "_l", minimum = 1, maximum = 4_294_967_295_u64)]
    l: Option<u64>,
    /// How many matching documents to skip.
    #[param(rename = "_sk", minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    sk: Option<u64>,
}

/// The ACL headers the platform sets, applied by the user store.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(super) struct AclHeaders {
    /// A row filter ANDed with the request's: a JSON filter object, or an array of them, with
    /// the `_q` operators (a 400 otherwise). An empty header is no filter.
    #[param(required = false)]
    acl_rows: String,
    /// The fields the caller may read, comma-separated.
    #[param(required = false)]
    acl_read_columns: String,
}

/// `Idempotency-Key` of the routes that create (`http::idempotency::ROUTES`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(super) struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters (400 otherwise), chosen by the client for one request:
    /// sent again with the same request (body, query, route) within 24 h, the first answer comes
    /// back (same status and body, header `Idempotent-Replayed: true`) and nothing runs twice.
    /// The same key with another request is a 422; while the first request runs, a 409. A 5xx
    /// answer is not recorded: a retry with the key runs again.
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[!-~]+$"
    )]
    idempotency_key: String,
}

/// What a route taking `Idempotency-Key` may answer because of it (its 409 says "in progress").
#[derive(IntoResponses)]
pub(super) enum IdempotencyRefusals {
    /// The `Idempotency-Key` was used in the last 24 h for another request (another body, query
    /// or route).
    #[response(status = 422)]
    KeyReused(ErrorBody),
}

/// CRUD update operators: each maps dotted field paths to its argument
/// (`{"$set": {"name": "Ada"}, "$unset": {"age": true}}`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateOperators {
    /// Sets fields.
    #[serde(rename = "$set")]
    #[schema(value_type = Object, required = false)]
    set: (),
    /// Removes fields (`{"age": true}`).
    #[serde(rename = "$unset")]
    #[schema(value_type = Object, required = false)]
    unset: (),
    /// Adds to numeric fields.
    #[serde(rename = "$inc")]
    #[schema(value_type = Object, required = false)]
    inc: (),
    /// Multiplies numeric fields.
    #[serde(rename = "$mul")]
    #[schema(value_type = Object, required = false)]
    mul: (),
    /// Sets fields to the current date (`{"lastSeen": true}`).
    #[serde(rename = "$currentDate")]
    #[schema(value_type = Object, required = false)]
    current_date: (),
    /// Appends to array fields.
    #[serde(rename = "$push")]
    #[schema(value_type = Object, required = false)]
    push: (),
    /// Appends to array fields values they do not hold yet.
    #[serde(rename = "$addToSet")]
    #[schema(value_type = Object, required = false)]
    add_to_set: (),
    /// Removes matching values from array fields.
    #[serde(rename = "$pull")]
    #[schema(value_type = Object, required = false)]
    pull: (),
}

/// What every route reading a JSON body may answer besides its own statuses (its 400 names
/// malformed JSON or a body of the wrong shape).
#[derive(IntoResponses)]
pub(super) enum JsonBodyRefusals {
    /// The body is larger than `REQUEST_BODY_LIMIT_BYTES`.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent with `content-type: application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
}

/// What every route calling another service may answer when that call fails; the message names
/// the call (`CRUD PATCH /users/:id responded 500`), the cause is logged, never shown.
#[derive(IntoResponses)]
pub(crate) enum DownstreamFailures {
    /// A downstream service (user store, auth provider, Rönd, Timer Service) failed, answered
    /// something unreadable, or could not be reached.
    #[response(status = 502)]
    Failed(ErrorBody),
    /// A downstream call took longer than `DOWNSTREAM_TIMEOUT_MS`.
    #[response(status = 504)]
    TimedOut(ErrorBody),
}

/// The schema of a JSON array of `T` with `min` to `max` items (for bodies that are arrays).
pub(super) fn array_of<T: ToSchema>(min: usize, max: Option<usize>) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .min_items(Some(min))
        .max_items(max)
        .into()
}

/// The `filter` of a `POST /users/state` item: `_id` (a non-empty string) and/or field
/// equalities with a string, number or boolean; at least one entry; no other `_`-prefixed key,
/// no `$` in a key (`crate::users::lifecycle::StateRequest::new`).
pub(super) fn state_filter() -> Schema {
    let scalar =
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Number, Type::Boolean]));
    ObjectBuilder::new()
        .description(Some(
            "`_id` and/or field equality entries (`{\"_id\": \"...\"}`, `{\"email\": \"...\"}`); no `_q`, no `_st`",
        ))
        .property("_id", ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^(_id|[^_$][^$]*)$")),
        ))
        .additional_properties(Some(scalar))
        .min_properties(Some(1))
        .into()
}

/// A `__STATE__` value: one of the wire names of `DocState`.
pub(super) fn state_name() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(DocState::ALL.map(DocState::as_str)))
        .into()
}

/// The document this configuration serves: without the routes it cannot serve (their handlers
/// only answer 501), so that every documented operation is one a client can use.
pub(super) fn served(mut doc: OpenApi, state: &AppState) -> OpenApi {
    let mut absent: Vec<&str> = Vec::new();
    if state.local_auth.is_none() {
        absent.extend(["/.well-known/jwks.json", "/users/reset-password"]);
    }
    if state.jobs.is_none() {
        absent.extend([
            "/jobs/bulk-activation",
            "/jobs/bulk-activation/{id}",
            "/jobs/change-password/bulk",
            "/jobs/change-password/bulk/{id}",
            "/jobs/reconcile",
            "/jobs/reconcile/{id}",
        ]);
    }
    if !state.users.capabilities().bulk_import {
        absent.push("/jobs/bulk-activation");
    }
    if !state.audit.readable() {
        absent.push("/audit");
    }
    if !state.users.capabilities().sessions {
        absent.extend(["/refreshtoken", "/userinfo"]);
        if state.authz.is_none() {
            absent.push("/oauth/token");
        }
    }
    if state.authz.is_none() {
        absent.extend(["/clients", "/clients/{id}"]);
    }
    doc.paths.paths.retain(|path, _| !absent.contains(&path.as_str()));
    if state.idempotency.is_none() {
        without_idempotency_key(&mut doc);
    }
    super::authz::document_security(&mut doc, state);
    doc
}

/// Without a saga collection the header is a 501: it and its 422 leave the document.
fn without_idempotency_key(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let Some(operation) = item.post.as_mut() else {
            continue;
        };
        let Some(parameters) = operation.parameters.as_mut() else {
            continue;
        };
        let before = parameters.len();
        parameters.retain(|parameter| parameter.name != "Idempotency-Key");
        if parameters.len() != before {
            operation.responses.responses.remove("422");
        }
    }
}
