//! What compiled code may skip, read off the IR: the records of a list held as columns when a
//! loop reads only scalar fields of its element, the row arena's mark and release around every
//! iteration when nothing in the loop boxes a value, and the branches of an `if`, `and` or `or`
//! whose sides are cheap and cannot fail.

use std::collections::BTreeSet;

use reward_runtime::builtins::BUILTINS;
use reward_runtime::Ty;

use crate::ir::{Aggregate, Expr, ExprKind, LocalId, NumKind};
use crate::jit::FloatOp;

/// The fields of its element that a loop over a list of records of scalars reads, when it
/// reads nothing else of the element: the loop then steps through those fields' arrays and
/// never makes a record. `None` when the list's type is not columnar
/// ([`Ty::columnar_fields`]) or the element is used whole.
pub(crate) fn column_reads(agg: &Aggregate) -> Option<Vec<usize>> {
    agg.iter.ty.columnar_fields()?;
    let body = agg.body.as_ref()?;
    element_fields(std::iter::once(body).chain(agg.filter.as_ref()), agg.var)
}

/// The "field" of a trace that is a list of bools, ints or floats held as one array: the step
/// itself (see [`step_arrays`]).
pub(crate) const ITEMS: usize = usize::MAX;

/// The arrays a loop over `trace`'s steps reads for `exprs`, which read the step as local
/// `step`: the fields they read of a list of records of scalars held as columns, or the items
/// of a list of scalars ([`ITEMS`]). `None` when the trace's type is neither, or the
/// expressions read a record step whole.
pub(crate) fn step_arrays<'e>(
    trace: &Ty,
    exprs: impl IntoIterator<Item = &'e Expr>,
    step: LocalId,
) -> Option<Vec<usize>> {
    match trace {
        Ty::List(elem) if matches!(**elem, Ty::Bool | Ty::Int | Ty::Float) => Some(vec![ITEMS]),
        _ => {
            trace.columnar_fields()?;
            element_fields(exprs, step)
        }
    }
}

/// The type of array `f` of a loop over `trace`'s steps ([`step_arrays`]).
pub(crate) fn step_array_ty(trace: &Ty, f: usize) -> Option<&Ty> {
    let Ty::List(elem) = trace else {
        return None;
    };
    match f {
        ITEMS => Some(elem),
        _ => Some(&trace.columnar_fields()?.get(f)?.ty),
    }
}

/// The fields of local `var` (a record) that `exprs` read, when they read nothing else of it.
pub(crate) fn element_fields<'e>(
    exprs: impl IntoIterator<Item = &'e Expr>,
    var: LocalId,
) -> Option<Vec<usize>> {
    let mut fields = BTreeSet::new();
    let mut whole = false;
    for e in exprs {
        element_uses(e, var, &mut fields, &mut whole);
    }
    (!whole).then(|| fields.into_iter().collect())
}

fn element_uses(e: &Expr, var: LocalId, fields: &mut BTreeSet<usize>, whole: &mut bool) {
    match &e.kind {
        ExprKind::Field(rec, idx) if matches!(rec.kind, ExprKind::Local(v) if v == var) => {
            fields.insert(*idx);
        }
        ExprKind::Local(v) if *v == var => *whole = true,
        _ => {
            for c in e.children() {
                element_uses(c, var, fields, whole);
            }
        }
    }
}

/// Whether compiling `e` can never put a value in the row's arena: it reads values in place
/// and computes scalars in registers or through helpers that return scalars. Conservative:
/// anything else (building lists, records or texts, optional values, generic builtin calls,
/// user functions, inner loops) counts as boxing.
pub(crate) fn boxes_nothing(e: &Expr) -> bool {
    let here = match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Input
        | ExprKind::Term(_)
        | ExprKind::Local(_)
        | ExprKind::Field(..)
        | ExprKind::Not(_)
        | ExprKind::Neg(..)
        | ExprKind::Arith(..)
        | ExprKind::Compare(..)
        | ExprKind::And(..)
        | ExprKind::Or(..)
        | ExprKind::If(..)
        | ExprKind::TextContains { .. }
        | ExprKind::Match(..) => true,
        ExprKind::ToFloat(_) => e.ty == Ty::Float,
        ExprKind::Call(id, args) => {
            e.ty == Ty::Float
                && args.iter().all(|a| a.ty == Ty::Float)
                && FloatOp::of(BUILTINS[*id].name, args.len()).is_some()
        }
        _ => false,
    };
    here && e.children().into_iter().all(boxes_nothing)
}

/// Whether `e` may be computed whether or not its value is needed: a scalar made in registers
/// from constants, locals and fields of a loop's element, that cannot fail and calls nothing
/// but a field read. An `if` whose branches are such, or an `and`/`or` whose right side is,
/// computes both and selects, without a branch (which costs most in a loop's body).
pub(crate) fn cheap_and_total(e: &Expr) -> bool {
    let scalar = matches!(e.ty, Ty::Bool | Ty::Int | Ty::Float);
    let here = match &e.kind {
        ExprKind::Const(_) | ExprKind::Local(_) => true,
        ExprKind::Field(rec, _) => return scalar && matches!(rec.kind, ExprKind::Local(_)),
        ExprKind::Not(_)
        | ExprKind::Neg(NumKind::Float, _)
        | ExprKind::And(..)
        | ExprKind::Or(..)
        | ExprKind::If(..) => true,
        // Float arithmetic never fails (the remainder is a call, but a pure one).
        ExprKind::Arith(_, NumKind::Float, ..) => true,
        ExprKind::Compare(_, a, _) => matches!(a.ty, Ty::Bool | Ty::Int | Ty::Float),
        ExprKind::ToFloat(_) => e.ty == Ty::Float,
        ExprKind::Call(id, args) => {
            matches!(
                FloatOp::of(BUILTINS[*id].name, args.len()),
                Some(
                    FloatOp::Abs
                        | FloatOp::Min
                        | FloatOp::Max
                        | FloatOp::Clip
                        | FloatOp::Floor
                        | FloatOp::Ceil
                        | FloatOp::Round
                        | FloatOp::Trunc
                        | FloatOp::Sqrt
                )
            ) && e.ty == Ty::Float
                && args.iter().all(|a| a.ty == Ty::Float)
        }
        _ => false,
    };
    scalar && here && e.children().into_iter().all(cheap_and_total)
}
