//! Static findings decided by running the spec, not by reading its syntax: each term is
//! evaluated by the interpreter on synthesized rows (the probe's rows: real rows when given,
//! else made-up golds 42 and 17 with every other column neutral), and a finding is reported at
//! the span of the term or extraction it comes from.
//!
//! A `group by` spec scores a rollout among its group's, so a term's effect on the score depends
//! on the other rollouts. There, as in the probe's attacks, every completion tried is one member
//! of a group of three under its row's key, beside two fixed companions written from the row:
//! its gold and a wrong answer, in the layout (answer tags, `\boxed{}`, a stated or a bare
//! answer) where the gold scores best beside them. Without a gold to write them from, a
//! completion is scored in a group of one. The findings then read:
//! - `pays-on-empty` judges only the row's own terms (not the group block's `let`s: a rank or
//!   an advantage is relative to the companions, and an empty answer that ties the wrong one
//!   earns its share of a rank without being paid for being empty). Switching a row term off
//!   changes the candidate's row only; the group stage is run again beside the same companions,
//!   and the finding needs the final (group) score to drop.
//! - `several-answer-blocks` compares final scores, each in its group of three.
//! - `max-without-correctness` sets the terms of the row's own `score` to each combination,
//!   recomputes that score, and runs the group stage beside the companions: the final scores are
//!   compared as without groups. A group score that does not read the row's score (aggregates
//!   of other terms) is then constant over the combinations, and nothing is found.
//! - `constant-term` (real rows) runs the group stage over the rows' own groups, and judges the
//!   group block's `let`s too.

use reward_runtime::builtins::{self, BUILTINS};
use reward_runtime::decode::decode_json;
use reward_runtime::native::final_answer;
use reward_runtime::{Ty, Value};
use serde_json::Value as Json;

use super::{finding, term_span};
use crate::diag::{FileId, SourceMap};
use crate::interp::Interpreter;
use crate::ir::{Body, Expr, ExprKind, Program, TermId, TermKind};
use crate::lint::StaticFinding;
use crate::probe::{numeric, COMPLETION_COLUMNS, GOLD_COLUMNS};

/// Builtins that take one answer out of a text: which of several answers they take matters.
const EXTRACTORS: &[&str] = &[
    "extract_tag",
    "boxed",
    "final_answer",
    "hash_answer",
    "answer_line",
    "last_number",
    "choice_letter",
    "code_block",
    "capture",
];

/// Builtins that keep the whole text (normalize it) rather than take a part of it.
pub(super) const TRANSPARENT: &[&str] = &["trim", "lower", "upper", "normalize_answer"];

const REASONING: &str = "<think>\nLet me work through it.\n</think>\n";

/// A row to evaluate: its columns (the completion is replaced) and its gold answer, if it is
/// an answer the attacks can rewrite (not a box, an action or JSON).
struct Seed {
    row: serde_json::Map<String, Json>,
    gold: Option<String>,
}

pub(super) struct Evaluator<'a> {
    program: &'a Program,
    sources: &'a SourceMap,
    interp: Interpreter<'a>,
    schema: &'a Ty,
    completion: String,
    completion_index: usize,
    seeds: Vec<Seed>,
    /// Per term: whether it reads the gold column, directly or through other terms.
    reads_gold: Vec<bool>,
    /// In a `group by` spec, the layout of the two companions each completion is scored
    /// beside (see the module doc); `None`: a group of one.
    companions: Option<Layout>,
}

