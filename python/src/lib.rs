//! `reward._native`: the compiled core of the Python package, a thin layer over the library's
//! front door (`reward::compile`, `reward::Spec`). Rows are read from Python objects against
//! the spec's input type (`convert`), scored with the GIL released on the library's worker
//! threads, and returned as columns. The Python modules in `python/reward/` build the public
//! API and the integrations on top of this.

mod arrow;
mod convert;

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList, PyMapping, PySequence};
use reward::{Engine, Options, Row, RowError, Scored, Source, Ty, Value};

pyo3::create_exception!(
    _native,
    CompileError,
    PyValueError,
    "A spec with mistakes: `.diagnostics` lists every problem."
);
pyo3::create_exception!(
    _native,
    RowError_,
    PyValueError,
    "A row that could not be scored (raised only with `strict=True`)."
);

/// Compiles spec text; `name` is what diagnostics call it and `dir` is where its imports are.
#[pyfunction]
#[pyo3(signature = (text, name, dir, params, engine, threads, max_row_bytes))]
#[allow(clippy::too_many_arguments)]
fn compile(
    py: Python<'_>,
    text: String,
    name: String,
    dir: String,
    params: Vec<(String, String)>,
    engine: &str,
    threads: Option<usize>,
    max_row_bytes: Option<u64>,
) -> PyResult<Spec> {
    let engine = Engine::from_name(engine).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown engine {engine:?}: use \"jit\" or \"interp\""
        ))
    })?;
    let source = Source::Text {
        name,
        text,
        dir: dir.into(),
    };
    let options = Options {
        params,
        engine,
        threads,
        max_row_bytes,
    };
    let compiled = py.detach(|| reward::compile(source, &options));
    match compiled {
        Ok(spec) => Ok(Spec {
            inner: Arc::new(spec),
        }),
        Err(diags) => {
            let problems = PyList::empty(py);
            for p in diags.problems() {
                let d = PyDict::new(py);
                d.set_item("code", &p.code)?;
                d.set_item("message", &p.message)?;
                d.set_item("file", &p.file)?;
                d.set_item("line", p.line)?;
                d.set_item("column", p.column)?;
                d.set_item("end_line", p.end_line)?;
                d.set_item("end_column", p.end_column)?;
                d.set_item("label", &p.label)?;
                d.set_item("help", &p.help)?;
                d.set_item("rendered", &p.rendered)?;
                problems.append(d)?;
            }
            Err(CompileError::new_err((
                diags.rendered().to_string(),
                problems.unbind(),
            )))
        }
    }
}

/// A compiled spec. Immutable and safe to share between threads.
#[pyclass(frozen, module = "reward._native")]
struct Spec {
    inner: Arc<reward::Spec>,
}

