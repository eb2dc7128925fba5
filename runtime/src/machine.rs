//! Running a reward machine over a trace. The compiler evaluates every edge's guard on every
//! step (a bitmask per step, bit i for edge i) and passes the machine as a table; this function
//! is the whole transition semantics, shared by every engine.

use std::sync::Arc;

use crate::value::{Column, Texts};
use crate::Value;

/// What happens on a step where no edge of the current state matches.
pub const OTHERWISE_STAY: i64 = 0;
pub const OTHERWISE_END: i64 = 1;
pub const OTHERWISE_ERROR: i64 = 2;

/// Edges per int of a step's mask (62, so that every mask is a non-negative int).
pub const WORD_BITS: usize = 62;

/// `table` is the record the compiler builds:
/// `{name: text, states: list[text], start: int, terminal: list[bool],
///   edges: list[{from: int, to: int, reward: float}], otherwise: list[int] (per state),
///   gamma: float, potentials: list[float], letters: list[int]?}`.
/// With `letters`, the per-step masks are atom valuations (bit k: atom k of the guards holds)
/// and `letters[valuation]` is the mask of the edges whose guards hold. A machine of more than
/// [`WORD_BITS`] edges gets a list of ints per step instead: edge i is bit `i % WORD_BITS` of
/// word `i / WORD_BITS`.
/// With potentials (one per state), every step until the machine ends also earns the
/// shaping term `γΦ(u′) − Φ(u)`, with `Φ = 0` once the machine has ended.
/// Edges are in priority order (the first edge whose guard holds is taken; without
/// `order: first` the compiler proved at most one can hold).
///
/// Returns `{total: float, rewards: list[float], done: int?, state: text, taken: list[int]}`:
/// the per-step rewards (0 after the machine ended), their sum (left to right), the step at
/// which the machine ended (entered a terminal state, or `otherwise: end`), the final state,
/// and per step the index of the edge taken (-1 for none).
pub fn run(table: &Value, masks: &Value) -> Result<Value, String> {
    let machine = crate::tables::decoded(table, Machine::decode)?;
    if let Some(Column::Int(masks)) = masks.scalar_items() {
        return run_steps(&machine, masks.len(), |run, step| {
            machine.step_bits(run, step, masks[step] as u64)
        });
    }
    let masks = masks.as_list();
    run_steps(&machine, masks.len(), |run, step| {
        machine.step(run, step, &masks[step])
    })
}

/// [`run`] for a machine over a trace of label texts whose every guard atom is `"x" in step`:
/// atom k holds on a step when `needles[k]` occurs in its label, and the steps' valuations
/// index the table's `letters`. The compiler emits this instead of a per-step list of
/// valuations; it is the same run. A label's valuation is computed once per distinct label
/// text (labels come from a small alphabet, and equal short texts share their storage); a
/// machine over a few atoms then takes each step from its [`StepTable`], one load, as compiled
/// code does.
pub fn run_labels(table: &Value, labels: &Value, needles: &[Value]) -> Result<Value, String> {
    let machine = crate::tables::decoded(table, Machine::decode)?;
    let stepping = crate::tables::decoded(table, |_| Ok(Stepping(machine.step_table())))?;
    let mut labels = Labels::new(labels, needles);
    match &stepping.0 {
        Some(
            t @ StepTable {
                lookup: Lookup::Dense { valuations },
                ..
            },
        ) => run_labels_dense(&machine, t, *valuations, &mut labels),
        _ => run_labels_memo(&machine, &mut labels),
    }
}

/// A machine's [`StepTable`], if it has one, cached with its table.
struct Stepping(Option<StepTable>);

