//! Online monitors: compile a spec once, then feed an environment's steps one at a time —
//! `reset()` at the start of an episode, `step(&record)` per environment step — and get the
//! step's reward, each formula's verdict and whether everything is done.
//!
//! A monitor runs the spec's reward machines and `ltl` formulas with the same transition code
//! as whole-trace scoring (`reward_runtime::machine::Machine::step`,
//! `reward_runtime::ltl::Automaton::step`), so the per-step rewards are the `--steps` streams
//! and the verdicts are `verdicts(f)`, one step at a time. Guards and atoms are evaluated by the
//! interpreter on the step alone; after the first step, `step` does not allocate.

use reward_runtime::ltl::{self, decode_nodes, Automaton, AutomatonRun};
use reward_runtime::machine::{Machine, MachineRun};
use reward_runtime::{Ty, Value};

use crate::interp::{Interpreter, RuntimeError};
use crate::ir::{Expr, ExprKind, LocalId, LoweredKind, LtlMeasure, MachineSteps};
use crate::scoring::Spec;

/// What a formula says after the steps read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some continuations satisfy the formula and some do not.
    Undecided,
    /// Every continuation (ending now included) satisfies it.
    Satisfied,
    /// No continuation satisfies it.
    Violated,
}

impl Verdict {
    fn from_code(v: i64) -> Verdict {
        match v {
            ltl::SATISFIED => Verdict::Satisfied,
            ltl::VIOLATED => Verdict::Violated,
            _ => Verdict::Undecided,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Undecided => "undecided",
            Verdict::Satisfied => "satisfied",
            Verdict::Violated => "violated",
        }
    }
}

/// The outcome of one step.
#[derive(Clone, Debug, Default)]
pub struct StepResult {
    /// The sum of the step's rewards over every reward stream.
    pub reward: f64,
    /// Per reward stream (see [`Monitor::streams`]), the step's reward.
    pub rewards: Vec<f64>,
    /// Per formula (see [`Monitor::formulas`]), its verdict after this step.
    pub verdicts: Vec<Verdict>,
    /// Every reward stream has ended and every formula's verdict is final.
    pub done: bool,
    /// Per reward stream, its state after this step (an index into
    /// [`Monitor::state_names`]).
    pub states: Vec<usize>,
}

/// Per-step evaluation of a bitmask expression over local `step`.
struct Mask {
    expr: Expr,
    local: LocalId,
    /// The type of a step: the element type of the trace.
    step_ty: reward_runtime::Ty,
}

enum Stream {
    Machine(Machine, MachineRun),
    Formula(Automaton, AutomatonRun),
}

/// Where a stream's run is.
enum Run {
    Machine(MachineRun),
    Formula(AutomatonRun),
}

impl Stream {
    fn start_state(&self) -> usize {
        match self {
            Stream::Machine(m, _) => m.start().state,
            Stream::Formula(a, _) => a.start().state,
        }
    }

    /// What reading a step's guard bits does: the reward and the run after it (this stream
    /// does not move).
    fn peek(&self, i: usize, bits: &Value) -> Result<(f64, Run), String> {
        match self {
            Stream::Machine(m, run) => {
                let mut next = run.clone();
                let r = m.step(&mut next, i, bits)?;
                Ok((r, Run::Machine(next)))
            }
            Stream::Formula(a, run) => {
                let mut next = run.clone();
                let r = a.step(&mut next, i, bits.as_int() as u64);
                Ok((r, Run::Formula(next)))
            }
        }
    }

    /// Moves to `run` (from [`Stream::peek`]): `(state, ended)`.
    fn apply(&mut self, next: &Run) -> (usize, bool) {
        match (self, next) {
            (Stream::Machine(_, run), Run::Machine(n)) => {
                *run = n.clone();
                (run.state, run.ended.is_some())
            }
            (Stream::Formula(_, run), Run::Formula(n)) => {
                *run = n.clone();
                (run.state, run.done.is_some())
            }
            (Stream::Machine(_, run), _) => (run.state, run.ended.is_some()),
            (Stream::Formula(_, run), _) => (run.state, run.done.is_some()),
        }
    }

