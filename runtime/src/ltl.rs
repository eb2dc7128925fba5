//! LTL over finite traces at run time: the direct (quantitative) semantics of a formula over a
//! whole trace, and the walk of its automaton for per-step verdicts and rewards on acceptance.
//!
//! The compiler builds both pieces (the formula as a node list, the minimal DFA as a table) and
//! passes them as one constant record, so every engine runs this same code:
//!
//! `{name: text, nodes: list[int], dfa: {…}?, reward: float, gamma: float, potentials: list[float]}`
//!
//! - `nodes`: five ints per node (`op, a, b, lo, hi`), children before parents, root last.
//! - `dfa` (present when the spec asks for verdicts or rewards): `{start: int, roots: list[int],
//!   diagram: list[int], accepting: list[bool], verdict: list[int]}`: the transitions as decision
//!   diagrams over the atoms (see [`Transitions`]), so the table grows with the states and the
//!   atoms a state reads, not with 2^atoms.
//!
//! Booleans are robustness values ±∞, so one evaluator serves `sat` (the sign at position 0)
//! and `robustness` (the value at position 0); `min`/`max` propagate NaN.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::machine::{StepTable, Transition};
use crate::semantics::{fmax, fmin};
use crate::value::Scalars;
use crate::Value;

/// Operators of a formula node. The numbers are the table encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    True = 0,
    False = 1,
    /// `a` is the atom index.
    Atom = 2,
    Not = 3,
    And = 4,
    Or = 5,
    Implies = 6,
    Iff = 7,
    /// Strong next: false at the last step.
    Next = 8,
    /// Weak next: true at the last step.
    WNext = 9,
    Until = 10,
    Release = 11,
    /// `lo..=hi` steps ahead (`hi == UNBOUNDED` for the plain operator).
    Eventually = 12,
    Always = 13,
    /// Strong previous: false at step 0.
    Prev = 14,
    /// Weak previous: true at step 0.
    WPrev = 15,
    Since = 16,
    Once = 17,
    Historically = 18,
}

pub const UNBOUNDED: u32 = u32::MAX;

impl Op {
    pub fn from_code(c: i64) -> Option<Op> {
        use Op::*;
        Some(match c {
            0 => True,
            1 => False,
            2 => Atom,
            3 => Not,
            4 => And,
            5 => Or,
            6 => Implies,
            7 => Iff,
            8 => Next,
            9 => WNext,
            10 => Until,
            11 => Release,
            12 => Eventually,
            13 => Always,
            14 => Prev,
            15 => WPrev,
            16 => Since,
            17 => Once,
            18 => Historically,
            _ => return None,
        })
    }

    pub fn is_past(self) -> bool {
        matches!(
            self,
            Op::Prev | Op::WPrev | Op::Since | Op::Once | Op::Historically
        )
    }

    pub fn is_future(self) -> bool {
        matches!(
            self,
            Op::Next | Op::WNext | Op::Until | Op::Release | Op::Eventually | Op::Always
        )
    }
}

/// One node: `a`/`b` are child node indices (or the atom index for `Atom`), `lo`/`hi` the window
/// of `Eventually`/`Always`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    pub op: Op,
    pub a: u32,
    pub b: u32,
    pub lo: u32,
    pub hi: u32,
}

impl Node {
    /// The nodes this one reads (an atom's `a` is the atom's index, not a node).
    pub fn children(&self) -> impl Iterator<Item = u32> {
        use Op::*;
        let count = match self.op {
            True | False | Atom => 0,
            Not | Next | WNext | Eventually | Always | Prev | WPrev | Once | Historically => 1,
            And | Or | Implies | Iff | Until | Release | Since => 2,
        };
        [self.a, self.b].into_iter().take(count)
    }

    /// Whether the node has a window (`[lo, hi]` other than the plain operator's `[0, ∞)`).
    pub fn windowed(&self) -> bool {
        (self.lo, self.hi) != (0, UNBOUNDED)
    }

    pub fn new(op: Op, a: u32, b: u32) -> Node {
        Node {
            op,
            a,
            b,
            lo: 0,
            hi: UNBOUNDED,
        }
    }
}

/// How many atoms a formula reads (its highest atom index + 1).
pub fn atom_count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .filter(|n| n.op == Op::Atom)
        .map(|n| n.a as usize + 1)
        .max()
        .unwrap_or(0)
}

pub fn encode_nodes(nodes: &[Node]) -> Value {
    let mut out = Vec::with_capacity(nodes.len() * 5);
    for n in nodes {
        for x in [
            n.op as i64,
            n.a as i64,
            n.b as i64,
            n.lo as i64,
            n.hi as i64,
        ] {
            out.push(Value::Int(x));
        }
    }
    Value::List(out.into())
}

pub fn decode_nodes(v: &Value) -> Result<Vec<Node>, String> {
    let items = v.as_list();
    items
        .chunks(5)
        .map(|c| match c {
            [op, a, b, lo, hi] => Ok(Node {
                op: Op::from_code(op.as_int()).ok_or("internal error: bad LTL node")?,
                a: a.as_int() as u32,
                b: b.as_int() as u32,
                lo: lo.as_int() as u32,
                hi: hi.as_int() as u32,
            }),
            _ => Err("internal error: bad LTL node list".to_string()),
        })
        .collect()
}

/// The value of every node at every position: `vals[j * n + i]` for node `j`, position `i`.
/// `atom(k, i)` is atom `k`'s robustness at position `i` (±∞ for a boolean).
pub fn evaluate_all(nodes: &[Node], n: usize, atom: &dyn Fn(u32, usize) -> f64) -> Vec<f64> {
    let mut vals = Vec::new();
    let fill = |k: u32, out: &mut [f64]| {
        for (i, o) in out.iter_mut().enumerate() {
            *o = atom(k, i);
        }
    };
    let atoms = Atoms::Fill(&fill);
    evaluate_into(
        nodes,
        &Layout::new(nodes, n, false, &atoms),
        &atoms,
        &mut vals,
    );
    vals
}

