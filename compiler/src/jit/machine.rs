//! A reward machine's run as one loop over the trace's steps.
//!
//! The reference ([`MachineValue::reference`]) collects each step's mask into an array, then
//! the runtime walks the machine over it. When the machine reads its steps through bits (atoms
//! or guards) that are scalars of the step and cannot fail ([`loop_shape::cheap_and_total`]),
//! and its transitions fit a [`StepTable`], compiled code runs it in one loop over the trace's
//! columns instead: per step, the bits in registers, then the transition is looked up in the
//! table with no branch on the data — one load for a machine over a few atoms (a transition per
//! state and valuation), else `trailing_zeros` of the edges of the state that hold, which picks
//! the first — and the step's reward and edge are stored. The table is the runtime's
//! ([`reward_runtime::machine::Machine::step_table`]), each entry read from the runtime's own
//! transition, so the loop takes the steps the runtime takes, and adds the same rewards in the
//! same order: the same bits.
//!
//! The loop runs when the trace's columns (or its one array, for a list of scalars) are there
//! and the row's operation budget covers the reference's loop, which it then spends; a step the
//! machine cannot take (`otherwise: error`) gives the row back to the reference, which reports
//! it.
//!
//! A rewarded formula's automaton (`reward on accept`) runs in the same loop, over its atoms,
//! from the dense table the runtime builds from its own step of the automaton
//! ([`reward_runtime::ltl::Automaton::step_table`]); so do its verdicts, from the table of its
//! transitions whose states are named by their verdicts
//! ([`reward_runtime::ltl::Automaton::verdict_table`]).

use reward_runtime::ltl::Automaton;
use reward_runtime::machine::{Lookup, Machine, StepTable};
use reward_runtime::value::Column;

use super::steps::{loop_arrays, Pinned, StepColumns};
use super::*;

/// The machine's bits at the step, the arrays of the step they read and its table, when the
/// machine runs as one loop (see the module).
fn fused_plan(m: &MachineValue) -> Option<(LocalId, &[Expr], Vec<StepArray>, StepTable)> {
    let MachineSteps::Bits { step, bits } = &m.steps else {
        return None;
    };
    let fields = loop_arrays(&m.trace, *step, bits)?;
    let table = Machine::decode(&m.table).ok()?.step_table()?;
    // A valuation of the bits is a number below 2^bits: in a dense table, a transition.
    if let Lookup::Dense { valuations } = table.lookup {
        if bits.len() >= 32 || valuations != 1 << bits.len() {
            return None;
        }
    }
    Some((*step, bits, fields, table))
}

/// A formula's automaton as the same loop (its rewarded run, or its verdicts): the arrays of
/// the step its atoms read and its table, when its atoms can be computed in the loop and the
/// walk fits a dense table (a transition per state and valuation of the atoms, so any valuation
/// finds one).
fn automaton_plan(l: &LtlValue, finish: Finish) -> Option<(Vec<StepArray>, StepTable)> {
    let fields = loop_arrays(&l.trace, l.step, &l.atoms)?;
    let automaton = Automaton::decode(&l.table).ok()?;
    let table = match finish {
        Finish::RunRecord => automaton.step_table(l.atoms.len()),
        Finish::StateNames => automaton.verdict_table(l.atoms.len()),
    }?;
    Some((fields, table))
}

/// What a machine's loop makes of the run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Finish {
    /// The run record (a machine's, a rewarded formula's).
    RunRecord,
    /// Per step, the name of the state it went to (an automaton's verdicts).
    StateNames,
}

/// The table's arrays, as the loop reads them.
struct TableArrays {
    packed: Pinned,
    rewards: Pinned,
    lookup: LookupArrays,
}

enum LookupArrays {
    /// The valuations per state, as a power of two.
    Dense { shift: u32 },
    FirstEdge {
        state_edges: Pinned,
        /// With the number of valuations (the array has one more item, 0).
        letters: Option<(Pinned, i64)>,
    },
}

