//! Structured outputs: JSON values, a JSON-schema subset, and tool calls.
//!
//! JSON is parsed with serde_json (strict RFC 8259; nesting deeper than 128 levels is a parse
//! failure, so no input can exhaust the stack). A text is first stripped of surrounding
//! whitespace and of a Markdown fence (```` ```json … ``` ````), as `is_json` does. Every
//! function here is total: unparsable input gives `false`, `0.0` or none, never an error.

use serde_json::{Map, Value as Json};

use super::text::strip_json_fence;

fn parse(s: &str) -> Option<Json> {
    serde_json::from_str(strip_json_fence(s.trim())).ok()
}

/// The value at `path` in the JSON text `s`, as text: a string's content, or the JSON text of
/// any other value (`42`, `true`, `null`, `[1,2]`, `{"a":1}`). The path is a dot-separated list
/// of object keys and array indices: `"user.tags.0"`; the empty path is the whole value. None if
/// `s` is not JSON or the path does not exist.
///
/// Time: O(n).
pub fn json_get(s: &str, path: &str) -> Option<String> {
    let root = parse(s)?;
    let mut v = &root;
    if !path.is_empty() {
        for part in path.split('.') {
            v = match v {
                Json::Object(m) => m.get(part)?,
                Json::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    Some(match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Whether the JSON text `s` satisfies the JSON Schema `schema` (itself JSON text), for the
/// subset of JSON Schema most structured-output rewards use:
/// `type` (a name or a list of names: `object`, `array`, `string`, `number`, `integer`,
/// `boolean`, `null`; an integer is a number whose value is whole), `enum`, `const`,
/// `properties`, `required`, `additionalProperties` (`false` or a schema), `items` (a schema),
/// `minItems`, `maxItems`, `uniqueItems`, `minLength`, `maxLength` (in characters),
/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers), `anyOf`, `allOf`,
/// `oneOf`, `not`. Other keywords are ignored (as a validator ignores unknown keywords);
/// `$ref` and `pattern` are not supported and make the result false, so a schema that relies
/// on them never passes silently. False when either text is not JSON.
///
/// Time: O(|s| · |schema|).
pub fn json_schema_valid(s: &str, schema: &str) -> bool {
    match (parse(s), parse(schema)) {
        (Some(v), Some(schema)) => valid(&v, &schema, 0),
        _ => false,
    }
}

/// Deepest schema nesting followed (deeper is invalid, so the check is bounded).
const MAX_SCHEMA_DEPTH: usize = 64;

fn type_matches(v: &Json, name: &str) -> bool {
    match name {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.as_f64().is_some_and(|x| x.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn valid(v: &Json, schema: &Json, depth: usize) -> bool {
    if depth > MAX_SCHEMA_DEPTH {
        return false;
    }
    let s = match schema {
        Json::Bool(b) => return *b,
        Json::Object(s) => s,
        _ => return false,
    };
    let sub = |v: &Json, schema: &Json| valid(v, schema, depth + 1);
    if s.contains_key("$ref") || s.contains_key("pattern") {
        return false;
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Json::String(name) => type_matches(v, name),
            Json::Array(names) => names
                .iter()
                .any(|n| n.as_str().is_some_and(|n| type_matches(v, n))),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if let Some(Json::Array(options)) = s.get("enum") {
        if !options.iter().any(|o| json_equal(o, v)) {
            return false;
        }
    }
    if let Some(c) = s.get("const") {
        if !json_equal(c, v) {
            return false;
        }
    }
    if let Json::Object(obj) = v {
        if !object_valid(obj, s, &sub) {
            return false;
        }
    }
    if let Json::Array(items) = v {
        let count = items.len() as f64;
        if s.get("minItems")
            .and_then(Json::as_f64)
            .is_some_and(|m| count < m)
            || s.get("maxItems")
                .and_then(Json::as_f64)
                .is_some_and(|m| count > m)
        {
            return false;
        }
        if let Some(item_schema) = s.get("items") {
            if !items.iter().all(|i| sub(i, item_schema)) {
                return false;
            }
        }
        if s.get("uniqueItems") == Some(&Json::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if items[i + 1..].iter().any(|b| json_equal(a, b)) {
                    return false;
                }
            }
        }
    }
    if let Json::String(text) = v {
        let len = text.chars().count() as f64;
        if s.get("minLength")
            .and_then(Json::as_f64)
            .is_some_and(|m| len < m)
            || s.get("maxLength")
                .and_then(Json::as_f64)
                .is_some_and(|m| len > m)
        {
            return false;
        }
    }
    if let Some(x) = v.as_f64() {
        let bound = |k: &str| s.get(k).and_then(Json::as_f64);
        if bound("minimum").is_some_and(|m| x < m)
            || bound("maximum").is_some_and(|m| x > m)
            || bound("exclusiveMinimum").is_some_and(|m| x <= m)
            || bound("exclusiveMaximum").is_some_and(|m| x >= m)
        {
            return false;
        }
    }
    let list = |k: &str| s.get(k).and_then(Json::as_array);
    if list("allOf").is_some_and(|l| !l.iter().all(|o| sub(v, o)))
        || list("anyOf").is_some_and(|l| !l.iter().any(|o| sub(v, o)))
        || list("oneOf").is_some_and(|l| l.iter().filter(|o| sub(v, o)).count() != 1)
        || s.get("not").is_some_and(|o| sub(v, o))
    {
        return false;
    }
    true
}

fn object_valid(
    obj: &Map<String, Json>,
    s: &Map<String, Json>,
    sub: &dyn Fn(&Json, &Json) -> bool,
) -> bool {
    if let Some(Json::Array(required)) = s.get("required") {
        if !required
            .iter()
            .all(|k| k.as_str().is_some_and(|k| obj.contains_key(k)))
        {
            return false;
        }
    }
    let props = s.get("properties").and_then(Json::as_object);
    for (k, value) in obj {
        match props.and_then(|p| p.get(k)) {
            Some(schema) if !sub(value, schema) => return false,
            Some(_) => {}
            None => match s.get("additionalProperties") {
                Some(Json::Bool(false)) => return false,
                Some(extra @ Json::Object(_)) if !sub(value, extra) => return false,
                _ => {}
            },
        }
    }
    true
}

/// JSON equality with numbers compared by value (`1` equals `1.0`), objects regardless of key
/// order.
pub fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A tool call: its name and its arguments (an object).
struct ToolCall {
    name: String,
    arguments: Map<String, Json>,
}

/// The first tool call in `s`: the content of the first `<tool_call>…</tool_call>` if there is
/// one (Hermes/Qwen format), else the whole text (a fence allowed); a JSON object with `name`
/// and `arguments` (or `parameters`), or OpenAI's `{"function": {"name", "arguments"}}`
/// (`type` ignored), where `arguments` may be an object or a string holding a JSON object; a
/// one-element list of such an object is accepted too.
fn tool_call(s: &str) -> Option<ToolCall> {
    let body = match (s.find("<tool_call>"), s.find("</tool_call>")) {
        (Some(a), Some(b)) if a + 11 <= b => &s[a + 11..b],
        _ => s,
    };
    let mut v = parse(body)?;
    if let Json::Array(mut items) = v {
        if items.len() != 1 {
            return None;
        }
        v = items.pop()?;
    }
    let mut obj = match v {
        Json::Object(o) => o,
        _ => return None,
    };
    if let Some(Json::Object(f)) = obj.remove("function") {
        obj = f;
    }
    let name = obj.get("name")?.as_str()?.to_string();
    let arguments = match obj.get("arguments").or_else(|| obj.get("parameters")) {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(a)) => a.clone(),
        Some(Json::String(text)) => match serde_json::from_str::<Json>(text).ok()? {
            Json::Object(a) => a,
            _ => return None,
        },
        Some(_) => return None,
    };
    Some(ToolCall { name, arguments })
}

/// The name of the tool called in `s` (see `tool_call_match` for the formats); none if `s`
/// holds no tool call.
pub fn tool_name(s: &str) -> Option<String> {
    tool_call(s).map(|c| c.name)
}

/// The arguments of the tool call in `s`, as a JSON object text (`{}` when it has none); none
/// if `s` holds no tool call.
pub fn tool_arguments(s: &str) -> Option<String> {
    tool_call(s).map(|c| Json::Object(c.arguments).to_string())
}

/// How well the tool call in `pred` matches the one in `gold`, in [0, 1]: 0 if either holds no
/// tool call or the names differ; otherwise the fraction of `gold`'s arguments that `pred`
/// gives with an equal value (JSON equality, numbers by value), times the fraction of `pred`'s
/// arguments that `gold` has (so extra, invented arguments cost too); 1 when both have no
/// arguments. Formats: a `<tool_call>{…}</tool_call>` block or a bare JSON object with `name`
/// and `arguments` (or `parameters`), or OpenAI's `{"function": {"name": …, "arguments":
/// "<JSON text>"}}`.
///
/// Time: O(n).
pub fn tool_call_match(pred: &str, gold: &str) -> f64 {
    let (Some(p), Some(g)) = (tool_call(pred), tool_call(gold)) else {
        return 0.0;
    };
    if p.name != g.name {
        return 0.0;
    }
    if g.arguments.is_empty() && p.arguments.is_empty() {
        return 1.0;
    }
    let matched = g
        .arguments
        .iter()
        .filter(|(k, v)| p.arguments.get(*k).is_some_and(|w| json_equal(v, w)))
        .count() as f64;
    let recall = if g.arguments.is_empty() {
        1.0
    } else {
        matched / g.arguments.len() as f64
    };
    let known = p
        .arguments
        .keys()
        .filter(|k| g.arguments.contains_key(*k))
        .count() as f64;
    let precision = if p.arguments.is_empty() {
        1.0
    } else {
        known / p.arguments.len() as f64
    };
    recall * precision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_schemas() {
        let s = r#"{"user": {"name": "Ada", "tags": ["x", 2]}, "ok": true}"#;
        assert_eq!(json_get(s, "user.name").as_deref(), Some("Ada"));
        assert_eq!(json_get(s, "user.tags.1").as_deref(), Some("2"));
        assert_eq!(json_get(s, "ok").as_deref(), Some("true"));
        assert_eq!(json_get(s, "user.age"), None);
        assert_eq!(json_get("not json", ""), None);
        let schema = r#"{"type": "object", "required": ["name", "age"],
            "properties": {"name": {"type": "string", "minLength": 1},
                           "age": {"type": "integer", "minimum": 0}},
            "additionalProperties": false}"#;
        assert!(json_schema_valid(r#"{"name": "Ada", "age": 36}"#, schema));
        assert!(json_schema_valid(r#"{"name": "Ada", "age": 36.0}"#, schema));
        assert!(!json_schema_valid(
            r#"{"name": "Ada", "age": 36.5}"#,
            schema
        ));
        assert!(!json_schema_valid(r#"{"name": "", "age": 1}"#, schema));
        assert!(!json_schema_valid(r#"{"name": "Ada"}"#, schema));
        assert!(!json_schema_valid(
            r#"{"name": "Ada", "age": 1, "x": 0}"#,
            schema
        ));
        assert!(!json_schema_valid(r#"{"name": "Ada", "age": -1}"#, schema));
        assert!(!json_schema_valid("[", schema));
        // Unsupported keywords never pass silently.
        assert!(!json_schema_valid(r#""abc""#, r#"{"pattern": "a"}"#));
        // Deep nesting is a parse failure, not a stack overflow.
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(!json_schema_valid(&deep, "{}"));
    }

    #[test]
    fn tool_calls_in_the_usual_formats() {
        let gold = r#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}"#;
        let hermes = r#"Let me check. <tool_call>{"name": "get_weather", "arguments": {"days": 3.0, "city": "Paris"}}</tool_call>"#;
        let openai = r#"{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 3}"}}"#;
        assert_eq!(tool_call_match(hermes, gold), 1.0);
        assert_eq!(tool_call_match(openai, gold), 1.0);
        assert_eq!(tool_name(openai).as_deref(), Some("get_weather"));
        let half = r#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 4}}"#;
        assert_eq!(tool_call_match(half, gold), 0.5);
        let extra = r#"{"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "units": "C", "lang": "fr"}}"#;
        assert_eq!(tool_call_match(extra, gold), 0.5);
        let other = r#"{"name": "get_time", "arguments": {"city": "Paris", "days": 3}}"#;
        assert_eq!(tool_call_match(other, gold), 0.0);
        assert_eq!(tool_call_match("no call", gold), 0.0);
    }
}
