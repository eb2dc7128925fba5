//! `group by KEY { let …  score = … }`: terms over the rollouts that share a key.
//!
//! The key and every value aggregated over the group are per-row terms (computed for every
//! row first); each aggregate is a *slot* term filled in by the group stage; the block's `let`s
//! and `score` are computed per row after that, reading the row's own terms and the slots. A
//! per-row term cannot read a group term (it would need the whole batch first).
//!
//! Validation and lowering are separate steps: [`validate_block`] reads the block's items into
//! [`GroupEntry`]s, [`validate_key`] and [`validate_aggregate`] check the key and each aggregate
//! (an [`AggregateDecl`]); the checker then lowers them into terms (`lower_aggregate` makes an
//! aggregate's source and slot terms).

use reward_runtime::{Ty, Value};

use super::{Checker, Ctx, TermSource, TermState};
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{self, Body, Expr, ExprKind, GroupAggKind, TermId, TermKind};
use crate::syntax::ast::{self, ItemKind};

pub(crate) struct GroupState {
    item: usize,
    key: TermId,
    aggregates: Vec<ir::GroupAggregate>,
}

/// An item of a `group by` block, validated.
#[derive(Debug)]
pub(crate) enum GroupEntry<'a> {
    Let {
        index: usize,
        name: &'a ast::Ident,
    },
    Score {
        index: usize,
        keyword: Span,
    },
    /// An item the block cannot have (a second `score`).
    Invalid(Diagnostic),
}

/// The block's items in order: its `let`s and its one `score`.
pub(crate) fn validate_block(items: &[ast::Item]) -> Vec<GroupEntry<'_>> {
    let mut has_score = false;
    let mut entries = Vec::new();
    for (index, inner) in items.iter().enumerate() {
        match &inner.kind {
            ItemKind::Let { name, .. } => entries.push(GroupEntry::Let { index, name }),
            ItemKind::Score { keyword, .. } if has_score => entries.push(GroupEntry::Invalid(
                Diagnostic::new(
                    Code::E0014,
                    *keyword,
                    "the group block defines `score` twice",
                )
                .help("a group block has at most one `score`"),
            )),
            ItemKind::Score { keyword, .. } => {
                has_score = true;
                entries.push(GroupEntry::Score {
                    index,
                    keyword: *keyword,
                });
            }
            _ => {}
        }
    }
    entries
}

/// The group key, checked: text, int or bool.
pub(crate) fn validate_key(key: Expr, span: Span) -> Result<Expr, Diagnostic> {
    match key.ty.strip_optional() {
        Ty::Text | Ty::Int | Ty::Bool | Ty::Error => Ok(key),
        other => Err(Diagnostic::new(
            Code::E0003,
            span,
            format!("a group key is text, int or bool, but this is {other}"),
        )
        .help("group by a column that identifies the prompt, e.g. `group by prompt_id { … }`")),
    }
}

/// An aggregate over the group (`mean(score)`), validated: its per-row source and its type.
#[derive(Debug)]
pub(crate) struct AggregateDecl {
    pub(crate) kind: GroupAggKind,
    pub(crate) name: String,
    pub(crate) source: Expr,
    pub(crate) ty: Ty,
    pub(crate) span: Span,
}

/// Checks `name(source)` over the group: `source` is a per-row value (`is_group` tells the
/// group's own terms) of the type the aggregate takes.
pub(crate) fn validate_aggregate(
    kind: GroupAggKind,
    name: &str,
    source: Expr,
    span: Span,
    is_group: impl Fn(TermId) -> bool,
) -> Result<AggregateDecl, Diagnostic> {
    let mut reads_group = false;
    crate::interp::visit(&source, &mut |x| {
        if let ExprKind::Term(t) = x.kind {
            reads_group |= is_group(t);
        }
    });
    if reads_group {
        return Err(Diagnostic::new(
            Code::E0028,
            source.span,
            format!("`{name}` over the group reads per-row values, not other group terms"),
        )
        .help("aggregate a per-row term (define it outside the group block)"));
    }
    let numeric = matches!(source.ty, Ty::Int | Ty::Float);
    let ty = match kind {
        GroupAggKind::Sum | GroupAggKind::Min | GroupAggKind::Max if numeric => source.ty.clone(),
        GroupAggKind::Mean | GroupAggKind::Std | GroupAggKind::Rank if numeric => Ty::Float,
        GroupAggKind::Count if source.ty == Ty::Bool => Ty::Int,
        GroupAggKind::Any | GroupAggKind::All if source.ty == Ty::Bool => Ty::Bool,
        _ => {
            let want = match kind {
                GroupAggKind::Count | GroupAggKind::Any | GroupAggKind::All => "a bool",
                _ => "a number",
            };
            return Err(Diagnostic::new(
                Code::E0003,
                source.span,
                format!(
                    "`{name}` over the group needs {want} per row, but this is {}",
                    source.ty
                ),
            )
            .label(format!("this is {}", source.ty))
            .help("e.g. `mean(score)`, `max(len(completion))`, `count(correct)`"));
        }
    };
    Ok(AggregateDecl {
        kind,
        name: name.to_string(),
        source,
        ty,
        span,
    })
}