/// Writes atom `k`'s robustness at every position into `out` (one call per atom node, so
/// that the values are copied a whole array at a time).
type AtomFill<'a> = &'a dyn Fn(u32, &mut [f64]);

/// Where the atoms' values come from: written into the table ([`AtomFill`]), or read where
/// they are, from an array per atom of every position (the robustness arrays compiled code
/// collects): no room in the table and no copy.
enum Atoms<'a> {
    Fill(AtomFill<'a>),
    InPlace(&'a [&'a [f64]]),
}

impl<'a> Atoms<'a> {
    /// Node `c`'s values: an atom read in place from its array, any other node from `table`
    /// (the evaluated part of the table, laid out by `at`).
    fn node<'v>(&self, nodes: &[Node], at: &[usize], table: &'v [f64], c: usize) -> &'v [f64]
    where
        'a: 'v,
    {
        match self {
            Atoms::InPlace(arrays) if nodes[c].op == Op::Atom => arrays[nodes[c].a as usize],
            _ => &table[at[c]..at[c + 1]],
        }
    }
}

/// The value of the last node (the formula) at position 0, computed in a buffer kept per
/// thread: a long trace's table is megabytes, and a fresh one per row costs page faults.
fn evaluate_root(nodes: &[Node], n: usize, atoms: &Atoms) -> f64 {
    /// Buffers beyond this are given back after the row, so one huge row does not keep its
    /// memory for the rest of the run.
    const KEEP_BYTES: usize = 8 << 20;
    thread_local! {
        static VALS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let layout = Layout::new(nodes, n, true, atoms);
    let last = nodes.len() - 1;
    let root = |vals: &mut Vec<f64>| {
        evaluate_into(nodes, &layout, atoms, vals);
        let x = atoms.node(nodes, &layout.at, vals, last)[0];
        if vals.capacity() * std::mem::size_of::<f64>() > KEEP_BYTES {
            *vals = Vec::new();
        }
        x
    };
    VALS.with(|v| match v.try_borrow_mut() {
        Ok(mut vals) => root(&mut vals),
        Err(_) => root(&mut Vec::new()),
    })
}

/// Where each node's values go in the table of [`evaluate_into`]. The formula is read at
/// position 0 only, and so, in turn, are the children of a pointwise operator (`not`, `and`,
/// …) read at 0 only; such a node is computed at that one position, and an unbounded
/// `always`/`eventually` read at 0 only is one pass that keeps the extreme of its child
/// ([`extreme`]) instead of a table of suffix values. Every other node is computed at every
/// position, as its parents read it there.
struct Layout {
    n: usize,
    /// `at[j]..at[j + 1]`: node `j`'s values (`n` of them, or 1).
    at: Vec<usize>,
}

impl Layout {
    /// `first_only`: whether the last node (the formula) is read at position 0 only. Atoms
    /// read in place take no room.
    fn new(nodes: &[Node], n: usize, first_only: bool, atoms: &Atoms) -> Layout {
        let in_place = matches!(atoms, Atoms::InPlace(_));
        // Read at every position (`Some(true)`), at position 0 only (`Some(false)`), or not at
        // all. Parents come after their children, so walking down from the root sees every
        // parent of a node before the node.
        let mut every: Vec<Option<bool>> = vec![None; nodes.len()];
        if let Some(root) = every.last_mut() {
            *root = Some(!first_only);
        }
        let mut lens = vec![n; nodes.len()];
        for (j, node) in nodes.iter().enumerate().rev() {
            let all = every[j] != Some(false);
            let unbounded = !node.windowed();
            let (one_position, child_all) = match node.op {
                Op::True | Op::False | Op::Atom => (!all, false),
                Op::Not | Op::And | Op::Or | Op::Implies | Op::Iff => (!all, all),
                Op::Eventually | Op::Always if unbounded => (!all, true),
                _ => (false, true),
            };
            if node.op == Op::Atom && in_place {
                lens[j] = 0;
            } else if one_position {
                lens[j] = 1;
            }
            for c in node.children() {
                if let Some(e) = every.get_mut(c as usize).filter(|_| (c as usize) < j) {
                    *e = Some((*e).unwrap_or(false) || child_all);
                }
            }
        }
        let mut at = Vec::with_capacity(nodes.len() + 1);
        at.push(0);
        for len in lens {
            at.push(at.last().copied().unwrap_or(0) + len);
        }
        Layout { n, at }
    }
}

/// The language's max (`MAX`) or min of the non-empty `xs` (NaN if any is NaN; +0.0 above
/// −0.0), in one pass of four independent lanes: the order of a max or a min does not change
/// its value.
fn extreme<const MAX: bool>(xs: &[f64]) -> f64 {
    let better = |x: f64, acc: f64| if MAX { x > acc } else { x < acc };
    let start = if MAX {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let mut acc = [start; 4];
    let mut nan = [false; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..4 {
            nan[l] |= c[l].is_nan();
            if better(c[l], acc[l]) {
                acc[l] = c[l];
            }
        }
    }
    for &x in rest {
        nan[0] |= x.is_nan();
        if better(x, acc[0]) {
            acc[0] = x;
        }
    }
    if nan.iter().any(|&b| b) {
        return f64::NAN;
    }
    let best = acc
        .into_iter()
        .fold(start, |b, x| if better(x, b) { x } else { b });
    if best == 0.0 {
        // Both zeros compare equal: the wanted one is there if any element has its sign.
        let wanted = if MAX { 0.0f64 } else { -0.0f64 };
        if xs.iter().any(|x| x.to_bits() == wanted.to_bits()) {
            return wanted;
        }
        return -wanted;
    }
    best
}

/// Evaluates every node into `vals`, node `j`'s values at `vals[at[j]..]`: `n` of them, one per
/// position, or just position 0's when `at[j + 1] - at[j] == 1` (see [`Layout`]).
fn evaluate_into(nodes: &[Node], layout: &Layout, atoms: &Atoms, vals: &mut Vec<f64>) {
    let (n, at) = (layout.n, &layout.at);
    let inf = f64::INFINITY;
    // Not cleared: every node writes each of its positions (a buffer kept across rows would
    // otherwise be zeroed for nothing, a long trace's table at every row).
    vals.resize(at[nodes.len()], 0.0);
    if n == 0 {
        return;
    }
    for (j, node) in nodes.iter().enumerate() {
        let (done, rest) = vals.split_at_mut(at[j]);
        let out = &mut rest[..at[j + 1] - at[j]];
        // A child is read at every position `out` has (it has at least those: see `Layout`).
        let child = |c: u32| atoms.node(nodes, at, done, c as usize);
        match node.op {
            Op::True => out.fill(inf),
            Op::False => out.fill(-inf),
            Op::Atom => match atoms {
                Atoms::Fill(fill) => fill(node.a, out),
                Atoms::InPlace(_) => {}
            },
            Op::Not => {
                for (o, x) in out.iter_mut().zip(child(node.a)) {
                    *o = -x;
                }
            }
            Op::And | Op::Or | Op::Implies | Op::Iff => {
                let (a, b) = (child(node.a), child(node.b));
                for i in 0..out.len() {
                    out[i] = match node.op {
                        Op::And => fmin(a[i], b[i]),
                        Op::Or => fmax(a[i], b[i]),
                        Op::Implies => fmax(-a[i], b[i]),
                        _ => fmin(fmax(-a[i], b[i]), fmax(a[i], -b[i])),
                    };
                }
            }
            Op::Next | Op::WNext => {
                let a = child(node.a);
                out[..n - 1].copy_from_slice(&a[1..]);
                out[n - 1] = if node.op == Op::Next { -inf } else { inf };
            }
            Op::Prev | Op::WPrev => {
                let a = child(node.a);
                out[1..].copy_from_slice(&a[..n - 1]);
                out[0] = if node.op == Op::Prev { -inf } else { inf };
            }
            Op::Until | Op::Release if node.windowed() => {
                let (a, b) = (child(node.a), child(node.b));
                if node.op == Op::Until {
                    bounded_until(a, b, node.lo, node.hi, out);
                } else {
                    // φ release ψ = not (not φ until not ψ).
                    let (na, nb): (Vec<f64>, Vec<f64>) =
                        a.iter().zip(b).map(|(x, y)| (-x, -y)).unzip();
                    bounded_until(&na, &nb, node.lo, node.hi, out);
                    out.iter_mut().for_each(|x| *x = -*x);
                }
            }
            Op::Until | Op::Release => {
                let (a, b) = (child(node.a), child(node.b));
                let until = node.op == Op::Until;
                let mut next = if until { -inf } else { inf };
                for i in (0..n).rev() {
                    next = if until {
                        fmax(b[i], fmin(a[i], next))
                    } else {
                        fmin(b[i], fmax(a[i], next))
                    };
                    out[i] = next;
                }
            }
            Op::Since => {
                let (a, b) = (child(node.a), child(node.b));
                let mut prev = -inf;
                for i in 0..n {
                    prev = fmax(b[i], fmin(a[i], prev));
                    out[i] = prev;
                }
            }
            Op::Once | Op::Historically => {
                let a = child(node.a);
                let once = node.op == Op::Once;
                let mut prev = if once { -inf } else { inf };
                for i in 0..n {
                    prev = if once {
                        fmax(a[i], prev)
                    } else {
                        fmin(a[i], prev)
                    };
                    out[i] = prev;
                }
            }
            Op::Eventually | Op::Always if out.len() == 1 && n > 1 => {
                out[0] = if node.op == Op::Eventually {
                    extreme::<true>(child(node.a))
                } else {
                    extreme::<false>(child(node.a))
                };
            }
            Op::Eventually | Op::Always => {
                let a = child(node.a);
                let max = node.op == Op::Eventually;
                if !node.windowed() {
                    let mut next = if max { -inf } else { inf };
                    for i in (0..n).rev() {
                        next = if max {
                            fmax(a[i], next)
                        } else {
                            fmin(a[i], next)
                        };
                        out[i] = next;
                    }
                } else {
                    sliding(a, node.lo, node.hi, max, out);
                }
            }
        }
    }
}

/// `φ until[lo, hi] ψ` at every position: `out[i]` = max over `j` in `[i+lo, i+hi]` inside the
/// trace of min(ψ at j, min of φ over `[i, j)`); −∞ when no such `j` exists; NaN when a NaN is
/// among the values that definition reads.
///
/// In O(n log² n) whatever the width: the min of φ over `[i, i+lo)` is a sliding window, and
/// for the rest, `V(m)` = max over `j` in `[m, m+hi−lo]` of min(ψ_j, P(m, j)) with
/// P(m, j) = min of φ over `[m, j)`, computed for m from the end down. A candidate `j2` whose ψ
/// is at most that of a smaller `j1` in the window never wins again (P only shrinks with `j`,
/// and `j2` leaves the window first), so the candidates, smallest `j` first, have increasing ψ
/// and non-increasing P: the best is where ψ crosses P, found by binary search, with P read
/// off the running record lows of φ (also by binary search).
fn bounded_until(phi: &[f64], psi: &[f64], lo: u32, hi: u32, out: &mut [f64]) {
    let n = phi.len();
    let count_nan = |xs: &[f64]| {
        let mut prefix = Vec::with_capacity(xs.len() + 1);
        prefix.push(0usize);
        for x in xs {
            prefix.push(prefix.last().copied().unwrap_or(0) + usize::from(x.is_nan()));
        }
        prefix
    };
    let (phi_nan, psi_nan) = (count_nan(phi), count_nan(psi));
    // NaN-free copies: a value that reads a NaN is NaN whatever the search finds.
    let clean = |xs: &[f64]| -> Vec<f64> {
        xs.iter()
            .map(|&x| if x.is_nan() { 0.0 } else { x })
            .collect()
    };
    let (phi_c, psi_c) = (clean(phi), clean(psi));
    let width = (hi - lo) as u64;
    let mut v = vec![f64::NEG_INFINITY; n];
    // Record lows of φ from m rightwards: positions decreasing along the vector, the last one m.
    let mut records: Vec<usize> = Vec::new();
    let mut candidates: VecDeque<usize> = VecDeque::new();
    for m in (0..n).rev() {
        while records.last().is_some_and(|&r| phi_c[r] >= phi_c[m]) {
            records.pop();
        }
        records.push(m);
        while candidates.front().is_some_and(|&f| psi_c[f] <= psi_c[m]) {
            candidates.pop_front();
        }
        candidates.push_front(m);
        while candidates
            .back()
            .is_some_and(|&b| b as u64 > m as u64 + width)
        {
            candidates.pop_back();
        }
        // P(m, j): φ at the record low with the largest position below j (+∞ for j = m).
        let p = |j: usize| {
            if j == m {
                return f64::INFINITY;
            }
            let k = records.partition_point(|&r| r > j - 1);
            phi_c[records[k]]
        };
        let k = candidates.len();
        let first_crossing = {
            let (mut a, mut b) = (0, k);
            while a < b {
                let mid = (a + b) / 2;
                let j = candidates[mid];
                if psi_c[j] >= p(j) {
                    b = mid;
                } else {
                    a = mid + 1;
                }
            }
            a
        };
        let mut best = f64::NEG_INFINITY;
        if first_crossing < k {
            best = best.max(p(candidates[first_crossing]));
        }
        if first_crossing > 0 {
            best = best.max(psi_c[candidates[first_crossing - 1]]);
        }
        v[m] = best;
    }
    let window_min = {
        let mut w = vec![f64::INFINITY; n];
        if lo > 0 {
            sliding(&phi_c, 0, lo - 1, false, &mut w);
        }
        w
    };
    for i in 0..n {
        let start = i as u64 + lo as u64;
        if start >= n as u64 {
            out[i] = f64::NEG_INFINITY;
            continue;
        }
        let start = start as usize;
        let end = (i as u64 + hi as u64).min(n as u64 - 1) as usize;
        let reads_nan = psi_nan[end + 1] > psi_nan[start] || phi_nan[end] > phi_nan[i];
        out[i] = if reads_nan {
            f64::NAN
        } else {
            window_min[i].min(v[start])
        };
    }
}

/// `out[i]` = max (or min) of `a` over positions `i+lo ..= i+hi` inside the trace (−∞ for max,
/// +∞ for min when no position is inside), NaN when a NaN is among them, in O(n) whatever the
/// width (van Herk / Gil–Werman): the trace, padded past its end with the empty value, is cut
/// into blocks of the window's width; a window covers the end of one block and the start of
/// the next, so its extreme is that of a suffix and a prefix, each computed once. The
/// language's max and min are associative and commutative (NaN absorbs, +0.0 is above −0.0),
/// so any grouping gives the same bits.
fn sliding(a: &[f64], lo: u32, hi: u32, max: bool, out: &mut [f64]) {
    let n = a.len();
    let empty = if max {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let pick = |x: f64, y: f64| if max { fmax(x, y) } else { fmin(x, y) };
    let lo = lo as usize;
    let width = (hi as usize).saturating_sub(lo).saturating_add(1);
    if width >= n {
        // Every window runs to the end of the trace: a suffix.
        let mut suffix = vec![empty; n + 1];
        for j in (0..n).rev() {
            suffix[j] = pick(a[j], suffix[j + 1]);
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = suffix[i.saturating_add(lo).min(n)];
        }
        return;
    }
    // The empty value is the identity of `pick`: padding changes no window inside the trace.
    let m = n + width;
    let padded = |j: usize| if j < n { a[j] } else { empty };
    let mut prefix = vec![empty; m];
    let mut suffix = vec![empty; m];
    for start in (0..m).step_by(width) {
        let end = (start + width).min(m);
        let mut acc = empty;
        for (j, p) in prefix[start..end].iter_mut().enumerate() {
            acc = pick(acc, padded(start + j));
            *p = acc;
        }
        let mut acc = empty;
        for (j, q) in suffix[start..end].iter_mut().enumerate().rev() {
            acc = pick(padded(start + j), acc);
            *q = acc;
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        let s = i.saturating_add(lo);
        *o = if s >= n {
            empty
        } else {
            pick(suffix[s], prefix[s + width - 1])
        };
    }
}

fn record(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::Record(f) => Ok(f),
        _ => Err("internal error: bad LTL table".into()),
    }
}

fn empty_trace(name: &str) -> String {
    format!("ltl `{name}`: the trace is empty (LTLf is defined on non-empty traces)")
}

/// `sat(φ)`: the formula at position 0, from per-step atom bitmasks.
pub fn sat(table: &Value, masks: &Value) -> Result<Value, String> {
    let t = record(table)?;
    let nodes = crate::tables::decoded(table, |t| decode_nodes(&record(t)?[1]))?;
    let masks = masks.scalars();
    if masks.is_empty() {
        return Err(empty_trace(t[0].as_text()));
    }
    let inf = f64::INFINITY;
    let holds = |x: i64, k: u32| {
        if x as u64 & (1u64 << k) != 0 {
            inf
        } else {
            -inf
        }
    };
    let root = evaluate_root(
        &nodes,
        masks.len(),
        &Atoms::Fill(&|k, out| match masks {
            Scalars::Ints(m) => {
                for (o, &x) in out.iter_mut().zip(m) {
                    *o = holds(x, k);
                }
            }
            other => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = holds(other.int(i), k);
                }
            }
        }),
    );
    Ok(Value::Bool(root > 0.0))
}

/// `robustness(φ)`: the quantitative value at position 0, from per-atom robustness lists
/// (`atoms[k][i]`).
pub fn robustness(table: &Value, atoms: &[Value]) -> Result<Value, String> {
    let t = record(table)?;
    let nodes = crate::tables::decoded(table, |t| decode_nodes(&record(t)?[1]))?;
    let rows: Vec<Scalars> = atoms.iter().map(Value::scalars).collect();
    let n = rows.first().map_or(0, |r| r.len());
    if n == 0 {
        return Err(empty_trace(t[0].as_text()));
    }
    // Arrays of floats, one per atom and all of the trace's length (as compiled code collects
    // them), are read where they are.
    let arrays: Option<Vec<&[f64]>> = rows
        .iter()
        .map(|r| match r {
            Scalars::Floats(v) if v.len() == n => Some(*v),
            _ => None,
        })
        .collect();
    let fill = |k: u32, out: &mut [f64]| match rows[k as usize] {
        Scalars::Floats(v) => out.copy_from_slice(&v[..out.len()]),
        other => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = other.f64(i);
            }
        }
    };
    let root = match &arrays {
        Some(arrays) => evaluate_root(&nodes, n, &Atoms::InPlace(arrays)),
        None => evaluate_root(&nodes, n, &Atoms::Fill(&fill)),
    };
    Ok(Value::Float(root))
}

