//! Reward machines: states, guarded edges, terminal states and the policy for steps no edge
//! matches. A machine lowers to one IR node ([`ir::MachineValue`]): the machine as a constant
//! table for the runtime's `machine_run`, its trace, and what each step's mask is made of (the
//! guards' atoms, the edges' own guards, or the label texts' needles). Guards of one state must
//! not overlap unless the machine says `order: first`; the proof enumerates the valuations of
//! the guards' propositions.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use reward_runtime::builtins::id;
use reward_runtime::machine::{OTHERWISE_END, OTHERWISE_ERROR, OTHERWISE_STAY, WORD_BITS};
use reward_runtime::ty::Field;
use reward_runtime::{Ty, Value};

use super::{Checker, Ctx};
use crate::diag::{closest, Code, Diagnostic};
use crate::ir::{self, AggKind, ArithOp, Expr, ExprKind, NumKind};
use crate::syntax::ast::{self, BinaryOp, UnaryOp};

/// The type of a machine run:
/// `{total: float, rewards: list[float], done: int?, state: text, taken: list[int]}`.
pub(crate) fn machine_result_type() -> Ty {
    Ty::record(vec![
        Field {
            name: "total".into(),
            ty: Ty::Float,
        },
        Field {
            name: "rewards".into(),
            ty: Ty::list(Ty::Float),
        },
        Field {
            name: "done".into(),
            ty: Ty::optional(Ty::Int),
        },
        Field {
            name: "state".into(),
            ty: Ty::Text,
        },
    ])
}

/// Most distinct propositions in two guards for the overlap proof (2^16 valuations).
const MAX_ATOMS: usize = 16;

/// The trace a machine reads: an input column that is a list.
struct MachineTrace {
    input: Ty,
    /// The column's index in the input record.
    field: usize,
    ty: Ty,
    /// The type of one step.
    step: Ty,
}

impl MachineTrace {
    /// `input.<trace>`.
    fn expr(&self, input_span: crate::diag::Span, span: crate::diag::Span) -> Expr {
        let input = Expr::new(ExprKind::Input, self.input.clone(), input_span);
        Expr::new(
            ExprKind::Field(Box::new(input), self.field),
            self.ty.clone(),
            span,
        )
    }
}

/// A machine validated: what lowering needs.
struct MachineDecl<'m> {
    trace: MachineTrace,
    options: MachineOptions,
    /// The machine as it runs: its flattening when it calls others.
    machine: Cow<'m, ast::Machine>,
}

struct MachineOptions {
    /// The policy for a step no edge matches (`OTHERWISE_*`).
    otherwise: i64,
    /// `order: first`: the first listed edge whose guard holds wins.
    first: bool,
}

/// States in order of appearance (the start is state 0), edges `(from, to, edge)`, one per
/// source state, and the terminal states.
struct MachineGraph<'m> {
    states: Vec<String>,
    edges: Vec<(usize, usize, &'m ast::Edge)>,
    terminal: Vec<usize>,
}

struct LoweredEdges {
    /// Per edge, its guard (`true` for an edge without one).
    guards: Vec<Expr>,
    /// (from, to, constant reward) per edge; a reward read from the step counts 0 here.
    edge_rewards: Vec<(usize, usize, f64)>,
}

/// What the run reads per step, and how the runtime decodes it.
struct StepMask {
    /// Per atom valuation, the bitmask of the edges that hold (`none` when the step's bits
    /// are the edges' own).
    letter_table: Value,
    steps: ir::MachineSteps,
}

/// The policy of each state: the machine's, except that states of called machines keep their
/// own, `stay` (see `flatten`).
fn state_policies(states: &[String], otherwise: i64) -> Vec<i64> {
    states
        .iter()
        .map(|s| {
            if s.contains(CALL_SEPARATOR) {
                OTHERWISE_STAY
            } else {
                otherwise
            }
        })
        .collect()
}

/// Potentials by value iteration over the edges with constant rewards (a reward read from the
/// step counts 0, as in the reward-machines code); a step no edge matches stays (reward 0) or
/// ends the machine (worth 0).
fn derived_potentials(
    graph: &MachineGraph,
    edge_rewards: &[(usize, usize, f64)],
    policies: &[i64],
    gamma: f64,
) -> Vec<f64> {
    let n = graph.states.len();
    let end = n;
    let mut edges = edge_rewards.to_vec();
    for (u, &policy) in policies.iter().enumerate() {
        match policy {
            OTHERWISE_STAY => edges.push((u, u, 0.0)),
            OTHERWISE_END => edges.push((u, end, 0.0)),
            _ => {}
        }
    }
    let mut terminal: Vec<bool> = (0..n).map(|i| graph.terminal.contains(&i)).collect();
    terminal.push(true);
    let mut v = crate::automaton::value_iteration(n + 1, &edges, &terminal, gamma);
    v.truncate(n);
    v.into_iter().map(|x| -x).collect()
}

/// The constant table the runtime's `machine_run` reads.
struct MachineTable<'a> {
    name: &'a str,
    graph: &'a MachineGraph<'a>,
    edge_rewards: &'a [(usize, usize, f64)],
    policies: Vec<i64>,
    gamma: f64,
    potentials: Vec<f64>,
    letter_table: Value,
}

