//! `ltl` declarations: LTL over finite traces. A formula lowers to a constant table (its nodes,
//! and its minimal DFA when verdicts or rewards need one; see `reward_runtime::ltl`) and, per
//! step, the values of its atoms: a bitmask for truth, one float list per atom for robustness.
//! `sat(φ)`, `robustness(φ)`, `verdicts(φ)` and a rewarded formula's run are one IR node each
//! ([`ir::LtlValue`]), whose meaning is a call of the runtime on those two pieces.

use std::collections::HashMap;
use std::sync::Arc;

use reward_runtime::builtins::id;
use reward_runtime::ltl::{encode_nodes, Automaton, Node, Op};
use reward_runtime::{Ty, Value};

use super::{Checker, Ctx};
use crate::automaton;
use crate::diag::{closest, Code, Diagnostic, Span};
use crate::ir::{self, ArithOp, CmpOp, Expr, ExprKind, NumKind};
use crate::syntax::ast;

/// What an expression asks of a formula.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum LtlUse {
    Sat,
    Robustness,
    Verdicts,
    /// `reward on accept`: the automaton's rewards as a machine run record.
    Run,
}

impl LtlUse {
    pub(crate) fn from_call(name: &str) -> Option<LtlUse> {
        Some(match name {
            "sat" => LtlUse::Sat,
            "robustness" => LtlUse::Robustness,
            "verdicts" => LtlUse::Verdicts,
            _ => return None,
        })
    }
}

/// A formula with its atoms checked against the trace's step type.
struct Lowered {
    nodes: Vec<Node>,
    /// Per atom, its boolean value reading local `step`.
    atoms: Vec<Expr>,
    step: ir::LocalId,
    trace: Expr,
}

/// `node` with its window `[lo, hi]`, if it has one (else the node's default: unbounded).
fn windowed(mut node: Node, window: Option<(u32, u32)>) -> Node {
    if let Some((lo, hi)) = window {
        node.lo = lo;
        node.hi = hi;
    }
    node
}

/// The `ltl` items of the root file.
#[derive(Default)]
pub(crate) struct FormulaState {
    /// Name → item index (in name order, as suggestions list them).
    pub(crate) items: std::collections::BTreeMap<String, usize>,
}

/// A formula validated for one use: its nodes and atoms checked over the trace, its automaton
/// when verdicts or rewards need one, and for `reward on accept` its reward and shaping.
pub(crate) struct FormulaDecl {
    name: String,
    formula: Lowered,
    dfa: Option<automaton::Dfa>,
    reward: f64,
    gamma: f64,
    /// Per automaton state, its potential (empty without `shape`).
    potentials: Vec<f64>,
}

/// The IR of one use of a validated formula ([`ir::LtlValue`]): its truth or robustness over
/// the trace, its verdicts, or its automaton's rewarded run.
pub(crate) fn lower_use(decl: &FormulaDecl, what: LtlUse, span: Span) -> Expr {
    let dfa_value = decl.dfa.as_ref().map_or(Value::None, |d| {
        Automaton::encode_dfa(d.start, &d.trans, &d.accepting, &d.verdict)
    });
    let table = Value::Record(Arc::from(vec![
        Value::text(&decl.name),
        encode_nodes(&decl.formula.nodes),
        dfa_value,
        Value::Float(decl.reward),
        Value::Float(decl.gamma),
        Value::List(decl.potentials.iter().copied().map(Value::Float).collect()),
    ]));
    let f = &decl.formula;
    let (measure, atoms) = match what {
        LtlUse::Sat => (ir::LtlMeasure::Sat, f.atoms.clone()),
        LtlUse::Robustness => (
            ir::LtlMeasure::Robustness,
            f.atoms.iter().map(robustness_of).collect(),
        ),
        LtlUse::Verdicts => (ir::LtlMeasure::Verdicts, f.atoms.clone()),
        LtlUse::Run => (ir::LtlMeasure::Run, f.atoms.clone()),
    };
    let value = ir::LtlValue {
        measure,
        nodes: f.nodes.clone().into(),
        table,
        step: f.step,
        trace: f.trace.clone(),
        atoms,
    };
    let ty = value.ty();
    Expr::new(ExprKind::Ltl(Box::new(value)), ty, span)
}

