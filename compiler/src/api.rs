//! The front door: compile a spec once, then score rows, run its tests, monitor an episode or
//! build a shared library — everything a program needs, behind one type, [`Spec`].
//!
//! Every engine computes the same values: the interpreter defines them, the JIT (the default)
//! reproduces them bit for bit. A row that cannot be scored is a [`RowError`] for that row
//! alone; nothing a row contains can panic, abort or exhaust the caller.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use reward_runtime::decode::{decode_json, decode_row, DecodeError};
use reward_runtime::output::{number_json, record_json, runtime_error_json};
use reward_runtime::{Ty, Value};

use crate::backend::Backend;
use crate::diag::{render, Diagnostic, SourceMap};
use crate::interp::RuntimeError;
use crate::ir::TermKind;
use crate::jit::JitProgram;
use crate::monitor::{Monitor, MonitorError};
use crate::scoring::{self, CompileFailure};
use crate::testing::TestReport;

/// Which engine scores rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Native code compiled with Cranelift when the spec is compiled.
    #[default]
    Jit,
    /// The reference interpreter: the meaning of the language.
    Interpreter,
}

impl Engine {
    /// `"jit"` or `"interp"`, as the CLI's `--engine` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Jit => "jit",
            Engine::Interpreter => "interp",
        }
    }

    /// The engine named `jit` or `interp` (`interpreter` is accepted too).
    pub fn from_name(name: &str) -> Option<Engine> {
        match name {
            "jit" => Some(Engine::Jit),
            "interp" | "interpreter" => Some(Engine::Interpreter),
            _ => None,
        }
    }
}

/// How to compile a spec: param overrides, the engine, threads and the memory budget.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `(name, value)` pairs, each value written as on the command line (`--param name=value`):
    /// JSON for lists and records, plain text accepted for `text` params.
    pub params: Vec<(String, String)>,
    pub engine: Engine,
    /// Worker threads for [`Spec::score_batch`]; `None`: one per core.
    pub threads: Option<usize>,
    /// The per-rollout memory budget in bytes: a rollout whose evaluation holds more is a row
    /// error. `None`: [`reward_runtime::meter::DEFAULT_MAX_ROW_BYTES`] (512 MiB).
    pub max_row_bytes: Option<u64>,
}

impl Options {
    /// Sets a param, as `--param name=value` does.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Options {
        self.params.push((name.into(), value.into()));
        self
    }

    pub fn engine(mut self, engine: Engine) -> Options {
        self.engine = engine;
        self
    }

    pub fn threads(mut self, threads: usize) -> Options {
        self.threads = Some(threads);
        self
    }

    pub fn max_row_bytes(mut self, bytes: u64) -> Options {
        self.max_row_bytes = Some(bytes);
        self
    }
}

/// Where a spec comes from: a file (its imports are relative to its directory) or text.
#[derive(Clone, Debug)]
pub enum Source {
    File(PathBuf),
    Text {
        /// The name diagnostics show for it.
        name: String,
        text: String,
        /// The directory its `use "./file"` imports are relative to.
        dir: PathBuf,
    },
}

impl Source {
    pub fn file(path: impl Into<PathBuf>) -> Source {
        Source::File(path.into())
    }

    /// Spec text named `<spec>`, with imports relative to the working directory.
    pub fn text(text: impl Into<String>) -> Source {
        Source::Text {
            name: "<spec>".into(),
            text: text.into(),
            dir: PathBuf::from("."),
        }
    }
}

/// Compiles a spec. On failure, every diagnostic of the spec.
///
/// ```
/// let spec = reward::compile(
///     reward::Source::text("input { completion: text }\nscore = len(completion) / 10"),
///     &reward::Options::default(),
/// )?;
/// let row = spec.row_from_json(r#"{"completion": "hello"}"#)?;
/// assert_eq!(spec.score(&row)?.score(), 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compile(source: Source, options: &Options) -> Result<Spec, Diagnostics> {
    let compiled = match &source {
        Source::File(path) => scoring::compile_file_detailed(path, &options.params),
        Source::Text { name, text, dir } => {
            scoring::compile_source_detailed(name, text, dir, &options.params)
        }
    }
    .map_err(Diagnostics::from_failure)?;
    let mut compiled = compiled;
    if let Some(bytes) = options.max_row_bytes {
        compiled.program.max_row_bytes = bytes;
    }
    let compiled = Arc::new(compiled);
    let jit = engine_code(&compiled, options.engine, &source_name(&source))?;
    if options.threads == Some(0) {
        return Err(Diagnostics::plain(
            &source_name(&source),
            "threads must be at least 1".into(),
        ));
    }
    if options.max_row_bytes == Some(0) {
        return Err(Diagnostics::plain(
            &source_name(&source),
            "max_row_bytes must be at least 1".into(),
        ));
    }
    let breakdown = compiled
        .program
        .terms
        .iter()
        .enumerate()
        .filter(|(id, t)| t.in_breakdown && Some(*id) != compiled.program.score)
        .map(|(id, t)| (id, Arc::<str>::from(t.name.as_str())))
        .collect();
    Ok(Spec {
        compiled,
        jit,
        engine: options.engine,
        threads: options.threads,
        id: next_spec_id(),
        breakdown,
    })
}

