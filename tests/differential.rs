//! Differential tests: the Cranelift JIT against the reference interpreter.
//!
//! The interpreter is the meaning of the language. For every program and row, the JIT must compute
//! the same term values (floats bit for bit: `Value::same`, plus the sign of zeros, which the JSON
//! output shows) or the same row error (message, span and term). Three sources of programs:
//!
//! 1. the shipped examples with their sample rollouts and their test inputs, the stdlib's test
//!    expectations turned into terms, and the CLI (`reward score --engine jit|interp`);
//! 2. hand-written edge cases (NaN, infinities, signed zeros, overflow, empty aggregates, …), each
//!    with rows chosen to reach them at run time (constants are folded by the interpreter at
//!    compile time, so every interesting value comes from the row);
//! 3. type-directed random programs over a fixed input schema with random (and extreme) rows.
//!
//! On a disagreement the failure prints the spec source, its IR, the JIT's CLIF, the row and both
//! results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use reward::internals::backend::Backend;
use reward::internals::interp::{Interpreter, RuntimeError};
use reward::internals::jit::JitProgram;
use reward::internals::scoring::{compile_file, compile_source, Spec};
use reward::internals::testing::param_overrides;
use reward_runtime::decode::decode_row;
use reward_runtime::Value;

// ================================================================ harness

#[path = "common/edge_specs.rs"]
mod edge_specs;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the compiler crate lives in the workspace")
        .to_path_buf()
}

type RowResult = Result<Vec<Value>, RuntimeError>;

/// One row on which the engines disagree.
struct Mismatch {
    /// The row and what differs.
    summary: String,
    /// Both results in full.
    detail: String,
}

/// A compiled spec with both engines.
struct Engines<'s> {
    label: String,
    spec: &'s Spec,
    interp: Interpreter<'s>,
    jit: JitProgram,
    clif: String,
}

impl<'s> Engines<'s> {
    fn new(label: &str, spec: &'s Spec) -> Engines<'s> {
        let (jit, clif) =
            reward::internals::jit::compile_with_clif(&spec.program).unwrap_or_else(|e| {
                panic!(
                    "{label}: the JIT cannot compile a checked program: {e}\n--- IR:\n{}",
                    reward::internals::ir::print_program(&spec.program)
                )
            });
        Engines {
            label: label.to_string(),
            spec,
            interp: spec.interpreter(),
            jit,
            clif,
        }
    }

    /// Runs both engines on `row`. `Ok` carries the (agreed) interpreter result; `Err` a
    /// description of the disagreement, without the spec (see [`Engines::report`]).
    fn run(&self, row: &Value, row_text: &str) -> Result<RowResult, Mismatch> {
        assert_eq!(self.interp.name(), "interp");
        assert_eq!(self.jit.name(), "jit");
        let a = self.interp.eval_row(row);
        let b = self.jit.eval_row(row);
        match disagreement(self.spec, &a, &b) {
            None => Ok(a),
            Some(what) => Err(Mismatch {
                summary: format!("--- row: {row_text}\n    {what}\n"),
                detail: format!(
                    "--- decoded row: {}\n--- interp: {}\n--- jit:    {}\n",
                    show(row),
                    show_result(self.spec, &a),
                    show_result(self.spec, &b),
                ),
            }),
        }
    }

    /// Runs both engines on a JSON line; the line must decode.
    fn run_line(&self, line: &str) -> Result<RowResult, Mismatch> {
        let row = decode_row(line, self.spec.input_type()).unwrap_or_else(|e| {
            panic!("{}: row {line} does not decode: {}", self.label, e.message)
        });
        self.run(&row, line)
    }

    /// The full failure message for a list of disagreements on this spec.
    fn report(&self, mismatches: &[Mismatch]) -> String {
        let mut out = format!(
            "\n==== JIT and interpreter disagree on {} ({} row{})\n",
            self.label,
            mismatches.len(),
            if mismatches.len() == 1 { "" } else { "s" }
        );
        // The first rows with both full results, then one line per row.
        for (i, m) in mismatches.iter().enumerate().take(30) {
            out.push_str(&m.summary);
            if i < 2 {
                out.push_str(&m.detail);
            }
        }
        if mismatches.len() > 30 {
            let _ = writeln!(out, "… and {} more rows", mismatches.len() - 30);
        }
        let root = reward::internals::diag::FileId(0);
        let _ = write!(
            out,
            "--- spec source ({}):\n{}\n--- IR:\n{}\n--- CLIF:\n{}\n",
            self.spec.sources.name(root),
            self.spec.sources.text(root),
            reward::internals::ir::print_program(&self.spec.program),
            self.clif
        );
        out
    }

    /// Runs every line, panicking with the full report if any row disagrees. Returns the
    /// interpreter's results.
    fn check_lines(&self, lines: &[&str]) -> Vec<RowResult> {
        let mut results = Vec::new();
        let mut mismatches = Vec::new();
        for line in lines {
            match self.run_line(line) {
                Ok(r) => results.push(r),
                Err(m) => mismatches.push(m),
            }
        }
        if !mismatches.is_empty() {
            panic!("{}", self.report(&mismatches));
        }
        results
    }

    fn term_id(&self, name: &str) -> usize {
        self.spec
            .program
            .terms
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("{}: no term `{name}`", self.label))
    }
}

/// Term values are identical: `Value::same` (floats by bits or `==`, so equal NaNs and equal
/// numbers), and also the same sign for zeros, which `==` does not see but the JSON output does
/// (`-0.0` vs `0.0`): floats must agree bit for bit.
fn identical(a: &Value, b: &Value) -> bool {
    fn zero_signs_agree(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x.is_sign_negative() == y.is_sign_negative() || x.is_nan()
            }
            (Value::List(p), Value::List(q)) | (Value::Record(p), Value::Record(q)) => {
                p.iter().zip(q.iter()).all(|(x, y)| zero_signs_agree(x, y))
            }
            _ => true,
        }
    }
    a.same(b) && zero_signs_agree(a, b)
}

/// `None` when both results agree; otherwise what differs.
fn disagreement(spec: &Spec, a: &RowResult, b: &RowResult) -> Option<String> {
    match (a, b) {
        (Ok(x), Ok(y)) => {
            if x.len() != y.len() {
                return Some(format!("{} term values vs {}", x.len(), y.len()));
            }
            let differing: Vec<String> = x
                .iter()
                .zip(y)
                .enumerate()
                .filter(|(_, (p, q))| !identical(p, q))
                .map(|(i, (p, q))| {
                    format!(
                        "term `{}`: interp {} / jit {}",
                        spec.program.terms[i].name,
                        show(p),
                        show(q)
                    )
                })
                .collect();
            (!differing.is_empty()).then(|| format!("differing terms: {}", differing.join("; ")))
        }
        (Err(x), Err(y)) => {
            let mut what = Vec::new();
            if x.message != y.message {
                what.push("message");
            }
            if x.span != y.span {
                what.push("span");
            }
            if x.term != y.term {
                what.push("term");
            }
            (!what.is_empty()).then(|| format!("both failed, but the {} differ", what.join(", ")))
        }
        (Ok(_), Err(_)) => Some("only the JIT failed".into()),
        (Err(_), Ok(_)) => Some("only the interpreter failed".into()),
    }
}