impl Checker<'_> {
    /// The IR of one use of the formula declared by item `item`.
    pub(crate) fn ltl_use(&mut self, cx: &mut Ctx, item: usize, what: LtlUse, span: Span) -> Expr {
        match self.validate_formula(cx, item, what) {
            Some(decl) => lower_use(&decl, what, span),
            None => Expr::constant(Value::None, Ty::Error, span),
        }
    }

    /// Checks the formula declared by item `item` for one use (`None` after a diagnostic).
    fn validate_formula(&mut self, cx: &mut Ctx, item: usize, what: LtlUse) -> Option<FormulaDecl> {
        let modules = self.modules;
        let ast::ItemKind::Ltl(decl) = &modules[0].ast.items[item].kind else {
            unreachable!("an ltl item")
        };
        let formula = self.check_formula(cx, decl)?;
        let needs_dfa = matches!(what, LtlUse::Verdicts | LtlUse::Run);
        let dfa = if needs_dfa {
            match automaton::build(&formula.nodes, formula.atoms.len()) {
                Ok(d) => Some(d),
                Err(e) => {
                    let why = e.to_string();
                    self.error(
                        Diagnostic::new(Code::E0031, decl.formula.span, why)
                            .help("per-step verdicts and rewards need the automaton; `sat` and `robustness` do not (they cost O(steps) for any formula). Narrow the windows, use fewer atoms, or split the formula into several `ltl` items"),
                    );
                    return None;
                }
            }
        } else {
            None
        };
        let mut decl_out = FormulaDecl {
            name: decl.name.name.clone(),
            formula,
            dfa,
            reward: 0.0,
            gamma: 1.0,
            potentials: Vec::new(),
        };
        if what == LtlUse::Run {
            self.formula_reward(cx, decl, &mut decl_out);
        }
        Some(decl_out)
    }

    /// `reward on accept`: the reward (a constant) and, with `shape`, the potentials of the
    /// automaton's states by value iteration.
    fn formula_reward(&mut self, cx: &mut Ctx, decl: &ast::LtlDecl, out: &mut FormulaDecl) {
        if let Some(r) = &decl.reward {
            let before = self.diags.len();
            let value = self.check_expr(cx, r);
            let value = self.float_for(value, r, "the reward on acceptance");
            if self.diags.len() == before {
                out.reward = self.constant_reward(&value, r);
            }
        }
        if let (Some(shape), Some(d)) = (self.shape_of(&decl.name.name), &out.dfa) {
            out.gamma = shape.gamma;
            let edges = d.edges(out.reward);
            let finished: Vec<bool> = d
                .verdict
                .iter()
                .map(|&v| v != reward_runtime::ltl::UNDECIDED)
                .collect();
            out.potentials = automaton::value_iteration(d.states(), &edges, &finished, out.gamma)
                .into_iter()
                .map(|v| -v)
                .collect();
        }
    }

    /// The formula's nodes (shared sub-formulas once) and its atoms, checked over the trace.
    fn check_formula(&mut self, cx: &mut Ctx, decl: &ast::LtlDecl) -> Option<Lowered> {
        let (trace, elem) = self.ltl_trace(decl)?;
        let step = cx.fresh_local();
        cx.locals.push(("step".into(), step, elem));
        let mut b = FormulaBuilder {
            nodes: Vec::new(),
            spans: Vec::new(),
            index: HashMap::new(),
            atoms: Vec::new(),
            atom_keys: Vec::new(),
            inlining: vec![decl.name.name.clone()],
        };
        let before = self.diags.len();
        let root = self.formula_node(cx, &mut b, &decl.formula);
        cx.locals.pop();
        let _ = root;
        if self.diags.len() != before {
            return None;
        }
        if b.atoms.len() > 62 {
            self.error(
                Diagnostic::new(
                    Code::E0031,
                    decl.formula.span,
                    format!(
                        "the formula has {} distinct atoms (at most 62)",
                        b.atoms.len()
                    ),
                )
                .help("split the formula into several `ltl` declarations"),
            );
            return None;
        }
        if let Some(j) = automaton::future_inside_past(&b.nodes) {
            self.error(
                Diagnostic::new(
                    Code::E0031,
                    b.spans[j],
                    "a past operator cannot contain a future operator",
                )
                .label("this looks back over a formula that looks ahead")
                .help("past operators (`prev`, `wprev`, `since`, `once`, `historically`) take formulas over the present and the past"),
            );
            return None;
        }
        Some(Lowered {
            nodes: b.nodes,
            atoms: b.atoms,
            step,
            trace,
        })
    }

    fn formula_node(&mut self, cx: &mut Ctx, b: &mut FormulaBuilder, f: &ast::Ltl) -> u32 {
        let node = match &f.kind {
            ast::LtlKind::Const(true) => Node::new(Op::True, 0, 0),
            ast::LtlKind::Const(false) => Node::new(Op::False, 0, 0),
            ast::LtlKind::Atom(ast::Expr {
                kind: ast::ExprKind::Name(id),
                ..
            }) if self.formulas.items.contains_key(&id.name) => {
                // Another formula by name: its formula, in place.
                if b.inlining.contains(&id.name) {
                    self.error(
                        Diagnostic::new(
                            Code::E0012,
                            id.span,
                            format!("formula `{}` refers to itself", id.name),
                        )
                        .help("a formula can use other formulas by name, but not in a cycle"),
                    );
                    return b.add(Node::new(Op::False, 0, 0), f.span);
                }
                let modules = self.modules;
                let ast::ItemKind::Ltl(other) =
                    &modules[0].ast.items[self.formulas.items[&id.name]].kind
                else {
                    unreachable!("an ltl item")
                };
                b.inlining.push(id.name.clone());
                let root = self.formula_node(cx, b, &other.formula);
                b.inlining.pop();
                return root;
            }
            ast::LtlKind::Atom(e) => {
                let key = super::machine::key(e);
                let k = match b.atom_keys.iter().position(|x| *x == key) {
                    Some(k) => k,
                    None => {
                        let value = self.check_expr(cx, e);
                        let value = self.coerce(value, &Ty::Bool, "an atom of a formula");
                        b.atoms.push(value);
                        b.atom_keys.push(key);
                        b.atoms.len() - 1
                    }
                };
                Node::new(Op::Atom, k as u32, 0)
            }
            ast::LtlKind::Unary { op, window, arg } => {
                let a = self.formula_node(cx, b, arg);
                windowed(Node::new(*op, a, 0), *window)
            }
            ast::LtlKind::Binary {
                op,
                window,
                lhs,
                rhs,
            } => {
                let a = self.formula_node(cx, b, lhs);
                let c = self.formula_node(cx, b, rhs);
                windowed(Node::new(*op, a, c), *window)
            }
        };
        b.add(node, f.span)
    }

    /// The trace a formula reads: the `over` column, or the only list column of the input.
    fn ltl_trace(&mut self, decl: &ast::LtlDecl) -> Option<(Expr, Ty)> {
        let span = decl.name.span;
        let Some(input) = self.input.clone() else {
            self.error(
                Diagnostic::new(
                    Code::E0015,
                    span,
                    "an `ltl` formula needs an `input` block with its trace",
                )
                .help(
                    "declare the trace, e.g. `input { steps: list[{x: float, collided: bool}] }`",
                ),
            );
            return None;
        };
        let Ty::Record(fields) = &input else {
            return None;
        };
        let lists: Vec<(usize, &str)> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.ty, Ty::List(_)))
            .map(|(i, f)| (i, &*f.name))
            .collect();
        let (idx, at) = match &decl.trace {
            Some(t) => {
                match fields.iter().position(|f| *f.name == t.name) {
                    Some(i) => (i, t.span),
                    None => {
                        let help = match closest(&t.name, lists.iter().map(|(_, n)| *n)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "a formula reads an input column that is a list, one step per element".into(),
                    };
                        self.error(
                            Diagnostic::new(
                                Code::E0002,
                                t.span,
                                format!("no input column `{}`", t.name),
                            )
                            .label("not an input column")
                            .help(help),
                        );
                        return None;
                    }
                }
            }
            None => match lists.as_slice() {
                [(i, _)] => (*i, span),
                [] => {
                    self.error(
                        Diagnostic::new(
                            Code::E0031,
                            span,
                            format!(
                                "`{}` has no trace: the input has no list column",
                                decl.name.name
                            ),
                        )
                        .help("a trace is a list input, e.g. `steps: list[{x: float}]`"),
                    );
                    return None;
                }
                several => {
                    let names: Vec<String> =
                        several.iter().map(|(_, n)| format!("`{n}`")).collect();
                    self.error(
                        Diagnostic::new(
                            Code::E0031,
                            span,
                            format!(
                                "which trace does `{}` read? The input has several lists: {}",
                                decl.name.name,
                                names.join(", ")
                            ),
                        )
                        .help(format!(
                            "name it: `ltl {} over {} = …`",
                            decl.name.name, several[0].1
                        )),
                    );
                    return None;
                }
            },
        };
        let ty = fields[idx].ty.clone();
        let Ty::List(elem) = &ty else {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    at,
                    format!("a formula reads a list, but `{}` is {ty}", fields[idx].name),
                )
                .help("the trace is a list of steps, e.g. `list[text]` or `list[{x: float}]`"),
            );
            return None;
        };
        let elem = (**elem).clone();
        let trace = Expr::new(
            ExprKind::Field(Box::new(Expr::new(ExprKind::Input, input.clone(), at)), idx),
            ty,
            at,
        );
        Some((trace, elem))
    }
}

