//! Value-level semantics shared by every module: MongoDB's cross-type order, equality with
//! numbers compared across integer and float, and number arithmetic helpers.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// The rank of a value's type in MongoDB's cross-type order:
/// null (and missing) < numbers < strings < objects < arrays < booleans.
pub(crate) fn type_rank(v: Option<&Value>) -> u8 {
    match v {
        None | Some(Value::Null) => 0,
        Some(Value::Number(_)) => 1,
        Some(Value::String(_)) => 2,
        Some(Value::Object(_)) => 3,
        Some(Value::Array(_)) => 4,
        Some(Value::Bool(_)) => 5,
    }
}

/// Compares two JSON numbers by value, exactly when both are integers.
pub(crate) fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x.cmp(&y);
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x.cmp(&y);
    }
    // One side is a negative i64 and the other a u64 above i64::MAX, or a float is involved.
    match (a.as_i64(), b.as_u64()) {
        (Some(x), Some(_)) if x < 0 => return Ordering::Less,
        _ => {}
    }
    match (a.as_u64(), b.as_i64()) {
        (Some(_), Some(y)) if y < 0 => return Ordering::Greater,
        _ => {}
    }
    let x = a.as_f64().unwrap_or(f64::NAN);
    let y = b.as_f64().unwrap_or(f64::NAN);
    x.partial_cmp(&y).unwrap_or(Ordering::Equal)
}

/// Orders two values (a missing value is `None`) with MongoDB's cross-type order: first by type
/// rank (null/missing < numbers < strings < objects < arrays < booleans), then within the type.
/// Numbers compare by value across integers and floats, strings byte-wise, objects field by field
/// (name, then value, in document order), arrays element by element, `false < true`.
pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => cmp_numbers(x, y),
        (Some(Value::String(x)), Some(Value::String(y))) => x.as_bytes().cmp(y.as_bytes()),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for (ex, ey) in x.iter().zip(y) {
                let o = compare_values(Some(ex), Some(ey));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for ((kx, vx), (ky, vy)) in x.iter().zip(y) {
                // MongoDB compares the value type first, then the field name, then the value.
                let o = type_rank(Some(vx))
                    .cmp(&type_rank(Some(vy)))
                    .then_with(|| kx.as_bytes().cmp(ky.as_bytes()))
                    .then_with(|| compare_values(Some(vx), Some(vy)));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// MongoDB equality of two values: same type and same content, numbers compared by value
/// (`1 == 1.0`), arrays element by element, objects field by field in document order.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Ordering::Equal,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && values_equal(vx, vy))
        }
        _ => false,
    }
}

/// A number split into the integer or float case for arithmetic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// Reads a JSON number; integers beyond `i64` become floats.
    pub(crate) fn of(v: &Value) -> Option<Self> {
        let n = v.as_number()?;
        match n.as_i64() {
            Some(i) => Some(Self::Int(i)),
            None => n.as_f64().map(Self::Float),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Back to JSON; `None` for a non-finite float.
    pub(crate) fn to_value(self) -> Option<Value> {
        match self {
            Self::Int(i) => Some(Value::from(i)),
            Self::Float(f) => Number::from_f64(f).map(Value::Number),
        }
    }

    /// `self + other`; integers stay integers, `None` on integer overflow.
    pub(crate) fn add(self, other: Self) -> Option<Self> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.checked_add(b).map(Self::Int),
            (a, b) => Some(Self::Float(a.as_f64() + b.as_f64())),
        }
    }

    /// `self * other`; integers stay integers, `None` on integer overflow.
    pub(crate) fn mul(self, other: Self) -> Option<Self> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.checked_mul(b).map(Self::Int),
            (a, b) => Some(Self::Float(a.as_f64() * b.as_f64())),
        }
    }
}
