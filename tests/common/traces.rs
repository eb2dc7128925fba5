//! Traces of records `{x: float, y: float, b: bool}` held both ways a row can hold them (as the
//! arrays a decoder makes, and as a list of record values), and values written out with every
//! float's bits, for the suites that check the JIT's loops over columns against the interpreter.
//! Included with `#[path]`.

use reward::{Column, Columns, Value};

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

/// The row `{steps: xs}`: held as one array of floats, and as a list of float values.
pub fn float_rows(xs: &[f64]) -> (Value, Value) {
    let array = Value::array(Column::Float(xs.to_vec().into()));
    let values = Value::List(xs.iter().map(|&x| Value::Float(x)).collect());
    (
        Value::Record(vec![array].into()),
        Value::Record(vec![values].into()),
    )
}

/// A value written out with every float's bits (`-0.0` is not `0.0`), whatever holds its lists.
pub fn bits_of(v: &Value) -> String {
    match v {
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