impl MachineTable<'_> {
    fn value(self) -> Value {
        let states = &self.graph.states;
        let start = 0;
        Value::Record(Arc::from(vec![
            Value::text(self.name),
            Value::List(states.iter().map(|s| Value::text(s)).collect()),
            Value::Int(start),
            Value::List(
                (0..states.len())
                    .map(|i| Value::Bool(self.graph.terminal.contains(&i)))
                    .collect(),
            ),
            Value::List(
                self.edge_rewards
                    .iter()
                    .map(|&(from, to, reward)| {
                        Value::Record(Arc::from(vec![
                            Value::Int(from as i64),
                            Value::Int(to as i64),
                            Value::Float(reward),
                        ]))
                    })
                    .collect(),
            ),
            Value::List(self.policies.into_iter().map(Value::Int).collect()),
            Value::Float(self.gamma),
            Value::List(self.potentials.into_iter().map(Value::Float).collect()),
            self.letter_table,
        ]))
    }
}

impl Checker<'_> {
    /// The IR of a machine's run (a record of `machine_result_type`).
    pub(crate) fn machine_run(&mut self, cx: &mut Ctx, m: &ast::Machine) -> Expr {
        let error = || Expr::constant(Value::None, Ty::Error, m.name.span);
        let Some(decl) = self.validate_machine(m) else {
            return error();
        };
        let Some(graph) = self.machine_graph(&decl.machine) else {
            return error();
        };
        self.lower_machine(cx, &decl, &graph)
    }

    /// The trace, the options and the machine as it runs (its flattening when it calls
    /// others); `None` when the machine cannot run (reported).
    fn validate_machine<'a>(&mut self, m: &'a ast::Machine) -> Option<MachineDecl<'a>> {
        let trace = self.machine_trace(m)?;
        let mut options = self.machine_options(m);
        let machine = if m.edges.iter().any(|e| e.via.is_some()) {
            let flat = self.flatten_calls(m, &options)?;
            // The flattening runs its edges in the order they are written.
            options.first = true;
            Cow::Owned(flat)
        } else {
            Cow::Borrowed(m)
        };
        Some(MachineDecl {
            trace,
            options,
            machine,
        })
    }

    /// The run: per step, the mask of the edges whose guard holds, and the runtime's
    /// `machine_run` over them with the machine's table.
    fn lower_machine(&mut self, cx: &mut Ctx, decl: &MachineDecl, graph: &MachineGraph) -> Expr {
        let MachineDecl {
            trace,
            options,
            machine: m,
        } = decl;
        let span = m.name.span;
        let step = cx.fresh_local();
        cx.locals.push(("step".into(), step, trace.step.clone()));
        let lowered = self.lower_edges(cx, m, trace, &graph.edges, step);
        let mask = self.step_mask(cx, &graph.edges, lowered.guards, step, trace, span);
        cx.locals.pop();
        if !options.first {
            self.prove_disjoint(&graph.states, &graph.edges);
        }
        let policies = state_policies(&graph.states, options.otherwise);
        let (gamma, potentials) = self.machine_shaping(m, graph, &lowered.edge_rewards, &policies);
        let table = MachineTable {
            name: &m.name.name,
            graph,
            edge_rewards: &lowered.edge_rewards,
            policies,
            gamma,
            potentials,
            letter_table: mask.letter_table,
        }
        .value();
        let run = ir::MachineValue {
            table,
            trace: trace.expr(span, m.trace.span),
            steps: mask.steps,
        };
        Expr::new(
            ExprKind::Machine(Box::new(run)),
            machine_result_type(),
            span,
        )
    }

    /// The trace: an input column that is a list.
    fn machine_trace(&mut self, m: &ast::Machine) -> Option<MachineTrace> {
        let Some(input) = self.input.clone() else {
            self.error(
                Diagnostic::new(
                    Code::E0015,
                    m.trace.span,
                    "a machine needs an `input` block with its trace",
                )
                .help("declare the trace, e.g. `input { steps: list[{label: text}] }`"),
            );
            return None;
        };
        let Some((field, ty)) = input
            .field_index(&m.trace.name)
            .map(|(i, t)| (i, t.clone()))
        else {
            let names: Vec<String> = match &input {
                Ty::Record(fields) => fields.iter().map(|f| f.name.to_string()).collect(),
                _ => Vec::new(),
            };
            let help = match closest(&m.trace.name, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => {
                    "a machine reads an input column that is a list, one step per element".into()
                }
            };
            self.error(
                Diagnostic::new(
                    Code::E0002,
                    m.trace.span,
                    format!("no input column `{}`", m.trace.name),
                )
                .label("not an input column")
                .help(help),
            );
            return None;
        };
        let Ty::List(step) = &ty else {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    m.trace.span,
                    format!("a machine reads a list, but `{}` is {ty}", m.trace.name),
                )
                .help("the trace is a list of steps, e.g. `list[text]` or `list[{x: float}]`"),
            );
            return None;
        };
        let step = (**step).clone();
        Some(MachineTrace {
            input,
            field,
            ty,
            step,
        })
    }

    /// `otherwise` and `order`; an unknown or ill-valued option is reported and ignored.
    fn machine_options(&mut self, m: &ast::Machine) -> MachineOptions {
        let mut options = MachineOptions {
            otherwise: OTHERWISE_STAY,
            first: false,
        };
        for opt in &m.options {
            let word = match &opt.value {
                ast::RubricOptionValue::Word(w) => w.name.as_str(),
                ast::RubricOptionValue::Range { .. } => "",
            };
            match (opt.name.name.as_str(), word) {
                ("otherwise", "stay") => options.otherwise = OTHERWISE_STAY,
                ("otherwise", "end") => options.otherwise = OTHERWISE_END,
                ("otherwise", "error") => options.otherwise = OTHERWISE_ERROR,
                ("order", "first") => options.first = true,
                ("otherwise", _) => self.error(Diagnostic::new(Code::E0019, opt.name.span, "`otherwise` is `stay`, `end` or `error`").help("stay: keep the state, reward 0; end: the machine is done, reward 0; error: the row is an error")),
                ("order", _) => self.error(Diagnostic::new(Code::E0019, opt.name.span, "`order` can only be `first`").help("`order: first` takes the first listed edge whose guard holds; without it, guards of a state must not overlap")),
                (other, _) => {
                    let help = match closest(other, ["otherwise", "order"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "machine options are `otherwise` and `order`".into(),
                    };
                    self.error(Diagnostic::new(Code::E0019, opt.name.span, format!("unknown machine option `{other}`")).help(help));
                }
            }
        }
        options
    }

    /// A machine that calls others runs as its flattening (first match, in the order the
    /// edges are written), so the caller's own guards are proved exclusive first.
    fn flatten_calls(
        &mut self,
        m: &ast::Machine,
        options: &MachineOptions,
    ) -> Option<ast::Machine> {
        if !options.first {
            let (states, edges) = states_and_edges(m);
            self.prove_disjoint(&states, &edges);
        }
        self.flatten(m, &mut vec![m.name.name.clone()])
    }

    /// The machine's states and edges; `None` (reported) without a start state.
    fn machine_graph<'m>(&mut self, m: &'m ast::Machine) -> Option<MachineGraph<'m>> {
        if m.start.is_none() {
            self.error(
                Diagnostic::new(
                    Code::E0019,
                    m.name.span,
                    format!("machine `{}` has no `start` state", m.name.name),
                )
                .help("add a line `start u0`"),
            );
            return None;
        }
        let (mut states, edges) = states_and_edges(m);
        let mut terminal = Vec::new();
        for t in &m.terminals {
            let id = match states.iter().position(|s| *s == t.name) {
                Some(i) => i,
                None => {
                    self.error(
                        Diagnostic::new(
                            Code::E0019,
                            t.span,
                            format!("terminal state `{}` has no edge into it", t.name),
                        )
                        .help("a terminal state is entered by an edge; check its name"),
                    );
                    states.push(t.name.clone());
                    states.len() - 1
                }
            };
            terminal.push(id);
        }
        Some(MachineGraph {
            states,
            edges,
            terminal,
        })
    }

    /// Each edge's guard as its bit of the step's mask, and each edge's reward. `step` must be
    /// bound in `cx`.
    fn lower_edges(
        &mut self,
        cx: &mut Ctx,
        m: &ast::Machine,
        trace: &MachineTrace,
        edges: &[(usize, usize, &ast::Edge)],
        step: ir::LocalId,
    ) -> LoweredEdges {
        let mut guards = Vec::with_capacity(edges.len());
        let mut edge_rewards = Vec::new();
        for (i, (from, to, e)) in edges.iter().enumerate() {
            guards.push(self.guard(cx, e));
            let reward = match &e.reward {
                None => 0.0,
                Some(r) => self.edge_reward(cx, m, trace, r, i, step),
            };
            edge_rewards.push((*from, *to, reward));
        }
        LoweredEdges {
            guards,
            edge_rewards,
        }
    }

    /// An edge's guard, checked (`true` without one).
    fn guard(&mut self, cx: &mut Ctx, e: &ast::Edge) -> Expr {
        let Some(g) = &e.guard else {
            return Expr::constant(Value::Bool(true), Ty::Bool, e.span);
        };
        let guard = self.check_expr(cx, g);
        self.coerce(guard, &Ty::Bool, "an edge's guard")
    }

    /// The table's reward of edge `i`. A reward that reads the step is computed per step for
    /// the taken edge (see `machine_rewards`) and counts 0 in the table; a constant goes into
    /// the table.
    fn edge_reward(
        &mut self,
        cx: &mut Ctx,
        m: &ast::Machine,
        trace: &MachineTrace,
        r: &ast::Expr,
        i: usize,
        step: ir::LocalId,
    ) -> f64 {
        let before = self.diags.len();
        let value = self.check_expr(cx, r);
        let value = self.float_for(value, r, "an edge's reward");
        let mut reads_row = false;
        crate::interp::visit(&value, &mut |x| {
            reads_row |= matches!(
                x.kind,
                ExprKind::Local(_) | ExprKind::Input | ExprKind::Term(_) | ExprKind::CallFn(..)
            );
        });
        if self.diags.len() != before {
            0.0
        } else if reads_row {
            self.machines
                .dynamic
                .entry(m.name.name.clone())
                .or_default()
                .push(DynamicReward {
                    edge: i,
                    value,
                    step,
                    trace: trace.expr(m.name.span, m.trace.span),
                });
            0.0
        } else {
            self.constant_reward(&value, r)
        }
    }

    /// The step's mask: the atoms' bitmask with the table decoding it when the guards are
    /// boolean combinations of a few infallible atoms (each atom is then computed once per
    /// step, instead of every guard, and the same props again and again, on every step);
    /// otherwise the edges' bits, one int per word. `step` must be bound in `cx`.
    fn step_mask(
        &mut self,
        cx: &mut Ctx,
        edges: &[(usize, usize, &ast::Edge)],
        guards: Vec<Expr>,
        step: ir::LocalId,
        trace: &MachineTrace,
        span: crate::diag::Span,
    ) -> StepMask {
        // One word of edges only: the table holds one int per valuation.
        let one_word = guards.len() <= WORD_BITS;
        let table = if one_word {
            self.atom_table(cx, edges, step)
        } else {
            None
        };
        match table {
            Some(AtomTable {
                atoms,
                letters,
                label_needles,
            }) => StepMask {
                letter_table: Value::List(
                    letters.into_iter().map(|m| Value::Int(m as i64)).collect(),
                ),
                // Label traces whose atoms are all `"x" in step` run in one runtime loop.
                steps: match label_needles {
                    Some(needles) if trace.step == Ty::Text => ir::MachineSteps::Labels { needles },
                    _ => ir::MachineSteps::Bits { step, bits: atoms },
                },
            },
            None if one_word => StepMask {
                letter_table: Value::None,
                steps: ir::MachineSteps::Bits { step, bits: guards },
            },
            None => {
                let words = guards
                    .chunks(WORD_BITS)
                    .map(|word| ir::bitmask(word.to_vec(), span))
                    .collect();
                StepMask {
                    letter_table: Value::None,
                    steps: ir::MachineSteps::Words {
                        step,
                        words: Expr::new(ExprKind::List(words), Ty::list(Ty::Int), span),
                    },
                }
            }
        }
    }

    /// The discount and the potential of each state when a `shape` declaration names the
    /// machine (1 and none otherwise).
    fn machine_shaping(
        &mut self,
        m: &ast::Machine,
        graph: &MachineGraph,
        edge_rewards: &[(usize, usize, f64)],
        policies: &[i64],
    ) -> (f64, Vec<f64>) {
        let Some(shape) = self.shape_of(&m.name.name) else {
            return (1.0, Vec::new());
        };
        let potentials = match &shape.states {
            Some(given) => self.given_potentials(&m.name.name, &graph.states, given),
            None => derived_potentials(graph, edge_rewards, policies, shape.gamma),
        };
        self.machines.shaped.insert(m.name.name.clone());
        (shape.gamma, potentials)
    }

    /// Potentials written in the `shape` declaration (0 for a state it leaves out).
    fn given_potentials(
        &mut self,
        machine: &str,
        states: &[String],
        given: &[(String, f64, crate::diag::Span)],
    ) -> Vec<f64> {
        let mut p = vec![0.0; states.len()];
        for (name, x, at) in given {
            match states.iter().position(|s| s == name) {
                Some(i) => p[i] = *x,
                None => self.error(
                    Diagnostic::new(
                        Code::E0031,
                        *at,
                        format!("machine `{machine}` has no state `{name}`"),
                    )
                    .help(format!("its states: {}", states.join(", "))),
                ),
            }
        }
        p
    }

    pub(crate) fn constant_reward(&mut self, e: &Expr, r: &ast::Expr) -> f64 {
        match crate::interp::eval_const(e, &self.regex_table()) {
            Ok(v) if !v.is_none() => v.as_f64(),
            _ => {
                self.error(
                    Diagnostic::new(Code::E0029, r.span, "this reward always fails")
                        .help("fix the constant expression"),
                );
                0.0
            }
        }
    }

    /// Guards of one state must not hold together, unless `order: first` says which wins. Each
    /// state with overlapping edges is reported once (its first overlap), every such state at
    /// once.
    fn prove_disjoint(&mut self, states: &[String], edges: &[(usize, usize, &ast::Edge)]) {
        let mut reported: Vec<usize> = Vec::new();
        for i in 0..edges.len() {
            for j in i + 1..edges.len() {
                let (fi, _, ei) = edges[i];
                let (fj, _, ej) = edges[j];
                if fi != fj || reported.contains(&fi) {
                    continue;
                }
                let mut atoms: Vec<String> = Vec::new();
                for g in [&ei.guard, &ej.guard].into_iter().flatten() {
                    collect_atoms(g, &mut atoms);
                }
                if atoms.len() > MAX_ATOMS {
                    self.error(
                        Diagnostic::new(
                            Code::E0019,
                            ej.span,
                            format!(
                                "too many propositions ({}) to prove these guards exclusive",
                                atoms.len()
                            ),
                        )
                        .help("add `(order: first)` to the machine to take the first listed edge"),
                    );
                    reported.push(fi);
                    continue;
                }
                let n = atoms.len();
                for bits in 0u32..(1u32 << n) {
                    let value: BTreeMap<&str, bool> = atoms
                        .iter()
                        .enumerate()
                        .map(|(k, a)| (a.as_str(), bits & (1 << k) != 0))
                        .collect();
                    let holds =
                        |g: &Option<ast::Expr>| g.as_ref().is_none_or(|g| eval_guard(g, &value));
                    if holds(&ei.guard) && holds(&ej.guard) {
                        let valuation: Vec<String> = atoms
                            .iter()
                            .enumerate()
                            .map(|(k, a)| format!("{a} = {}", bits & (1 << k) != 0))
                            .collect();
                        let when = if valuation.is_empty() {
                            "always".to_string()
                        } else {
                            format!("when {}", valuation.join(", "))
                        };
                        let from = states.get(fi).map_or("?", String::as_str);
                        self.error(
                            Diagnostic::new(Code::E0019, ej.span, format!("two edges of state `{from}` can both be taken: {when}"))
                                .label("this edge overlaps an earlier one")
                                .note(ei.span, "the earlier edge")
                                .help("make the guards exclusive, or add `(order: first)` to the machine to take the first listed edge"),
                        );
                        reported.push(fi);
                        break;
                    }
                }
            }
        }
    }
}

