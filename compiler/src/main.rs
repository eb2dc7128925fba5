//! The `reward` command line: check, test, score and explain reward specs.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use reward::scoring::{compile_file, on_big_stack, show_value, Spec};
use reward::testing::run_tests;
use reward_runtime::decode::decode_row;
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
    /// Score a JSON Lines file of rollouts: one output line per input line, in order.
    /// Exit 0 when every row scored, 2 when some rows were errors.
    Score {
        spec: PathBuf,
        /// JSON Lines input; `-` reads standard input.
        input: String,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Override a param: `--param name=value` (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Never show the progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Add each reward machine's per-step rewards: `"steps": {"machine": [r0, r1, …]}`.
        #[arg(long)]
        steps: bool,
        /// Execution engine: native code (`jit`) or the reference interpreter (`interp`).
        #[arg(long, value_enum, default_value_t = Engine::Jit)]
        engine: Engine,
    },
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
    /// Show the automaton of each `ltl` formula: atoms, states of its minimal DFA, build time.
    Automata { spec: PathBuf },
    /// Print the typed IR of a spec (for debugging and bug reports).
    Ir {
        spec: PathBuf,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
}

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { specs, timings } => {
            let mut ok = true;
            for spec in &specs {
                match compile_file(spec, &[]) {
                    Ok(s) => {
                        eprintln!(
                            "{}: ok ({} terms, {} tests)",
                            spec.display(),
                            s.program.terms.len(),
                            s.program.tests.len()
                        );
                        if timings {
                            match phase_timings(spec, &s) {
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
        Command::Test { specs } => {
            let mut ok = true;
            for path in &specs {
                let spec = match compile_file(path, &[]) {
                    Ok(s) => s,
                    Err(diags) => {
                        eprint!("{diags}");
                        ok = false;
                        continue;
                    }
                };
                let Some(report) = on_big_stack(|| run_tests(&spec)) else {
                    eprintln!(
                        "error: internal error while running the tests of {}",
                        path.display()
                    );
                    ok = false;
                    continue;
                };
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
        Command::Score {
            spec,
            input,
            output,
            params,
            threads,
            no_progress,
            engine,
            steps,
        } => {
            let spec = match compile_scoring_spec(&spec, &params) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let reader = match open_input(&input) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot read `{input}`: {e}");
                    return ExitCode::from(1);
                }
            };
            let writer: Box<dyn Write> = match &output {
                Some(path) => match std::fs::File::create(path) {
                    Ok(f) => Box::new(io::BufWriter::new(f)),
                    Err(e) => {
                        eprintln!("error: cannot write `{}`: {e}", path.display());
                        return ExitCode::from(1);
                    }
                },
                None => Box::new(io::BufWriter::new(io::stdout().lock())),
            };
            let opts = DriverOptions {
                threads,
                progress: !no_progress && io::stderr().is_terminal(),
                ..DriverOptions::default()
            };
            let interp = spec.interpreter();
            let jit;
            let backend: &dyn reward::backend::Backend = match engine {
                Engine::Interp => &interp,
                Engine::Jit => match reward::jit::compile(&spec.program) {
                    Ok(program) => {
                        jit = program;
                        &jit
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(1);
                    }
                },
            };
            let result = if spec.program.group.is_some() {
                // Group-level terms need every row of a group: the whole input first.
                driver::run_all(reader, writer, &opts, |lines| {
                    spec.score_all(backend, lines, steps)
                })
            } else {
                driver::run(reader, writer, &opts, |line_no, line| {
                    spec.score_line_with(backend, line_no, line, steps)
                })
            };
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
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Explain {
            spec,
            input,
            row,
            params,
        } => {
            let spec = match compile_scoring_spec(&spec, &params) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match on_big_stack(|| explain(&spec, &input, row))
                .unwrap_or_else(|| Err("internal error while explaining this row".into()))
            {
                Ok(text) => {
                    out!("{text}");
                    ExitCode::SUCCESS
                }
                Err(msg) => {
                    eprintln!("error: {msg}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Build {
            spec,
            output,
            params,
            runtime,
        } => {
            let spec = match compile_scoring_spec(&spec, &params) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match build_library(&spec, &output, runtime.as_deref()) {
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
        } => {
            let compat_original = match compat.as_deref() {
                None => false,
                Some("original") => true,
                Some(other) => {
                    eprintln!("error: unknown compat mode `{other}` (the only one is `original`)");
                    return ExitCode::from(1);
                }
            };
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", file.display());
                    return ExitCode::from(1);
                }
            };
            let rm = match reward::import_rm::parse(&text) {
                Ok(rm) => rm,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return ExitCode::from(1);
                }
            };
            let spec =
                reward::import_rm::to_spec(&rm, &file.display().to_string(), compat_original);
            match output {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, spec) {
                        eprintln!("error: cannot write `{}`: {e}", path.display());
                        return ExitCode::from(1);
                    }
                }
                None => out!("{spec}"),
            }
            ExitCode::SUCCESS
        }
        Command::Automata { spec } => {
            let spec = match compile_with_params(&spec, &[]) {
                Ok(s) => s,
                Err(code) => return code,
            };
            automata(&spec)
        }
        Command::Ir { spec, params } => {
            let spec = match compile_with_params(&spec, &params) {
                Ok(s) => s,
                Err(code) => return code,
            };
            out!("{}", reward::ir::print_program(&spec.program));
            ExitCode::SUCCESS
        }
    }
}

/// One line per `ltl` formula: its atoms, the states of its minimal DFA (or why it has none)
/// and the median construction time over 5 runs.
fn automata(spec: &Spec) -> ExitCode {
    use reward::ir::ExprKind;
    use reward_runtime::ltl::decode_nodes;
    let mut seen: Vec<String> = Vec::new();
    for term in &spec.program.terms {
        let ExprKind::Call(id, args) = &term.body.expr.kind else {
            continue;
        };
        if !reward_runtime::builtins::BUILTINS[*id]
            .name
            .starts_with("ltl_")
        {
            continue;
        }
        let Some(ExprKind::Const(reward_runtime::Value::Record(table))) =
            args.first().map(|a| &a.kind)
        else {
            continue;
        };
        let name = table[0].as_text().to_string();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let Ok(nodes) = decode_nodes(&table[1]) else {
            continue;
        };
        let atoms = reward_runtime::ltl::atom_count(&nodes);
        let mut times = Vec::new();
        let mut states = String::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let built = reward::automaton::build(&nodes, atoms);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            states = match built {
                Ok(d) => format!("{} states", d.states()),
                Err(reward::automaton::TooBig::Atoms(n)) => format!(
                    "no automaton: {n} atoms (at most {})",
                    reward::automaton::MAX_ATOMS
                ),
                Err(reward::automaton::TooBig::States) => format!(
                    "no automaton: more than {} states",
                    reward::automaton::MAX_STATES
                ),
            };
        }
        times.sort_by(f64::total_cmp);
        outln!(
            "{name}: {atoms} atoms, {} formula nodes, {states}, built in {:.3} ms",
            nodes.len(),
            times[2]
        );
    }
    ExitCode::SUCCESS
}

/// Median wall time of parse + check and of JIT compilation, over 10 runs each.
fn phase_timings(path: &Path, spec: &Spec) -> Result<String, String> {
    use std::time::Instant;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut front = Vec::new();
    let mut jit = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        reward::scoring::compile_source(&path.display().to_string(), &text, &dir, &[])?;
        front.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        reward::jit::compile(&spec.program).map_err(|e| e.to_string())?;
        jit.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (f, j) = (median(front), median(jit));
    Ok(format!(
        "{}: parse+check {f:.2} ms, jit {j:.2} ms, total {:.2} ms",
        path.display(),
        f + j
    ))
}

fn build_library(spec: &Spec, output: &Path, runtime: Option<&Path>) -> Result<PathBuf, String> {
    let object = reward::aot::object_file(spec)?;
    let runtime = reward::aot::find_runtime(runtime)?;
    reward::aot::link(&object, &runtime, output)?;
    let stem = output
        .file_stem()
        .map_or("libreward".into(), |s| s.to_string_lossy().into_owned());
    let header = output.with_file_name(format!("{stem}.h"));
    std::fs::write(&header, reward::aot::header(spec, &stem))
        .map_err(|e| format!("cannot write {}: {e}", header.display()))?;
    Ok(header)
}

/// Compiles a spec that can score rollouts (not a library of functions).
fn compile_scoring_spec(path: &Path, params: &[String]) -> Result<Spec, ExitCode> {
    let spec = compile_with_params(path, params)?;
    if spec.program.score.is_none() {
        eprintln!(
            "error: {} has no `score`: it is a library of functions (import it with `use \"{}\"`), not a reward to run",
            path.display(),
            path.display()
        );
        return Err(ExitCode::from(1));
    }
    Ok(spec)
}

fn compile_with_params(path: &Path, params: &[String]) -> Result<Spec, ExitCode> {
    let mut overrides = Vec::new();
    for p in params {
        match p.split_once('=') {
            Some((k, v)) => overrides.push((k.trim().to_string(), v.to_string())),
            None => {
                eprintln!("error: `--param {p}` must have the form NAME=VALUE");
                return Err(ExitCode::from(1));
            }
        }
    }
    compile_file(path, &overrides).map_err(|diags| {
        eprint!("{diags}");
        ExitCode::from(1)
    })
}

fn open_input(input: &str) -> io::Result<Box<dyn BufRead>> {
    if input == "-" {
        Ok(Box::new(BufReader::new(io::stdin())))
    } else {
        Ok(Box::new(BufReader::new(std::fs::File::open(input)?)))
    }
}

/// Every term of one rollout, with its value, for a person to read.
/// The values of row `row` of a `group by` spec: its group is every row of the input with the
/// same key, so the whole input is scored.
fn group_row(
    spec: &Spec,
    interp: &reward::interp::Interpreter<'_>,
    input: &str,
    row: u64,
    value: reward_runtime::Value,
) -> Result<Result<Vec<reward_runtime::Value>, reward::interp::RuntimeError>, String> {
    let reader = open_input(input).map_err(|e| format!("cannot read `{input}`: {e}"))?;
    let mut inputs = Vec::new();
    let mut position = None;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        if i as u64 + 1 == row {
            position = Some(inputs.len());
            inputs.push(value.clone());
        } else if let Ok(v) = decode_row(&line, spec.input_type()) {
            inputs.push(v);
        }
    }
    let position = position.ok_or_else(|| format!("there is no row {row}"))?;
    Ok(spec.eval_batch(interp, &inputs).swap_remove(position))
}

fn explain(spec: &Spec, input: &str, row: u64) -> Result<String, String> {
    use std::fmt::Write as _;
    let mut reader = open_input(input).map_err(|e| format!("cannot read `{input}`: {e}"))?;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!(
                "`{input}` has {line_no} lines; there is no row {row}"
            ));
        }
        line_no += 1;
        if line_no == row {
            break;
        }
    }
    let line = String::from_utf8(buf).map_err(|e| {
        format!(
            "line {row} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let line = line.trim_end_matches(['\n', '\r']);
    let value = decode_row(line, spec.input_type()).map_err(|e| format!("line {row}: {e}"))?;
    let interp = spec.interpreter();
    let mut out = String::new();
    let _ = writeln!(out, "row {row}");
    if let Some(input_ty) = &spec.program.input {
        if let (reward_runtime::Value::Record(values), reward_runtime::Ty::Record(fields)) =
            (&value, input_ty)
        {
            let _ = writeln!(out, "input:");
            for (v, f) in values.iter().zip(fields.iter()) {
                let _ = writeln!(out, "  {:<24} = {}", f.name, show_value(v, &f.ty));
            }
        }
    }
    let result = if spec.program.group.is_some() {
        group_row(spec, &interp, input, row, value.clone())?
    } else {
        interp.eval_row(&value)
    };
    match result {
        Ok(values) => {
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
        Err(e) => {
            let term = e.term.map_or(String::new(), |t| {
                format!(" while computing `{}`", spec.program.terms[t].name)
            });
            Err(format!(
                "line {row} could not be scored{term}: {} (at {})",
                e.message,
                spec.locate(&e)
            ))
        }
    }
}
