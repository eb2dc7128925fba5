//! Validation and decoding of rollouts against the program's input schema.
//!
//! A rollout is one JSON object on one line. Most lines are read by the row scanner (`scan`), a
//! schema-driven single pass that accepts only lines it has checked completely; every other line
//! (and every error) is decided by the reference decoder below, [`decode_row_reference`].
//!
//! The reference decoder is schema-guided too: a
//! [`serde::de::DeserializeSeed`] walks the JSON text once and builds a [`Value`] directly, without
//! an intermediate `serde_json::Value`, and skips the (often many) columns the schema does not
//! mention with [`IgnoredAny`]. This matters because the driver decodes millions of rows.
//!
//! Type mismatches do not abort parsing: a mismatch becomes an `Err(DecodeError)` *value* inside
//! the seed's output, and the parser carries on to the end of the line. That way
//! - a syntax error anywhere in the line always wins (the row is "invalid JSON", whatever else),
//! - among type errors the one reported is the first in schema order, exactly as if the line had
//!   first been parsed into a tree and then converted field by field, and
//! - duplicate keys behave like every JSON parser's tree: the last occurrence wins.
//!
//! The same seed also runs over an already parsed `serde_json::Value` ([`decode_json`]), so
//! fixtures and `--param` values get the very same rules and messages as rollouts.
//!
//! Stack safety: serde_json's recursion limit (128 levels) stays on for the text parser; columns
//! the schema does not mention are skipped with [`IgnoredAny`], which serde_json does without
//! recursion (so even a very deep value there is accepted). The seed itself only recurses as deep
//! as the schema, which is finite and written by the user.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::ty::{Field, Ty};
use crate::value::Value;

mod scan;

/// Why a rollout (or a JSON fixture value) does not match the input schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Where in the rollout the problem is: `answer`, `judge.side_effects`, `messages[2].content`;
    /// empty when the problem is the line as a whole (invalid JSON, not an object).
    pub path: String,
    /// What is wrong, e.g. `expected int, found 3.5` or `missing required field (expected text)`.
    pub message: String,
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        DecodeError {
            path: String::new(),
            message: message.into(),
        }
    }

    /// Re-roots the error under a record field: `x` becomes `field.x`, `[2]` becomes `field[2]`.
    /// Paths are built on the way back up, so this only costs anything for rows that fail.
    fn in_field(mut self, name: &str) -> Self {
        self.path = join_path(name, &self.path);
        self
    }

    /// Re-roots the error under a list element: `x` becomes `[i].x`.
    fn in_element(mut self, index: usize) -> Self {
        self.path = join_path(&format!("[{index}]"), &self.path);
        self
    }
}

fn join_path(head: &str, rest: &str) -> String {
    if rest.is_empty() {
        head.to_string()
    } else if rest.starts_with('[') {
        format!("{head}{rest}")
    } else {
        format!("{head}.{rest}")
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one rollout line against `schema` (always a [`Ty::Record`] in practice) and returns a
/// [`Value::Record`] whose fields are in schema order. Columns not in the schema are ignored; a
/// missing or `null` optional field becomes [`Value::None`].
pub fn decode_row(line: &str, schema: &Ty) -> Result<Value, DecodeError> {
    // The scanner accepts only lines it has checked completely; anything else, errors
    // included, is decided by the reference decoder.
    match scan::row(line, schema) {
        Some(row) => Ok(row),
        None => decode_row_reference(line, schema),
    }
}

/// [`decode_row`] without its fast path: the serde decoder alone, which defines every message
/// and precedence rule. Exposed so that tests and fuzzers can check that both paths agree.
pub fn decode_row_reference(line: &str, schema: &Ty) -> Result<Value, DecodeError> {
    if line
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        return Err(DecodeError::new("empty line: expected a JSON object"));
    }
    match parse(line, schema) {
        Ok(outcome) => outcome,
        // Python's `json.dumps` writes NaN and Infinity: harmless in a column the spec does not
        // read, so such values are read as null there (and stay syntax errors elsewhere).
        Err(syntax) => match nulled_unread_non_numbers(line, schema) {
            Some(lenient) => parse(&lenient, schema).unwrap_or(Err(syntax)),
            None => Err(syntax),
        },
    }
}

/// Parses a line: `Err` for a syntax error, `Ok` with the outcome of typing it otherwise.
fn parse(line: &str, schema: &Ty) -> Result<Outcome, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(line);
    let outcome = TySeed { ty: schema }
        .deserialize(&mut de)
        .map_err(|e| invalid_json(&e))?;
    // Trailing garbage after the object (`{...} x`) makes the line invalid as a whole, and being
    // a syntax error it takes precedence over any type error found before it.
    de.end().map_err(|e| invalid_json(&e))?;
    Ok(outcome)
}