    /// What reading a step's guard bits from `state` would do — `(reward, next state,
    /// ended)` — without moving this stream.
    fn try_from(&self, state: usize, i: usize, bits: &Value) -> Result<(f64, usize, bool), String> {
        let out_of_range = |n: usize| format!("state {state} does not exist (there are {n})");
        match self {
            Stream::Machine(m, _) => {
                if state >= m.states().len() {
                    return Err(out_of_range(m.states().len()));
                }
                let mut run = m.start();
                run.state = state;
                let r = m.step(&mut run, i, bits)?;
                Ok((r, run.state, run.ended.is_some()))
            }
            Stream::Formula(a, _) => {
                if state >= a.accepting.len() {
                    return Err(out_of_range(a.accepting.len()));
                }
                let mut run = a.start();
                run.state = state;
                run.accepting = a.accepting[state];
                let r = a.step(&mut run, i, bits.as_int() as u64);
                Ok((r, run.state, run.done.is_some()))
            }
        }
    }
}

pub struct Monitor<'p> {
    interp: Interpreter<'p>,
    streams: Vec<(String, Mask, Stream)>,
    formulas: Vec<(String, Mask, Automaton, AutomatonRun)>,
    locals: Vec<Value>,
    /// The step's guard bits per stream, then per formula: all are computed before any run
    /// moves, so a step that fails leaves the monitor as it was.
    bits: Vec<Value>,
    /// The runs a step moves the streams to, before they move (kept to reuse its memory).
    pending: Vec<Run>,
    steps: usize,
    result: StepResult,
}

/// Why a spec cannot be monitored online.
#[derive(Debug, Clone)]
pub struct MonitorError(pub String);

impl std::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A machine's run ([`crate::ir::MachineValue`]), or a formula's truth or rewarded run
/// ([`crate::ir::LtlValue`]) → (table, mask).
fn table_and_mask(e: &Expr) -> Option<(&Value, Mask)> {
    let step_ty = |trace: &Expr| match &trace.ty {
        reward_runtime::Ty::List(elem) => (**elem).clone(),
        other => other.clone(),
    };
    match &e.kind {
        // The same table and, per step, the bitmask of the formula's atoms.
        ExprKind::Ltl(l) if matches!(l.measure, LtlMeasure::Sat | LtlMeasure::Run) => Some((
            &l.table,
            Mask {
                expr: crate::ir::bitmask(l.atoms.clone(), e.span),
                local: l.step,
                step_ty: step_ty(&l.trace),
            },
        )),
        ExprKind::Machine(m) => {
            let (expr, local) = match &m.steps {
                MachineSteps::Bits { step, bits } => {
                    (crate::ir::bitmask(bits.clone(), e.span), *step)
                }
                MachineSteps::Words { step, words } => (words.clone(), *step),
                MachineSteps::Labels { needles } => label_mask(needles, e.span),
            };
            let step_ty = step_ty(&m.trace);
            Some((
                &m.table,
                Mask {
                    expr,
                    local,
                    step_ty,
                },
            ))
        }
        _ => None,
    }
}

/// A machine over label texts: per step, the valuation of its atoms `needle_k in step`, as the
/// runtime computes it, with the step as local 0.
fn label_mask(needles: &[Value], span: crate::diag::Span) -> (Expr, LocalId) {
    let local: LocalId = 0;
    let atoms = needles
        .iter()
        .map(|n| {
            Expr::new(
                ExprKind::TextContains {
                    haystack: Box::new(Expr::new(ExprKind::Local(local), Ty::Text, span)),
                    needle: Box::new(Expr::constant(n.clone(), Ty::Text, span)),
                },
                Ty::Bool,
                span,
            )
        })
        .collect();
    (crate::ir::bitmask(atoms, span), local)
}

/// Whether an expression reads only the step (not the rollout or other terms).
fn reads_only_the_step(e: &Expr) -> bool {
    let mut ok = true;
    crate::interp::visit(e, &mut |x| {
        ok &= !matches!(
            x.kind,
            ExprKind::Input | ExprKind::Term(_) | ExprKind::CallFn(..)
        );
    });
    ok
}