/// Separates a called machine's name from its state names in the flattening: `call.2.u1` is
/// state `u1` of the machine called by edge 2.
const CALL_SEPARATOR: char = '.';

/// States in order of appearance (the start first) and edges `(from, to, edge)`, one per
/// source state.
fn states_and_edges(m: &ast::Machine) -> (Vec<String>, Vec<(usize, usize, &ast::Edge)>) {
    let mut states: Vec<String> = Vec::new();
    let mut id = |name: &str| match states.iter().position(|s| s == name) {
        Some(i) => i,
        None => {
            states.push(name.to_string());
            states.len() - 1
        }
    };
    if let Some(s) = &m.start {
        id(&s.name);
    }
    let mut edges = Vec::new();
    for e in &m.edges {
        let to = id(&e.to.name);
        for f in &e.from {
            edges.push((id(&f.name), to, e));
        }
    }
    (states, edges)
}

/// `a OP b` of two optional expressions (a missing one is the identity: `when` always holds,
/// `reward` 0), each side parenthesised: guards combine with `and`, rewards with `+`.
fn combine(
    op: BinaryOp,
    a: &Option<ast::Expr>,
    b: &Option<ast::Expr>,
    span: crate::diag::Span,
) -> Option<ast::Expr> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(a), Some(b)) => Some(ast::Expr {
            kind: ast::ExprKind::Binary(op, Box::new(paren(a)), Box::new(paren(b))),
            span,
        }),
    }
}

