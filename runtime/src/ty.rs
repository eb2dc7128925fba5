//! Types of the language, as the runtime needs them to decode rollouts and print values.

use std::fmt;
use std::sync::Arc;

/// A type of the language. Records keep their fields in declaration order; a field is reached by
/// its index, which the compiler resolves.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    Float,
    Text,
    /// A compiled regular expression; only literals produce one.
    Regex,
    List(Arc<Ty>),
    Record(Arc<[Field]>),
    Optional(Arc<Ty>),
    /// The type of `none` before it meets a context.
    NoneLit,
    /// Stands for an expression that already produced a diagnostic; it unifies with everything so
    /// that one mistake gives one error.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Arc<str>,
    pub ty: Ty,
}

impl Ty {
    pub fn list(elem: Ty) -> Ty {
        Ty::List(Arc::new(elem))
    }

    pub fn optional(inner: Ty) -> Ty {
        match inner {
            Ty::Optional(_) | Ty::Error => inner,
            Ty::NoneLit => Ty::NoneLit,
            other => Ty::Optional(Arc::new(other)),
        }
    }

    pub fn record(fields: Vec<Field>) -> Ty {
        Ty::Record(fields.into())
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Error)
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_) | Ty::NoneLit)
    }

    /// The type without its optional marker.
    pub fn strip_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }

    /// The fields of the records of a list held as columns ([`crate::value::Columns`]): a list
    /// of records whose fields are all bools, ints or floats, or optional ones (which rows hold
    /// them is then a column of its own, [`crate::value::Columns::present`]). Decoders build
    /// such lists as columns and compiled loops read them in place; any other list is a list of
    /// values.
    pub fn columnar_fields(&self) -> Option<&[Field]> {
        match self {
            Ty::List(elem) => match &**elem {
                Ty::Record(fields)
                    if !fields.is_empty()
                        && fields.iter().all(|f| {
                            matches!(f.ty.strip_optional(), Ty::Bool | Ty::Int | Ty::Float)
                        }) =>
                {
                    Some(fields)
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn field_index(&self, name: &str) -> Option<(usize, &Ty)> {
        match self {
            Ty::Record(fields) => fields
                .iter()
                .enumerate()
                .find(|(_, f)| &*f.name == name)
                .map(|(i, f)| (i, &f.ty)),
            _ => None,
        }
    }
}

impl Ty {
    /// Checks that `value` is a value of this type, exactly as decoding builds them (a float
    /// field holds a float, never an int). On a mismatch, the path of the first wrong place
    /// (`steps[3].x`, empty for the value itself) and what is wrong.
    pub fn check_value(&self, value: &crate::Value) -> Result<(), (String, String)> {
        use crate::Value as V;
        let mismatch = || {
            Err((
                String::new(),
                format!("expected {self}, found {}", kind(value)),
            ))
        };
        match (self, value) {
            (Ty::Optional(_) | Ty::NoneLit, V::None) => Ok(()),
            (Ty::Optional(inner), v) => inner.check_value(v),
            (Ty::Bool, V::Bool(_))
            | (Ty::Int, V::Int(_))
            | (Ty::Float, V::Float(_))
            | (Ty::Text, V::Text(_)) => Ok(()),
            (Ty::List(elem), V::List(_) | V::Columns(_)) => {
                if let V::Columns(c) = value {
                    if columns_fit(c, elem) {
                        return Ok(());
                    }
                }
                for (i, item) in value.as_list().iter().enumerate() {
                    elem.check_value(item)
                        .map_err(|(path, m)| (format!("[{i}]{}", dotted(&path)), m))?;
                }
                Ok(())
            }
            (Ty::Record(fields), V::Record(items)) if fields.len() == items.len() => {
                for (f, item) in fields.iter().zip(items.iter()) {
                    f.ty.check_value(item).map_err(|(path, m)| {
                        let path = if path.is_empty() || path.starts_with('[') {
                            format!("{}{path}", f.name)
                        } else {
                            format!("{}.{path}", f.name)
                        };
                        (path, m)
                    })?;
                }
                Ok(())
            }
            _ => mismatch(),
        }
    }
}

/// Whether `columns` holds items of type `elem` (checked by kind of array, so in time
/// independent of the number of rows).
fn columns_fit(columns: &crate::value::Columns, elem: &Ty) -> bool {
    use crate::value::Column;
    let fits = |c: &Column, ty: &Ty| {
        matches!(
            (c, ty),
            (Column::Bool(_), Ty::Bool)
                | (Column::Int(_), Ty::Int)
                | (Column::Float(_), Ty::Float)
                | (Column::Text(_), Ty::Text)
        )
    };
    match (columns.items(), elem) {
        (Some(items), ty) => fits(items, ty),
        (None, Ty::Record(fields)) => {
            columns.fields().len() == fields.len()
                && columns.fields().iter().zip(fields.iter()).enumerate().all(
                    |(k, (c, f))| match &f.ty {
                        Ty::Optional(inner) => fits(c, inner),
                        ty => columns.present(k).is_none() && fits(c, ty),
                    },
                )
        }
        (None, _) => false,
    }
}

/// A nested path after an index: `[2]` then `x` reads `[2].x`.
fn dotted(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

fn kind(value: &crate::Value) -> &'static str {
    use crate::Value as V;
    match value {
        V::None => "none",
        V::Bool(_) => "a bool",
        V::Int(_) => "an int",
        V::Float(_) => "a float",
        V::Text(_) => "text",
        V::Regex(_) => "a regex",
        V::List(_) | V::Columns(_) => "a list",
        V::Record(_) => "a record",
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Text => f.write_str("text"),
            Ty::Regex => f.write_str("regex"),
            Ty::List(elem) => write!(f, "list[{elem}]"),
            Ty::Record(fields) => {
                f.write_str("{")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.ty)?;
                }
                f.write_str("}")
            }
            Ty::Optional(inner) => write!(f, "{inner}?"),
            Ty::NoneLit => f.write_str("none"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}