/// The transitions of an automaton: per state, a reduced, ordered decision diagram over the
/// atoms whose leaves are the next states. Diagram nodes are shared between states.
///
/// A *child* is a decision node when `>= 0` (an index into `nodes`) and the state `-1 - child`
/// when negative. A node `[atom, lo, hi]` goes to `hi` when the atom holds on the step, else to
/// `lo`; its children are leaves or nodes with smaller indices, so every walk ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transitions {
    /// Per state, the child that reading a step starts from.
    pub roots: Vec<i64>,
    pub nodes: Vec<[i64; 3]>,
}

/// The child that stands for state `q`.
pub fn leaf(q: usize) -> i64 {
    -1 - q as i64
}

impl Transitions {
    /// The state after `q` on a step whose atoms are the bits of `mask`. Allocation-free.
    #[inline]
    pub fn next(&self, q: usize, mask: u64) -> usize {
        let mut c = self.roots[q];
        while c >= 0 {
            let [atom, lo, hi] = self.nodes[c as usize];
            c = if (mask >> atom) & 1 != 0 { hi } else { lo };
        }
        (-1 - c) as usize
    }

    /// The distinct states `q` can go to, in diagram order (false branch first).
    pub fn successors(&self, q: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![self.roots[q]];
        while let Some(c) = stack.pop() {
            if !seen.insert(c) {
                continue;
            }
            if c < 0 {
                out.push((-1 - c) as usize);
            } else {
                let [_, lo, hi] = self.nodes[c as usize];
                stack.push(hi);
                stack.push(lo);
            }
        }
        out
    }

