//! Constant folding: params are already constants, so every operation whose operands are all
//! constants is computed once at compile time, by the interpreter itself (so folding cannot
//! change a result). An operation that would fail on every rollout (e.g. `1 % 0`) is a
//! compile-time error instead of a run-time error on every row.

use reward_runtime::Value;

use super::*;
use crate::diag::{Code, Diagnostic};
use crate::interp::eval_const;

pub fn fold_program(p: &mut Program) -> Vec<Diagnostic> {
    let regexes: Vec<reward_runtime::native::pattern::Pattern> =
        p.regexes.iter().map(|r| r.regex.clone()).collect();
    let mut diags = Vec::new();
    let mut folder = Folder {
        regexes: &regexes,
        diags: &mut diags,
    };
    for t in &mut p.terms {
        folder.fold(&mut t.body.expr);
    }
    for f in &mut p.functions {
        folder.fold(&mut f.body.expr);
    }
    for t in &mut p.tests {
        for e in &mut t.expects {
            folder.fold(&mut e.body.expr);
        }
    }
    diags
}

struct Folder<'a> {
    regexes: &'a [reward_runtime::native::pattern::Pattern],
    diags: &'a mut Vec<Diagnostic>,
}

fn is_const(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Const(_))
}

fn const_bool(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Const(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

impl Folder<'_> {
    fn fold(&mut self, e: &mut Expr) {
        // Children first.
        for child in e.children_mut() {
            self.fold(child);
        }
        // Leaves are what they are; an aggregate's body, a formula's atoms and a machine's bits read their own
        // variable.
        if matches!(
            e.kind,
            ExprKind::Const(_)
                | ExprKind::Input
                | ExprKind::Term(_)
                | ExprKind::Local(_)
                | ExprKind::Aggregate(_)
                | ExprKind::Ltl(_)
                | ExprKind::Machine(_)
        ) {
            return;
        }
        // A constant zero divisor fails on every rollout, whatever the other operand.
        if let ExprKind::Arith(ArithOp::Rem, NumKind::Int, _, b) = &e.kind {
            if matches!(b.kind, ExprKind::Const(Value::Int(0))) {
                self.diags.push(
                    Diagnostic::new(Code::E0029, e.span, "integer modulo by zero")
                        .label("the divisor is always 0")
                        .help("every rollout would get an error here; check the divisor (a param's value counts as a constant)"),
                );
                return;
            }
        }
        // Branches decided at compile time.
        let replacement = match &mut e.kind {
            ExprKind::If(c, a, b) => const_bool(c).map(|c| {
                if c {
                    std::mem::replace(&mut **a, placeholder())
                } else {
                    std::mem::replace(&mut **b, placeholder())
                }
            }),
            ExprKind::And(a, b) => match const_bool(a) {
                Some(false) => Some(std::mem::replace(&mut **a, placeholder())),
                Some(true) => Some(std::mem::replace(&mut **b, placeholder())),
                None => None,
            },
            ExprKind::Or(a, b) => match const_bool(a) {
                Some(true) => Some(std::mem::replace(&mut **a, placeholder())),
                Some(false) => Some(std::mem::replace(&mut **b, placeholder())),
                None => None,
            },
            ExprKind::Coalesce(a, b) => match &a.kind {
                ExprKind::Const(Value::None) => Some(std::mem::replace(&mut **b, placeholder())),
                ExprKind::Const(_) => Some(std::mem::replace(&mut **a, placeholder())),
                _ => None,
            },
            _ => None,
        };
        if let Some(mut r) = replacement {
            // Keep the node's type: a branch may be an int where the `if` is a float, etc.
            if r.ty != e.ty {
                let span = r.span;
                r = match (&r.kind, &e.ty) {
                    (ExprKind::Const(v), _)
                        if !v.is_none()
                            && e.ty.strip_optional() == &reward_runtime::Ty::Float
                            && !matches!(v, Value::Float(_)) =>
                    {
                        Expr::constant(Value::Float(v.as_f64()), e.ty.clone(), span)
                    }
                    _ => Expr::new(r.kind, e.ty.clone(), span),
                };
            }
            *e = r;
            return;
        }
        // User functions and criterion checks are left to run time (a check names its criterion).
        let foldable = !matches!(e.kind, ExprKind::CallFn(..) | ExprKind::CheckUnit { .. })
            && e.children().into_iter().all(is_const);
        if !foldable {
            return;
        }
        match eval_const(e, self.regexes) {
            Ok(v) => e.kind = ExprKind::Const(v),
            Err(message) => self.diags.push(
                Diagnostic::new(Code::E0029, e.span, format!("this always fails: {message}"))
                    .label("computed at compile time from constants")
                    .help("every rollout would get an error here; fix the constant expression"),
            ),
        }
    }
}

fn placeholder() -> Expr {
    Expr::constant(
        Value::None,
        reward_runtime::Ty::Error,
        crate::diag::Span::default(),
    )
}