/// [`run_labels`] with a table of a transition per state and valuation.
fn run_labels_dense(
    machine: &Machine,
    table: &StepTable,
    valuations: usize,
    labels: &mut Labels,
) -> Result<Value, String> {
    let shift = valuations.trailing_zeros();
    let mut held = table.start as usize;
    run_steps(machine, labels.len(), |run, step| {
        let bits = labels.bits(step);
        let at = held + bits as usize;
        let packed = match table.packed.get(at) {
            Some(&p) if p & StepTable::ERROR == 0 => p,
            _ => return machine.step_bits(run, step, bits), // its error
        };
        held = StepTable::to(packed) as usize;
        run.state = held >> shift;
        run.taken = StepTable::taken(packed);
        if packed & StepTable::ENDS != 0 {
            run.ended = Some(step);
        }
        Ok(table.rewards[at])
    })
}

/// [`run_labels`] for a larger machine: what each state does on each cached label is
/// remembered (for machines of a few states), so a step is a lookup, as in a table-driven loop.
fn run_labels_memo(machine: &Machine, labels: &mut Labels) -> Result<Value, String> {
    let states = machine.states.len();
    let mut memo: Vec<Option<Transition>> = if states <= 128 {
        vec![None; states * Labels::SLOTS]
    } else {
        Vec::new()
    };
    run_steps(machine, labels.len(), |run, step| {
        let (bits, slot) = labels.valuation(step);
        let Some((slot, refilled)) = slot else {
            return machine.step_bits(run, step, bits);
        };
        if refilled {
            for q in 0..memo.len() / Labels::SLOTS {
                memo[q * Labels::SLOTS + slot] = None;
            }
        }
        let cell = run.state * Labels::SLOTS + slot;
        if cell >= memo.len() {
            return machine.step_bits(run, step, bits);
        }
        let t = match memo[cell] {
            Some(t) => t,
            None => match machine.transition_bits(run.state, bits) {
                Some(t) => *memo[cell].insert(t),
                None => return machine.step_bits(run, step, bits), // its error
            },
        };
        Ok(t.apply(run, step))
    })
}

/// A trace of labels, and the valuation of each label's atoms, remembered for the labels seen
/// in a direct-mapped cache keyed by the label's bytes (labels are short and few; a longer one
/// is simply valued at each step).
struct Labels<'a> {
    /// A trace decoded as one buffer of texts, read in place; else its values.
    texts: Option<&'a Texts>,
    values: &'a [Value],
    needles: Vec<&'a str>,
    seen: [(u128, usize, u64); Labels::SLOTS],
    /// A trace held as symbols ([`Texts::symbols`]): each step's entry, and each entry's
    /// valuation, computed once.
    symbols: Option<(&'a [u8], Vec<u64>)>,
}

impl<'a> Labels<'a> {
    const SLOTS: usize = 32;
    /// The length [`Labels::seen`] keeps for a symbol (keyed by its entry): no text's.
    const SYMBOL: usize = usize::MAX - 1;

