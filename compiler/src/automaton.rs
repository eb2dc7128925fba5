//! LTLf to a minimal DFA, built in-house by formula progression.
//!
//! A state is what the steps read so far still require of the steps to come: a positive boolean
//! combination of *obligations* `next φ` (there must be a next step, and φ holds there) and
//! `wnext φ` (if there is a next step, φ holds there). Reading a step progresses each obligation
//! through the step's letter. The trace may end after any step: a state accepts when its
//! formula holds with every `next` false and every `wnext` true. Past operators do not
//! progress: their values are computed forward from the letter and one bit of memory per past
//! operator, and that memory is part of the state.
//!
//! Formulas are hash-consed with and/or flattened, sorted and deduplicated (and windows of the
//! same operand merged), which keeps the set of reachable states finite; Moore's partition
//! refinement then makes the automaton minimal.

use rustc_hash::FxHashMap as HashMap;

use reward_runtime::ltl::{leaf, Node, Op, Transitions, SATISFIED, UNBOUNDED, UNDECIDED, VIOLATED};

/// Most atoms in a formula that gets an automaton (the per-step atom masks are 64-bit ints).
pub const MAX_ATOMS: usize = 62;
/// Most states explored before minimisation.
pub const MAX_STATES: usize = 50_000;
/// Most clause operations (progressions, decisions and products of clauses while normalising
/// states) one construction may do: about a second of work, so that no formula makes
/// `reward check` hang.
pub const MAX_WORK: u64 = 10_000_000;

/// A minimal DFA whose transitions read the atoms of a step (bit k of a step's mask: atom k
/// holds) through decision diagrams, so a state costs what it reads, not 2^atoms.
#[derive(Debug, Clone, PartialEq)]
pub struct Dfa {
    pub start: usize,
    pub trans: Transitions,
    pub accepting: Vec<bool>,
    /// Per state: `UNDECIDED`, `SATISFIED` (every continuation satisfies) or `VIOLATED` (none does).
    pub verdict: Vec<i64>,
}

impl Dfa {
    pub fn states(&self) -> usize {
        self.accepting.len()
    }

    /// Whether the whole (non-empty) trace of atom masks satisfies the formula.
    #[cfg(test)]
    pub fn accepts(&self, masks: &[u64]) -> bool {
        let mut q = self.start;
        for &m in masks {
            q = self.trans.next(q, m);
        }
        self.accepting[q]
    }

    /// Each state's distinct successors with the reward of the edge: `reward` on edges into an
    /// accepting state from a rejecting one.
    pub fn edges(&self, reward: f64) -> Vec<(usize, usize, f64)> {
        let mut edges = Vec::new();
        for q in 0..self.states() {
            for to in self.trans.successors(q) {
                let r = if self.accepting[to] && !self.accepting[q] {
                    reward
                } else {
                    0.0
                };
                edges.push((q, to, r));
            }
        }
        edges
    }
}

/// Why a formula gets no automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooBig {
    /// More atoms than [`MAX_ATOMS`]: the count.
    Atoms(usize),
    /// More states than [`MAX_STATES`] explored before minimisation.
    States,
    /// A state's formula has more than 4,096 clauses (`MAX_CLAUSES`).
    Clauses,
    /// The construction needs more than [`MAX_WORK`] clause operations: the states explored
    /// when it stopped.
    Work(usize),
    /// More than 64 past operators.
    PastOperators(usize),
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooBig::Atoms(n) => write!(
                f,
                "the formula has {n} distinct atoms; an automaton takes at most {MAX_ATOMS}"
            ),
            TooBig::States => write!(
                f,
                "the formula's automaton has more than {MAX_STATES} states before minimisation"
            ),
            TooBig::Clauses => write!(
                f,
                "a state of the formula's automaton needs more than {MAX_CLAUSES} clauses"
            ),
            TooBig::Work(states) => write!(
                f,
                "building the formula's automaton takes more than {MAX_WORK} clause operations (the construction budget; {states} states explored when it stopped)"
            ),
            TooBig::PastOperators(n) => write!(
                f,
                "the formula has {n} past operators; an automaton takes at most 64"
            ),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum F {
    True,
    False,
    /// A node whose value at a step is known from the step and the past memory, and its polarity.
    Lit(u32, bool),
    And(Vec<u32>),
    Or(Vec<u32>),
    Next(u32),
    WNext(u32),
    /// `a until[lo, hi] b` (`lo = 0, hi = UNBOUNDED` for plain `until`).
    Until(u32, u32, u32, u32),
    /// `a release[lo, hi] b`.
    Release(u32, u32, u32, u32),
    Eventually(u32, u32, u32),
    Always(u32, u32, u32),
}

struct Arena {
    ids: HashMap<F, u32>,
    forms: Vec<F>,
    /// Work done so far, in clause operations (see [`MAX_WORK`]).
    work: std::cell::Cell<u64>,
    max_work: u64,
    /// States explored so far, for the message when the budget runs out.
    explored: usize,
    /// Canonical forms already computed, by formula.
    canonical: HashMap<u32, u32>,
}

const TRUE: u32 = 0;
const FALSE: u32 = 1;

impl Arena {
    fn new(max_work: u64) -> Arena {
        let mut a = Arena {
            ids: HashMap::default(),
            forms: Vec::new(),
            work: std::cell::Cell::new(0),
            max_work,
            explored: 0,
            canonical: HashMap::default(),
        };
        a.intern(F::True);
        a.intern(F::False);
        a
    }

