//! What a shared library needs to know about its spec besides the compiled code: the input
//! schema, the terms, the constants and regexes the code refers to by index, and where each
//! failure site is in the source. Written by the compiler as JSON into the library, read back
//! by the C API on first use.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::ty::Field;
use crate::value::Column;
use crate::{Ty, Value};

pub struct SpecMeta {
    /// [`crate::abi::fingerprint`] of the runtime the code was compiled for.
    pub runtime: u64,
    pub schema: Ty,
    pub terms: Vec<TermMeta>,
    /// Term ids in evaluation order (the order of the compiled term functions).
    pub order: Vec<usize>,
    pub score: Option<usize>,
    pub constants: Vec<Value>,
    pub regexes: Vec<(String, String)>,
    /// `file:line:col` of each failure site.
    pub sites: Vec<String>,
    /// The per-rollout memory budget (see [`crate::meter`]).
    pub max_row_bytes: u64,
}

pub struct TermMeta {
    pub name: String,
    pub in_breakdown: bool,
}

pub fn encode(meta: &SpecMeta) -> String {
    json!({
        "runtime": meta.runtime.to_string(),
        "schema": ty_json(&meta.schema),
        "terms": meta.terms.iter().map(|t| json!([t.name, t.in_breakdown])).collect::<Vec<_>>(),
        "order": meta.order,
        "score": meta.score,
        "constants": meta.constants.iter().map(value_json).collect::<Vec<_>>(),
        "regexes": meta.regexes.iter().map(|(p, f)| json!([p, f])).collect::<Vec<_>>(),
        "sites": meta.sites,
        "max_row_bytes": meta.max_row_bytes.to_string(),
    })
    .to_string()
}

