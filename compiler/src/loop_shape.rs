//! What compiled code may skip, read off the IR: the records of a list held as columns when a
//! loop reads only scalar fields of its element, the row arena's mark and release around every
//! iteration when nothing in the loop boxes a value, and the branches of an `if`, `and` or `or`
//! whose sides are cheap and cannot fail.

use std::collections::BTreeSet;

use reward_runtime::builtins::{self, BUILTINS};
use reward_runtime::Ty;

use crate::ir::{AggKind, Aggregate, Expr, ExprKind, LocalId, NumKind};
use crate::jit::FloatOp;

/// An array that a loop over a list held as columns reads for its element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum StepArray {
    /// The values of field `f` of a list of records of scalars (for an optional field, with a
    /// placeholder where a row leaves it out).
    Field(usize),
    /// Which rows hold optional field `f`: a bool (a byte) per row.
    Present(usize),
    /// The items of a list of bools, ints or floats held as one array: the step itself.
    Items,
}

/// The arrays of its element that a loop over a list of records of scalars reads, when it
/// reads nothing else of the element: the loop then steps through those arrays and never
/// makes a record. `None` when the list's type is not columnar ([`Ty::columnar_fields`]) or
/// the element is used whole.
pub(crate) fn column_reads(agg: &Aggregate) -> Option<Vec<StepArray>> {
    agg.iter.ty.columnar_fields()?;
    // Without a body the element itself is folded, which only a count (of records, not bools)
    // never looks at: `count(for s in steps if …)`.
    if agg.body.is_none() && agg.kind != AggKind::Count {
        return None;
    }
    element_arrays(agg.body.iter().chain(&agg.filter), agg.var)
}

/// The arrays a loop over `trace`'s steps reads for `exprs`, which read the step as local
/// `step`: those of the fields they read of a list of records of scalars held as columns, or
/// the items of a list of scalars. `None` when the trace's type is neither, or the expressions
/// read a record step whole.
pub(crate) fn step_arrays<'e>(
    trace: &Ty,
    exprs: impl IntoIterator<Item = &'e Expr>,
    step: LocalId,
) -> Option<Vec<StepArray>> {
    match trace {
        Ty::List(elem) if matches!(**elem, Ty::Bool | Ty::Int | Ty::Float) => {
            Some(vec![StepArray::Items])
        }
        _ => {
            trace.columnar_fields()?;
            element_arrays(exprs, step)
        }
    }
}

/// The type of the values of array `a` of a loop over `trace`'s steps ([`step_arrays`]): a
/// bool, int or float.
pub(crate) fn step_array_ty(trace: &Ty, a: StepArray) -> Option<Ty> {
    let Ty::List(elem) = trace else {
        return None;
    };
    match a {
        StepArray::Items => Some((**elem).clone()),
        StepArray::Present(_) => Some(Ty::Bool),
        StepArray::Field(f) => Some(trace.columnar_fields()?.get(f)?.ty.strip_optional().clone()),
    }
}

/// The arrays of local `var` (a record of a list held as columns) that `exprs` read, when they
/// read nothing else of it. An optional field is read only as `var.f ?? default`,
/// `is_some(var.f)` or `is_none(var.f)` (which need no optional value); any other read of one
/// uses the element whole.
pub(crate) fn element_arrays<'e>(
    exprs: impl IntoIterator<Item = &'e Expr>,
    var: LocalId,
) -> Option<Vec<StepArray>> {
    let mut arrays = BTreeSet::new();
    let mut whole = false;
    for e in exprs {
        element_uses(e, var, &mut arrays, &mut whole);
    }
    (!whole).then(|| arrays.into_iter().collect())
}

fn element_uses(e: &Expr, var: LocalId, arrays: &mut BTreeSet<StepArray>, whole: &mut bool) {
    match &e.kind {
        ExprKind::Coalesce(a, default) if optional_field(a).is_some_and(|(v, _)| v == var) => {
            let (_, f) = optional_field(a).expect("an optional field");
            arrays.extend([StepArray::Field(f), StepArray::Present(f)]);
            element_uses(default, var, arrays, whole);
        }
        _ if presence_test(e).is_some_and(|(v, _, _)| v == var) => {
            let (_, f, _) = presence_test(e).expect("a presence test");
            arrays.insert(StepArray::Present(f));
        }
        ExprKind::Field(rec, idx) if matches!(rec.kind, ExprKind::Local(v) if v == var) => {
            match e.ty {
                Ty::Optional(_) => *whole = true,
                _ => {
                    arrays.insert(StepArray::Field(*idx));
                }
            }
        }
        ExprKind::Local(v) if *v == var => *whole = true,
        _ => {
            for c in e.children() {
                element_uses(c, var, arrays, whole);
            }
        }
    }
}

/// Whether `ty` is an optional bool, int or float (a field of a list held as columns whose
/// rows may leave it out).
pub(crate) fn optional_field_ty(ty: &Ty) -> bool {
    matches!(ty, Ty::Optional(inner) if matches!(**inner, Ty::Bool | Ty::Int | Ty::Float))
}

/// `local.f` where field `f` is an optional bool, int or float: the local and the field.
pub(crate) fn optional_field(e: &Expr) -> Option<(LocalId, usize)> {
    match &e.kind {
        ExprKind::Field(rec, f) if optional_field_ty(&e.ty) => match rec.kind {
            ExprKind::Local(v) => Some((v, *f)),
            _ => None,
        },
        _ => None,
    }
}

/// `is_some(a)` or `is_none(a)` of an optional value `a`: `a`, and whether the test is
/// `is_some`.
pub(crate) fn presence_call(e: &Expr) -> Option<(&Expr, bool)> {
    let ExprKind::Call(id, args) = &e.kind else {
        return None;
    };
    let some = match *id {
        builtins::id::IS_SOME => true,
        builtins::id::IS_NONE => false,
        _ => return None,
    };
    match args.as_slice() {
        [a] if matches!(a.ty, Ty::Optional(_)) => Some((a, some)),
        _ => None,
    }
}

/// A [`presence_call`] of an [`optional_field`]: the local, the field and whether the test is
/// `is_some`.
pub(crate) fn presence_test(e: &Expr) -> Option<(LocalId, usize, bool)> {
    let (a, some) = presence_call(e)?;
    let (v, f) = optional_field(a)?;
    Some((v, f, some))
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
        // Read in place, or tested in the record the list holds.
        ExprKind::Coalesce(a, _) => {
            optional_field(a).is_some() && matches!(e.ty, Ty::Bool | Ty::Int | Ty::Float)
        }
        ExprKind::Call(..) if presence_test(e).is_some() => true,
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
/// from constants, locals and fields of a loop's element (an optional one with a default, or
/// tested for presence), that cannot fail and calls nothing but a field read. An `if` whose branches are such, or an `and`/`or` whose right side is,
/// computes both and selects, without a branch (which costs most in a loop's body).
pub(crate) fn cheap_and_total(e: &Expr) -> bool {
    let scalar = matches!(e.ty, Ty::Bool | Ty::Int | Ty::Float);
    if presence_test(e).is_some() {
        return true;
    }
    let here = match &e.kind {
        ExprKind::Const(_) | ExprKind::Local(_) => true,
        // An optional field read with a default: its array and whether the row holds it.
        ExprKind::Coalesce(a, default) if optional_field(a).is_some() => {
            return scalar && cheap_and_total(default);
        }
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
