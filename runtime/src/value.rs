//! Run-time values. Cheap to clone: text, lists and records are reference-counted.

use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The absent value of an optional (`none`, a JSON `null` or a missing optional column).
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Arc<str>),
    /// Index into the program's table of compiled regular expressions.
    Regex(u32),
    List(Arc<[Value]>),
    /// Fields in the order of the record type.
    Record(Arc<[Value]>),
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    /// A text value like [`Value::text`], except that a text of at most 8 bytes is shared with
    /// an equal one made recently on this thread: the labels, letters and tags of a trace then
    /// cost no allocation each (decoders of rows use this).
    pub fn shared_text(s: &str) -> Value {
        if s.len() > 8 {
            return Value::text(s);
        }
        SHORT_TEXTS
            .try_with(|cache| match cache.try_borrow_mut() {
                Ok(mut cache) => cache.get(s),
                Err(_) => Value::text(s),
            })
            .unwrap_or_else(|_| Value::text(s))
    }

    pub fn as_bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            other => unreachable_type("bool", other),
        }
    }

    pub fn as_int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            other => unreachable_type("int", other),
        }
    }

    /// A number where a float is expected: ints and bools convert (bool as 0/1).
    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Float(x) => *x,
            Value::Int(i) => *i as f64,
            Value::Bool(b) => f64::from(u8::from(*b)),
            other => unreachable_type("number", other),
        }
    }

    pub fn as_text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            other => unreachable_type("text", other),
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            other => unreachable_type("list", other),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// Structural equality with the language's meaning: NaN equals NaN (so that results can be
    /// compared bit for bit across backends) and ints never equal floats (the checker unifies
    /// numeric types before comparing).
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Regex(a), Value::Regex(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Record(a), Value::Record(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.same(y))
            }
            _ => false,
        }
    }
}

thread_local! {
    static SHORT_TEXTS: std::cell::RefCell<ShortTexts> = std::cell::RefCell::new(ShortTexts::default());
}

/// Texts of at most 8 bytes made recently, in a direct-mapped cache keyed by the bytes
/// themselves.
struct ShortTexts {
    slots: Vec<Option<(u64, u8, Arc<str>)>>,
}

impl Default for ShortTexts {
    fn default() -> Self {
        ShortTexts {
            slots: vec![None; 256],
        }
    }
}

impl ShortTexts {
    /// `s` has at most 8 bytes.
    fn get(&mut self, s: &str) -> Value {
        let mut word = [0u8; 8];
        word[..s.len()].copy_from_slice(s.as_bytes());
        let key = u64::from_le_bytes(word);
        let len = s.len() as u8;
        let hash = (key ^ u64::from(len)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
        let slot = &mut self.slots[hash as usize];
        match slot {
            Some((k, l, text)) if *k == key && *l == len => Value::Text(text.clone()),
            _ => {
                let text: Arc<str> = Arc::from(s);
                *slot = Some((key, len, text.clone()));
                Value::Text(text)
            }
        }
    }
}

/// Largest text a rollout may build, in bytes (input texts may be larger). A spec that doubles
/// a text in a loop of calls fails the row with a clear error long before memory runs out.
pub const MAX_BUILT_TEXT_BYTES: usize = 64 << 20;

/// Fails when a text of `bytes` bytes would exceed [`MAX_BUILT_TEXT_BYTES`]; called before
/// the text is built, so the allocation never happens.
pub fn check_built_text(bytes: usize) -> Result<(), String> {
    if bytes > MAX_BUILT_TEXT_BYTES {
        return Err(format!(
            "the text would be {:.1} MiB, more than the {} MiB a rollout may build",
            bytes as f64 / 1_048_576.0,
            MAX_BUILT_TEXT_BYTES >> 20
        ));
    }
    Ok(())
}

/// The checker guarantees types; reaching this is a compiler bug, reported loudly.
#[cold]
fn unreachable_type(expected: &str, got: &Value) -> ! {
    panic!("internal error: expected a {expected} value, found {got:?}")
}

/// Formats a float the way outputs do: shortest round-trip form, with `NaN`, `inf`, `-inf`.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        // Shortest round-trip form, as in the JSON output: 0.1, 3.0, 1e300.
        serde_json::Number::from_f64(x).map_or_else(|| format!("{x}"), |n| n.to_string())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Regex(i) => write!(f, "<regex #{i}>"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Record(fields) => {
                f.write_str("{")?;
                for (i, item) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_shared_and_distinct() {
        let (a1, a2) = (Value::shared_text("a"), Value::shared_text("a"));
        let (Value::Text(x), Value::Text(y)) = (&a1, &a2) else {
            panic!("texts")
        };
        assert!(Arc::ptr_eq(x, y));
        for s in ["", "a", "b", "ab", "a\0", "abcdefgh", "abcdefghi", "é"] {
            assert_eq!(Value::shared_text(s).as_text(), s);
        }
    }
}
