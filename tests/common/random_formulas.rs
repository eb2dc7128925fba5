//! Random LTLf formulas as node lists, for the tests of the formula semantics (tests/temporal.rs)
//! and of the automaton built from them (compiler/src/automaton.rs). Included with `#[path]`.

use reward_runtime::ltl::{Node, Op};

/// A random formula over `atoms` atoms as a node list (children first, root last).
pub fn random_formula(
    rng: &mut impl FnMut() -> u64,
    atoms: u32,
    size: u32,
    past_only: bool,
) -> Vec<Node> {
    fn go(
        rng: &mut dyn FnMut() -> u64,
        atoms: u32,
        size: u32,
        past_only: bool,
        out: &mut Vec<Node>,
    ) -> u32 {
        let push = |out: &mut Vec<Node>, n: Node| {
            out.push(n);
            out.len() as u32 - 1
        };
        if size == 0 || rng().is_multiple_of(4) {
            let n = match rng() % 10 {
                0 => Node::new(Op::True, 0, 0),
                1 => Node::new(Op::False, 0, 0),
                _ => Node::new(Op::Atom, (rng() % atoms as u64) as u32, 0),
            };
            return push(out, n);
        }
        let future = [
            Op::Next,
            Op::WNext,
            Op::Until,
            Op::Release,
            Op::Eventually,
            Op::Always,
        ];
        let past = [Op::Prev, Op::WPrev, Op::Since, Op::Once, Op::Historically];
        let boolean = [Op::Not, Op::And, Op::Or, Op::Implies, Op::Iff];
        let op = match rng() % 3 {
            0 => boolean[(rng() % 5) as usize],
            1 if !past_only => future[(rng() % 6) as usize],
            _ => past[(rng() % 5) as usize],
        };
        let binary = matches!(
            op,
            Op::And | Op::Or | Op::Implies | Op::Iff | Op::Until | Op::Release | Op::Since
        );
        // Past operators take present/past formulas only.
        let inner_past = past_only || op.is_past();
        let a = go(rng, atoms, size - 1, inner_past, out);
        let b = if binary {
            go(rng, atoms, size / 2, inner_past, out)
        } else {
            0
        };
        let mut n = Node::new(op, a, b);
        if matches!(op, Op::Eventually | Op::Always | Op::Until | Op::Release)
            && rng().is_multiple_of(2)
        {
            n.lo = (rng() % 3) as u32;
            n.hi = n.lo + (rng() % 4) as u32;
        }
        push(out, n)
    }
    let mut out = Vec::new();
    go(rng, atoms, size, past_only, &mut out);
    out
}

pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}
