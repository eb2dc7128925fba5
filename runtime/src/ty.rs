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