    fn intern(&mut self, f: F) -> u32 {
        if let Some(&id) = self.ids.get(&f) {
            return id;
        }
        let id = self.forms.len() as u32;
        self.forms.push(f.clone());
        self.ids.insert(f, id);
        id
    }

    fn junction(&mut self, and: bool, parts: Vec<u32>) -> u32 {
        let (unit, zero) = if and { (TRUE, FALSE) } else { (FALSE, TRUE) };
        let mut flat = Vec::new();
        for p in parts {
            if p == zero {
                return zero;
            }
            if p == unit {
                continue;
            }
            match &self.forms[p as usize] {
                F::And(xs) if and => flat.extend(xs.iter().copied()),
                F::Or(xs) if !and => flat.extend(xs.iter().copied()),
                _ => flat.push(p),
            }
        }
        flat.sort_unstable();
        flat.dedup();
        let flat = self.merge_windows(and, flat);
        match flat.len() {
            0 => unit,
            1 => flat[0],
            _ => self.intern(if and { F::And(flat) } else { F::Or(flat) }),
        }
    }

    /// `next eventually[lo, h1] φ` and `next eventually[lo, h2] φ` in one junction are one
    /// window (the shorter under `and`, the longer under `or`; the reverse for `always`), so
    /// pending windows of one operand do not multiply the states.
    fn merge_windows(&mut self, and: bool, parts: Vec<u32>) -> Vec<u32> {
        // Most junctions hold at most one window: nothing to merge, nothing to allocate.
        if parts.iter().filter(|&&p| self.window(p).is_some()).count() < 2 {
            return parts;
        }
        let mut best: HashMap<(bool, bool, u32, u32), (u32, u32)> = HashMap::default();
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match self.window(p) {
                Some((k, hi)) => {
                    // Under `and`, eventually keeps the smaller window, always the larger.
                    let keep_smaller = and == k.1;
                    let e = best.entry(k).or_insert((hi, p));
                    if (keep_smaller && hi < e.0) || (!keep_smaller && hi > e.0) {
                        *e = (hi, p);
                    }
                }
                None => out.push(p),
            }
        }
        out.extend(best.into_values().map(|(_, p)| p));
        out.sort_unstable();
        out
    }

    /// A pending window `next eventually[lo, hi] a` (or `wnext`, or `always`): what identifies
    /// it up to its end (strong, eventually, lo, a), and hi.
    fn window(&self, p: u32) -> Option<((bool, bool, u32, u32), u32)> {
        let (F::Next(x) | F::WNext(x)) = &self.forms[p as usize] else {
            return None;
        };
        let strong = matches!(self.forms[p as usize], F::Next(_));
        match self.forms[*x as usize] {
            F::Eventually(lo, hi, a) => Some(((strong, true, lo, a), hi)),
            F::Always(lo, hi, a) => Some(((strong, false, lo, a), hi)),
            _ => None,
        }
    }

    /// The state formula in a canonical form: a conjunction of independent components (no two
    /// share an obligation), each a disjunction of conjunctions of obligations with no clause
    /// implied by a smaller one (absorption). Equivalent states reached by different routes are
    /// one state, states cannot grow without bound, and a conjunction of independent
    /// sub-formulas (say seven `eventually` chains) stays a product of small parts instead of
    /// being multiplied out.
    fn canonical(&mut self, s: u32) -> Result<u32, TooBig> {
        if let Some(&c) = self.canonical.get(&s) {
            return Ok(c);
        }
        let conjuncts = match &self.forms[s as usize] {
            F::And(xs) => xs.clone(),
            _ => vec![s],
        };
        let mut components: Vec<u32> = Vec::new();
        for group in self.independent_groups(&conjuncts) {
            let part = self.junction(true, group);
            let dnf = self.dnf(part)?;
            let clauses: Vec<u32> = dnf.into_iter().map(|c| self.junction(true, c)).collect();
            components.push(self.junction(false, clauses));
        }
        let c = self.junction(true, components);
        self.canonical.insert(s, c);
        Ok(c)
    }

    /// The conjuncts grouped so that two share a group when they share an obligation
    /// (transitively); groups in order of their first conjunct.
    fn independent_groups(&self, conjuncts: &[u32]) -> Vec<Vec<u32>> {
        let mut group_of: Vec<usize> = (0..conjuncts.len()).collect();
        fn find(g: &mut [usize], mut i: usize) -> usize {
            while g[i] != i {
                g[i] = g[g[i]];
                i = g[i];
            }
            i
        }
        let mut owner: HashMap<u32, usize> = HashMap::default();
        for (i, &x) in conjuncts.iter().enumerate() {
            let mut obligations = Vec::new();
            self.obligations(x, &mut obligations);
            for o in obligations {
                let j = *owner.entry(o).or_insert(i);
                let (a, b) = (find(&mut group_of, i), find(&mut group_of, j));
                group_of[a.max(b)] = a.min(b);
            }
        }
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::default();
        for (i, &x) in conjuncts.iter().enumerate() {
            let root = find(&mut group_of, i);
            let k = *index.entry(root).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[k].push(x);
        }
        groups
    }

    /// The obligations (`next`/`wnext` formulas) a state formula is made of.
    fn obligations(&self, f: u32, out: &mut Vec<u32>) {
        match &self.forms[f as usize] {
            F::And(xs) | F::Or(xs) => xs.iter().for_each(|&x| self.obligations(x, out)),
            F::True | F::False => {}
            _ => out.push(f),
        }
    }

    /// Counts `units` of work against the budget.
    fn spend(&self, units: u64) -> Result<(), TooBig> {
        let work = self.work.get() + units;
        self.work.set(work);
        if work > self.max_work {
            return Err(TooBig::Work(self.explored));
        }
        Ok(())
    }

    fn dnf(&self, s: u32) -> Result<Vec<Vec<u32>>, TooBig> {
        let clauses = match &self.forms[s as usize] {
            F::True => vec![Vec::new()],
            F::False => Vec::new(),
            F::Or(xs) => {
                let mut out = Vec::new();
                for &x in xs {
                    out.extend(self.dnf(x)?);
                }
                out
            }
            F::And(xs) => {
                let mut acc: Vec<Vec<u32>> = vec![Vec::new()];
                for &x in xs {
                    let part = self.dnf(x)?;
                    let mut next = Vec::with_capacity(acc.len() * part.len());
                    for a in &acc {
                        for p in &part {
                            let mut c = a.clone();
                            c.extend(p.iter().copied());
                            next.push(c);
                        }
                    }
                    if next.len() > MAX_CLAUSES {
                        return Err(TooBig::Clauses);
                    }
                    self.spend(next.len() as u64)?;
                    acc = absorb(next);
                }
                acc
            }
            _ => vec![vec![s]],
        };
        Ok(absorb(clauses))
    }

    fn and(&mut self, a: u32, b: u32) -> u32 {
        self.junction(true, vec![a, b])
    }

    fn or(&mut self, a: u32, b: u32) -> u32 {
        self.junction(false, vec![a, b])
    }
}