impl<'p> Monitor<'p> {
    /// A monitor of every reward machine and `ltl` formula of a compiled spec.
    pub fn new(spec: &'p Spec) -> Result<Monitor<'p>, MonitorError> {
        let program = &spec.program;
        let mut streams = Vec::new();
        let mut formulas = Vec::new();
        let mut locals = 0u32;
        for lowered in &program.lowered {
            let stream_name = lowered.name.as_str();
            let term = &program.terms[lowered.kind.table_term()];
            let body = &term.body.expr;
            let Some((table, mask)) = table_and_mask(body) else {
                continue;
            };
            if !reads_only_the_step(&mask.expr) {
                return Err(MonitorError(format!(
                    "`{stream_name}` reads the rollout, not only the step: it cannot be monitored online"
                )));
            }
            locals = locals.max(term.body.locals);
            match lowered.kind {
                LoweredKind::Machine { rewards, .. } => {
                    // Constant rewards are a field of the run record; anything else is
                    // computed from the step.
                    let dynamic =
                        !matches!(program.terms[rewards].body.expr.kind, ExprKind::Field(..));
                    if dynamic {
                        return Err(MonitorError(format!(
                            "machine `{stream_name}` computes rewards from the step; the online monitor runs machines with constant rewards"
                        )));
                    }
                    let m = Machine::decode(table).map_err(MonitorError)?;
                    let run = m.start();
                    streams.push((stream_name.to_string(), mask, Stream::Machine(m, run)));
                }
                LoweredKind::RewardedFormula { .. } => {
                    let a = Automaton::decode(table).map_err(MonitorError)?;
                    let run = a.start();
                    let again = Mask {
                        expr: mask.expr.clone(),
                        local: mask.local,
                        step_ty: mask.step_ty.clone(),
                    };
                    formulas.push((stream_name.to_string(), again, a.clone(), a.start()));
                    streams.push((stream_name.to_string(), mask, Stream::Formula(a, run)));
                }
                LoweredKind::Formula { .. } => {
                    let a = automaton_of(stream_name, table)?;
                    let run = a.start();
                    formulas.push((stream_name.to_string(), mask, a, run));
                }
            }
        }
        let mut step_types = streams
            .iter()
            .map(|s| (&s.0, &s.1.step_ty))
            .chain(formulas.iter().map(|f| (&f.0, &f.1.step_ty)));
        if let Some((first, ty)) = step_types.next() {
            if let Some((other, other_ty)) = step_types.find(|(_, t)| *t != ty) {
                return Err(MonitorError(format!(
                    "`{first}` steps over records of type {ty} but `{other}` over {other_ty}: an online monitor reads one record per step"
                )));
            }
        }
        let result = StepResult {
            reward: 0.0,
            rewards: vec![0.0; streams.len()],
            verdicts: vec![Verdict::Undecided; formulas.len()],
            done: false,
            states: streams.iter().map(|s| s.2.start_state()).collect(),
        };
        let bits = vec![Value::None; streams.len() + formulas.len()];
        Ok(Monitor {
            interp: spec.interpreter(),
            streams,
            formulas,
            locals: vec![Value::None; locals as usize + 1],
            bits,
            pending: Vec::new(),
            steps: 0,
            result,
        })
    }

    /// The reward streams (machines and rewarded formulas), in the order of `rewards`.
    pub fn streams(&self) -> Vec<&str> {
        self.streams.iter().map(|s| s.0.as_str()).collect()
    }

    /// The type of the records [`Monitor::step`] reads (the element type of the traces the
    /// machines and formulas run over); `None` when there is nothing to monitor.
    pub fn step_type(&self) -> Option<&reward_runtime::Ty> {
        self.streams
            .first()
            .map(|s| &s.1.step_ty)
            .or_else(|| self.formulas.first().map(|f| &f.1.step_ty))
    }

    /// The formulas, in the order of `verdicts`.
    pub fn formulas(&self) -> Vec<&str> {
        self.formulas.iter().map(|f| f.0.as_str()).collect()
    }

    /// Starts a new episode.
    pub fn reset(&mut self) {
        self.steps = 0;
        for (_, _, s) in &mut self.streams {
            match s {
                Stream::Machine(m, run) => *run = m.start(),
                Stream::Formula(a, run) => *run = a.start(),
            }
        }
        for (_, _, a, run) in &mut self.formulas {
            *run = a.start();
        }
        self.result.reward = 0.0;
        self.result.rewards.fill(0.0);
        for (k, s) in self.streams.iter().enumerate() {
            self.result.states[k] = s.2.start_state();
        }
        self.result.verdicts.fill(Verdict::Undecided);
        self.result.done = false;
    }

    /// Reads one step (a value of the trace's element type). If the step's guards cannot be
    /// evaluated, the error is returned and no run moves.
    pub fn step(&mut self, step: &Value) -> Result<&StepResult, RuntimeError> {
        let i = self.steps;
        let masks = self
            .streams
            .iter()
            .map(|s| &s.1)
            .chain(self.formulas.iter().map(|f| &f.1));
        for (k, mask) in masks.enumerate() {
            self.bits[k] =
                self.interp
                    .eval_with_local(&mask.expr, mask.local, step, &mut self.locals)?;
        }
        // Every stream's move first, then all of them at once: a stream that fails (a machine
        // with `otherwise: error`) leaves every run where it was.
        self.pending.clear();
        for (k, (_, mask, s)) in self.streams.iter().enumerate() {
            let (r, run) = s.peek(i, &self.bits[k]).map_err(|message| RuntimeError {
                message,
                span: mask.expr.span,
                term: None,
            })?;
            self.result.rewards[k] = r;
            self.pending.push(run);
        }
        let mut total = 0.0;
        let mut done = true;
        for (k, ((_, _, s), run)) in self.streams.iter_mut().zip(&self.pending).enumerate() {
            let (state, ended) = s.apply(run);
            done &= ended;
            self.result.states[k] = state;
            total += self.result.rewards[k];
        }
        let offset = self.streams.len();
        for (k, (_, _, a, run)) in self.formulas.iter_mut().enumerate() {
            a.step(run, i, self.bits[offset + k].as_int() as u64);
            let v = Verdict::from_code(a.verdict(run));
            done &= v != Verdict::Undecided;
            self.result.verdicts[k] = v;
        }
        self.steps += 1;
        self.result.reward = total;
        self.result.done = done;
        Ok(&self.result)
    }

    /// Each reward stream's current state (the start states after [`Monitor::reset`]).
    pub fn states(&self) -> &[usize] {
        &self.result.states
    }

    /// The names of reward stream `k`'s states: a machine's own names, `q0`, `q1`, … for the
    /// automaton of a rewarded formula.
    pub fn state_names(&self, k: usize) -> Vec<String> {
        match self.streams.get(k).map(|s| &s.2) {
            Some(Stream::Machine(m, _)) => m.states().to_vec(),
            Some(Stream::Formula(a, _)) => {
                (0..a.accepting.len()).map(|q| format!("q{q}")).collect()
            }
            None => Vec::new(),
        }
    }

    /// Reward stream `k`'s shaping potential per state (empty when it is not shaped).
    pub fn potentials(&self, k: usize) -> Vec<f64> {
        match self.streams.get(k).map(|s| &s.2) {
            Some(Stream::Machine(m, _)) => m.potentials().to_vec(),
            Some(Stream::Formula(a, _)) => a.potentials.clone(),
            None => Vec::new(),
        }
    }

    /// What stream `k` would do from `state` on `step` — `(next state, reward, ended)` — without
    /// moving the monitor: the counterfactual experience of reward-machine learning (CRM).
    pub fn transition(
        &mut self,
        k: usize,
        state: usize,
        step: &Value,
    ) -> Result<(usize, f64, bool), RuntimeError> {
        let Some((_, mask, s)) = self.streams.get(k) else {
            return Err(RuntimeError {
                message: format!("there is no reward stream {k}"),
                span: Default::default(),
                term: None,
            });
        };
        let bits = self
            .interp
            .eval_with_local(&mask.expr, mask.local, step, &mut self.locals)?;
        let fail = |message| RuntimeError {
            message,
            span: mask.expr.span,
            term: None,
        };
        s.try_from(state, self.steps, &bits)
            .map(|(r, next, ended)| (next, r, ended))
            .map_err(fail)
    }
}

/// The automaton of a formula scored only for its truth (its table has no DFA): built here.
fn automaton_of(name: &str, table: &Value) -> Result<Automaton, MonitorError> {
    let Value::Record(t) = table else {
        return Err(MonitorError("internal error: bad formula table".into()));
    };
    let nodes = decode_nodes(&t[1]).map_err(MonitorError)?;
    let atoms = reward_runtime::ltl::atom_count(&nodes);
    let dfa = crate::automaton::build(&nodes, atoms).map_err(|_| {
        MonitorError(format!(
            "formula `{name}` has too large an automaton to be monitored online"
        ))
    })?;
    Ok(Automaton {
        name: name.to_string(),
        start: dfa.start,
        trans: dfa.trans,
        accepting: dfa.accepting,
        verdict: dfa.verdict,
        reward: 0.0,
        gamma: 1.0,
        potentials: Vec::new(),
    })
}
