//! The typed intermediate representation: what every backend executes.
//!
//! Names are resolved, types are explicit on every node, coercions (int/bool → float) are
//! explicit `ToFloat` nodes, params are folded to constants, and user functions are separate
//! bodies called by id. Terms are listed in source order; `eval_order` is a dependency order.

pub mod fold;
mod print;

use std::sync::Arc;

use reward_runtime::{Ty, Value};

use crate::builtins::BuiltinId;
use crate::diag::Span;

#[cfg(test)]
pub use print::print_expr;
pub use print::print_program;

pub type TermId = usize;
pub type FnId = usize;
pub type LocalId = u32;
pub type RegexId = u32;

#[derive(Debug)]
pub struct Program {
    /// The rollout schema (a record type). `None` for a library file.
    pub input: Option<Ty>,
    pub params: Vec<Param>,
    pub terms: Vec<Term>,
    /// Terms in an order where every term comes after the terms it reads.
    pub eval_order: Vec<TermId>,
    pub score: Option<TermId>,
    pub functions: Vec<Function>,
    pub regexes: Vec<RegexDef>,
    pub tests: Vec<Test>,
    /// Group-level terms, computed after every row's own terms (see [`Group`]).
    pub group: Option<Group>,
    /// The reward machines and `ltl` formulas, with the terms their lowering produced.
    pub lowered: Vec<Lowered>,
    /// The per-rollout memory budget in bytes (see `reward_runtime::meter`).
    pub max_row_bytes: u64,
}

/// A reward machine or an `ltl` formula as lowering produced it: which terms hold what, so
/// that every consumer (`--steps`, the online monitor, `reward automata`) reads them from here
/// instead of finding them again by name or position.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The machine's or formula's name.
    pub name: String,
    pub kind: LoweredKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoweredKind {
    /// A reward machine: `raw` runs it over the trace (the machine's table and per-step guard
    /// bits), `rewards` holds its per-step rewards, `run` its run record and `total` the sum.
    Machine {
        raw: TermId,
        rewards: TermId,
        run: TermId,
        total: TermId,
    },
    /// A formula with a reward on acceptance: `run` runs its automaton (the run record),
    /// `total` the sum of its rewards.
    RewardedFormula { run: TermId, total: TermId },
    /// A formula without a reward: `sat`, its truth on the trace.
    Formula { sat: TermId },
}

impl LoweredKind {
    /// The term whose value is the run record (per-step rewards and states), if any.
    pub fn run_record(self) -> Option<TermId> {
        match self {
            LoweredKind::Machine { run, .. } | LoweredKind::RewardedFormula { run, .. } => {
                Some(run)
            }
            LoweredKind::Formula { .. } => None,
        }
    }

    /// The term that calls the runtime with the machine's or formula's table.
    pub fn table_term(self) -> TermId {
        match self {
            LoweredKind::Machine { raw, .. } => raw,
            LoweredKind::RewardedFormula { run, .. } => run,
            LoweredKind::Formula { sat } => sat,
        }
    }
}

/// `group by key { … }`: rows with equal keys form a group. After the per-row terms
/// (`eval_order`) of every row, each aggregate fills its slot term in every row of the group
/// with a value computed over the group's rows, then the group's terms (`order`) are computed
/// per row. Rows whose per-row terms failed are in no group.
#[derive(Debug, Clone)]
pub struct Group {
    /// The term computing the row's key (text, int or bool), in `eval_order`.
    pub key: TermId,
    pub aggregates: Vec<GroupAggregate>,
    /// The group's `let`s and `score`, in dependency order (not in `eval_order`).
    pub order: Vec<TermId>,
}

