//! The group stage of a `group by` spec: after every row's own terms, rows with equal keys form
//! a group; each aggregate is computed over the group's rows (in input order) and written into
//! every row of the group, then each row's group terms are computed. The one place that defines
//! what the aggregates mean, for every engine and every entry point (`reward score`, `reward
//! test`, `reward explain`).

use std::collections::HashMap;

use reward_runtime::semantics::{fmax, fmin};
use reward_runtime::Value;

use crate::backend::Backend;
use crate::interp::RuntimeError;
use crate::ir::{GroupAggKind, Program};

/// Runs the group stage over rows whose per-row terms are computed (`Ok`) or failed (`Err`,
/// left as they are: such rows are in no group).
pub fn run_groups(
    program: &Program,
    backend: &dyn Backend,
    inputs: &[Value],
    rows: &mut [Result<Vec<Value>, RuntimeError>],
) {
    let Some(group) = &program.group else {
        return;
    };
    // Groups in order of first appearance; members in input order.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if let Ok(values) = row {
            let key = key_text(&values[group.key]);
            let g = *index.entry(key).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[g].push(i);
        }
    }
    for rows_of_group in &members {
        for agg in &group.aggregates {
            let values: Vec<Value> = rows_of_group
                .iter()
                .filter_map(|&i| rows[i].as_ref().ok().map(|v| v[agg.source].clone()))
                .collect();
            match aggregate(agg.kind, &values) {
                Ok(per_row) => {
                    for (k, &i) in rows_of_group.iter().enumerate() {
                        if let Ok(v) = &mut rows[i] {
                            v[agg.slot] = per_row[k].clone();
                        }
                    }
                }
                Err(message) => {
                    let span = program.terms[agg.slot].span;
                    for &i in rows_of_group {
                        rows[i] = Err(RuntimeError {
                            message: message.clone(),
                            span,
                            term: Some(agg.slot),
                        });
                    }
                }
            }
        }
        for &i in rows_of_group {
            if let Ok(values) = &mut rows[i] {
                if let Err(e) = backend.eval_group_terms(&inputs[i], values) {
                    rows[i] = Err(e);
                }
            }
        }
    }
}

/// Keys compare by their printed form, with the type: `1` and `"1"` are different groups.
fn key_text(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("t{s}"),
        other => format!("v{other}"),
    }
}

/// The aggregate's value for each member (the same for all, except `rank`).
fn aggregate(kind: GroupAggKind, values: &[Value]) -> Result<Vec<Value>, String> {
    let n = values.len();
    let floats = || values.iter().map(Value::as_f64);
    let all_ints = values.iter().all(|v| matches!(v, Value::Int(_)));
    let same = |v: Value| Ok(vec![v; n]);
    match kind {
        GroupAggKind::Sum if all_ints => {
            let mut total: i64 = 0;
            for v in values {
                total = total
                    .checked_add(v.as_int())
                    .ok_or("integer overflow in `sum` over the group")?;
            }
            same(Value::Int(total))
        }
        GroupAggKind::Sum => same(Value::Float(floats().sum())),
        GroupAggKind::Mean => same(Value::Float(floats().sum::<f64>() / n as f64)),
        GroupAggKind::Min | GroupAggKind::Max if all_ints => {
            let it = values.iter().map(Value::as_int);
            let v = if kind == GroupAggKind::Min {
                it.min()
            } else {
                it.max()
            };
            same(Value::Int(v.unwrap_or(0)))
        }
        GroupAggKind::Min => same(Value::Float(floats().fold(f64::INFINITY, fmin))),
        GroupAggKind::Max => same(Value::Float(floats().fold(f64::NEG_INFINITY, fmax))),
        GroupAggKind::Count => same(Value::Int(
            values.iter().filter(|v| v.as_bool()).count() as i64
        )),
        GroupAggKind::Any => same(Value::Bool(values.iter().any(Value::as_bool))),
        GroupAggKind::All => same(Value::Bool(values.iter().all(Value::as_bool))),
        GroupAggKind::Std => {
            let mean = floats().sum::<f64>() / n as f64;
            let var = floats().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
            same(Value::Float(var.sqrt()))
        }
        GroupAggKind::Rank => {
            let xs: Vec<f64> = floats().collect();
            if xs.iter().any(|x| x.is_nan()) {
                return Err("`rank` over the group of a NaN value".into());
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
            let mut ranks = vec![0.0; n];
            let mut i = 0;
            while i < n {
                let mut j = i;
                while j + 1 < n && xs[order[j + 1]] == xs[order[i]] {
                    j += 1;
                }
                // Positions i..=j (0-based) share the mean of ranks i+1..=j+1.
                let shared = (i + j) as f64 / 2.0 + 1.0;
                for &k in &order[i..=j] {
                    ranks[k] = shared;
                }
                i = j + 1;
            }
            Ok(ranks.into_iter().map(Value::Float).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(xs: &[f64]) -> Vec<Value> {
        xs.iter().map(|&x| Value::Float(x)).collect()
    }

    #[test]
    fn ranks_share_ties_and_groups_of_one_are_defined() {
        let r = aggregate(GroupAggKind::Rank, &floats(&[3.0, 1.0, 3.0, 2.0])).unwrap();
        let r: Vec<f64> = r.iter().map(Value::as_f64).collect();
        assert_eq!(r, vec![3.5, 1.0, 3.5, 2.0]);
        let one = floats(&[5.0]);
        assert_eq!(aggregate(GroupAggKind::Std, &one).unwrap()[0].as_f64(), 0.0);
        assert_eq!(
            aggregate(GroupAggKind::Rank, &one).unwrap()[0].as_f64(),
            1.0
        );
        assert_eq!(
            aggregate(GroupAggKind::Mean, &one).unwrap()[0].as_f64(),
            5.0
        );
    }

    #[test]
    fn integer_sums_overflow_into_an_error() {
        let big = vec![Value::Int(i64::MAX), Value::Int(1)];
        assert!(aggregate(GroupAggKind::Sum, &big).is_err());
    }
}