struct FormulaBuilder {
    nodes: Vec<Node>,
    spans: Vec<Span>,
    index: HashMap<Node, u32>,
    atoms: Vec<Expr>,
    atom_keys: Vec<String>,
    /// Formulas being inlined (a formula that uses itself is an error).
    inlining: Vec<String>,
}

impl FormulaBuilder {
    /// Adds a node once (a repeated sub-formula is one node).
    fn add(&mut self, n: Node, span: Span) -> u32 {
        if let Some(&i) = self.index.get(&n) {
            return i;
        }
        self.nodes.push(n);
        self.spans.push(span);
        let i = self.nodes.len() as u32 - 1;
        self.index.insert(n, i);
        i
    }
}

/// The robustness of a boolean step expression: for a comparison of numbers, how far it is
/// from flipping (`a < b` gives `b − a`, `a == b` gives `−|a − b|`); `not` negates, `and`/`or`
/// are min/max; any other boolean is +∞ when true and −∞ when false.
fn robustness_of(e: &Expr) -> Expr {
    let span = e.span;
    let float = |x: &Expr| {
        if x.ty == Ty::Float {
            x.clone()
        } else {
            Expr::new(ExprKind::ToFloat(Box::new(x.clone())), Ty::Float, span)
        }
    };
    let sub = |x: Expr, y: Expr| {
        Expr::new(
            ExprKind::Arith(ArithOp::Sub, NumKind::Float, Box::new(x), Box::new(y)),
            Ty::Float,
            span,
        )
    };
    let neg = |x: Expr| Expr::new(ExprKind::Neg(NumKind::Float, Box::new(x)), Ty::Float, span);
    let call2 = |builtin: usize, x: Expr, y: Expr| {
        Expr::new(ExprKind::Call(builtin, vec![x, y]), Ty::Float, span)
    };
    let numeric = |x: &Expr| matches!(x.ty, Ty::Int | Ty::Float);
    match &e.kind {
        ExprKind::Compare(op, a, b) if numeric(a) && numeric(b) => {
            let (a, b) = (float(a), float(b));
            match op {
                CmpOp::Lt | CmpOp::Le => sub(b, a),
                CmpOp::Gt | CmpOp::Ge => sub(a, b),
                CmpOp::Eq | CmpOp::Ne => {
                    let d1 = sub(a.clone(), b.clone());
                    let d2 = sub(b, a);
                    let dist = call2(id::MAX, d1, d2);
                    if *op == CmpOp::Eq {
                        neg(dist)
                    } else {
                        dist
                    }
                }
            }
        }
        ExprKind::Not(a) => neg(robustness_of(a)),
        ExprKind::And(a, b) => call2(id::MIN, robustness_of(a), robustness_of(b)),
        ExprKind::Or(a, b) => call2(id::MAX, robustness_of(a), robustness_of(b)),
        _ => Expr::new(
            ExprKind::If(
                Box::new(e.clone()),
                Box::new(Expr::constant(Value::Float(f64::INFINITY), Ty::Float, span)),
                Box::new(Expr::constant(
                    Value::Float(f64::NEG_INFINITY),
                    Ty::Float,
                    span,
                )),
            ),
            Ty::Float,
            span,
        ),
    }
}