#[derive(Debug, Clone)]
pub struct GroupAggregate {
    /// The term that receives the value (never evaluated by a backend).
    pub slot: TermId,
    /// The per-row term aggregated over the group (in `eval_order`).
    pub source: TermId,
    pub kind: GroupAggKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupAggKind {
    Sum,
    Mean,
    Min,
    Max,
    Count,
    Any,
    All,
    /// Population standard deviation.
    Std,
    /// Average rank (1-based, ascending; ties share the mean of their ranks).
    Rank,
}

impl GroupAggKind {
    pub fn from_name(name: &str) -> Option<GroupAggKind> {
        Some(match name {
            "sum" => GroupAggKind::Sum,
            "mean" => GroupAggKind::Mean,
            "min" => GroupAggKind::Min,
            "max" => GroupAggKind::Max,
            "count" => GroupAggKind::Count,
            "any" => GroupAggKind::Any,
            "all" => GroupAggKind::All,
            "std" => GroupAggKind::Std,
            "rank" => GroupAggKind::Rank,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    pub value: Value,
    pub overridden: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermKind {
    Let,
    Rule,
    Score,
    Rubric,
    Criterion,
    TagTotal,
    Machine,
    /// An `ltl` formula without rewards: its truth on the trace.
    Ltl,
    /// A `let` of a group block.
    GroupLet,
    /// The `score` of a group block: the final score.
    GroupScore,
    /// An aggregate over a group, filled in by the group stage.
    GroupAggregate,
}

impl TermKind {
    pub fn keyword(self) -> &'static str {
        match self {
            TermKind::Let => "let",
            TermKind::Rule => "rule",
            TermKind::Score => "score",
            TermKind::Rubric => "rubric",
            TermKind::Criterion => "criterion",
            TermKind::TagTotal => "tag",
            TermKind::Machine => "machine",
            TermKind::Ltl => "ltl",
            TermKind::GroupLet => "let",
            TermKind::GroupScore => "score",
            TermKind::GroupAggregate => "group aggregate",
        }
    }
}

#[derive(Debug)]
pub struct Term {
    pub name: String,
    pub kind: TermKind,
    pub ty: Ty,
    pub body: Body,
    /// In the per-rollout breakdown (numbers and booleans whose name does not start with `_`).
    pub in_breakdown: bool,
    pub span: Span,
}

/// An expression with the number of local slots it needs (comprehension variables).
#[derive(Debug, Clone)]
pub struct Body {
    pub expr: Expr,
    pub locals: u32,
}

#[derive(Debug)]
pub struct Function {
    pub name: String,
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
    /// Params occupy locals `0..params.len()`.
    pub body: Body,
    pub span: Span,
}

#[derive(Debug)]
pub struct RegexDef {
    pub pattern: String,
    pub flags: String,
    pub regex: reward_runtime::native::pattern::Pattern,
}

#[derive(Debug)]
pub struct Test {
    pub name: String,
    pub span: Span,
    /// Param values this test sets; the runner compiles the spec with them.
    pub params: Vec<(String, Value)>,
    /// The input record of the test (a constant expression).
    pub given: Body,
    pub expects: Vec<Expect>,
    /// `expect probe [family] == safe` lines: run by `reward test` through `reward probe`.
    pub probes: Vec<ProbeExpect>,
}

/// `expect probe [family] == safe` (or `!= safe`).
#[derive(Debug, Clone)]
pub struct ProbeExpect {
    /// An attack family as `reward probe` names it (`near miss`) or a static finding kind
    /// (`containment`); `None`: every family and kind.
    pub family: Option<String>,
    /// `== safe`: nothing found; `!= safe`: something found (a hole kept on purpose).
    pub safe: bool,
    pub span: Span,
}

#[derive(Debug)]
pub struct Expect {
    pub body: Body,
    pub span: Span,
    /// Terms and input fields the expectation mentions, shown when it fails.
    pub mentions: Vec<Mention>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mention {
    Term(TermId),
    Input(String, usize),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumKind {
    Int,
    Float,
}

pub use reward_runtime::semantics::{ArithOp, CmpOp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    Sum,
    Product,
    Mean,
    Min,
    Max,
    Count,
    Any,
    All,
    Argmax,
    /// `[for x in xs if c: f(x)]`: the list of the (filtered, mapped) elements.
    Collect,
}

impl AggKind {
    pub fn from_name(name: &str) -> Option<AggKind> {
        Some(match name {
            "sum" => AggKind::Sum,
            "product" => AggKind::Product,
            "mean" => AggKind::Mean,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "count" => AggKind::Count,
            "any" => AggKind::Any,
            "all" => AggKind::All,
            "argmax" => AggKind::Argmax,
            "list" => AggKind::Collect,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggKind::Sum => "sum",
            AggKind::Product => "product",
            AggKind::Mean => "mean",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::Count => "count",
            AggKind::Any => "any",
            AggKind::All => "all",
            AggKind::Argmax => "argmax",
            AggKind::Collect => "list",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Const(Value),
    /// The whole input record.
    Input,
    Term(TermId),
    Local(LocalId),
    Field(Box<Expr>, usize),
    /// `list[i]`, negative indices count from the end; out of range is a row error.
    Index(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(NumKind, Box<Expr>),
    Arith(ArithOp, NumKind, Box<Expr>, Box<Expr>),
    /// Text or list concatenation.
    Concat(Box<Expr>, Box<Expr>),
    /// Operands have the same type (numbers already unified); NaN compares unequal.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Coalesce(Box<Expr>, Box<Expr>),
    /// int or bool → float.
    ToFloat(Box<Expr>),
    /// A present value used where an optional is expected (`T` → `T?`).
    Some(Box<Expr>),
    /// Substring test (`needle in haystack` on text).
    TextContains {
        haystack: Box<Expr>,
        needle: Box<Expr>,
    },
    /// Membership of an element in a list.
    ListContains {
        list: Box<Expr>,
        item: Box<Expr>,
    },
    /// `text ~ regex`: unanchored search.
    Match(Box<Expr>, RegexId),
    Call(BuiltinId, Vec<Expr>),
    CallFn(FnId, Vec<Expr>),
    Aggregate(Box<Aggregate>),
    List(Vec<Expr>),
    Record(Vec<Expr>),
    /// A rubric criterion value: must lie in [0, 1], else the row is an error naming the criterion.
    CheckUnit {
        value: Box<Expr>,
        criterion: Arc<str>,
    },
    /// `sat(φ)` or `robustness(φ)` of an `ltl` formula over its trace.
    Ltl(Box<LtlValue>),
    /// A reward machine's run over its trace (its run record).
    Machine(Box<MachineValue>),
}

/// What an `ltl` formula gives over its trace: its truth (`sat`) or robustness at the first
/// step, its verdicts per step, or its automaton's rewarded run (`reward on accept`).
///
/// What it means is [`LtlValue::reference`]: the runtime's evaluation of the formula (or the
/// walk of its automaton) over its atoms collected per step. A backend may compute the same
/// bits another way: the JIT computes the atoms and the operators, or the automaton's steps,
/// in loops over the trace's columns when it can.
#[derive(Debug, Clone)]
pub struct LtlValue {
    pub measure: LtlMeasure,
    /// The formula, children before parents, root last (the nodes `table` holds encoded).
    pub nodes: Arc<[reward_runtime::ltl::Node]>,
    /// The runtime's table of the formula (its name, nodes and automaton: see
    /// `reward_runtime::ltl`).
    pub table: Value,
    /// The local each atom reads the step as.
    pub step: LocalId,
    pub trace: Expr,
    /// Per atom, its value at `step`: a float (its robustness) for `robustness`, else a bool.
    pub atoms: Vec<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LtlMeasure {
    /// `sat(φ)`: a bool.
    Sat,
    /// `robustness(φ)`: a float.
    Robustness,
    /// `verdicts(φ)`: per step, the automaton's verdict after it (a list of texts).
    Verdicts,
    /// `reward on accept`: the automaton's run as a machine run record.
    Run,
}

impl LtlValue {
    /// The meaning: `ltl_sat(table, [for step in trace: bitmask of the atoms])` (or
    /// `ltl_verdicts`, `ltl_run` on the same bitmasks), or
    /// `ltl_robustness(table, [for each atom: [for step in trace: atom]])`.
    pub fn reference(&self, span: Span) -> Expr {
        use reward_runtime::builtins::id;
        let table = Expr::constant(self.table.clone(), Ty::Error, span);
        let per_step = |body: Expr, elem: Ty| per_step(self.step, &self.trace, body, elem, span);
        let masks = || per_step(bitmask(self.atoms.clone(), span), Ty::Int);
        let (builtin, atoms) = match self.measure {
            LtlMeasure::Sat => (id::LTL_SAT, masks()),
            LtlMeasure::Verdicts => (id::LTL_VERDICTS, masks()),
            LtlMeasure::Run => (id::LTL_RUN, masks()),
            LtlMeasure::Robustness => {
                // At least one list, so that the runtime sees the trace's length (and its
                // emptiness) when the formula has no atoms (`eventually(true)`).
                let zero = || Expr::constant(Value::Float(0.0), Ty::Float, span);
                let lists = match self.atoms.as_slice() {
                    [] => vec![per_step(zero(), Ty::Float)],
                    atoms => atoms
                        .iter()
                        .map(|a| per_step(a.clone(), Ty::Float))
                        .collect(),
                };
                let lists = Expr::new(ExprKind::List(lists), Ty::list(Ty::list(Ty::Float)), span);
                (id::LTL_ROBUSTNESS, lists)
            }
        };
        Expr::new(ExprKind::Call(builtin, vec![table, atoms]), self.ty(), span)
    }

    /// The type of the value.
    pub fn ty(&self) -> Ty {
        match self.measure {
            LtlMeasure::Sat => Ty::Bool,
            LtlMeasure::Robustness => Ty::Float,
            LtlMeasure::Verdicts => Ty::list(Ty::Text),
            LtlMeasure::Run => crate::check::machine_result_type(),
        }
    }

    /// How many loops over the trace [`Self::reference`] runs (each spends the operation budget
    /// once per step): one for the bitmasks, one per atom (at least one) for robustness.
    pub fn reference_loops(&self) -> usize {
        match self.measure {
            LtlMeasure::Sat | LtlMeasure::Verdicts | LtlMeasure::Run => 1,
            LtlMeasure::Robustness => self.atoms.len().max(1),
        }
    }
}

/// A reward machine's run over its trace: the record `{total, rewards, done, state, taken}`
/// of `reward_runtime::machine::run`.
///
/// What it means is [`MachineValue::reference`]: the runtime's run of the machine's table over
/// each step's mask, collected per step (or over the label texts themselves). A backend may
/// take the same steps another way: the JIT runs the machine in its own loop over the trace's
/// columns when it can.
#[derive(Debug, Clone)]
pub struct MachineValue {
    /// The runtime's table of the machine (see `reward_runtime::machine::run`).
    pub table: Value,
    pub trace: Expr,
    pub steps: MachineSteps,
}

/// How a machine reads each step.
#[derive(Debug, Clone)]
pub enum MachineSteps {
    /// Bit k of the step's mask holds when `bits[k]` does, at `step`: atom k of the guards
    /// when the table has `letters` (which map the atoms' valuation to the edges that hold),
    /// else edge k's guard.
    Bits { step: LocalId, bits: Vec<Expr> },
    /// A machine of more than `WORD_BITS` edges: per step, its list of words of edge bits.
    Words { step: LocalId, words: Expr },
    /// A trace of label texts: atom k holds on a step when `needles[k]` occurs in its label.
    Labels { needles: Vec<Value> },
}

impl MachineValue {
    /// The meaning: `machine_run(table, [for step in trace: mask])`, or
    /// `machine_run_labels(table, trace, needles)`.
    pub fn reference(&self, span: Span) -> Expr {
        use reward_runtime::builtins::id;
        let table = Expr::constant(self.table.clone(), Ty::Error, span);
        let (builtin, args) = match &self.steps {
            MachineSteps::Bits { step, bits } => {
                let mask = bitmask(bits.clone(), span);
                let masks = per_step(*step, &self.trace, mask, Ty::Int, span);
                (id::MACHINE_RUN, vec![table, masks])
            }
            MachineSteps::Words { step, words } => {
                let masks = per_step(*step, &self.trace, words.clone(), words.ty.clone(), span);
                (id::MACHINE_RUN, vec![table, masks])
            }
            MachineSteps::Labels { needles } => {
                let needles = Value::List(needles.clone().into());
                let needles = Expr::constant(needles, Ty::list(Ty::Text), span);
                (
                    id::MACHINE_RUN_LABELS,
                    vec![table, self.trace.clone(), needles],
                )
            }
        };
        let ty = crate::check::machine_result_type();
        Expr::new(ExprKind::Call(builtin, args), ty, span)
    }
}

/// `[for var in trace: body]`: a list of `body` per step, each of type `elem`.
pub(crate) fn per_step(var: LocalId, trace: &Expr, body: Expr, elem: Ty, span: Span) -> Expr {
    Expr::new(
        ExprKind::Aggregate(Box::new(Aggregate {
            kind: AggKind::Collect,
            var,
            iter: trace.clone(),
            filter: None,
            body: Some(body),
            elem: elem.clone(),
        })),
        Ty::list(elem),
        span,
    )
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub kind: AggKind,
    pub var: LocalId,
    pub iter: Expr,
    pub filter: Option<Expr>,
    /// `None`: the element itself.
    pub body: Option<Expr>,
    /// Element type the aggregate folds (after the body).
    pub elem: Ty,
}

impl Expr {
    pub fn new(kind: ExprKind, ty: Ty, span: Span) -> Expr {
        Expr { kind, ty, span }
    }

    pub fn constant(value: Value, ty: Ty, span: Span) -> Expr {
        Expr::new(ExprKind::Const(value), ty, span)
    }

    /// The direct sub-expressions, in evaluation order: the one list every traversal uses.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Const(_) | ExprKind::Input | ExprKind::Term(_) | ExprKind::Local(_) => {
                Vec::new()
            }
            ExprKind::Field(a, _)
            | ExprKind::Not(a)
            | ExprKind::Neg(_, a)
            | ExprKind::ToFloat(a)
            | ExprKind::Some(a)
            | ExprKind::Match(a, _) => vec![a],
            ExprKind::CheckUnit { value, .. } => vec![value],
            ExprKind::Index(a, b)
            | ExprKind::Arith(_, _, a, b)
            | ExprKind::Concat(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::TextContains {
                haystack: a,
                needle: b,
            }
            | ExprKind::ListContains { list: a, item: b } => vec![a, b],
            ExprKind::If(c, a, b) => vec![c, a, b],
            ExprKind::Call(_, args)
            | ExprKind::CallFn(_, args)
            | ExprKind::List(args)
            | ExprKind::Record(args) => args.iter().collect(),
            ExprKind::Aggregate(a) => std::iter::once(&a.iter)
                .chain(a.filter.as_ref())
                .chain(a.body.as_ref())
                .collect(),
            ExprKind::Ltl(l) => std::iter::once(&l.trace).chain(&l.atoms).collect(),
            ExprKind::Machine(m) => {
                let per_step: Vec<&Expr> = match &m.steps {
                    MachineSteps::Bits { bits, .. } => bits.iter().collect(),
                    MachineSteps::Words { words, .. } => vec![words],
                    MachineSteps::Labels { .. } => Vec::new(),
                };
                std::iter::once(&m.trace).chain(per_step).collect()
            }
        }
    }

    /// [`Expr::children`], mutably.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Const(_) | ExprKind::Input | ExprKind::Term(_) | ExprKind::Local(_) => {
                Vec::new()
            }
            ExprKind::Field(a, _)
            | ExprKind::Not(a)
            | ExprKind::Neg(_, a)
            | ExprKind::ToFloat(a)
            | ExprKind::Some(a)
            | ExprKind::Match(a, _) => vec![a],
            ExprKind::CheckUnit { value, .. } => vec![value],
            ExprKind::Index(a, b)
            | ExprKind::Arith(_, _, a, b)
            | ExprKind::Concat(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::TextContains {
                haystack: a,
                needle: b,
            }
            | ExprKind::ListContains { list: a, item: b } => vec![a, b],
            ExprKind::If(c, a, b) => vec![c, a, b],
            ExprKind::Call(_, args)
            | ExprKind::CallFn(_, args)
            | ExprKind::List(args)
            | ExprKind::Record(args) => args.iter_mut().collect(),
            ExprKind::Aggregate(a) => {
                let a = &mut **a;
                std::iter::once(&mut a.iter)
                    .chain(a.filter.as_mut())
                    .chain(a.body.as_mut())
                    .collect()
            }
            ExprKind::Ltl(l) => {
                let l = &mut **l;
                std::iter::once(&mut l.trace).chain(&mut l.atoms).collect()
            }
            ExprKind::Machine(m) => {
                let m = &mut **m;
                let per_step: Vec<&mut Expr> = match &mut m.steps {
                    MachineSteps::Bits { bits, .. } => bits.iter_mut().collect(),
                    MachineSteps::Words { words, .. } => vec![words],
                    MachineSteps::Labels { .. } => Vec::new(),
                };
                std::iter::once(&mut m.trace).chain(per_step).collect()
            }
        }
    }
}

/// `Σ (if cond_k then 2^k else 0)`: bit k set when condition k holds (0 for no conditions).
pub(crate) fn bitmask(conditions: Vec<Expr>, span: Span) -> Expr {
    let mut mask: Option<Expr> = None;
    for (k, cond) in conditions.into_iter().enumerate() {
        // An edge without a guard always holds: its bit alone.
        let bit = if matches!(cond.kind, ExprKind::Const(Value::Bool(true))) {
            Expr::constant(Value::Int(1i64 << k), Ty::Int, cond.span)
        } else {
            Expr::new(
                ExprKind::If(
                    Box::new(cond),
                    Box::new(Expr::constant(Value::Int(1i64 << k), Ty::Int, span)),
                    Box::new(Expr::constant(Value::Int(0), Ty::Int, span)),
                ),
                Ty::Int,
                span,
            )
        };
        mask = Some(match mask {
            None => bit,
            Some(acc) => Expr::new(
                ExprKind::Arith(ArithOp::Add, NumKind::Int, Box::new(acc), Box::new(bit)),
                Ty::Int,
                span,
            ),
        });
    }
    mask.unwrap_or_else(|| Expr::constant(Value::Int(0), Ty::Int, span))
}
