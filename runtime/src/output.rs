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
/// named values, in order. Written straight into the line, as [`number_json`]'s values
/// serialize (a map of values per row cost more than the rest of a short spec's scoring).
pub fn record_json<'a>(score: &Value, terms: impl Iterator<Item = (&'a str, &'a Value)>) -> String {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"score\":");
    write_number(&mut out, score);
    out.extend_from_slice(b",\"terms\":{");
    for (k, (name, value)) in terms.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write_json(&mut out, name);
        out.push(b':');
        write_number(&mut out, value);
    }
    out.extend_from_slice(b"}}");
    // serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// [`number_json`] of `v`, appended to `out`.
fn write_number(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::None => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => write_json(out, i),
        Value::Float(x) if x.is_finite() => write_json(out, x),
        other => write_json(out, &number_json(other)),
    }
}

fn write_json(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    // Writing to a `Vec` cannot fail, and these values always serialize.
    let _ = serde_json::to_writer(out, v);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_the_serialized_maps_of_their_values() {
        // The line written directly must be the map of `number_json` values serialized:
        // every kind of value (non-finite floats, -0.0, extreme ints, none, texts) and names
        // that need escaping.
        let values = [
            Value::None,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(3.0),
            Value::Float(-0.0),
            Value::Float(0.1 + 0.2),
            Value::Float(1e300),
            Value::Float(5e-324),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::text("a \"quoted\"\n text"),
        ];
        let names = ["accuracy", "tag_count", "é \"q\" \\ \u{1}", "", "#run"];
        let mut next = crate::test_rng(0xA076_1D64_78BD_642F);
        for _ in 0..2000 {
            let score = &values[next(values.len())];
            let terms: Vec<(&str, &Value)> = (0..next(5))
                .map(|k| (names[k], &values[next(values.len())]))
                .collect();
            let mut breakdown = Map::new();
            for (name, value) in &terms {
                breakdown.insert(name.to_string(), number_json(value));
            }
            let want = serde_json::json!({ "score": number_json(score), "terms": breakdown });
            assert_eq!(
                record_json(score, terms.iter().copied()),
                want.to_string(),
                "{score:?} {terms:?}"
            );
        }
    }
}