/// Most clauses of a state in disjunctive normal form.
const MAX_CLAUSES: usize = 4096;

/// Clauses sorted and deduplicated, without those that contain another clause.
fn absorb(mut clauses: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
    for c in &mut clauses {
        c.sort_unstable();
        c.dedup();
    }
    clauses.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    clauses.dedup();
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for c in clauses {
        let implied = kept
            .iter()
            .any(|k| k.iter().all(|x| c.binary_search(x).is_ok()));
        if !implied {
            kept.push(c);
        }
    }
    kept
}

/// Whether each node's value at a step is fixed by the step and the past (no future operator
/// below it).
fn present_nodes(nodes: &[Node]) -> Vec<bool> {
    let mut present = vec![false; nodes.len()];
    for (j, n) in nodes.iter().enumerate() {
        present[j] = match n.op {
            Op::True | Op::False | Op::Atom => true,
            Op::Not | Op::Prev | Op::WPrev | Op::Once | Op::Historically => present[n.a as usize],
            Op::And | Op::Or | Op::Implies | Op::Iff | Op::Since => {
                present[n.a as usize] && present[n.b as usize]
            }
            _ => false,
        };
    }
    present
}

/// The first past operator with a future operator inside it (not supported: the automaton
/// keeps one bit of memory per past operator).
pub fn future_inside_past(nodes: &[Node]) -> Option<usize> {
    let present = present_nodes(nodes);
    nodes.iter().position(|n| {
        n.op.is_past() && (!present[n.a as usize] || (n.op == Op::Since && !present[n.b as usize]))
    })
}

struct Builder<'a> {
    nodes: &'a [Node],
    /// Per node, the atoms it reads (bit k: atom k).
    atom_masks: Vec<u64>,
    present: Vec<bool>,
    /// Per node, its bit of memory if it is a past operator.
    past_bit: Vec<u32>,
    /// Past operators, each with one bit of memory.
    past: Vec<usize>,
    arena: Arena,
    /// Sub-diagrams already expanded (see [`Builder::expand`]).
    expanded: HashMap<(u32, u64, u64, u64, u64), i64>,
    /// Buffers reused by every expansion step (millions of them for a large automaton): the
    /// present values and the progression memo.
    scratch_values: Vec<Option<bool>>,
    scratch_memo: HashMap<u32, u32>,
}

