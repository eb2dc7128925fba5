//! What the loops over a trace's steps share ([`super::ltl`] for formulas, [`super::machine`]
//! for reward machines): the choice between the loops and the IR's reference, made per row;
//! the row's scratch arrays; a loop over the steps; the float constants made before a loop.

use super::*;

/// A trace whose steps the loops read as columns: its length and each field's array.
pub(super) struct StepColumns {
    pub len: CValue,
    pub arrays: Vec<(StepArray, CValue)>,
}

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    /// The value of `fused` when the trace is held as columns (with every array in `reads`),
    /// it is not empty (when `non_empty`), and the row's operation budget covers
    /// `loops` iterations per step — what the reference spends, and what `fused` then spends;
    /// else the value of `reference`, with its errors where it makes them. `fused` may give
    /// up on the row by jumping to the block it is given (when `can_give_up`): the budget is
    /// given back and the reference runs.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fused_or_reference(
        &mut self,
        trace: &Expr,
        reads: Vec<StepArray>,
        loops: usize,
        non_empty: bool,
        can_give_up: bool,
        reference: &Expr,
        fused: impl FnOnce(&mut Self, StepColumns, Option<Block>) -> Result<CValue, JitError>,
    ) -> Result<CValue, JitError> {
        let (_, len, bases) = self.list_arrays(trace, &reads)?;
        let mut ready = if non_empty {
            self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, len, 0)
        } else {
            self.b.ins().iconst(types::I8, 1)
        };
        for &base in &bases {
            let there = self.b.ins().icmp_imm_u(IntCC::NotEqual, base, 0);
            ready = self.b.ins().band(ready, there);
        }
        let arrays = reads.into_iter().zip(bases).collect();
        let left = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_BUDGET,
        );
        let cost = self.b.ins().imul_imm_s(len, loops as i64);
        let enough = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, left, cost);
        let ready = self.b.ins().band(ready, enough);

        let result = self.b.declare_var(clif(repr(&reference.ty)));
        let (fused_block, reference_block, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b
            .ins()
            .brif(ready, fused_block, &[], reference_block, &[]);

        self.b.switch_to_block(fused_block);
        let after = self.b.ins().isub(left, cost);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), after, self.ctx, abi::OFFSET_BUDGET);
        let give_up = can_give_up.then(|| self.b.create_block());
        let columns = StepColumns { len, arrays };
        let v = fused(self, columns, give_up)?;
        self.b.def_var(result, v);
        self.b.ins().jump(join, &[]);

        if let Some(give_up) = give_up {
            self.b.switch_to_block(give_up);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), left, self.ctx, abi::OFFSET_BUDGET);
            self.b.ins().jump(reference_block, &[]);
        }

        self.b.switch_to_block(reference_block);
        let v = self.expr(reference)?;
        self.b.def_var(result, v);
        self.b.ins().jump(join, &[]);

        self.b.switch_to_block(join);
        Ok(self.b.use_var(result))
    }

    /// Reads the trace's columns for the element local `step` in the loops compiled by
    /// `body`, with `index` at the step; the loops' float constants (`floats` and those of
    /// `exprs`) are made once, before them.
    pub(super) fn in_step_loops<'e, T>(
        &mut self,
        step: LocalId,
        columns: &StepColumns,
        index: Variable,
        (floats, exprs): (Vec<f64>, impl IntoIterator<Item = &'e Expr>),
        body: impl FnOnce(&mut Self) -> Result<T, JitError>,
    ) -> Result<T, JitError> {
        self.columns.insert(
            step,
            ColumnLoop {
                index,
                arrays: columns.arrays.clone(),
                at_step: Vec::new(),
            },
        );
        self.cg.array_loops = true;
        // Cranelift makes a constant where it is used, at every step of a loop: the loops'
        // floats are made once, here.
        let mut floats = floats;
        for e in exprs {
            float_constants(e, &mut floats);
        }
        for x in floats {
            if !self.hoisted.contains_key(&x.to_bits()) {
                let v = self.b.ins().f64const(x);
                self.hoisted.insert(x.to_bits(), v);
            }
        }
        let out = body(self);
        self.columns.remove(&step);
        // Made in the block before the loops: not where later code may use them.
        self.hoisted.clear();
        out
    }

    /// An array of `len` scalars of `kind` for the row's loops, counted in `scratch` (each is
    /// given back, or made a list, after the loops, last first, as `rt_collect_scalars`
    /// stacks them).
    pub(super) fn scratch_array(
        &mut self,
        kind: ScalarKind,
        len: CValue,
        scratch: &mut usize,
    ) -> CValue {
        *scratch += 1;
        let (ctx, k) = (self.ctx, self.b.ins().iconst(types::I32, kind as i64));
        self.call1(Helper::rt_collect_scalars, &[ctx, k, len])
    }

    /// A loop over the steps, forward from the first or backward from the last, with `index`
    /// at the step in `body`, which may leave the loop by jumping to the block it is given
    /// (where the loop ends).
    pub(super) fn loop_over_steps(
        &mut self,
        index: Variable,
        len: CValue,
        forward: bool,
        mut body: impl FnMut(&mut Self, Block) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let start = if forward {
            self.b.ins().iconst(types::I64, 0)
        } else {
            len
        };
        self.b.def_var(index, start);
        let (header, step, done) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let i = self.b.use_var(index);
        let more = if forward {
            self.b.ins().icmp(IntCC::SignedLessThan, i, len)
        } else {
            self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, i, 0)
        };
        self.b.ins().brif(more, step, &[], done, &[]);
        self.b.switch_to_block(step);
        if !forward {
            let i1 = self.b.ins().iadd_imm_s(i, -1);
            self.b.def_var(index, i1);
        }
        body(self, done)?;
        if forward {
            let i = self.b.use_var(index);
            let i1 = self.b.ins().iadd_imm_s(i, 1);
            self.b.def_var(index, i1);
        }
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(done);
        Ok(())
    }

    /// Reads every array the loop over `step`'s arrays (of a trace of type `trace`) reads, at
    /// the loop's index, here, for the rest of the step to use ([`Lower::forget_step`] ends
    /// it): a field that several atoms read is loaded once (Cranelift does not merge the loads).
    pub(super) fn read_step(&mut self, step: LocalId, trace: &Ty) {
        let Some(cl) = self.columns.get(&step) else {
            return;
        };
        let (index, arrays) = (cl.index, cl.arrays.clone());
        let i = self.b.use_var(index);
        let mut at_step = Vec::with_capacity(arrays.len());
        for (a, base) in arrays {
            if let Some(ty) = loop_shape::step_array_ty(trace, a) {
                at_step.push((a, self.load_item(base, i, repr(&ty))));
            }
        }
        if let Some(cl) = self.columns.get_mut(&step) {
            cl.at_step = at_step;
        }
    }

    pub(super) fn forget_step(&mut self, step: LocalId) {
        if let Some(cl) = self.columns.get_mut(&step) {
            cl.at_step.clear();
        }
    }
}