    fn new(labels: &'a Value, needles: &'a [Value]) -> Labels<'a> {
        let texts = match labels.scalar_items() {
            Some(Column::Text(t)) => Some(t),
            _ => None,
        };
        let mut labels = Labels {
            texts,
            values: if texts.is_some() {
                &[]
            } else {
                labels.as_list()
            },
            needles: needles.iter().map(Value::as_text).collect(),
            seen: [(0, usize::MAX, 0); Labels::SLOTS],
            symbols: None,
        };
        if let Some((ids, entries)) = texts.and_then(Texts::symbols) {
            let texts = texts.expect("symbols are texts");
            let bits = (0..entries)
                .map(|j| labels.valuation_of(texts.entry(j)))
                .collect();
            labels.symbols = Some((ids, bits));
        }
        labels
    }

    /// The valuation of step `step`'s label.
    #[inline(always)]
    fn bits(&mut self, step: usize) -> u64 {
        match &self.symbols {
            Some((ids, bits)) => bits[usize::from(ids[step])],
            None => self.valuation(step).0,
        }
    }

    fn len(&self) -> usize {
        self.texts.map_or(self.values.len(), Texts::len)
    }

    fn label(&self, step: usize) -> &str {
        match self.texts {
            Some(t) => t.get(step),
            None => self.values[step].as_text(),
        }
    }

    /// The atoms' valuation of `label`: bit k when needle k occurs in it.
    fn valuation_of(&self, label: &str) -> u64 {
        self.needles.iter().enumerate().fold(0u64, |acc, (k, n)| {
            if crate::native::search::contains(label, n) {
                acc | (1 << k)
            } else {
                acc
            }
        })
    }

    /// The valuation of step `step`'s label, with the cache slot that holds it and whether the
    /// slot was just given to this label (`None`: a label too long to cache). The common case,
    /// a short label of a buffer of texts already seen, is read in line.
    #[inline(always)]
    fn valuation(&mut self, step: usize) -> (u64, Option<(usize, bool)>) {
        if let Some((ids, bits)) = &self.symbols {
            // A symbol is its own key: its entry.
            let id = usize::from(ids[step]);
            let (key, bits) = (id as u128, bits[id]);
            let slot = id % Labels::SLOTS;
            let hit = self.seen[slot].0 == key && self.seen[slot].1 == Labels::SYMBOL;
            self.seen[slot] = (key, Labels::SYMBOL, bits);
            return (bits, Some((slot, !hit)));
        }
        // A short label is its own key: its bytes as a number, with its length.
        let key = match self.texts.and_then(|t| t.word(step)) {
            Some((word, len)) => Some((u128::from(word), len)),
            None => self.long_key(step),
        };
        let Some((key, len)) = key else {
            return (self.valuation_of(self.label(step)), None);
        };
        let slot = Labels::slot(key, len);
        match self.seen[slot] {
            (k, n, bits) if k == key && n == len => (bits, Some((slot, false))),
            _ => (self.fill(step, slot, (key, len)), Some((slot, true))),
        }
    }

    /// The key of a label held as a value, or of more than 8 bytes (`None`: too long).
    #[cold]
    #[inline(never)]
    fn long_key(&self, step: usize) -> Option<(u128, usize)> {
        let l = self.label(step);
        crate::value::short_text_key(l)
    }

    /// Gives `slot` to the label of step `step`, whose key is `key`; its valuation.
    #[cold]
    #[inline(never)]
    fn fill(&mut self, step: usize, slot: usize, (key, len): (u128, usize)) -> u64 {
        let bits = self.valuation_of(self.label(step));
        self.seen[slot] = (key, len, bits);
        bits
    }

    /// The cache slot of a label's key.
    #[inline(always)]
    fn slot(key: u128, len: usize) -> usize {
        let mixed =
            ((key as u64) ^ ((key >> 64) as u64) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 59) as usize
    }
}

/// The run record of `n` steps, each taken by `step` while the machine runs: once it has
/// ended, every later step pays 0 and takes no edge, as [`Machine::step`] says for an ended
/// run, so `step` is not called for them.
fn run_steps(
    machine: &Machine,
    n: usize,
    mut step: impl FnMut(&mut MachineRun, usize) -> Result<f64, String>,
) -> Result<Value, String> {
    let mut run = machine.start();
    // Plain numbers, kept as the lists' arrays (no value per step); the steps after the
    // machine's end keep these (see below).
    let mut rewards = vec![0.0; n];
    let mut taken_edges = vec![-1; n];
    let mut total = 0.0;
    for (i, (reward, taken)) in rewards.iter_mut().zip(&mut taken_edges).enumerate() {
        let r = step(&mut run, i)?;
        total += r;
        *reward = r;
        *taken = run.taken;
        if run.ended.is_some() {
            // The later steps keep the arrays' 0 and -1; adding their zeros to the total is
            // adding one.
            if i + 1 < n {
                total += 0.0;
            }
            break;
        }
    }
    Ok(run_record(
        total,
        Value::array(Column::Float(rewards.into())),
        run.ended,
        machine.state_name(&run),
        Value::array(Column::Int(taken_edges.into())),
    ))
}