/// The JIT's code for `engine` (none for the interpreter); `name` is the spec's, for an error.
fn engine_code(
    compiled: &Arc<scoring::Spec>,
    engine: Engine,
    name: &str,
) -> Result<Option<Arc<JitProgram>>, Diagnostics> {
    match engine {
        Engine::Interpreter => Ok(None),
        Engine::Jit => {
            let program = compiled.clone();
            let built = scoring::on_big_stack(move || crate::jit::compile(&program.program))
                .unwrap_or_else(|| Err(crate::jit::JitError("the JIT compiler failed".into())));
            built
                .map(|jit| Some(Arc::new(jit)))
                .map_err(|e| Diagnostics::plain(name, format!("internal error: {e}")))
        }
    }
}

/// Formats a spec's text in the one canonical layout of `reward fmt`: only whitespace changes
/// (comments are kept, the user's line breaks too), so the formatted spec means exactly what
/// the original did, and formatting it again changes nothing. `name` is the file name the
/// diagnostics show when the text has syntax errors (then nothing is formatted).
///
/// ```
/// let text = "input{completion:text}\nscore=len( completion )/10 // short is good\n";
/// let formatted = reward::format("spec.reward", text)?;
/// assert_eq!(
///     formatted,
///     "input {\n    completion: text\n}\nscore = len(completion) / 10  // short is good\n"
/// );
/// assert_eq!(reward::format("spec.reward", &formatted)?, formatted);
/// # Ok::<(), reward::Diagnostics>(())
/// ```
pub fn format(name: &str, text: &str) -> Result<String, Diagnostics> {
    let mut sources = SourceMap::default();
    let file = sources.add(name, text);
    crate::syntax::format_source(file, text).map_err(|diagnostics| {
        let n = diagnostics.len();
        let mut rendered = render(&sources, &diagnostics);
        rendered.push_str(&format!(
            "error: {n} problem{} found in {name}\n",
            if n == 1 { "" } else { "s" }
        ));
        Diagnostics::from_failure(CompileFailure {
            sources,
            diagnostics,
            rendered,
        })
    })
}

/// Reads a spec file as the compiler reads specs and imports: a regular file of at most
/// [`MAX_SPEC_BYTES`], in UTF-8. The error names the file and says why.
pub fn read_spec(path: &Path) -> Result<String, String> {
    use crate::check::load::{read_source, SourceError};
    read_source(path).map_err(|e| match e {
        SourceError::Unreadable(why) => format!("cannot read `{}`: {why}", path.display()),
        SourceError::NotUtf8(at) => format!(
            "`{}` is not valid UTF-8 (invalid byte at offset {at})",
            path.display()
        ),
    })
}

/// The largest spec or imported file the compiler reads, in bytes.
pub const MAX_SPEC_BYTES: u64 = crate::check::load::MAX_SOURCE_BYTES;

fn source_name(source: &Source) -> String {
    match source {
        Source::File(path) => path.display().to_string(),
        Source::Text { name, .. } => name.clone(),
    }
}

/// Every problem of a spec that did not compile. `Display` prints them exactly as
/// `reward check` does.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    problems: Vec<Problem>,
    rendered: String,
}

/// One diagnostic: a stable code, the message, where it is (1-based line and column, in
/// characters) and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `E0002`…; `None` for a problem outside the spec's text (a file that cannot be read).
    pub code: Option<String>,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The text under the span.
    pub label: String,
    pub help: Option<String>,
    /// This problem alone, rendered as the CLI prints it.
    pub rendered: String,
}

impl Diagnostics {
    fn from_failure(f: CompileFailure) -> Diagnostics {
        let rendered = crate::diag::render_each(&f.sources, &f.diagnostics);
        let problems = f
            .diagnostics
            .iter()
            .zip(rendered)
            .map(|(d, rendered)| problem(&f.sources, d, rendered))
            .collect::<Vec<_>>();
        if problems.is_empty() {
            return Diagnostics {
                problems: vec![Problem::outside("", f.rendered.trim_end())],
                rendered: f.rendered,
            };
        }
        Diagnostics {
            problems,
            rendered: f.rendered,
        }
    }

    fn plain(file: &str, message: String) -> Diagnostics {
        Diagnostics {
            rendered: format!("error: {message}\n"),
            problems: vec![Problem::outside(file, &message)],
        }
    }

    /// The problems, in the order of their place in the sources.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// All of them as the CLI prints them, with the closing count line.
    pub fn rendered(&self) -> &str {
        &self.rendered
    }
}

