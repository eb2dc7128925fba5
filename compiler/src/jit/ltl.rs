//! `sat(φ)` and `robustness(φ)` of an `ltl` formula as loops over the trace's steps.
//!
//! The reference ([`LtlValue::reference`]) collects each atom's value at every step into an array,
//! then the runtime evaluates the formula over those arrays, node by node. When its atoms are
//! scalars of the step that cannot fail ([`loop_shape::cheap_and_total`]) and, for robustness,
//! it has no window read at every step (nor a bounded `until` or `release`), compiled code
//! computes it in loops over the trace's columns instead, with the atoms computed in registers per
//! step: one loop from the last step to the first, where each node's value follows from its
//! children's at the step and its own at the next (a window's truth from its operand's values at
//! the next steps, which it keeps); and, before it, for a formula with past operators, one loop
//! from the first step that computes them, keeping each one the rest of the formula reads in an
//! array ([`Passes`]). Truth is computed on booleans (a formula's robustness values are ±∞ there,
//! so `sat` is their sign), robustness with the language's `min`/`max`: the same operations on the
//! same values as the reference, so the same bits.
//!
//! The loops run when the trace's columns are there (a list of records of scalars held as
//! arrays, or a list of scalars held as one array, whose step is the item: see
//! [`loop_arrays`]), the trace is not empty, and the row's operation budget covers what the reference
//! would spend (one iteration per step for each of its loops), which the loops then spend.
//! Otherwise the reference runs, with its errors where it makes them.

use reward_runtime::ltl::{Node, Op};

use super::machine::Finish;
use super::steps::{loop_arrays, StepColumns};
use super::*;

/// The arrays of the step the atoms read and the loops' plan, when the formula runs as loops
/// (see the module).
fn fused_plan(l: &LtlValue) -> Option<(Vec<StepArray>, Passes)> {
    let arrays = loop_arrays(&l.trace, l.step, &l.atoms)?;
    let passes = Passes::new(&l.nodes);
    // A window's robustness at every step is the reference's: its O(n) sliding window beats a
    // monotone queue in the loop, whose pops branch on the data (W6 window: 11.8 against 22
    // ns/step).
    if l.measure == LtlMeasure::Robustness && passes.slide.contains(&true) {
        return None;
    }
    Some((arrays, passes))
}

/// Which nodes each loop computes. A past operator looks back over formulas of the present
/// and the past only (the checker makes sure), so the past operators and what they read are
/// computed by a loop from the first step to the last, which keeps each past operator the
/// formula reads elsewhere (`kept`) in an array, per step. The loop from the last step to the
/// first computes the rest, reading those arrays. Each operator reads its operands at its own
/// step and itself one step before or after, except a window: an `eventually[lo, hi]` or
/// `always[lo, hi]` read at step 0 only is the extreme of its operand over steps `lo..=hi`,
/// which the loop from the end accumulates; one read at every step keeps its operand's values
/// per step, and its truth is found from them ([`Lower::slide`]; its robustness is the
/// reference's); so does a window on `until` or `release`, wherever it is read.
struct Passes {
    /// Computed by the loop from the start.
    forward: Vec<bool>,
    /// A past operator the loop from the end reads: kept per step.
    kept: Vec<bool>,
    /// Computed by the loop from the end at every step: an operator over the future carries
    /// its value from step to step, and so do the nodes it reads.
    every: Vec<bool>,
    /// A window read at step 0 only, accumulated by the loop from the end over its steps.
    window: Vec<bool>,
    /// A window read at every step (and so in `every` too): its operand's values are kept per
    /// step, and its truth at a step is found from them ([`Lower::slide`]).
    slide: Vec<bool>,
    /// Computed once, at step 0, after the loops: the nodes above the last operator over the
    /// future (the formula itself, often).
    at_start: Vec<bool>,
}