/// The record of a run (see [`run`]): its total, per-step rewards, the step it ended at, its
/// final state and per-step edges taken.
pub fn run_record(
    total: f64,
    rewards: Value,
    ended: Option<usize>,
    state: &str,
    taken: Value,
) -> Value {
    Value::Record(Arc::from(vec![
        Value::Float(total),
        rewards,
        ended.map_or(Value::None, |s| Value::Int(s as i64)),
        Value::text(state),
        taken,
    ]))
}

/// A machine's transitions as arrays, for compiled code that runs the machine in its own loop
/// over the steps instead of calling [`run`]. Each transition is read from
/// [`Machine::transition`] itself, so the loop takes the steps [`run`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTable {
    /// Where the run starts, as [`StepTable::lookup`] holds states.
    pub start: i64,
    /// How a step finds its transition.
    pub lookup: Lookup,
    /// Per transition: where the run goes (as the lookup holds states), the edge taken plus
    /// one (0: none) and the flags [`StepTable::ENDS`] and [`StepTable::ERROR`], packed by
    /// [`StepTable::pack`].
    pub packed: Vec<i64>,
    /// Per transition, its reward (shaping included).
    pub rewards: Vec<f64>,
    /// Per state, by its number ([`StepTable::state`]), the name its run record reports.
    pub state_names: Vec<String>,
}

/// How a step of a [`StepTable`] finds its transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A machine over a few atoms: every (state, valuation) is a transition of its own, number
    /// `u * valuations + a`; states are held as `u * valuations`, so a step is one load.
    Dense { valuations: usize },
    /// Transition number `trailing_zeros(edge_mask(m) & state_edges[u])` — the first of `u`'s
    /// edges whose guard holds, as a state's edges are in priority order — or, when none
    /// holds, [`StepTable::NONE`]` + u`. `letters`: per atom valuation, the mask of the edges
    /// that hold, then 0 for a valuation out of range; empty when a step's mask is the edges'
    /// bits already.
    FirstEdge {
        state_edges: Vec<i64>,
        letters: Vec<i64>,
    },
}

impl StepTable {
    /// The first transition of a step no edge matches (one per state, after the 64 of the
    /// edges), in [`Lookup::FirstEdge`].
    pub const NONE: usize = 64;
    /// Flag: the step ends the machine.
    pub const ENDS: i64 = 1 << 62;
    /// Flag: the step is an error (no edge holds and the state's `otherwise` is `error`).
    pub const ERROR: i64 = 1 << 61;
    /// Bits of the next state and of the edge taken plus one.
    pub const FIELD_BITS: u32 = 24;
    /// Most transitions of a [`Lookup::Dense`] table (the loop's table stays in the cache).
    pub const MAX_DENSE: usize = 4096;

    /// A [`Lookup::Dense`] table over `rows` states and `valuations` valuations (a power of
    /// two): transition `u * valuations + a` is `transition(u, a)` (`None`: an error). `None`
    /// when it has more than [`StepTable::MAX_DENSE`] transitions.
    pub(crate) fn dense(
        start: usize,
        rows: usize,
        valuations: usize,
        state_names: Vec<String>,
        mut transition: impl FnMut(usize, u64) -> Option<Transition>,
    ) -> Option<StepTable> {
        if rows.checked_mul(valuations)? > StepTable::MAX_DENSE {
            return None;
        }
        let transitions: Vec<_> = (0..rows * valuations)
            .map(|t| transition(t / valuations, (t % valuations) as u64))
            .collect();
        let lookup = Lookup::Dense { valuations };
        Some(StepTable::new(
            start,
            lookup,
            valuations,
            &transitions,
            state_names,
        ))
    }

    /// A table of the transitions `transitions` (`None`: an error), numbered as `lookup`
    /// finds them, with states held as `scale` times their numbers.
    fn new(
        start: usize,
        lookup: Lookup,
        scale: usize,
        transitions: &[Option<Transition>],
        state_names: Vec<String>,
    ) -> StepTable {
        StepTable {
            start: (start * scale) as i64,
            lookup,
            packed: transitions
                .iter()
                .map(|&t| StepTable::pack(t, scale))
                .collect(),
            rewards: transitions
                .iter()
                .map(|t| t.map_or(0.0, |t| t.reward))
                .collect(),
            state_names,
        }
    }

