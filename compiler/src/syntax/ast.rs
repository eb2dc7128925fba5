//! The abstract syntax tree, as written by the user, with spans.

use crate::diag::Span;

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Module {
    pub items: Vec<Item>,
    /// Names that items with syntax errors meant to define; the checker stays silent about them.
    pub broken_names: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    Use(UseDecl),
    Input(Vec<FieldDecl>),
    Param {
        name: Ident,
        ty: TypeExpr,
        value: Expr,
    },
    Type {
        name: Ident,
        ty: TypeExpr,
    },
    Let {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    Rule {
        name: Ident,
        value: Expr,
    },
    Score {
        keyword: Span,
        value: Expr,
    },
    Fn(FnDecl),
    Rubric(Rubric),
    Test(TestDecl),
    /// `prop name = expr`: a per-step proposition (the current element is `step`).
    Prop {
        name: Ident,
        value: Expr,
    },
    Machine(Machine),
    /// `ltl name [over trace] = formula [reward on accept r]`.
    Ltl(LtlDecl),
    /// `shape target potential(gamma: g, …)`.
    Shape(ShapeDecl),
    /// `group by key { let …  score = … }`: terms over the rollouts that share `key`.
    Group {
        key: Expr,
        /// `Let` and `Score` items.
        items: Vec<Item>,
    },
}

#[derive(Clone, Debug)]
pub struct LtlDecl {
    pub name: Ident,
    pub trace: Option<Ident>,
    pub formula: Ltl,
    /// `reward on accept r`.
    pub reward: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct Ltl {
    pub kind: LtlKind,
    pub span: Span,
}

/// The operators are the run-time ones (`reward_runtime::ltl::Op`); aliases are resolved.
#[derive(Clone, Debug)]
pub enum LtlKind {
    Const(bool),
    /// A per-step expression (the current element is `step`).
    Atom(Expr),
    Unary {
        op: reward_runtime::ltl::Op,
        /// `eventually[lo, hi]` / `always[lo, hi]`.
        window: Option<(u32, u32)>,
        arg: Box<Ltl>,
    },
    Binary {
        op: reward_runtime::ltl::Op,
        /// `until[lo, hi]` / `release[lo, hi]`.
        window: Option<(u32, u32)>,
        lhs: Box<Ltl>,
        rhs: Box<Ltl>,
    },
}

#[derive(Clone, Debug)]
pub struct ShapeDecl {
    pub target: Ident,
    /// `potential`.
    pub kind: Ident,
    pub args: Vec<(Ident, Expr)>,
}

#[derive(Clone, Debug)]
pub struct Machine {
    pub name: Ident,
    /// The input column (a list) the machine reads, one step per element.
    pub trace: Ident,
    pub options: Vec<RubricOption>,
    pub start: Option<Ident>,
    pub terminals: Vec<Ident>,
    pub edges: Vec<Edge>,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub from: Vec<Ident>,
    pub to: Ident,
    /// `via m`: the edge runs machine `m` from this step and moves on when it terminates.
    pub via: Option<Ident>,
    /// `None`: always.
    pub guard: Option<Expr>,
    /// `None`: 0.
    pub reward: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum UseDecl {
    /// `use std::text::{a, b}` / `use std::text::a` / `use std::text`.
    Std {
        path: Vec<Ident>,
        items: Option<Vec<Ident>>,
    },
    /// `use "./helpers.reward"`.
    File { path: String, span: Span },
}

#[derive(Clone, Debug)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeExprKind {
    Named(Ident),
    List(Box<TypeExpr>),
    Record(Vec<FieldDecl>),
    Optional(Box<TypeExpr>),
}

#[derive(Clone, Debug)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<FieldDecl>,
    pub ret: TypeExpr,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub struct Rubric {
    pub name: Ident,
    pub options: Vec<RubricOption>,
    pub criteria: Vec<Criterion>,
}

#[derive(Clone, Debug)]
pub struct RubricOption {
    pub name: Ident,
    pub value: RubricOptionValue,
}

#[derive(Clone, Debug)]
pub enum RubricOptionValue {
    Word(Ident),
    Range { lo: f64, hi: f64, span: Span },
}

#[derive(Clone, Debug)]
pub struct Criterion {
    pub description: String,
    pub description_span: Span,
    pub points: f64,
    pub points_span: Span,
    pub value: Expr,
    pub tags: Vec<Ident>,
}

#[derive(Clone, Debug)]
pub struct TestDecl {
    pub name: String,
    pub name_span: Span,
    /// `param name = value` overrides for this test.
    pub params: Vec<(Ident, Expr)>,
    pub given: Option<Expr>,
    pub expects: Vec<Expr>,
    /// `expect probe [family] == safe` (or `!= safe`) lines.
    pub probes: Vec<ProbeExpect>,
}

/// `expect probe [family] == safe`: what `reward probe` must (not) find.
#[derive(Clone, Debug)]
pub struct ProbeExpect {
    /// The family or static finding kind as written (`near-miss`), `None` for all of them.
    pub family: Option<(String, Span)>,
    /// `== safe` (true) or `!= safe`.
    pub safe: bool,
    /// The whole line after `expect`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Match,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Match => "~",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::In
                | BinaryOp::NotIn
                | BinaryOp::Match
        )
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Text(String),
    Regex {
        pattern: String,
        flags: String,
    },
    Bool(bool),
    None,
    Name(Ident),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Record(Vec<(Ident, Expr)>),
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// `agg(for x in xs if cond: body)`.
    Aggregate {
        callee: Ident,
        comp: Box<Comprehension>,
    },
    Paren(Box<Expr>),
    /// Placeholder for an expression that already produced a syntax diagnostic.
    Error,
}

#[derive(Clone, Debug)]
pub struct Comprehension {
    pub var: Ident,
    pub iter: Expr,
    pub filter: Option<Expr>,
    pub body: Option<Expr>,
}