impl Builder<'_> {
    fn nnf(&mut self, j: usize, pos: bool) -> u32 {
        if self.present[j] {
            return self.arena.intern(F::Lit(j as u32, pos));
        }
        let n = self.nodes[j];
        let (a, b) = (n.a as usize, n.b as usize);
        match n.op {
            Op::Not => self.nnf(a, !pos),
            Op::And | Op::Or => {
                let (x, y) = (self.nnf(a, pos), self.nnf(b, pos));
                if (n.op == Op::And) == pos {
                    self.arena.and(x, y)
                } else {
                    self.arena.or(x, y)
                }
            }
            Op::Implies => {
                // a → b  =  ¬a ∨ b
                let (x, y) = (self.nnf(a, !pos), self.nnf(b, pos));
                if pos {
                    self.arena.or(x, y)
                } else {
                    self.arena.and(x, y)
                }
            }
            Op::Iff => {
                let (pa, pb, na, nb) = (
                    self.nnf(a, true),
                    self.nnf(b, true),
                    self.nnf(a, false),
                    self.nnf(b, false),
                );
                let (l, r) = if pos {
                    (self.arena.and(pa, pb), self.arena.and(na, nb))
                } else {
                    (self.arena.and(pa, nb), self.arena.and(na, pb))
                };
                self.arena.or(l, r)
            }
            Op::Next | Op::WNext => {
                let x = self.nnf(a, pos);
                if (n.op == Op::Next) == pos {
                    self.arena.intern(F::Next(x))
                } else {
                    self.arena.intern(F::WNext(x))
                }
            }
            Op::Until | Op::Release => {
                let (x, y) = (self.nnf(a, pos), self.nnf(b, pos));
                if (n.op == Op::Until) == pos {
                    self.arena.intern(F::Until(n.lo, n.hi, x, y))
                } else {
                    self.arena.intern(F::Release(n.lo, n.hi, x, y))
                }
            }
            Op::Eventually | Op::Always => {
                let x = self.nnf(a, pos);
                if (n.op == Op::Eventually) == pos {
                    self.arena.intern(F::Eventually(n.lo, n.hi, x))
                } else {
                    self.arena.intern(F::Always(n.lo, n.hi, x))
                }
            }
            // Present nodes (atoms, constants, past operators) returned above.
            _ => unreachable!("present node"),
        }
    }

    /// What a step with the atoms in `known` fixed (to their bits in `values`) decides: per
    /// present node its value when the fixed atoms settle it (Kleene's three-valued logic), the
    /// memory after the step, and the atoms of the past operators whose memory is not settled yet.
    fn present_values(&self, known: u64, values: u64, mem: u64) -> (Vec<Option<bool>>, u64, u64) {
        let mut v = Vec::new();
        let (new_mem, unsettled) = self.present_values_into(known, values, mem, &mut v);
        (v, new_mem, unsettled)
    }

    /// [`Builder::present_values`] into a buffer.
    fn present_values_into(
        &self,
        known: u64,
        values: u64,
        mem: u64,
        v: &mut Vec<Option<bool>>,
    ) -> (u64, u64) {
        let and = |x: Option<bool>, y: Option<bool>| match (x, y) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        let or = |x: Option<bool>, y: Option<bool>| and(x.map(|b| !b), y.map(|b| !b)).map(|b| !b);
        v.clear();
        v.resize(self.nodes.len(), None);
        let (mut new_mem, mut unsettled) = (0u64, 0u64);
        for (j, n) in self.nodes.iter().enumerate() {
            if !self.present[j] {
                continue;
            }
            let (a, b) = (n.a as usize, n.b as usize);
            let bit = self.past_bit[j];
            let remembered = Some(mem & (1u64 << bit) != 0);
            v[j] = match n.op {
                Op::True => Some(true),
                Op::False => Some(false),
                Op::Atom => (known & (1u64 << n.a) != 0).then_some(values & (1u64 << n.a) != 0),
                Op::Not => v[a].map(|x| !x),
                Op::And => and(v[a], v[b]),
                Op::Or => or(v[a], v[b]),
                Op::Implies => or(v[a].map(|x| !x), v[b]),
                Op::Iff => v[a].zip(v[b]).map(|(x, y)| x == y),
                Op::Prev | Op::WPrev => remembered,
                Op::Since => or(v[b], and(v[a], remembered)),
                Op::Once => or(v[a], remembered),
                Op::Historically => and(v[a], remembered),
                _ => Some(false),
            };
            let (remember, reads) = match n.op {
                Op::Prev | Op::WPrev => (v[a], self.atom_masks[a]),
                Op::Since | Op::Once | Op::Historically => (v[j], self.atom_masks[j]),
                _ => continue,
            };
            match remember {
                Some(true) => new_mem |= 1u64 << bit,
                Some(false) => {}
                None => unsettled |= reads,
            }
        }
        (new_mem, unsettled)
    }

    fn initial_memory(&self) -> u64 {
        let mut mem = 0;
        for (bit, &j) in self.past.iter().enumerate() {
            if matches!(self.nodes[j].op, Op::WPrev | Op::Historically) {
                mem |= 1u64 << bit;
            }
        }
        mem
    }

    /// The formula `f` at the current step, given the present values: what it requires of the
    /// next steps.
    fn progress(&mut self, f: u32, v: &[Option<bool>], memo: &mut HashMap<u32, u32>) -> u32 {
        if let Some(&r) = memo.get(&f) {
            return r;
        }
        let r = match self.arena.forms[f as usize].clone() {
            F::True => TRUE,
            F::False => FALSE,
            F::Lit(j, pos) => match v[j as usize] {
                Some(x) if x == pos => TRUE,
                Some(_) => FALSE,
                // Not settled yet: the step's decision diagram branches on its atoms.
                None => f,
            },
            F::And(xs) | F::Or(xs) => {
                let and = matches!(self.arena.forms[f as usize], F::And(_));
                let parts = xs.iter().map(|&x| self.progress(x, v, memo)).collect();
                self.arena.junction(and, parts)
            }
            F::Next(_) | F::WNext(_) => f,
            // a until[lo, hi] b: while lo > 0, a now and the rest (lo − 1, hi − 1) from the next
            // step; at lo = 0, b now, or a now and the rest from the next step (none once hi
            // is 0). Release is the dual, with weak next.
            F::Until(lo, hi, a, b) | F::Release(lo, hi, a, b) => {
                let until = matches!(self.arena.forms[f as usize], F::Until(..));
                let dec = |x: u32| if x == UNBOUNDED { x } else { x - 1 };
                let rest = |s: &mut Self, lo: u32| {
                    let inner = if until {
                        F::Until(lo, dec(hi), a, b)
                    } else {
                        F::Release(lo, dec(hi), a, b)
                    };
                    let inner = s.arena.intern(inner);
                    s.arena.intern(if until {
                        F::Next(inner)
                    } else {
                        F::WNext(inner)
                    })
                };
                let pa = self.progress(a, v, memo);
                if lo > 0 {
                    let later = rest(self, lo - 1);
                    if until {
                        self.arena.and(pa, later)
                    } else {
                        self.arena.or(pa, later)
                    }
                } else {
                    let pb = self.progress(b, v, memo);
                    let later = match (hi, until) {
                        (0, true) => FALSE,
                        (0, false) => TRUE,
                        _ => rest(self, 0),
                    };
                    if until {
                        let stay = self.arena.and(pa, later);
                        self.arena.or(pb, stay)
                    } else {
                        let stay = self.arena.or(pa, later);
                        self.arena.and(pb, stay)
                    }
                }
            }
            F::Eventually(lo, hi, a) | F::Always(lo, hi, a) => {
                let eventually = matches!(self.arena.forms[f as usize], F::Eventually(..));
                let dec = |x: u32| if x == UNBOUNDED { x } else { x - 1 };
                if lo > 0 {
                    let rest = if eventually {
                        self.arena.intern(F::Eventually(lo - 1, dec(hi), a))
                    } else {
                        self.arena.intern(F::Always(lo - 1, dec(hi), a))
                    };
                    if eventually {
                        self.arena.intern(F::Next(rest))
                    } else {
                        self.arena.intern(F::WNext(rest))
                    }
                } else {
                    let now = self.progress(a, v, memo);
                    let later = if hi == 0 {
                        if eventually {
                            FALSE
                        } else {
                            TRUE
                        }
                    } else if eventually {
                        let rest = self.arena.intern(F::Eventually(0, dec(hi), a));
                        self.arena.intern(F::Next(rest))
                    } else {
                        let rest = self.arena.intern(F::Always(0, dec(hi), a));
                        self.arena.intern(F::WNext(rest))
                    };
                    if eventually {
                        self.arena.or(now, later)
                    } else {
                        self.arena.and(now, later)
                    }
                }
            }
        };
        memo.insert(f, r);
        r
    }

    /// Reading a step in state `s`: every obligation is progressed through the step.
    fn step(&mut self, s: u32, v: &[Option<bool>], memo: &mut HashMap<u32, u32>) -> u32 {
        match self.arena.forms[s as usize].clone() {
            F::Next(x) | F::WNext(x) => self.progress(x, v, memo),
            F::And(xs) | F::Or(xs) => {
                let and = matches!(self.arena.forms[s as usize], F::And(_));
                let parts = xs.iter().map(|&x| self.step(x, v, memo)).collect();
                self.arena.junction(and, parts)
            }
            _ => s,
        }
    }

    /// The atoms of the literals still unsettled in a progressed formula (those of this step;
    /// obligations for later steps are not looked into).
    fn literal_atoms(&self, g: u32) -> u64 {
        match &self.arena.forms[g as usize] {
            F::Lit(j, _) => self.atom_masks[*j as usize],
            F::And(xs) | F::Or(xs) => xs.iter().fold(0, |acc, &x| acc | self.literal_atoms(x)),
            _ => 0,
        }
    }

    /// The decision diagram of a step from a state with memory `mem`, given `g`, the state
    /// progressed through what the atoms in `known` settle: Shannon expansion on the lowest atom
    /// the step still needs (for a literal of `g`, or for the memory), each branch progressing
    /// `g` further; a branch ends in the next state once nothing depends on an unknown atom.
    /// Atoms are chosen in increasing order along every path, so the diagrams are ordered, and
    /// reduced by [`Diagram::node`].
    fn expand(
        &mut self,
        g: u32,
        mem: u64,
        (known, values): (u64, u64),
        states: &mut States,
    ) -> Result<i64, TooBig> {
        self.arena.spend(1)?;
        let mut v = std::mem::take(&mut self.scratch_values);
        let mut memo = std::mem::take(&mut self.scratch_memo);
        let (new_mem, unsettled) = self.present_values_into(known, values, mem, &mut v);
        memo.clear();
        let g = self.progress(g, &v, &mut memo);
        self.scratch_values = v;
        self.scratch_memo = memo;
        let reads = self.literal_atoms(g) | unsettled;
        let needs = reads & !known;
        if needs == 0 {
            let next = self.arena.canonical(g)?;
            return Ok(leaf(states.id(next, new_mem)?));
        }
        // What is left depends on `g`, the memory before and the settled memory after, and the
        // fixed atoms that are still read (a literal over several atoms may be only partly
        // settled): the same sub-diagram whenever they agree.
        let key = (g, mem, new_mem, known & reads, values & known & reads);
        if let Some(&c) = self.expanded.get(&key) {
            return Ok(c);
        }
        let k = needs.trailing_zeros();
        let bit = 1u64 << k;
        let lo = self.expand(g, mem, (known | bit, values), states)?;
        let hi = self.expand(g, mem, (known | bit, values | bit), states)?;
        let c = states.diagram.node(k, lo, hi);
        self.expanded.insert(key, c);
        Ok(c)
    }

    /// The trace may end here: obligations `next` fail, `wnext` hold.
    fn accepts(&self, s: u32) -> bool {
        match &self.arena.forms[s as usize] {
            F::True | F::WNext(_) => true,
            F::And(xs) => xs.iter().all(|&x| self.accepts(x)),
            F::Or(xs) => xs.iter().any(|&x| self.accepts(x)),
            _ => false,
        }
    }
}

