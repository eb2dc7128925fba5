//! The `reward` command line: check, test, score and explain reward specs.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod diff;
mod doc;
mod fmt;
mod lsp;
mod parquet;
mod probe;
use reward::{compile, Options, RowError, Source, Spec};
use reward_runtime::driver::{self, DriverOptions};

#[derive(Parser)]
#[command(
    name = "reward",
    version,
    about = "Compile, test and run reward specifications for reinforcement learning"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Engine {
    Jit,
    Interp,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check specs; report every problem. Exit 0 when clean, 1 otherwise.
    Check {
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// Also compile to native code and print how long each phase takes (median of 10 runs).
        #[arg(long)]
        timings: bool,
    },
    /// Run the `test` blocks of specs. Exit 0 when all pass, 1 otherwise.
    Test {
        #[arg(required = true)]
        specs: Vec<PathBuf>,
    },
    /// Score a JSON Lines (or Parquet) file of rollouts: one output row per input row, in order.
    /// Exit 0 when every row scored, 2 when some rows were errors.
    Score(ScoreArgs),
    /// Show every term of one rollout with its value.
    Explain {
        spec: PathBuf,
        /// JSON Lines input; `-` reads standard input.
        input: String,
        /// The line number of the rollout (1-based, as in error records).
        #[arg(long)]
        row: u64,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Compile a spec into a shared library with a C API (and its header beside it).
    Build {
        spec: PathBuf,
        /// The library to write, e.g. `libmyreward.so`; the header is written beside it.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// The runtime's static library (default: libreward_runtime.a next to this program).
        #[arg(long)]
        runtime: Option<PathBuf>,
    },
    /// Convert a machine in the reward-machines text format into a `.reward` spec.
    ImportRm {
        file: PathBuf,
        /// Write the spec here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// `original`: reproduce the original code's reward on steps no edge matches.
        #[arg(long, value_name = "MODE")]
        compat: Option<String>,
    },
    /// Rewrite specs in the one canonical layout (comments and line breaks kept; only
    /// whitespace changes). A directory stands for the `.reward` files under it; `-` formats
    /// standard input to standard output.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing: list the files that are not formatted and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Score the same rows with two versions of a spec: which rows change and by how much,
    /// which terms explain it, a histogram of the changes and, with --group, the rows whose
    /// rank within their group changes. Exit 0 when nothing changed, 1 when something did.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// JSON Lines input; `-` reads standard input.
        rows: String,
        /// Rank rows within the groups of this input column (e.g. `prompt_id`).
        #[arg(long, value_name = "COL")]
        group: Option<String>,
        /// One JSON report (summary, per-term changes, histogram, changed rows) for CI.
        #[arg(long)]
        json: bool,
        /// How many of the largest changes and rank changes the text report lists.
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Attack a spec with the completions policies find first (empty and format-only answers,
    /// hedging and shotgun answers, the gold only in the reasoning, near misses, injected
    /// grader text, padding, look-alike characters), wrapped in the format the spec pays best
    /// for, and the correct answer in broken tag shells; report each that scores close to a
    /// correct answer on at least two golds.
    Probe {
        spec: PathBuf,
        /// Real rows (JSON Lines) to take golds and the other columns from; without it, two
        /// made-up rows with golds 42 and 17.
        #[arg(long, value_name = "FILE")]
        rows: Option<String>,
        /// The column with the reference answer (default: solution, answer, gold, ground_truth,
        /// reference or target).
        #[arg(long, value_name = "COL")]
        gold: Option<String>,
        /// The column with the completion (default: completion, response, output or generation).
        #[arg(long, value_name = "COL")]
        completion: Option<String>,
        /// A hit scores at least the correct answer's score minus this (default: half the way
        /// from a bare wrong answer's score to the correct answer's).
        #[arg(long)]
        margin: Option<f64>,
        /// Rows (distinct golds) to attack.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(2..))]
        max_rows: u64,
        #[arg(long)]
        json: bool,
        /// Exit 1 when there is a finding: `severe` ones only (at or above a correct answer), or `any`.
        #[arg(long, value_name = "LEVEL", value_parser = ["severe", "any"])]
        fail_on: Option<String>,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Print the standard library's reference (Markdown, as in docs/std.md): every function
    /// with its signature and documentation.
    Doc,
    /// Show the automaton of each `ltl` formula: atoms, states of its minimal DFA, build time.
    Automata { spec: PathBuf },
    /// Run a language server on standard input and output (diagnostics as you type, hover,
    /// go to definition, outline) for editors that speak the Language Server Protocol.
    Lsp,
    /// Print the typed IR of a spec (for debugging and bug reports).
    Ir {
        spec: PathBuf,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ScoreArgs {
    spec: PathBuf,
    /// JSON Lines input (`-` reads standard input), or a `.parquet` file.
    input: String,
    /// Write to this file instead of standard output (`.parquet`: typed columns `score`, each
    /// term, `error`, `error_field`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Override a param: `--param name=value` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Worker threads, at least 1 (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// The per-rollout memory budget: a rollout whose evaluation holds more bytes of values
    /// is a row error (default 536870912, 512 MiB).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    max_row_bytes: Option<u64>,
    /// Never show the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Add each reward machine's per-step rewards: `"steps": {"machine": [r0, r1, …]}`.
    #[arg(long)]
    steps: bool,
    /// Execution engine: native code (`jit`) or the reference interpreter (`interp`).
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// Copy these input columns into each output record, first (`--keep id,prompt_id`), so
    /// that scores join back to their rows by key, not only by order. JSON Lines output only.
    #[arg(long, value_delimiter = ',', value_name = "COL,…")]
    keep: Vec<String>,
}

/// Exit statuses: 0 success; 1 a spec, file or test failure; 2 `score` wrote error records
/// for some rows; 64 (`EX_USAGE` of sysexits.h) the command line itself was wrong.
const EXIT_USAGE: u8 = 64;

/// `print!` to standard output, except that a closed pipe (`reward ir spec | head`) ends the
/// program quietly instead of panicking, and another write error is reported.
macro_rules! out {
    ($($t:tt)*) => { write_out(&format!($($t)*)) };
}

macro_rules! outln {
    ($($t:tt)*) => { write_out(&format!("{}\n", format!($($t)*))) };
}

fn write_out(text: &str) {
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// Keeps memory freed by a row for the next one. glibc's malloc hands large blocks back to
/// the system when they are freed (and shrinks the heap's top), and a long trace's arrays
/// are large: every row would then fault its memory in again, page by page (a tenth of
/// scoring a trace file).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: glibc's `mallopt`, called before any thread starts, with parameters it
        // documents; it only sets two thresholds (a refusal is harmless).
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
        }
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to standard output with status 0; a usage mistake gets its
            // own status, distinct from 1 (a spec or file error) and 2 (rows that failed).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check { specs, timings } => check(&specs, timings),
        Command::Test { specs } => test(&specs),
        Command::Score(args) => score(args),
        Command::Explain {
            spec,
            input,
            row,
            params,
        } => {
            let spec = match compile_scoring_spec(&spec, &params, interpreter()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match explain(&spec, &input, row) {
                Ok(text) => {
                    out!("{text}");
                    ExitCode::SUCCESS
                }
                Err(msg) => {
                    eprintln!("error: {msg}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Build {
            spec,
            output,
            params,
            runtime,
        } => {
            let spec = match compile_scoring_spec(&spec, &params, interpreter()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match spec.build_library(&output, runtime.as_deref()) {
                Ok(header) => {
                    eprintln!("wrote {} and {}", output.display(), header.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::ImportRm {
            file,
            output,
            compat,
        } => import_rm(&file, output.as_deref(), compat.as_deref()),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
        Command::Diff {
            old,
            new,
            rows,
            group,
            json,
            top,
            params,
        } => {
            let compiled = compile_with_params(&old, &params, Options::default())
                .and_then(|o| Ok((o, compile_with_params(&new, &params, Options::default())?)));
            let (old_spec, new_spec) = match compiled {
                Ok(pair) => pair,
                Err(code) => return code,
            };
            let args = diff::Args {
                old: &old,
                new: &new,
                rows: &rows,
                group: group.as_deref(),
                json,
                top,
            };
            diff::run(&args, &old_spec, &new_spec)
        }
        Command::Probe {
            spec,
            rows,
            gold,
            completion,
            margin,
            max_rows,
            json,
            fail_on,
            params,
        } => {
            let spec = match compile_with_params(&spec, &params, Options::default()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let args = probe::Args {
                rows: rows.as_deref(),
                gold: gold.as_deref(),
                completion: completion.as_deref(),
                margin,
                max_rows: usize::try_from(max_rows).unwrap_or(usize::MAX),
                json,
                fail_on: fail_on.as_deref(),
            };
            probe::run(&spec, &args)
        }
        Command::Doc => {
            out!("{}", doc::reference());
            ExitCode::SUCCESS
        }
        Command::Automata { spec } => {
            let spec = match compile_with_params(&spec, &[], interpreter()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            automata(&spec)
        }
        Command::Ir { spec, params } => {
            let spec = match compile_with_params(&spec, &params, interpreter()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            out!("{}", spec.ir_text());
            ExitCode::SUCCESS
        }
        Command::Lsp => match lsp::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: reward lsp: {e}");
                ExitCode::from(1)
            }
        },
    }
}

/// `reward check`: parse and type-check specs, every problem reported.
fn check(specs: &[PathBuf], timings: bool) -> ExitCode {
    let mut ok = true;
    for spec in specs {
        match compile(Source::file(spec), &interpreter()) {
            Ok(s) => {
                eprintln!(
                    "{}: ok ({} terms, {} tests)",
                    spec.display(),
                    s.terms().len(),
                    s.tests().len()
                );
                if timings {
                    match phase_timings(spec) {
                        Ok(line) => outln!("{line}"),
                        Err(e) => {
                            eprintln!("error: {e}");
                            ok = false;
                        }
                    }
                }
            }
            Err(diags) => {
                eprint!("{diags}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `reward test`: run the `test` blocks of specs.
fn test(specs: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for path in specs {
        let spec = match compile(Source::file(path), &interpreter()) {
            Ok(s) => s,
            Err(diags) => {
                eprint!("{diags}");
                ok = false;
                continue;
            }
        };
        let report = spec.run_tests();
        out!("{}", report.output);
        outln!(
            "{}: {} passed, {} failed",
            path.display(),
            report.passed,
            report.failed
        );
        ok &= report.failed == 0;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `reward import-rm`: a machine in the reward-machines text format as a `.reward` spec.
fn import_rm(file: &Path, output: Option<&Path>, compat: Option<&str>) -> ExitCode {
    let compat_original = match compat {
        None => false,
        Some("original") => true,
        Some(other) => {
            eprintln!("error: unknown compat mode `{other}` (the only one is `original`)");
            return ExitCode::from(1);
        }
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let spec =
        match reward::import_reward_machine(&text, &file.display().to_string(), compat_original) {
            Ok(spec) => spec,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        };
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, spec) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(1);
            }
        }
        None => out!("{spec}"),
    }
    ExitCode::SUCCESS
}

/// `reward score`: JSON Lines or Parquet in, JSON Lines or Parquet out, one output row per
/// input row.
fn score(args: ScoreArgs) -> ExitCode {
    let ScoreArgs {
        spec,
        input,
        output,
        params,
        threads,
        max_row_bytes,
        no_progress,
        engine,
        steps,
        keep,
    } = args;
    if let Some(name) = keep
        .iter()
        .find(|k| ["score", "terms", "error", "steps"].contains(&k.as_str()))
    {
        eprintln!("error: --keep {name}: an output record already has a `{name}` key");
        return ExitCode::from(EXIT_USAGE);
    }
    let engine = match engine {
        Engine::Jit => reward::Engine::Jit,
        Engine::Interp => reward::Engine::Interpreter,
    };
    let mut options = Options::default().engine(engine);
    if let Some(bytes) = max_row_bytes {
        options = options.max_row_bytes(bytes);
    }
    let spec = match compile_scoring_spec(&spec, &params, options) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let opts = DriverOptions {
        threads: threads.map(|n| n as usize),
        progress: !no_progress && io::stderr().is_terminal(),
        ..DriverOptions::default()
    };
    // Parquet rows are made from the Arrow arrays, except where the driver needs each row's
    // line: a `group by` spec's stages and `--keep` read it.
    let reader = if parquet::is_parquet(&input) {
        let opened = if spec.has_groups() || !keep.is_empty() {
            parquet::open(&input, &spec).map(|lines| Input::Lines(Box::new(lines)))
        } else {
            parquet::rows(&input, &spec, opts.bytes_per_chunk()).map(Input::Rows)
        };
        match opened {
            Ok(input) => input,
            Err(e) => {
                eprintln!("error: cannot read `{input}` as Parquet: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        match open_input(&input) {
            Ok(r) => Input::Lines(r),
            Err(e) => {
                eprintln!("error: cannot read `{input}`: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let mut parquet_out = match &output {
        Some(path) if parquet::is_parquet(&path.to_string_lossy()) => {
            if !keep.is_empty() {
                eprintln!("error: --keep works with a JSON Lines output; join Parquet scores by row order");
                return ExitCode::from(1);
            }
            if steps {
                eprintln!("error: --steps writes lists per row; use a JSON Lines output with it");
                return ExitCode::from(1);
            }
            match parquet::ParquetOut::create(path, &spec) {
                Ok(out) => Some(out),
                Err(e) => {
                    eprintln!("error: cannot write `{}`: {e}", path.display());
                    return ExitCode::from(1);
                }
            }
        }
        _ => None,
    };
    let writer: Box<dyn Write + '_> = match (&mut parquet_out, &output) {
        (Some(out), _) => Box::new(out),
        (None, Some(path)) => match std::fs::File::create(path) {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return ExitCode::from(1);
            }
        },
        (None, None) => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let reader = match reader {
        Input::Lines(reader) => reader,
        Input::Rows(mut rows) => {
            let scorer = spec.line_scorer(steps);
            let result = driver::run_items(
                || rows.next_chunk(),
                writer,
                &opts,
                |line_no, row| {
                    let row = row
                        .map_err(|m| RowError::input(m.path, m.message))
                        .and_then(|value| spec.row(value));
                    scorer.score_row(line_no, &row)
                },
            );
            return finish_score(result, parquet_out);
        }
    };
    let result = if spec.has_groups() {
        // Group-level terms need every row of a group: each row keeps what the group
        // stage reads (not its line), then the groups are scored.
        let stages = spec.group_stages(steps);
        driver::run_all(
            reader,
            writer,
            &opts,
            |n, line| {
                let kept = kept_columns(&keep, line);
                stages
                    .first(n, line)
                    .map(|row| (row, kept.clone()))
                    .map_err(|out| with_columns(out, kept))
            },
            |rows| {
                let (rows, kept): (Vec<_>, Vec<_>) =
                    rows.into_iter().map(|(n, (row, k))| ((n, row), k)).unzip();
                let outputs = stages.finish(rows);
                outputs
                    .into_iter()
                    .zip(kept)
                    .map(|(o, k)| with_columns(o, k))
                    .collect()
            },
        )
    } else {
        let scorer = spec.line_scorer(steps);
        driver::run(reader, writer, &opts, |line_no, line| {
            let out = scorer.score(line_no, line);
            with_columns(out, kept_columns(&keep, line))
        })
    };
    finish_score(result, parquet_out)
}

/// Where `reward score` reads rows from: lines (JSON Lines, or a Parquet file as JSON lines),
/// or rows made from a Parquet file's Arrow arrays.
enum Input {
    Lines(Box<dyn BufRead + Send>),
    Rows(parquet::ParquetRows),
}

/// The end of `reward score`: the Parquet output's footer, the summary and the exit code.
fn finish_score(
    result: io::Result<driver::Summary>,
    parquet_out: Option<parquet::ParquetOut>,
) -> ExitCode {
    let result = result.and_then(|summary| match parquet_out {
        Some(out) => out.finish().map(|()| summary).map_err(io::Error::other),
        None => Ok(summary),
    });
    match result {
        Ok(summary) => {
            if summary.errors > 0 {
                eprintln!(
                    "{} of {} rows could not be scored (see their \"error\" records)",
                    summary.errors, summary.rows
                );
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        // A reader that stops early (`reward score … | head`) is not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The `--keep` columns of an input line (none when there are none, or the line is not an
/// object): their values as JSON, absent ones as null.
fn kept_columns(keep: &[String], line: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if keep.is_empty() {
        return None;
    }
    let row: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    Some(
        keep.iter()
            .map(|k| (k.clone(), row.get(k).cloned().unwrap_or_default()))
            .collect(),
    )
}

/// An output record with the kept columns first.
fn with_columns(
    out: reward::LineOutput,
    kept: Option<serde_json::Map<String, serde_json::Value>>,
) -> reward::LineOutput {
    let Some(mut record) = kept else {
        return out;
    };
    if let Ok(serde_json::Value::Object(rest)) = serde_json::from_str(&out.json) {
        record.extend(rest);
    }
    reward::LineOutput {
        json: serde_json::Value::Object(record).to_string(),
        is_error: out.is_error,
    }
}

/// One line per `ltl` formula: its atoms, the states of its minimal DFA (or why it has none)
/// and the median construction time over 5 runs.
fn automata(spec: &Spec) -> ExitCode {
    for a in spec.automata(5) {
        let states = match &a.states {
            Ok(n) => format!("{n} states"),
            Err(why) => format!("no automaton: {why}"),
        };
        outln!(
            "{}: {} atoms, {} formula nodes, {states}, built in {:.3} ms",
            a.formula,
            a.atoms,
            a.nodes,
            a.build_ms
        );
    }
    ExitCode::SUCCESS
}

/// Median wall time of parse + check and of JIT compilation, over 10 runs each.
fn phase_timings(path: &Path) -> Result<String, String> {
    use std::time::Instant;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut front = Vec::new();
    let mut total = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        compile(Source::file(path), &interpreter()).map_err(|e| e.to_string())?;
        front.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        compile(Source::file(path), &Options::default()).map_err(|e| e.to_string())?;
        total.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (f, t) = (median(front), median(total));
    Ok(format!(
        "{}: parse+check {f:.2} ms, jit {:.2} ms, total {t:.2} ms",
        path.display(),
        (t - f).max(0.0)
    ))
}

fn interpreter() -> Options {
    Options::default().engine(reward::Engine::Interpreter)
}

/// Compiles a spec that can score rollouts (not a library of functions).
fn compile_scoring_spec(
    path: &Path,
    params: &[String],
    options: Options,
) -> Result<Spec, ExitCode> {
    let spec = compile_with_params(path, params, options)?;
    if !spec.can_score() {
        eprintln!(
            "error: {} has no `score`: it is a library of functions (import it with `use \"{}\"`), not a reward to run",
            path.display(),
            path.display()
        );
        return Err(ExitCode::from(1));
    }
    Ok(spec)
}

fn compile_with_params(
    path: &Path,
    params: &[String],
    mut options: Options,
) -> Result<Spec, ExitCode> {
    for p in params {
        match p.split_once('=') {
            Some((k, v)) => options = options.param(k.trim(), v),
            None => {
                eprintln!("error: `--param {p}` must have the form NAME=VALUE");
                return Err(ExitCode::from(EXIT_USAGE));
            }
        }
    }
    compile(Source::file(path), &options).map_err(|diags| {
        eprint!("{diags}");
        ExitCode::from(1)
    })
}

/// Read buffer of the input: a rollout file is read in large blocks (the default 8 KiB meant a
/// system call per 8 KiB, a tenth of the time of a trace workload), and no larger than the
/// driver's reads, which then go straight from the file into its chunks.
const INPUT_BUFFER_BYTES: usize = driver::READ_BLOCK_BYTES;

fn open_input(input: &str) -> io::Result<Box<dyn BufRead + Send>> {
    if input == "-" {
        Ok(Box::new(BufReader::with_capacity(
            INPUT_BUFFER_BYTES,
            io::stdin(),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(
            INPUT_BUFFER_BYTES,
            std::fs::File::open(input)?,
        )))
    }
}

/// Every term of one rollout, with its value, for a person to read. For a `group by` spec,
/// its group is every row of the input with the same key, so the whole input is read.
fn explain(spec: &Spec, input: &str, row: u64) -> Result<String, String> {
    let mut reader = open_input(input).map_err(|e| format!("cannot read `{input}`: {e}"))?;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut rows = Vec::new();
    let mut index = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line_no == row {
            let line = std::str::from_utf8(&buf).map_err(|e| {
                format!(
                    "line {row} is not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                )
            })?;
            let decoded = spec
                .row_from_json(line.trim_end_matches(['\n', '\r']))
                .map_err(|e| format!("line {row}: {e}"))?;
            index = Some(rows.len());
            rows.push(decoded);
            if !spec.has_groups() {
                break;
            }
        } else if spec.has_groups() {
            if let Ok(line) = std::str::from_utf8(&buf) {
                if let Ok(r) = spec.row_from_json(line.trim_end_matches(['\n', '\r'])) {
                    rows.push(r);
                }
            }
        }
    }
    let Some(index) = index else {
        return Err(format!(
            "`{input}` has {line_no} lines; there is no row {row}"
        ));
    };
    spec.explain(&rows, index, row)
}
