//! The reference interpreter: the meaning of the language. Every other backend must compute
//! exactly what this computes (floats compared bit for bit, NaN equal to NaN).

use std::cell::Cell;

use reward_runtime::{Ty, Value};

use crate::builtins::{call_builtin, EvalContext};
use crate::diag::Span;
use crate::ir::*;
use reward_runtime::semantics::{
    budget_error, check_unit, compare, concat, float_arith, fmax, fmin, int_arith, int_product,
    int_sum, list_index, neg_int, OPERATION_BUDGET,
};

/// An error while scoring one rollout. The row gets an error record; other rows are unaffected.
#[derive(Debug, Clone)]
pub struct RuntimeError {
    pub message: String,
    pub span: Span,
    /// The term being computed, if any.
    pub term: Option<TermId>,
}

type Result<T> = std::result::Result<T, RuntimeError>;

/// Compiled regexes, borrowed from the program.
pub struct Interpreter<'p> {
    program: &'p Program,
    regexes: Vec<reward_runtime::native::pattern::Pattern>,
}

impl<'p> Interpreter<'p> {
    pub fn new(program: &'p Program) -> Interpreter<'p> {
        Interpreter {
            program,
            regexes: program.regexes.iter().map(|r| r.regex.clone()).collect(),
        }
    }

    /// Computes every term for one rollout (a record of the input type). Values are indexed by
    /// term id.
    pub fn eval_row(&self, input: &Value) -> Result<Vec<Value>> {
        let mut terms = vec![Value::None; self.program.terms.len()];
        self.eval_terms(input, &mut terms, &self.program.eval_order)?;
        Ok(terms)
    }

    /// Computes the terms of `order`, in that order, into `terms`.
    pub(crate) fn eval_terms(
        &self,
        input: &Value,
        terms: &mut [Value],
        order: &[TermId],
    ) -> Result<()> {
        let budget = Cell::new(OPERATION_BUDGET);
        let _row = reward_runtime::meter::begin_row(self.program.max_row_bytes);
        for &id in order {
            let term = &self.program.terms[id];
            let mut frame = Frame {
                input,
                terms,
                locals: vec![Value::None; term.body.locals as usize],
                budget: &budget,
            };
            let v = self.eval(&term.body.expr, &mut frame).map_err(|mut e| {
                e.term.get_or_insert(id);
                e
            })?;
            terms[id] = v;
        }
        Ok(())
    }

    /// Computes the group stage's terms for one row (see [`crate::backend::Backend`]).
    pub fn eval_group_terms(&self, input: &Value, terms: &mut [Value]) -> Result<()> {
        match &self.program.group {
            Some(group) => self.eval_terms(input, terms, &group.order),
            None => Ok(()),
        }
    }

    /// Evaluates a body against computed term values (test expectations, test inputs).
    pub fn eval_body(&self, body: &Body, input: &Value, terms: &[Value]) -> Result<Value> {
        let budget = Cell::new(OPERATION_BUDGET);
        let mut frame = Frame {
            input,
            terms,
            locals: vec![Value::None; body.locals as usize],
            budget: &budget,
        };
        self.eval(&body.expr, &mut frame)
    }

    /// Evaluates an expression that reads only local `local` (bound to `value`), with the
    /// caller's local slots: no allocation of its own, for per-step evaluation in monitors.
    pub fn eval_with_local(
        &self,
        e: &Expr,
        local: LocalId,
        value: &Value,
        locals: &mut Vec<Value>,
    ) -> Result<Value> {
        let budget = Cell::new(OPERATION_BUDGET);
        let none = Value::None;
        if locals.len() <= local as usize {
            locals.resize(local as usize + 1, Value::None);
        }
        locals[local as usize] = value.clone();
        let mut frame = Frame {
            input: &none,
            terms: &[],
            locals: std::mem::take(locals),
            budget: &budget,
        };
        let result = self.eval(e, &mut frame);
        *locals = std::mem::take(&mut frame.locals);
        result
    }

    fn cx(&self) -> EvalContext<'_> {
        EvalContext {
            regexes: &self.regexes,
        }
    }