pub fn decode(text: &str) -> Result<SpecMeta, String> {
    let j: Json = serde_json::from_str(text).map_err(|e| format!("corrupt spec metadata: {e}"))?;
    let bad = || "corrupt spec metadata".to_string();
    let terms = j["terms"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|t| {
            Ok(TermMeta {
                name: t[0].as_str().ok_or_else(bad)?.to_string(),
                in_breakdown: t[1].as_bool().ok_or_else(bad)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let order = j["order"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_u64().map(|x| x as usize).ok_or_else(bad))
        .collect::<Result<Vec<_>, String>>()?;
    let constants = j["constants"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| json_value(v).ok_or_else(bad))
        .collect::<Result<Vec<_>, String>>()?;
    let regexes = j["regexes"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|r| {
            Ok((
                r[0].as_str().ok_or_else(bad)?.to_string(),
                r[1].as_str().ok_or_else(bad)?.to_string(),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let sites = j["sites"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|s| s.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(SpecMeta {
        runtime: j["runtime"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?,
        schema: json_ty(&j["schema"]).ok_or_else(bad)?,
        terms,
        order,
        score: j["score"].as_u64().map(|x| x as usize),
        constants,
        regexes,
        sites,
        max_row_bytes: j["max_row_bytes"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?,
    })
}

fn ty_json(t: &Ty) -> Json {
    match t {
        Ty::Bool => json!("bool"),
        Ty::Int => json!("int"),
        Ty::Float => json!("float"),
        Ty::Text => json!("text"),
        Ty::Regex => json!("regex"),
        Ty::NoneLit => json!("none"),
        Ty::Error => json!("error"),
        Ty::List(e) => json!({ "list": ty_json(e) }),
        Ty::Optional(e) => json!({ "optional": ty_json(e) }),
        Ty::Record(fields) => {
            json!({ "record": fields.iter().map(|f| json!([&*f.name, ty_json(&f.ty)])).collect::<Vec<_>>() })
        }
    }
}

fn json_ty(j: &Json) -> Option<Ty> {
    Some(match j {
        Json::String(s) => match s.as_str() {
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "float" => Ty::Float,
            "text" => Ty::Text,
            "regex" => Ty::Regex,
            "none" => Ty::NoneLit,
            _ => Ty::Error,
        },
        Json::Object(m) => {
            if let Some(e) = m.get("list") {
                Ty::list(json_ty(e)?)
            } else if let Some(e) = m.get("optional") {
                Ty::optional(json_ty(e)?)
            } else {
                let fields = m.get("record")?.as_array()?;
                Ty::record(
                    fields
                        .iter()
                        .map(|f| {
                            Some(Field {
                                name: Arc::from(f[0].as_str()?),
                                ty: json_ty(&f[1])?,
                            })
                        })
                        .collect::<Option<Vec<_>>>()?,
                )
            }
        }
        _ => return None,
    })
}

/// Values with their kind tagged, floats by their bits (exact, and NaN survives). A list of
/// ints or floats held as one array stays one (compiled code reads such constants in place:
/// a machine's transition table).
fn value_json(v: &Value) -> Json {
    match v.scalar_items() {
        Some(Column::Int(items)) => return json!({ "ai": items.iter().collect::<Vec<_>>() }),
        Some(Column::Float(items)) => {
            return json!({ "af": items.iter().map(|x| x.to_bits()).collect::<Vec<_>>() })
        }
        _ => {}
    }
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => json!({ "b": b }),
        Value::Int(i) => json!({ "i": i }),
        Value::Float(x) => json!({ "f": x.to_bits() }),
        Value::Text(s) => json!({ "t": &**s }),
        Value::Regex(r) => json!({ "re": r }),
        Value::List(_) | Value::Columns(_) => {
            json!({ "l": v.as_list().iter().map(value_json).collect::<Vec<_>>() })
        }
        Value::Record(items) => json!({ "r": items.iter().map(value_json).collect::<Vec<_>>() }),
    }
}

fn json_value(j: &Json) -> Option<Value> {
    if j.is_null() {
        return Some(Value::None);
    }
    let (tag, v) = j.as_object()?.iter().next()?;
    Some(match tag.as_str() {
        "b" => Value::Bool(v.as_bool()?),
        "i" => Value::Int(v.as_i64()?),
        "f" => Value::Float(f64::from_bits(v.as_u64()?)),
        "t" => Value::text(v.as_str()?),
        "re" => Value::Regex(u32::try_from(v.as_u64()?).ok()?),
        "ai" => Value::array(Column::Int(
            v.as_array()?
                .iter()
                .map(Json::as_i64)
                .collect::<Option<Vec<_>>>()?
                .into(),
        )),
        "af" => Value::array(Column::Float(
            v.as_array()?
                .iter()
                .map(|x| x.as_u64().map(f64::from_bits))
                .collect::<Option<Vec<_>>>()?
                .into(),
        )),
        "l" => Value::List(
            v.as_array()?
                .iter()
                .map(json_value)
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        "r" => Value::Record(
            v.as_array()?
                .iter()
                .map(json_value)
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let meta = SpecMeta {
            runtime: 42,
            schema: Ty::record(vec![
                Field {
                    name: "a".into(),
                    ty: Ty::optional(Ty::list(Ty::Float)),
                },
                Field {
                    name: "b".into(),
                    ty: Ty::record(vec![Field {
                        name: "c".into(),
                        ty: Ty::Text,
                    }]),
                },
            ]),
            terms: vec![TermMeta {
                name: "x".into(),
                in_breakdown: true,
            }],
            order: vec![0],
            score: Some(0),
            constants: vec![
                Value::Float(f64::NAN),
                Value::Float(-0.0),
                Value::Int(i64::MIN),
                Value::text("é\n"),
                Value::List(vec![Value::None, Value::Bool(true), Value::Regex(3)].into()),
                Value::array(Column::Int(vec![-1, 0, i64::MAX].into())),
                Value::array(Column::Float(vec![-0.0, f64::INFINITY].into())),
            ],
            regexes: vec![("a+".into(), "i".into())],
            sites: vec!["f.reward:1:2".into()],
            max_row_bytes: u64::MAX,
        };
        let back = decode(&encode(&meta)).unwrap();
        assert_eq!(back.max_row_bytes, u64::MAX);
        assert_eq!(back.schema, meta.schema);
        assert_eq!(back.constants.len(), meta.constants.len());
        for (a, b) in back.constants.iter().zip(&meta.constants) {
            assert!(a.same(b), "{a:?} != {b:?}");
        }
        assert!(matches!(back.constants[1], Value::Float(x) if x.is_sign_negative()));
        // Arrays stay arrays (compiled code reads them in place), to the bit.
        assert!(matches!(
            back.constants[5].scalar_items(),
            Some(Column::Int(_))
        ));
        match back.constants[6].scalar_items() {
            Some(Column::Float(x)) => assert!(x[0].is_sign_negative() && x[1].is_infinite()),
            other => panic!("{other:?}"),
        }
        assert_eq!(back.regexes, meta.regexes);
        assert_eq!(back.sites, meta.sites);
        assert_eq!(back.score, Some(0));
    }
}