/// How rows arrive from Python.
enum Layout<'py> {
    /// A sequence of mappings, one per row.
    Records(Bound<'py, PySequence>),
    /// A mapping from column name to a sequence of `n` values.
    Columns(Bound<'py, PyMapping>, usize),
}

impl Spec {
    fn layout<'py>(&self, rows: &Bound<'py, PyAny>) -> PyResult<Layout<'py>> {
        if let Ok(map) = rows.cast::<PyMapping>() {
            let mut n = None;
            for item in map.items()?.iter() {
                let (name, column): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                let len = column.len().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "column {} is not a sequence",
                        name.repr().map(|r| r.to_string()).unwrap_or_default()
                    ))
                })?;
                match n {
                    None => n = Some(len),
                    Some(m) if m != len => {
                        return Err(PyValueError::new_err(format!(
                            "columns have different lengths ({m} and {len} for {})",
                            name.repr().map(|r| r.to_string()).unwrap_or_default()
                        )))
                    }
                    Some(_) => {}
                }
            }
            return Ok(Layout::Columns(map.clone(), n.unwrap_or(0)));
        }
        match rows.cast::<PySequence>() {
            Ok(seq) if !rows.is_instance_of::<pyo3::types::PyString>() => {
                Ok(Layout::Records(seq.clone()))
            }
            _ => Err(PyTypeError::new_err(
                "rows must be a list of dicts, a dict of columns, a pyarrow Table or RecordBatch, or a pandas DataFrame",
            )),
        }
    }

    /// A converted value as a checked row, or why it does not fit (an error for its row alone).
    fn read(&self, v: std::result::Result<Value, convert::Mismatch>) -> Result<Row, RowError> {
        match v {
            Ok(value) => self.inner.row(value),
            Err(m) => Err(RowError::input(m.path, m.message)),
        }
    }

    /// Scores every row, one result per row in order.
    fn score_rows(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Result<Scored, RowError>>> {
        if !self.inner.has_groups() && is_arrow(rows)? {
            let batches = arrow::batches(rows)?;
            // Reading the batches needs no Python object: other Python threads run meanwhile.
            return Ok(py.detach(|| self.score_arrow(&batches)));
        }
        let read = self.read_rows(rows)?;
        Ok(py.detach(|| self.score_checked(read)))
    }

    /// Scores Arrow batches a slice at a time, so that the rows converted from one slice are
    /// scored and freed before the next is read: the memory stays small and is reused, where
    /// converting a whole table first costs page faults on every call. (`group by` specs form
    /// their groups over every row, through [`Self::read_rows`].) The whole loop runs on the
    /// workers, in one hand-over: a hand-over per slice woke a sleeping worker and put the
    /// caller to sleep each time (a fifth of W6's time went to the scheduler, a trace being a
    /// slice of its own).
    fn score_arrow(&self, batches: &[arrow_array::RecordBatch]) -> Vec<Result<Scored, RowError>> {
        let schema = self.inner.input_schema();
        self.inner.on_workers(|| {
            let mut out = Vec::new();
            for batch in batches {
                let n = batch.num_rows();
                let per_slice = arrow::rows_per_slice(batch, self.inner.threads());
                let mut start = 0;
                while start < n {
                    let len = per_slice.min(n - start);
                    let slice = batch.slice(start, len);
                    let read = arrow::rows(std::slice::from_ref(&slice), schema)
                        .into_iter()
                        .map(|v| self.read(v))
                        .collect();
                    out.extend(self.score_checked(read));
                    start += len;
                }
            }
            out
        })
    }

    /// Reads every row against the input type; a row that does not fit is an error for it alone.
    fn read_rows(&self, rows: &Bound<'_, PyAny>) -> PyResult<Vec<Result<Row, RowError>>> {
        let schema = self.inner.input_schema().clone();
        let read = |v| self.read(v);
        if is_arrow(rows)? {
            let batches = arrow::batches(rows)?;
            let values = rows.py().detach(|| arrow::rows(&batches, &schema));
            return Ok(values.into_iter().map(read).collect());
        }
        match self.layout(rows)? {
            Layout::Records(seq) => {
                let n = seq.len()?;
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let item = seq.get_item(i)?;
                    let v = if item.cast::<PyMapping>().is_ok() {
                        convert::value(&item, &schema)
                    } else {
                        Err(convert::Mismatch {
                            path: String::new(),
                            message: "expected a row (a dict of columns)".into(),
                        })
                    };
                    out.push(read(v));
                }
                Ok(out)
            }
            Layout::Columns(map, n) => {
                let Ty::Record(fields) = &schema else {
                    return Ok(Vec::new());
                };
                let mut columns = Vec::with_capacity(fields.len());
                for f in fields.iter() {
                    columns.push(map.get_item(&*f.name).ok());
                }
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let mut items = Vec::with_capacity(fields.len());
                    let mut failed = None;
                    for (f, col) in fields.iter().zip(&columns) {
                        let v = match col {
                            Some(col) => {
                                let item = col.get_item(i)?;
                                convert::value(&item, &f.ty)
                            }
                            None if f.ty.is_optional() => Ok(Value::None),
                            None => Err(convert::Mismatch::missing(&f.ty)),
                        };
                        match v {
                            Ok(v) => items.push(v),
                            Err(m) => {
                                failed = Some(m.in_field(&f.name));
                                break;
                            }
                        }
                    }
                    out.push(read(match failed {
                        Some(m) => Err(m),
                        None => Ok(Value::Record(items.into())),
                    }));
                }
                Ok(out)
            }
        }
    }

    /// Scores the rows that were read, keeping the errors of the others, in row order.
    fn score_checked(&self, read: Vec<Result<Row, RowError>>) -> Vec<Result<Scored, RowError>> {
        let rows: Vec<Row> = read
            .iter()
            .filter_map(|r| r.as_ref().ok().cloned())
            .collect();
        let mut scored = self.inner.score_batch(&rows).into_iter();
        read.into_iter()
            .map(|r| match r {
                Err(e) => Err(e),
                Ok(_) => scored.next().unwrap_or_else(|| {
                    Err(RowError {
                        message: "internal error: row not scored".into(),
                        field: None,
                        term: None,
                        at: None,
                    })
                }),
            })
            .collect()
    }
}

/// Whether `rows` is Arrow data (a pyarrow Table or RecordBatch, a polars DataFrame, …): an
/// object that exports `__arrow_c_stream__` and is not a dict of columns.
fn is_arrow(rows: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(!rows.is_instance_of::<pyo3::types::PyDict>() && rows.hasattr("__arrow_c_stream__")?)
}

fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::None => py.None().into_bound(py),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(x) => x.into_pyobject(py)?.into_any(),
        Value::Text(s) => s.as_ref().into_pyobject(py)?.into_any(),
        other => other.to_string().into_pyobject(py)?.into_any(),
    })
}

fn error_dict<'py>(py: Python<'py>, row: usize, e: &RowError) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("row", row)?;
    d.set_item("message", &e.message)?;
    d.set_item("field", &e.field)?;
    d.set_item("term", &e.term)?;
    d.set_item("at", &e.at)?;
    d.set_item("text", e.to_string())?;
    Ok(d)
}

#[pymethods]
impl Spec {
    /// `"jit"` or `"interp"`.
    #[getter]
    fn engine(&self) -> &'static str {
        self.inner.engine().name()
    }

    #[getter]
    fn can_score(&self) -> bool {
        self.inner.can_score()
    }

    #[getter]
    fn has_groups(&self) -> bool {
        self.inner.has_groups()
    }

    /// Every term: `(name, kind, type, in_breakdown)`.
    fn terms(&self) -> Vec<(String, &'static str, String, bool)> {
        self.inner
            .terms()
            .into_iter()
            .map(|t| (t.name, t.kind, t.ty.to_string(), t.in_breakdown))
            .collect()
    }

    /// The names of the breakdown's terms, in output order.
    fn breakdown(&self) -> Vec<String> {
        self.inner.breakdown().map(str::to_string).collect()
    }

    /// `(name, type, value as JSON text)` per param.
    fn params(&self) -> Vec<(String, String, String)> {
        self.inner
            .params()
            .into_iter()
            .map(|p| (p.name, p.ty.to_string(), p.value.to_string()))
            .collect()
    }

    /// `(column, type, optional)` per input column.
    fn input_schema(&self) -> Vec<(String, String, bool)> {
        match self.inner.input_schema() {
            Ty::Record(fields) => fields
                .iter()
                .map(|f| {
                    (
                        f.name.to_string(),
                        f.ty.strip_optional().to_string(),
                        f.ty.is_optional(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn tests(&self) -> Vec<String> {
        self.inner.tests().into_iter().map(str::to_string).collect()
    }

    /// Scores rows: `(scores, terms, errors)` — the scores as a bytearray of native-endian
    /// float64 (NaN for a row that could not be scored), each breakdown term as a list (None
    /// for an error row), and one error dict or None per row.
    fn score(&self, py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let results = self.score_rows(py, rows)?;
        let mut scores = Vec::with_capacity(results.len() * 8);
        for r in &results {
            let x = r.as_ref().map_or(f64::NAN, Scored::score);
            scores.extend_from_slice(&x.to_ne_bytes());
        }
        let names: Vec<String> = self.inner.breakdown().map(str::to_string).collect();
        let terms = PyDict::new(py);
        for (k, name) in names.iter().enumerate() {
            let column = PyList::empty(py);
            for r in &results {
                match r {
                    Ok(s) => column.append(value_to_py(py, &s.terms()[k].1)?)?,
                    Err(_) => column.append(py.None())?,
                }
            }
            terms.set_item(name, column)?;
        }
        let errors = PyList::empty(py);
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(_) => errors.append(py.None())?,
                Err(e) => errors.append(error_dict(py, i, e)?)?,
            }
        }
        let scores = PyByteArray::new(py, &scores);
        Ok((scores, terms, errors)
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }

    /// Each row's output record, exactly as `reward score` prints it (error records count
    /// lines from 1).
    fn score_json(&self, py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let results = self.score_rows(py, rows)?;
        Ok(results
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                Ok(s) => s.to_json(),
                Err(e) => e.to_json(i as u64 + 1),
            })
            .collect())
    }

    /// Scores JSON Lines text exactly as `reward score` does, one record per line.
    fn score_jsonl(&self, py: Python<'_>, text: String) -> Vec<String> {
        let spec = self.inner.clone();
        py.detach(move || {
            let lines: Vec<(u64, String)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i as u64 + 1, l.to_string()))
                .collect();
            spec.score_lines(&lines, false)
                .into_iter()
                .map(|o| o.json)
                .collect()
        })
    }

    /// Runs the spec's tests: `(passed, failed, report)`.
    fn run_tests(&self, py: Python<'_>) -> (usize, usize, String) {
        let spec = self.inner.clone();
        let report = py.detach(move || spec.run_tests());
        (report.passed, report.failed, report.output)
    }

    /// The typed IR, as `reward ir` prints it.
    fn ir(&self) -> String {
        self.inner.ir_text()
    }

    /// An online monitor of the spec's machines and formulas.
    fn monitor(&self) -> PyResult<Monitor> {
        let owner = self.inner.clone();
        let cell = MonitorCell::try_new(owner, |spec| spec.monitor())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Monitor {
            cell: std::sync::Mutex::new(cell),
        })
    }
}

