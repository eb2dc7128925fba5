//! The meaning of the language's operations, shared by every backend: the interpreter calls
//! these directly and compiled code calls them (or reproduces them bit for bit).

use std::cmp::Ordering;

use crate::Value;

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Python's `%`: the result has the sign of the divisor.
pub fn int_rem(x: i64, y: i64) -> i64 {
    if y == -1 {
        return 0;
    }
    let r = x % y;
    if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    }
}

/// IEEE-754 arithmetic; `%` follows Python (sign of the divisor), with `x % 0.0` = NaN.
pub fn float_arith(op: ArithOp, x: f64, y: f64) -> f64 {
    match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div => x / y,
        ArithOp::Rem => {
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
    }
}

/// Comparison with the language's meaning: IEEE for floats (NaN is unequal to everything,
/// itself included), code-point order for texts, element-wise for lists and records.
pub fn compare(op: CmpOp, x: &Value, y: &Value) -> bool {
    let ord = match (x, y) {
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Float(_), Value::Int(_)) | (Value::Int(_), Value::Float(_)) => {
            x.as_f64().partial_cmp(&y.as_f64())
        }
        (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::None, Value::None) => Some(Ordering::Equal),
        (Value::None, _) | (_, Value::None) => None,
        (Value::List(a), Value::List(b)) | (Value::Record(a), Value::Record(b)) => {
            let eq = a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|(p, q)| compare(CmpOp::Eq, p, q));
            return match op {
                CmpOp::Eq => eq,
                CmpOp::Ne => !eq,
                _ => false,
            };
        }
        _ => None,
    };
    match (op, ord) {
        (CmpOp::Ne, None) => true,
        (_, None) => false,
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
    }
}