impl Problem {
    fn outside(file: &str, message: &str) -> Problem {
        Problem {
            code: None,
            message: message.trim_start_matches("error: ").to_string(),
            file: file.to_string(),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            label: String::new(),
            help: None,
            rendered: format!("{message}\n"),
        }
    }
}

fn problem(sources: &SourceMap, d: &Diagnostic, rendered: String) -> Problem {
    let (line, column) = sources.line_col(d.span);
    let end = crate::diag::Span::new(d.span.file, d.span.end as usize, d.span.end as usize);
    let (end_line, end_column) = sources.line_col(end);
    Problem {
        code: Some(d.code.to_string()),
        message: d.message.clone(),
        file: sources.name(d.span.file).to_string(),
        line,
        column,
        end_line,
        end_column,
        label: d.label.clone(),
        help: d.help.clone(),
        rendered,
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for Diagnostics {}

/// A compiled spec, ready to score. Cheap to clone and safe to share between threads.
#[derive(Clone)]
pub struct Spec {
    compiled: Arc<scoring::Spec>,
    jit: Option<Arc<JitProgram>>,
    engine: Engine,
    threads: Option<usize>,
    id: u64,
    /// The terms of the output record's `terms`, in order (term id, name).
    breakdown: Vec<(usize, Arc<str>)>,
}

/// A rollout that matches the spec's input schema (built by [`Spec::row_from_json`] and its
/// siblings, which check it).
#[derive(Clone, Debug)]
pub struct Row {
    value: Value,
    /// The spec that checked it.
    spec: u64,
}

impl Row {
    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// The result of scoring one row: the score and every term of the breakdown.
#[derive(Clone, Debug)]
pub struct Scored {
    score: Value,
    terms: Vec<(Arc<str>, Value)>,
}

impl Scored {
    /// The score as a float (a bool score is 0 or 1; a spec without `score` gives NaN).
    pub fn score(&self) -> f64 {
        match &self.score {
            Value::Float(_) | Value::Int(_) | Value::Bool(_) => self.score.as_f64(),
            _ => f64::NAN,
        }
    }

    /// The score's value as the spec computed it (a bool, an int or a float).
    pub fn score_value(&self) -> &Value {
        &self.score
    }

    /// The named terms of the breakdown, in the order of the output record.
    pub fn terms(&self) -> &[(Arc<str>, Value)] {
        &self.terms
    }

    /// A term's value by name.
    pub fn term(&self, name: &str) -> Option<&Value> {
        self.terms
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    /// `{"score": …, "terms": {…}}`, exactly the line `reward score` prints.
    pub fn to_json(&self) -> String {
        record_json(&self.score, self.terms.iter().map(|(n, v)| (&**n, v)))
    }
}

/// Why one row could not be scored: the message, and the input field or the term at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub message: String,
    /// The input field, as a path (`steps[3].x`), for a row that does not match the schema.
    pub field: Option<String>,
    /// The term being computed, for an error while scoring.
    pub term: Option<String>,
    /// Where in the spec (`file:line:col`), for an error while scoring.
    pub at: Option<String>,
}

impl RowError {
    fn decode(e: DecodeError) -> RowError {
        RowError::input(e.path, e.message)
    }

    /// A row whose value at `path` (`steps[3].x`; empty for the row itself) does not fit the
    /// input schema, for a caller that reads rows from its own data (Arrow, Python objects).
    pub fn input(path: String, message: String) -> RowError {
        RowError {
            message,
            field: (!path.is_empty()).then_some(path),
            term: None,
            at: None,
        }
    }

    /// The error record `reward score` prints for this row at `line` (1-based).
    pub fn to_json(&self, line: u64) -> String {
        match &self.at {
            Some(at) => runtime_error_json(line, &self.message, self.term.as_deref(), at),
            None => reward_runtime::driver::error_json(line, &self.message, self.field.as_deref()),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(term) = &self.term {
            write!(f, " (while computing `{term}`")?;
            if let Some(at) = &self.at {
                write!(f, " at {at}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowError {}

/// A term of the spec as programs see it.
#[derive(Clone, Debug)]
pub struct TermInfo {
    pub name: String,
    /// The keyword that defined it: `let`, `rule`, `score`, `rubric`, `machine`, `ltl`, …
    pub kind: &'static str,
    pub ty: Ty,
    /// In the output record's breakdown.
    pub in_breakdown: bool,
}

impl TermInfo {
    fn of(t: &crate::ir::Term) -> TermInfo {
        TermInfo {
            name: t.name.clone(),
            kind: t.kind.keyword(),
            ty: t.ty.clone(),
            in_breakdown: t.in_breakdown,
        }
    }
}

/// A param with the value the spec was compiled with.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    pub name: String,
    pub ty: Ty,
    /// The value as JSON (as `--param` takes it).
    pub value: serde_json::Value,
}

/// A `test` block of a spec (see [`Spec::test_cases`]).
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    /// The params it sets, each written as `--param name=value` and [`Options::param`] take
    /// it: compile the spec with them to run the test as `reward test` does.
    pub params: Vec<(String, String)>,
    /// Its `given` rollout (a value of the input schema), or why it cannot be built.
    pub given: Result<Value, RowError>,
    /// The source text of each `expect`.
    pub expects: Vec<String>,
}

/// Workers with a stack deep enough for any spec the compiler accepts.
const WORKER_STACK_BYTES: usize = 64 << 20;

fn worker_pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("reward-api-{i}"))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))
}

/// The cores this process may use. (`available_parallelism` reads cgroup files: tens of
/// microseconds, so it is asked once.)
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The process's worker pools, one per thread count. A pool belongs to the process that made
/// it: a child made by `fork()` (Python's multiprocessing, `datasets.map(num_proc=…)`) inherits
/// the pool but not its threads, so it makes its own instead of waiting forever.
fn pool(threads: Option<usize>) -> Option<Arc<rayon::ThreadPool>> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Pools = (u32, HashMap<usize, Arc<rayon::ThreadPool>>);
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let n = threads.unwrap_or_else(cores);
    let mut pools = POOLS
        .get_or_init(|| Mutex::new((std::process::id(), HashMap::new())))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if pools.0 != std::process::id() {
        // Dropping an inherited pool would wait for threads this process does not have.
        let inherited = std::mem::take(&mut pools.1);
        std::mem::forget(inherited);
        pools.0 = std::process::id();
    }
    if let Some(p) = pools.1.get(&n) {
        return Some(p.clone());
    }
    let p = Arc::new(worker_pool(n).ok()?);
    pools.1.insert(n, p.clone());
    Some(p)
}

/// A distinct number per compiled spec, so that a row checked by one spec is checked again
/// when it is given to another.
fn next_spec_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Spec {
    /// How many worker threads [`Spec::score_batch`] uses: the `threads` option, or one per
    /// core. A caller that feeds it rows in batches makes them at least this big.
    ///
    /// ```
    /// let source = reward::Source::text("input { s: text }\nscore = len(s)");
    /// let spec = reward::compile(source, &reward::Options::default().threads(3))?;
    /// assert_eq!(spec.threads(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(cores)
    }

    /// The engine that scores rows.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The same spec scored by `engine`: the checked program is shared, and only the JIT's code
    /// is compiled (when `engine` is the JIT and this spec's is not). Rows built by either spec
    /// are rows of the other.
    ///
    /// ```
    /// use reward::{Engine, Options, Source};
    /// let text = "input { x: float }\nscore = x / 3.0";
    /// let interp = reward::compile(Source::text(text), &Options::default().engine(Engine::Interpreter))?;
    /// let jit = interp.with_engine(Engine::Jit)?;
    /// let row = interp.row_from_json(r#"{"x": 1.0}"#)?;
    /// assert_eq!(jit.engine(), Engine::Jit);
    /// assert_eq!(interp.score(&row)?.score().to_bits(), jit.score(&row)?.score().to_bits());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_engine(&self, engine: Engine) -> Result<Spec, Diagnostics> {
        let jit = match (&self.jit, engine) {
            (Some(jit), Engine::Jit) => Some(jit.clone()),
            _ => engine_code(
                &self.compiled,
                engine,
                self.compiled.sources.name(crate::diag::FileId(0)),
            )?,
        };
        Ok(Spec {
            jit,
            engine,
            ..self.clone()
        })
    }

    /// Whether the spec has a `score` (a file of functions only has none, and cannot score).
    pub fn can_score(&self) -> bool {
        self.compiled.program.score.is_some()
    }

    /// Whether the spec has a `group by` block (its group terms need every row of a group:
    /// score such rows together with [`Spec::score_batch`]).
    pub fn has_groups(&self) -> bool {
        self.compiled.program.group.is_some()
    }

    /// The rollout schema: a record type (empty for a spec without an `input` block).
    pub fn input_schema(&self) -> &Ty {
        self.compiled.input_type()
    }

    /// Every term, in source order.
    pub fn terms(&self) -> Vec<TermInfo> {
        self.compiled
            .program
            .terms
            .iter()
            .filter(|t| !t.name.contains('#') && t.kind != TermKind::GroupAggregate)
            .map(TermInfo::of)
            .collect()
    }

    /// The names of the spec's `test` blocks.
    pub fn tests(&self) -> Vec<&str> {
        self.compiled
            .program
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect()
    }

    /// The names of the output record's `terms`, in order.
    pub fn breakdown(&self) -> impl Iterator<Item = &str> {
        self.breakdown.iter().map(|(_, n)| &**n)
    }

    /// Reward-hacking risks of the spec's own text (not its imports), each with its place
    /// (kinds in [`crate::STATIC_FINDING_KINDS`]): accuracy by containment of the gold or
    /// against the whole completion, `.*` that stops at newlines, a regex anchored at one end
    /// only, a term that pays on an empty answer, several answer blocks allowed, weights that
    /// reach a correct answer's score without it. `reward probe` prints them beside its attacks.
    pub fn static_findings(&self) -> Vec<crate::lint::StaticFinding> {
        self.static_findings_with_rows(&[])
    }

    /// [`Spec::static_findings`] with real rows (JSON objects): their columns and golds seed
    /// the evaluated findings, and a term with one value on all of them (at least two) is a
    /// `constant-term` finding.
    pub fn static_findings_with_rows(
        &self,
        rows: &[serde_json::Value],
    ) -> Vec<crate::lint::StaticFinding> {
        scoring::on_big_stack(|| {
            crate::lint::findings(&self.compiled.program, &self.compiled.sources, rows, true)
        })
        .unwrap_or_default()
    }

    /// The compiled program and its sources (for the probe).
    pub(crate) fn compiled(&self) -> &scoring::Spec {
        &self.compiled
    }

    /// The params with the values compiled in.
    pub fn params(&self) -> Vec<ParamInfo> {
        self.compiled
            .program
            .params
            .iter()
            .map(|p| ParamInfo {
                name: p.name.clone(),
                ty: p.ty.clone(),
                value: scoring::value_json(&p.value, &p.ty),
            })
            .collect()
    }

    /// A row from one JSON object (a line of a JSON Lines file).
    pub fn row_from_json(&self, line: &str) -> Result<Row, RowError> {
        decode_row(line, self.input_schema())
            .map(|value| self.checked(value))
            .map_err(RowError::decode)
    }

    fn checked(&self, value: Value) -> Row {
        Row {
            value,
            spec: self.id,
        }
    }

    /// A row from a parsed JSON object.
    pub fn row_from_json_value(&self, value: &serde_json::Value) -> Result<Row, RowError> {
        decode_json(value, self.input_schema())
            .map(|value| self.checked(value))
            .map_err(RowError::decode)
    }

    /// A row from a value built by the caller: checked against the input schema (a float column
    /// holds `Value::Float`, an int column `Value::Int`, an absent optional `Value::None`).
    pub fn row(&self, value: Value) -> Result<Row, RowError> {
        match self.input_schema().check_value(&value) {
            Ok(()) => Ok(self.checked(value)),
            Err((path, message)) => Err(RowError {
                message,
                field: (!path.is_empty()).then_some(path),
                term: None,
                at: None,
            }),
        }
    }

    fn backend(&self) -> BackendRef<'_> {
        match &self.jit {
            Some(jit) => BackendRef::Jit(jit),
            None => BackendRef::Interp(self.compiled.interpreter()),
        }
    }

    /// Runs `f` on this spec's worker threads, where scoring runs — unless the caller is
    /// already a worker of a pool (the CLI's driver, with its own thread count and deep
    /// stacks). For a caller that makes rows and scores them: made on a worker, a batch's rows
    /// are scored where they are still in the caches, not after crossing to another core.
    pub fn on_workers<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        if rayon::current_thread_index().is_some() {
            return f();
        }
        match pool(self.threads) {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Scores one row. For a spec with `group by`, the row is a group of one (as in tests).
    pub fn score(&self, row: &Row) -> Result<Scored, RowError> {
        self.score_batch(std::slice::from_ref(row))
            .pop()
            .unwrap_or_else(|| Err(internal("row not scored")))
    }

    /// Scores rows in parallel, one result per row in order; `group by` groups are formed over
    /// this batch.
    pub fn score_batch(&self, rows: &[Row]) -> Vec<Result<Scored, RowError>> {
        if self.has_groups() {
            return self
                .evaluate_batch(rows)
                .into_iter()
                .map(|r| r.map(|values| self.scored(&values)))
                .collect();
        }
        // Without groups a row's scores are final when it is evaluated: keeping only them,
        // not every term of every row until the batch ends, lets the next row reuse the
        // memory (a machine's per-step lists are most of it).
        self.for_each_row(rows, |backend, input| {
            backend.eval_row(input).map(|values| self.scored(&values))
        })
    }

    /// Every term the compiled program computes, in order: the spec's own terms and the parts
    /// the compiler adds for them (a machine's `name#run` record, a rubric's criteria, a
    /// group's aggregates), as [`Spec::ir_text`] lists them. [`Spec::evaluate`] gives their
    /// values in this order.
    pub fn all_terms(&self) -> Vec<TermInfo> {
        self.compiled
            .program
            .terms
            .iter()
            .map(TermInfo::of)
            .collect()
    }

    /// The value of every term for one row, hidden ones included (`let`s, texts, lists and
    /// records that the breakdown does not show), in the order of [`Spec::all_terms`]: what a
    /// program needs to look inside a score, or to compare engines value for value. For a spec
    /// with `group by`, the row is a group of one.
    ///
    /// ```
    /// let spec = reward::compile(
    ///     reward::Source::text("input { s: text }\nlet loud = upper(s)\nscore = len(loud)"),
    ///     &reward::Options::default(),
    /// )?;
    /// let names: Vec<String> = spec.all_terms().into_iter().map(|t| t.name).collect();
    /// let values = spec.evaluate(&spec.row_from_json(r#"{"s": "ok"}"#)?)?;
    /// assert_eq!(names, ["loud", "score"]);
    /// assert_eq!(values[0].as_text(), "OK");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(&self, row: &Row) -> Result<Vec<Value>, RowError> {
        self.evaluate_batch(std::slice::from_ref(row))
            .pop()
            .unwrap_or_else(|| Err(internal("row not scored")))
    }

    /// [`Spec::evaluate`] for rows in parallel, one result per row in order; `group by` groups
    /// are formed over this batch.
    pub fn evaluate_batch(&self, rows: &[Row]) -> Vec<Result<Vec<Value>, RowError>> {
        if !self.has_groups() {
            return self.for_each_row(rows, |backend, input| backend.eval_row(input));
        }
        let foreign = self.foreign_rows(rows);
        self.on_workers(|| {
            let backend = self.backend();
            let inputs: Vec<Value> = rows
                .iter()
                .zip(&foreign)
                .filter(|(_, bad)| bad.is_none())
                .map(|(r, _)| r.value.clone())
                .collect();
            let mut evaluated = self.compiled.eval_batch(backend.get(), &inputs).into_iter();
            foreign
                .into_iter()
                .map(|bad| match bad {
                    Some(e) => Err(e),
                    None => match evaluated.next() {
                        Some(r) => r.map_err(|e| self.row_error(&e)),
                        None => Err(internal("row not scored")),
                    },
                })
                .collect()
        })
    }

    /// Why each row checked by another spec does not fit this one's schema (it is checked
    /// again), `None` for the rows that fit.
    fn foreign_rows(&self, rows: &[Row]) -> Vec<Option<RowError>> {
        rows.iter()
            .map(|r| {
                (r.spec != self.id)
                    .then(|| self.row(r.value.clone()).err())
                    .flatten()
            })
            .collect()
    }

    /// `eval` on every row of a spec without groups, in parallel on the workers, one result
    /// per row in order.
    fn for_each_row<T: Send>(
        &self,
        rows: &[Row],
        eval: impl Fn(&dyn Backend, &Value) -> Result<T, RuntimeError> + Sync,
    ) -> Vec<Result<T, RowError>> {
        use rayon::prelude::*;
        let foreign = self.foreign_rows(rows);
        self.on_workers(|| {
            let backend = self.backend();
            rows.par_iter()
                .zip(foreign)
                .map(|(row, bad)| match bad {
                    Some(e) => Err(e),
                    None => eval(backend.get(), &row.value).map_err(|e| self.row_error(&e)),
                })
                .collect()
        })
    }

    fn scored(&self, values: &[Value]) -> Scored {
        Scored {
            score: self
                .compiled
                .program
                .score
                .map_or(Value::None, |id| values[id].clone()),
            terms: self
                .breakdown
                .iter()
                .map(|(id, name)| (name.clone(), values[*id].clone()))
                .collect(),
        }
    }

    fn row_error(&self, e: &RuntimeError) -> RowError {
        let term = e.term.map(|t| {
            reward_runtime::output::reported_term(&self.compiled.program.terms[t].name).to_string()
        });
        RowError {
            message: e.message.clone(),
            field: None,
            term,
            at: Some(self.compiled.locate(e)),
        }
    }

    /// Scores JSON Lines: `(line number, text)` in, one output record per line out, exactly as
    /// `reward score` writes them (`steps`: with each machine's per-step rewards).
    pub fn score_lines(&self, lines: &[(u64, String)], steps: bool) -> Vec<LineOutput> {
        self.on_workers(|| {
            let scorer = self.line_scorer(steps);
            if self.has_groups() {
                self.compiled.score_all(scorer.backend.get(), lines, steps)
            } else {
                use rayon::prelude::*;
                lines.par_iter().map(|(n, l)| scorer.score(*n, l)).collect()
            }
        })
    }

    /// The two stages of scoring JSON Lines with a `group by` spec in bounded memory: run
    /// [`GroupStages::first`] on each line as it is read (it keeps only what the group stage
    /// needs, not the line), then [`GroupStages::finish`] on every kept row, in input order.
    /// The outputs are those of [`Spec::score_lines`].
    pub fn group_stages(&self, steps: bool) -> GroupStages<'_> {
        GroupStages {
            spec: self,
            plan: self.compiled.group_plan(steps),
            backend: self.backend(),
            steps,
        }
    }

    /// Scores one JSON line on the calling thread, as [`Spec::score_lines`] does. A `group by`
    /// spec scores it as a group of one. Drivers that score many lines on their own workers
    /// use [`Spec::line_scorer`], which prepares the engine once.
    pub fn score_line(&self, line_no: u64, line: &str, steps: bool) -> LineOutput {
        self.line_scorer(steps).score(line_no, line)
    }

    /// A scorer of JSON lines with the engine prepared once (the interpreter's compiled
    /// regexes keep their match caches across lines), safe to share between threads.
    pub fn line_scorer(&self, steps: bool) -> LineScorer<'_> {
        LineScorer {
            spec: self,
            backend: self.backend(),
            steps,
        }
    }

    /// Runs the spec's `test` blocks (on a thread with a deep stack).
    pub fn run_tests(&self) -> TestReport {
        scoring::on_big_stack(|| crate::testing::run_tests(&self.compiled)).unwrap_or(TestReport {
            passed: 0,
            failed: 1,
            output: "FAIL: internal error while running the tests\n".into(),
        })
    }

    /// The spec's `test` blocks as data, in source order: what a program needs to run their
    /// inputs through other engines or to export them as rows.
    ///
    /// ```
    /// let spec = reward::compile(
    ///     reward::Source::text(
    ///         "input { n: int }\nparam k: int = 1\nscore = n * k\n\
    ///          test \"doubled\" { param k = 2 given { n: 3 } expect score == 6 }",
    ///     ),
    ///     &reward::Options::default(),
    /// )?;
    /// let test = &spec.test_cases()[0];
    /// assert_eq!(test.name, "doubled");
    /// assert_eq!(test.params, [("k".to_string(), "2".to_string())]);
    /// assert_eq!(test.expects, ["score == 6"]);
    /// let given = test.given.clone()?;
    /// assert_eq!(reward::value_to_json_typed(&given, spec.input_schema()).to_string(), r#"{"n":3}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn test_cases(&self) -> Vec<TestCase> {
        let spec = &self.compiled;
        let interp = spec.interpreter();
        spec.program
            .tests
            .iter()
            .map(|test| TestCase {
                name: test.name.clone(),
                params: crate::testing::param_overrides(spec, test),
                given: interp
                    .eval_body(&test.given, &Value::None, &[])
                    .map_err(|e| self.row_error(&e)),
                expects: test
                    .expects
                    .iter()
                    .map(|e| spec.sources.snippet(e.span).to_string())
                    .collect(),
            })
            .collect()
    }

    /// The Cranelift IR of the functions the JIT compiles for this spec, for reading (when the
    /// engines disagree, say). Compiles the spec's JIT code again, whatever the engine.
    pub fn jit_text(&self) -> Result<String, String> {
        let program = self.compiled.clone();
        scoring::on_big_stack(move || crate::jit::compile_with_clif(&program.program))
            .unwrap_or_else(|| Err(crate::jit::JitError("the JIT compiler failed".into())))
            .map(|(_, clif)| clif)
            .map_err(|e| e.to_string())
    }

    /// An online monitor of the spec's reward machines and formulas.
    pub fn monitor(&self) -> Result<Monitor<'_>, MonitorError> {
        Monitor::new(&self.compiled)
    }

    /// Builds a shared library with the C API at `output` (and its header beside it, which is
    /// returned). `runtime`: the runtime's static library, found next to the program if `None`.
    pub fn build_library(&self, output: &Path, runtime: Option<&Path>) -> Result<PathBuf, String> {
        let object = crate::aot::object_file(&self.compiled)?;
        let runtime = crate::aot::find_runtime(runtime)?;
        crate::aot::link(&object, &runtime, output)?;
        let stem = output
            .file_stem()
            .map_or("libreward".into(), |s| s.to_string_lossy().into_owned());
        let header = output.with_file_name(format!("{stem}.h"));
        std::fs::write(&header, crate::aot::header(&self.compiled, &stem))
            .map_err(|e| format!("cannot write {}: {e}", header.display()))?;
        Ok(header)
    }

    /// The typed IR, as `reward ir` prints it.
    pub fn ir_text(&self) -> String {
        crate::ir::print_program(&self.compiled.program)
    }

    /// Every term of `rows[index]` with its value, for a person to read (`reward explain`);
    /// `line` is its line number in the input, and the other rows are its possible group
    /// mates. Uses the interpreter.
    pub fn explain(&self, rows: &[Row], index: usize, line: u64) -> Result<String, String> {
        for r in rows.iter().filter(|r| r.spec != self.id) {
            self.row(r.value.clone()).map_err(|e| e.to_string())?;
        }
        scoring::on_big_stack(|| crate::explain::explain(&self.compiled, rows, index, line))
            .unwrap_or_else(|| Err("internal error while explaining this row".into()))
    }

    /// Each `ltl` formula's automaton: atoms, formula nodes, states (or why there is none) and
    /// the median build time over `runs` builds.
    pub fn automata(&self, runs: usize) -> Vec<crate::explain::AutomatonInfo> {
        crate::explain::automata(&self.compiled, runs)
    }
}

