//! What people read about a compiled spec: every term of one rollout (`reward explain`) and the
//! automaton of each formula (`reward automata`).

use std::fmt::Write as _;

use reward_runtime::{Ty, Value};

use crate::api::Row;
use crate::ir::{ExprKind, LoweredKind};
use crate::scoring::{show_value, Spec};

/// Every term of `rows[index]`, with its value; `line` is the row's line number in the input.
/// The other rows are its possible group mates (a spec without `group by` reads only its row).
pub(crate) fn explain(
    spec: &Spec,
    rows: &[Row],
    index: usize,
    line: u64,
) -> Result<String, String> {
    let value = rows
        .get(index)
        .map(|r| r.value().clone())
        .ok_or_else(|| format!("there is no row {line}"))?;
    let interp = spec.interpreter();
    let mut out = String::new();
    let _ = writeln!(out, "row {line}");
    if let (Some(Ty::Record(fields)), Value::Record(values)) = (&spec.program.input, &value) {
        let _ = writeln!(out, "input:");
        for (v, f) in values.iter().zip(fields.iter()) {
            let _ = writeln!(out, "  {:<24} = {}", f.name, show_value(v, &f.ty));
        }
    }
    let result = if spec.program.group.is_some() {
        let inputs: Vec<Value> = rows.iter().map(|r| r.value().clone()).collect();
        spec.eval_batch(&interp, &inputs).swap_remove(index)
    } else {
        interp.eval_row(&value)
    };
    let values = result.map_err(|e| {
        let term = e.term.map_or(String::new(), |t| {
            let name = reward_runtime::output::reported_term(&spec.program.terms[t].name);
            format!(" while computing `{name}`")
        });
        format!(
            "line {line} could not be scored{term}: {} (at {})",
            e.message,
            spec.locate(&e)
        )
    })?;
    let _ = writeln!(out, "terms:");
    for (id, term) in spec.program.terms.iter().enumerate() {
        let marker = if term.in_breakdown {
            ""
        } else {
            "  (not in the breakdown)"
        };
        let _ = writeln!(
            out,
            "  {:<9} {:<24} = {}{marker}",
            term.kind.keyword(),
            term.name,
            show_value(&values[id], &term.ty)
        );
    }
    if let Some(score) = spec.program.score {
        let _ = writeln!(
            out,
            "score = {}",
            show_value(&values[score], &spec.program.terms[score].ty)
        );
    }
    Ok(out)
}

/// A formula's automaton, as `reward automata` reports it.
#[derive(Clone, Debug)]
pub struct AutomatonInfo {
    pub formula: String,
    pub atoms: usize,
    /// Nodes of the formula after elaboration.
    pub nodes: usize,
    /// The states of its minimal DFA, or why it has none.
    pub states: Result<usize, String>,
    /// Median build time, in milliseconds.
    pub build_ms: f64,
}

/// Each `ltl` formula's automaton, built `runs` times (the median time is reported).
pub(crate) fn automata(spec: &Spec, runs: usize) -> Vec<AutomatonInfo> {
    use reward_runtime::ltl::{atom_count, decode_nodes};
    let mut infos = Vec::new();
    for lowered in &spec.program.lowered {
        if matches!(lowered.kind, LoweredKind::Machine { .. }) {
            continue;
        }
        let term = &spec.program.terms[lowered.kind.table_term()];
        let table = match &term.body.expr.kind {
            ExprKind::Ltl(l) => Some(&l.table),
            _ => None,
        };
        let Some(Value::Record(table)) = table else {
            continue;
        };
        let name = lowered.name.clone();
        let Ok(nodes) = decode_nodes(&table[1]) else {
            continue;
        };
        let atoms = atom_count(&nodes);
        let mut times = Vec::new();
        let mut states = Err(String::new());
        for _ in 0..runs.max(1) {
            let t = std::time::Instant::now();
            let built = crate::automaton::build(&nodes, atoms);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            states = built.map(|d| d.states()).map_err(|e| e.to_string());
        }
        times.sort_by(f64::total_cmp);
        infos.push(AutomatonInfo {
            formula: name,
            atoms,
            nodes: nodes.len(),
            states,
            build_ms: times[times.len() / 2],
        });
    }
    infos
}