/// The arrays of the trace that a loop over its steps reads to compute `exprs` (each reading
/// the step as local `step`): fields of records of scalars, or the items of a list of scalars
/// ([`loop_shape::step_arrays`]); `None` when the trace is neither or an expression is not a
/// scalar of the step that cannot fail (so the loop cannot compute it).
pub(super) fn loop_arrays(trace: &Expr, step: LocalId, exprs: &[Expr]) -> Option<Vec<StepArray>> {
    if !exprs.iter().all(loop_shape::cheap_and_total) {
        return None;
    }
    loop_shape::step_arrays(&trace.ty, exprs, step)
}

/// A value kept in a stack slot and loaded where it is read ([`Lower::pin`]).
#[derive(Clone, Copy)]
pub(super) struct Pinned(cranelift_codegen::ir::StackSlot, Type);

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    /// Keeps `v` in memory, to load where it is read: an address made before a loop and read in
    /// its body, or a loop's result read after calls. Left in a register, such a value's live
    /// range crosses the loop and the calls, and the register allocator may give the whole of
    /// it a spill slot — which it stores back on every iteration, the next iteration's load
    /// waiting for the store — instead of a register in the loop.
    pub(super) fn pin(&mut self, v: CValue) -> Pinned {
        let ty = self.b.func.dfg.value_type(v);
        let slot = self.pointer_slot(1);
        self.b.ins().stack_store(types::I64, v, slot, 0);
        Pinned(slot, ty)
    }

    pub(super) fn pinned(&mut self, p: Pinned) -> CValue {
        self.b.ins().stack_load(types::I64, p.1, p.0, 0)
    }
}

/// The float constants of `e`, added to `out`.
fn float_constants(e: &Expr, out: &mut Vec<f64>) {
    match &e.kind {
        ExprKind::Const(v) if repr(&e.ty) == Repr::Float => out.push(v.as_f64()),
        _ => {
            for c in e.children() {
                float_constants(c, out);
            }
        }
    }
}
