//! Rubrics: weighted criteria (HealthBench, RaR). A rubric is one term for its total, one per
//! criterion (`rubric/description`, met to a degree in [0, 1]) and one per tag (`rubric#tag`,
//! the weighted sum of its criteria).
//!
//! Two steps, as for machines: [`validate`] reads the rubric's options (normalisation, clip) and
//! criteria into a typed [`RubricDecl`] with its diagnostics; [`lower_total`] and
//! [`lower_tag_total`] build the IR from a declaration and the criteria's term ids.

use reward_runtime::{Ty, Value};

use super::{Checker, Ctx, TermSource};
use crate::builtins;
use crate::diag::{closest, Code, Diagnostic, Span};
use crate::ir::{self, TermId, TermKind};
use crate::syntax::ast;

/// How a rubric turns its criteria's points into its total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Normalize {
    /// Σ met points / Σ positive points (HealthBench).
    Positive,
    /// Σ wc / Σ w (RaR).
    Total,
    /// Σ wc / Σ |w|.
    Abs,
    /// The raw points.
    None,
}

const MODES: [&str; 4] = ["positive", "total", "abs", "none"];

impl Normalize {
    fn from_word(w: &str) -> Option<Normalize> {
        Some(match w {
            "positive" => Normalize::Positive,
            "total" => Normalize::Total,
            "abs" => Normalize::Abs,
            "none" => Normalize::None,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Normalize::Positive => "positive",
            Normalize::Total => "total",
            Normalize::Abs => "abs",
            Normalize::None => "none",
        }
    }

    /// What the weighted sum is divided by.
    fn denominator(self, points: impl Iterator<Item = f64>) -> f64 {
        match self {
            Normalize::Positive => points.filter(|p| *p > 0.0).sum(),
            Normalize::Total => points.sum(),
            Normalize::Abs => points.map(f64::abs).sum(),
            Normalize::None => 1.0,
        }
    }
}

/// One criterion of a rubric.
#[derive(Clone, Debug)]
pub(crate) struct CriterionDecl {
    pub(crate) description: String,
    pub(crate) points: f64,
    pub(crate) points_span: Span,
    /// The span of its check.
    pub(crate) span: Span,
    pub(crate) tags: Vec<String>,
}

/// How the total is computed, when the options allow computing one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Total {
    pub(crate) normalize: Normalize,
    pub(crate) normalize_span: Span,
    /// Never 0 (a normalisation that would divide by zero is an error).
    pub(crate) denominator: f64,
    pub(crate) clip: Option<(f64, f64)>,
}

/// A rubric, validated.
#[derive(Clone, Debug)]
pub(crate) struct RubricDecl {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) criteria: Vec<CriterionDecl>,
    /// The distinct tags, in order of first use.
    pub(crate) tags: Vec<String>,
    /// `None` when the options or the criteria leave the total undefined (an error was
    /// reported).
    pub(crate) total: Option<Total>,
}