    /// The two lists of the table: roots, and the nodes flattened three ints each.
    pub fn encode(&self) -> (Value, Value) {
        let roots = self.roots.iter().map(|&r| Value::Int(r)).collect();
        let nodes = self
            .nodes
            .iter()
            .flatten()
            .map(|&x| Value::Int(x))
            .collect();
        (Value::List(roots), Value::List(nodes))
    }

    /// Decodes and validates (every child in range, nodes pointing only to earlier nodes, atoms
    /// below 64), so that a walk can neither index out of bounds nor loop.
    pub fn decode(roots: &Value, nodes: &Value, states: usize) -> Result<Transitions, String> {
        let bad = || "internal error: bad automaton diagram".to_string();
        let flat: Vec<i64> = nodes.as_list().iter().map(Value::as_int).collect();
        if !flat.len().is_multiple_of(3) {
            return Err(bad());
        }
        let child_ok = |c: i64, below: usize| {
            if c >= 0 {
                (c as usize) < below
            } else {
                ((-1 - c) as usize) < states
            }
        };
        let mut out = Transitions::default();
        for (i, n) in flat.chunks_exact(3).enumerate() {
            if !(0..64).contains(&n[0]) || !child_ok(n[1], i) || !child_ok(n[2], i) {
                return Err(bad());
            }
            out.nodes.push([n[0], n[1], n[2]]);
        }
        for r in roots.as_list().iter() {
            let r = r.as_int();
            if !child_ok(r, out.nodes.len()) {
                return Err(bad());
            }
            out.roots.push(r);
        }
        if out.roots.len() != states {
            return Err(bad());
        }
        Ok(out)
    }
}