fn paren(e: &ast::Expr) -> ast::Expr {
    ast::Expr {
        kind: ast::ExprKind::Paren(Box::new(e.clone())),
        span: e.span,
    }
}

impl Checker<'_> {
    /// The machine with every `via` edge replaced by the called machine's edges. On the step
    /// where the call's guard holds, the called machine reads that same step from its start
    /// state; when it enters one of its terminal states the caller moves to the edge's target
    /// on that same step (earning the called edge's reward plus the `via` edge's own). While
    /// the call runs, its states are copies named `callee.EDGE.state`.
    fn flatten(&mut self, m: &ast::Machine, stack: &mut Vec<String>) -> Option<ast::Machine> {
        let mut out = ast::Machine {
            edges: Vec::new(),
            ..m.clone()
        };
        for (index, e) in m.edges.iter().enumerate() {
            let Some(callee_name) = &e.via else {
                out.edges.push(e.clone());
                continue;
            };
            let callee = self.called_machine(m, callee_name, stack)?;
            stack.push(callee.name.name.clone());
            let flat = self.flatten(callee, stack);
            stack.pop();
            let flat = flat?;
            let start = flat.start.as_ref()?;
            let call = Call {
                edge: e,
                callee: &flat,
                prefix: format!(
                    "{}{CALL_SEPARATOR}{index}{CALL_SEPARATOR}",
                    callee.name.name
                ),
            };
            if call.is_terminal(&start.name) {
                self.error(
                    Diagnostic::new(
                        Code::E0019,
                        callee_name.span,
                        format!("machine `{}` starts in a terminal state", callee.name.name),
                    )
                    .help("a called machine must read at least one step"),
                );
                return None;
            }
            out.edges.extend(call.edges(start));
        }
        Some(out)
    }
}