impl Passes {
    fn new(nodes: &[Node]) -> Passes {
        let n = nodes.len();
        // Read by the loop from the end: reached from the formula without passing through a
        // past operator. Parents come after their children, so walking down, a node is
        // final before its children are.
        let mut back = vec![false; n];
        let mut forward = vec![false; n];
        let mut every = vec![false; n];
        let mut window = vec![false; n];
        let mut slide = vec![false; n];
        back[n - 1] = true;
        for j in (0..n).rev() {
            let node = &nodes[j];
            let past = node.op.is_past();
            forward[j] |= back[j] && past;
            if node.windowed() && back[j] {
                // A bounded `until` or `release` slides even when read at step 0 only: its
                // value follows from its operands' at every step of its window.
                let bounded = matches!(node.op, Op::Until | Op::Release);
                every[j] |= bounded;
                slide[j] = every[j];
                window[j] = !every[j];
            } else {
                every[j] |= back[j] && node.op.is_future();
            }
            for c in node.children() {
                let c = c as usize;
                back[c] |= back[j] && !past;
                forward[c] |= forward[j];
                every[c] |= (every[j] || window[j]) && !past;
            }
        }
        let kept = (0..n).map(|j| back[j] && nodes[j].op.is_past()).collect();
        let at_start = (0..n).map(|j| back[j] && !every[j] && !window[j]).collect();
        Passes {
            forward,
            kept,
            every,
            window,
            slide,
            at_start,
        }
    }
}

/// Where a node's value comes from in the loop being compiled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// From the first step to the last: past operators.
    Forward,
    /// From the last step to the first, or at step 0 after it: the rest, and a kept past
    /// operator from its array.
    Backward,
}

/// What a window read at every step keeps, for truth ([`Lower::slide`]).
struct Slide {
    /// Its operand's value (the right one of `until` and `release`) at every step the loop has
    /// been at.
    values: CValue,
    /// The nearest step at or after the window's start that decides it (its operand true for
    /// `eventually` and `until`, false for `always` and `release`); `i64::MAX`: none yet.
    nearest: Variable,
    /// For `until` (`release`): the first step at or after the loop's where its left operand
    /// is false (true), up to which a deciding step counts; `i64::MAX`: none yet.
    broken: Variable,
}

/// The variables of a formula's nodes in its loops.
struct NodeVars {
    vals: Vec<Variable>,
    other: Vec<Variable>,
    /// Per kept past operator, the array of its values per step.
    kept: Vec<Option<CValue>>,
    /// Per window read at every step, what it keeps.
    slides: Vec<Option<Slide>>,
    /// The step the loop is at.
    index: Variable,
    /// The trace's length.
    len: CValue,
}

/// The values the loop computes in: booleans for truth, floats for robustness.
#[derive(Clone, Copy)]
struct Domain {
    sat: bool,
}

impl Domain {
    fn ty(self) -> Ty {
        if self.sat {
            Ty::Bool
        } else {
            Ty::Float
        }
    }

