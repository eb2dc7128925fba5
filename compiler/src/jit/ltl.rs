//! `sat(φ)` and `robustness(φ)` of an `ltl` formula as one loop over the steps.
//!
//! The reference ([`LtlValue::reference`]) collects each atom's value at every step into an
//! array, then the runtime evaluates the formula over those arrays, node by node. When the
//! formula's operators each need only their own value one step later (the pointwise ones,
//! `next`, and the unbounded `until`, `release`, `eventually`, `always`) and its atoms are
//! scalars of the step that cannot fail ([`loop_shape::cheap_and_total`]), the whole formula is
//! one loop from the last step to the first: per step, the atoms are computed in registers
//! from the trace's columns and every node's value follows from its children's at this step
//! and its own at the next. Truth is computed on booleans (a formula's robustness values are
//! ±∞ there, so `sat` is their sign), robustness with the language's `min`/`max`: the same
//! operations on the same values as the reference, so the same bits.
//!
//! The loop runs when the trace's columns are there (a list of records of scalars held as
//! arrays), the trace is not empty, and the row's operation budget covers what the reference
//! would spend (one iteration per step for each of its loops), which the loop then spends.
//! Otherwise the reference runs, with its errors where it makes them.

use super::*;

/// The operators the loop computes: each reads its children at the step, and itself at the
/// next step at most. Windows and past operators read further.
fn fusable_op(node: &reward_runtime::ltl::Node) -> bool {
    use reward_runtime::ltl::{Op, UNBOUNDED};
    let unbounded = (node.lo, node.hi) == (0, UNBOUNDED);
    match node.op {
        Op::True | Op::False | Op::Atom | Op::Not | Op::And | Op::Or | Op::Implies | Op::Iff => {
            true
        }
        Op::Next | Op::WNext => true,
        Op::Until | Op::Release | Op::Eventually | Op::Always => unbounded,
        Op::Prev | Op::WPrev | Op::Since | Op::Once | Op::Historically => false,
    }
}

/// The fields of the step the atoms read, when the formula runs as one loop (see the module).
fn fused_fields(l: &LtlValue) -> Option<Vec<usize>> {
    l.trace.ty.columnar_fields()?;
    let fusable = l.nodes.iter().all(fusable_op) && l.atoms.iter().all(loop_shape::cheap_and_total);
    if !fusable {
        return None;
    }
    loop_shape::element_fields(&l.atoms, l.step)
}

/// Per node, whether the loop computes it at every step: an operator over time carries its
/// value from step to step, and so do the nodes it reads; the rest (the pointwise nodes above
/// the last operator over time, the formula itself often) are computed once, at step 0.
fn every_step(nodes: &[reward_runtime::ltl::Node]) -> Vec<bool> {
    let mut every: Vec<bool> = nodes.iter().map(|n| n.op.is_future()).collect();
    // Parents come after their children: walking down, a node is final before its children.
    for j in (0..nodes.len()).rev() {
        if every[j] {
            for c in nodes[j].children() {
                every[c as usize] = true;
            }
        }
    }
    every
}