/// Reads a rubric's options and criteria; every problem with them is a diagnostic.
pub(crate) fn validate(r: &ast::Rubric) -> (RubricDecl, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let span = r.name.span;
    let criteria: Vec<CriterionDecl> = r
        .criteria
        .iter()
        .map(|c| CriterionDecl {
            description: c.description.clone(),
            points: c.points,
            points_span: c.points_span,
            span: c.value.span,
            tags: c.tags.iter().map(|t| t.name.clone()).collect(),
        })
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for t in criteria.iter().flat_map(|c| &c.tags) {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    let (normalize, clip) = options(r, &mut diags);
    let total = normalize.and_then(|(normalize, normalize_span)| {
        if criteria.is_empty() {
            diags.push(
                Diagnostic::new(Code::E0019, span, format!("rubric `{}` has no criteria", r.name.name))
                    .help("add `criterion \"…\" +1 : <check>` lines"),
            );
            return None;
        }
        let denominator = normalize.denominator(criteria.iter().map(|c| c.points));
        if denominator == 0.0 {
            let why = match normalize {
                Normalize::Positive => "no criterion has positive points",
                Normalize::Total => "the points sum to zero",
                _ => "every criterion is worth zero points",
            };
            diags.push(
                Diagnostic::new(Code::E0019, normalize_span, format!("`normalize: {}` divides by zero: {why}", normalize.word()))
                    .help("choose another normalisation, or give the criteria points that do not cancel out"),
            );
            return None;
        }
        Some(Total {
            normalize,
            normalize_span,
            denominator,
            clip,
        })
    });
    let decl = RubricDecl {
        name: r.name.name.clone(),
        span,
        criteria,
        tags,
        total,
    };
    (decl, diags)
}

/// A normalisation and where the rubric says it.
type NormalizeAt = (Normalize, Span);

/// The rubric's options: its normalisation (`None` when it gives none, which is reported) and
/// its clip range.
fn options(
    r: &ast::Rubric,
    diags: &mut Vec<Diagnostic>,
) -> (Option<NormalizeAt>, Option<(f64, f64)>) {
    let mut normalize: Option<NormalizeAt> = None;
    let mut clip: Option<(f64, f64)> = None;
    for opt in &r.options {
        match (opt.name.name.as_str(), &opt.value) {
            ("normalize", ast::RubricOptionValue::Word(w)) => {
                if let Some(mode) = Normalize::from_word(&w.name) {
                    normalize = Some((mode, w.span));
                } else {
                    let help = match closest(&w.name, MODES) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "modes: `positive` (Σ met points / Σ positive points), `total` (Σ wc / Σ w), `abs` (Σ wc / Σ |w|), `none` (raw points)".into(),
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::E0019,
                            w.span,
                            format!("unknown normalisation `{}`", w.name),
                        )
                        .help(help),
                    );
                    normalize = Some((Normalize::None, w.span));
                }
            }
            ("clip", ast::RubricOptionValue::Range { lo, hi, span }) => {
                if lo > hi {
                    diags.push(
                        Diagnostic::new(
                            Code::E0019,
                            *span,
                            format!("clip range [{lo}, {hi}] is empty"),
                        )
                        .help("write the lower bound first: `clip: [lo, hi]`"),
                    );
                }
                clip = Some((*lo, *hi));
            }
            ("normalize", _) => diags.push(
                Diagnostic::new(Code::E0019, opt.name.span, "`normalize` takes a mode name")
                    .help("write `normalize: positive`, `total`, `abs` or `none`"),
            ),
            ("clip", _) => diags.push(
                Diagnostic::new(Code::E0019, opt.name.span, "`clip` takes a range")
                    .help("write `clip: [0, 1]`"),
            ),
            (other, _) => {
                let help = match closest(other, ["normalize", "clip"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "rubric options are `normalize` and `clip`".into(),
                };
                diags.push(
                    Diagnostic::new(
                        Code::E0019,
                        opt.name.span,
                        format!("unknown rubric option `{other}`"),
                    )
                    .help(help),
                );
            }
        }
    }
    if normalize.is_none() {
        diags.push(
            Diagnostic::new(Code::E0019, r.name.span, format!("rubric `{}` does not say how to normalise its points", r.name.name))
                .help("add `(normalize: positive)` (HealthBench), `total` (RaR), `abs` or `none` after the rubric's name"),
        );
    }
    (normalize, clip)
}

/// The rubric's total: Σ points·value over the criteria, normalised and clipped. `criteria`:
/// each criterion's term (`None` for one left out as a duplicate).
pub(crate) fn lower_total(decl: &RubricDecl, criteria: &[Option<TermId>]) -> ir::Expr {
    let span = decl.span;
    let Some(total) = &decl.total else {
        return ir::Expr::constant(Value::Float(0.0), Ty::Error, span);
    };
    let sum = weighted_sum(decl, criteria, |_| true);
    let mut value = if total.normalize == Normalize::None {
        sum
    } else {
        let d = ir::Expr::constant(
            Value::Float(total.denominator),
            Ty::Float,
            total.normalize_span,
        );
        float_arith(ir::ArithOp::Div, sum, d, span)
    };
    if let Some((lo, hi)) = total.clip {
        let clip_id = builtins::id::CLIP;
        value = ir::Expr::new(
            ir::ExprKind::Call(
                clip_id,
                vec![
                    value,
                    ir::Expr::constant(Value::Float(lo), Ty::Float, span),
                    ir::Expr::constant(Value::Float(hi), Ty::Float, span),
                ],
            ),
            Ty::Float,
            span,
        );
    }
    value
}

/// The total of tag number `tag`: the weighted sum of the criteria that carry it.
pub(crate) fn lower_tag_total(
    decl: &RubricDecl,
    criteria: &[Option<TermId>],
    tag: usize,
) -> ir::Expr {
    let name = &decl.tags[tag];
    weighted_sum(decl, criteria, |c| c.tags.contains(name))
}

