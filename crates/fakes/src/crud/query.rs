//! Turns a request's query string and `acl_*` headers into a filter, projection, sort and page
//! (contract §2).

use axum::http::HeaderMap;
use docquery::{SortKey, State};
use serde_json::{json, Value};

pub(crate) use super::matcher::{Matcher, Projection};
use super::respond::ApiError;

/// Query parameters accepted by a route (besides plain field filters).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Accepted `_`-parameters; any other one gives 400.
    pub allowed: &'static [&'static str],
    /// `_l` defaults to 25 and must be ≤ 200 (list); otherwise unbounded (export).
    pub list_limits: bool,
    /// No state filter at all (`POST /:id/state`).
    pub any_state: bool,
}

impl Rules {
    const fn new(allowed: &'static [&'static str]) -> Self {
        Self {
            allowed,
            list_limits: false,
            any_state: false,
        }
    }
}

/// `GET /`.
pub(crate) const LIST: Rules = Rules {
    list_limits: true,
    ..Rules::new(&["_q", "_p", "_rawp", "_s", "_l", "_sk", "_st", "_id"])
};
/// `GET /export`.
pub(crate) const EXPORT: Rules = Rules::new(&[
    "_q",
    "_p",
    "_rawp",
    "_s",
    "_l",
    "_sk",
    "_st",
    "_id",
    "_exportOpts",
]);
/// `GET /:id`.
pub(crate) const GET_ONE: Rules = Rules::new(&["_q", "_p", "_rawp", "_st"]);
/// `GET /count`.
pub(crate) const COUNT: Rules = Rules::new(&["_q", "_st", "_id", "_useEstimate"]);
/// `PATCH /:id`, `DELETE /:id`.
pub(crate) const ONE: Rules = Rules::new(&["_q", "_st"]);
/// `PATCH /`, `DELETE /`, `POST /upsert-one`.
pub(crate) const MANY: Rules = Rules::new(&["_q", "_st", "_id"]);
/// `POST /:id/state`.
pub(crate) const STATE_ONE: Rules = Rules {
    any_state: true,
    ..Rules::new(&["_q"])
};
/// Routes that take no filter (`POST /`, bulk routes).
pub(crate) const NONE: Rules = Rules::new(&[]);

/// Everything a route reads from the query string and the `acl_*` headers.
#[derive(Debug)]
pub(crate) struct Query {
    /// The filter.
    pub matcher: Matcher,
    /// The projection (`_p`/`_rawp` narrowed by `acl_read_columns`).
    pub projection: Projection,
    /// `_s`.
    pub sort: Vec<SortKey>,
    /// `_l`.
    pub limit: Option<usize>,
    /// `_sk`.
    pub skip: usize,
    /// `_useEstimate=true`.
    pub use_estimate: bool,
}

/// Parses the URL query into `(key, value)` pairs.
pub(crate) fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid querystring: {e}")))
}