/// `line` with each `NaN`, `Infinity` and `-Infinity` token inside the top-level members the
/// schema does not read replaced by `null` (the rest of the line untouched, so any other syntax
/// error still stands); `None` when there is no such token (or the line is not an object this
/// scanner can follow).
fn nulled_unread_non_numbers(line: &str, schema: &Ty) -> Option<String> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => break,
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(b, i)?;
        // The key as JSON means it (`"\u0078"` is `x`).
        let key: String = serde_json::from_str(&line[i..key_end]).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let mut found = Vec::new();
        let end = value_end(b, start, &mut found)?;
        if schema.field_index(&key).is_none() {
            tokens.extend(found);
        }
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i += 1,
            b'}' => break,
            _ => return None,
        }
    }
    if tokens.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    for (start, len) in tokens {
        out.push_str(&line[copied..start]);
        out.push_str("null");
        copied = start + len;
    }
    out.push_str(&line[copied..]);
    Some(out)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `b[i] == '"'`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end of the value starting at `i` (at depth 0: before `,` or `}`); the places and
/// lengths of its `NaN`/`Infinity`/`-Infinity` tokens outside strings go to `tokens`. A token
/// must stand alone (`NaNsense` is not one).
fn value_end(b: &[u8], mut i: usize, tokens: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut depth = 0usize;
    let alone = |end: usize| !b.get(end).is_some_and(|c| c.is_ascii_alphanumeric());
    loop {
        match *b.get(i)? {
            b'"' => i = string_end(b, i)?,
            b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b',' | b'}' if depth == 0 => return Some(i),
            b'N' if b[i..].starts_with(b"NaN") && alone(i + 3) => {
                tokens.push((i, 3));
                i += 3;
            }
            b'-' if b[i..].starts_with(b"-Infinity") && alone(i + 9) => {
                tokens.push((i, 9));
                i += 9;
            }
            b'I' if b[i..].starts_with(b"Infinity") && alone(i + 8) => {
                tokens.push((i, 8));
                i += 8;
            }
            _ => i += 1,
        }
    }
}

/// Decodes an already parsed JSON value against `ty`, with the same rules and messages as
/// [`decode_row`]. Used for test fixtures and `--param` values.
pub fn decode_json(value: &serde_json::Value, ty: &Ty) -> Result<Value, DecodeError> {
    match (TySeed { ty }).deserialize(value) {
        Ok(outcome) => outcome,
        // The seed's visitor accepts every shape of JSON, so a tree cannot fail to deserialize;
        // report it rather than panic should serde_json ever change that.
        Err(e) => Err(DecodeError::new(format!(
            "internal error while decoding: {e}"
        ))),
    }
}

/// "invalid JSON at column 17: expected `,` or `}`", from serde_json's error without its own
/// " at line 1 column 17" suffix. Lines are mentioned only for multi-line text (fixtures).
fn invalid_json(e: &serde_json::Error) -> DecodeError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = if e.line() > 1 {
        format!(
            "invalid JSON at line {} column {}: {bare}",
            e.line(),
            e.column()
        )
    } else {
        format!("invalid JSON at column {}: {bare}", e.column())
    };
    DecodeError::new(message)
}

/// What the seed produces: serde errors are reserved for syntax errors, type errors travel as
/// values so parsing can finish (see the module docs).
type Outcome = Result<Value, DecodeError>;

/// Decodes one JSON value of type `ty`.
#[derive(Clone, Copy)]
struct TySeed<'s> {
    ty: &'s Ty,
}