impl<'m> Checker<'m> {
    /// The machine `name` that `caller` calls, if it can be called: a machine of this file,
    /// not already on the call `stack`, reading the caller's trace, and waiting (`otherwise:
    /// stay`) when no edge matches.
    fn called_machine(
        &mut self,
        caller: &ast::Machine,
        name: &ast::Ident,
        stack: &[String],
    ) -> Option<&'m ast::Machine> {
        let modules = self.modules;
        let callee = modules[0].ast.items.iter().find_map(|it| match &it.kind {
            ast::ItemKind::Machine(c) if c.name.name == name.name => Some(c),
            _ => None,
        });
        let Some(callee) = callee else {
            self.error(
                Diagnostic::new(
                    Code::E0002,
                    name.span,
                    format!("no machine named `{}`", name.name),
                )
                .help("`via` names another machine of this file"),
            );
            return None;
        };
        if stack.contains(&callee.name.name) {
            self.error(
                Diagnostic::new(
                    Code::E0012,
                    name.span,
                    format!(
                        "machine `{}` calls itself through `{}`",
                        stack[0], callee.name.name
                    ),
                )
                .help("machine calls must not form a cycle"),
            );
            return None;
        }
        if callee.trace.name != caller.trace.name {
            self.error(
                Diagnostic::new(
                    Code::E0019,
                    name.span,
                    format!(
                        "`{}` reads `{}`, but the caller reads `{}`",
                        callee.name.name, callee.trace.name, caller.trace.name
                    ),
                )
                .help("a called machine reads the caller's trace"),
            );
            return None;
        }
        let policy_ok = callee.options.iter().all(|o| {
            o.name.name != "otherwise"
                || matches!(&o.value, ast::RubricOptionValue::Word(w) if w.name == "stay")
        });
        if !policy_ok {
            self.error(
                Diagnostic::new(Code::E0019, name.span, format!("machine `{}` is called, so it must use `otherwise: stay`", callee.name.name))
                    .help("a called machine waits in its state until an edge matches; end or fail the caller instead"),
            );
            return None;
        }
        Some(callee)
    }
}

