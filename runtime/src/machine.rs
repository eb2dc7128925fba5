//! Running a reward machine over a trace. The compiler evaluates every edge's guard on every
//! step (a bitmask per step, bit i for edge i) and passes the machine as a table; this function
//! is the whole transition semantics, shared by every engine.

use std::sync::Arc;

use crate::Value;

/// What happens on a step where no edge of the current state matches.
pub const OTHERWISE_STAY: i64 = 0;
pub const OTHERWISE_END: i64 = 1;
pub const OTHERWISE_ERROR: i64 = 2;

/// `table` is the record the compiler builds:
/// `{name: text, states: list[text], start: int, terminal: list[bool],
///   edges: list[{from: int, to: int, reward: float}], otherwise: list[int] (per state),
///   gamma: float, potentials: list[float]}`.
/// With potentials (one per state), every step until the machine ends also earns the
/// shaping term `γΦ(u′) − Φ(u)`, with `Φ = 0` once the machine has ended.
/// Edges are in priority order (the first edge whose guard holds is taken; without
/// `order: first` the compiler proved at most one can hold).
///
/// Returns `{total: float, rewards: list[float], done: int?, state: text, taken: list[int]}`:
/// the per-step rewards (0 after the machine ended), their sum (left to right), the step at
/// which the machine ended (entered a terminal state, or `otherwise: end`), the final state,
/// and per step the index of the edge taken (-1 for none).
pub fn run(table: &Value, masks: &[Value]) -> Result<Value, String> {
    let Value::Record(t) = table else {
        return Err("internal error: bad machine table".into());
    };
    let name = t[0].as_text();
    let states: Vec<&str> = t[1].as_list().iter().map(Value::as_text).collect();
    let terminal: Vec<bool> = t[3].as_list().iter().map(Value::as_bool).collect();
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
    let otherwise: Vec<i64> = t[5].as_list().iter().map(Value::as_int).collect();
    let gamma = t[6].as_f64();
    let potentials: Vec<f64> = t[7].as_list().iter().map(Value::as_f64).collect();
    let mut state = t[2].as_int() as usize;
    let mut ended: Option<usize> = None;
    let mut rewards = Vec::with_capacity(masks.len());
    let mut taken_edges = Vec::with_capacity(masks.len());
    let mut total = 0.0;
    for (step, mask) in masks.iter().enumerate() {
        if ended.is_some() {
            rewards.push(Value::Float(0.0));
            taken_edges.push(Value::Int(-1));
            continue;
        }
        let bits = mask.as_int() as u64;
        let before = state;
        let taken = edges
            .iter()
            .enumerate()
            .find(|(i, (from, _, _))| *from == state && bits & (1u64 << i) != 0);
        taken_edges.push(Value::Int(taken.map_or(-1, |(i, _)| i as i64)));
        let r = match taken {
            Some((_, &(_, to, reward))) => {
                state = to;
                if terminal.get(to).copied().unwrap_or(false) {
                    ended = Some(step);
                }
                reward
            }
            None => match otherwise.get(state).copied().unwrap_or(OTHERWISE_STAY) {
                OTHERWISE_END => {
                    ended = Some(step);
                    0.0
                }
                OTHERWISE_ERROR => {
                    return Err(format!(
                        "machine `{name}`: no edge of state `{}` matches step {step}",
                        states.get(state).copied().unwrap_or("?")
                    ))
                }
                _ => 0.0,
            },
        };
        let r = if potentials.is_empty() {
            r
        } else {
            let after = if ended.is_some() {
                0.0
            } else {
                potentials[state]
            };
            r + (gamma * after - potentials[before])
        };
        total += r;
        rewards.push(Value::Float(r));
    }
    Ok(Value::Record(Arc::from(vec![
        Value::Float(total),
        Value::List(rewards.into()),
        ended.map_or(Value::None, |s| Value::Int(s as i64)),
        Value::text(states.get(state).copied().unwrap_or("?")),
        Value::List(taken_edges.into()),
    ])))
}
