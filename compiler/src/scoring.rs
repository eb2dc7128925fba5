//! Scoring rollouts with a compiled program: one JSON line in, one JSON line out.
//! Shared by `reward score`, `reward explain` and the tests.

use std::path::Path;

use reward_runtime::decode::decode_row;
use reward_runtime::driver::RowOutput;
use reward_runtime::output::{number_json, row_json, runtime_error_json, TermInfo};
use reward_runtime::{Ty, Value};
use serde_json::Map;

use crate::backend::Backend;
use crate::check::{compile, RootSource};
use crate::diag::{render, Diagnostic, SourceMap};
use crate::interp::{Interpreter, RuntimeError};
use crate::ir::{ExprKind, Program};

/// A compiled spec with its sources (for locating run-time errors).
pub struct Spec {
    pub program: Program,
    pub sources: SourceMap,
    /// Directory of the root file (its imports are relative to it); tests that set params
    /// recompile the spec from here.
    pub root_dir: std::path::PathBuf,
}

/// Why a spec did not compile: every diagnostic with the sources it points into, and the text
/// the CLI prints for them. Errors before parsing (an unreadable file) have no diagnostics.
pub struct CompileFailure {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub rendered: String,
}

impl CompileFailure {
    fn plain(message: String) -> CompileFailure {
        CompileFailure {
            sources: SourceMap::default(),
            diagnostics: Vec::new(),
            rendered: message,
        }
    }
}

/// Compiles a spec file; on failure, the structured diagnostics as well as their rendering.
pub fn compile_file_detailed(
    path: &Path,
    overrides: &[(String, String)],
) -> Result<Spec, CompileFailure> {
    let text = crate::api::read_spec(path)
        .map_err(|why| CompileFailure::plain(format!("error: {why}\n")))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    compile_source_detailed(&path.display().to_string(), &text, &dir, overrides)
}

/// Compiles spec text. Runs on a thread with a large stack so that no input can overflow it.
pub fn compile_source(
    name: &str,
    text: &str,
    dir: &Path,
    overrides: &[(String, String)],
) -> Result<Spec, String> {
    compile_source_detailed(name, text, dir, overrides).map_err(|f| f.rendered)
}

/// [`compile_source`], keeping the structured diagnostics of a failure.
pub fn compile_source_detailed(
    name: &str,
    text: &str,
    dir: &Path,
    overrides: &[(String, String)],
) -> Result<Spec, CompileFailure> {
    let root = RootSource {
        name: name.to_string(),
        text: text.to_string(),
        dir: dir.to_path_buf(),
    };
    let root_dir = dir.to_path_buf();
    let overrides = overrides.to_vec();
    let name = name.to_string();
    let result = std::thread::Builder::new()
        .stack_size(BIG_STACK)
        .spawn(move || {
            let c = compile(root, &overrides);
            match c.result {
                Ok(program) => Ok(Spec {
                    program,
                    sources: c.sources,
                    root_dir,
                }),
                Err(diags) => {
                    let n = diags.len();
                    let mut out = render(&c.sources, &diags);
                    out.push_str(&format!(
                        "error: {n} problem{} found in {name}\n",
                        if n == 1 { "" } else { "s" }
                    ));
                    Err(CompileFailure {
                        sources: c.sources,
                        diagnostics: diags,
                        rendered: out,
                    })
                }
            }
        })
        .map_err(|e| {
            CompileFailure::plain(format!("error: cannot start the compiler thread: {e}\n"))
        })?
        .join();
    result.unwrap_or_else(|_| {
        Err(CompileFailure::plain(
            "error: internal compiler error (a bug: please report it with the spec)\n".to_string(),
        ))
    })
}