/// A `via` edge, to be replaced by the called machine's (flattened) edges.
struct Call<'a> {
    edge: &'a ast::Edge,
    callee: &'a ast::Machine,
    /// `callee.EDGE.`, before the names of the callee's copied states.
    prefix: String,
}

impl Call<'_> {
    fn is_terminal(&self, state: &str) -> bool {
        self.callee.terminals.iter().any(|t| t.name == state)
    }

    /// The copy of the callee's state `s`.
    fn qualify(&self, s: &str) -> ast::Ident {
        ast::Ident {
            name: format!("{}{s}", self.prefix),
            span: self.edge.span,
        }
    }

    /// Where a callee's edge into `t` goes: the call's target when `t` is terminal.
    fn target(&self, t: &ast::Ident) -> ast::Ident {
        if self.is_terminal(&t.name) {
            self.edge.to.clone()
        } else {
            self.qualify(&t.name)
        }
    }

    /// A callee edge's reward, plus the call's own when it ends the call.
    fn reward(&self, ce: &ast::Edge) -> Option<ast::Expr> {
        if self.is_terminal(&ce.to.name) {
            combine(BinaryOp::Add, &ce.reward, &self.edge.reward, self.edge.span)
        } else {
            ce.reward.clone()
        }
    }

    /// The edges that replace the call; `start` is the callee's start state.
    fn edges(&self, start: &ast::Ident) -> Vec<ast::Edge> {
        let e = self.edge;
        let mut out = Vec::new();
        // The step of the call: the called machine's start edges, under the call's guard.
        let mut start_guards = Vec::new();
        for ce in self
            .callee
            .edges
            .iter()
            .filter(|ce| ce.from.iter().any(|f| f.name == start.name))
        {
            out.push(ast::Edge {
                from: e.from.clone(),
                to: self.target(&ce.to),
                via: None,
                guard: combine(BinaryOp::And, &e.guard, &ce.guard, e.span),
                reward: self.reward(ce),
                span: e.span,
            });
            start_guards.push(ce.guard.clone());
        }
        // No start edge matches: the call begins and waits in its start state.
        if start_guards.iter().all(Option::is_some) {
            let wait = none_holds(&start_guards, e.span);
            out.push(ast::Edge {
                from: e.from.clone(),
                to: self.qualify(&start.name),
                via: None,
                guard: combine(BinaryOp::And, &e.guard, &wait, e.span),
                reward: None,
                span: e.span,
            });
        }
        // The called machine's own edges, between its copied states.
        for ce in &self.callee.edges {
            out.push(ast::Edge {
                from: ce.from.iter().map(|f| self.qualify(&f.name)).collect(),
                to: self.target(&ce.to),
                via: None,
                guard: ce.guard.clone(),
                reward: self.reward(ce),
                span: ce.span,
            });
        }
        out
    }
}

/// `not (g1 or g2 or …)` of the given guards (`None` for no guards).
fn none_holds(guards: &[Option<ast::Expr>], span: crate::diag::Span) -> Option<ast::Expr> {
    let any = guards
        .iter()
        .flatten()
        .fold(None, |acc: Option<ast::Expr>, g| {
            Some(match acc {
                None => paren(g),
                Some(a) => ast::Expr {
                    kind: ast::ExprKind::Binary(BinaryOp::Or, Box::new(a), Box::new(paren(g))),
                    span,
                },
            })
        });
    any.map(|g| ast::Expr {
        kind: ast::ExprKind::Unary(UnaryOp::Not, Box::new(paren(&g))),
        span,
    })
}

/// What the checker keeps of the machines between their terms.
#[derive(Default)]
pub(crate) struct MachineState {
    /// Per machine, the edge rewards computed from the step (see [`DynamicReward`]).
    pub(crate) dynamic: BTreeMap<String, Vec<DynamicReward>>,
    /// Machines whose run adds a shaping term to every step's reward.
    pub(crate) shaped: std::collections::HashSet<String>,
    /// The runs (their `name#raw` terms) whose per-step rewards are recomputed from the steps
    /// (dynamic rewards), so their total is summed again; the others' total is the run's own.
    pub(crate) recomputed: std::collections::HashSet<super::TermId>,
}

/// A reward computed from the step, for edge `edge` (an index into the machine's edges).
pub(crate) struct DynamicReward {
    pub edge: usize,
    /// The reward, reading the step through local `step`.
    pub value: Expr,
    pub step: ir::LocalId,
    pub trace: Expr,
}