    fn eval(&self, e: &Expr, f: &mut Frame) -> Result<Value> {
        let fail = |message: String| RuntimeError {
            message,
            span: e.span,
            term: None,
        };
        Ok(match &e.kind {
            ExprKind::Const(v) => v.clone(),
            ExprKind::Input => f.input.clone(),
            ExprKind::Term(id) => f.terms[*id].clone(),
            ExprKind::Local(id) => f.locals[*id as usize].clone(),
            ExprKind::Field(r, idx) => match self.eval(r, f)? {
                Value::Record(fields) => fields[*idx].clone(),
                Value::None => Value::None,
                other => return Err(fail(format!("internal error: field of {other}"))),
            },
            ExprKind::Index(l, i) => {
                let list = self.eval(l, f)?;
                let i = self.eval(i, f)?.as_int();
                list_index(list.as_list(), i).map_err(fail)?.clone()
            }
            ExprKind::Not(a) => Value::Bool(!self.eval(a, f)?.as_bool()),
            ExprKind::Neg(NumKind::Int, a) => {
                let x = self.eval(a, f)?.as_int();
                Value::Int(neg_int(x).map_err(fail)?)
            }
            ExprKind::Neg(NumKind::Float, a) => Value::Float(-self.eval(a, f)?.as_f64()),
            ExprKind::Arith(op, NumKind::Int, a, b) => {
                let x = self.eval(a, f)?.as_int();
                let y = self.eval(b, f)?.as_int();
                Value::Int(int_arith(*op, x, y).map_err(fail)?)
            }
            ExprKind::Arith(op, NumKind::Float, a, b) => {
                let x = self.eval(a, f)?.as_f64();
                let y = self.eval(b, f)?.as_f64();
                Value::Float(float_arith(*op, x, y))
            }
            ExprKind::Concat(a, b) => {
                let (x, y) = (self.eval(a, f)?, self.eval(b, f)?);
                concat(&x, &y).map_err(fail)?
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.eval(a, f)?;
                let y = self.eval(b, f)?;
                Value::Bool(compare(*op, &x, &y))
            }
            ExprKind::And(a, b) => {
                Value::Bool(self.eval(a, f)?.as_bool() && self.eval(b, f)?.as_bool())
            }
            ExprKind::Or(a, b) => {
                Value::Bool(self.eval(a, f)?.as_bool() || self.eval(b, f)?.as_bool())
            }
            ExprKind::If(c, a, b) => {
                if self.eval(c, f)?.as_bool() {
                    self.eval(a, f)?
                } else {
                    self.eval(b, f)?
                }
            }
            ExprKind::Coalesce(a, b) => match self.eval(a, f)? {
                Value::None => self.eval(b, f)?,
                v => v,
            },
            ExprKind::Some(a) => self.eval(a, f)?,
            ExprKind::ToFloat(a) => match self.eval(a, f)? {
                Value::None => Value::None,
                v => Value::Float(v.as_f64()),
            },
            ExprKind::TextContains { haystack, needle } => {
                let h = self.eval(haystack, f)?;
                let n = self.eval(needle, f)?;
                Value::Bool(reward_runtime::native::search::contains(
                    h.as_text(),
                    n.as_text(),
                ))
            }
            ExprKind::ListContains { list, item } => {
                let l = self.eval(list, f)?;
                let x = self.eval(item, f)?;
                Value::Bool(l.as_list().iter().any(|v| compare(CmpOp::Eq, v, &x)))
            }
            ExprKind::Match(t, re) => {
                let t = self.eval(t, f)?;
                Value::Bool(self.regexes[*re as usize].is_match(t.as_text()))
            }
            // Builtins take at most a few arguments: evaluate them on the stack, so that a
            // call does not allocate (online monitors step without allocating).
            ExprKind::Call(id, args) if args.len() <= 4 => {
                let mut vals: [Value; 4] = Default::default();
                for (slot, a) in vals.iter_mut().zip(args) {
                    *slot = self.eval(a, f)?;
                }
                call_builtin(*id, &vals[..args.len()], &self.cx()).map_err(fail)?
            }
            ExprKind::Call(id, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, f)?);
                }
                call_builtin(*id, &vals, &self.cx()).map_err(fail)?
            }
            ExprKind::CallFn(id, args) => {
                f.charge().map_err(fail)?;
                let func = &self.program.functions[*id];
                let mut locals = vec![Value::None; func.body.locals as usize];
                for (slot, a) in locals.iter_mut().zip(args) {
                    *slot = self.eval(a, f)?;
                }
                let mut callee = Frame {
                    input: f.input,
                    terms: f.terms,
                    locals,
                    budget: f.budget,
                };
                self.eval(&func.body.expr, &mut callee)?
            }
            ExprKind::Aggregate(agg) => self.aggregate(agg, e, f)?,
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, f)?);
                }
                Value::List(out.into())
            }
            ExprKind::Record(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, f)?);
                }
                Value::Record(out.into())
            }
            ExprKind::CheckUnit { value, criterion } => {
                let x = self.eval(value, f)?.as_f64();
                Value::Float(check_unit(criterion, x).map_err(fail)?)
            }
            ExprKind::Ltl(l) => self.eval(&l.reference(e.span), f)?,
            ExprKind::Machine(m) => self.eval(&m.reference(e.span), f)?,
        })
    }

    fn aggregate(&self, agg: &Aggregate, e: &Expr, f: &mut Frame) -> Result<Value> {
        let fail = |message: String| RuntimeError {
            message,
            span: e.span,
            term: None,
        };
        let list = self.eval(&agg.iter, f)?;
        let items = list.as_list();
        // Iterate the elements that pass the filter, mapped through the body.
        let mut acc = AggState::new(agg.kind, &agg.elem);
        for (index, item) in items.iter().enumerate() {
            f.charge().map_err(fail)?;
            f.locals[agg.var as usize] = item.clone();
            if let Some(filter) = &agg.filter {
                if !self.eval(filter, f)?.as_bool() {
                    continue;
                }
            }
            let v = match &agg.body {
                Some(b) => self.eval(b, f)?,
                None => item.clone(),
            };
            if acc.push(index, v).map_err(fail)? {
                break;
            }
        }
        Ok(acc.finish())
    }
}