/// A value for a failure message: floats in shortest form, NaN with its bits (payload and sign
/// are part of "bit for bit"), texts quoted.
fn show(v: &Value) -> String {
    match v {
        Value::Float(x) if x.is_nan() => format!("NaN[0x{:016x}]", x.to_bits()),
        Value::Float(x) => reward_runtime::value::format_float(*x),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Record(items) => {
            format!(
                "{{{}}}",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Int(i) => format!("{i}i"),
        other => other.to_string(),
    }
}

fn show_result(spec: &Spec, r: &RowResult) -> String {
    match r {
        Ok(values) => {
            let parts: Vec<String> = values
                .iter()
                .zip(&spec.program.terms)
                .map(|(v, t)| format!("{}: {} = {}", t.name, t.ty, show(v)))
                .collect();
            format!("Ok {{ {} }}", parts.join(", "))
        }
        Err(e) => format!(
            "Err {{ message: {:?}, at: {} (span {:?}), term: {} }}",
            e.message,
            spec.locate(e),
            e.span,
            e.term.map_or("none".to_string(), |t| format!(
                "`{}`",
                spec.program.terms[t].name
            ))
        ),
    }
}

fn compile_case(name: &str, text: &str) -> Spec {
    compile_source(name, text, &repo_root(), &[])
        .unwrap_or_else(|d| panic!("edge case {name} does not compile:\n{d}\n--- source:\n{text}"))
}

// ================================================================ 1. examples, stdlib, CLI

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Param overrides as `reward score --param` takes them.
type Overrides = Vec<(String, String)>;

/// The `given` inputs of a spec's tests (as values), compiled with the test's params when it sets
/// some: `(label, spec the row belongs to, row)`.
fn test_rows(spec: &Spec, path: &Path) -> Vec<(String, Option<Spec>, Value)> {
    let mut out = Vec::new();
    for test in &spec.program.tests {
        let variant = if test.params.is_empty() {
            None
        } else {
            let overrides: Overrides = param_overrides(spec, test);
            Some(compile_file(path, &overrides).unwrap_or_else(|d| {
                panic!(
                    "{}: test {:?} does not compile with its params:\n{d}",
                    path.display(),
                    test.name
                )
            }))
        };
        let given = spec
            .interpreter()
            .eval_body(&test.given, &Value::None, &[])
            .unwrap_or_else(|e| {
                panic!("test {:?}: given cannot be built: {}", test.name, e.message)
            });
        out.push((format!("test {:?}", test.name), variant, given));
    }
    out
}

#[test]
fn examples_agree_on_their_rollouts_and_test_inputs() {
    let examples = files_with_ext(&repo_root().join("examples"), "reward");
    assert!(
        examples.len() >= 6,
        "expected the shipped examples, found {examples:?}"
    );
    let mut failures = String::new();
    let mut rows_compared = 0;
    for path in &examples {
        let spec = compile_file(path, &[])
            .unwrap_or_else(|d| panic!("{} does not compile:\n{d}", path.display()));
        let engines = Engines::new(&path.display().to_string(), &spec);
        let jsonl = path.with_extension("jsonl");
        let text = std::fs::read_to_string(&jsonl)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", jsonl.display()));
        let mut mismatches = Vec::new();
        let mut lines = 0;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            // Rows that do not decode never reach an engine (the CLI test covers them).
            let Ok(row) = decode_row(line, spec.input_type()) else {
                continue;
            };
            lines += 1;
            if let Err(m) = engines.run(&row, &format!("{}:{}: {line}", jsonl.display(), i + 1)) {
                mismatches.push(m);
            }
        }
        assert!(lines > 0, "{} has no decodable rows", jsonl.display());
        rows_compared += lines;
        // The inputs of the spec's own tests.
        for (label, variant, given) in test_rows(&spec, path) {
            let row_text = format!("{} {label}: {given}", path.display());
            rows_compared += 1;
            match &variant {
                None => {
                    if let Err(m) = engines.run(&given, &row_text) {
                        mismatches.push(m);
                    }
                }
                Some(v) => {
                    // The spec compiled with this test's params.
                    let e = Engines::new(&format!("{} ({label})", path.display()), v);
                    if let Err(m) = e.run(&given, &row_text) {
                        failures.push_str(&e.report(&[m]));
                    }
                }
            }
        }
        if !mismatches.is_empty() {
            failures.push_str(&engines.report(&mismatches));
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(rows_compared > 50, "only {rows_compared} rows compared");
}

/// The stdlib modules are libraries (no input), so their tests have no `given`; each `expect`
/// becomes a `rule` of a spec made of the module's own text plus an empty input, and both engines
/// compute those rules.
#[test]
fn stdlib_test_expectations_agree_as_terms() {
    let modules = files_with_ext(&repo_root().join("stdlib"), "reward");
    assert!(
        modules.len() >= 5,
        "expected the stdlib modules, found {modules:?}"
    );
    let mut failures = String::new();
    let mut expectations = 0;
    for path in &modules {
        let lib = compile_file(path, &[])
            .unwrap_or_else(|d| panic!("{} does not compile:\n{d}", path.display()));
        let original = std::fs::read_to_string(path).expect("readable stdlib module");
        // Group expectations by the params their test sets (a spec per distinct setting).
        let mut groups: Vec<(Overrides, Vec<String>)> = Vec::new();
        for test in &lib.program.tests {
            let overrides: Overrides = param_overrides(&lib, test);
            let exprs: Vec<String> = test
                .expects
                .iter()
                .map(|e| lib.sources.snippet(e.span).to_string())
                .collect();
            match groups.iter_mut().find(|(o, _)| *o == overrides) {
                Some((_, v)) => v.extend(exprs),
                None => groups.push((overrides, exprs)),
            }
        }
        for (overrides, exprs) in groups {
            let mut text = original.clone();
            text.push_str("\n// ---- added by tests/differential.rs\ninput { }\n");
            for (i, e) in exprs.iter().enumerate() {
                assert!(
                    !e.trim().is_empty(),
                    "{}: empty expectation snippet",
                    path.display()
                );
                let _ = writeln!(text, "rule expect_{i} = ({e})");
            }
            text.push_str("score = 0.0\n");
            let name = path.display().to_string();
            let spec = compile_source(&name, &text, path.parent().unwrap(), &overrides)
                .unwrap_or_else(|d| panic!("{name} with its expectations as rules:\n{d}\n{text}"));
            let engines = Engines::new(&format!("{name} (params {overrides:?})"), &spec);
            match engines.run_line("{}") {
                Ok(Ok(values)) => {
                    // Sanity: the rules are the expectations, and `reward test` passes them.
                    for (i, e) in exprs.iter().enumerate() {
                        let v = &values[engines.term_id(&format!("expect_{i}"))];
                        assert!(
                            matches!(v, Value::Bool(true)),
                            "{name}: expectation `{e}` is {v} when computed as a term"
                        );
                    }
                    expectations += exprs.len();
                }
                Ok(Err(e)) => panic!("{name}: the expectations fail to compute: {}", e.message),
                Err(m) => failures.push_str(&engines.report(&[m])),
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(
        expectations > 40,
        "only {expectations} stdlib expectations compared"
    );
}

#[test]
fn cli_score_output_is_identical_with_both_engines() {
    let bin = env!("CARGO_BIN_EXE_reward");
    for path in files_with_ext(&repo_root().join("examples"), "reward") {
        let input = path.with_extension("jsonl");
        let run = |engine: &str| {
            let out = Command::new(bin)
                .arg("score")
                .arg(&path)
                .arg(&input)
                .args(["--engine", engine])
                .output()
                .expect("the reward binary runs");
            (out.status.code(), out.stdout, out.stderr)
        };
        let (jit_code, jit_out, jit_err) = run("jit");
        let (int_code, int_out, int_err) = run("interp");
        let lines = std::fs::read_to_string(&input)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        assert_eq!(
            String::from_utf8_lossy(&int_out).lines().count(),
            lines,
            "{}: one output line per input line",
            path.display()
        );
        assert!(
            jit_out == int_out,
            "{}: `reward score` output differs between engines\n--- jit:\n{}\n--- interp:\n{}",
            path.display(),
            String::from_utf8_lossy(&jit_out),
            String::from_utf8_lossy(&int_out)
        );
        assert_eq!(
            (jit_code, String::from_utf8_lossy(&jit_err)),
            (int_code, String::from_utf8_lossy(&int_err)),
            "{}: exit code or stderr differs between engines",
            path.display()
        );
        assert!(
            matches!(int_code, Some(0 | 2)),
            "{}: exit code {int_code:?}",
            path.display()
        );
    }
}

// ================================================================ 2. hand-written edge cases

/// A spec run on both engines, with the interpreter's (agreed) results.
struct Checked {
    name: String,
    spec: Spec,
    results: Vec<RowResult>,
}

/// Compiles `src`, runs both engines on every row, panics on any disagreement.
fn check_case(name: &str, src: &str, lines: &[&str]) -> Checked {
    let spec = compile_case(name, src);
    let results = Engines::new(name, &spec).check_lines(lines);
    Checked {
        name: name.to_string(),
        spec,
        results,
    }
}

impl Checked {
    fn value(&self, row: usize, term: &str) -> &Value {
        let id = self
            .spec
            .program
            .terms
            .iter()
            .position(|t| t.name == term)
            .unwrap_or_else(|| panic!("{}: no term `{term}`", self.name));
        match &self.results[row] {
            Ok(values) => &values[id],
            Err(e) => panic!("{}: row {row} failed: {}", self.name, e.message),
        }
    }

    fn float(&self, row: usize, term: &str) -> f64 {
        match self.value(row, term) {
            Value::Float(x) => *x,
            other => panic!(
                "{}: row {row}: `{term}` is {other:?}, not a float",
                self.name
            ),
        }
    }

    fn int(&self, row: usize, term: &str) -> i64 {
        match self.value(row, term) {
            Value::Int(i) => *i,
            other => panic!(
                "{}: row {row}: `{term}` is {other:?}, not an int",
                self.name
            ),
        }
    }

    fn bool(&self, row: usize, term: &str) -> bool {
        match self.value(row, term) {
            Value::Bool(b) => *b,
            other => panic!(
                "{}: row {row}: `{term}` is {other:?}, not a bool",
                self.name
            ),
        }
    }

    fn text(&self, row: usize, term: &str) -> String {
        match self.value(row, term) {
            Value::Text(t) => t.to_string(),
            other => panic!(
                "{}: row {row}: `{term}` is {other:?}, not a text",
                self.name
            ),
        }
    }

    /// The row's error: `(message, term name, source snippet of the span)`.
    fn error(&self, row: usize) -> (String, String, String) {
        match &self.results[row] {
            Err(e) => (
                e.message.clone(),
                e.term
                    .map_or(String::new(), |t| self.spec.program.terms[t].name.clone()),
                self.spec.sources.snippet(e.span).to_string(),
            ),
            Ok(v) => panic!(
                "{}: row {row} was expected to fail but gave {}",
                self.name,
                show_result(&self.spec, &Ok(v.clone()))
            ),
        }
    }
}

fn bits(x: f64) -> u64 {
    x.to_bits()
}

const I64_MAX: &str = "9223372036854775807";
const I64_MIN: &str = "-9223372036854775808";

/// Rows for the float cases: `big` overflows to ±inf when multiplied by 10, and NaN comes from
/// `inf - inf` and `0 / 0` at run time (JSON has neither, and constants are folded by the
/// interpreter at compile time, so they would not exercise the JIT).
fn float_rows() -> Vec<String> {
    [
        "2.5",
        "-2.5",
        "0.5",
        "-0.5",
        "1.5",
        "-0.0",
        "0.0",
        "3.0",
        "-7.25",
        "1e300",
        "-1e300",
        "5e-324",
        "-5e-324",
        "1.7976931348623157e308",
        "4503599627370497.0",
    ]
    .iter()
    .flat_map(|y| {
        ["0.0", "-0.0"]
            .iter()
            .map(move |z| format!(r#"{{"big": 1e308, "y": {y}, "z": {z}}}"#))
    })
    .collect()
}

const FLOAT_PRELUDE: &str = r#"
input { big: float, y: float, z: float }
let inf = big * 10.0
let ninf = -big * 10.0
let nan = inf - inf
let nan2 = z / z
let nz = -z
"#;

/// `min`/`max`/`clip` with a NaN operand: NaN, bit for bit the same on both engines.
#[test]
fn min_max_clip_propagate_nan_bit_for_bit() {
    let src = format!(
        "{FLOAT_PRELUDE}{}",
        r#"
let min_nan_l = min(nan, y)
let min_nan_r = min(y, nan)
let max_nan_l = max(nan, y)
let max_nan_r = max(y, nan2)
let clip_nan = clip(nan, 0.0, 1.0)
let clip_nan_lo = clip(y, nan, 1.0)
let clip_nan_hi = clip(y, -1.0, nan)
score = y
"#
    );
    let rows = float_rows();
    let lines: Vec<&str> = rows.iter().map(String::as_str).collect();
    let c = check_case("min_max_clip_nan", &src, &lines);
    for row in 0..lines.len() {
        for term in [
            "min_nan_l",
            "min_nan_r",
            "max_nan_l",
            "max_nan_r",
            "clip_nan",
            "clip_nan_lo",
        ] {
            assert!(c.float(row, term).is_nan(), "{term} must be NaN");
        }
    }
}

#[test]
fn floats_infinities_signed_zeros_and_nan_arithmetic() {
    let src = format!(
        "{FLOAT_PRELUDE}{}",
        r#"
let min_inf = min(ninf, y)
let max_inf = max(inf, y)
// -0.0 is below +0.0 for min/max, whatever the order.
let min_zero_a = min(z, nz)
let min_zero_b = min(nz, z)
let max_zero_a = max(z, nz)
let max_zero_b = max(nz, z)
let min_y = min(y, z)
let max_y = max(y, z)
let clip_inf = clip(inf, 0.0, 1.0)
let clip_ninf = clip(ninf, 0.0, 1.0)
let clip_nz = clip(nz, 0.0, 1.0)
let clip_y = clip(y, -1.0, 1.0)
let clip_inverted = clip(y, 1.0, 0.0)
let clip_int_bounds = clip(y, 0, 1)
let round_y = round(y)
let floor_y = floor(y)
let ceil_y = ceil(y)
let trunc_y = trunc(y)
let round_nan = round(nan)
let floor_inf = floor(ninf)
let abs_nz = abs(nz)
let abs_y = abs(y)
let abs_ninf = abs(ninf)
let abs_nan = abs(nan)
let neg_nan = -nan
let sqrt_y = sqrt(y)
let sqrt_nz = sqrt(nz)
let exp_y = exp(y)
let log_y = log(y)
let log_z = log(z)
let log2_y = log2(y)
let log10_y = log10(y)
let sin_y = sin(y)
let cos_inf = cos(inf)
let tanh_y = tanh(y)
let sig_y = sigmoid(y)
let sig_ninf = sigmoid(ninf)
let pow_y = pow(y, 0.5)
let pow_nan0 = pow(nan, 0.0)
let pow_inf = pow(inf, y)
let pow_z = pow(z, -1.0)
let div_z = y / z
let div_inf = y / inf
let rem_z = y % z
let rem_pos = y % 2.0
let rem_neg = y % -2.0
let rem_inf = y % inf
let rem_ninf = y % ninf
let rem_of_inf = inf % 2.0
let rem_zero = z % 2.0
let rem_nzero = nz % -2.0
rule eq_nan = nan == nan
rule ne_nan = nan != nan
rule lt_nan = nan < y
rule ge_nan = nan >= y
rule gt_nan_r = y > nan
rule le_nan_r = y <= nan
rule zeros_equal = z == nz
rule zeros_ordered = nz < z
rule inf_above = inf > big
rule ninf_below = ninf < -big
rule is_nan_nan = is_nan(nan) and is_nan(nan2)
rule finite_y = is_finite(y)
rule finite_inf = is_finite(inf)
rule approx_nan = approx(nan, nan2)
rule approx_inf = approx(inf, inf)
rule approx_y = approx(y, y + 1e-12)
let sum_mixed = inf + ninf + y
let scaled = y * 1e308 * 1e10
let tiny = y * 5e-324
let to_int_ok = int(y)
score = y
"#
    );
    let rows = float_rows();
    let lines: Vec<&str> = rows.iter().map(String::as_str).collect();
    let c = check_case("floats", &src, &lines);
    // Rows come in pairs: z = 0.0, then z = -0.0. Row 0: y = 2.5; row 2: y = -2.5; row 6: y = -0.5.
    for row in [0, 1] {
        assert_eq!(
            bits(c.float(row, "min_zero_a")),
            bits(-0.0),
            "min(±0.0, ∓0.0) is -0.0"
        );
        assert_eq!(bits(c.float(row, "min_zero_b")), bits(-0.0));
        assert_eq!(
            bits(c.float(row, "max_zero_a")),
            bits(0.0),
            "max(±0.0, ∓0.0) is +0.0"
        );
        assert_eq!(bits(c.float(row, "max_zero_b")), bits(0.0));
    }
    assert_eq!(c.float(0, "round_y"), 2.0, "round is ties-to-even");
    assert_eq!(c.float(2, "round_y"), -2.0);
    assert_eq!(
        bits(c.float(6, "round_y")),
        bits(-0.0),
        "round(-0.5) is -0.0"
    );
    assert_eq!(c.float(0, "min_inf"), f64::NEG_INFINITY);
    assert_eq!(c.float(0, "clip_inf"), 1.0);
    assert_eq!(c.float(0, "clip_ninf"), 0.0);
    assert_eq!(
        c.float(0, "clip_inverted"),
        0.0,
        "clip(x, 1, 0) = min(max(x, 1), 0)"
    );
    assert_eq!(c.float(0, "div_z"), f64::INFINITY);
    assert_eq!(c.float(1, "div_z"), f64::NEG_INFINITY);
    assert_eq!(
        c.float(2, "rem_pos"),
        1.5,
        "-2.5 % 2.0 is 1.5 (sign of the divisor)"
    );
    assert_eq!(c.float(0, "rem_neg"), -1.5, "2.5 % -2.0 is -1.5");
    assert!(c.float(0, "rem_z").is_nan());
    assert_eq!(
        c.float(2, "rem_inf"),
        f64::INFINITY,
        "-2.5 % inf is inf, as in Python"
    );
    assert_eq!(c.float(0, "pow_nan0"), 1.0);
    assert_eq!(c.float(0, "sig_ninf"), 0.0);
    assert!(c.float(0, "abs_nan").is_nan() && c.float(0, "round_nan").is_nan());
    assert!(!c.bool(0, "eq_nan") && c.bool(0, "ne_nan"));
    assert!(!c.bool(0, "lt_nan") && !c.bool(0, "ge_nan"));
    assert!(!c.bool(0, "gt_nan_r") && !c.bool(0, "le_nan_r"));
    assert!(c.bool(0, "zeros_equal") && !c.bool(0, "zeros_ordered"));
    assert!(c.bool(0, "is_nan_nan") && c.bool(0, "approx_nan") && c.bool(0, "approx_inf"));
}

/// `mean`/`min`/`max`/`argmax` over empty lists are none; the other aggregates have their
/// neutral values. NaN elements (made at run time: `x / x` for x = 0) are skipped by `argmax` and
/// poison `mean`/`sum`.
#[test]
fn aggregates_over_empty_and_nan_lists() {
    let src = r#"
input { xs: list[float], ns: list[int], ts: list[text] }
let mean_x: float? = mean(xs)
let min_x = min(xs)
let max_x = max(xs)
let arg_x = argmax(xs)
let mean_n = mean(ns)
let min_n = min(ns)
let max_n = max(ns)
let arg_n = argmax(ns)
let min_t = min(ts)
let max_t = max(ts)
let sum_x = sum(xs)
let prod_x = product(xs)
let sum_n = sum(ns)
let prod_n = product(ns)
let count_x = count(xs)
let count_pos = count(for x in xs if x > 0.0)
let count_flags = count(for x in xs: x >= 0.0)
rule any_pos = any(for x in xs: x > 0.0)
rule all_pos = all(for x in xs: x > 0.0)
let mean_or = mean(xs) ?? -1.0
let arg_or = argmax(xs) ?? -1
let mean_len = mean(for t in ts: len(t)) ?? -1.0
let frac_long = mean(for t in ts: len(t) > 2) ?? -1.0
// NaN where an element is zero.
let arg_nan = argmax(for x in xs: x / x * x)
let mean_nan = mean(for x in xs: x / x)
let sum_nan = sum(for x in xs: x / x)
let prod_nan = product(for x in xs: x / x)
let filtered_min = min(for x in xs if x == x and x != 0.0: x)
let filtered_arg = argmax(for x in xs if x < 0.0: -x)
let arg_int_body = argmax(for x in xs: len(ts) - int(x))
score = mean_or
"#;
    let lines = [
        r#"{"xs": [], "ns": [], "ts": []}"#,
        r#"{"xs": [1.0, 0.0, -2.0], "ns": [3, -1, 3], "ts": ["b", "abc", "a"]}"#,
        r#"{"xs": [0.0], "ns": [0], "ts": [""]}"#,
        r#"{"xs": [-0.0, 0.0], "ns": [-5, -5], "ts": ["é", "e", "z"]}"#,
        r#"{"xs": [0.0, -0.0], "ns": [9223372036854775807], "ts": ["ab", "ab"]}"#,
        r#"{"xs": [3.0, 3.0], "ns": [2, 7, 7, 1], "ts": ["日本", "😀", "Z"]}"#,
        r#"{"xs": [1e308, 1e308], "ns": [-9223372036854775808], "ts": ["a"]}"#,
        r#"{"xs": [-1e308, -1e308, 5e-324], "ns": [1, 2, 3, 4, 5], "ts": ["x", "y"]}"#,
        r#"{"xs": [-3.5, -0.5, 2.0, 0.0, 7.25], "ns": [], "ts": []}"#,
    ];
    let c = check_case("aggregates_empty", src, &lines);
    for term in [
        "mean_x", "min_x", "max_x", "arg_x", "mean_n", "min_n", "arg_n", "min_t", "max_t",
    ] {
        assert!(
            c.value(0, term).is_none(),
            "{term} of an empty list is none"
        );
    }
    assert_eq!(c.float(0, "sum_x"), 0.0);
    assert_eq!(c.float(0, "prod_x"), 1.0);
    assert_eq!(c.int(0, "prod_n"), 1);
    assert!(!c.bool(0, "any_pos") && c.bool(0, "all_pos"));
    assert_eq!(c.float(0, "mean_or"), -1.0);
    assert_eq!(c.int(1, "arg_x"), 0);
    assert_eq!(
        c.int(1, "arg_n"),
        0,
        "argmax takes the first of equal maxima"
    );
    assert!(c.value(2, "arg_nan").is_none(), "argmax skips NaN");
    assert!(c.float(2, "mean_nan").is_nan());
    assert_eq!(c.int(8, "arg_nan"), 4);
    assert_eq!(c.text(3, "max_t"), "é");
}

/// `min`/`max` folds over lists containing NaN (made at run time).
#[test]
fn min_max_aggregates_over_nan_bit_for_bit() {
    let src = r#"
input { xs: list[float] }
let min_nan = min(for x in xs: x / x * x)
let max_nan = max(for x in xs: x / x * x)
let max_first_nan = max(for x in xs: if x == 0.0 then x / x else x)
score = 0.0
"#;
    let lines = [
        r#"{"xs": [0.0]}"#,
        r#"{"xs": [1.0, 0.0, -2.0]}"#,
        r#"{"xs": [0.0, 5.0]}"#,
        r#"{"xs": [5.0, 0.0]}"#,
        r#"{"xs": [-0.0, 1.0]}"#,
    ];
    let c = check_case("aggregates_nan", src, &lines);
    for row in 0..lines.len() {
        assert!(
            c.float(row, "max_first_nan").is_nan(),
            "NaN propagates through max(…)"
        );
    }
}

/// Every int operation that can overflow, as a separate term so that the row error names it.
#[test]
fn int_overflow_is_the_same_row_error() {
    // (name, expression, rows of (a, b))
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            "add",
            "a + b",
            &[
                (I64_MAX, "1"),
                (I64_MIN, "-1"),
                (I64_MAX, I64_MIN),
                ("1", "2"),
            ],
        ),
        (
            "sub",
            "a - b",
            &[
                (I64_MIN, "1"),
                (I64_MAX, "-1"),
                ("0", I64_MIN),
                ("-1", I64_MIN),
            ],
        ),
        (
            "mul",
            "a * b",
            &[
                (I64_MIN, "-1"),
                (I64_MAX, "2"),
                ("4294967296", "2147483648"),
                ("-4294967296", "2147483648"),
                ("-1", I64_MAX),
                ("3037000500", "3037000500"),
            ],
        ),
        (
            "neg",
            "-a + 0 * b",
            &[(I64_MIN, "0"), (I64_MAX, "0"), ("0", "0")],
        ),
        (
            "abs",
            "abs(a) + b",
            &[(I64_MIN, "0"), (I64_MAX, "0"), ("-5", "1")],
        ),
        (
            "nested",
            "(a + b) * (a - b)",
            &[(I64_MAX, "1"), ("3037000500", "0"), ("5", "3")],
        ),
        (
            "min_max_clip",
            "min(a, b) + max(a, b) + clip(a, b, 10)",
            &[(I64_MAX, "1"), (I64_MIN, "0"), ("3", "4")],
        ),
    ];
    for (name, expr, rows) in cases {
        let src = format!(
            "input {{ a: int, b: int }}\nlet r = {expr}\nlet after = r + 1\nscore = float(after)\n"
        );
        let lines: Vec<String> = rows
            .iter()
            .map(|(a, b)| format!(r#"{{"a": {a}, "b": {b}}}"#))
            .collect();
        let line_refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let c = check_case(&format!("int_{name}"), &src, &line_refs);
        let (message, term, _) = c.error(0);
        assert!(message.contains("integer overflow"), "{name}: {message}");
        assert!(term == "r" || term == "after", "{name}: error in {term}");
    }
    let c = check_case(
        "int_add_messages",
        "input { a: int, b: int }\nlet r = a + b\nscore = float(r)\n",
        &[&format!(r#"{{"a": {I64_MAX}, "b": 1}}"#)],
    );
    assert_eq!(
        c.error(0),
        (
            format!("integer overflow: {I64_MAX} + 1"),
            "r".to_string(),
            "a + b".to_string()
        )
    );
}

#[test]
fn sum_and_product_overflow_in_order() {
    let lines = [
        format!(r#"{{"ns": [{I64_MAX}, 1]}}"#),
        format!(r#"{{"ns": [{I64_MAX}, 1, -1]}}"#),
        format!(r#"{{"ns": [{I64_MAX}, -1, 1]}}"#),
        format!(r#"{{"ns": [{I64_MIN}, -1]}}"#),
        r#"{"ns": [4294967296, 2147483648]}"#.to_string(),
        r#"{"ns": [-4294967296, 2147483648]}"#.to_string(),
        r#"{"ns": [4611686018427387904, 1]}"#.to_string(),
        r#"{"ns": []}"#.to_string(),
        r#"{"ns": [0, 3037000500, 3037000500]}"#.to_string(),
        r#"{"ns": [3, -4, 5]}"#.to_string(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = |name: &str, expr: &str| {
        let src = format!("input {{ ns: list[int] }}\nlet r = {expr}\nscore = float(r)\n");
        check_case(name, &src, &refs)
    };
    let sum = run("sum", "sum(ns)");
    assert_eq!(
        sum.error(0),
        (
            "integer overflow in sum".into(),
            "r".into(),
            "sum(ns)".into()
        )
    );
    assert_eq!(
        sum.error(1).0,
        "integer overflow in sum",
        "the fold overflows before the -1"
    );
    assert_eq!(sum.int(2, "r"), i64::MAX);
    assert_eq!(sum.error(3).0, "integer overflow in sum");
    assert_eq!(sum.int(7, "r"), 0);
    assert_eq!(sum.int(9, "r"), 4);
    let product = run("product", "product(ns)");
    assert_eq!(product.error(3).0, "integer overflow in product");
    assert_eq!(product.error(4).0, "integer overflow in product");
    assert_eq!(product.int(5, "r"), i64::MIN);
    assert_eq!(product.int(7, "r"), 1);
    assert_eq!(
        product.int(8, "r"),
        0,
        "0 first: the product never overflows"
    );
    assert_eq!(product.int(9, "r"), -60);
    let body = run("sum_body", "sum(for n in ns: n * 2)");
    assert_eq!(body.error(6).0, "integer overflow: 4611686018427387904 * 2");
    assert_eq!(body.error(6).2, "n * 2");
    let filtered = run("product_filtered", "product(for n in ns if n != 0: n)");
    assert_eq!(filtered.error(8).0, "integer overflow in product");
    let nested = run("nested_sum", "sum(for n in ns: sum(for m in ns: m))");
    assert_eq!(nested.int(9, "r"), 12);
    let neg = run("negated_sum", "-sum(ns)");
    assert_eq!(neg.int(2, "r"), -i64::MAX);
}

#[test]
fn int_modulo_by_zero_and_python_signs() {
    let src = r#"
input { a: int, b: int, x: float, y: float }
let m = a % b
let mf = x % y
let mixed = a % y
score = float(m)
"#;
    let pairs = [
        ("7", "3"),
        ("-7", "3"),
        ("7", "-3"),
        ("-7", "-3"),
        ("0", "-3"),
        (I64_MIN, "-1"),
        (I64_MIN, I64_MAX),
        (I64_MAX, I64_MIN),
        ("-1", I64_MIN),
        ("5", "0"),
        ("0", "0"),
    ];
    let lines: Vec<String> = pairs
        .iter()
        .map(|(a, b)| format!(r#"{{"a": {a}, "b": {b}, "x": {a}.5, "y": {b}.0}}"#))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = check_case("modulo", src, &refs);
    assert_eq!(
        [0, 1, 2, 3, 4, 5].map(|r| c.int(r, "m")),
        [1, 2, -2, -1, 0, 0],
        "Python-style modulo"
    );
    assert_eq!(c.int(6, "m"), i64::MAX - 1);
    assert_eq!(c.int(8, "m"), -1);
    assert_eq!(
        c.error(9),
        (
            "integer modulo by zero: 5 % 0".into(),
            "m".into(),
            "a % b".into()
        )
    );
}

#[test]
fn list_index_in_and_out_of_range() {
    let src = edge_specs::LIST_INDEX_IN_AND_OUT_OF_RANGE;
    let base = r#""xs": [1.5, -0.0, 3.0], "ts": ["a", "b", "c"], "rs": [{"a": 1, "t": "x"}, {"a": 2, "t": "y"}, {"a": 3, "t": "z"}]"#;
    let lines: Vec<String> = ["0", "2", "-1", "-3", "3", "-4", I64_MIN, I64_MAX, "1"]
        .iter()
        .map(|i| format!("{{{base}, \"i\": {i}}}"))
        .chain([r#"{"xs": [], "ts": [], "rs": [], "i": 0}"#.to_string()])
        .chain([r#"{"xs": [2.0], "ts": ["only"], "rs": [{"a": 0, "t": ""}], "i": -1}"#.to_string()])
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = check_case("index", src, &refs);
    assert_eq!(c.float(2, "x"), 3.0);
    assert_eq!(c.float(3, "x"), 1.5);
    assert_eq!(
        c.error(4),
        (
            "index 3 is out of range for a list of 3 elements".into(),
            "x".into(),
            "xs[i]".into()
        )
    );
    assert_eq!(
        c.error(5).0,
        "index -4 is out of range for a list of 3 elements"
    );
    assert_eq!(
        c.error(6).0,
        format!("index {I64_MIN} is out of range for a list of 3 elements")
    );
    assert_eq!(
        c.error(9).0,
        "index 0 is out of range for a list of 0 elements"
    );
    assert_eq!(c.text(10, "last_t"), "only");
}

#[test]
fn rubric_criterion_outside_unit_interval() {
    let src = edge_specs::RUBRIC_CRITERION_OUTSIDE_UNIT_INTERVAL;
    let lines = [
        r#"{"v": 0.5, "ok": true, "w": 0.25}"#,
        r#"{"v": 1.0, "ok": false, "w": 1.0}"#,
        r#"{"v": 0.0, "ok": true, "w": 0.0}"#,
        r#"{"v": -0.0, "ok": false, "w": -0.0}"#,
        r#"{"v": 1.5, "ok": true, "w": 0.5}"#,
        r#"{"v": -0.1, "ok": true, "w": 0.5}"#,
        r#"{"v": 0.5, "ok": true, "w": 2.0}"#,
        r#"{"v": 0.5, "ok": true, "w": -1e308}"#,
        r#"{"v": 1e-300, "ok": true, "w": 5e-324}"#,
        r#"{"v": 1.0000000000000002, "ok": false, "w": 0.5}"#,
    ];
    let c = check_case("rubric", src, &lines);
    let (message, _, _) = c.error(4);
    assert_eq!(
        message,
        "criterion \"ratio\" must be between 0 and 1, but is 1.5"
    );
    assert!(c.error(5).0.contains("-0.1"));
    assert!(c.error(6).0.contains("\"penalty\""));
}

/// `??` on optional ints, floats, records, lists and texts (a field of an optional record is read
/// through `??`: `orec.a` is a compile error), chained, and over a list of optionals.
#[test]
fn coalesce_on_every_optional_shape() {
    let src = r#"
input {
    oi: int?, of: float?, ot: text?,
    orec: {a: int, b: text}?, ol: list[int]?, ofs: list[float?]
}
let i1 = oi ?? -1
let i2 = (oi ?? 0) + 1
let f1 = of ?? 0.5
let f2 = of ?? oi ?? 2
let f3: float? = if is_some(oi) then of else none
let t1 = ot ?? "default"
let r1 = (orec ?? {a: -7, b: "none"}).a
let r2 = (orec ?? {a: 0, b: "no record"}).b
let l1 = len(ol ?? [1, 2, 3])
let l2 = sum(ol ?? [10])
let present = count(for o in ofs if is_some(o))
let firsts = sum(for o in ofs: o ?? -1.0)
let chained = first(ofs) ?? of ?? 9.0
rule has_i = is_some(oi)
rule no_f = is_none(of)
score = f1
"#;
    let lines = [
        r#"{"oi": 5, "of": 2.5, "ot": "t", "orec": {"a": 1, "b": "x"}, "ol": [4, 5], "ofs": [1.0, null, -0.0]}"#,
        r#"{"ofs": []}"#,
        r#"{"oi": null, "of": null, "ot": null, "orec": null, "ol": null, "ofs": [null]}"#,
        r#"{"oi": -9223372036854775808, "of": -0.0, "ot": "", "orec": {"a": 9223372036854775807, "b": ""}, "ol": [], "ofs": [null, 3.5]}"#,
        r#"{"oi": 0, "ofs": [1e308, 1e308]}"#,
        r#"{"of": 1e-310, "ot": "日本語", "ol": [9223372036854775807, 1], "ofs": [0.0]}"#,
    ];
    let c = check_case("coalesce", src, &lines);
    assert_eq!(c.int(0, "i1"), 5);
    assert_eq!(c.int(1, "i1"), -1);
    assert_eq!(c.float(1, "f2"), 2.0);
    assert_eq!(c.int(1, "r1"), -7);
    assert_eq!(c.text(1, "r2"), "no record");
    assert_eq!(c.int(1, "l1"), 3);
    assert_eq!(bits(c.float(3, "f1")), bits(-0.0));
    assert_eq!(c.error(5).0, "integer overflow in sum");
}

#[test]
fn optional_returning_builtins() {
    let src = edge_specs::OPTIONAL_RETURNING_BUILTINS;
    let lines = [
        r#"{"s": "3.25", "xs": [1.0], "ns": [7], "ts": ["a"]}"#,
        r#"{"s": "  -42  ", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "12-34 and 56-78", "xs": [-0.0, 2.0], "ns": [1, 2], "ts": ["x", "y"]}"#,
        r#"{"s": "nan", "xs": [1e308], "ns": [9223372036854775807], "ts": [""]}"#,
        r#"{"s": "inf", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "1e400", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "9223372036854775808", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "-9223372036854775808", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "١٢-٣٤", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "line one\nline 2\r\n", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "+7", "xs": [], "ns": [], "ts": []}"#,
        r#"{"s": "0x10", "xs": [], "ns": [], "ts": []}"#,
    ];
    let c = check_case("optional_builtins", src, &lines);
    assert_eq!(c.float(0, "pf_or"), 3.25);
    assert_eq!(c.int(1, "pi_or"), -84);
    assert_eq!(c.text(2, "cap2"), "34");
    assert_eq!(c.text(2, "cap_missing"), "no group");
    assert_eq!(c.text(2, "cap_negative"), "negative");
    assert!(
        c.value(3, "pf").is_none(),
        "parse_float accepts finite numbers only"
    );
    assert!(c.value(8, "cap1").is_none());
}

#[test]
fn text_operations_and_regexes() {
    let src = edge_specs::TEXT_OPERATIONS_AND_REGEXES;
    let texts = [
        ("", "", "0"),
        ("Hello World", "o", "1"),
        ("  padded\t\n", " ", "2"),
        ("a,b,,c,", ",", "-1"),
        ("line one\nb line two\r\nthree.", "\n", "3"),
        ("ÉCOLE é straße İstanbul ǅ", "é", "2"),
        ("日本語のテキスト 😀👍🏽 emoji", "😀", "4"),
        ("<answer>42</answer> and <b>x</b><b>y</b>", "<b>", "5"),
        (
            "The answer is \\boxed{\\frac{1}{2}}. Answer: 0.5",
            "0.5",
            "1",
        ),
        ("user@host and me@there", "@", "0"),
        ("{\"a\": [1, 2]}", "a", "1"),
        ("aaab ab 3.14 and -2.5e3", "ab", "-3"),
        ("0.5", "1/2", "0"),
        ("x", "xx", "9223372036854775807"),
        ("abcdef", "", "-9223372036854775808"),
    ];
    let lines: Vec<String> = texts
        .iter()
        .map(|(s, t, n)| {
            format!(
                r#"{{"s": {}, "t": {}, "n": {n}}}"#,
                json_string(s),
                json_string(t)
            )
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = check_case("text", src, &refs);
    assert_eq!(c.text(1, "up"), "HELLO WORLD");
    assert_eq!(
        c.int(6, "n_chars"),
        18,
        "len counts characters (scalar values)"
    );
    assert_eq!(c.text(9, "swapped"), "host at user and there at me");
    assert_eq!(c.text(7, "tag"), "42");
    assert!(c.bool(5, "via_matches"));
}

/// `[for x in xs if c: f(x)]` in every element type, nested, and consumed by aggregates.
#[test]
fn list_comprehensions() {
    let src = edge_specs::LIST_COMPREHENSIONS;
    let lines = [
        r#"{"xs": [], "ns": [], "ts": []}"#,
        r#"{"xs": [1.5, -2.0, 0.0, -0.0, 3.0], "ns": [1, 2, 3, 4], "ts": ["a", "bcd", "ef"]}"#,
        r#"{"xs": [1e308, 1e308], "ns": [-9223372036854775808, 2], "ts": ["日本語", ""]}"#,
        r#"{"xs": [5e-324], "ns": [0, 0, 0], "ts": ["x"]}"#,
    ];
    let c = check_case("comprehensions", src, &lines);
    assert_eq!(c.int(1, "total_pairs"), 6);
    assert_eq!(c.int(1, "present"), 2);
    assert!(c.bool(1, "same_again") && c.bool(1, "reversed_twice"));
}

#[test]
fn nested_aggregates() {
    let src = r#"
input { xs: list[float], ns: list[int], ts: list[text] }
let ranks = sum(for x in xs: count(for y in xs if y < x))
let best_prefix = max(for n in ns: sum(for m in ns if m <= n: m)) ?? 0
let mean_len = mean(for t in ts: len(t)) ?? 0.0
let nested_mean = mean(for x in xs: mean(for y in xs: x - y) ?? 0.0) ?? -1.0
let any_all = any(for t in ts: all(for u in ts: len(u) <= len(t)))
let all_any = all(for n in ns: any(for m in ns: m == -n))
let arg_of_sums = argmax(for n in ns: sum(for m in ns: m * n)) ?? -1
let min_of_max = min(for t in ts: max(for u in ts: len(u) - len(t)) ?? 0) ?? 0
let product_of_counts = product(for t in ts: count(for u in ts if u == t))
let deep = sum(for a in ns: sum(for b in ns: sum(for c in ns if a + b == c: 1)))
score = float(ranks)
"#;
    let lines = [
        r#"{"xs": [], "ns": [], "ts": []}"#,
        r#"{"xs": [3.0, 1.0, 2.0, 1.0], "ns": [1, -1, 2, 0, 3], "ts": ["aa", "b", "aa", "ccc"]}"#,
        r#"{"xs": [-0.0, 0.0, 1e308, -1e308], "ns": [5], "ts": ["😀"]}"#,
        r#"{"xs": [0.5], "ns": [3037000500, 3037000500], "ts": []}"#,
    ];
    let c = check_case("nested_aggregates", src, &lines);
    assert_eq!(c.int(1, "ranks"), 5);
    assert_eq!(c.int(1, "deep"), 18);
    assert_eq!(c.int(1, "product_of_counts"), 4);
    assert_eq!(c.error(3).0, "integer overflow: 3037000500 * 3037000500");
}

/// User functions calling user functions, with every parameter representation (bool, int,
/// float, text, list, record, optional) and errors raised inside a function body.
#[test]
fn user_functions_calling_user_functions() {
    let src = edge_specs::USER_FUNCTIONS_CALLING_USER_FUNCTIONS;
    let items = r#"[{"name": "A", "weight": 2.0}, {"name": "bé", "weight": -0.5}, {"name": "C", "weight": 1.5}]"#;
    let lines = [
        format!(r#"{{"x": 3.0, "y": 4.0, "n": 2, "s": "", "items": {items}, "o": 1.0}}"#),
        r#"{"x": 0.0, "y": 0.0, "n": 0, "s": "x", "items": []}"#.to_string(),
        format!(r#"{{"x": -0.0, "y": 1e308, "n": -3, "s": "x", "items": {items}}}"#),
        format!(
            r#"{{"x": 1e200, "y": 1e200, "n": 9223372036854775806, "s": "x", "items": {items}}}"#
        ),
        r#"{"x": 1.0, "y": 2.0, "n": 9223372036854775807, "s": "x", "items": []}"#.to_string(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = check_case("functions", src, &refs);
    assert_eq!(c.float(0, "h"), 5.0);
    assert_eq!(c.float(0, "sh"), 10.0);
    assert_eq!(c.text(0, "names"), "A,C");
    assert_eq!(c.int(0, "t2"), 4);
    assert_eq!(c.float(1, "q"), -1.0);
    // The error is raised in `bump`, called from `twice`, for the term `t2`.
    let (message, term, snippet) = c.error(4);
    assert_eq!(message, format!("integer overflow: {I64_MAX} + 1"));
    assert_eq!((term.as_str(), snippet.as_str()), ("t2", "k + 1"));
}

#[test]
fn records_and_lists_built_in_expressions() {
    let src = edge_specs::RECORDS_AND_LISTS_BUILT_IN_EXPRESSIONS;
    let lines = [
        r#"{"x": 1.5, "n": 1, "s": "x", "xs": [1.5]}"#,
        r#"{"x": 0.0, "n": -1, "s": "", "xs": []}"#,
        r#"{"x": -0.0, "n": 1, "s": "x", "xs": [0.0, 1.0]}"#,
        r#"{"x": 1e308, "n": 9223372036854775807, "s": "日本", "xs": [1e308]}"#,
    ];
    let c = check_case("records", src, &lines);
    assert_eq!(c.float(0, "rb"), 3.0);
    assert_eq!(c.text(0, "rce"), "xx");
    assert!(c.bool(0, "eq_records") && c.bool(0, "eq_nested") && c.bool(0, "eq_lists"));
    assert!(
        !c.bool(1, "eq_nan_record"),
        "NaN fields make records unequal"
    );
    assert_eq!(c.error(3).0, format!("integer overflow: {I64_MAX} + 1"));
}

#[test]
fn concat_in_and_bool_arithmetic() {
    let src = edge_specs::CONCAT_IN_AND_BOOL_ARITHMETIC;
    let lines = [
        r#"{"x": 0.0, "n": 1, "b": true, "c": false, "s": "a b", "xs": [1.0, -0.0], "ns": [1, 2], "ts": ["a b"]}"#,
        r#"{"x": -0.0, "n": 3, "b": false, "c": true, "s": "", "xs": [], "ns": [], "ts": []}"#,
        r#"{"x": 2.0, "n": 9223372036854775807, "b": true, "c": true, "s": "日本 語", "xs": [2.0, 1e308], "ns": [9223372036854775807], "ts": ["x"]}"#,
    ];
    let c = check_case("concat_in_bool", src, &lines);
    assert!(c.bool(0, "x_in") && c.bool(1, "zero_in"), "-0.0 == 0.0");
    assert!(!c.bool(0, "nan_in"), "NaN is in no list");
    assert!(c.bool(1, "empty_in"));
    assert_eq!(c.float(0, "bf"), 2.5);
    assert_eq!(c.float(2, "bb"), 2.0);
    assert_eq!(c.float(0, "frac"), 0.5);
}

/// `if` yielding optionals, branches of different numeric types, and branches decided at compile
/// time by params (folded: the kept branch must keep the `if`'s type).
#[test]
fn if_with_optional_and_mixed_branches() {
    let src = edge_specs::IF_WITH_OPTIONAL_AND_MIXED_BRANCHES;
    let lines = [
        r#"{"x": 1.5, "n": 2, "b": true, "o": 0.25, "on": 7, "ot": "t"}"#,
        r#"{"x": -0.0, "n": -1, "b": false}"#,
        r#"{"x": 2.0, "n": 0, "b": true}"#,
        r#"{"x": 3.0, "n": 5, "b": false, "o": null, "on": -9223372036854775808, "ot": ""}"#,
    ];
    let c = check_case("if_optionals", src, &lines);
    assert!(c.value(1, "a").is_none());
    assert!(
        matches!(c.value(0, "dd"), Value::Float(x) if *x == 2.0),
        "int branch promoted"
    );
    assert!(
        matches!(c.value(0, "folded_int"), Value::Float(x) if *x == 2.0),
        "folded branch keeps the float type"
    );
    assert!(matches!(c.value(0, "folded_else"), Value::Float(x) if *x == 2.0));
    assert!(matches!(c.value(0, "folded_opt"), Value::Float(x) if *x == 7.0));
    assert!(matches!(c.value(0, "ee"), Value::Float(x) if *x == 7.0));
    assert_eq!(c.text(2, "gg"), "none at all");
}

/// Errors that must not happen: the right side of `and`/`or`, the untaken `if` branch, the
/// default of a present `??`, and the elements after `any`/`all` are decided.
#[test]
fn short_circuits_skip_errors() {
    let src = edge_specs::SHORT_CIRCUITS_SKIP_ERRORS;
    let lines = [
        r#"{"b": false, "xs": [2.0, 0.5, -1.0], "ns": [5, 0], "o": 1.0}"#,
        r#"{"b": false, "xs": [2.0, 0.5, -1.0], "ns": [3, 0], "o": 1.0}"#,
        r#"{"b": true, "xs": [], "ns": [], "o": 1.0}"#,
        r#"{"b": false, "xs": [], "ns": [5, 0]}"#,
    ];
    let c = check_case("short_circuits", src, &lines);
    assert!(c.bool(0, "any_stops") && !c.bool(0, "all_stops"));
    assert_eq!(
        c.int(0, "count_mixed"),
        1,
        "count of bools counts the trues that pass the filter"
    );
    assert_eq!(c.error(1).0, "integer modulo by zero: 10 % 0");
    assert_eq!(
        c.error(2).0,
        "index 10 is out of range for a list of 0 elements"
    );
    assert_eq!(
        c.error(3).2,
        "xs[10]",
        "the default of an absent optional is computed"
    );
}

#[test]
fn conversions_ranges_and_comparisons_of_optionals() {
    let src = edge_specs::CONVERSIONS_RANGES_AND_COMPARISONS_OF_OPTIONALS;
    let lines = [
        r#"{"x": 2.9, "n": 3, "o": 2.9, "on": 3, "ot": "s", "s": "s", "recs": [{"a": 3}], "ls": [[3]]}"#,
        r#"{"x": -2.9, "n": -3, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": 9007199254740993.0, "n": 9007199254740993, "o": null, "s": "", "recs": [{"a": 1}], "ls": [[1, 2], []]}"#,
        r#"{"x": 9.3e18, "n": 0, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": -9.223372036854775808e18, "n": 10000001, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": 1.0, "n": 10000001, "s": "", "recs": [], "ls": []}"#,
    ];
    let c = check_case("conversions", src, &lines);
    assert_eq!(c.int(0, "as_int"), 2);
    assert_eq!(c.int(1, "as_int"), -2);
    assert!(c.bool(0, "o_eq") && c.bool(0, "rec_in") && c.bool(0, "list_in"));
    assert!(
        !c.bool(1, "o_eq") && c.bool(1, "o_ne"),
        "none is unequal to a number"
    );
    assert_eq!(c.int(1, "r"), 0, "range of a negative is empty");
    assert_eq!(
        c.error(3).0,
        "int: 9.3e+18 is not representable as a 64-bit integer"
    );
    assert_eq!(
        c.error(5).0,
        "range: 10000001 elements is over the limit of 10,000,000"
    );
}

/// The per-rollout operation budget (10⁸ loop iterations and function calls, shared by all the
/// terms of a row): a nested comprehension over range(20000) × range(20000) runs out of it with
/// the same error, at the same place, on both engines.
///
/// The row first spends `w` units in another term. With w = 10001 the budget left is
/// 1 (mod 20002), and each outer iteration costs 20002 units (its loop step, the call `f(i)`, and
/// 20000 inner steps), so the budget runs out exactly at a call of `f`: an engine that did not
/// charge calls, or charged them at another moment, or gave each term its own budget, would stop
/// elsewhere. With w = 0 it runs out in the inner loop.
///
/// The ranges are computed once (`let r`): the JIT keeps every intermediate value until the end
/// of the row, so `range(20000)` inside the loop would make it allocate gigabytes.
#[test]
fn operation_budget_is_spent_identically() {
    let src = edge_specs::OPERATION_BUDGET_IS_SPENT_IDENTICALLY;
    let c = check_case(
        "budget",
        src,
        &[r#"{"n": 20000, "w": 10001}"#, r#"{"n": 100, "w": 0}"#],
    );
    let budget = "this rollout needs more than 100000000 loop iterations and function calls (the per-rollout budget)";
    assert_eq!(
        c.error(0),
        (budget.to_string(), "pairs".to_string(), "f(i)".to_string())
    );
    assert_eq!(c.int(1, "pairs"), 100);
}

// ================================================================ 3. random programs

#[path = "common/random_programs.rs"]
mod random_programs;
use random_programs::{json_string, random_program, random_rows};

#[derive(Default)]
struct RandomStats {
    programs: usize,
    rejected_by_folding: usize,
    rows: usize,
    ok_rows: usize,
}

/// Compiles a random program and compares the engines on every row.
fn check_random_program(
    choices: &[u32],
    rows: &[String],
    stats: &std::sync::Mutex<RandomStats>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let src = random_program(choices);
    if std::env::var_os("DIFFERENTIAL_SHOW").is_some() {
        eprintln!("---- random program\n{src}");
    }
    let spec = match compile_source("random.reward", &src, &repo_root(), &[]) {
        Ok(spec) => spec,
        // Constant subexpressions are computed at compile time, and one that always fails
        // (`1 % 0`, `[1.0][5]`, `int(1e308)`) is a compile error: not a program to run.
        Err(d) if d.contains("E0029") => {
            stats.lock().unwrap().rejected_by_folding += 1;
            return Ok(());
        }
        Err(d) => panic!("the generator built an ill-typed program:\n{d}\n--- source:\n{src}"),
    };
    let engines = Engines::new("a random program", &spec);
    let mut mismatches = Vec::new();
    let mut ok_rows = 0;
    for row in rows {
        match engines.run_line(row) {
            Ok(r) => ok_rows += usize::from(r.is_ok()),
            Err(m) => mismatches.push(m),
        }
    }
    {
        let mut s = stats.lock().unwrap();
        s.programs += 1;
        s.rows += rows.len();
        s.ok_rows += ok_rows;
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(proptest::test_runner::TestCaseError::fail(
            engines.report(&mismatches),
        ))
    }
}

/// Random well-typed programs and random rows (extreme numbers, empty lists, unicode): both
/// engines agree on every row. Deterministic by default; set DIFFERENTIAL_SEED (any text) to
/// explore other programs.
#[test]
fn random_programs_agree() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

    let rng = match std::env::var("DIFFERENTIAL_SEED") {
        Ok(seed) => {
            let mut bytes = [7u8; 32];
            for (i, b) in seed.bytes().enumerate() {
                bytes[i % 32] = bytes[i % 32].wrapping_mul(31).wrapping_add(b);
            }
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
        }
        Err(_) => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    };
    let config = Config {
        cases: 128,
        max_shrink_iters: 400,
        max_shrink_time: 20_000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let stats = std::sync::Mutex::new(RandomStats::default());
    let strategy = (
        prop::collection::vec(any::<u32>(), 0..400),
        prop::collection::vec(random_rows::row(), 1..6),
    );
    let result = runner.run(&strategy, |(choices, rows)| {
        check_random_program(&choices, &rows, &stats)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (choices, rows))) => panic!(
            "{reason}\n--- minimal failing input: choices {choices:?}\n--- rows:\n{}",
            rows.join("\n")
        ),
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
    let s = stats.into_inner().unwrap();
    eprintln!(
        "random programs: {} run ({} rejected by constant folding), {} rows, {} scored without a row error",
        s.programs, s.rejected_by_folding, s.rows, s.ok_rows
    );
    // The generator must produce mostly runnable programs and mostly successful rows, or the
    // comparison would only ever compare error messages.
    assert!(
        s.programs >= 100,
        "only {} of 128 random programs ran",
        s.programs
    );
    assert!(
        s.ok_rows * 3 >= s.rows,
        "only {} of {} rows scored",
        s.ok_rows,
        s.rows
    );
}

/// Records in the input: nested records, lists of records, optional records and optional fields.
#[test]
fn input_records_nested_and_optional() {
    let src = edge_specs::INPUT_RECORDS_NESTED_AND_OPTIONAL;
    let lines = [
        r#"{"meta": {"lang": "en", "difficulty": 3, "judge": {"ok": true, "score": 0.5}}, "steps": [{"x": 1.0, "tag": "a"}, {"x": -0.0}], "extra": {"a": 1}}"#,
        r#"{"meta": {"lang": "fr", "difficulty": -9223372036854775808, "judge": {"ok": false}}, "steps": []}"#,
        r#"{"meta": {"lang": "", "difficulty": 0, "judge": {"ok": false, "score": null}}, "steps": [{"x": 1e308, "tag": null}, {"x": 1e308, "tag": "é"}], "extra": null}"#,
    ];
    let c = check_case("input_records", src, &lines);
    assert_eq!(c.int(0, "difficulty"), 6);
    assert_eq!(bits(c.float(0, "last_x")), bits(-0.0));
    assert_eq!(c.error(1).0, "integer overflow: -9223372036854775808 * 2");
    assert_eq!(c.int(2, "extra_a"), 7);
    assert_eq!(c.float(2, "total"), f64::INFINITY);
}

/// The comparison itself: what counts as a disagreement.
#[test]
fn harness_detects_every_kind_of_disagreement() {
    let spec = compile_case(
        "harness",
        "input { x: float }\nlet a = x\nlet b = x * 2.0\nscore = a\n",
    );
    let ok = |v: Vec<Value>| -> RowResult { Ok(v) };
    let f = Value::Float;
    let nan_a = f64::from_bits(0x7ff8_0000_0000_0000);
    let nan_b = f64::from_bits(0xfff8_0000_0000_0000);
    let same = |a: &RowResult, b: &RowResult| disagreement(&spec, a, b).is_none();
    assert!(same(
        &ok(vec![f(1.0), f(nan_a), f(0.0)]),
        &ok(vec![f(1.0), f(nan_a), f(0.0)])
    ));
    assert!(
        !same(
            &ok(vec![f(1.0), f(nan_a), f(0.0)]),
            &ok(vec![f(1.0), f(nan_b), f(0.0)])
        ),
        "NaN payloads"
    );
    assert!(
        !same(
            &ok(vec![f(0.0), f(0.0), f(0.0)]),
            &ok(vec![f(-0.0), f(0.0), f(0.0)])
        ),
        "signed zeros"
    );
    assert!(
        !same(
            &ok(vec![Value::Int(1), f(0.0), f(0.0)]),
            &ok(vec![f(1.0), f(0.0), f(0.0)])
        ),
        "int vs float"
    );
    assert!(
        !same(
            &ok(vec![Value::None, f(0.0), f(0.0)]),
            &ok(vec![f(0.0), f(0.0), f(0.0)])
        ),
        "none"
    );
    let err = |message: &str, start: u32, term: Option<usize>| -> RowResult {
        Err(RuntimeError {
            message: message.to_string(),
            span: reward::internals::diag::Span {
                file: reward::internals::diag::FileId(0),
                start,
                end: start + 1,
            },
            term,
        })
    };
    assert!(same(&err("boom", 3, Some(1)), &err("boom", 3, Some(1))));
    assert!(
        !same(&err("boom", 3, Some(1)), &err("bang", 3, Some(1))),
        "message"
    );
    assert!(
        !same(&err("boom", 3, Some(1)), &err("boom", 4, Some(1))),
        "span"
    );
    assert!(
        !same(&err("boom", 3, Some(1)), &err("boom", 3, Some(0))),
        "term"
    );
    assert!(
        !same(&err("boom", 3, Some(1)), &ok(vec![f(0.0), f(0.0), f(0.0)])),
        "error vs value"
    );
}