/// An automaton with its rewards, decoded from the table.
#[derive(Clone, Debug)]
pub struct Automaton {
    pub name: String,
    pub start: usize,
    pub trans: Transitions,
    pub accepting: Vec<bool>,
    /// Per state: `UNDECIDED`, `SATISFIED` or `VIOLATED`.
    pub verdict: Vec<i64>,
    /// Paid on each step where the steps so far come to satisfy the formula.
    pub reward: f64,
    pub gamma: f64,
    /// Shaping potentials per state (empty: no shaping).
    pub potentials: Vec<f64>,
}

pub const UNDECIDED: i64 = 0;
pub const SATISFIED: i64 = 1;
pub const VIOLATED: i64 = 2;

/// Where a run of an automaton is.
#[derive(Clone, Debug)]
pub struct AutomatonRun {
    pub state: usize,
    pub accepting: bool,
    /// The step at which the verdict became final.
    pub done: Option<usize>,
}

impl Automaton {
    pub fn decode(table: &Value) -> Result<Automaton, String> {
        let t = record(table)?;
        let d = record(&t[2])?;
        let accepting: Vec<bool> = d[3].as_list().iter().map(Value::as_bool).collect();
        let verdict: Vec<i64> = d[4].as_list().iter().map(Value::as_int).collect();
        let states = accepting.len();
        let start = d[0].as_int() as usize;
        let potentials: Vec<f64> = t[5].as_list().iter().map(Value::as_f64).collect();
        if start >= states
            || verdict.len() != states
            || !(potentials.is_empty() || potentials.len() == states)
        {
            return Err("internal error: bad automaton table".into());
        }
        Ok(Automaton {
            name: t[0].as_text().to_string(),
            start,
            trans: Transitions::decode(&d[1], &d[2], states)?,
            accepting,
            verdict,
            reward: t[3].as_f64(),
            gamma: t[4].as_f64(),
            potentials,
        })
    }