/// What the loop carries from step to step, and writes.
struct RunVars {
    state: Variable,
    total: Variable,
    /// The step the machine ended at; -1 while it runs.
    ended: Variable,
    rewards: Pinned,
    taken: Pinned,
}

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    /// A machine's run: the fused loop when it applies, else the reference.
    pub(super) fn machine(&mut self, m: &MachineValue, e: &Expr) -> Result<CValue, JitError> {
        let reference = m.reference(e.span);
        let Some((step, bits, fields, table)) = fused_plan(m) else {
            return self.expr(&reference);
        };
        self.fused_or_reference(
            &m.trace,
            fields,
            1,
            false,
            true,
            &reference,
            |lw, columns, give_up| {
                let give_up = give_up.expect("the machine's loop may give up");
                let finish = Finish::RunRecord;
                lw.machine_loop(&m.trace, step, bits, (&table, finish), &columns, give_up)
            },
        )
    }

    /// A rewarded formula's run (`reward on accept`) or its verdicts: its automaton in the
    /// machine's loop when it applies, else the reference. An empty trace is the reference's
    /// error.
    pub(super) fn automaton_walk(
        &mut self,
        l: &LtlValue,
        finish: Finish,
        reference: &Expr,
    ) -> Result<CValue, JitError> {
        let Some((fields, table)) = automaton_plan(l, finish) else {
            return self.expr(reference);
        };
        self.fused_or_reference(
            &l.trace,
            fields,
            l.reference_loops(),
            true,
            true,
            reference,
            |lw, columns, give_up| {
                let give_up = give_up.expect("the machine's loop may give up");
                let plan = (&table, finish);
                lw.machine_loop(&l.trace, l.step, &l.atoms, plan, &columns, give_up)
            },
        )
    }

    /// The loop over the steps of `trace` with `table`, and what `finish` makes of the run.
    fn machine_loop(
        &mut self,
        trace: &Expr,
        step: LocalId,
        bits: &[Expr],
        (table, finish): (&StepTable, Finish),
        columns: &StepColumns,
        give_up: Block,
    ) -> Result<CValue, JitError> {
        let arrays = self.table_arrays(table);
        let len = columns.len;
        let mut scratch = 0;
        let rewards = self.scratch_array(ScalarKind::Float, len, &mut scratch);
        let rewards = self.pin(rewards);
        let taken = self.scratch_array(ScalarKind::Int, len, &mut scratch);
        let taken = self.pin(taken);
        let v = RunVars {
            state: self.b.declare_var(types::I64),
            total: self.b.declare_var(types::F64),
            ended: self.b.declare_var(types::I64),
            rewards,
            taken,
        };
        let start = self.b.ins().iconst(types::I64, table.start);
        self.b.def_var(v.state, start);
        let zero = self.b.ins().f64const(0.0);
        self.b.def_var(v.total, zero);
        let running = self.b.ins().iconst(types::I64, -1);
        self.b.def_var(v.ended, running);
        // Giving up: the arrays are given back (last first) before the reference runs.
        let abandon = self.b.create_block();
        let index = self.b.declare_var(types::I64);
        self.in_step_loops(step, columns, index, (Vec::new(), bits), |lw| {
            lw.loop_over_steps(index, len, true, |lw, done| {
                lw.read_step(step, &trace.ty);
                let stepped = lw.machine_step(bits, &arrays, &v, index, done, abandon);
                lw.forget_step(step);
                stepped
            })
        })?;
        self.after_the_end(&v, index, len);
        // What the loop carries ends here, not after the calls (see `pin`).
        let run = [v.total, v.ended, v.state].map(|var| {
            let x = self.b.use_var(var);
            self.pin(x)
        });
        let ctx = self.ctx;
        let taken = self.call1(Helper::rt_collect_scalars_finish, &[ctx, len]);
        let rewards = self.call1(Helper::rt_collect_scalars_finish, &[ctx, len]);
        let names = table.state_names.iter().map(|n| Value::text(n)).collect();
        let names = self.constant_ptr(&Value::List(names));
        let [total, ended, held] = run.map(|p| self.pinned(p));
        let state = match arrays.lookup {
            LookupArrays::Dense { shift } => self.b.ins().ushr_imm_u(held, i64::from(shift)),
            LookupArrays::FirstEdge { .. } => held,
        };
        let record = match finish {
            Finish::RunRecord => self.call1(
                Helper::rt_machine_record,
                &[ctx, names, total, rewards, taken, ended, state],
            ),
            Finish::StateNames => self.call1(Helper::rt_state_names, &[ctx, names, taken]),
        };
        let after = self.b.create_block();
        self.b.ins().jump(after, &[]);

        self.b.switch_to_block(abandon);
        let zero = self.b.ins().iconst(types::I64, 0);
        for _ in 0..scratch {
            self.call(Helper::rt_collect_scalars_finish, &[ctx, zero]);
        }
        self.b.ins().jump(give_up, &[]);

        self.b.switch_to_block(after);
        Ok(record)
    }

    /// The addresses of the table's arrays, kept among the program's constants.
    fn table_arrays(&mut self, table: &StepTable) -> TableArrays {
        let items = |lw: &mut Self, column: Column| {
            let c = lw.constant_ptr(&Value::array(column));
            let items = lw.call1(Helper::rt_items, &[c]);
            lw.pin(items)
        };
        let lookup = match &table.lookup {
            Lookup::Dense { valuations } => LookupArrays::Dense {
                shift: valuations.trailing_zeros(),
            },
            Lookup::FirstEdge {
                state_edges,
                letters,
            } => LookupArrays::FirstEdge {
                state_edges: items(self, Column::Int(state_edges.clone().into())),
                letters: (!letters.is_empty()).then(|| {
                    let base = items(self, Column::Int(letters.clone().into()));
                    (base, letters.len() as i64 - 1)
                }),
            },
        };
        TableArrays {
            packed: items(self, Column::Int(table.packed.clone().into())),
            rewards: items(self, Column::Float(table.rewards.clone().into())),
            lookup,
        }
    }

    /// One step: its mask, the transition, the reward and edge stored; to `done` when the
    /// machine ends there, to `abandon` when the step is an error.
    fn machine_step(
        &mut self,
        bits: &[Expr],
        t: &TableArrays,
        v: &RunVars,
        index: Variable,
        done: Block,
        abandon: Block,
    ) -> Result<(), JitError> {
        let mut mask = None;
        for (k, bit) in bits.iter().enumerate() {
            let holds = self.expr(bit)?;
            let wide = self.b.ins().uextend(types::I64, holds);
            let shifted = match k {
                0 => wide,
                k => self.b.ins().ishl_imm_u(wide, k as i64),
            };
            mask = Some(match mask {
                None => shifted,
                Some(m) => self.b.ins().bor(m, shifted),
            });
        }
        let mask = mask.unwrap_or_else(|| self.b.ins().iconst(types::I64, 0));
        let state = self.b.use_var(v.state);
        let which = self.transition(&t.lookup, state, mask);
        let (packed, rewards) = (self.pinned(t.packed), self.pinned(t.rewards));
        let packed = self.load_item(packed, which, Repr::Int);
        let reward = self.load_item(rewards, which, Repr::Float);
        let fails = self.b.ins().band_imm_s(packed, StepTable::ERROR);
        let go_on = self.b.create_block();
        self.b.ins().brif(fails, abandon, &[], go_on, &[]);
        self.b.switch_to_block(go_on);

        let i = self.b.use_var(index);
        let field = (1i64 << StepTable::FIELD_BITS) - 1;
        let to = self.b.ins().band_imm_s(packed, field);
        let edge = self
            .b
            .ins()
            .ushr_imm_u(packed, i64::from(StepTable::FIELD_BITS));
        let edge = self.b.ins().band_imm_s(edge, field);
        let edge = self.b.ins().iadd_imm_s(edge, -1);
        let (rewards, taken) = (self.pinned(v.rewards), self.pinned(v.taken));
        self.store_item(rewards, i, Repr::Float, reward);
        self.store_item(taken, i, Repr::Int, edge);
        let total = self.b.use_var(v.total);
        let total = self.b.ins().fadd(total, reward);
        self.b.def_var(v.total, total);
        self.b.def_var(v.state, to);
        let ends = self.b.ins().band_imm_s(packed, StepTable::ENDS);
        let next = self.b.create_block();
        let end_here = self.b.create_block();
        self.b.ins().brif(ends, end_here, &[], next, &[]);
        self.b.switch_to_block(end_here);
        self.b.def_var(v.ended, i);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(next);
        Ok(())
    }

    /// The number of the transition from `state` (as the lookup holds it) on a step whose
    /// bits are `mask`.
    fn transition(&mut self, lookup: &LookupArrays, state: CValue, mask: CValue) -> CValue {
        let (state_edges, letters) = match *lookup {
            LookupArrays::Dense { .. } => return self.b.ins().iadd(state, mask),
            LookupArrays::FirstEdge {
                state_edges,
                letters,
            } => (state_edges, letters),
        };
        // A valuation out of the table's range finds its last item, 0, as the runtime's
        // `letters.get(m).unwrap_or(0)` does.
        let edges = match letters {
            Some((base, valuations)) => {
                let at = self.b.ins().iconst(types::I64, valuations);
                let at = self.b.ins().umin(mask, at);
                let base = self.pinned(base);
                self.load_item(base, at, Repr::Int)
            }
            None => mask,
        };
        let state_edges = self.pinned(state_edges);
        let own = self.load_item(state_edges, state, Repr::Int);
        let hit = self.b.ins().band(edges, own);
        let first = self.b.ins().ctz(hit);
        let none = self.b.ins().iadd_imm_s(state, StepTable::NONE as i64);
        self.b.ins().select(hit, first, none)
    }

    /// Once the machine has ended at step `e`, the later steps pay 0 and take no edge, as in
    /// the runtime's run, whose total then adds one 0 for them.
    fn after_the_end(&mut self, v: &RunVars, index: Variable, len: CValue) {
        let ended = self.b.use_var(v.ended);
        let (rest, join) = (self.b.create_block(), self.b.create_block());
        let more = self.b.ins().iadd_imm_s(ended, 1);
        // A machine that ended before the last step (`ended` is -1 otherwise, and `more` 0).
        let early = self.b.ins().icmp(IntCC::SignedLessThan, more, len);
        let ran_out = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, ended, 0);
        let early = self.b.ins().band(early, ran_out);
        self.b.ins().brif(early, rest, &[], join, &[]);
        self.b.switch_to_block(rest);
        let total = self.b.use_var(v.total);
        let zero = self.b.ins().f64const(0.0);
        let total = self.b.ins().fadd(total, zero);
        self.b.def_var(v.total, total);
        self.b.def_var(index, more);
        let fill = self.b.create_block();
        let (header, done) = (self.b.create_block(), self.b.create_block());
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let i = self.b.use_var(index);
        let inside = self.b.ins().icmp(IntCC::SignedLessThan, i, len);
        self.b.ins().brif(inside, fill, &[], done, &[]);
        self.b.switch_to_block(fill);
        let none = self.b.ins().iconst(types::I64, -1);
        let (rewards, taken) = (self.pinned(v.rewards), self.pinned(v.taken));
        self.store_item(rewards, i, Repr::Float, zero);
        self.store_item(taken, i, Repr::Int, none);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(index, i1);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(done);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
    }
}