impl Checker<'_> {
    /// The per-step rewards of a machine whose edges compute rewards from the step: each step's
    /// reward is that of the edge taken there (from the run's `taken` list), computed for that
    /// step only — so an edge's reward is never evaluated on a step where it is not taken.
    /// `None` when every reward is constant (the run's own list is right).
    pub(crate) fn machine_rewards(&mut self, cx: &mut Ctx, name: &str, raw: Expr) -> Option<Expr> {
        let dynamic = self.machines.dynamic.remove(name)?;
        let shaped = self.machines.shaped.contains(name);
        let span = raw.span;
        // Fresh locals must not collide with the ones inside the reward expressions.
        let mut max_local = 0;
        for d in &dynamic {
            crate::interp::visit(&d.value, &mut |x| {
                if let ExprKind::Local(l) = x.kind {
                    max_local = max_local.max(l + 1);
                }
                if let ExprKind::Aggregate(a) = &x.kind {
                    max_local = max_local.max(a.var + 1);
                }
            });
        }
        cx.next_local = cx.next_local.max(max_local);
        let i = cx.fresh_local();
        let index = Expr::new(ExprKind::Local(i), Ty::Int, span);
        let field =
            |k: usize, ty: Ty| Expr::new(ExprKind::Field(Box::new(raw.clone()), k), ty, span);
        let at = |list: Expr, elem: Ty| {
            Expr::new(
                ExprKind::Index(Box::new(list), Box::new(index.clone())),
                elem,
                span,
            )
        };
        // Default: the run's own reward (constants, and 0 where no edge was taken).
        let mut body = at(field(1, Ty::list(Ty::Float)), Ty::Float);
        for d in dynamic.iter().rev() {
            let step = at(
                d.trace.clone(),
                match &d.trace.ty {
                    Ty::List(e) => (**e).clone(),
                    _ => Ty::Error,
                },
            );
            let value = substitute(&d.value, d.step, &step);
            let taken = at(field(4, Ty::list(Ty::Int)), Ty::Int);
            let is_this = Expr::new(
                ExprKind::Compare(
                    ir::CmpOp::Eq,
                    Box::new(taken),
                    Box::new(Expr::constant(Value::Int(d.edge as i64), Ty::Int, span)),
                ),
                Ty::Bool,
                span,
            );
            // With shaping, the run's reward on this step is the shaping term alone (the
            // edge's own reward is 0 in the table): add it.
            let value = if shaped {
                Expr::new(
                    ExprKind::Arith(
                        ArithOp::Add,
                        NumKind::Float,
                        Box::new(value),
                        Box::new(at(field(1, Ty::list(Ty::Float)), Ty::Float)),
                    ),
                    Ty::Float,
                    span,
                )
            } else {
                value
            };
            body = Expr::new(
                ExprKind::If(Box::new(is_this), Box::new(value), Box::new(body)),
                Ty::Float,
                span,
            );
        }
        let trace = dynamic[0].trace.clone();
        let range_id = id::RANGE;
        let len_id = id::LEN_OF_LIST;
        let n = Expr::new(ExprKind::Call(len_id, vec![trace]), Ty::Int, span);
        let indices = Expr::new(ExprKind::Call(range_id, vec![n]), Ty::list(Ty::Int), span);
        Some(Expr::new(
            ExprKind::Aggregate(Box::new(ir::Aggregate {
                kind: AggKind::Collect,
                var: i,
                iter: indices,
                filter: None,
                body: Some(body),
                elem: Ty::Float,
            })),
            Ty::list(Ty::Float),
            span,
        ))
    }
}

/// `e` with local `from` replaced by `with`.
fn substitute(e: &Expr, from: ir::LocalId, with: &Expr) -> Expr {
    let mut out = e.clone();
    replace_local(&mut out, from, with);
    out
}

fn replace_local(e: &mut Expr, from: ir::LocalId, with: &Expr) {
    if matches!(e.kind, ExprKind::Local(l) if l == from) {
        *e = with.clone();
        return;
    }
    for child in e.children_mut() {
        replace_local(child, from, with);
    }
}

/// Most atoms for the per-step edge table (2^12 entries).
const MAX_TABLE_ATOMS: usize = 12;

