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

use std::collections::HashMap;

use reward_runtime::ltl::{Node, Op, SATISFIED, UNBOUNDED, UNDECIDED, VIOLATED};

/// Most atoms in a formula that gets an automaton (2^12 letters).
pub const MAX_ATOMS: usize = 12;
/// Most states explored before minimisation.
pub const MAX_STATES: usize = 50_000;
/// Most transitions explored (states × letters).
pub const MAX_TRANSITIONS: usize = 4_000_000;
/// Most clause operations (progressions and products of clauses while normalising states) one
/// construction may do: about a few seconds of work, so that no formula makes `reward check`
/// hang.
pub const MAX_WORK: u64 = 10_000_000;

/// A minimal DFA over letters `0..letters` (bit k of a letter: atom k holds).
#[derive(Debug, Clone, PartialEq)]
pub struct Dfa {
    pub letters: usize,
    pub start: usize,
    /// `trans[q * letters + σ]`.
    pub trans: Vec<usize>,
    pub accepting: Vec<bool>,
    /// Per state: `UNDECIDED`, `SATISFIED` (every continuation satisfies) or `VIOLATED` (none does).
    pub verdict: Vec<i64>,
}

impl Dfa {
    pub fn states(&self) -> usize {
        self.accepting.len()
    }

    /// Whether the whole (non-empty) trace of letters satisfies the formula.
    pub fn accepts(&self, letters: &[usize]) -> bool {
        let mut q = self.start;
        for &l in letters {
            q = self.trans[q * self.letters + l];
        }
        self.accepting[q]
    }
}

/// Why a formula gets no automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooBig {
    /// More atoms than [`MAX_ATOMS`]: the count.
    Atoms(usize),
    /// More states than [`MAX_STATES`] explored before minimisation.
    States,
    /// More transitions than [`MAX_TRANSITIONS`] (states × letters): the states explored.
    Transitions(usize),
    /// A state's formula has more than [`MAX_CLAUSES`] clauses.
    Clauses,
    /// The construction needs more than [`MAX_WORK`] clause operations.
    Work,
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
            TooBig::Transitions(states) => write!(
                f,
                "the formula's automaton needs more than {MAX_TRANSITIONS} transitions ({states} states so far, each with one transition per valuation of the atoms)"
            ),
            TooBig::Clauses => write!(
                f,
                "a state of the formula's automaton needs more than {MAX_CLAUSES} clauses"
            ),
            TooBig::Work => write!(
                f,
                "building the formula's automaton takes more than {MAX_WORK} clause operations (the construction budget)"
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
    Until(u32, u32),
    Release(u32, u32),
    Eventually(u32, u32, u32),
    Always(u32, u32, u32),
}

struct Arena {
    ids: HashMap<F, u32>,
    forms: Vec<F>,
    /// Work done so far, in clause operations (see [`MAX_WORK`]).
    work: std::cell::Cell<u64>,
    max_work: u64,
}

const TRUE: u32 = 0;
const FALSE: u32 = 1;

