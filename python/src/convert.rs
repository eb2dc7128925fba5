//! Python objects to rows: each value is read against the spec's input type, with the same
//! rules as decoding a JSON line (`reward score`), so the same data scores the same.
//!
//! - `bool` takes `True`/`False` only; `int` takes Python ints (not bools) and integral floats
//!   up to 2^53 in magnitude, as JSON `3.0` does; `float` takes any real number;
//! - `text` takes `str`; lists take lists, tuples and arrays (anything with `tolist()`);
//!   records take mappings (extra keys are ignored);
//! - an optional takes `None`, and a missing optional field is `None`.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use reward::{Ty, Value};

pub use reward_arrow::Mismatch;

type Result<T> = std::result::Result<T, Mismatch>;

/// Largest magnitude of an integral float read as an int (as JSON decoding does).
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Reads one value of type `ty`.
pub fn value(obj: &Bound<'_, PyAny>, ty: &Ty) -> Result<Value> {
    match ty {
        Ty::Optional(inner) => {
            if obj.is_none() {
                Ok(Value::None)
            } else {
                value(obj, inner)
            }
        }
        Ty::NoneLit => {
            if obj.is_none() {
                Ok(Value::None)
            } else {
                Err(mismatch(obj, ty))
            }
        }
        Ty::Bool => match obj.cast::<PyBool>() {
            Ok(b) => Ok(Value::Bool(b.is_true())),
            Err(_) if is_numpy_bool(obj) => obj
                .is_truthy()
                .map(Value::Bool)
                .map_err(|_| mismatch(obj, ty)),
            Err(_) => Err(mismatch(obj, ty)),
        },
        Ty::Int => int(obj, ty),
        Ty::Float => float(obj, ty),
        Ty::Text => match obj.cast::<PyString>() {
            Ok(s) => s
                .to_str()
                .map(Value::text)
                .map_err(|_| Mismatch::new("text that is not valid Unicode".into())),
            Err(_) => Err(mismatch(obj, ty)),
        },
        Ty::List(elem) => list(obj, elem, ty),
        Ty::Record(fields) => {
            let Ok(map) = obj.cast::<PyMapping>() else {
                return Err(mismatch(obj, ty));
            };
            let mut items = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                items.push(field(map, &f.name, &f.ty)?);
            }
            Ok(Value::Record(items.into()))
        }
        Ty::Regex | Ty::Error => Err(Mismatch::new(format!(
            "a column of type {ty} cannot be read"
        ))),
    }
}

/// A record field: missing is `None` for an optional, an error otherwise.
fn field(map: &Bound<'_, PyMapping>, name: &str, ty: &Ty) -> Result<Value> {
    let got = match map.cast::<PyDict>() {
        Ok(dict) => dict.get_item(name).ok().flatten(),
        Err(_) => map.get_item(name).ok(),
    };
    match got {
        Some(v) => value(&v, ty).map_err(|m| m.in_field(name)),
        None if ty.is_optional() => Ok(Value::None),
        None => Err(Mismatch::missing(ty).in_field(name)),
    }
}

/// `numpy.bool_` (what numpy arrays of booleans hold), which is not a Python `bool`.
fn is_numpy_bool(obj: &Bound<'_, PyAny>) -> bool {
    let t = obj.get_type();
    let module = t.module().map(|m| m.to_string()).unwrap_or_default();
    let name = t.name().map(|n| n.to_string()).unwrap_or_default();
    module == "numpy" && (name == "bool_" || name == "bool")
}

fn int(obj: &Bound<'_, PyAny>, ty: &Ty) -> Result<Value> {
    if obj.is_instance_of::<PyBool>() || is_numpy_bool(obj) {
        return Err(mismatch(obj, ty));
    }
    if obj.is_instance_of::<PyInt>() || obj.hasattr("__index__").unwrap_or(false) {
        return obj.extract::<i64>().map(Value::Int).map_err(|_| {
            Mismatch::new(format!(
                "expected int, found {}: outside the 64-bit range",
                short_repr(obj)
            ))
        });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let x = f.value();
        if x.fract() == 0.0 && x.abs() <= MAX_EXACT_INT {
            return Ok(Value::Int(x as i64));
        }
        return Err(Mismatch::new(format!(
            "expected int, found {}",
            short_repr(obj)
        )));
    }
    Err(mismatch(obj, ty))
}

fn float(obj: &Bound<'_, PyAny>, ty: &Ty) -> Result<Value> {
    if obj.is_instance_of::<PyBool>() || is_numpy_bool(obj) {
        return Err(mismatch(obj, ty));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if obj.is_instance_of::<PyInt>() {
        // As a JSON integer read into a float column: the nearest float.
        return match obj.extract::<i64>() {
            Ok(i) => Ok(Value::Float(i as f64)),
            Err(_) => obj
                .extract::<f64>()
                .map(Value::Float)
                .map_err(|_| mismatch(obj, ty)),
        };
    }
    // numpy scalars and other real numbers.
    if obj.hasattr("__float__").unwrap_or(false) && !obj.is_instance_of::<PyString>() {
        return obj
            .extract::<f64>()
            .map(Value::Float)
            .map_err(|_| mismatch(obj, ty));
    }
    Err(mismatch(obj, ty))
}

fn list(obj: &Bound<'_, PyAny>, elem: &Ty, ty: &Ty) -> Result<Value> {
    let collect = |items: &mut dyn Iterator<Item = Bound<'_, PyAny>>| -> Result<Value> {
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            out.push(value(&item, elem).map_err(|m| m.in_element(i))?);
        }
        Ok(Value::List(Arc::from(out)))
    };
    if let Ok(l) = obj.cast::<PyList>() {
        return collect(&mut l.iter());
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return collect(&mut t.iter());
    }
    // numpy arrays and pyarrow scalars of list type.
    if !obj.is_instance_of::<PyString>() && obj.hasattr("tolist").unwrap_or(false) {
        if let Ok(as_list) = obj.call_method0("tolist") {
            if let Ok(l) = as_list.cast::<PyList>() {
                return collect(&mut l.iter());
            }
        }
    }
    Err(mismatch(obj, ty))
}

fn mismatch(obj: &Bound<'_, PyAny>, ty: &Ty) -> Mismatch {
    let found = if obj.is_none() {
        "None".to_string()
    } else if obj.is_instance_of::<PyString>() {
        format!("str {}", short_repr(obj))
    } else {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "object".into());
        format!("{type_name} {}", short_repr(obj))
    };
    Mismatch::new(format!("expected {ty}, found {found}"))
}

/// `repr(obj)`, cut to 40 characters.
fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let r = obj
        .repr()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "<unprintable>".into());
    if r.chars().count() > 40 {
        let head: String = r.chars().take(40).collect();
        format!("{head}…")
    } else {
        r
    }
}