    /// `t`, with its next state held as `scale` times its number.
    fn pack(t: Option<Transition>, scale: usize) -> i64 {
        match t {
            None => StepTable::ERROR,
            Some(t) => {
                (t.to * scale) as i64
                    | ((t.taken + 1) << StepTable::FIELD_BITS)
                    | if t.ends { StepTable::ENDS } else { 0 }
            }
        }
    }

    /// Where a packed transition goes, as the lookup holds states.
    pub fn to(packed: i64) -> i64 {
        packed & ((1 << StepTable::FIELD_BITS) - 1)
    }

    /// The edge a packed transition takes (-1: none).
    pub fn taken(packed: i64) -> i64 {
        ((packed >> StepTable::FIELD_BITS) & ((1 << StepTable::FIELD_BITS) - 1)) - 1
    }

    /// A state's number, from the lookup's form of it.
    pub fn state(&self, held: i64) -> i64 {
        match self.lookup {
            Lookup::Dense { valuations } => held / valuations as i64,
            Lookup::FirstEdge { .. } => held,
        }
    }
}

impl Machine {
    /// The machine's [`StepTable`]; `None` for a machine whose steps' masks do not fit one
    /// int (more than [`WORD_BITS`] edges) or too large to pack.
    pub fn step_table(&self) -> Option<StepTable> {
        let states = self.states.len();
        let valuations = self.letters.len();
        if self.edges.len() > WORD_BITS || states * valuations.max(1) >= 1 << StepTable::FIELD_BITS
        {
            return None;
        }
        if valuations > 0 {
            let dense = StepTable::dense(
                self.start,
                states,
                valuations,
                self.states.clone(),
                |u, a| self.transition_bits(u, a),
            );
            if dense.is_some() {
                return dense;
            }
        }
        // Else: the first edge that holds, as the lowest set bit of the state's edges.
        let mut transitions = vec![None; StepTable::NONE + states];
        for (i, &(from, _, _)) in self.edges.iter().enumerate() {
            transitions[i] = self.transition(from, |k| k == i);
        }
        for u in 0..states {
            transitions[StepTable::NONE + u] = self.transition(u, |_| false);
        }
        let state_edges = self
            .state_edges
            .iter()
            .map(|list| list.iter().fold(0i64, |m, &i| m | 1 << i))
            .collect();
        let mut letters: Vec<i64> = self.letters.iter().map(|&m| m as i64).collect();
        if !letters.is_empty() {
            letters.push(0);
        }
        let lookup = Lookup::FirstEdge {
            state_edges,
            letters,
        };
        Some(StepTable::new(
            self.start,
            lookup,
            1,
            &transitions,
            self.states.clone(),
        ))
    }
}

/// A machine table, decoded.
pub struct Machine {
    name: String,
    states: Vec<String>,
    start: usize,
    terminal: Vec<bool>,
    edges: Vec<(usize, usize, f64)>,
    /// Per state, its edges in priority order.
    state_edges: Vec<Vec<usize>>,
    otherwise: Vec<i64>,
    gamma: f64,
    potentials: Vec<f64>,
    /// Edge masks per atom valuation (empty: the masks are edge masks already).
    letters: Vec<u64>,
}

/// Where a run of a machine is.
#[derive(Clone, Debug)]
pub struct MachineRun {
    pub state: usize,
    /// The step at which the machine ended.
    pub ended: Option<usize>,
    /// The edge taken on the last step (-1 for none).
    pub taken: i64,
}

