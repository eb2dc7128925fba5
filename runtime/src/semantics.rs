//! The meaning of the language's operations, shared by every backend: the interpreter calls
//! these directly and compiled code calls them (or reproduces them bit for bit).

use std::cmp::Ordering;

use crate::value::format_float;
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
        (Value::List(_) | Value::Columns(_), Value::List(_) | Value::Columns(_))
        | (Value::Record(_), Value::Record(_)) => {
            let (a, b) = match (x, y) {
                (Value::Record(a), Value::Record(b)) => (&**a, &**b),
                _ => (x.as_list(), y.as_list()),
            };
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

/// Minimum with the language's meaning: NaN if either is NaN, and -0.0 below +0.0
/// (the semantics of Cranelift's `fmin`, which the JIT uses).
pub fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// Maximum: NaN if either is NaN, and +0.0 above -0.0.
pub fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Integer arithmetic: overflow and division by zero are row errors, never wrap-around.
pub fn int_arith(op: ArithOp, x: i64, y: i64) -> Result<i64, String> {
    let sym = match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Rem => "%",
    };
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div => unreachable!("`/` is float division"),
        ArithOp::Rem => {
            if y == 0 {
                return Err(format!("integer modulo by zero: {x} % 0"));
            }
            Some(int_rem(x, y))
        }
    };
    r.ok_or_else(|| format!("integer overflow: {x} {sym} {y}"))
}

/// `-x` on an int.
pub fn neg_int(x: i64) -> Result<i64, String> {
    x.checked_neg()
        .ok_or_else(|| format!("integer overflow: -({x})"))
}

/// `xs[i]`: negative indices count from the end; out of range is a row error.
pub fn list_index(items: &[Value], i: i64) -> Result<&Value, String> {
    let n = items.len() as i64;
    let at = if i < 0 { i.checked_add(n) } else { Some(i) };
    match at {
        Some(k) if (0..n).contains(&k) => Ok(&items[k as usize]),
        _ => Err(format!(
            "index {i} is out of range for a list of {n} element{}",
            if n == 1 { "" } else { "s" }
        )),
    }
}

/// A rubric criterion's value must lie in [0, 1].
pub fn check_unit(criterion: &str, x: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!(
            "criterion {criterion:?} must be between 0 and 1, but is {}",
            format_float(x)
        ))
    }
}

/// Loop iterations plus user-function calls allowed per rollout. Builtins are bounded by their
/// input; only nested comprehensions (say over `range`) could otherwise run for hours. Spending
/// the budget makes the row an error, never a hang.
pub const OPERATION_BUDGET: u64 = 100_000_000;

/// `a + b` on texts or lists (the one meaning for every engine).
pub fn concat(a: &Value, b: &Value) -> Result<Value, String> {
    let v = concat_values(a, b)?;
    crate::meter::check()?;
    Ok(v)
}

fn concat_values(a: &Value, b: &Value) -> Result<Value, String> {
    use crate::value::check_built_text;
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => {
            check_built_text(x.len().saturating_add(y.len()))?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::text(&s))
        }
        (x @ (Value::List(_) | Value::Columns(_)), y @ (Value::List(_) | Value::Columns(_))) => {
            let (x, y) = (x.as_list(), y.as_list());
            check_built_text(x.len().saturating_add(y.len()).saturating_mul(16))?;
            Ok(Value::List(x.iter().chain(y.iter()).cloned().collect()))
        }
        (x, y) => Err(format!("internal error: concat of {x} and {y}")),
    }
}

pub fn budget_error() -> String {
    format!("this rollout needs more than {OPERATION_BUDGET} loop iterations and function calls (the per-rollout budget)")
}

/// Folding steps of `sum`/`product` over ints.
pub fn int_sum(acc: i64, x: i64) -> Result<i64, String> {
    acc.checked_add(x)
        .ok_or_else(|| "integer overflow in sum".to_string())
}

pub fn int_product(acc: i64, x: i64) -> Result<i64, String> {
    acc.checked_mul(x)
        .ok_or_else(|| "integer overflow in product".to_string())
}