self_cell::self_cell!(
    struct MonitorCell {
        owner: Arc<reward::Spec>,
        #[not_covariant]
        dependent: MonitorOf,
    }
);

type MonitorOf<'a> = reward::Monitor<'a>;

/// Steps a spec's machines and formulas one environment step at a time.
#[pyclass(frozen, module = "reward._native")]
struct Monitor {
    cell: std::sync::Mutex<MonitorCell>,
}

impl Monitor {
    fn with<T>(&self, f: impl FnOnce(&mut reward::Monitor<'_>) -> T) -> PyResult<T> {
        let mut cell = self
            .cell
            .lock()
            .map_err(|_| PyValueError::new_err("the monitor was poisoned by an earlier error"))?;
        Ok(cell.with_dependent_mut(|_, m| f(m)))
    }
}

#[pymethods]
impl Monitor {
    /// The reward streams (machines and rewarded formulas), in the order of `rewards`.
    fn streams(&self) -> PyResult<Vec<String>> {
        self.with(|m| m.streams().into_iter().map(str::to_string).collect())
    }

    /// The formulas, in the order of `verdicts`.
    fn formulas(&self) -> PyResult<Vec<String>> {
        self.with(|m| m.formulas().into_iter().map(str::to_string).collect())
    }

    /// The type of one step record, as the language writes it.
    fn step_type(&self) -> PyResult<Option<String>> {
        self.with(|m| m.step_type().map(Ty::to_string))
    }

    fn reset(&self) -> PyResult<()> {
        self.with(|m| m.reset())
    }

    /// Reads one step (a record with the trace's step fields): `(reward, rewards, verdicts,
    /// done, states)`. A step that does not fit the step type, or whose guards fail, raises
    /// `ValueError` naming the field; the monitor is unchanged by it.
    #[allow(clippy::type_complexity)]
    fn step(
        &self,
        step: &Bound<'_, PyAny>,
    ) -> PyResult<(f64, Vec<f64>, Vec<&'static str>, bool, Vec<usize>)> {
        let Some(value) = self.step_value(step)? else {
            return Ok((0.0, Vec::new(), Vec::new(), false, Vec::new()));
        };
        self.with(|m| match m.step(&value) {
            Ok(r) => Ok((
                r.reward,
                r.rewards.clone(),
                r.verdicts.iter().map(|v| v.name()).collect(),
                r.done,
                r.states.clone(),
            )),
            Err(e) => Err(PyValueError::new_err(e.message.clone())),
        })?
    }

    /// Each reward stream's current state index.
    fn states(&self) -> PyResult<Vec<usize>> {
        self.with(|m| m.states().to_vec())
    }

    /// The names of reward stream `k`'s states.
    fn state_names(&self, k: usize) -> PyResult<Vec<String>> {
        self.with(|m| m.state_names(k))
    }

    /// Reward stream `k`'s shaping potential per state (empty when it is not shaped).
    fn potentials(&self, k: usize) -> PyResult<Vec<f64>> {
        self.with(|m| m.potentials(k))
    }

    /// What stream `k` would do from `state` on `step`: `(next_state, reward, ended)`, without
    /// moving the monitor (counterfactual experience).
    fn transition(
        &self,
        k: usize,
        state: usize,
        step: &Bound<'_, PyAny>,
    ) -> PyResult<(usize, f64, bool)> {
        let Some(value) = self.step_value(step)? else {
            return Err(PyValueError::new_err("this spec has no reward streams"));
        };
        self.with(|m| {
            m.transition(k, state, &value)
                .map_err(|e| PyValueError::new_err(e.message))
        })?
    }
}

impl Monitor {
    /// A step record read against the step type (`None` when there is nothing to monitor).
    fn step_value(&self, step: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
        let Some(ty) = self.with(|m| m.step_type().cloned())? else {
            return Ok(None);
        };
        convert::value(step, &ty).map(Some).map_err(|m| {
            if m.path.is_empty() {
                PyValueError::new_err(format!("step: {}", m.message))
            } else {
                PyValueError::new_err(format!("step field `{}`: {}", m.path, m.message))
            }
        })
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_class::<Spec>()?;
    m.add_class::<Monitor>()?;
    m.add("CompileError", m.py().get_type::<CompileError>())?;
    m.add("RowError", m.py().get_type::<RowError_>())?;
    Ok(())
}