impl Arena {
    fn new(max_work: u64) -> Arena {
        let mut a = Arena {
            ids: HashMap::new(),
            forms: Vec::new(),
            work: std::cell::Cell::new(0),
            max_work,
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
        let mut best: HashMap<(bool, bool, u32, u32), (u32, u32)> = HashMap::new();
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let key = match &self.forms[p as usize] {
                F::Next(x) | F::WNext(x) => {
                    let strong = matches!(self.forms[p as usize], F::Next(_));
                    match self.forms[*x as usize] {
                        F::Eventually(lo, hi, a) => Some(((strong, true, lo, a), hi)),
                        F::Always(lo, hi, a) => Some(((strong, false, lo, a), hi)),
                        _ => None,
                    }
                }
                _ => None,
            };
            match key {
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

    /// The state formula in a canonical form: a disjunction of conjunctions of obligations
    /// with no clause implied by a smaller one (absorption), so that equivalent states reached
    /// by different routes are one state, and states cannot grow without bound.
    fn canonical(&mut self, s: u32) -> Result<u32, TooBig> {
        let dnf = self.dnf(s)?;
        let clauses: Vec<u32> = dnf.into_iter().map(|c| self.junction(true, c)).collect();
        Ok(self.junction(false, clauses))
    }

    /// Counts `units` of work against the budget.
    fn spend(&self, units: u64) -> Result<(), TooBig> {
        let work = self.work.get() + units;
        self.work.set(work);
        if work > self.max_work {
            return Err(TooBig::Work);
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
    atom_masks: Vec<usize>,
    present: Vec<bool>,
    /// Past operators, each with one bit of memory.
    past: Vec<usize>,
    arena: Arena,
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
                    self.arena.intern(F::Until(x, y))
                } else {
                    self.arena.intern(F::Release(x, y))
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

    /// Values of the present nodes at a step, and the memory after it.
    fn present_values(&self, letter: usize, mem: u64) -> (Vec<bool>, u64) {
        let mut v = vec![false; self.nodes.len()];
        let mut new_mem = 0u64;
        for (j, n) in self.nodes.iter().enumerate() {
            if !self.present[j] {
                continue;
            }
            let (a, b) = (n.a as usize, n.b as usize);
            let bit = |k: usize| self.past.iter().position(|&p| p == k).unwrap_or(0);
            let remembered = mem & (1u64 << bit(j)) != 0;
            v[j] = match n.op {
                Op::True => true,
                Op::False => false,
                Op::Atom => letter & (1usize << n.a) != 0,
                Op::Not => !v[a],
                Op::And => v[a] && v[b],
                Op::Or => v[a] || v[b],
                Op::Implies => !v[a] || v[b],
                Op::Iff => v[a] == v[b],
                Op::Prev | Op::WPrev => remembered,
                Op::Since => v[b] || (v[a] && remembered),
                Op::Once => v[a] || remembered,
                Op::Historically => v[a] && remembered,
                _ => false,
            };
            let remember = match n.op {
                Op::Prev | Op::WPrev => Some(v[a]),
                Op::Since | Op::Once | Op::Historically => Some(v[j]),
                _ => None,
            };
            if remember == Some(true) {
                new_mem |= 1u64 << bit(j);
            }
        }
        (v, new_mem)
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
    fn progress(&mut self, f: u32, v: &[bool], memo: &mut HashMap<u32, u32>) -> u32 {
        if let Some(&r) = memo.get(&f) {
            return r;
        }
        let r = match self.arena.forms[f as usize].clone() {
            F::True => TRUE,
            F::False => FALSE,
            F::Lit(j, pos) => {
                if v[j as usize] == pos {
                    TRUE
                } else {
                    FALSE
                }
            }
            F::And(xs) | F::Or(xs) => {
                let and = matches!(self.arena.forms[f as usize], F::And(_));
                let parts = xs.iter().map(|&x| self.progress(x, v, memo)).collect();
                self.arena.junction(and, parts)
            }
            F::Next(_) | F::WNext(_) => f,
            F::Until(a, b) => {
                let (pa, pb) = (self.progress(a, v, memo), self.progress(b, v, memo));
                let later = self.arena.intern(F::Next(f));
                let stay = self.arena.and(pa, later);
                self.arena.or(pb, stay)
            }
            F::Release(a, b) => {
                let (pa, pb) = (self.progress(a, v, memo), self.progress(b, v, memo));
                let later = self.arena.intern(F::WNext(f));
                let stay = self.arena.or(pa, later);
                self.arena.and(pb, stay)
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
    fn step(&mut self, s: u32, v: &[bool], memo: &mut HashMap<u32, u32>) -> u32 {
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

    /// The atoms reading a step in state `s` looks at: those of the literals its obligations
    /// progress through now (not those behind a further `next`).
    fn atoms_read(&self, s: u32, memo: &mut HashMap<u32, usize>) -> usize {
        match &self.arena.forms[s as usize] {
            F::Next(x) | F::WNext(x) => self.atoms_now(*x, memo),
            F::And(xs) | F::Or(xs) => xs.iter().fold(0, |acc, &x| acc | self.atoms_read(x, memo)),
            _ => 0,
        }
    }

    fn atoms_now(&self, f: u32, memo: &mut HashMap<u32, usize>) -> usize {
        if let Some(&m) = memo.get(&f) {
            return m;
        }
        let m = match &self.arena.forms[f as usize] {
            F::Lit(j, _) => self.atom_masks[*j as usize],
            F::And(xs) | F::Or(xs) => xs.iter().fold(0, |acc, &x| acc | self.atoms_now(x, memo)),
            F::Until(a, b) | F::Release(a, b) => {
                self.atoms_now(*a, memo) | self.atoms_now(*b, memo)
            }
            F::Eventually(0, _, a) | F::Always(0, _, a) => self.atoms_now(*a, memo),
            _ => 0,
        };
        memo.insert(f, m);
        m
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
    let letters = 1usize << atoms;
    let present = present_nodes(nodes);
    let past: Vec<usize> = (0..nodes.len())
        .filter(|&j| nodes[j].op.is_past())
        .collect();
    if past.len() > 64 {
        return Err(TooBig::PastOperators(past.len()));
    }
    let mut b = Builder {
        nodes,
        atom_masks: Vec::new(),
        present,
        past,
        arena: Arena::new(max_work),
    };
    let root = b.nnf(nodes.len() - 1, true);
    let start = b.arena.intern(F::Next(root));
    let mem0 = b.initial_memory();

    let mut index: HashMap<(u32, u64), usize> = HashMap::new();
    let mut states: Vec<(u32, u64)> = vec![(start, mem0)];
    index.insert((start, mem0), 0);
    let mut trans: Vec<usize> = Vec::new();
    let atom_masks = atom_masks(nodes);
    b.atom_masks = atom_masks.clone();
    let past_atoms = (0..nodes.len())
        .filter(|&j| nodes[j].op.is_past())
        .fold(0usize, |acc, j| acc | atom_masks[j]);
    let mut read_memo = HashMap::new();
    let mut q = 0;
    while q < states.len() {
        if states.len() > MAX_STATES {
            return Err(TooBig::States);
        }
        if trans.len() + letters > MAX_TRANSITIONS {
            return Err(TooBig::Transitions(states.len()));
        }
        let (s, mem) = states[q];
        // Only the atoms this step can read matter: progress each of their valuations once,
        // then every letter goes where its relevant part goes.
        let relevant = b.atoms_read(s, &mut read_memo) | past_atoms;
        let mut targets: HashMap<usize, usize> = HashMap::new();
        let mut sub = 0usize;
        loop {
            b.arena.spend(1)?;
            let (v, new_mem) = b.present_values(sub, mem);
            let mut memo = HashMap::new();
            let next = b.step(s, &v, &mut memo);
            let next = b.arena.canonical(next)?;
            let key = (next, new_mem);
            let id = match index.get(&key) {
                Some(&id) => id,
                None => {
                    states.push(key);
                    index.insert(key, states.len() - 1);
                    states.len() - 1
                }
            };
            targets.insert(sub, id);
            if sub == relevant {
                break;
            }
            // The next subset of `relevant`, in increasing order.
            sub = sub.wrapping_sub(relevant) & relevant;
        }
        trans.extend((0..letters).map(|letter| targets[&(letter & relevant)]));
        q += 1;
    }
    let accepting: Vec<bool> = states.iter().map(|&(s, _)| b.accepts(s)).collect();
    Ok(minimise(letters, &trans, &accepting))
}

/// Per node, the atoms in its subtree (bit k: atom k).
fn atom_masks(nodes: &[Node]) -> Vec<usize> {
    let mut masks = vec![0usize; nodes.len()];
    for (j, n) in nodes.iter().enumerate() {
        masks[j] = match n.op {
            Op::Atom => 1usize << n.a,
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

/// Moore's partition refinement, then states renumbered in breadth-first order from the start.
fn minimise(letters: usize, trans: &[usize], accepting: &[bool]) -> Dfa {
    let n = accepting.len();
    let mut class: Vec<usize> = accepting.iter().map(|&a| usize::from(a)).collect();
    let mut count = 0;
    loop {
        let mut ids: HashMap<Vec<usize>, usize> = HashMap::new();
        let mut next = vec![0; n];
        for q in 0..n {
            let mut sig = Vec::with_capacity(letters + 1);
            sig.push(class[q]);
            sig.extend((0..letters).map(|l| class[trans[q * letters + l]]));
            let len = ids.len();
            next[q] = *ids.entry(sig).or_insert(len);
        }
        let new_count = ids.len();
        class = next;
        if new_count == count {
            break;
        }
        count = new_count;
    }
    // Breadth-first renumbering from the start state (state 0 before minimisation).
    let mut order: Vec<usize> = vec![usize::MAX; count];
    let mut queue = vec![class[0]];
    order[class[0]] = 0;
    let mut rep = vec![usize::MAX; count];
    for q in 0..n {
        if rep[class[q]] == usize::MAX {
            rep[class[q]] = q;
        }
    }
    let mut i = 0;
    while i < queue.len() {
        let c = queue[i];
        for l in 0..letters {
            let d = class[trans[rep[c] * letters + l]];
            if order[d] == usize::MAX {
                order[d] = queue.len();
                queue.push(d);
            }
        }
        i += 1;
    }
    let m = queue.len();
    let mut new_trans = vec![0; m * letters];
    let mut new_acc = vec![false; m];
    for (new, &c) in queue.iter().enumerate() {
        new_acc[new] = accepting[rep[c]];
        for l in 0..letters {
            new_trans[new * letters + l] = order[class[trans[rep[c] * letters + l]]];
        }
    }
    let verdict = verdicts(letters, &new_trans, &new_acc);
    Dfa {
        letters,
        start: 0,
        trans: new_trans,
        accepting: new_acc,
        verdict,
    }
}

/// Per state: satisfied when no reachable state (itself included) rejects, violated when none
/// accepts.
fn verdicts(letters: usize, trans: &[usize], accepting: &[bool]) -> Vec<i64> {
    let n = accepting.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for q in 0..n {
        for l in 0..letters {
            preds[trans[q * letters + l]].push(q);
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
mod tests {
    use super::*;

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
        assert_eq!(dfa.verdict[dfa.trans[1]], SATISFIED);
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
        assert_eq!(build_within(&nodes, 9, 1_000), Err(TooBig::Work));
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
}