impl<'de> DeserializeSeed<'de> for TySeed<'_> {
    type Value = Outcome;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Outcome, D::Error> {
        // Always `deserialize_any`: the typed entry points (`deserialize_i64`, ...) would turn a
        // mismatch into a serde error and abort the parse, losing the path and the precedence
        // rules above. The visitor checks the type itself.
        deserializer.deserialize_any(TyVisitor { ty: self.ty })
    }
}

struct TyVisitor<'s> {
    ty: &'s Ty,
}

impl TyVisitor<'_> {
    /// The type to check against once `null` has been ruled out.
    fn want(&self) -> &Ty {
        self.ty.strip_optional()
    }

    fn mismatch(&self, found: impl fmt::Display) -> Outcome {
        Err(DecodeError::new(format!(
            "expected {}, found {found}",
            describe_ty(self.want())
        )))
    }

    fn number(&self, value: Number) -> Outcome {
        match self.want() {
            Ty::Float => Ok(Value::Float(value.as_f64())),
            Ty::Int => match value {
                Number::I(i) => Ok(Value::Int(i)),
                Number::U(u) => match i64::try_from(u) {
                    Ok(i) => Ok(Value::Int(i)),
                    Err(_) => Err(DecodeError::new(format!(
                        "integer {u} does not fit in 64 bits"
                    ))),
                },
                Number::F(x) => float_to_int(x),
            },
            Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(self.want()),
            _ => self.mismatch(value),
        }
    }

    fn text(&self, s: &str) -> Outcome {
        match self.want() {
            Ty::Text => Ok(Value::text(s)),
            Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(self.want()),
            _ => self.mismatch(format_args!("string {}", short_string(s))),
        }
    }
}

/// Accepts a float only when it is an exact integer in range: pandas writes integer columns with
/// missing values as floats (`3.0`).
fn float_to_int(x: f64) -> Outcome {
    // Only floats below 2^53 in magnitude: beyond it a float may be the rounding of a larger
    // integer literal (serde_json hands integers outside i64 over as floats, so
    // -9223372036854775809 would otherwise arrive as exactly i64::MIN).
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    if x.fract() != 0.0 {
        Err(DecodeError::new(format!(
            "expected int, found {}",
            Number::F(x)
        )))
    } else if (-LIMIT..=LIMIT).contains(&x) {
        // In range and integral, so the conversion is exact.
        Ok(Value::Int(x as i64))
    } else if x.abs() >= 9_223_372_036_854_775_808.0 {
        Err(DecodeError::new(format!(
            "integer {} does not fit in 64 bits",
            Number::F(x)
        )))
    } else {
        Err(DecodeError::new(format!(
            "expected int, found {}: a number written as a float (or outside the 64-bit range) is read as an int only up to 2^53 in magnitude",
            Number::F(x)
        )))
    }
}

/// Types that only exist inside the compiler. The compiler never puts them in a schema; if it
/// ever does, the row fails with a clear message instead of the process crashing.
fn unsupported(ty: &Ty) -> Outcome {
    Err(DecodeError::new(format!(
        "internal error: type {ty} cannot appear in an input schema"
    )))
}

/// A JSON number as serde_json hands it over, kept apart so messages can render it faithfully.
#[derive(Clone, Copy)]
enum Number {
    I(i64),
    U(u64),
    F(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::I(i) => i as f64,
            Number::U(u) => u as f64,
            Number::F(x) => x,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::I(i) => write!(f, "{i}"),
            Number::U(u) => write!(f, "{u}"),
            // Huge and tiny magnitudes in exponent form (`1e30`, not 31 digits); integral floats
            // keep a `.0` so `3.0` does not read as the integer `3`.
            Number::F(x) if x != 0.0 && !(1e-5..1e16).contains(&x.abs()) => write!(f, "{x:e}"),
            Number::F(x) if x.fract() == 0.0 => write!(f, "{x:.1}"),
            Number::F(x) => write!(f, "{x}"),
        }
    }
}