impl Machine {
    pub fn decode(table: &Value) -> Result<Machine, String> {
        let Value::Record(t) = table else {
            return Err("internal error: bad machine table".into());
        };
        let states: Vec<String> = t[1]
            .as_list()
            .iter()
            .map(|s| s.as_text().to_string())
            .collect();
        let edges: Vec<(usize, usize, f64)> = t[4]
            .as_list()
            .iter()
            .map(|e| match e {
                Value::Record(f) => (
                    f[0].as_int() as usize,
                    f[1].as_int() as usize,
                    f[2].as_f64(),
                ),
                _ => (0, 0, 0.0),
            })
            .collect();
        let mut state_edges = vec![Vec::new(); states.len()];
        for (i, &(from, _, _)) in edges.iter().enumerate() {
            if let Some(list) = state_edges.get_mut(from) {
                list.push(i);
            }
        }
        Ok(Machine {
            name: t[0].as_text().to_string(),
            states,
            start: t[2].as_int() as usize,
            terminal: t[3].as_list().iter().map(Value::as_bool).collect(),
            edges,
            state_edges,
            otherwise: t[5].as_list().iter().map(Value::as_int).collect(),
            gamma: t[6].as_f64(),
            potentials: t[7].as_list().iter().map(Value::as_f64).collect(),
            letters: match t.get(8) {
                Some(Value::List(l)) => l.iter().map(|v| v.as_int() as u64).collect(),
                _ => Vec::new(),
            },
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn start(&self) -> MachineRun {
        MachineRun {
            state: self.start,
            ended: None,
            taken: -1,
        }
    }

    /// The machine's states, by index.
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// The shaping potential of each state (empty when the machine is not shaped).
    pub fn potentials(&self) -> &[f64] {
        &self.potentials
    }

    /// The name of the state the run is in (`?` for none).
    pub fn state_name(&self, run: &MachineRun) -> &str {
        self.states.get(run.state).map_or("?", String::as_str)
    }

    /// Reads step number `step`, whose edge guards are the bits of `mask` (an int: bit i for
    /// edge i, or an atom valuation with `letters`; a list of ints for a machine of more than
    /// [`WORD_BITS`] edges), and returns its reward. Allocation-free.
    pub fn step(&self, run: &mut MachineRun, step: usize, mask: &Value) -> Result<f64, String> {
        match mask {
            Value::List(_) | Value::Columns(_) => {
                // Read in place, whether the words are values or one array of ints.
                let words = mask.scalars();
                self.step_where(run, step, |i| {
                    let w = i / WORD_BITS;
                    w < words.len() && (words.int(w) as u64 >> (i % WORD_BITS)) & 1 != 0
                })
            }
            m => self.step_bits(run, step, m.as_int() as u64),
        }
    }

    /// [`Machine::step`] of a step whose mask is the int `m`.
    pub fn step_bits(&self, run: &mut MachineRun, step: usize, m: u64) -> Result<f64, String> {
        let m = self.edge_mask(m);
        self.step_where(run, step, |i| i < 64 && (m >> i) & 1 != 0)
    }

    /// The edge mask of the int mask `m` (an atom valuation when the machine has `letters`).
    fn edge_mask(&self, m: u64) -> u64 {
        if self.letters.is_empty() {
            m
        } else {
            self.letters.get(m as usize).copied().unwrap_or(0)
        }
    }

    /// [`Machine::transition`] for the int mask `m`, as [`Machine::step_bits`] reads it.
    fn transition_bits(&self, state: usize, m: u64) -> Option<Transition> {
        let m = self.edge_mask(m);
        self.transition(state, |i| i < 64 && (m >> i) & 1 != 0)
    }

    /// [`Machine::step`] given which edges' guards hold.
    fn step_where(
        &self,
        run: &mut MachineRun,
        step: usize,
        holds: impl Fn(usize) -> bool,
    ) -> Result<f64, String> {
        if run.ended.is_some() {
            run.taken = -1;
            return Ok(0.0);
        }
        match self.transition(run.state, holds) {
            Some(t) => Ok(t.apply(run, step)),
            None => Err(format!(
                "machine `{}`: no edge of state `{}` matches step {step}",
                self.name,
                self.state_name(run)
            )),
        }
    }

    /// What a step whose edges' guards are `holds` does in `state` (which has not ended):
    /// `None` when no edge holds and the state's `otherwise` is an error. It depends on
    /// nothing else, so a run over a small alphabet can remember it.
    fn transition(&self, state: usize, holds: impl Fn(usize) -> bool) -> Option<Transition> {
        // Edges are in priority order: the first of this state whose guard holds.
        let taken = self
            .state_edges
            .get(state)
            .and_then(|list| list.iter().copied().find(|&i| holds(i)));
        let (to, ends, reward) = match taken {
            Some(i) => {
                let (_, to, reward) = self.edges[i];
                (to, self.terminal.get(to).copied().unwrap_or(false), reward)
            }
            None => match self.otherwise.get(state).copied().unwrap_or(OTHERWISE_STAY) {
                OTHERWISE_END => (state, true, 0.0),
                OTHERWISE_ERROR => return None,
                _ => (state, false, 0.0),
            },
        };
        let reward = if self.potentials.is_empty() {
            reward
        } else {
            let after = if ends { 0.0 } else { self.potentials[to] };
            reward + (self.gamma * after - self.potentials[state])
        };
        Some(Transition {
            to,
            taken: taken.map_or(-1, |i| i as i64),
            ends,
            reward,
        })
    }
}

/// One step of a run from a given state and mask ([`Machine::transition`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Transition {
    pub(crate) to: usize,
    pub(crate) taken: i64,
    pub(crate) ends: bool,
    pub(crate) reward: f64,
}

impl Transition {
    /// Takes the step numbered `step`; its reward.
    fn apply(self, run: &mut MachineRun, step: usize) -> f64 {
        run.state = self.to;
        run.taken = self.taken;
        if self.ends {
            run.ended = Some(step);
        }
        self.reward
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: impl IntoIterator<Item = i64>) -> Value {
        Value::List(v.into_iter().map(Value::Int).collect())
    }

    /// A random machine of 4 states over 3 atoms, its edges and letters drawn from `next`.
    /// `valuations` letters (8 for its 3 atoms; more, never reached, make a machine too large
    /// for a dense [`StepTable`]).
    fn random_table(next: &mut impl FnMut(usize) -> usize, valuations: usize) -> Value {
        let edges: Vec<Value> = (0..6)
            .map(|_| {
                Value::Record(Arc::from(vec![
                    Value::Int(next(4) as i64),
                    Value::Int(next(4) as i64),
                    Value::Float(next(5) as f64 - 2.0),
                ]))
            })
            .collect();
        Value::Record(Arc::from(vec![
            Value::text("m"),
            Value::List((0..4).map(|i| Value::text(&format!("u{i}"))).collect()),
            Value::Int(0),
            Value::List((0..4).map(|i| Value::Bool(i == 3)).collect()),
            Value::List(edges.into()),
            ints((0..4).map(|_| next(3) as i64)),
            Value::Float(0.9),
            Value::List((0..4).map(|i| Value::Float(f64::from(i) * 0.5)).collect()),
            ints((0..valuations).map(|_| next(64) as i64)),
        ]))
    }

    #[test]
    fn label_runs_equal_runs_over_valuations() {
        let mut next = crate::test_rng(0x853C_49E6_748F_EA9Bu64);
        let needles = [Value::text("a"), Value::text("b"), Value::text("cd")];
        // Short labels (valuations cached by their bytes), and longer ones held inline or
        // shared (valued at every step).
        let alphabet = [
            "",
            "a",
            "b",
            "ab",
            "cd",
            "c",
            "dcd",
            "x",
            "bcd",
            "x, then a, then b",
            "a label of more than 22 bytes: cd",
        ];
        for round in 0..600 {
            // Half the machines step by a dense table, half by the memo of `run_labels_memo`.
            let table = random_table(&mut next, if round % 4 < 2 { 8 } else { 2048 });
            let dense = Machine::decode(&table)
                .unwrap()
                .step_table()
                .map(|t| t.lookup);
            assert_eq!(
                matches!(dense, Some(Lookup::Dense { .. })),
                round % 4 < 2,
                "{dense:?}"
            );
            let n = if round % 8 == 7 { 200 } else { next(40) };
            // Half the traces only of labels of at most 8 bytes (keyed by `Texts::word`).
            let letters = if round % 2 == 0 { 9 } else { alphabet.len() };
            // Every eighth trace of many distinct labels: more than the cache's slots, so that
            // labels take over each other's slots.
            let many: Vec<String> = (0..80)
                .map(|i| format!("{}{i}", ["a", "b", "cd", "x"][i % 4]))
                .collect();
            let labels: Vec<Value> = (0..n)
                .map(|_| match round % 8 {
                    7 => Value::text(&many[next(many.len())]),
                    _ => Value::text(alphabet[next(letters)]),
                })
                .collect();
            let masks: Vec<Value> = labels
                .iter()
                .map(|l| {
                    let bits = needles.iter().enumerate().fold(0, |acc, (k, n)| {
                        acc | (i64::from(l.as_text().contains(n.as_text())) << k)
                    });
                    Value::Int(bits)
                })
                .collect();
            let by_labels = run_labels(&table, &Value::List(labels.clone().into()), &needles);
            // The labels as decoders hold them (one buffer of texts): the same run.
            let mut texts = Texts::default();
            for l in &labels {
                texts.push(l.as_text());
            }
            let in_buffer = Value::array(Column::Text(texts));
            // And as symbols (each distinct label once), as the JSON decoder holds labels.
            let mut symbols = crate::value::TextsBuilder::default();
            for l in &labels {
                symbols.push(l.as_text());
            }
            let symbols = symbols.finish();
            let mut distinct: Vec<&str> = labels.iter().map(Value::as_text).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let few_and_short = distinct.len() <= crate::value::TextsBuilder::MAX_ENTRIES
                && distinct.iter().all(|l| l.len() <= 16);
            assert_eq!(symbols.symbols().is_some(), few_and_short);
            let as_symbols = Value::array(Column::Text(symbols));
            for by in [&in_buffer, &as_symbols] {
                match (&by_labels, &run_labels(&table, by, &needles)) {
                    (Ok(a), Ok(b)) => assert!(a.same(b), "{a:?} vs {b:?}"),
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{a:?} vs {b:?}"),
                }
            }
            // The masks as compiled loops collect them (one array of ints) and as values.
            let ints = masks.iter().map(Value::as_int).collect();
            let by_array = run(&table, &Value::array(Column::Int(ints)));
            let masks_copy = masks.clone();
            let by_masks = run(&table, &Value::List(masks.into()));
            match (&by_array, &by_masks) {
                (Ok(a), Ok(b)) => assert!(a.same(b), "{a:?} vs {b:?}"),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
            // Step by step to the end of the trace, without the shortcut past the machine's end.
            let reference = {
                let machine = Machine::decode(&table).unwrap();
                let mut run = machine.start();
                let (mut total, mut rewards, mut taken) = (0.0, Vec::new(), Vec::new());
                let mut failed = None;
                for (i, m) in masks_copy.iter().enumerate() {
                    match machine.step(&mut run, i, m) {
                        Ok(r) => {
                            total += r;
                            rewards.push(Value::Float(r));
                            taken.push(Value::Int(run.taken));
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                match failed {
                    Some(e) => Err(e),
                    None => Ok(Value::Record(Arc::from(vec![
                        Value::Float(total),
                        Value::List(rewards.into()),
                        run.ended.map_or(Value::None, |s| Value::Int(s as i64)),
                        Value::text(machine.state_name(&run)),
                        Value::List(taken.into()),
                    ]))),
                }
            };
            match (&by_masks, &reference) {
                (Ok(a), Ok(b)) => assert!(a.same(b), "{a:?} vs {b:?}"),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
            match (by_labels, by_masks) {
                (Ok(a), Ok(b)) => assert!(a.same(&b), "{a:?} vs {b:?}"),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
    }
}