fn is_group_kind(kind: TermKind) -> bool {
    matches!(
        kind,
        TermKind::GroupLet | TermKind::GroupScore | TermKind::GroupAggregate
    )
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
        for entry in validate_block(items) {
            match entry {
                GroupEntry::Let { index, name } => {
                    if self.define(0, name, "let") {
                        self.add_term(
                            name.name.clone(),
                            TermKind::GroupLet,
                            name.span,
                            TermSource::GroupItem { item, index },
                        );
                    }
                }
                GroupEntry::Score { index, keyword } => {
                    self.declare_group_score(item, index, keyword)
                }
                GroupEntry::Invalid(d) => self.error(d),
            }
        }
    }

    /// The block's `score`: the final score (the row's own `score` stays a term).
    fn declare_group_score(&mut self, item: usize, index: usize, keyword: Span) {
        let id = self.terms.len();
        self.add_term(
            "score#group".into(),
            TermKind::GroupScore,
            keyword,
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

    pub(crate) fn group_key(&mut self, cx: &mut Ctx, item: usize) -> Expr {
        let modules = self.modules;
        let ItemKind::Group { key, .. } = &modules[0].ast.items[item].kind else {
            unreachable!("a group item")
        };
        let e = self.check_expr(cx, key);
        validate_key(e, key.span).unwrap_or_else(|d| {
            self.error(d);
            Expr::constant(Value::None, Ty::Error, key.span)
        })
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
        let terms = &self.terms;
        match validate_aggregate(kind, name, source, span, |t| is_group_kind(terms[t].kind)) {
            Ok(decl) => self.lower_aggregate(cx, decl),
            Err(d) => {
                self.error(d);
                Expr::constant(Value::None, Ty::Error, span)
            }
        }
    }

    /// An aggregate's terms: its source, computed per row, and its slot, filled in by the group
    /// stage; the expression reads the slot.
    fn lower_aggregate(&mut self, cx: &mut Ctx, decl: AggregateDecl) -> Expr {
        let AggregateDecl {
            kind,
            name,
            source,
            ty,
            span,
        } = decl;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn span() -> Span {
        Span::new(FileId(0), 0, 1)
    }

    fn items(text: &str) -> Vec<ast::Item> {
        let (module, diags) = crate::syntax::parse_module(FileId(0), text);
        assert!(diags.is_empty(), "{diags:?}");
        match module.items.into_iter().next().map(|i| i.kind) {
            Some(ItemKind::Group { items, .. }) => items,
            _ => panic!("not a group block: {text}"),
        }
    }

    #[test]
    fn validate_block_reads_lets_and_one_score() {
        let block = items("group by p {\n let a = 1\n score = a\n let b = 2\n score = b\n}");
        let entries = validate_block(&block);
        let shown: Vec<String> = entries
            .iter()
            .map(|e| match e {
                GroupEntry::Let { index, name } => format!("let {} at {index}", name.name),
                GroupEntry::Score { index, .. } => format!("score at {index}"),
                GroupEntry::Invalid(d) => d.message.clone(),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "let a at 0",
                "score at 1",
                "let b at 2",
                "the group block defines `score` twice"
            ]
        );
    }

    #[test]
    fn validate_key_takes_text_int_and_bool() {
        let key = |ty: Ty| Expr::constant(Value::None, ty, span());
        for ty in [Ty::Text, Ty::Int, Ty::optional(Ty::Bool), Ty::Error] {
            assert!(validate_key(key(ty.clone()), span()).is_ok(), "{ty}");
        }
        let err = validate_key(key(Ty::Float), span()).unwrap_err();
        assert_eq!(
            err.message,
            "a group key is text, int or bool, but this is float"
        );
    }

    #[test]
    fn validate_aggregate_types_the_slot_and_refuses_group_terms() {
        let term = |id: TermId, ty: Ty| Expr::new(ExprKind::Term(id), ty, span());
        let not_group = |_: TermId| false;
        let mean = validate_aggregate(
            GroupAggKind::Mean,
            "mean",
            term(3, Ty::Int),
            span(),
            not_group,
        )
        .expect("valid");
        assert_eq!((mean.ty, mean.name.as_str()), (Ty::Float, "mean"));
        let max = validate_aggregate(
            GroupAggKind::Max,
            "max",
            term(3, Ty::Int),
            span(),
            not_group,
        )
        .expect("valid");
        assert_eq!(max.ty, Ty::Int);
        let count = validate_aggregate(
            GroupAggKind::Count,
            "count",
            term(3, Ty::Bool),
            span(),
            not_group,
        )
        .expect("valid");
        assert_eq!(count.ty, Ty::Int);
        let err = validate_aggregate(
            GroupAggKind::Any,
            "any",
            term(3, Ty::Int),
            span(),
            not_group,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "`any` over the group needs a bool per row, but this is int"
        );
        let err = validate_aggregate(GroupAggKind::Sum, "sum", term(7, Ty::Float), span(), |t| {
            t == 7
        })
        .unwrap_err();
        assert_eq!(
            err.message,
            "`sum` over the group reads per-row values, not other group terms"
        );
    }

    #[test]
    fn lowering_makes_a_source_and_a_slot_term_per_aggregate() {
        let root = crate::check::RootSource {
            name: "g.reward".into(),
            text: "input { p: text, r: float }\nscore = r\ngroup by p {\n let adv = score - mean(score)\n score = adv\n}\n".into(),
            dir: ".".into(),
        };
        let program = crate::check::compile(root, &[]).result.expect("checks");
        let group = program.group.as_ref().expect("a group stage");
        assert_eq!(group.aggregates.len(), 1);
        let agg = &group.aggregates[0];
        assert_eq!(program.terms[agg.slot].name, "_group#mean");
        assert_eq!(program.terms[agg.slot].kind, TermKind::GroupAggregate);
        assert_eq!(program.terms[agg.source].name, "_group#mean#source");
        assert_eq!(program.terms[group.key].name, "_group#key");
        let order: Vec<&str> = group
            .order
            .iter()
            .map(|&t| program.terms[t].name.as_str())
            .collect();
        assert_eq!(order, ["adv", "score#group"]);
    }
}