impl<'a> Evaluator<'a> {
    /// `None` when the spec has no text completion column to write into.
    pub(super) fn new(
        program: &'a Program,
        sources: &'a SourceMap,
        rows: &[Json],
    ) -> Option<Evaluator<'a>> {
        let schema = program.input.as_ref()?;
        let Ty::Record(fields) = schema else {
            return None;
        };
        let (completion_index, completion) = COMPLETION_COLUMNS.iter().find_map(|c| {
            fields
                .iter()
                .position(|f| &*f.name == *c && f.ty == Ty::Text)
                .map(|i| (i, c.to_string()))
        })?;
        let gold = GOLD_COLUMNS
            .iter()
            .find_map(|c| fields.iter().position(|f| &*f.name == *c));
        let reads_gold = match gold {
            Some(g) => reads_field(program, g),
            None => vec![false; program.terms.len()],
        };
        let gold_name = gold.map(|g| fields[g].name.to_string());
        let seeds = seeds(schema, gold_name.as_deref(), rows);
        let mut evaluator = Evaluator {
            program,
            sources,
            interp: Interpreter::new(program),
            schema,
            completion,
            completion_index,
            seeds,
            reads_gold,
            companions: None,
        };
        if program.group.is_some() {
            evaluator.companions = evaluator.companion_layout();
        }
        Some(evaluator)
    }

    /// The layout of the companions in a `group by` spec: the one where the gold, beside a
    /// correct and a wrong companion in the same layout, scores best summed over the seeds
    /// (the first on ties). `None` without a gold.
    fn companion_layout(&mut self) -> Option<Layout> {
        if self.seeds.iter().all(|s| s.gold.is_none()) {
            return None;
        }
        let tag = self.tags().swap_remove(0);
        let layouts = [
            Layout::Tag(tag),
            Layout::Boxed,
            Layout::Stated,
            Layout::Bare,
        ];
        let mut best: Option<(f64, Layout)> = None;
        for layout in layouts {
            self.companions = Some(layout.clone());
            let total: f64 = self
                .seeds
                .iter()
                .filter_map(|seed| {
                    let gold = seed.gold.as_ref()?;
                    let input = self.input(seed, &layout.one(gold))?;
                    Some(
                        self.score(&self.eval(seed, &input)?)
                            .unwrap_or(f64::NEG_INFINITY),
                    )
                })
                .sum();
            if best.as_ref().is_none_or(|(b, _)| total > *b) {
                best = Some((total, layout));
            }
        }
        best.map(|(_, layout)| layout)
    }

    pub(super) fn findings(&self, out: &mut Vec<StaticFinding>) {
        self.pays_on_empty(out);
        self.several_answer_blocks(out);
        self.max_without_correctness(out);
    }

    /// The input record of a seed with `completion` in the completion column.
    fn input(&self, seed: &Seed, completion: &str) -> Option<Value> {
        let mut row = seed.row.clone();
        row.insert(self.completion.clone(), completion.into());
        decode_json(&Json::Object(row), self.schema).ok()
    }

    /// Every term's value on `input` (a completion written into `seed`'s row); in a `group by`
    /// spec, scored beside the seed's companions.
    fn eval(&self, seed: &Seed, input: &Value) -> Option<Vec<Value>> {
        let row = self.interp.eval_row(input).ok()?;
        self.grouped(seed, input, row)
    }

    /// The candidate's row-level values `row` completed by the group stage, in a group with the
    /// seed's companions (a group of one without them). Unchanged without `group by`.
    fn grouped(&self, seed: &Seed, input: &Value, row: Vec<Value>) -> Option<Vec<Value>> {
        if self.program.group.is_none() {
            return Some(row);
        }
        let mut inputs = vec![input.clone()];
        if let (Some(layout), Some(gold)) = (&self.companions, &seed.gold) {
            let wrong = crate::probe::wrong_answer(gold);
            inputs.push(self.input(seed, &layout.one(gold))?);
            inputs.push(self.input(seed, &layout.one(&wrong))?);
        }
        let mut rows: Vec<_> = std::iter::once(Ok(row))
            .chain(inputs[1..].iter().map(|i| self.interp.eval_row(i)))
            .collect();
        crate::grouping::run_groups(self.program, &self.interp, &inputs, &mut rows);
        rows.swap_remove(0).ok()
    }

    fn score(&self, values: &[Value]) -> Option<f64> {
        numeric(values.get(self.program.score?)?)
    }

    /// The terms of the spec's own file whose value is a number or a truth value, except the
    /// score itself.
    fn scalar_terms(&self) -> Vec<TermId> {
        let score = self.program.score;
        (0..self.program.terms.len())
            .filter(|&t| {
                let term = &self.program.terms[t];
                Some(t) != score
                    && term.span.file == FileId(0)
                    && !term.name.contains('#')
                    && !is_group_term(term.kind)
                    // In a group spec the row's own score is the sum of what the terms pay.
                    && !(term.kind == TermKind::Score && self.program.group.is_some())
                    && matches!(term.ty, Ty::Bool | Ty::Int | Ty::Float)
            })
            .collect()
    }

    /// The score with row term `t` switched off (false, 0) and every term after it recomputed
    /// (in a `group by` spec, the group stage again beside the same companions).
    fn score_without(
        &self,
        seed: &Seed,
        input: &Value,
        values: &[Value],
        t: TermId,
    ) -> Option<f64> {
        let mut off = values.to_vec();
        off[t] = off_value(&values[t]);
        let order = &self.program.eval_order;
        let pos = order.iter().position(|&o| o == t)?;
        self.interp
            .eval_terms(input, &mut off, &order[pos + 1..])
            .ok()?;
        self.score(&self.grouped(seed, input, off)?)
    }

    /// Whether the score reads term `t`, directly or through other terms.
    fn score_reads(&self, t: TermId) -> bool {
        let Some(s) = self.program.score else {
            return false;
        };
        let mut seen = vec![false; self.program.terms.len()];
        let mut stack = vec![s];
        while let Some(u) = stack.pop() {
            if u == t {
                return true;
            }
            if std::mem::replace(&mut seen[u], true) {
                continue;
            }
            let mut refs = Vec::new();
            super::term_refs(&self.program.terms[u].body.expr, &mut refs);
            stack.extend(refs);
            // An aggregate's slot reads its source (over the group).
            stack.extend(self.program.group.iter().flat_map(|g| {
                g.aggregates
                    .iter()
                    .filter(move |a| a.slot == u)
                    .map(|a| a.source)
            }));
        }
        false
    }

    /// Tag names the spec extracts (`extract_tag(completion, "answer")`), else `answer`.
    fn tags(&self) -> Vec<String> {
        let mut tags = Vec::new();
        for (_, site) in self.extraction_sites() {
            if let ExprKind::Call(id, args) = &site.kind {
                if *id == builtins::id::EXTRACT_TAG {
                    if let Some(ExprKind::Const(Value::Text(t))) = args.get(1).map(|a| &a.kind) {
                        if !tags.iter().any(|k: &String| **k == **t) {
                            tags.push(t.to_string());
                        }
                    }
                }
            }
        }
        if tags.is_empty() {
            tags.push("answer".into());
        }
        tags
    }

    /// `pays-on-empty`: a term that raises the score on the empty completion, or — for a
    /// term that reads the gold — on empty answer tags or an empty `\boxed{}` (a format term
    /// that accepts empty tags is the probe's format-only family).
    fn pays_on_empty(&self, out: &mut Vec<StaticFinding>) {
        let mut shells = vec![("the empty completion".to_string(), String::new(), false)];
        for tag in self.tags() {
            shells.push((
                format!("empty `<{tag}>` tags"),
                format!("<{tag}></{tag}>"),
                true,
            ));
            shells.push((
                format!("empty `<{tag}>` tags after reasoning"),
                format!("{REASONING}<{tag}>\n\n</{tag}>"),
                true,
            ));
        }
        shells.push((
            "an empty `\\boxed{}`".into(),
            "The answer is $\\boxed{}$.".into(),
            true,
        ));
        let candidates = self.scalar_terms();
        let mut reported = vec![false; self.program.terms.len()];
        for (label, text, gold_only) in &shells {
            for &t in &candidates {
                if reported[t] || (*gold_only && !self.reads_gold[t]) {
                    continue;
                }
                if let Some((value, raise)) = self.pays_on(t, text) {
                    reported[t] = true;
                    let term = &self.program.terms[t];
                    out.push(finding(
                        self.sources,
                        "pays-on-empty",
                        term_span(term),
                        format!(
                            "`{}` is {value} on {label} and adds {} to the score: a policy earns it by writing nothing",
                            term.name, round(raise)
                        ),
                        "require content before paying: compare the extracted answer for equality, or gate the term on a non-empty answer (`len(trim(answer)) > 0 and …`)",
                    ));
                }
            }
        }
    }

    /// Term `t`'s value on `completion` and what it adds to the score there, when it adds
    /// something on every seed.
    fn pays_on(&self, t: TermId, completion: &str) -> Option<(String, f64)> {
        let mut paid = None;
        for seed in &self.seeds {
            let input = self.input(seed, completion)?;
            let values = self.eval(seed, &input)?;
            if !positive(&values[t]) {
                return None;
            }
            let raise = self.score(&values)? - self.score_without(seed, &input, &values, t)?;
            if raise <= 1e-12 {
                return None;
            }
            paid = Some((values[t].to_string(), raise));
        }
        paid
    }

    /// Extractions (a builtin that takes one answer out of a text) of the completion in the
    /// spec's own terms, with the term they are in.
    fn extraction_sites(&self) -> Vec<(TermId, &'a Expr)> {
        let mut sites = Vec::new();
        for (t, term) in self.program.terms.iter().enumerate() {
            let mut stack = vec![&term.body.expr];
            while let Some(e) = stack.pop() {
                if let ExprKind::Call(id, args) = &e.kind {
                    if e.span.file == FileId(0)
                        && EXTRACTORS.contains(&BUILTINS[*id].name)
                        && args
                            .first()
                            .is_some_and(|a| reads_whole(self.program, a, self.completion_index))
                    {
                        sites.push((t, e));
                    }
                }
                stack.extend(e.children());
            }
        }
        sites
    }

    /// `several-answer-blocks`: a completion with two answer blocks (in the layout the spec
    /// pays for) is still paid as correct, and the extraction takes the first or the last.
    fn several_answer_blocks(&self, out: &mut Vec<StaticFinding>) {
        let sites = self.extraction_sites();
        if sites.is_empty() {
            return;
        }
        let mut layouts: Vec<(String, Layout)> = self
            .tags()
            .into_iter()
            .map(|t| (format!("`<{t}>` blocks"), Layout::Tag(t)))
            .collect();
        layouts.push(("`\\boxed{}` answers".into(), Layout::Boxed));
        let mut reported = vec![false; sites.len()];
        for (what, layout) in &layouts {
            let Some(counts) = self.two_blocks_paid(layout) else {
                continue;
            };
            for (i, (t, site)) in sites.iter().enumerate() {
                if reported[i] {
                    continue;
                }
                let Some(which) = self.which_block(*t, site, layout) else {
                    continue;
                };
                // The extraction that decides: it takes the block that is paid.
                if !self.score_reads(*t)
                    || (which == "first" && !counts.0)
                    || (which == "last" && !counts.1)
                {
                    continue;
                }
                reported[i] = true;
                let paid = match counts {
                    (true, true) => "whichever of them holds the answer".to_string(),
                    (true, false) => "when the first holds the answer".to_string(),
                    _ => "when the last holds the answer".to_string(),
                };
                out.push(finding(
                    self.sources,
                    "several-answer-blocks",
                    site.span,
                    format!(
                        "several {what} are allowed: this takes the {which} of them, and a completion with two is paid as correct {paid}",
                    ),
                    "allow exactly one answer block: anchor the format regex at both ends and gate correctness on it (`format and …`), or reject a second block (`tag_count(completion, \"answer\") == 1`)",
                ));
            }
        }
    }

    /// Whether two blocks are paid as correct, on every seed: (gold first, gold last).
    fn two_blocks_paid(&self, layout: &Layout) -> Option<(bool, bool)> {
        let mut counts = (true, true);
        let mut any = false;
        for seed in &self.seeds {
            let Some(gold) = &seed.gold else { continue };
            let wrong = crate::probe::wrong_answer(gold);
            let score = |text: String| {
                self.input(seed, &text)
                    .and_then(|i| self.score(&self.eval(seed, &i)?))
            };
            let (Some(reference), Some(base)) =
                (score(layout.one(gold)), score(layout.one(&wrong)))
            else {
                return None;
            };
            if reference <= base {
                return None;
            }
            let threshold = reference - (reference - base) / 2.0;
            let first = score(layout.two(gold, &wrong)).is_some_and(|s| s >= threshold);
            let last = score(layout.two(&wrong, gold)).is_some_and(|s| s >= threshold);
            counts = (counts.0 && first, counts.1 && last);
            any = true;
        }
        (any && (counts.0 || counts.1)).then_some(counts)
    }

    /// Which of two blocks an extraction takes (`first` or `last`), on every seed.
    fn which_block(&self, t: TermId, site: &Expr, layout: &Layout) -> Option<&'static str> {
        let body = Body {
            expr: site.clone(),
            locals: self.program.terms[t].body.locals,
        };
        let mut which = None;
        for seed in &self.seeds {
            let Some(gold) = &seed.gold else { continue };
            let wrong = crate::probe::wrong_answer(gold);
            let input = self.input(seed, &layout.two(gold, &wrong))?;
            let values = self.eval(seed, &input)?;
            let Ok(Value::Text(taken)) = self.interp.eval_body(&body, &input, &values) else {
                return None;
            };
            let taken = taken.trim();
            let this = if taken == gold.trim() {
                "first"
            } else if taken == wrong {
                "last"
            } else {
                return None;
            };
            if which.is_some_and(|w| w != this) {
                return None;
            }
            which = Some(this);
        }
        which
    }

    /// `max-without-correctness`: the score's own terms set to every combination of their
    /// values (truth values both ways; numbers at the least and the most they took on the
    /// probe's completions). A finding when the best score with every correctness term (a
    /// term reading the gold) off reaches the score of some combination where correctness is
    /// on and pays (scores more than the same combination with it off): the other terms
    /// outweigh correctness.
    ///
    /// In a `group by` spec whose final score is the group block's, the combinations are of
    /// the terms of the row's own `score`, and the two combinations found (the best without
    /// correctness, the least with it) are then scored through the group stage beside the
    /// companions: a finding only when the first's group score reaches the second's (see the
    /// module doc).
    fn max_without_correctness(&self, out: &mut Vec<StaticFinding>) {
        let Some(final_score) = self.program.score else {
            return;
        };
        let s = if self.program.terms[final_score].kind == TermKind::GroupScore {
            match (self.program.terms.iter()).position(|t| t.kind == TermKind::Score) {
                Some(row) => row,
                None => return,
            }
        } else {
            final_score
        };
        let score_term = &self.program.terms[s];
        let mut direct: Vec<TermId> = Vec::new();
        super::term_refs(&score_term.body.expr, &mut direct);
        direct.retain(|&t| matches!(self.program.terms[t].ty, Ty::Bool | Ty::Int | Ty::Float));
        let gold: u32 = (0..direct.len())
            .filter(|&i| self.reads_gold[direct[i]])
            .map(|i| 1 << i)
            .sum();
        if direct.len() > 12 || gold == 0 || gold == (1 << direct.len()) - 1 {
            return;
        }
        let Some((ranges, (seed, input, mut values))) = self.ranges(&direct) else {
            return;
        };
        // A correctness term that never changed on the probe's completions cannot be judged.
        if (0..direct.len())
            .any(|i| gold >> i & 1 == 1 && ranges[i][0].to_string() == ranges[i][1].to_string())
        {
            return;
        }
        // Each combination's row score, and (in a group spec) its group score.
        let mut combination = |mask: u32, grouped: bool| -> Option<f64> {
            for (i, &t) in direct.iter().enumerate() {
                values[t] = ranges[i][(mask >> i & 1) as usize].clone();
            }
            let score = self
                .interp
                .eval_body(&score_term.body, &input, &values)
                .ok()?;
            if !grouped {
                return numeric(&score);
            }
            // The row terms after the score (an aggregate's source may read it), then the group.
            values[s] = score;
            let mut row = values.clone();
            let order = &self.program.eval_order;
            let pos = order.iter().position(|&o| o == s)?;
            self.interp
                .eval_terms(&input, &mut row, &order[pos + 1..])
                .ok()?;
            self.score(&self.grouped(seed, &input, row)?)
        };
        let mut scores = Vec::with_capacity(1 << direct.len());
        for mask in 0u32..(1 << direct.len()) {
            match combination(mask, false) {
                Some(x) => scores.push(x),
                None => return,
            }
        }
        // Best without correctness (every gold term off), and the least a correct answer
        // earns where correctness pays.
        let (without, mask) = (0..scores.len() as u32)
            .filter(|m| m & gold == 0)
            .map(|m| (scores[m as usize], m))
            .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
        let (with, with_mask) = (0..scores.len() as u32)
            .filter(|m| {
                m & gold == gold && scores[*m as usize] > scores[(m & !gold) as usize] + 1e-12
            })
            .map(|m| (scores[m as usize], m))
            .fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
        if with.is_infinite() || without < with - 1e-12 {
            return;
        }
        let grouped = if s == final_score {
            String::new()
        } else {
            let (Some(g_without), Some(g_with)) =
                (combination(mask, true), combination(with_mask, true))
            else {
                return;
            };
            if g_without < g_with - 1e-12 {
                return;
            }
            format!(
                ", and the group's score gives it {} against {} for that correct answer (each beside a correct and a wrong rollout)",
                round(g_without),
                round(g_with)
            )
        };
        let name = |i: usize| self.program.terms[direct[i]].name.clone();
        let helpers: Vec<String> = (0..direct.len())
            .filter(|&i| gold >> i & 1 == 0 && mask >> i & 1 == 1)
            .map(|i| format!("{} = {}", name(i), ranges[i][1]))
            .collect();
        let gold_terms: Vec<String> = (0..direct.len())
            .filter(|&i| gold >> i & 1 == 1)
            .map(name)
            .collect();
        let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        out.push(finding(
            self.sources,
            "max-without-correctness",
            term_span(score_term),
            format!(
                "without a correct answer ({} off) the score reaches {} ({}), as much as a correct answer can score ({}; at most {}){grouped}: the other terms outweigh correctness",
                gold_terms.join(", "),
                round(without),
                helpers.join(", "),
                round(with),
                round(best)
            ),
            "weight correctness above the sum of the other terms (`score = 0.8 * correct + 0.2 * format`), or pay the others only with a correct answer (`correct and format`)",
        ));
    }

    /// For each term, its (low, high) values on the probe's completions: truth values both
    /// ways, numbers at the least and the most they took. Also a neutral row: its seed, input
    /// and term values.
    #[allow(clippy::type_complexity)]
    fn ranges(&self, terms: &[TermId]) -> Option<(Vec<[Value; 2]>, (&Seed, Value, Vec<Value>))> {
        let mut seen: Vec<(f64, f64)> = vec![(f64::INFINITY, f64::NEG_INFINITY); terms.len()];
        let mut neutral = None;
        for seed in &self.seeds {
            let mut texts = vec![String::new()];
            if let Some(gold) = &seed.gold {
                let wrong = crate::probe::wrong_answer(gold);
                let layouts = [
                    Layout::Tag("answer".into()),
                    Layout::Boxed,
                    Layout::Stated,
                    Layout::Bare,
                ];
                for layout in layouts {
                    texts.push(layout.one(gold));
                    texts.push(layout.one(&wrong));
                }
            }
            for text in texts {
                let Some(input) = self.input(seed, &text) else {
                    continue;
                };
                let Some(values) = self.eval(seed, &input) else {
                    continue;
                };
                for (i, &t) in terms.iter().enumerate() {
                    if let Some(x) = numeric(&values[t]) {
                        seen[i] = (seen[i].0.min(x), seen[i].1.max(x));
                    }
                }
                neutral.get_or_insert((seed, input, values));
            }
        }
        let ranges = terms
            .iter()
            .zip(&seen)
            .map(|(&t, &(lo, hi))| match self.program.terms[t].ty {
                Ty::Bool => [Value::Bool(false), Value::Bool(true)],
                Ty::Int if lo <= hi => [Value::Int(lo as i64), Value::Int(hi as i64)],
                Ty::Int => [Value::Int(0), Value::Int(1)],
                _ if lo <= hi => [Value::Float(lo), Value::Float(hi)],
                _ => [Value::Float(0.0), Value::Float(1.0)],
            })
            .collect();
        Some((ranges, neutral?))
    }
}

