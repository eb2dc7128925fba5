//! What a compiled loop over a list may skip, read off its IR: the records of a list held as
//! columns when the loop reads only scalar fields of its element, and the row arena's mark and
//! release around every iteration when nothing in the loop boxes a value.

use std::collections::BTreeSet;

use reward_runtime::builtins::BUILTINS;
use reward_runtime::Ty;

use crate::ir::{Aggregate, Expr, ExprKind, LocalId};
use crate::jit::FloatOp;

/// The fields of its element that a loop over a list of records of scalars reads, when it
/// reads nothing else of the element: the loop then steps through those fields' arrays and
/// never makes a record. `None` when the list's type is not columnar
/// ([`Ty::columnar_fields`]) or the element is used whole.
pub(crate) fn column_reads(agg: &Aggregate) -> Option<Vec<usize>> {
    agg.iter.ty.columnar_fields()?;
    let body = agg.body.as_ref()?;
    let mut fields = BTreeSet::new();
    let mut whole = false;
    for e in std::iter::once(body).chain(agg.filter.as_ref()) {
        element_uses(e, agg.var, &mut fields, &mut whole);
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
