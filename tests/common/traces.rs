//! Traces of records `{x: float, y: float, b: bool}` (and with optional fields) held both ways a
//! row can hold them (as the arrays a decoder makes, and as a list of record values), and values
//! written out with every float's bits, for the suites that check the JIT's loops over columns
//! against the interpreter. Included with `#[path]`.

use reward::{Column, Columns, RowError, Spec, Value};

/// The row `{steps: …}` of the trace whose step `i` is `{x: xs[i], y: ys[i], b: bs[i]}`: held
/// as columns, and as a list of records.
pub fn xyb_rows(xs: &[f64], ys: &[f64], bs: &[bool]) -> (Value, Value) {
    let n = xs.len();
    let columns = Columns::new(
        n,
        vec![
            Column::Float(xs.to_vec().into()),
            Column::Float(ys.to_vec().into()),
            Column::Bool(bs.to_vec()),
        ],
    );
    let as_columns = Value::Record(vec![Value::Columns(columns.into())].into());
    let records = (0..n)
        .map(|i| {
            Value::Record(vec![Value::Float(xs[i]), Value::Float(ys[i]), Value::Bool(bs[i])].into())
        })
        .collect();
    let as_values = Value::Record(vec![Value::List(records)].into());
    (as_columns, as_values)
}

/// The type of the steps of [`optional_rows`].
pub const OPTIONAL_STEPS: &str = "list[{x: float, b: bool?, k: int?, y: float?}]";

/// The row `{steps: …}` of the trace whose step `i` is `{x: xs[i], b: bs[i], k: ks[i], y: ys[i]}`
/// ([`OPTIONAL_STEPS`]): held as columns, with which rows hold each optional field, and as a
/// list of records. Where a row leaves a field out, its array holds a value unlike any other
/// (a loop that read it as the row's would be seen).
pub fn optional_rows(
    xs: &[f64],
    bs: &[Option<bool>],
    ks: &[Option<i64>],
    ys: &[Option<f64>],
) -> (Value, Value) {
    let n = xs.len();
    let columns = Columns::with_present(
        n,
        vec![
            Column::Float(xs.to_vec().into()),
            Column::Bool(bs.iter().map(|b| b.unwrap_or(true)).collect()),
            Column::Int(
                ks.iter()
                    .map(|k| k.unwrap_or(i64::MAX))
                    .collect::<Vec<_>>()
                    .into(),
            ),
            Column::Float(
                ys.iter()
                    .map(|y| y.unwrap_or(-1e300))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ],
        vec![
            None,
            Some(bs.iter().map(Option::is_some).collect()),
            Some(ks.iter().map(Option::is_some).collect()),
            Some(ys.iter().map(Option::is_some).collect()),
        ],
    );
    let as_columns = Value::Record(vec![Value::Columns(columns.into())].into());
    let records = (0..n)
        .map(|i| {
            Value::Record(
                vec![
                    Value::Float(xs[i]),
                    bs[i].map_or(Value::None, Value::Bool),
                    ks[i].map_or(Value::None, Value::Int),
                    ys[i].map_or(Value::None, Value::Float),
                ]
                .into(),
            )
        })
        .collect();
    let as_values = Value::Record(vec![Value::List(records)].into());
    (as_columns, as_values)
}

/// The row `{steps: xs}`: held as one array of floats, and as a list of float values.
pub fn float_rows(xs: &[f64]) -> (Value, Value) {
    let array = Value::array(Column::Float(xs.to_vec().into()));
    let values = Value::List(xs.iter().map(|&x| Value::Float(x)).collect());
    (
        Value::Record(vec![array].into()),
        Value::Record(vec![values].into()),
    )
}

/// A value written out with every float's bits (`-0.0` is not `0.0`), whatever holds its lists;
/// a NaN as `NaN` (see [`Value::same`]).
pub fn bits_of(v: &Value) -> String {
    match v {
        Value::Float(x) if x.is_nan() => "NaN".to_string(),
        Value::Float(x) => format!("f{:016x}", x.to_bits()),
        Value::List(_) | Value::Columns(_) => {
            let items: Vec<String> = v.as_list().iter().map(bits_of).collect();
            format!("[{}]", items.join(","))
        }
        Value::Record(fields) => {
            let items: Vec<String> = fields.iter().map(bits_of).collect();
            format!("{{{}}}", items.join(","))
        }
        other => format!("{other:?}"),
    }
}

/// Every term of `row` as `spec` computes it, or the row's error.
pub fn eval_row(spec: &Spec, row: &Value) -> Result<Vec<Value>, RowError> {
    spec.evaluate(&spec.row(row.clone()).expect("a row of the schema"))
}

/// Checks that the JIT (`jit`) over a row held as arrays and as values, and the interpreter
/// (`interp`) over the arrays, compute `terms` (index, name) with the bits, or the error, the
/// interpreter computes over the values, which it returns; `context` says what ran, for a
/// failure's message.
pub fn engines_agree(
    interp: &Spec,
    jit: &Spec,
    (as_arrays, as_values): (&Value, &Value),
    terms: &[(usize, String)],
    context: impl Fn() -> String,
) -> Result<Vec<Value>, RowError> {
    let want = eval_row(interp, as_values);
    for (spec, row, held) in [
        (jit, as_arrays, "arrays"),
        (jit, as_values, "values"),
        (interp, as_arrays, "arrays"),
    ] {
        let got = eval_row(spec, row);
        for (t, name) in terms {
            let show = |r: &Result<Vec<Value>, RowError>| match r {
                Ok(v) => bits_of(&v[*t]),
                Err(e) => format!("error: {}", e.message),
            };
            assert_eq!(
                show(&got),
                show(&want),
                "{} on {held}: {name}\n{}",
                spec.engine().name(),
                context()
            );
        }
    }
    want
}