/// See [`Spec::line_scorer`].
pub struct LineScorer<'s> {
    spec: &'s Spec,
    backend: BackendRef<'s>,
    steps: bool,
}

impl LineScorer<'_> {
    /// The output record of one JSON line, as `reward score` writes it.
    pub fn score(&self, line_no: u64, line: &str) -> LineOutput {
        self.spec
            .compiled
            .score_line_with(self.backend.get(), line_no, line, self.steps)
    }

    /// The output record of a row made by the caller (with [`Spec::row`]: from Arrow data,
    /// say), the same as [`Self::score`] writes for that row as a JSON line; a row that could
    /// not be made is its error record.
    pub fn score_row(&self, line_no: u64, row: &Result<Row, RowError>) -> LineOutput {
        match row {
            Ok(row) if row.spec == self.spec.id => self.spec.compiled.score_value_with(
                self.backend.get(),
                line_no,
                &row.value,
                self.steps,
            ),
            Ok(row) => self.score_row(line_no, &self.spec.row(row.value.clone())),
            Err(e) => LineOutput::error(line_no, &e.message, e.field.as_deref()),
        }
    }
}

/// See [`Spec::group_stages`].
pub struct GroupStages<'s> {
    spec: &'s Spec,
    plan: scoring::GroupPlan,
    backend: BackendRef<'s>,
    steps: bool,
}