/// The values the loop computes in: booleans for truth, floats for robustness.
#[derive(Clone, Copy)]
struct Domain {
    sat: bool,
}

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    /// `sat(φ)` or `robustness(φ)`: the fused loop when it applies, else the reference.
    pub(super) fn ltl(&mut self, l: &LtlValue, e: &Expr) -> Result<CValue, JitError> {
        let Some(fields) = fused_fields(l) else {
            return self.expr(&l.reference(e.span));
        };
        let list = self.expr(&l.trace)?;
        let len = self.call1(Helper::rt_list_len, &[list]);
        let mut arrays = Vec::with_capacity(fields.len());
        let mut ready = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, len, 0);
        for f in fields {
            let fv = self.b.ins().iconst(types::I64, f as i64);
            let base = self.call1(Helper::rt_column, &[list, fv]);
            let there = self.b.ins().icmp_imm_u(IntCC::NotEqual, base, 0);
            ready = self.b.ins().band(ready, there);
            arrays.push((f, base));
        }
        let left = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_BUDGET,
        );
        let cost = self.b.ins().imul_imm_s(len, l.reference_loops() as i64);
        let enough = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, left, cost);
        let ready = self.b.ins().band(ready, enough);

        let result = self.b.declare_var(clif(repr(&e.ty)));
        let (fused, reference, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(ready, fused, &[], reference, &[]);

        self.b.switch_to_block(fused);
        let after = self.b.ins().isub(left, cost);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), after, self.ctx, abi::OFFSET_BUDGET);
        let v = self.fused_loop(l, list, len, arrays)?;
        self.b.def_var(result, v);
        self.b.ins().jump(join, &[]);

        self.b.switch_to_block(reference);
        let v = self.expr(&l.reference(e.span))?;
        self.b.def_var(result, v);
        self.b.ins().jump(join, &[]);

        self.b.switch_to_block(join);
        Ok(self.b.use_var(result))
    }

    /// The loop from the last step to the first; the formula's value at step 0.
    fn fused_loop(
        &mut self,
        l: &LtlValue,
        list: CValue,
        len: CValue,
        arrays: Vec<(usize, CValue)>,
    ) -> Result<CValue, JitError> {
        use reward_runtime::ltl::Op;
        let d = Domain {
            sat: l.measure == LtlMeasure::Sat,
        };
        let index = self.b.declare_var(types::I64);
        self.b.def_var(index, len);
        self.columns.insert(
            l.step,
            ColumnLoop {
                list,
                index,
                in_place: true,
                arrays,
            },
        );
        self.cg.array_loops = true;
        // Per node, its value at the step the loop is at (before the first iteration: its
        // value past the end, for the operators that carry one). `next` keeps its child's value
        // at the step after, in `later`.
        let nodes = &l.nodes;
        let mut vals = Vec::with_capacity(nodes.len());
        let mut later = Vec::with_capacity(nodes.len());
        for node in nodes.iter() {
            let past_end = match node.op {
                Op::WNext | Op::Release | Op::Always => self.truth(d, true),
                _ => self.truth(d, false),
            };
            let v = self.b.declare_var(self.domain_type(d));
            self.b.def_var(v, past_end);
            vals.push(v);
            let w = self.b.declare_var(self.domain_type(d));
            self.b.def_var(w, past_end);
            later.push(w);
        }
        let every = every_step(nodes);

        let (header, body, done) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let i = self.b.use_var(index);
        let more = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, i, 0);
        self.b.ins().brif(more, body, &[], done, &[]);

        self.b.switch_to_block(body);
        let i1 = self.b.ins().iadd_imm_s(i, -1);
        self.b.def_var(index, i1);
        self.nodes_at_step(l, d, &vals, &later, |j| every[j])?;
        for (j, node) in nodes.iter().enumerate() {
            if matches!(node.op, Op::Next | Op::WNext) {
                let now = self.b.use_var(vals[node.a as usize]);
                self.b.def_var(later[j], now);
            }
        }
        self.b.ins().jump(header, &[]);

        // The index is 0 here: the nodes computed once read step 0.
        self.b.switch_to_block(done);
        self.nodes_at_step(l, d, &vals, &later, |j| !every[j])?;
        self.columns.remove(&l.step);
        Ok(self.b.use_var(vals[nodes.len() - 1]))
    }

    /// The values at the current step of the nodes `which` picks, children first.
    fn nodes_at_step(
        &mut self,
        l: &LtlValue,
        d: Domain,
        vals: &[Variable],
        later: &[Variable],
        which: impl Fn(usize) -> bool,
    ) -> Result<(), JitError> {
        use reward_runtime::ltl::Op;
        for (j, node) in l.nodes.iter().enumerate() {
            if !which(j) {
                continue;
            }
            let kids: Vec<CValue> = node
                .children()
                .map(|c| self.b.use_var(vals[c as usize]))
                .collect();
            // The children's values, `a` then `b`, for the operators that have them.
            let kid = |k: usize| kids[k];
            let v = match node.op {
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
                Op::Next | Op::WNext => self.b.use_var(later[j]),
                Op::Until | Op::Release | Op::Eventually | Op::Always => {
                    let next = self.b.use_var(vals[j]);
                    match node.op {
                        Op::Until => {
                            let held = self.both(d, kid(0), next);
                            self.either(d, kid(1), held)
                        }
                        Op::Release => {
                            let held = self.either(d, kid(0), next);
                            self.both(d, kid(1), held)
                        }
                        Op::Eventually => self.either(d, kid(0), next),
                        _ => self.both(d, kid(0), next),
                    }
                }
                Op::Prev | Op::WPrev | Op::Since | Op::Once | Op::Historically => {
                    unreachable!("not a fused operator (fusable_op)")
                }
            };
            self.b.def_var(vals[j], v);
        }
        Ok(())
    }

    fn domain_type(&self, d: Domain) -> Type {
        if d.sat {
            types::I8
        } else {
            types::F64
        }
    }

    /// True or false: 1/0, or ±∞.
    fn truth(&mut self, d: Domain, holds: bool) -> CValue {
        if d.sat {
            self.b.ins().iconst(types::I8, i64::from(holds))
        } else if holds {
            self.b.ins().f64const(f64::INFINITY)
        } else {
            self.b.ins().f64const(f64::NEG_INFINITY)
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