/// The minimal DFA of a formula (`nodes` in child-before-parent order, root last) over
/// `atoms` atoms. Past operators must not contain future ones (see [`future_inside_past`]).
pub fn build(nodes: &[Node], atoms: usize) -> Result<Dfa, TooBig> {
    build_within(nodes, atoms, MAX_WORK)
}

/// [`build`] with a budget of `max_work` clause operations instead of [`MAX_WORK`].
fn build_within(nodes: &[Node], atoms: usize, max_work: u64) -> Result<Dfa, TooBig> {
    if atoms > MAX_ATOMS {
        return Err(TooBig::Atoms(atoms));
    }
    let past: Vec<usize> = (0..nodes.len())
        .filter(|&j| nodes[j].op.is_past())
        .collect();
    if past.len() > 64 {
        return Err(TooBig::PastOperators(past.len()));
    }
    let mut past_bit = vec![0u32; nodes.len()];
    for (bit, &j) in past.iter().enumerate() {
        past_bit[j] = bit as u32;
    }
    let mut b = Builder {
        nodes,
        atom_masks: atom_masks(nodes),
        present: present_nodes(nodes),
        past_bit,
        past,
        arena: Arena::new(max_work),
        expanded: HashMap::default(),
        scratch_values: Vec::new(),
        scratch_memo: HashMap::default(),
    };
    let root = b.nnf(nodes.len() - 1, true);
    let start = b.arena.intern(F::Next(root));
    let mut states = States::default();
    states.id(start, b.initial_memory())?;
    let mut roots = Vec::new();
    while roots.len() < states.list.len() {
        b.arena.explored = states.list.len();
        let (s, mem) = states.list[roots.len()];
        let (v, _, _) = b.present_values(0, 0, mem);
        let g = b.step(s, &v, &mut HashMap::default());
        roots.push(b.expand(g, mem, (0, 0), &mut states)?);
    }
    let accepting: Vec<bool> = states.list.iter().map(|&(s, _)| b.accepts(s)).collect();
    let trans = Transitions {
        roots,
        nodes: states.diagram.nodes,
    };
    Ok(minimise(&trans, &accepting))
}