    /// The table's `dfa` record for these parts (the inverse of the `dfa` half of [`decode`]).
    ///
    /// [`decode`]: Automaton::decode
    pub fn encode_dfa(
        start: usize,
        trans: &Transitions,
        accepting: &[bool],
        verdict: &[i64],
    ) -> Value {
        let (roots, nodes) = trans.encode();
        Value::Record(Arc::from(vec![
            Value::Int(start as i64),
            roots,
            nodes,
            Value::List(accepting.iter().map(|&a| Value::Bool(a)).collect()),
            Value::List(verdict.iter().map(|&v| Value::Int(v)).collect()),
        ]))
    }

    pub fn start(&self) -> AutomatonRun {
        AutomatonRun {
            state: self.start,
            accepting: false,
            done: None,
        }
    }

    /// Reads step number `step` (atom k holds when bit k of `mask` is set) and returns its
    /// reward: `reward` when the steps so far come to satisfy the formula, plus the shaping
    /// `γΦ(q′) − Φ(q)` (Φ = 0 once the verdict is final); 0 after the run is done.
    /// Allocation-free.
    pub fn step(&self, run: &mut AutomatonRun, step: usize, mask: u64) -> f64 {
        if run.done.is_some() {
            return 0.0;
        }
        let next = self.trans.next(run.state, mask);
        let accepting = self.accepting[next];
        let finished = self.verdict[next] != UNDECIDED;
        let mut r = if accepting && !run.accepting {
            self.reward
        } else {
            0.0
        };
        if !self.potentials.is_empty() {
            let after = if finished { 0.0 } else { self.potentials[next] };
            r += self.gamma * after - self.potentials[run.state];
        }
        if finished {
            run.done = Some(step);
        }
        run.accepting = accepting;
        run.state = next;
        r
    }

    pub fn verdict(&self, run: &AutomatonRun) -> i64 {
        self.verdict[run.state]
    }

    /// The automaton's run over steps of `atoms` atoms as a dense [`StepTable`], for compiled
    /// code that runs it in its own loop instead of calling [`run`]; `None` when it has more
    /// than [`StepTable::MAX_DENSE`] transitions. Each transition is [`Automaton::step`]'s
    /// own, so the loop takes the steps and earns the rewards [`run`] does. State number `q`
    /// is the automaton's state `q`, where the steps so far are accepted when `q` accepts; when
    /// the start state accepts, one more state stands for it before any step (when nothing is
    /// accepted yet, so that the first step into acceptance earns the reward).
    pub fn step_table(&self, atoms: usize) -> Option<StepTable> {
        let states = self.accepting.len();
        let fresh_start = self.accepting[self.start];
        let rows = states + usize::from(fresh_start);
        let start = if fresh_start { states } else { self.start };
        let names = (0..rows)
            .map(|q| state_name(if q < states { q } else { self.start }))
            .collect();
        StepTable::dense(start, rows, valuations(atoms)?, names, |q, mask| {
            // Mid-run in state `q`, or before the first step.
            let mut run = if q < states {
                AutomatonRun {
                    state: q,
                    accepting: self.accepting[q],
                    done: None,
                }
            } else {
                self.start()
            };
            let reward = self.step(&mut run, 0, mask);
            Some(Transition {
                to: run.state,
                taken: run.state as i64,
                ends: run.done.is_some(),
                reward,
            })
        })
    }

    /// The automaton's walk for [`verdicts`] as a dense [`StepTable`] over steps of `atoms`
    /// atoms: from each state on each valuation, the state [`Transitions::next`] goes to, and
    /// no step ends the walk. Each state is named by its verdict, so the states a walk goes
    /// through name the verdicts per step.
    pub fn verdict_table(&self, atoms: usize) -> Option<StepTable> {
        let names = self
            .verdict
            .iter()
            .map(|&v| verdict_name(v).to_string())
            .collect();
        let states = self.accepting.len();
        StepTable::dense(self.start, states, valuations(atoms)?, names, |q, mask| {
            let to = self.trans.next(q, mask);
            Some(Transition {
                to,
                taken: to as i64,
                ends: false,
                reward: 0.0,
            })
        })
    }
}

/// The valuations of `atoms` atoms (`None` past 63).
fn valuations(atoms: usize) -> Option<usize> {
    1usize.checked_shl(u32::try_from(atoms).ok()?)
}

/// The name a run record gives the automaton's state `q`.
fn state_name(q: usize) -> String {
    format!("q{q}")
}

pub fn verdict_name(v: i64) -> &'static str {
    match v {
        SATISFIED => "satisfied",
        VIOLATED => "violated",
        _ => "undecided",
    }
}

/// Per step, the verdict of an online monitor that has read the steps so far: `satisfied` when
/// every continuation (ending now included) satisfies the formula, `violated` when none does.
pub fn verdicts(table: &Value, masks: &[Value]) -> Result<Value, String> {
    let t = record(table)?;
    if masks.is_empty() {
        return Err(empty_trace(t[0].as_text()));
    }
    let dfa = crate::tables::decoded(table, Automaton::decode)?;
    let mut q = dfa.start;
    let mut out = Vec::with_capacity(masks.len());
    for m in masks {
        q = dfa.trans.next(q, m.as_int() as u64);
        out.push(Value::text(verdict_name(dfa.verdict[q])));
    }
    Ok(Value::List(out.into()))
}