/// Parses `raw` for a route following `rules`; `id` is the path id, if any.
pub(crate) fn parse(
    raw: Option<&str>,
    headers: &HeaderMap,
    rules: Rules,
    id: Option<String>,
) -> Result<Query, ApiError> {
    let mut parts = Vec::new();
    let mut states = if rules.any_state {
        None
    } else {
        Some(vec![State::Public])
    };
    let mut projection = Projection::All;
    let (mut p, mut rawp) = (None, None);
    let mut sort_specs = Vec::new();
    let mut limit = rules.list_limits.then_some(25);
    let mut skip = 0;
    let mut use_estimate = false;
    for (key, value) in pairs(raw)? {
        if key.starts_with('_') && !rules.allowed.contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!(
                "querystring must NOT have additional properties. Property \"{key}\" is not defined in validation schema"
            )));
        }
        match key.as_str() {
            "_q" => parts.push(parse_filter_json(&value, "_q")?),
            "_st" => states = Some(parse_states(&value)?),
            "_id" => parts.push(json!({ "_id": value })),
            "_p" => p = Some(docquery::split_list(&value)),
            "_rawp" => rawp = Some(value),
            "_s" => sort_specs.push(value),
            "_l" => limit = Some(parse_limit(&value, rules.list_limits)?),
            "_sk" => skip = parse_int("_sk", &value, 0)?,
            "_useEstimate" => use_estimate = parse_bool("_useEstimate", &value)?,
            "_exportOpts" => {}
            field if field.contains('$') || field.is_empty() => {
                return Err(ApiError::bad_request(format!("Unknown field: {field}")));
            }
            field => parts.push(docquery::field_filter(field, &value)),
        }
    }
    match (p, rawp) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("_p and _rawp cannot be used together")),
        (Some(fields), None) => projection = Projection::Include(fields),
        (None, Some(raw)) => projection = parse_rawp(&raw)?,
        (None, None) => {}
    }
    parts.extend(acl_rows(headers)?);
    let readable = header_str(headers, "acl_read_columns").map(docquery::split_list);
    let sort = if sort_specs.is_empty() {
        Vec::new()
    } else {
        docquery::parse_sort(&sort_specs.join(",")).map_err(|e| ApiError::bad_request(e.0))?
    };
    Ok(Query {
        matcher: Matcher::new(states, id, parts),
        projection: projection.restrict(readable),
        sort,
        limit,
        skip,
        use_estimate,
    })
}

/// Parses and validates a JSON filter (`_q`, `acl_rows`).
pub(crate) fn parse_filter_json(text: &str, what: &str) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("{what} is not valid JSON: {e}")))?;
    check_filter(&value)?;
    Ok(value)
}

/// Validates a filter object with the CRUD `_q` rules.
pub(crate) fn check_filter(value: &Value) -> Result<(), ApiError> {
    docquery::check_filter(value).map_err(|e| ApiError::bad_request(e.0))
}

/// The `acl_rows` header: one filter or an array of filters.
pub(crate) fn acl_rows(headers: &HeaderMap) -> Result<Vec<Value>, ApiError> {
    match header_str(headers, "acl_rows") {
        None => Ok(Vec::new()),
        Some(text) => docquery::parse_acl_rows(text).map_err(|e| ApiError::bad_request(e.0)),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parses a comma-separated `_st`.
pub(crate) fn parse_states(value: &str) -> Result<Vec<State>, ApiError> {
    value
        .split(',')
        .map(|s| {
            State::parse(s.trim()).ok_or_else(|| {
                ApiError::bad_request(
                    "querystring/_st must match pattern \"^(PUBLIC|DRAFT|TRASH|DELETED)(,(PUBLIC|DRAFT|TRASH|DELETED))*$\"",
                )
            })
        })
        .collect()
}

fn parse_int(name: &str, value: &str, min: i64) -> Result<usize, ApiError> {
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("querystring/{name} must be integer")))?;
    if n < min {
        return Err(ApiError::bad_request(format!(
            "querystring/{name} must be >= {min}"
        )));
    }
    usize::try_from(n).map_err(|_| ApiError::bad_request(format!("querystring/{name} must be >= {min}")))
}

fn parse_limit(value: &str, bounded: bool) -> Result<usize, ApiError> {
    let n = parse_int("_l", value, 1)?;
    if bounded && n > 200 {
        return Err(ApiError::bad_request("querystring/_l must be <= 200"));
    }
    Ok(n)
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "querystring/{name} must be boolean"
        ))),
    }
}

/// `_rawp`: an inclusion or exclusion projection (`{"a":1}` / `{"a":0}`).
fn parse_rawp(raw: &str) -> Result<Projection, ApiError> {
    let raw = docquery::parse_raw_projection(raw, "the fake").map_err(|e| ApiError::bad_request(e.0))?;
    Ok(match (raw.include.is_empty(), raw.exclude.is_empty()) {
        (false, _) => Projection::Include(raw.include),
        (true, false) => Projection::Exclude(raw.exclude),
        (true, true) => Projection::All,
    })
}