/// Σ points·value over the criteria `filter` keeps, in criterion order.
fn weighted_sum(
    decl: &RubricDecl,
    criteria: &[Option<TermId>],
    filter: impl Fn(&CriterionDecl) -> bool,
) -> ir::Expr {
    let span = decl.span;
    let mut acc = ir::Expr::constant(Value::Float(0.0), Ty::Float, span);
    for (c, id) in decl.criteria.iter().zip(criteria) {
        let Some(id) = *id else {
            continue;
        };
        if !filter(c) {
            continue;
        }
        let term = ir::Expr::new(ir::ExprKind::Term(id), Ty::Float, c.span);
        let points = ir::Expr::constant(Value::Float(c.points), Ty::Float, c.points_span);
        let product = float_arith(ir::ArithOp::Mul, points, term, c.span);
        acc = float_arith(ir::ArithOp::Add, acc, product, span);
    }
    acc
}

fn float_arith(op: ir::ArithOp, a: ir::Expr, b: ir::Expr, span: Span) -> ir::Expr {
    ir::Expr::new(
        ir::ExprKind::Arith(op, ir::NumKind::Float, Box::new(a), Box::new(b)),
        Ty::Float,
        span,
    )
}

impl Checker<'_> {
    /// Rubric item `i`: its total, one term per criterion (`rubric/description`) and one per
    /// tag (`rubric#tag`).
    pub(super) fn declare_rubric(&mut self, i: usize, r: &ast::Rubric) {
        if !self.define(0, &r.name, "rubric") {
            return;
        }
        self.add_term(
            r.name.name.clone(),
            TermKind::Rubric,
            r.name.span,
            TermSource::Rubric(i),
        );
        let mut seen: Vec<&str> = Vec::new();
        for (ci, c) in r.criteria.iter().enumerate() {
            if seen.contains(&c.description.as_str()) {
                self.error(
                    Diagnostic::new(Code::E0019, c.description_span, format!("rubric `{}` has two criteria named {:?}", r.name.name, c.description))
                        .help("criterion descriptions name the breakdown entries, so they must be unique within a rubric"),
                );
                continue;
            }
            seen.push(&c.description);
            self.add_term(
                criterion_name(&r.name.name, &c.description),
                TermKind::Criterion,
                c.description_span,
                TermSource::Criterion { item: i, index: ci },
            );
        }
        let mut tags: Vec<&str> = Vec::new();
        for c in &r.criteria {
            for t in &c.tags {
                if !tags.contains(&t.name.as_str()) {
                    tags.push(&t.name);
                    self.add_term(
                        format!("{}#{}", r.name.name, t.name),
                        TermKind::TagTotal,
                        t.span,
                        TermSource::Tag {
                            item: i,
                            tag: tags.len() - 1,
                        },
                    );
                }
            }
        }
    }

    /// A rubric criterion: met (a bool) or met to a degree (a number checked to be in [0, 1]).
    pub(super) fn criterion_term(&mut self, cx: &mut Ctx, c: &ast::Criterion) -> ir::Expr {
        let e = self.check_expr(cx, &c.value);
        let value = if matches!(e.ty, Ty::Bool | Ty::Int | Ty::Float | Ty::Error) {
            self.float_for(e, &c.value, "a rubric criterion")
        } else {
            let code = if e.ty.is_optional() {
                Code::E0016
            } else {
                Code::E0003
            };
            self.error(
                Diagnostic::new(code, e.span, format!("a criterion is met (a bool) or met to a degree (a number in [0, 1]), but this is {}", e.ty))
                    .label(format!("this is {}", e.ty))
                    .help(if e.ty.is_optional() { "this value can be none; give it a default with `?? false` or `?? 0.0`" } else { "turn it into a check, e.g. `x != \"\"` or `x ~ /pattern/`" }),
            );
            ir::Expr::constant(Value::None, Ty::Error, e.span)
        };
        ir::Expr::new(
            ir::ExprKind::CheckUnit {
                value: Box::new(value),
                criterion: c.description.as_str().into(),
            },
            Ty::Float,
            c.value.span,
        )
    }

    /// The rubric's total (its options checked here).
    pub(super) fn rubric_value(&mut self, r: &ast::Rubric) -> ir::Expr {
        let (decl, diags) = validate(r);
        let criteria = self.criteria_checked(&decl);
        self.diags.extend(diags);
        lower_total(&decl, &criteria)
    }

    /// The total of the rubric's tag number `tag`.
    pub(super) fn tag_total(&mut self, r: &ast::Rubric, tag: usize) -> ir::Expr {
        // Only the criteria and tags are read: the options are checked with the total.
        let (decl, _) = validate(r);
        let criteria = self.criteria_checked(&decl);
        lower_tag_total(&decl, &criteria, tag)
    }

    /// Each criterion's term, checked.
    fn criteria_checked(&mut self, decl: &RubricDecl) -> Vec<Option<TermId>> {
        decl.criteria
            .iter()
            .map(|c| {
                let id = self
                    .term_names
                    .get(&criterion_name(&decl.name, &c.description))
                    .copied();
                if let Some(id) = id {
                    self.check_term(id);
                }
                id
            })
            .collect()
    }
}