/// Renders a string for a message: JSON-quoted (so newlines stay visible) and cut after 40
/// characters with "…", so one bad cell cannot blow up the error record.
fn short_string(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    match s.char_indices().nth(MAX_CHARS) {
        None => quote(s),
        Some((cut, _)) => format!("{}…", quote(&s[..cut])),
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Why a row without a required field of type `ty` is not read.
pub fn missing_field(ty: &Ty) -> String {
    format!("missing required field (expected {})", describe_ty(ty))
}

/// A type as it appears in "expected ..." messages. Records read as "a JSON object" whatever
/// their fields (listing a large schema in every message would drown the actual problem).
/// Readers of other formats (Arrow) use it too, so that a row's error reads the same.
pub fn describe_ty(ty: &Ty) -> String {
    match ty {
        Ty::Record(_) => "a JSON object".to_string(),
        other => {
            let full = other.to_string();
            const MAX_CHARS: usize = 60;
            match full.char_indices().nth(MAX_CHARS) {
                None => full,
                Some((cut, _)) => format!("{}…", &full[..cut]),
            }
        }
    }
}

impl<'de> Visitor<'de> for TyVisitor<'_> {
    type Value = Outcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON value of type {}", self.ty)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Outcome, E> {
        Ok(match self.want() {
            Ty::Bool => Ok(Value::Bool(b)),
            Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(self.want()),
            _ => self.mismatch(b),
        })
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Outcome, E> {
        Ok(self.number(Number::I(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Outcome, E> {
        Ok(self.number(Number::U(u)))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Outcome, E> {
        Ok(self.number(Number::F(x)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Outcome, E> {
        Ok(self.text(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Outcome, E> {
        Ok(match self.ty {
            Ty::Optional(_) => Ok(Value::None),
            Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(self.ty),
            _ => self.mismatch("null"),
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Outcome, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Outcome, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Outcome, A::Error> {
        let elem = match self.want() {
            Ty::List(elem) => elem,
            other => {
                drain_seq(&mut seq)?;
                return Ok(match other {
                    Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(other),
                    _ => self.mismatch("an array"),
                });
            }
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(TySeed { ty: elem })? {
            match item {
                Ok(value) => items.push(value),
                Err(e) => {
                    // Report the first bad element, but finish reading the array so a later
                    // syntax error still wins.
                    drain_seq(&mut seq)?;
                    return Ok(Err(e.in_element(items.len())));
                }
            }
        }
        Ok(Ok(Value::List(items.into())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outcome, A::Error> {
        let fields = match self.want() {
            Ty::Record(fields) => fields,
            other => {
                drain_map(&mut map)?;
                return Ok(match other {
                    Ty::Regex | Ty::NoneLit | Ty::Error => unsupported(other),
                    _ => self.mismatch("an object"),
                });
            }
        };
        let mut slots: Vec<Option<Outcome>> = (0..fields.len()).map(|_| None).collect();
        while let Some(key) = map.next_key_seed(KeySeed { fields })? {
            match key {
                Some(index) => {
                    let decoded = map.next_value_seed(TySeed {
                        ty: &fields[index].ty,
                    })?;
                    // A repeated key overrides the earlier one, as in any JSON tree.
                    slots[index] = Some(decoded);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut values = Vec::with_capacity(fields.len());
        for (field, slot) in fields.iter().zip(slots) {
            let value = match slot {
                Some(Ok(value)) => value,
                Some(Err(e)) => return Ok(Err(e.in_field(&field.name))),
                None if matches!(field.ty, Ty::Optional(_)) => Value::None,
                None => {
                    return Ok(Err(
                        DecodeError::new(missing_field(&field.ty)).in_field(&field.name)
                    ))
                }
            };
            values.push(value);
        }
        Ok(Ok(Value::Record(values.into())))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Matches an object key against the record's fields without allocating (keys without escapes
/// arrive borrowed from the line). `None` means "not in the schema, skip the value".
struct KeySeed<'s> {
    fields: &'s [Field],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.fields.iter().position(|f| &*f.name == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, ty: Ty) -> Field {
        Field {
            name: name.into(),
            ty,
        }
    }

    fn rec(fields: Vec<(&str, Ty)>) -> Ty {
        Ty::record(fields.into_iter().map(|(n, t)| field(n, t)).collect())
    }

    fn err(line: &str, schema: &Ty) -> (String, String) {
        let e = decode_row(line, schema).expect_err("expected a decode error");
        (e.path, e.message)
    }

    fn ok(line: &str, schema: &Ty) -> Value {
        decode_row(line, schema).expect("expected the row to decode")
    }

    fn fields(v: &Value) -> &[Value] {
        match v {
            Value::Record(f) => f,
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn decodes_in_schema_order_and_ignores_extra_columns() {
        let schema = rec(vec![("answer", Ty::Text), ("n", Ty::Int), ("ok", Ty::Bool)]);
        let v = ok(
            r#"{"ok": true, "extra": {"deep": [1, {"x": null}]}, "n": -7, "answer": "hi"}"#,
            &schema,
        );
        assert!(v.same(&Value::Record(
            vec![Value::text("hi"), Value::Int(-7), Value::Bool(true)].into()
        )));
    }

    #[test]
    fn optional_missing_or_null_is_none() {
        let schema = rec(vec![
            ("a", Ty::optional(Ty::Int)),
            ("b", Ty::optional(Ty::Text)),
        ]);
        let v = ok(r#"{"a": null}"#, &schema);
        assert!(fields(&v).iter().all(Value::is_none));
        let v = ok(r#"{"a": 3, "b": "x"}"#, &schema);
        assert_eq!(fields(&v)[0].as_int(), 3);
        assert_eq!(fields(&v)[1].as_text(), "x");
    }

    #[test]
    fn missing_required_and_null_for_required() {
        let schema = rec(vec![("answer", Ty::Text), ("n", Ty::Int)]);
        assert_eq!(
            err(r#"{"n": 1}"#, &schema),
            (
                "answer".into(),
                "missing required field (expected text)".into()
            )
        );
        assert_eq!(
            err(r#"{"answer": "a", "n": null}"#, &schema),
            ("n".into(), "expected int, found null".into())
        );
    }

    #[test]
    fn not_an_object_and_invalid_json() {
        let schema = rec(vec![("a", Ty::Int)]);
        assert_eq!(
            err("[1, 2]", &schema),
            (
                String::new(),
                "expected a JSON object, found an array".into()
            )
        );
        assert_eq!(
            err("\"x\"", &schema).1,
            "expected a JSON object, found string \"x\""
        );
        let (path, message) = err(r#"{"a": 1,, "b": 2}"#, &schema);
        assert_eq!(path, "");
        assert!(
            message.starts_with("invalid JSON at column 9: "),
            "{message}"
        );
        assert!(!message.contains("line 1"), "{message}");
        assert!(err(r#"{"a": 1} x"#, &schema)
            .1
            .starts_with("invalid JSON at column 10: trailing characters"));
        assert_eq!(err("   ", &schema).1, "empty line: expected a JSON object");
    }

    #[test]
    fn syntax_error_wins_over_earlier_type_error() {
        let schema = rec(vec![("a", Ty::Int)]);
        let (_, message) = err(r#"{"a": "not an int", "b": [1, }"#, &schema);
        assert!(message.starts_with("invalid JSON"), "{message}");
    }

    #[test]
    fn first_error_in_schema_order_and_last_duplicate_wins() {
        let schema = rec(vec![("a", Ty::Int), ("b", Ty::Int)]);
        // `b` is wrong first in the document, but `a` comes first in the schema.
        assert_eq!(err(r#"{"b": "x", "a": "y"}"#, &schema).0, "a");
        let v = ok(r#"{"a": "bad", "a": 1, "b": 2}"#, &schema);
        assert_eq!(fields(&v)[0].as_int(), 1);
        assert_eq!(err(r#"{"a": 1, "a": "bad", "b": 2}"#, &schema).0, "a");
    }

    #[test]
    fn ints_accept_integral_floats_only() {
        let schema = rec(vec![("n", Ty::Int)]);
        assert_eq!(fields(&ok(r#"{"n": 3.0}"#, &schema))[0].as_int(), 3);
        assert_eq!(fields(&ok(r#"{"n": -2e3}"#, &schema))[0].as_int(), -2000);
        assert_eq!(
            fields(&ok(r#"{"n": -9223372036854775808}"#, &schema))[0].as_int(),
            i64::MIN
        );
        assert_eq!(err(r#"{"n": 3.5}"#, &schema).1, "expected int, found 3.5");
        assert_eq!(
            err(r#"{"n": 1e30}"#, &schema).1,
            "integer 1e30 does not fit in 64 bits"
        );
        assert_eq!(
            err(r#"{"n": 9223372036854775808}"#, &schema).1,
            "integer 9223372036854775808 does not fit in 64 bits"
        );
        assert_eq!(
            err(r#"{"n": 9223372036854775808.0}"#, &schema).1,
            "integer 9.223372036854776e18 does not fit in 64 bits"
        );
        assert_eq!(err(r#"{"n": true}"#, &schema).1, "expected int, found true");
        assert_eq!(
            err(r#"{"n": "3"}"#, &schema).1,
            "expected int, found string \"3\""
        );
    }

    #[test]
    fn floats_accept_any_number() {
        let schema = rec(vec![("x", Ty::Float), ("y", Ty::Float), ("z", Ty::Float)]);
        let v = ok(r#"{"x": 1, "y": -2.5, "z": 18446744073709551615}"#, &schema);
        let f = fields(&v);
        assert!(matches!(f[0], Value::Float(x) if x == 1.0));
        assert!(matches!(f[1], Value::Float(x) if x == -2.5));
        assert!(matches!(f[2], Value::Float(x) if x == 18446744073709551615.0));
        assert_eq!(
            err(r#"{"x": 1, "y": [], "z": 0}"#, &schema),
            ("y".into(), "expected float, found an array".into())
        );
    }

    #[test]
    fn non_numbers_are_accepted_only_in_unread_columns() {
        let schema = rec(vec![("x", Ty::Float), ("s", Ty::optional(Ty::Text))]);
        let v = ok(
            r#"{"extra": NaN, "x": 1.5, "more": [1, -Infinity, {"k": "NaN"}], "s": "a,}"}"#,
            &schema,
        );
        assert_eq!(fields(&v)[0].as_f64(), 1.5);
        assert_eq!(fields(&v)[1].as_text(), "a,}");
        // In a column the spec reads, NaN stays what JSON says it is: not a value.
        for line in [
            r#"{"x": NaN}"#,
            r#"{"x": 1, "s": Infinity}"#,
            r#"{"x": 1, "y": NaN"#,
        ] {
            assert!(err(line, &schema).1.starts_with("invalid JSON"), "{line}");
        }
    }

    #[test]
    fn nested_paths() {
        let message = rec(vec![("role", Ty::Text), ("content", Ty::Text)]);
        let schema = rec(vec![
            ("messages", Ty::list(message)),
            ("judge", rec(vec![("side_effects", Ty::list(Ty::Int))])),
        ]);
        let good = r#"{"messages": [{"role": "user", "content": "hi"}], "judge": {"side_effects": [1, 2]}}"#;
        let v = ok(good, &schema);
        assert_eq!(fields(&v)[0].as_list().len(), 1);
        assert_eq!(
            err(
                r#"{"messages": [{"role": "u", "content": "a"}, {"role": "u", "content": 5}], "judge": {"side_effects": []}}"#,
                &schema
            ),
            (
                "messages[1].content".into(),
                "expected text, found 5".into()
            )
        );
        assert_eq!(
            err(
                r#"{"messages": [], "judge": {"side_effects": [1, 2.5]}}"#,
                &schema
            ),
            (
                "judge.side_effects[1]".into(),
                "expected int, found 2.5".into()
            )
        );
        assert_eq!(
            err(r#"{"messages": [], "judge": {}}"#, &schema),
            (
                "judge.side_effects".into(),
                "missing required field (expected list[int])".into()
            )
        );
        assert_eq!(
            err(
                r#"{"messages": [3], "judge": {"side_effects": []}}"#,
                &schema
            ),
            (
                "messages[0]".into(),
                "expected a JSON object, found 3".into()
            )
        );
    }

    #[test]
    fn nested_lists_path() {
        let schema = rec(vec![("m", Ty::list(Ty::list(Ty::Bool)))]);
        assert_eq!(
            err(r#"{"m": [[true], [false, null]]}"#, &schema).0,
            "m[1][1]"
        );
    }

    #[test]
    fn long_strings_are_truncated_in_messages() {
        let schema = rec(vec![("n", Ty::Int)]);
        let long = "x".repeat(100);
        let message = err(&format!(r#"{{"n": "{long}"}}"#), &schema).1;
        assert_eq!(
            message,
            format!("expected int, found string \"{}\"…", "x".repeat(40))
        );
        // Multi-byte characters are cut on a character boundary and control characters escaped.
        let message = err(&format!(r#"{{"n": "a\n{}"}}"#, "é".repeat(60)), &schema).1;
        assert!(
            message.starts_with("expected int, found string \"a\\n"),
            "{message}"
        );
        assert!(message.ends_with('…'));
    }

    #[test]
    fn compiler_only_types_are_errors_not_panics() {
        for ty in [Ty::Regex, Ty::NoneLit, Ty::Error] {
            let schema = rec(vec![("r", ty)]);
            for line in [
                r#"{"r": 1}"#,
                r#"{"r": []}"#,
                r#"{"r": {}}"#,
                r#"{"r": null}"#,
            ] {
                let (path, message) = err(line, &schema);
                assert_eq!(path, "r");
                assert!(
                    message.contains("cannot appear in an input schema"),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        // Skipped columns and mismatched values are consumed by serde_json's iterative skipper,
        // so arbitrarily deep nesting there is harmless (and still syntax-checked).
        let schema = rec(vec![("a", Ty::list(Ty::Int))]);
        let open = "[".repeat(100_000);
        let close = "]".repeat(100_000);
        let v = ok(&format!(r#"{{"a": [1], "x": {open}{close}}}"#), &schema);
        assert_eq!(fields(&v)[0].as_list().len(), 1);
        assert_eq!(
            err(&format!(r#"{{"a": {open}{close}}}"#), &schema),
            ("a[0]".into(), "expected int, found an array".into())
        );
        assert!(err(&format!(r#"{{"a": [1], "x": {open}}}"#), &schema)
            .1
            .starts_with("invalid JSON"));
        // Where the schema itself is deep, serde_json's recursion limit (128) applies.
        let mut deep = Ty::Int;
        for _ in 0..200 {
            deep = Ty::list(deep);
        }
        let schema = rec(vec![("a", deep)]);
        let message = err(
            &format!(r#"{{"a": {}{}}}"#, "[".repeat(200), "]".repeat(200)),
            &schema,
        )
        .1;
        assert!(message.contains("recursion limit exceeded"), "{message}");
    }

    #[test]
    fn escaped_keys_and_strings() {
        let schema = rec(vec![("a\"b", Ty::Text)]);
        let v = ok(r#"{"a\"b": "line\nbreak \u00e9"}"#, &schema);
        assert_eq!(fields(&v)[0].as_text(), "line\nbreak é");
    }

    #[test]
    fn decode_json_matches_decode_row() {
        let schema = rec(vec![
            ("n", Ty::Int),
            ("xs", Ty::list(Ty::optional(Ty::Float))),
        ]);
        let v = decode_json(&json!({"n": 4.0, "xs": [1, null, 2.5]}), &schema).unwrap();
        let f = fields(&v);
        assert_eq!(f[0].as_int(), 4);
        assert!(f[1].as_list()[1].is_none());
        let line = r#"{"n": 1, "xs": ["a"]}"#;
        let from_tree = decode_json(&serde_json::from_str(line).unwrap(), &schema).unwrap_err();
        assert_eq!(from_tree, decode_row(line, &schema).unwrap_err());
        assert_eq!(
            from_tree.to_string(),
            "field `xs[0]`: expected float, found string \"a\""
        );
        // Scalars decode against scalar types (used for `--param`).
        assert_eq!(decode_json(&json!(7), &Ty::Int).unwrap().as_int(), 7);
        assert_eq!(
            decode_json(&json!("7"), &Ty::Int).unwrap_err().to_string(),
            "expected int, found string \"7\""
        );
    }
}