impl Checker<'_> {
    /// The per-step atom bitmask (bit k: atom k holds) and, per atom valuation, the bitmask of
    /// the edges whose guards hold; `None` when the guards have too many atoms, or an atom
    /// could fail (evaluating it on every step would then raise errors that the guards'
    /// short-circuit evaluation never reaches). `step` must be bound in `cx`.
    fn atom_table(
        &mut self,
        cx: &mut Ctx,
        edges: &[(usize, usize, &ast::Edge)],
        step: ir::LocalId,
    ) -> Option<AtomTable> {
        let mut atoms: Vec<(String, &ast::Expr)> = Vec::new();
        for (_, _, e) in edges {
            if let Some(g) = &e.guard {
                collect_atom_exprs(g, &mut atoms);
            }
        }
        if atoms.len() > MAX_TABLE_ATOMS {
            return None;
        }
        let before = self.diags.len();
        let mut checked = Vec::with_capacity(atoms.len());
        for (_, a) in &atoms {
            let e = self.check_expr(cx, a);
            if e.ty != Ty::Bool || !infallible(&e) {
                self.diags.truncate(before);
                return None;
            }
            checked.push(e);
        }
        let label_needles = checked
            .iter()
            .map(|atom| match &atom.kind {
                ExprKind::TextContains { haystack, needle }
                    if matches!(haystack.kind, ExprKind::Local(l) if l == step) =>
                {
                    match &needle.kind {
                        ExprKind::Const(t @ Value::Text(_)) => Some(t.clone()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect::<Option<Vec<Value>>>();
        let table = (0u32..(1u32 << atoms.len()))
            .map(|bits| {
                let value: BTreeMap<&str, bool> = atoms
                    .iter()
                    .enumerate()
                    .map(|(k, (key, _))| (key.as_str(), bits & (1 << k) != 0))
                    .collect();
                edges.iter().enumerate().fold(0u64, |acc, (i, (_, _, e))| {
                    let holds = e.guard.as_ref().is_none_or(|g| eval_guard(g, &value));
                    if holds {
                        acc | (1u64 << i)
                    } else {
                        acc
                    }
                })
            })
            .collect();
        Some(AtomTable {
            atoms: checked,
            letters: table,
            label_needles,
        })
    }
}

/// A machine's guards as a table over the valuations of their atoms.
struct AtomTable {
    /// The atoms, at the step: a step's valuation has bit k when atom k holds.
    atoms: Vec<Expr>,
    /// Per valuation, the bitmask of the edges whose guards hold.
    letters: Vec<u64>,
    /// When every atom is `"x" in step`: the texts `x`, atom by atom (on a trace of texts the
    /// runtime then computes each label's valuation itself, once per distinct label).
    label_needles: Option<Vec<Value>>,
}

/// Whether evaluating an expression can never fail (no indexing, integer arithmetic, calls
/// or anything else that can raise a row error).
fn infallible(e: &Expr) -> bool {
    let ok = matches!(
        &e.kind,
        ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Input
            | ExprKind::Term(_)
            | ExprKind::Field(..)
            | ExprKind::Not(_)
            | ExprKind::And(..)
            | ExprKind::Or(..)
            | ExprKind::If(..)
            | ExprKind::Compare(..)
            | ExprKind::Coalesce(..)
            | ExprKind::ToFloat(_)
            | ExprKind::Some(_)
            | ExprKind::TextContains { .. }
            | ExprKind::ListContains { .. }
            | ExprKind::Match(..)
            | ExprKind::Neg(NumKind::Float, _)
            | ExprKind::Arith(_, NumKind::Float, ..)
    );
    ok && e.children().into_iter().all(infallible)
}

/// The atoms of a guard with their expressions, keyed like [`collect_atoms`].
fn collect_atom_exprs<'e>(e: &'e ast::Expr, out: &mut Vec<(String, &'e ast::Expr)>) {
    match &e.kind {
        ast::ExprKind::Binary(BinaryOp::And | BinaryOp::Or, a, b) => {
            collect_atom_exprs(a, out);
            collect_atom_exprs(b, out);
        }
        ast::ExprKind::Unary(UnaryOp::Not, a) | ast::ExprKind::Paren(a) => {
            collect_atom_exprs(a, out)
        }
        ast::ExprKind::Bool(_) => {}
        _ => {
            let k = key(e);
            if !out.iter().any(|(x, _)| *x == k) {
                out.push((k, e));
            }
        }
    }
}

/// Propositions of a guard: its maximal sub-expressions that are not `and`/`or`/`not`.
fn collect_atoms(e: &ast::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ast::ExprKind::Binary(BinaryOp::And | BinaryOp::Or, a, b) => {
            collect_atoms(a, out);
            collect_atoms(b, out);
        }
        ast::ExprKind::Unary(UnaryOp::Not, a) | ast::ExprKind::Paren(a) => collect_atoms(a, out),
        ast::ExprKind::Bool(_) => {}
        _ => {
            let k = key(e);
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
}

fn eval_guard(e: &ast::Expr, value: &BTreeMap<&str, bool>) -> bool {
    match &e.kind {
        ast::ExprKind::Binary(BinaryOp::And, a, b) => eval_guard(a, value) && eval_guard(b, value),
        ast::ExprKind::Binary(BinaryOp::Or, a, b) => eval_guard(a, value) || eval_guard(b, value),
        ast::ExprKind::Unary(UnaryOp::Not, a) => !eval_guard(a, value),
        ast::ExprKind::Paren(a) => eval_guard(a, value),
        ast::ExprKind::Bool(b) => *b,
        _ => value.get(key(e).as_str()).copied().unwrap_or(false),
    }
}

/// A structural key of an expression (spans left out), so that the same proposition written
/// twice is one proposition.
pub(crate) fn key(e: &ast::Expr) -> String {
    match &e.kind {
        ast::ExprKind::Name(id) => id.name.clone(),
        ast::ExprKind::Int(i) => i.to_string(),
        ast::ExprKind::Float(x) => x.to_string(),
        ast::ExprKind::Text(s) => format!("{s:?}"),
        ast::ExprKind::Bool(b) => b.to_string(),
        ast::ExprKind::None => "none".into(),
        ast::ExprKind::Field(a, f) => format!("{}.{}", key(a), f.name),
        ast::ExprKind::Index(a, i) => format!("{}[{}]", key(a), key(i)),
        ast::ExprKind::Paren(a) => key(a),
        ast::ExprKind::Unary(op, a) => format!("({op:?} {})", key(a)),
        ast::ExprKind::Binary(op, a, b) => format!("({} {} {})", key(a), op.symbol(), key(b)),
        ast::ExprKind::Call { callee, args } => format!(
            "{}({})",
            callee.name,
            args.iter().map(key).collect::<Vec<_>>().join(", ")
        ),
        ast::ExprKind::Regex { pattern, flags } => format!("/{pattern}/{flags}"),
        other => format!("{other:?}"),
    }
}