/// The states found so far (a canonical formula and the past memory), and the diagram nodes of
/// their transitions.
#[derive(Default)]
struct States {
    list: Vec<(u32, u64)>,
    index: HashMap<(u32, u64), usize>,
    diagram: Diagram,
}

impl States {
    fn id(&mut self, formula: u32, mem: u64) -> Result<usize, TooBig> {
        if let Some(&id) = self.index.get(&(formula, mem)) {
            return Ok(id);
        }
        if self.list.len() >= MAX_STATES {
            return Err(TooBig::States);
        }
        self.list.push((formula, mem));
        self.index.insert((formula, mem), self.list.len() - 1);
        Ok(self.list.len() - 1)
    }
}

/// Hash-consed decision nodes (see [`Transitions`]): equal nodes are one node, and a node whose
/// two branches agree is its branch, so an ordered diagram is canonical.
#[derive(Default)]
struct Diagram {
    nodes: Vec<[i64; 3]>,
    index: HashMap<[i64; 3], i64>,
}

impl Diagram {
    fn node(&mut self, atom: u32, lo: i64, hi: i64) -> i64 {
        if lo == hi {
            return lo;
        }
        let key = [i64::from(atom), lo, hi];
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.nodes.len() as i64;
        self.nodes.push(key);
        self.index.insert(key, i);
        i
    }

    /// The diagram under `child` in `from`, with each leaf state q replaced by `map(q)`,
    /// reduced into this one.
    fn relabel(
        &mut self,
        from: &[[i64; 3]],
        child: i64,
        map: &dyn Fn(usize) -> usize,
        memo: &mut HashMap<i64, i64>,
    ) -> i64 {
        if child < 0 {
            return leaf(map((-1 - child) as usize));
        }
        if let Some(&c) = memo.get(&child) {
            return c;
        }
        let [atom, lo, hi] = from[child as usize];
        let lo = self.relabel(from, lo, map, memo);
        let hi = self.relabel(from, hi, map, memo);
        let c = self.node(atom as u32, lo, hi);
        memo.insert(child, c);
        c
    }
}

/// Per node, the atoms in its subtree (bit k: atom k).
fn atom_masks(nodes: &[Node]) -> Vec<u64> {
    let mut masks = vec![0u64; nodes.len()];
    for (j, n) in nodes.iter().enumerate() {
        masks[j] = match n.op {
            Op::Atom => 1u64 << n.a,
            Op::True | Op::False => 0,
            Op::Not
            | Op::Next
            | Op::WNext
            | Op::Eventually
            | Op::Always
            | Op::Prev
            | Op::WPrev
            | Op::Once
            | Op::Historically => masks[n.a as usize],
            _ => masks[n.a as usize] | masks[n.b as usize],
        };
    }
    masks
}