impl Spec {
    pub fn interpreter(&self) -> Interpreter<'_> {
        Interpreter::new(&self.program)
    }

    pub fn input_type(&self) -> &Ty {
        static EMPTY: std::sync::OnceLock<Ty> = std::sync::OnceLock::new();
        self.program
            .input
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(|| Ty::record(Vec::new())))
    }

    /// Scores one JSON line: the output record, or an error record naming the line.
    pub fn score_line(&self, backend: &dyn Backend, line_no: u64, line: &str) -> RowOutput {
        self.score_line_with(backend, line_no, line, false)
    }

    /// Like [`Spec::score_line`]; with `steps`, the record also has `"steps": {machine: [r0, r1,
    /// …]}`, the per-step rewards of every reward machine.
    pub fn score_line_with(
        &self,
        backend: &dyn Backend,
        line_no: u64,
        line: &str,
        steps: bool,
    ) -> RowOutput {
        match decode_row(line, self.input_type()) {
            Ok(row) => self.score_value_with(backend, line_no, &row, steps),
            Err(e) => RowOutput::error(
                line_no,
                &e.message,
                (!e.path.is_empty()).then_some(e.path.as_str()),
            ),
        }
    }

    /// [`Self::score_line_with`] of a row already read (as decoding its line would give it).
    pub fn score_value_with(
        &self,
        backend: &dyn Backend,
        line_no: u64,
        row: &Value,
        steps: bool,
    ) -> RowOutput {
        match backend.eval_row(row) {
            Ok(values) if steps => RowOutput::ok(self.output_json_with_steps(&values)),
            Ok(values) => RowOutput::ok(self.output_json(&values)),
            Err(e) => RowOutput {
                json: self.runtime_error_json(line_no, &e),
                is_error: true,
            },
        }
    }

    /// Every row's term values for a batch of decoded rollouts, the group stage included
    /// (rows are scored in parallel on the current rayon pool).
    pub fn eval_batch(
        &self,
        backend: &dyn Backend,
        inputs: &[Value],
    ) -> Vec<Result<Vec<Value>, RuntimeError>> {
        use rayon::prelude::*;
        let mut rows: Vec<_> = inputs.par_iter().map(|i| backend.eval_row(i)).collect();
        crate::grouping::run_groups(&self.program, backend, inputs, &mut rows);
        rows
    }

    /// Scores a whole batch of JSON lines (`(line number, text)`), one output per line in
    /// order: what `reward score` does for a spec with a `group by` block.
    pub fn score_all(
        &self,
        backend: &dyn Backend,
        lines: &[(u64, String)],
        steps: bool,
    ) -> Vec<RowOutput> {
        use rayon::prelude::*;
        let decoded: Vec<Result<Value, RowOutput>> = lines
            .par_iter()
            .map(|(line_no, line)| {
                decode_row(line, self.input_type()).map_err(|e| {
                    RowOutput::error(
                        *line_no,
                        &e.message,
                        (!e.path.is_empty()).then_some(e.path.as_str()),
                    )
                })
            })
            .collect();
        let inputs: Vec<Value> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().cloned())
            .collect();
        let mut scored = self.eval_batch(backend, &inputs).into_iter();
        decoded
            .into_iter()
            .zip(lines)
            .map(|(d, (line_no, _))| match d {
                Err(out) => out,
                Ok(_) => match scored.next() {
                    Some(Ok(values)) if steps => {
                        RowOutput::ok(self.output_json_with_steps(&values))
                    }
                    Some(Ok(values)) => RowOutput::ok(self.output_json(&values)),
                    Some(Err(e)) => RowOutput {
                        json: self.runtime_error_json(*line_no, &e),
                        is_error: true,
                    },
                    None => RowOutput::error(*line_no, "internal error: row not scored", None),
                },
            })
            .collect()
    }

    /// What the rows of a `group by` spec keep between the per-row stage and the group stage.
    pub fn group_plan(&self, steps: bool) -> GroupPlan {
        let program = &self.program;
        let mut keep: Vec<bool> = program
            .terms
            .iter()
            .enumerate()
            .map(|(id, t)| t.in_breakdown || Some(id) == program.score)
            .collect();
        let mut reads_input = false;
        if let Some(group) = &program.group {
            keep[group.key] = true;
            for agg in &group.aggregates {
                keep[agg.source] = true;
            }
            for &id in &group.order {
                crate::interp::visit(&program.terms[id].body.expr, &mut |e| match e.kind {
                    ExprKind::Term(t) => keep[t] = true,
                    ExprKind::Input => reads_input = true,
                    _ => {}
                });
            }
        }
        if steps {
            // `--steps` reads each machine's and rewarded formula's run record.
            for lowered in &program.lowered {
                if let Some(run) = lowered.kind.run_record() {
                    keep[run] = true;
                }
            }
        }
        GroupPlan { keep, reads_input }
    }

    /// The per-row stage of a `group by` spec for one JSON line: the row's kept values, or its
    /// error record (a row whose own terms fail is in no group).
    pub fn group_first_stage(
        &self,
        backend: &dyn Backend,
        plan: &GroupPlan,
        line_no: u64,
        line: &str,
    ) -> Result<Kept, RowOutput> {
        let row = decode_row(line, self.input_type()).map_err(|e| {
            RowOutput::error(
                line_no,
                &e.message,
                (!e.path.is_empty()).then_some(e.path.as_str()),
            )
        })?;
        let mut values = backend.eval_row(&row).map_err(|e| RowOutput {
            json: self.runtime_error_json(line_no, &e),
            is_error: true,
        })?;
        for (v, keep) in values.iter_mut().zip(&plan.keep) {
            if !keep {
                *v = Value::None;
            }
        }
        Ok(Kept {
            input: if plan.reads_input { row } else { Value::None },
            values,
        })
    }

    /// The group stage over every kept row, in input order: one output per row.
    pub fn group_finish(
        &self,
        backend: &dyn Backend,
        rows: Vec<(u64, Kept)>,
        steps: bool,
    ) -> Vec<RowOutput> {
        let mut inputs = Vec::with_capacity(rows.len());
        let mut values = Vec::with_capacity(rows.len());
        let mut numbers = Vec::with_capacity(rows.len());
        for (n, kept) in rows {
            numbers.push(n);
            inputs.push(kept.input);
            values.push(Ok(kept.values));
        }
        crate::grouping::run_groups(&self.program, backend, &inputs, &mut values);
        values
            .into_iter()
            .zip(numbers)
            .map(|(r, n)| match r {
                Ok(v) if steps => RowOutput::ok(self.output_json_with_steps(&v)),
                Ok(v) => RowOutput::ok(self.output_json(&v)),
                Err(e) => RowOutput {
                    json: self.runtime_error_json(n, &e),
                    is_error: true,
                },
            })
            .collect()
    }

    /// `{"score": …, "terms": {…}}` with terms in source order.
    pub fn output_json(&self, values: &[Value]) -> String {
        let terms: Vec<TermInfo> = self
            .program
            .terms
            .iter()
            .map(|t| TermInfo {
                name: &t.name,
                in_breakdown: t.in_breakdown,
            })
            .collect();
        row_json(values, &terms, self.program.score)
    }

    fn output_json_with_steps(&self, values: &[Value]) -> String {
        let mut record: serde_json::Value =
            serde_json::from_str(&self.output_json(values)).unwrap_or_default();
        let mut streams = Map::new();
        for lowered in &self.program.lowered {
            let Some(run) = lowered.kind.run_record() else {
                continue;
            };
            if let Value::Record(run) = &values[run] {
                let rewards = run[1].as_list().iter().map(number_json).collect();
                streams.insert(lowered.name.clone(), serde_json::Value::Array(rewards));
            }
        }
        if let serde_json::Value::Object(map) = &mut record {
            map.insert("steps".into(), serde_json::Value::Object(streams));
        }
        record.to_string()
    }

    pub fn runtime_error_json(&self, line_no: u64, e: &RuntimeError) -> String {
        let term = e.term.map(|t| self.program.terms[t].name.as_str());
        runtime_error_json(line_no, &e.message, term, &self.locate(e))
    }

    /// Where a run-time error happened, for people: `file:line:col`.
    pub fn locate(&self, e: &RuntimeError) -> String {
        let (l, c) = self.sources.line_col(e.span);
        format!("{}:{l}:{c}", self.sources.name(e.span.file))
    }
}

