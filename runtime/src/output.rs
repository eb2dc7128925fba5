//! The output record of one rollout, shared by the CLI and the shared library's C API:
//! `{"score": <number|null>, "terms": {<name>: <value>, …}}`.

use serde_json::{Map, Number};

use crate::Value;

/// A term as the output shows it.
pub struct TermInfo<'a> {
    pub name: &'a str,
    pub in_breakdown: bool,
}

/// The JSON line for a scored rollout; `values` are indexed like `terms`.
pub fn row_json(values: &[Value], terms: &[TermInfo], score: Option<usize>) -> String {
    let none = Value::None;
    let score_value = score.map_or(&none, |id| &values[id]);
    let breakdown = terms
        .iter()
        .enumerate()
        .filter(|(id, term)| term.in_breakdown && Some(*id) != score)
        .map(|(id, term)| (term.name, &values[id]));
    record_json(score_value, breakdown)
}

/// `{"score": <score>, "terms": {<name>: <value>, …}}` from the score and the breakdown's
/// named values, in order.
pub fn record_json<'a>(score: &Value, terms: impl Iterator<Item = (&'a str, &'a Value)>) -> String {
    let mut breakdown = Map::new();
    for (name, value) in terms {
        breakdown.insert(name.to_string(), number_json(value));
    }
    let mut out = Map::new();
    out.insert("score".into(), number_json(score));
    out.insert("terms".into(), serde_json::Value::Object(breakdown));
    serde_json::Value::Object(out).to_string()
}

/// Numbers and bools as JSON; non-finite floats as the strings "NaN", "inf", "-inf" (JSON has
/// no literal for them); none as null.
pub fn number_json(v: &Value) -> serde_json::Value {
    match v {
        Value::None => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::Number((*i).into()),
        Value::Float(x) => match Number::from_f64(*x) {
            Some(n) => serde_json::Value::Number(n),
            None => serde_json::Value::String(crate::value::format_float(*x)),
        },
        other => serde_json::Value::String(other.to_string()),
    }
}

/// The name a row error reports for term `name`: internal parts of a machine or formula
/// (`deliver#run`) are reported as the machine.
pub fn reported_term(name: &str) -> &str {
    name.split('#').next().unwrap_or(name)
}

/// The error record of a row whose scoring failed.
pub fn runtime_error_json(line: u64, message: &str, term: Option<&str>, at: &str) -> String {
    let mut err = Map::new();
    err.insert("line".into(), serde_json::json!(line));
    err.insert("message".into(), serde_json::json!(message));
    if let Some(t) = term {
        err.insert("term".into(), serde_json::json!(reported_term(t)));
    }
    err.insert("at".into(), serde_json::json!(at));
    serde_json::json!({ "error": err }).to_string()
}