/// Moore's partition refinement (two states stay together while their accepting flags and
/// their diagrams over the classes of their successors are equal), then states renumbered in
/// breadth-first order from the start (state 0 before minimisation).
fn minimise(trans: &Transitions, accepting: &[bool]) -> Dfa {
    let n = accepting.len();
    let mut class: Vec<usize> = accepting.iter().map(|&a| usize::from(a)).collect();
    let mut count = 0;
    loop {
        let mut diagram = Diagram::default();
        let mut memo = HashMap::default();
        let mut ids: HashMap<(usize, i64), usize> = HashMap::default();
        let mut next = vec![0; n];
        for q in 0..n {
            let over_classes =
                diagram.relabel(&trans.nodes, trans.roots[q], &|s| class[s], &mut memo);
            let len = ids.len();
            next[q] = *ids.entry((class[q], over_classes)).or_insert(len);
        }
        let new_count = ids.len();
        class = next;
        if new_count == count {
            break;
        }
        count = new_count;
    }
    let mut rep = vec![usize::MAX; count];
    for q in (0..n).rev() {
        rep[class[q]] = q;
    }
    let mut order: Vec<usize> = vec![usize::MAX; count];
    let mut queue = vec![class[0]];
    order[class[0]] = 0;
    let mut i = 0;
    while i < queue.len() {
        for to in trans.successors(rep[queue[i]]) {
            let d = class[to];
            if order[d] == usize::MAX {
                order[d] = queue.len();
                queue.push(d);
            }
        }
        i += 1;
    }
    let mut diagram = Diagram::default();
    let mut memo = HashMap::default();
    let renumber = |s: usize| order[class[s]];
    let roots = queue
        .iter()
        .map(|&c| diagram.relabel(&trans.nodes, trans.roots[rep[c]], &renumber, &mut memo))
        .collect();
    let accepting: Vec<bool> = queue.iter().map(|&c| accepting[rep[c]]).collect();
    let trans = Transitions {
        roots,
        nodes: diagram.nodes,
    };
    let verdict = verdicts(&trans, &accepting);
    Dfa {
        start: 0,
        trans,
        accepting,
        verdict,
    }
}

/// Per state: satisfied when no reachable state (itself included) rejects, violated when none
/// accepts.
fn verdicts(trans: &Transitions, accepting: &[bool]) -> Vec<i64> {
    let n = accepting.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for q in 0..n {
        for to in trans.successors(q) {
            preds[to].push(q);
        }
    }
    let reach = |target: bool| {
        let mut seen: Vec<bool> = accepting.iter().map(|&a| a == target).collect();
        let mut stack: Vec<usize> = (0..n).filter(|&q| seen[q]).collect();
        while let Some(q) = stack.pop() {
            for &p in &preds[q] {
                if !seen[p] {
                    seen[p] = true;
                    stack.push(p);
                }
            }
        }
        seen
    };
    let can_accept = reach(true);
    let can_reject = reach(false);
    (0..n)
        .map(|q| {
            if !can_reject[q] {
                SATISFIED
            } else if !can_accept[q] {
                VIOLATED
            } else {
                UNDECIDED
            }
        })
        .collect()
}

/// Values of the states of a graph with rewards on its edges, by value iteration as in the
/// reward-machines code (Gauss–Seidel sweeps in state order until no value moves by more than
/// 1e-7; terminal states are worth 0; a state without edges is worth 0).
pub fn value_iteration(
    states: usize,
    edges: &[(usize, usize, f64)],
    terminal: &[bool],
    gamma: f64,
) -> Vec<f64> {
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); states];
    for &(from, to, r) in edges {
        out[from].push((to, r));
    }
    let mut v = vec![0.0f64; states];
    for _sweep in 0..100_000 {
        let mut error: f64 = 0.0;
        for u in 0..states {
            if terminal[u] || out[u].is_empty() {
                continue;
            }
            let best = out[u]
                .iter()
                .map(|&(to, r)| r + gamma * v[to])
                .fold(f64::NEG_INFINITY, f64::max);
            error = error.max((best - v[u]).abs());
            v[u] = best;
        }
        if error <= 1e-7 {
            break;
        }
    }
    v
}

#[cfg(test)]
#[path = "../../tests/common/random_formulas.rs"]
mod random_formulas;

#[cfg(test)]
mod tests {
    use super::random_formulas::{random_formula, xorshift};
    use super::*;
    use reward_runtime::ltl::evaluate_all;

    fn node(op: Op, a: u32, b: u32) -> Node {
        Node::new(op, a, b)
    }

    #[test]
    fn eventually_a_has_two_states_plus_start() {
        // F a: start (undecided), seen-a (satisfied).
        let nodes = [node(Op::Atom, 0, 0), node(Op::Eventually, 0, 0)];
        let dfa = build(&nodes, 1).unwrap();
        assert_eq!(dfa.states(), 2);
        assert!(dfa.accepts(&[0, 1]));
        assert!(!dfa.accepts(&[0, 0]));
        assert_eq!(dfa.verdict[dfa.trans.next(dfa.start, 1)], SATISFIED);
    }