/// A `shape` item's settings.
pub(crate) struct Shape {
    pub gamma: f64,
    /// User potentials per state name (machines only).
    pub states: Option<Vec<(String, f64, Span)>>,
}

impl Checker<'_> {
    /// The shaping declared for a machine or rewarded formula, checked.
    pub(crate) fn shape_of(&mut self, target: &str) -> Option<Shape> {
        let &item = self.shapes.get(target)?;
        let modules = self.modules;
        let ast::ItemKind::Shape(s) = &modules[0].ast.items[item].kind else {
            return None;
        };
        if s.kind.name != "potential" {
            self.error(
                Diagnostic::new(
                    Code::E0031,
                    s.kind.span,
                    format!("unknown shaping `{}`", s.kind.name),
                )
                .help("write `shape NAME potential(gamma: 0.9)`"),
            );
            return None;
        }
        let mut gamma = None;
        let mut gamma_written = false;
        let mut states = None;
        for (name, value) in &s.args {
            match name.name.as_str() {
                "gamma" => {
                    gamma_written = true;
                    let g = match &value.kind {
                        ast::ExprKind::Float(x) => Some(*x),
                        ast::ExprKind::Int(i) => Some(*i as f64),
                        _ => None,
                    };
                    match g {
                        Some(g) if g > 0.0 && g <= 1.0 => gamma = Some(g),
                        _ => self.error(
                            Diagnostic::new(
                                Code::E0031,
                                value.span,
                                "`gamma` is a number in (0, 1]",
                            )
                            .help(
                                "the discount of the shaping term γΦ(u′) − Φ(u), e.g. `gamma: 0.9`",
                            ),
                        ),
                    }
                }
                "states" => {
                    let ast::ExprKind::Record(fields) = &value.kind else {
                        self.error(
                            Diagnostic::new(
                                Code::E0031,
                                value.span,
                                "`states` is a record of potentials, one per state",
                            )
                            .help("e.g. `states: {fetch: 0.0, carry: 0.5, delivered: 1.0}`"),
                        );
                        continue;
                    };
                    let mut list = Vec::new();
                    for (fname, fvalue) in fields {
                        let x = match &fvalue.kind {
                            ast::ExprKind::Float(x) => Some(*x),
                            ast::ExprKind::Int(i) => Some(*i as f64),
                            ast::ExprKind::Unary(ast::UnaryOp::Neg, inner) => match &inner.kind {
                                ast::ExprKind::Float(x) => Some(-*x),
                                ast::ExprKind::Int(i) => Some(-(*i as f64)),
                                _ => None,
                            },
                            _ => None,
                        };
                        match x {
                            Some(x) => list.push((fname.name.clone(), x, fname.span)),
                            None => self.error(
                                Diagnostic::new(
                                    Code::E0031,
                                    fvalue.span,
                                    "a potential is a number",
                                )
                                .help("write the potential of each state as a number literal"),
                            ),
                        }
                    }
                    states = Some(list);
                }
                other => {
                    let help = match closest(other, ["gamma", "states"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "`potential` takes `gamma` and optionally `states`".into(),
                    };
                    self.error(
                        Diagnostic::new(
                            Code::E0031,
                            name.span,
                            format!("unknown argument `{other}` of `potential`"),
                        )
                        .help(help),
                    );
                }
            }
        }
        let Some(gamma) = gamma else {
            // A `gamma` out of range was reported where it is written.
            if gamma_written {
                return None;
            }
            self.error(
                Diagnostic::new(Code::E0031, s.kind.span, "`potential` needs `gamma`")
                    .help("e.g. `shape deliver potential(gamma: 0.9)`"),
            );
            return None;
        };
        Some(Shape { gamma, states })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{compile, RootSource};
    use crate::diag::FileId;

    fn span() -> Span {
        Span::new(FileId(0), 0, 1)
    }

    /// `eventually(a)` over a trace of bools whose atom is the step itself.
    fn eventually_a() -> FormulaDecl {
        let step = 0;
        FormulaDecl {
            name: "f".into(),
            formula: Lowered {
                nodes: vec![Node::new(Op::Atom, 0, 0), Node::new(Op::Eventually, 0, 0)],
                atoms: vec![Expr::new(ExprKind::Local(step), Ty::Bool, span())],
                step,
                trace: Expr::new(ExprKind::Input, Ty::list(Ty::Bool), span()),
            },
            dfa: None,
            reward: 0.0,
            gamma: 1.0,
            potentials: Vec::new(),
        }
    }

    #[test]
    fn lower_calls_the_runtime_with_the_table_and_the_atoms_per_step() {
        let decl = eventually_a();
        let sat = lower_use(&decl, LtlUse::Sat, span());
        assert_eq!(sat.ty, Ty::Bool);
        let ExprKind::Ltl(v) = &sat.kind else {
            panic!("an ltl value")
        };
        assert_eq!(v.measure, ir::LtlMeasure::Sat);
        assert_eq!(v.atoms[0].ty, Ty::Bool);
        let reference = v.reference(span());
        let ExprKind::Call(b, args) = &reference.kind else {
            panic!("a call")
        };
        assert_eq!((*b, &reference.ty), (id::LTL_SAT, &Ty::Bool));
        let ExprKind::Const(Value::Record(table)) = &args[0].kind else {
            panic!("a constant table")
        };
        assert!(table[0].same(&Value::text("f")));
        assert!(matches!(table[2], Value::None), "no automaton for `sat`");
        // Per step, the bitmask of the atoms.
        assert_eq!(args[1].ty, Ty::list(Ty::Int));
        assert_eq!(v.reference_loops(), 1);

        let rob = lower_use(&decl, LtlUse::Robustness, span());
        let ExprKind::Ltl(v) = &rob.kind else {
            panic!("an ltl value")
        };
        assert_eq!(v.atoms[0].ty, Ty::Float, "an atom's robustness");
        let reference = v.reference(span());
        let ExprKind::Call(b, args) = &reference.kind else {
            panic!("a call")
        };
        assert_eq!((*b, &reference.ty), (id::LTL_ROBUSTNESS, &Ty::Float));
        // Per atom, its robustness at every step.
        assert_eq!(args[1].ty, Ty::list(Ty::list(Ty::Float)));
        assert_eq!(v.reference_loops(), 1);
    }

    #[test]
    fn lower_encodes_the_automaton_and_the_shaping() {
        let mut decl = eventually_a();
        decl.dfa = Some(automaton::build(&decl.formula.nodes, 1).expect("an automaton"));
        decl.reward = 2.0;
        decl.gamma = 0.5;
        decl.potentials = vec![-1.0, 0.0];
        let run = lower_use(&decl, LtlUse::Run, span());
        assert_eq!(run.ty, crate::check::machine_result_type());
        let ExprKind::Ltl(v) = &run.kind else {
            panic!("an ltl value")
        };
        assert_eq!(v.measure, ir::LtlMeasure::Run);
        let reference = v.reference(span());
        let ExprKind::Call(b, args) = &reference.kind else {
            panic!("a call")
        };
        assert_eq!((*b, &reference.ty), (id::LTL_RUN, &run.ty));
        assert_eq!(
            args[1].ty,
            Ty::list(Ty::Int),
            "per step, the atoms' bitmask"
        );
        let ExprKind::Const(Value::Record(table)) = &args[0].kind else {
            panic!("a constant table")
        };
        assert!(!matches!(table[2], Value::None));
        assert_eq!(table[3].as_f64(), 2.0);
        assert_eq!(table[4].as_f64(), 0.5);
        assert_eq!(table[5].as_list().len(), 2);
    }

    /// The messages of a spec that does not check, or the IR of its term `f`.
    fn check(text: &str) -> Result<String, Vec<String>> {
        let root = RootSource {
            name: "t.reward".into(),
            text: text.into(),
            dir: ".".into(),
        };
        match compile(root, &[]).result {
            Ok(program) => {
                let f = program.terms.iter().find(|t| t.name == "f").expect("f");
                Ok(crate::ir::print_expr(&f.body.expr))
            }
            Err(diags) => Err(diags.into_iter().map(|d| d.message).collect()),
        }
    }

    #[test]
    fn validate_checks_the_atoms_over_the_trace() {
        let ok = check("input { steps: list[int] }\nltl f = eventually(step > 2)\nscore = f\n");
        assert!(
            ok.as_ref().is_ok_and(|ir| ir.starts_with("(call ltl_sat ")),
            "{ok:?}"
        );
        let errors = |text: &str| check(text).expect_err("an error");
        assert_eq!(
            errors("input { steps: list[int] }\nltl f = eventually(f)\nscore = f\n"),
            ["formula `f` refers to itself"]
        );
        assert_eq!(
            errors("input { steps: list[int] }\nltl f = once(next(step > 1))\nscore = f\n"),
            ["a past operator cannot contain a future operator"]
        );
        assert_eq!(
            errors(
                "input { a: list[int], b: list[int] }\nltl f = eventually(step > 1)\nscore = f\n"
            ),
            ["which trace does `f` read? The input has several lists: `a`, `b`"]
        );
        assert_eq!(
            errors("input { n: int }\nltl f = eventually(step > 1)\nscore = f\n"),
            ["`f` has no trace: the input has no list column"]
        );
    }
}