    fn repr(self) -> Repr {
        repr(&self.ty())
    }
}

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    /// `sat(φ)` or `robustness(φ)`: the fused loop when it applies, else the reference; a
    /// rewarded formula's run and its verdicts: its automaton's loop
    /// ([`Self::automaton_walk`]).
    pub(super) fn ltl(&mut self, l: &LtlValue, e: &Expr) -> Result<CValue, JitError> {
        let reference = l.reference(e.span);
        match l.measure {
            LtlMeasure::Sat | LtlMeasure::Robustness => {}
            LtlMeasure::Run => return self.automaton_walk(l, Finish::RunRecord, &reference),
            LtlMeasure::Verdicts => return self.automaton_walk(l, Finish::StateNames, &reference),
        }
        let Some((fields, passes)) = fused_plan(l) else {
            return self.expr(&reference);
        };
        let loops = l.reference_loops();
        self.fused_or_reference(
            &l.trace,
            fields,
            loops,
            true,
            false,
            &reference,
            |lw, columns, _| lw.fused_loop(l, &passes, &columns),
        )
    }

    /// The loops over the steps (see [`Passes`]); the formula's value at step 0.
    fn fused_loop(
        &mut self,
        l: &LtlValue,
        passes: &Passes,
        columns: &StepColumns,
    ) -> Result<CValue, JitError> {
        let d = Domain {
            sat: l.measure == LtlMeasure::Sat,
        };
        let index = self.b.declare_var(types::I64);
        // The floats of the operators (infinities, the NaN that min and max return) and of
        // the atoms.
        let floats = vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        self.in_step_loops(l.step, columns, index, (floats, &l.atoms), |lw| {
            lw.formula_loops(l, passes, d, index, columns.len)
        })
    }

    /// [`Self::fused_loop`] with the trace's columns read.
    fn formula_loops(
        &mut self,
        l: &LtlValue,
        passes: &Passes,
        d: Domain,
        index: Variable,
        len: CValue,
    ) -> Result<CValue, JitError> {
        let nodes = &l.nodes;
        // Per node, its value at the step a loop is at; before a loop's first step, the value
        // beyond the end (or the start) of the trace, for the operators that carry one. `next`
        // and `prev` keep their child's value at the step after (before) in `other`.
        let mut node_vars = NodeVars {
            vals: Vec::with_capacity(nodes.len()),
            other: Vec::with_capacity(nodes.len()),
            kept: vec![None; nodes.len()],
            slides: Vec::new(),
            index,
            len,
        };
        for node in nodes.iter() {
            let holds = matches!(
                node.op,
                Op::WNext | Op::Release | Op::Always | Op::WPrev | Op::Historically
            );
            for vars in [&mut node_vars.vals, &mut node_vars.other] {
                let beyond = self.truth(d, holds);
                let v = self.b.declare_var(clif(d.repr()));
                self.b.def_var(v, beyond);
                vars.push(v);
            }
        }
        let kind = scalar_kind(&d.ty()).expect("a scalar");
        // Arrays for the row, given back after the loops.
        let mut scratch = 0;
        let kept: Vec<usize> = (0..nodes.len()).filter(|&j| passes.kept[j]).collect();
        for &j in &kept {
            node_vars.kept[j] = Some(self.scratch_array(kind, len, &mut scratch));
        }
        for j in 0..nodes.len() {
            let slide = passes.slide[j].then(|| self.slide_vars(len, &mut scratch));
            node_vars.slides.push(slide);
        }
        let v = &node_vars;
        if !kept.is_empty() {
            self.loop_over_steps(index, len, true, |lw, _| {
                lw.nodes_at_step(l, d, v, Pass::Forward, |j| passes.forward[j])?;
                lw.carry(l, v, |op| matches!(op, Op::Prev | Op::WPrev));
                let i = lw.b.use_var(index);
                for &j in &kept {
                    let (base, x) = (v.kept[j].expect("kept"), lw.b.use_var(v.vals[j]));
                    lw.store_item(base, i, d.repr(), x);
                }
                Ok(())
            })?;
        }
        self.loop_over_steps(index, len, false, |lw, _| {
            let in_loop = |j: usize| passes.every[j] || passes.window[j];
            lw.nodes_at_step(l, d, v, Pass::Backward, in_loop)?;
            lw.carry(l, v, |op| matches!(op, Op::Next | Op::WNext));
            Ok(())
        })?;
        // The index is 0 here: the nodes computed once read step 0.
        self.nodes_at_step(l, d, v, Pass::Backward, |j| passes.at_start[j])?;
        for _ in 0..scratch {
            let ctx = self.ctx;
            self.call(Helper::rt_collect_scalars_finish, &[ctx, len]);
        }
        Ok(self.b.use_var(v.vals[nodes.len() - 1]))
    }

    /// What a window read at every step keeps, empty before the loop from the end.
    fn slide_vars(&mut self, len: CValue, scratch: &mut usize) -> Slide {
        let values = self.scratch_array(ScalarKind::Bool, len, scratch);
        let none = self.b.ins().iconst(types::I64, i64::MAX);
        let [nearest, broken] = [(); 2].map(|()| {
            let v = self.b.declare_var(types::I64);
            self.b.def_var(v, none);
            v
        });
        Slide {
            values,
            nearest,
            broken,
        }
    }

    /// At the end of a step: each `next`/`prev` node (`which`) keeps its child's value for the
    /// loop's next step.
    fn carry(&mut self, l: &LtlValue, v: &NodeVars, which: impl Fn(Op) -> bool) {
        for (j, node) in l.nodes.iter().enumerate() {
            if which(node.op) {
                let now = self.b.use_var(v.vals[node.a as usize]);
                self.b.def_var(v.other[j], now);
            }
        }
    }

    /// The values at the current step of the nodes `which` picks, children first.
    fn nodes_at_step(
        &mut self,
        l: &LtlValue,
        d: Domain,
        v: &NodeVars,
        pass: Pass,
        which: impl Fn(usize) -> bool,
    ) -> Result<(), JitError> {
        for (j, node) in l.nodes.iter().enumerate() {
            if !which(j) {
                continue;
            }
            if let (Pass::Backward, Some(base)) = (pass, v.kept[j]) {
                let i = self.b.use_var(v.index);
                let x = self.load_item(base, i, d.repr());
                self.b.def_var(v.vals[j], x);
                continue;
            }
            let kids: Vec<CValue> = node
                .children()
                .map(|c| self.b.use_var(v.vals[c as usize]))
                .collect();
            // The children's values, `a` then `b`, for the operators that have them.
            let kid = |k: usize| kids[k];
            // The node's own value at the step before (after) this one, for an operator that
            // carries it.
            let carried = self.b.use_var(v.vals[j]);
            let x = match node.op {
                Op::True => self.truth(d, true),
                Op::False => self.truth(d, false),
                Op::Atom => self.expr(&l.atoms[node.a as usize])?,
                Op::Not => self.negate(d, kid(0)),
                Op::And => self.both(d, kid(0), kid(1)),
                Op::Or => self.either(d, kid(0), kid(1)),
                Op::Implies => {
                    let not_a = self.negate(d, kid(0));
                    self.either(d, not_a, kid(1))
                }
                Op::Iff => {
                    let (not_a, not_b) = (self.negate(d, kid(0)), self.negate(d, kid(1)));
                    let forward = self.either(d, not_a, kid(1));
                    let backward = self.either(d, kid(0), not_b);
                    self.both(d, forward, backward)
                }
                Op::Next | Op::WNext | Op::Prev | Op::WPrev => self.b.use_var(v.other[j]),
                Op::Until | Op::Since => {
                    let held = self.both(d, kid(0), carried);
                    self.either(d, kid(1), held)
                }
                Op::Release => {
                    let held = self.either(d, kid(0), carried);
                    self.both(d, kid(1), held)
                }
                Op::Eventually | Op::Once => self.either(d, kid(0), carried),
                Op::Always | Op::Historically => self.both(d, kid(0), carried),
            };
            // A window accumulates its operand over its steps only.
            let x = if let Some(slide) = &v.slides[j] {
                self.slide(node, slide, v, &kids)
            } else if node.windowed() {
                let i = self.b.use_var(v.index);
                let from =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, i, node.lo as i64);
                let to = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::SignedLessThanOrEqual, i, node.hi as i64);
                let inside = self.b.ins().band(from, to);
                self.b.ins().select(inside, x, carried)
            } else {
                x
            };
            self.b.def_var(v.vals[j], x);
        }
        Ok(())
    }

    /// A window read at every step (`eventually[lo, hi]`, `always[lo, hi]`), or a bounded
    /// `until` or `release`, for truth: its value at the loop's step `i`, given its operands'
    /// values `kids` there. The window is steps `m = i + lo` to `e = min(i + hi, n − 1)`, all at
    /// or after `i`: the loop has computed them, and keeps the operand (the right one of `until`
    /// and `release`) in `s.values`. As `i` goes down, step `m` enters the window; it is decided
    /// by the nearest deciding step at or after `m`, if that is at most `e` — and, for `until`,
    /// at most the first step from `i` where its left operand is false: `φ until[lo, hi] ψ`
    /// holds when ψ does at some step of the window and φ at every step from `i` before it.
    /// `release` is its dual (`not (not φ until not ψ)`).
    fn slide(&mut self, node: &Node, s: &Slide, v: &NodeVars, kids: &[CValue]) -> CValue {
        let i = self.b.use_var(v.index);
        let bounded = matches!(node.op, Op::Until | Op::Release);
        let x = kids[usize::from(bounded)];
        self.store_item(s.values, i, Repr::Bool, x);
        let m = self.b.ins().iadd_imm_s(i, node.lo as i64);
        let reach = self.b.ins().iadd_imm_s(i, node.hi as i64);
        let last = self.b.ins().iadd_imm_s(v.len, -1);
        let mut e = self.b.ins().smin(reach, last);
        // Whether a deciding step makes the value true (`eventually`, `until`) or false.
        let existential = matches!(node.op, Op::Eventually | Op::Until);
        if bounded {
            // The left operand breaks the run here: `until` where it is false, `release`
            // where it is true.
            let phi = kids[0];
            let breaks = if existential {
                self.b.ins().icmp_imm_s(IntCC::Equal, phi, 0)
            } else {
                phi
            };
            let broken = self.b.use_var(s.broken);
            let broken = self.b.ins().select(breaks, i, broken);
            self.b.def_var(s.broken, broken);
            e = self.b.ins().smin(e, broken);
        }
        let result = self.b.declare_var(types::I8);
        // An empty window: `eventually` and `until` false, `always` and `release` true.
        let empty = self.b.ins().iconst(types::I8, i64::from(!existential));
        self.b.def_var(result, empty);
        let (enter, done) = (self.b.create_block(), self.b.create_block());
        let inside = self.b.ins().icmp(IntCC::SignedLessThan, m, v.len);
        self.b.ins().brif(inside, enter, &[], done, &[]);
        self.b.switch_to_block(enter);
        let entering = self.load_item(s.values, m, Repr::Bool);
        let decides = if existential {
            entering
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, entering, 0)
        };
        let nearest = self.b.use_var(s.nearest);
        let nearest = self.b.ins().select(decides, m, nearest);
        self.b.def_var(s.nearest, nearest);
        let decided = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, nearest, e);
        let value = if existential {
            decided
        } else {
            self.b.ins().bxor_imm_u(decided, 1)
        };
        self.b.def_var(result, value);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.use_var(result)
    }

    /// True or false: 1/0, or ±∞.
    fn truth(&mut self, d: Domain, holds: bool) -> CValue {
        if d.sat {
            self.b.ins().iconst(types::I8, i64::from(holds))
        } else if holds {
            self.float_const(f64::INFINITY)
        } else {
            self.float_const(f64::NEG_INFINITY)
        }
    }

    fn negate(&mut self, d: Domain, a: CValue) -> CValue {
        if d.sat {
            self.b.ins().bxor_imm_u(a, 1)
        } else {
            self.b.ins().fneg(a)
        }
    }

    fn both(&mut self, d: Domain, a: CValue, b: CValue) -> CValue {
        if d.sat {
            self.b.ins().band(a, b)
        } else {
            self.fmin(a, b)
        }
    }

    fn either(&mut self, d: Domain, a: CValue, b: CValue) -> CValue {
        if d.sat {
            self.b.ins().bor(a, b)
        } else {
            self.fmax(a, b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: Op, a: u32, b: u32) -> Node {
        Node::new(op, a, b)
    }

    fn window(op: Op, a: u32, lo: u32, hi: u32) -> Node {
        Node {
            lo,
            hi,
            ..Node::new(op, a, 0)
        }
    }

    #[test]
    fn each_node_goes_to_the_loop_that_can_compute_it() {
        // always(a implies once(b)) and eventually[1, 3](a)
        let nodes = [
            node(Op::Atom, 0, 0),            // 0: a
            node(Op::Atom, 1, 0),            // 1: b
            node(Op::Once, 1, 0),            // 2: once(b)
            node(Op::Implies, 0, 2),         // 3
            node(Op::Always, 3, 0),          // 4
            window(Op::Eventually, 0, 1, 3), // 5
            node(Op::And, 4, 5),             // 6: the formula
        ];
        let p = Passes::new(&nodes);
        let which = |v: &[bool]| (0..nodes.len()).filter(|&j| v[j]).collect::<Vec<_>>();
        // The past operator and what it reads, from the first step; kept for the rest.
        assert_eq!(which(&p.forward), [1, 2]);
        assert_eq!(which(&p.kept), [2]);
        // From the last step: what `always` reads, at every step; the window accumulated.
        assert_eq!(which(&p.every), [0, 2, 3, 4]);
        assert_eq!(which(&p.window), [5]);
        // The formula, once at step 0.
        assert_eq!(which(&p.at_start), [6]);
    }

    #[test]
    fn windows_slide_or_accumulate_and_bounded_until_slides() {
        // eventually(always[0, 2](a)): the window is needed at every step.
        let nested = [
            node(Op::Atom, 0, 0),
            window(Op::Always, 0, 0, 2),
            node(Op::Eventually, 1, 0),
        ];
        let p = Passes::new(&nested);
        assert!(p.slide[1] && p.every[1] && !p.window[1] && p.every[0]);
        // A bounded until slides, even at the top, and its operands are needed at every step.
        let mut until = node(Op::Until, 0, 1);
        (until.lo, until.hi) = (0, 4);
        let p = Passes::new(&[node(Op::Atom, 0, 0), node(Op::Atom, 1, 0), until]);
        assert!(p.slide[2] && p.every[2] && p.every[0] && p.every[1] && !p.at_start[2]);
        // not always[2, 5](a): read at step 0 only, through a pointwise operator.
        let top = [
            node(Op::Atom, 0, 0),
            window(Op::Always, 0, 2, 5),
            node(Op::Not, 1, 0),
        ];
        let p = Passes::new(&top);
        assert!(p.window[1] && p.at_start[2]);
    }
}