    #[test]
    fn strong_and_weak_next_differ_at_the_end() {
        let next = [node(Op::Atom, 0, 0), node(Op::Next, 0, 0)];
        let wnext = [node(Op::Atom, 0, 0), node(Op::WNext, 0, 0)];
        let (x, wx) = (build(&next, 1).unwrap(), build(&wnext, 1).unwrap());
        assert!(!x.accepts(&[1]));
        assert!(wx.accepts(&[0]));
        assert!(x.accepts(&[0, 1]) && wx.accepts(&[0, 1]));
        assert!(!x.accepts(&[1, 0]) && !wx.accepts(&[1, 0]));
    }

    #[test]
    fn construction_stops_at_its_budget() {
        // eventually(a and next eventually(b until c)) for three disjoint triples of atoms.
        let mut nodes = Vec::new();
        let mut chains = Vec::new();
        for i in 0..3u32 {
            let base = nodes.len() as u32;
            nodes.push(node(Op::Atom, 3 * i, 0));
            nodes.push(node(Op::Atom, 3 * i + 1, 0));
            nodes.push(node(Op::Atom, 3 * i + 2, 0));
            nodes.push(node(Op::Until, base + 1, base + 2));
            nodes.push(node(Op::Eventually, base + 3, 0));
            nodes.push(node(Op::Next, base + 4, 0));
            nodes.push(node(Op::And, base, base + 5));
            nodes.push(node(Op::Eventually, base + 6, 0));
            chains.push(nodes.len() as u32 - 1);
        }
        nodes.push(node(Op::And, chains[0], chains[1]));
        nodes.push(node(Op::And, nodes.len() as u32 - 1, chains[2]));
        let full = build(&nodes, 9).expect("within the default budget");
        assert!(full.states() > 3);
        assert!(matches!(build_within(&nodes, 9, 20), Err(TooBig::Work(_))));
    }

    #[test]
    fn a_wide_window_stays_linear() {
        // always(eventually[0, 200] a): the state is the number of steps since the last `a`.
        let nodes = [
            node(Op::Atom, 0, 0),
            Node {
                lo: 0,
                hi: 200,
                ..node(Op::Eventually, 0, 0)
            },
            node(Op::Always, 1, 0),
        ];
        let dfa = build(&nodes, 1).unwrap();
        assert!(dfa.states() <= 203, "{} states", dfa.states());
    }

    /// Every node's value at every position of `letters` (bit k: atom k holds), by the direct
    /// semantics.
    fn values_on(nodes: &[Node], letters: &[u64]) -> Vec<f64> {
        evaluate_all(nodes, letters.len(), &|k, i| {
            if letters[i] & (1 << k) != 0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }
        })
    }

    #[test]
    fn the_minimal_dfa_accepts_what_the_direct_semantics_satisfies() {
        let mut rng = xorshift(0x5eed_1234_abcd);
        let mut compared = 0;
        for _ in 0..600 {
            let atoms = 1 + (rng() % 3) as u32;
            let size = 1 + (rng() % 7) as u32;
            let nodes = random_formula(&mut rng, atoms, size, false);
            let dfa = build(&nodes, atoms as usize).expect("small automaton");
            for _ in 0..12 {
                let n = 1 + (rng() % 9) as usize;
                let letters: Vec<u64> = (0..n).map(|_| rng() % (1 << atoms)).collect();
                let vals = values_on(&nodes, &letters);
                let direct = vals[(nodes.len() - 1) * n] > 0.0;
                assert_eq!(dfa.accepts(&letters), direct, "{nodes:?} on {letters:?}");
                // The verdicts are permanent: a satisfied (violated) prefix stays so.
                let mut q = dfa.start;
                for (i, &l) in letters.iter().enumerate() {
                    q = dfa.trans.next(q, l);
                    if dfa.verdict[q] == SATISFIED {
                        assert!(dfa.accepting[q], "satisfied but not accepting after {i}");
                    }
                    if dfa.verdict[q] == VIOLATED {
                        assert!(!dfa.accepting[q]);
                    }
                }
                compared += 1;
            }
        }
        assert_eq!(compared, 600 * 12);
    }

    #[test]
    fn past_formulas_track_their_memory_in_the_automaton() {
        let mut rng = xorshift(0xabad_cafe);
        for _ in 0..400 {
            let atoms = 1 + (rng() % 3) as u32;
            let size = 1 + (rng() % 6) as u32;
            let mut nodes = random_formula(&mut rng, atoms, size, true);
            // At the last step: eventually(φ and wnext false).
            let root = nodes.len() as u32 - 1;
            nodes.push(Node::new(Op::False, 0, 0));
            nodes.push(Node::new(Op::WNext, root + 1, 0));
            nodes.push(Node::new(Op::And, root, root + 2));
            nodes.push(Node::new(Op::Eventually, root + 3, 0));
            let dfa = build(&nodes, atoms as usize).expect("small automaton");
            for _ in 0..10 {
                let n = 1 + (rng() % 8) as usize;
                let letters: Vec<u64> = (0..n).map(|_| rng() % (1 << atoms)).collect();
                let vals = values_on(&nodes, &letters);
                let last = vals[root as usize * n + n - 1] > 0.0;
                assert_eq!(vals[(nodes.len() - 1) * n] > 0.0, last);
                assert_eq!(dfa.accepts(&letters), last, "{nodes:?} on {letters:?}");
            }
        }
    }
}
