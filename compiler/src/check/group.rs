//! `group by KEY { let …  score = … }`: terms over the rollouts that share a key.
//!
//! The key and every value aggregated over the group are per-row terms (computed for every
//! row first); each aggregate is a *slot* term filled in by the group stage; the block's `let`s
//! and `score` are computed per row after that, reading the row's own terms and the slots. A
//! per-row term cannot read a group term (it would need the whole batch first).

use reward_runtime::{Ty, Value};

use super::{Checker, Ctx, TermSource, TermState};
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{self, Body, Expr, ExprKind, GroupAggKind, TermId, TermKind};
use crate::syntax::ast::ItemKind;

pub(crate) struct GroupState {
    item: usize,
    key: TermId,
    aggregates: Vec<ir::GroupAggregate>,
}

impl Checker<'_> {
    pub(crate) fn declare_group(&mut self, item: usize) {
        let modules = self.modules;
        let it = &modules[0].ast.items[item];
        let ItemKind::Group { items, .. } = &it.kind else {
            return;
        };
        if let Some(g) = &self.group {
            let first = modules[0].ast.items[g.item].span;
            self.error(
                Diagnostic::new(
                    Code::E0014,
                    it.span,
                    "a spec has at most one `group by` block",
                )
                .note(first, "the first one")
                .help("put every group-level term in one block"),
            );
            return;
        }
        let key = self.terms.len();
        self.add_term(
            "_group#key".into(),
            TermKind::Let,
            it.span,
            TermSource::GroupKey(item),
        );
        self.group = Some(GroupState {
            item,
            key,
            aggregates: Vec::new(),
        });
        let mut has_score = false;
        for (index, inner) in items.iter().enumerate() {
            match &inner.kind {
                ItemKind::Let { name, .. } if self.define(0, name, "let") => {
                    self.add_term(
                        name.name.clone(),
                        TermKind::GroupLet,
                        name.span,
                        TermSource::GroupItem { item, index },
                    );
                }
                ItemKind::Score { keyword, .. } => {
                    if has_score {
                        self.error(
                            Diagnostic::new(
                                Code::E0014,
                                *keyword,
                                "the group block defines `score` twice",
                            )
                            .help("a group block has at most one `score`"),
                        );
                        continue;
                    }
                    has_score = true;
                    let id = self.terms.len();
                    self.add_term(
                        "score#group".into(),
                        TermKind::GroupScore,
                        *keyword,
                        TermSource::GroupItem { item, index },
                    );
                    self.terms[id].in_breakdown = false;
                    // `score` inside expressions still names the per-row score.
                    if let Some(&row_score) = self
                        .terms
                        .iter()
                        .enumerate()
                        .find(|(_, t)| t.kind == TermKind::Score)
                        .map(|(i, _)| i)
                        .as_ref()
                    {
                        self.term_names.insert("score".into(), row_score);
                    } else {
                        self.term_names.remove("score");
                    }
                }
                _ => {}
            }
        }
    }

    pub(crate) fn group_key(&mut self, cx: &mut Ctx, item: usize) -> Expr {
        let modules = self.modules;
        let ItemKind::Group { key, .. } = &modules[0].ast.items[item].kind else {
            unreachable!("a group item")
        };
        let e = self.check_expr(cx, key);
        match e.ty.strip_optional() {
            Ty::Text | Ty::Int | Ty::Bool | Ty::Error => e,
            other => {
                self.error(
                    Diagnostic::new(Code::E0003, key.span, format!("a group key is text, int or bool, but this is {other}"))
                        .help("group by a column that identifies the prompt, e.g. `group by prompt_id { … }`"),
                );
                Expr::constant(Value::None, Ty::Error, key.span)
            }
        }
    }

    pub(crate) fn group_item(&mut self, cx: &mut Ctx, item: usize, index: usize) -> Expr {
        let modules = self.modules;
        let ItemKind::Group { items, .. } = &modules[0].ast.items[item].kind else {
            unreachable!("a group item")
        };
        match &items[index].kind {
            ItemKind::Let { value, ty, .. } => match ty {
                Some(t) => {
                    let t = self.resolve_type(0, t);
                    self.check_expected_as(cx, value, &t, "this group `let`")
                }
                None => self.check_expr(cx, value),
            },
            ItemKind::Score { value, .. } => {
                let e = self.check_expr(cx, value);
                self.coerce_score(e)
            }
            _ => unreachable!("group items are lets and a score"),
        }
    }

    /// `mean(x)` (and `sum`, `min`, `max`, `count`, `any`, `all`, `std`, `rank`) of one per-row
    /// value inside a group block: the value over the group's rows. `source` is already checked.
    pub(crate) fn group_aggregate(
        &mut self,
        cx: &mut Ctx,
        kind: GroupAggKind,
        name: &str,
        source: Expr,
        span: Span,
    ) -> Expr {
        let mut reads_group = false;
        crate::interp::visit(&source, &mut |x| {
            if let ExprKind::Term(t) = x.kind {
                reads_group |= matches!(
                    self.terms[t].kind,
                    TermKind::GroupLet | TermKind::GroupScore | TermKind::GroupAggregate
                );
            }
        });
        if reads_group {
            self.error(
                Diagnostic::new(
                    Code::E0028,
                    source.span,
                    format!("`{name}` over the group reads per-row values, not other group terms"),
                )
                .help("aggregate a per-row term (define it outside the group block)"),
            );
            return Expr::constant(Value::None, Ty::Error, span);
        }
        let numeric = matches!(source.ty, Ty::Int | Ty::Float);
        let ty = match kind {
            GroupAggKind::Sum | GroupAggKind::Min | GroupAggKind::Max if numeric => {
                source.ty.clone()
            }
            GroupAggKind::Mean | GroupAggKind::Std | GroupAggKind::Rank if numeric => Ty::Float,
            GroupAggKind::Count if source.ty == Ty::Bool => Ty::Int,
            GroupAggKind::Any | GroupAggKind::All if source.ty == Ty::Bool => Ty::Bool,
            _ => {
                let want = match kind {
                    GroupAggKind::Count | GroupAggKind::Any | GroupAggKind::All => "a bool",
                    _ => "a number",
                };
                self.error(
                    Diagnostic::new(
                        Code::E0003,
                        source.span,
                        format!(
                            "`{name}` over the group needs {want} per row, but this is {}",
                            source.ty
                        ),
                    )
                    .label(format!("this is {}", source.ty))
                    .help("e.g. `mean(score)`, `max(len(completion))`, `count(correct)`"),
                );
                return Expr::constant(Value::None, Ty::Error, span);
            }
        };
        let src = self.built_term(
            format!("_group#{name}#source"),
            TermKind::Let,
            source,
            cx.next_local,
        );
        let slot = self.built_term(
            format!("_group#{name}"),
            TermKind::GroupAggregate,
            Expr::constant(Value::None, ty.clone(), span),
            0,
        );
        if let Some(g) = &mut self.group {
            g.aggregates.push(ir::GroupAggregate {
                slot,
                source: src,
                kind,
            });
        }
        cx.mentions.push(ir::Mention::Term(slot));
        Expr::new(ExprKind::Term(slot), ty, span)
    }

    /// A hidden term with a body built by the checker.
    fn built_term(&mut self, name: String, kind: TermKind, expr: Expr, locals: u32) -> TermId {
        let id = self.terms.len();
        let span = expr.span;
        self.add_term(name, kind, span, TermSource::Built);
        // Hidden: not a user name, not in the breakdown.
        self.term_names.remove(&self.terms[id].name.clone());
        let t = &mut self.terms[id];
        t.in_breakdown = false;
        t.ty = expr.ty.clone();
        t.body = Some(Body { expr, locals });
        t.state = TermState::Done;
        self.eval_order.push(id);
        id
    }

    /// Whether reading term `t` here is allowed: group terms only inside the group block.
    pub(crate) fn check_group_read(&mut self, cx: &Ctx, t: TermId, span: Span) -> bool {
        let is_group = matches!(
            self.terms[t].kind,
            TermKind::GroupLet | TermKind::GroupScore | TermKind::GroupAggregate
        );
        if is_group && !cx.after_groups {
            self.error(
                Diagnostic::new(Code::E0028, span, format!("`{}` is a group term", self.terms[t].name))
                    .label("read outside its group block")
                    .help("group terms need every row of the group first; use them inside the `group by` block"),
            );
            return false;
        }
        true
    }
}

/// The program's group stage, and the per-row evaluation order without the group terms.
pub(crate) fn finish(
    group: Option<GroupState>,
    terms: &[super::TermSlot],
    eval_order: Vec<TermId>,
) -> (Vec<TermId>, Option<ir::Group>) {
    let Some(g) = group else {
        return (eval_order, None);
    };
    let is_group = |t: TermId| {
        matches!(
            terms[t].kind,
            TermKind::GroupLet | TermKind::GroupScore | TermKind::GroupAggregate
        )
    };
    let order: Vec<TermId> = eval_order
        .iter()
        .copied()
        .filter(|&t| matches!(terms[t].kind, TermKind::GroupLet | TermKind::GroupScore))
        .collect();
    let per_row = eval_order.into_iter().filter(|&t| !is_group(t)).collect();
    (
        per_row,
        Some(ir::Group {
            key: g.key,
            aggregates: g.aggregates,
            order,
        }),
    )
}