/// Rewards from the automaton, as a machine run record (see `machine::run`): `reward` on each
/// step where the steps so far come to satisfy the formula (they did not before), plus the
/// shaping `γΦ(q′) − Φ(q)` when potentials are given; the run is done at the first step whose
/// verdict is final (satisfied or violated), and later steps pay 0.
pub fn run(table: &Value, masks: &[Value]) -> Result<Value, String> {
    let t = record(table)?;
    if masks.is_empty() {
        return Err(empty_trace(t[0].as_text()));
    }
    let dfa = crate::tables::decoded(table, Automaton::decode)?;
    let mut run = dfa.start();
    let mut rewards = Vec::with_capacity(masks.len());
    let mut taken = Vec::with_capacity(masks.len());
    let mut total = 0.0;
    for (i, m) in masks.iter().enumerate() {
        let was_done = run.done.is_some();
        let r = dfa.step(&mut run, i, m.as_int() as u64);
        total += r;
        rewards.push(Value::Float(r));
        taken.push(Value::Int(if was_done { -1 } else { run.state as i64 }));
    }
    Ok(Value::Record(Arc::from(vec![
        Value::Float(total),
        Value::List(rewards.into()),
        run.done.map_or(Value::None, |s| Value::Int(s as i64)),
        Value::text(&state_name(run.state)),
        Value::List(taken.into()),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Lookup;

    /// A random automaton over `atoms` atoms: each state's diagram tests two atoms; states
    /// accept, are final and have potentials at random (the start accepting too).
    fn random_automaton(next: &mut impl FnMut(usize) -> usize, atoms: usize) -> Value {
        let states = 1 + next(5);
        let (mut roots, mut nodes) = (Vec::new(), Vec::new());
        for _ in 0..states {
            let first = nodes.len() as i64;
            nodes.push([next(atoms) as i64, leaf(next(states)), leaf(next(states))]);
            nodes.push([next(atoms) as i64, first, leaf(next(states))]);
            roots.push(first + 1);
        }
        let trans = Transitions { roots, nodes };
        let accepting: Vec<bool> = (0..states).map(|_| next(2) == 0).collect();
        let verdict: Vec<i64> = (0..states).map(|_| next(3) as i64).collect();
        let start = next(states);
        let dfa = Automaton::encode_dfa(start, &trans, &accepting, &verdict);
        let potentials: Vec<Value> = match next(2) {
            0 => Vec::new(),
            _ => (0..states)
                .map(|_| Value::Float([0.0, -0.0, -1.5, 2.0][next(4)]))
                .collect(),
        };
        let reward = [1.0, -0.5, 0.0, -0.0][next(4)];
        Value::Record(Arc::from(vec![
            Value::text("f"),
            Value::List(Vec::new().into()),
            dfa,
            Value::Float(reward),
            Value::Float(0.9),
            Value::List(potentials.into()),
        ]))
    }

    /// The run record of the steps `masks` walked through `t` as compiled code walks it:
    /// one load per step, the later steps 0 once the run is done.
    fn run_by_table(t: &StepTable, masks: &[u64]) -> Value {
        let valuations = match t.lookup {
            Lookup::Dense { valuations } => valuations as i64,
            Lookup::FirstEdge { .. } => unreachable!("an automaton's table is dense"),
        };
        let (mut held, mut total, mut done) = (t.start, 0.0, None);
        let mut rewards = vec![Value::Float(0.0); masks.len()];
        let mut taken = vec![Value::Int(-1); masks.len()];
        for (i, &m) in masks.iter().enumerate() {
            let at = (held + m as i64) as usize;
            let packed = t.packed[at];
            rewards[i] = Value::Float(t.rewards[at]);
            taken[i] = Value::Int(StepTable::taken(packed));
            total += t.rewards[at];
            held = StepTable::to(packed);
            if packed & StepTable::ENDS != 0 {
                done = Some(i);
                break;
            }
        }
        let state = &t.state_names[(held / valuations) as usize];
        crate::machine::run_record(
            total,
            Value::List(rewards.into()),
            done,
            state,
            Value::List(taken.into()),
        )
    }

    #[test]
    fn an_automatons_step_tables_walk_as_its_run_and_its_verdicts() {
        let mut next = crate::test_rng(0x5eed_0fa0_7ab1);
        let (mut fresh_starts, mut compared) = (0, 0);
        for _ in 0..400 {
            let atoms = 1 + next(3);
            let table = random_automaton(&mut next, atoms);
            let dfa = Automaton::decode(&table).expect("a valid automaton");
            let t = dfa.step_table(atoms).expect("a small table");
            fresh_starts += usize::from(dfa.accepting[dfa.start]);
            for _ in 0..5 {
                let n = 1 + next(12);
                let masks: Vec<u64> = (0..n).map(|_| next(1 << atoms) as u64).collect();
                let values: Vec<Value> = masks.iter().map(|&m| Value::Int(m as i64)).collect();
                let want = run(&table, &values).expect("a run");
                let got = run_by_table(&t, &masks);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "masks {masks:?}\n{dfa:?}"
                );
                // The verdicts: the names of the states the walk goes through.
                let v = dfa.verdict_table(atoms).expect("a small table");
                let Value::Record(walk) = run_by_table(&v, &masks) else {
                    panic!("a run record")
                };
                let names: Vec<Value> = walk[4]
                    .as_list()
                    .iter()
                    .map(|q| Value::text(&v.state_names[q.as_int() as usize]))
                    .collect();
                let want = verdicts(&table, &values).expect("verdicts");
                assert_eq!(
                    format!("{names:?}"),
                    format!("{:?}", want.as_list()),
                    "{masks:?}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 2000);
        assert!(
            fresh_starts > 100,
            "{fresh_starts} automata start accepting"
        );
    }

    fn naive(a: &[f64], lo: u32, hi: u32, max: bool) -> Vec<f64> {
        let n = a.len();
        (0..n)
            .map(|i| {
                let mut acc = if max {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
                for (j, &x) in a.iter().enumerate() {
                    if j >= i + lo as usize && (j as u64) <= i as u64 + hi as u64 {
                        acc = if max { fmax(acc, x) } else { fmin(acc, x) };
                    }
                }
                acc
            })
            .collect()
    }

    /// `φ until[lo, hi] ψ` straight from its definition, O(n · width).
    fn naive_until(phi: &[f64], psi: &[f64], lo: u32, hi: u32) -> Vec<f64> {
        let n = phi.len();
        (0..n)
            .map(|i| {
                let mut best = f64::NEG_INFINITY;
                let mut any_nan = false;
                for j in i + lo as usize..n.min(i.saturating_add(hi as usize).saturating_add(1)) {
                    let mut v = psi[j];
                    for &x in &phi[i..j] {
                        any_nan |= x.is_nan();
                        v = v.min(x);
                    }
                    any_nan |= psi[j].is_nan();
                    best = best.max(v);
                }
                if any_nan {
                    f64::NAN
                } else {
                    best
                }
            })
            .collect()
    }

    #[test]
    fn bounded_until_equals_the_definition() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let value = |r: u64| match r % 14 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            k => (k as f64) - 8.0,
        };
        for _ in 0..3000 {
            let n = (rand() % 24 + 1) as usize;
            let nan_free = rand() % 3 != 0;
            let mut gen = |_| {
                let v = value(rand());
                if nan_free && v.is_nan() {
                    1.5
                } else {
                    v
                }
            };
            let phi: Vec<f64> = (0..n).map(&mut gen).collect();
            let psi: Vec<f64> = (0..n).map(&mut gen).collect();
            let lo = (rand() % 6) as u32;
            let hi = if rand() % 4 == 0 {
                UNBOUNDED - 1
            } else {
                lo + (rand() % 9) as u32
            };
            let mut out = vec![0.0; n];
            bounded_until(&phi, &psi, lo, hi, &mut out);
            let want = naive_until(&phi, &psi, lo, hi);
            for i in 0..n {
                let same = (out[i].is_nan() && want[i].is_nan()) || out[i] == want[i];
                assert!(
                    same,
                    "phi={phi:?} psi={psi:?} [{lo},{hi}] i={i}: {} vs {}",
                    out[i], want[i]
                );
            }
        }
    }

    #[test]
    fn sliding_window_equals_the_definition() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let n = (rand() % 20 + 1) as usize;
            let a: Vec<f64> = (0..n)
                .map(|_| match rand() % 12 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => f64::INFINITY,
                    k => (k as f64) - 7.0,
                })
                .collect();
            let lo = (rand() % 6) as u32;
            let hi = if rand() % 5 == 0 {
                UNBOUNDED - 1
            } else {
                lo + (rand() % 8) as u32
            };
            for max in [true, false] {
                let mut out = vec![0.0; n];
                sliding(&a, lo, hi, max, &mut out);
                let want = naive(&a, lo, hi, max);
                for i in 0..n {
                    assert_eq!(
                        out[i].to_bits(),
                        want[i].to_bits(),
                        "a={a:?} lo={lo} hi={hi} max={max} i={i}: {} vs {}",
                        out[i],
                        want[i]
                    );
                }
            }
        }
    }

    /// The formula at position 0 as [`evaluate_root`] computes it (a value only where a parent
    /// reads it, extremes in one pass) is, bit for bit, position 0 of the full table. The
    /// node lists are random DAGs (a node may be read by several parents, some at step 0
    /// only, some at every step), which `tests/common/random_formulas.rs`'s trees are not.
    #[test]
    fn the_root_alone_equals_position_0_of_the_full_table_atoms_copied_or_in_place() {
        let mut next = crate::test_rng(0x243f_6a88_85a3_08d3);
        use Op::*;
        let ops = [
            True,
            False,
            Not,
            And,
            Or,
            Implies,
            Iff,
            Next,
            WNext,
            Until,
            Release,
            Eventually,
            Always,
            Prev,
            WPrev,
            Since,
            Once,
            Historically,
        ];
        for _ in 0..4000 {
            let atoms = next(3) as u32 + 1;
            let mut nodes: Vec<Node> = (0..atoms).map(|k| Node::new(Atom, k, 0)).collect();
            for _ in 0..next(8) {
                let j = nodes.len();
                let op = ops[next(ops.len())];
                let mut node = Node::new(op, next(j) as u32, next(j) as u32);
                if matches!(op, Eventually | Always) && next(3) == 0 {
                    node.lo = next(3) as u32;
                    node.hi = node.lo + next(4) as u32;
                }
                nodes.push(node);
            }
            let n = next(12) + 1;
            let values: Vec<f64> = (0..atoms as usize * n)
                .map(|_| match next(10) {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => f64::INFINITY,
                    4 => f64::NEG_INFINITY,
                    k => (k as f64) - 7.0,
                })
                .collect();
            let table = evaluate_all(&nodes, n, &|k, i| values[k as usize * n + i]);
            let fill = |k: u32, out: &mut [f64]| {
                let k = k as usize;
                out.copy_from_slice(&values[k * n..k * n + out.len()]);
            };
            let root = evaluate_root(&nodes, n, &Atoms::Fill(&fill));
            let want = table[(nodes.len() - 1) * n];
            assert_eq!(root.to_bits(), want.to_bits(), "{nodes:?} on {values:?}");
            // The atoms read where they are, not copied into the table.
            let arrays: Vec<&[f64]> = values.chunks(n).collect();
            let in_place = evaluate_root(&nodes, n, &Atoms::InPlace(&arrays));
            assert_eq!(
                in_place.to_bits(),
                want.to_bits(),
                "{nodes:?} on {values:?}"
            );
        }
    }
}