/// Which term values the rows of a `group by` spec keep for the group stage, and whether it
/// reads the rollout itself.
pub struct GroupPlan {
    keep: Vec<bool>,
    reads_input: bool,
}

/// What one row of a `group by` spec keeps between the stages.
pub struct Kept {
    /// The rollout, or none when the group stage does not read it.
    input: Value,
    /// Term values, none for those no later stage reads.
    values: Vec<Value>,
}

/// Renders a value for people, with record field names from its type.
pub fn show_value(v: &Value, ty: &Ty) -> String {
    match (v, ty.strip_optional()) {
        (Value::Record(items), Ty::Record(fields)) => {
            let parts: Vec<String> = items
                .iter()
                .zip(fields.iter())
                .map(|(item, f)| format!("{}: {}", f.name, show_value(item, &f.ty)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        (Value::List(_) | Value::Columns(_), Ty::List(elem)) => {
            let parts: Vec<String> = v.as_list().iter().map(|i| show_value(i, elem)).collect();
            format!("[{}]", parts.join(", "))
        }
        (Value::Text(s), _) if s.chars().count() > 200 => {
            let head: String = s.chars().take(200).collect();
            format!("{head:?}… ({} characters)", s.chars().count())
        }
        _ => v.to_string(),
    }
}

/// A value as JSON, with record field names from its type (for param overrides).
pub fn value_json(v: &Value, ty: &Ty) -> serde_json::Value {
    match (v, ty.strip_optional()) {
        (Value::Text(s), _) => serde_json::Value::String(s.to_string()),
        (Value::List(_) | Value::Columns(_), Ty::List(elem)) => {
            serde_json::Value::Array(v.as_list().iter().map(|i| value_json(i, elem)).collect())
        }
        (Value::Record(items), Ty::Record(fields)) => {
            let mut map = Map::new();
            for (item, f) in items.iter().zip(fields.iter()) {
                map.insert(f.name.to_string(), value_json(item, &f.ty));
            }
            serde_json::Value::Object(map)
        }
        (other, _) => number_json(other),
    }
}

/// Stack for compiling, testing and explaining: deep but accepted programs must not overflow it.
const BIG_STACK: usize = 256 << 20;

/// Runs `f` on a thread with a large stack and returns its result; a panic becomes `None`.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(BIG_STACK)
            .spawn_scoped(scope, f)
            .ok()?
            .join()
            .ok()
    })
}