/// How answers are written in a completion.
#[derive(Clone)]
enum Layout {
    Tag(String),
    Boxed,
    /// GSM8K's `#### 42` after an `Answer: 42` line.
    Stated,
    Bare,
}

impl Layout {
    fn one(&self, a: &str) -> String {
        match self {
            Layout::Tag(t) => format!("{REASONING}<{t}>\n{a}\n</{t}>"),
            Layout::Boxed => format!("Let me work through it. The answer is $\\boxed{{{a}}}$."),
            Layout::Stated => format!("Let me work through it.\nAnswer: {a}\n#### {a}"),
            Layout::Bare => a.to_string(),
        }
    }

    fn two(&self, a: &str, b: &str) -> String {
        match self {
            Layout::Tag(t) => format!("{REASONING}<{t}>\n{a}\n</{t}>\n<{t}>\n{b}\n</{t}>"),
            Layout::Boxed => format!(
                "Let me work through it. First $\\boxed{{{a}}}$, and finally $\\boxed{{{b}}}$."
            ),
            Layout::Stated => format!("Answer: {a}\n#### {a}\nAnswer: {b}\n#### {b}"),
            Layout::Bare => format!("{a}\n{b}"),
        }
    }
}

/// `constant-term`: a term of the spec's own file that reads the input and has one value on
/// every row given. In a `group by` spec the rows are scored in their own groups (by their
/// keys), and the group block's `let`s are judged too.
pub(super) fn constant_terms(
    program: &Program,
    sources: &SourceMap,
    rows: &[Json],
    out: &mut Vec<StaticFinding>,
) {
    let Some(schema) = &program.input else { return };
    let interp = Interpreter::new(program);
    let inputs: Vec<Value> = rows
        .iter()
        .take(10_000)
        .filter_map(|r| decode_json(r, schema).ok())
        .collect();
    let mut results: Vec<_> = inputs.iter().map(|i| interp.eval_row(i)).collect();
    crate::grouping::run_groups(program, &interp, &inputs, &mut results);
    let evaluated: Vec<Vec<Value>> = results.into_iter().filter_map(Result::ok).collect();
    if evaluated.len() < 2 {
        return;
    }
    let reads_input = reads_any_input(program);
    for (t, term) in program.terms.iter().enumerate() {
        if term.span.file != FileId(0)
            || term.name.contains('#')
            || !reads_input[t]
            || matches!(term.kind, TermKind::GroupScore | TermKind::GroupAggregate)
        {
            continue;
        }
        let first = evaluated[0][t].to_string();
        if evaluated.iter().all(|v| v[t].to_string() == first) {
            out.push(finding(
                sources,
                "constant-term",
                term_span(term),
                format!(
                    "`{}` is {first} on all {} rows: it does not tell them apart (a regex that never matches, an extraction that always fails, a column that is always empty?)",
                    term.name,
                    evaluated.len()
                ),
                "check it on a row where it should differ; if it is meant to be constant, make it a `param`",
            ));
        }
    }
}