/// A row between the two stages of a `group by` spec: its values for the group stage.
pub struct GroupRow(scoring::Kept);

impl GroupStages<'_> {
    /// The per-row stage of one JSON line: what it keeps, or its error record.
    pub fn first(&self, line_no: u64, line: &str) -> Result<GroupRow, LineOutput> {
        self.spec
            .compiled
            .group_first_stage(self.backend.get(), &self.plan, line_no, line)
            .map(GroupRow)
    }

    /// The group stage over every kept row (with its line number), in input order.
    pub fn finish(&self, rows: Vec<(u64, GroupRow)>) -> Vec<LineOutput> {
        let rows = rows.into_iter().map(|(n, r)| (n, r.0)).collect();
        self.spec
            .compiled
            .group_finish(self.backend.get(), rows, self.steps)
    }
}

/// One output line of [`Spec::score_lines`].
pub type LineOutput = reward_runtime::driver::RowOutput;

fn internal(message: &str) -> RowError {
    RowError {
        message: format!("internal error: {message}"),
        field: None,
        term: None,
        at: None,
    }
}

enum BackendRef<'a> {
    Jit(&'a JitProgram),
    Interp(crate::interp::Interpreter<'a>),
}

impl BackendRef<'_> {
    fn get(&self) -> &dyn Backend {
        match self {
            BackendRef::Jit(j) => *j,
            BackendRef::Interp(i) => i,
        }
    }
}