struct Frame<'a> {
    input: &'a Value,
    terms: &'a [Value],
    locals: Vec<Value>,
    /// Loop iterations and function calls left for this rollout.
    budget: &'a Cell<u64>,
}

impl Frame<'_> {
    /// Spends one unit of the operation budget (a loop iteration or a function call), and
    /// checks the memory budget there.
    fn charge(&self) -> std::result::Result<(), String> {
        let left = self.budget.get();
        if left == 0 {
            return Err(budget_error());
        }
        self.budget.set(left - 1);
        reward_runtime::meter::check()
    }
}

/// The running state of an aggregate. `push` returns true when the result is decided
/// (short-circuit of `any`/`all`).
enum AggState {
    SumInt(i64),
    SumFloat(f64),
    ProdInt(i64),
    ProdFloat(f64),
    Mean(f64, u64),
    MinMax {
        max: bool,
        best: Option<Value>,
    },
    Argmax {
        best: Option<(f64, usize)>,
        int_best: Option<(i64, usize)>,
    },
    Count(i64, bool),
    Any(bool),
    All(bool),
    Collect(Vec<Value>),
}

impl AggState {
    fn new(kind: AggKind, elem: &Ty) -> AggState {
        let int = *elem == Ty::Int;
        match kind {
            AggKind::Sum if int => AggState::SumInt(0),
            AggKind::Sum => AggState::SumFloat(0.0),
            AggKind::Product if int => AggState::ProdInt(1),
            AggKind::Product => AggState::ProdFloat(1.0),
            AggKind::Mean => AggState::Mean(0.0, 0),
            AggKind::Min => AggState::MinMax {
                max: false,
                best: None,
            },
            AggKind::Max => AggState::MinMax {
                max: true,
                best: None,
            },
            AggKind::Argmax => AggState::Argmax {
                best: None,
                int_best: None,
            },
            AggKind::Count => AggState::Count(0, *elem == Ty::Bool),
            AggKind::Any => AggState::Any(false),
            AggKind::All => AggState::All(true),
            AggKind::Collect => AggState::Collect(Vec::new()),
        }
    }