/// The rows to evaluate: up to three given rows with distinct golds, else (or in addition,
/// up to two) made-up rows with golds 42 and 17 and every other column neutral.
fn seeds(schema: &Ty, gold: Option<&str>, rows: &[Json]) -> Vec<Seed> {
    let mut seeds: Vec<Seed> = Vec::new();
    for row in rows {
        let Some(object) = row.as_object() else {
            continue;
        };
        let text = gold.and_then(|g| match object.get(g)? {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let answer = text
            .map(|t| final_answer(&t).trim().to_string())
            .filter(|g| !g.is_empty() && !crate::probe::is_structured(g));
        if answer.is_none() || seeds.iter().any(|s| s.gold == answer) {
            continue;
        }
        seeds.push(Seed {
            row: object.clone(),
            gold: answer,
        });
        if seeds.len() == 3 {
            break;
        }
    }
    if seeds.len() < 2 {
        for made_up in ["42", "17"] {
            let row = crate::probe::neutral_row(schema, gold, made_up);
            if let Json::Object(row) = row {
                seeds.push(Seed {
                    row,
                    gold: gold.map(|_| made_up.to_string()),
                });
            }
        }
    }
    seeds
}

/// Per term: whether its body reads input field `field`, directly or through earlier terms.
pub(crate) fn reads_field(program: &Program, field: usize) -> Vec<bool> {
    reads(
        program,
        &|e| matches!(&e.kind, ExprKind::Field(inner, i) if *i == field && matches!(inner.kind, ExprKind::Input)),
    )
}

fn reads_any_input(program: &Program) -> Vec<bool> {
    reads(program, &|e| matches!(e.kind, ExprKind::Input))
}

fn reads(program: &Program, direct: &dyn Fn(&Expr) -> bool) -> Vec<bool> {
    let mut out = vec![false; program.terms.len()];
    let order = program
        .eval_order
        .iter()
        .chain(program.group.iter().flat_map(|g| g.order.iter()));
    let mut slots_done = false;
    for &t in order {
        // After the row terms: an aggregate's slot reads what its source reads.
        if !slots_done && !program.eval_order.contains(&t) {
            slots_done = true;
            for a in program.group.iter().flat_map(|g| &g.aggregates) {
                out[a.slot] = out[a.source];
            }
        }
        let mut stack = vec![&program.terms[t].body.expr];
        while let Some(e) = stack.pop() {
            if direct(e) || matches!(e.kind, ExprKind::Term(u) if out[u]) {
                out[t] = true;
                break;
            }
            stack.extend(e.children());
        }
    }
    out
}

/// Whether `e` is the whole input field `field` (possibly normalized, or held by a term).
pub(super) fn reads_whole(program: &Program, e: &Expr, field: usize) -> bool {
    fn go(program: &Program, e: &Expr, field: usize, depth: u8) -> bool {
        if depth > 8 {
            return false;
        }
        match &e.kind {
            ExprKind::Field(inner, i) => *i == field && matches!(inner.kind, ExprKind::Input),
            ExprKind::Call(id, args) if TRANSPARENT.contains(&BUILTINS[*id].name) => args
                .first()
                .is_some_and(|a| go(program, a, field, depth + 1)),
            ExprKind::Some(a) | ExprKind::Coalesce(a, _) => go(program, a, field, depth + 1),
            ExprKind::Term(t) => program
                .terms
                .get(*t)
                .is_some_and(|t| go(program, &t.body.expr, field, depth + 1)),
            _ => false,
        }
    }
    go(program, e, field, 0)
}

fn is_group_term(kind: TermKind) -> bool {
    matches!(
        kind,
        TermKind::GroupLet | TermKind::GroupScore | TermKind::GroupAggregate
    )
}

fn positive(v: &Value) -> bool {
    numeric(v).is_some_and(|x| x > 0.0)
}

fn off_value(v: &Value) -> Value {
    match v {
        Value::Bool(_) => Value::Bool(false),
        Value::Int(_) => Value::Int(0),
        _ => Value::Float(0.0),
    }
}

/// A number shown to 4 decimals at most.
fn round(x: f64) -> String {
    let r = (x * 1e4).round() / 1e4;
    format!("{r}")
}