/// Converts a file in the reward-machines text format into a `.reward` spec (`source_name`
/// is quoted in its header comment; `compat_original` reproduces the original code's reward
/// on steps no edge matches). The spec is checked before it is returned: a machine the
/// language cannot take yet is an error with the checker's diagnostics, never a file that
/// does not compile.
pub fn import_reward_machine(
    text: &str,
    source_name: &str,
    compat_original: bool,
) -> Result<String, String> {
    let rm = crate::import_rm::parse(text)?;
    let spec = crate::import_rm::to_spec(&rm, source_name, compat_original);
    let generated = Source::Text {
        name: format!("{source_name} (as imported)"),
        text: spec.clone(),
        dir: PathBuf::from("."),
    };
    match compile(generated, &Options::default().engine(Engine::Interpreter)) {
        Ok(_) => Ok(spec),
        Err(diags) => Err(format!(
            "the imported machine does not check as a spec:\n{diags}"
        )),
    }
}

/// The JSON form of a value, as output records show numbers (non-finite floats as strings).
pub fn value_to_json(v: &Value) -> serde_json::Value {
    number_json(v)
}

/// The JSON form of a value of type `ty`, as rows and `--param` values are written: records
/// as objects with their field names (numbers as [`value_to_json`] writes them).
///
/// ```
/// let spec = reward::compile(
///     reward::Source::text("input { n: int, s: text }\nscore = n"),
///     &reward::Options::default(),
/// )?;
/// let row = spec.row_from_json(r#"{"s": "hi", "n": 3}"#)?;
/// let json = reward::value_to_json_typed(row.value(), spec.input_schema());
/// assert_eq!(json.to_string(), r#"{"n":3,"s":"hi"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn value_to_json_typed(v: &Value, ty: &Ty) -> serde_json::Value {
    scoring::value_json(v, ty)
}