    fn push(&mut self, index: usize, v: Value) -> std::result::Result<bool, String> {
        match self {
            AggState::SumInt(s) => *s = int_sum(*s, v.as_int())?,
            AggState::SumFloat(s) => *s += v.as_f64(),
            AggState::ProdInt(p) => *p = int_product(*p, v.as_int())?,
            AggState::ProdFloat(p) => *p *= v.as_f64(),
            AggState::Mean(s, n) => {
                *s += v.as_f64();
                *n += 1;
            }
            AggState::MinMax { max, best } => {
                *best = Some(match best.take() {
                    None => v,
                    Some(b) => min_max(*max, b, v),
                });
            }
            AggState::Argmax { best, int_best } => match v {
                Value::Int(x) => {
                    if int_best.is_none_or(|(b, _)| x > b) {
                        *int_best = Some((x, index));
                    }
                }
                other => {
                    let x = other.as_f64();
                    if !x.is_nan() && best.is_none_or(|(b, _)| x > b) {
                        *best = Some((x, index));
                    }
                }
            },
            AggState::Count(c, bools) => {
                if !*bools || v.as_bool() {
                    *c += 1;
                }
            }
            AggState::Collect(items) => items.push(v),
            AggState::Any(a) => {
                if v.as_bool() {
                    *a = true;
                    return Ok(true);
                }
            }
            AggState::All(a) => {
                if !v.as_bool() {
                    *a = false;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn finish(self) -> Value {
        match self {
            AggState::SumInt(s) | AggState::ProdInt(s) => Value::Int(s),
            AggState::SumFloat(s) | AggState::ProdFloat(s) => Value::Float(s),
            AggState::Mean(_, 0) => Value::None,
            AggState::Mean(s, n) => Value::Float(s / n as f64),
            AggState::MinMax { best, .. } => best.unwrap_or(Value::None),
            AggState::Argmax { best, int_best } => match (best, int_best) {
                (Some((_, i)), _) | (None, Some((_, i))) => Value::Int(i as i64),
                (None, None) => Value::None,
            },
            AggState::Count(c, _) => Value::Int(c),
            AggState::Any(a) | AggState::All(a) => Value::Bool(a),
            AggState::Collect(items) => Value::List(items.into()),
        }
    }
}

fn min_max(max: bool, a: Value, b: Value) -> Value {
    match (&a, &b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(if max { *x.max(y) } else { *x.min(y) }),
        (Value::Text(x), Value::Text(y)) => {
            let keep_a = if max { x >= y } else { x <= y };
            if keep_a {
                a
            } else {
                b
            }
        }
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            Value::Float(if max { fmax(x, y) } else { fmin(x, y) })
        }
    }
}

/// Evaluates a constant expression (a param default): no rollout, no terms, no user functions.
pub fn eval_const(
    e: &Expr,
    regexes: &[reward_runtime::native::pattern::Pattern],
) -> std::result::Result<Value, String> {
    fn reads_context(e: &Expr) -> Option<&'static str> {
        let mut found = None;
        visit(e, &mut |x| match x.kind {
            ExprKind::Input | ExprKind::Term(_) => found = Some("the rollout or a term"),
            ExprKind::CallFn(..) => found = Some("a user function"),
            _ => {}
        });
        found
    }
    if let Some(what) = reads_context(e) {
        return Err(format!("it uses {what}"));
    }
    let program = Program {
        input: None,
        params: Vec::new(),
        terms: Vec::new(),
        eval_order: Vec::new(),
        group: None,
        score: None,
        functions: Vec::new(),
        regexes: Vec::new(),
        tests: Vec::new(),
        lowered: Vec::new(),
        max_row_bytes: u64::MAX,
    };
    let interp = Interpreter {
        program: &program,
        regexes: regexes.to_vec(),
    };
    let mut locals = 0;
    visit(e, &mut |x| {
        if let ExprKind::Aggregate(a) = &x.kind {
            locals = locals.max(a.var + 1);
        }
    });
    let body = Body {
        expr: e.clone(),
        locals,
    };
    interp
        .eval_body(&body, &Value::None, &[])
        .map_err(|err| err.message)
}

/// Calls `f` on every node of an expression tree.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    for child in e.children() {
        visit(child, f);
    }
}