fn criterion_name(rubric: &str, description: &str) -> String {
    format!("{rubric}/{description}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::syntax::parse_module;

    fn rubric(text: &str) -> ast::Rubric {
        let (module, diags) = parse_module(FileId(0), text);
        assert!(diags.is_empty(), "{diags:?}");
        match module.items.into_iter().next().map(|i| i.kind) {
            Some(ast::ItemKind::Rubric(r)) => r,
            _ => panic!("not a rubric: {text}"),
        }
    }

    fn messages(diags: &[Diagnostic]) -> Vec<&str> {
        diags.iter().map(|d| d.message.as_str()).collect()
    }

    #[test]
    fn validate_reads_the_criteria_tags_and_normalisation() {
        let r = rubric(
            "rubric r (normalize: positive, clip: [0, 1]) {\n\
             criterion \"a\" +3 : true tag style\n\
             criterion \"b\" -1 : false tag safety tag style\n\
             criterion \"c\" +1 : true\n}",
        );
        let (decl, diags) = validate(&r);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(decl.name, "r");
        let points: Vec<f64> = decl.criteria.iter().map(|c| c.points).collect();
        assert_eq!(points, [3.0, -1.0, 1.0]);
        assert_eq!(decl.tags, ["style", "safety"]);
        let total = decl.total.expect("a total");
        assert_eq!(total.normalize, Normalize::Positive);
        assert_eq!(total.denominator, 4.0);
        assert_eq!(total.clip, Some((0.0, 1.0)));
    }

    #[test]
    fn validate_reports_every_problem_of_the_options() {
        let r = rubric("rubric r (normalise: total, clip: [1, 0]) {\ncriterion \"a\" +1 : true\n}");
        let (decl, diags) = validate(&r);
        assert_eq!(
            messages(&diags),
            [
                "unknown rubric option `normalise`",
                "clip range [1, 0] is empty",
                "rubric `r` does not say how to normalise its points",
            ]
        );
        assert!(decl.total.is_none());

        let (decl, diags) = validate(&rubric(
            "rubric r (normalize: totl) {\ncriterion \"a\" +1 : true\n}",
        ));
        assert_eq!(messages(&diags), ["unknown normalisation `totl`"]);
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `total`?"));
        assert_eq!(decl.total.map(|t| t.normalize), Some(Normalize::None));

        let (decl, diags) = validate(&rubric(
            "rubric r (normalize: total) {\ncriterion \"a\" +1 : true\ncriterion \"b\" -1 : true\n}",
        ));
        assert_eq!(
            messages(&diags),
            ["`normalize: total` divides by zero: the points sum to zero"]
        );
        assert!(decl.total.is_none());

        let (_, diags) = validate(&rubric("rubric r (normalize: abs) {\n}"));
        assert_eq!(messages(&diags), ["rubric `r` has no criteria"]);
    }

    #[test]
    fn lower_divides_the_weighted_sum_and_clips_it() {
        let r = rubric(
            "rubric r (normalize: positive, clip: [0, 1]) {\n\
             criterion \"a\" +3 : true tag style\n\
             criterion \"b\" -1 : false tag style\n\
             criterion \"c\" +1 : true\n}",
        );
        let (decl, _) = validate(&r);
        let total = lower_total(&decl, &[Some(7), None, Some(9)]);
        // The duplicate (no term) is left out; the denominator is 3 + 1.
        assert_eq!(
            ir::print_expr(&total),
            "(call clip (div.f (add.f (add.f 0.0 (mul.f 3.0 $7)) (mul.f 1.0 $9)) 4.0) 0.0 1.0)"
        );
        let style = lower_tag_total(&decl, &[Some(7), Some(8), Some(9)], 0);
        assert_eq!(
            ir::print_expr(&style),
            "(add.f (add.f 0.0 (mul.f 3.0 $7)) (mul.f -1.0 $8))"
        );
        let invalid = RubricDecl {
            total: None,
            ..decl
        };
        assert_eq!(
            lower_total(&invalid, &[Some(7), None, Some(9)]).ty,
            Ty::Error
        );
    }
}
