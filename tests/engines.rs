//! One conformance suite for every engine: the reference interpreter, the Cranelift JIT and a
//! shared library built by `reward build` must agree bit for bit.
//!
//! 1. **Case files** (`tests/engines/NAME.reward`, its rows `NAME.jsonl` and the expected output
//!    `NAME.expected.jsonl`): every row goes through
//!    - the interpreter and the JIT through the public API (`reward::compile` with
//!      `Options::engine`, then `Spec::score_lines`, which writes what `reward score` writes): both
//!      engines' records must equal the expected file byte for byte (floats are printed exactly,
//!      so this compares them bit for bit, NaN's payload aside);
//!    - `reward score --engine jit` on the files, whose output must be the expected file too;
//!    - both engines again through `Spec::evaluate`, comparing every term, the hidden ones
//!      (texts, lists, records, `_names`) included, floats by their bits (NaN payload and sign
//!      too), and a row error's message, place and term;
//!    - a shared library built from the spec, called from C: `reward_breakdown_json` must print
//!      the interpreter's record (an error record says line 1), `reward_score_json` must give the
//!      interpreter's score bit for bit with the status and `reward_last_error()` the record
//!      implies, and `reward_score_batch` must agree. The hidden terms are made visible to the
//!      library as rules comparing them with the interpreter's values ([`expose_hidden_terms`]).
//!      A spec with a line `// library picks: N` (its score is `[…][pick]`) also goes through
//!      the library with every `"pick"` from 0 to N - 1 on each row the interpreter scores, so
//!      that every value it can pick crosses `reward_score_json`'s double.
//!
//!    Every mismatch is reported, with the case file, the line and both records. To add a case,
//!    write `NAME.reward` and `NAME.jsonl` (one row a line, malformed rows welcome) and run this
//!    suite with `REWARD_BLESS=1`: it writes `NAME.expected.jsonl` from the interpreter (and
//!    still checks the other engines against it); review that file before committing it. The
//!    expected file is also what `reward score NAME.reward NAME.jsonl --engine interp` prints in
//!    tests/engines/. `REWARD_CASE=NAME` runs one case.
//! 2. The shipped examples with their sample rollouts and their test inputs, the stdlib's test
//!    expectations turned into terms, and the CLI (`reward score --engine jit|interp`):
//!    interpreter against JIT.
//! 3. Type-directed random programs over a fixed input schema with random (and extreme) rows:
//!    interpreter against JIT, and a few built as libraries.
//! 4. What is particular to libraries and their C API (tests/shared_library.rs, a module of this
//!    binary so that the suites link Cranelift once).
//!
//! On a disagreement between the interpreter and the JIT the failure prints the spec source, its
//! IR, the JIT's CLIF, the row and both results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use reward::{Engine, Options, Row, RowError, Source, Spec, TermInfo, Ty, Value};

#[path = "common/library.rs"]
mod library;
use library::{compare_library, library_problems, require_cc, run_library, Scratch};

/// The C API's own tests: examples as libraries, hostile calls, the fuzz target.
#[path = "shared_library.rs"]
mod shared_library;

// ================================================================ interpreter against JIT

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the compiler crate lives in the workspace")
        .to_path_buf()
}

type RowResult = Result<Vec<Value>, RowError>;

/// Param overrides as `reward score --param` takes them.
type Overrides = Vec<(String, String)>;

/// Compiles spec text for the interpreter, with param overrides; imports are relative to `dir`.
fn compile_source(
    name: &str,
    text: &str,
    dir: &Path,
    params: &[(String, String)],
) -> Result<Spec, String> {
    let source = Source::Text {
        name: name.to_string(),
        text: text.to_string(),
        dir: dir.to_path_buf(),
    };
    compile_with(source, params)
}

/// Compiles a spec file for the interpreter, with param overrides.
fn compile_file(path: &Path, params: &[(String, String)]) -> Result<Spec, String> {
    compile_with(Source::file(path), params)
}

fn compile_with(source: Source, params: &[(String, String)]) -> Result<Spec, String> {
    let options = Options {
        params: params.to_vec(),
        ..Options::default().engine(Engine::Interpreter)
    };
    reward::compile(source, &options).map_err(|d| d.to_string())
}

/// One row on which the engines disagree.
struct Mismatch {
    /// The row and what differs.
    summary: String,
    /// Both results in full.
    detail: String,
}

/// A compiled spec on both engines.
struct Engines {
    label: String,
    /// The spec's text, for reports.
    source: String,
    interp: Spec,
    jit: Spec,
    /// Every term, as `Spec::evaluate` gives their values.
    terms: Vec<TermInfo>,
}

impl Engines {
    /// `spec` (compiled for the interpreter from `source`) on both engines.
    fn new(label: &str, spec: &Spec, source: &str) -> Engines {
        assert_eq!(spec.engine(), Engine::Interpreter);
        let jit = spec.with_engine(Engine::Jit).unwrap_or_else(|e| {
            panic!(
                "{label}: the JIT cannot compile a checked program: {e}\n--- IR:\n{}",
                spec.ir_text()
            )
        });
        Engines {
            label: label.to_string(),
            source: source.to_string(),
            interp: spec.clone(),
            terms: spec.all_terms(),
            jit,
        }
    }

    /// Runs both engines on `row`. `Ok` carries the (agreed) interpreter result; `Err` a
    /// description of the disagreement, without the spec (see [`Engines::report`]).
    fn run(&self, row: &Row, row_text: &str) -> Result<RowResult, Mismatch> {
        assert_eq!(self.jit.engine(), Engine::Jit);
        let a = self.interp.evaluate(row);
        let b = self.jit.evaluate(row);
        match disagreement(&self.terms, &a, &b) {
            None => Ok(a),
            Some(what) => Err(Mismatch {
                summary: format!("--- row: {row_text}\n    {what}\n"),
                detail: format!(
                    "--- decoded row: {}\n--- interp: {}\n--- jit:    {}\n",
                    show(row.value()),
                    show_result(&self.terms, &a),
                    show_result(&self.terms, &b),
                ),
            }),
        }
    }

    /// Runs both engines on a value of the input schema.
    fn run_value(&self, row: &Value, row_text: &str) -> Result<RowResult, Mismatch> {
        let row = self.interp.row(row.clone()).unwrap_or_else(|e| {
            panic!(
                "{}: row {row_text} is not a row of the schema: {e}",
                self.label
            )
        });
        self.run(&row, row_text)
    }

    /// Runs both engines on a JSON line; the line must decode.
    fn run_line(&self, line: &str) -> Result<RowResult, Mismatch> {
        let row = self.interp.row_from_json(line).unwrap_or_else(|e| {
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
        // Every row with what differs; the first two with both full results.
        for (i, m) in mismatches.iter().enumerate() {
            out.push_str(&m.summary);
            if i < 2 {
                out.push_str(&m.detail);
            }
        }
        let clif = self
            .jit
            .jit_text()
            .unwrap_or_else(|e| format!("(none: {e})"));
        let _ = write!(
            out,
            "--- spec source:\n{}\n--- IR:\n{}\n--- CLIF:\n{clif}\n",
            self.source,
            self.interp.ir_text(),
        );
        out
    }

    fn term_id(&self, name: &str) -> usize {
        self.terms
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("{}: no term `{name}`", self.label))
    }
}

/// Term values are identical: `Value::same` (floats by bits or `==`, so equal numbers, and any
/// two NaNs), and also the same sign for zeros, which `==` does not see but the JSON output does
/// (`-0.0` vs `0.0`): floats must agree bit for bit.
fn identical(a: &Value, b: &Value) -> bool {
    fn zero_signs_agree(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x.is_sign_negative() == y.is_sign_negative() || x.is_nan()
            }
            (Value::Record(p), Value::Record(q)) => {
                p.iter().zip(q.iter()).all(|(x, y)| zero_signs_agree(x, y))
            }
            // The JIT collects lists of scalars as arrays (`Value::Columns`).
            (Value::List(_) | Value::Columns(_), Value::List(_) | Value::Columns(_)) => a
                .as_list()
                .iter()
                .zip(b.as_list())
                .all(|(x, y)| zero_signs_agree(x, y)),
            _ => true,
        }
    }
    a.same(b) && zero_signs_agree(a, b)
}

/// `None` when both results agree; otherwise what differs.
fn disagreement(terms: &[TermInfo], a: &RowResult, b: &RowResult) -> Option<String> {
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
                        terms[i].name,
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
            if x.at != y.at {
                what.push("place");
            }
            if x.term != y.term {
                what.push("term");
            }
            if x.field != y.field {
                what.push("field");
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
        Value::List(_) | Value::Columns(_) => format!(
            "[{}]",
            v.as_list().iter().map(show).collect::<Vec<_>>().join(", ")
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

fn show_result(terms: &[TermInfo], r: &RowResult) -> String {
    match r {
        Ok(values) => {
            let parts: Vec<String> = values
                .iter()
                .zip(terms)
                .map(|(v, t)| format!("{}: {} = {}", t.name, t.ty, show(v)))
                .collect();
            format!("Ok {{ {} }}", parts.join(", "))
        }
        Err(e) => format!(
            "Err {{ message: {:?}, at: {}, term: {} }}",
            e.message,
            e.at.as_deref().unwrap_or("none"),
            e.term
                .as_deref()
                .map_or("none".to_string(), |t| format!("`{t}`"))
        ),
    }
}

fn compile_case(name: &str, text: &str) -> Spec {
    compile_source(name, text, &repo_root(), &[])
        .unwrap_or_else(|d| panic!("edge case {name} does not compile:\n{d}\n--- source:\n{text}"))
}

// ================================================================ 1. the case files

/// A case file: `tests/engines/NAME.reward` and its rows.
struct Case {
    name: String,
    text: String,
    /// The lines of `NAME.jsonl`, each a row (any text, malformed rows included).
    rows: Vec<String>,
    /// `// library picks: N` in the spec.
    picks: Option<usize>,
}

fn cases_dir() -> PathBuf {
    repo_root().join("tests").join("engines")
}

/// `tests/engines/FILE`, as failure messages name it.
fn case_path(file: &str) -> String {
    format!("tests/engines/{file}")
}

/// The lines of a JSON Lines file (the last one ends with a newline; no other separator).
fn read_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let body = text.strip_suffix('\n').unwrap_or_else(|| {
        panic!(
            "{}: the last line must end with a newline (and the file must not be empty)",
            path.display()
        )
    });
    body.split('\n').map(str::to_string).collect()
}

fn load_cases() -> Vec<Case> {
    let only = std::env::var("REWARD_CASE").ok();
    let mut cases = Vec::new();
    for path in files_with_ext(&cases_dir(), "reward") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if only.as_ref().is_some_and(|o| *o != name) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let rows = read_lines(&path.with_extension("jsonl"));
        for (i, row) in rows.iter().enumerate() {
            assert!(
                !row.trim().is_empty() && !row.contains('\r'),
                "{}:{}: a row must not be blank or hold a carriage return",
                case_path(&format!("{name}.jsonl")),
                i + 1
            );
        }
        let picks = text.lines().find_map(|l| {
            l.trim()
                .strip_prefix("// library picks:")
                .map(|n| n.trim().parse().expect("`// library picks: N`"))
        });
        cases.push(Case {
            name,
            text,
            rows,
            picks,
        });
    }
    assert!(
        only.is_some() || cases.len() >= 20,
        "expected the case files in {}, found {}",
        cases_dir().display(),
        cases.len()
    );
    assert!(!cases.is_empty(), "no case named {only:?}");
    cases
}

/// The spec with the public API, named as in its directory (error locations say `NAME.reward`).
fn compile_public(name: &str, text: &str, engine: reward::Engine) -> reward::Spec {
    reward::compile(
        reward::Source::Text {
            name: format!("{name}.reward"),
            text: text.to_string(),
            dir: cases_dir(),
        },
        &reward::Options::default().engine(engine),
    )
    .unwrap_or_else(|d| panic!("{name}.reward does not compile ({engine:?}):\n{d}"))
}

/// The records `reward score` writes for `rows` (line numbers from 1).
fn records(spec: &reward::Spec, rows: &[String]) -> Vec<String> {
    let lines: Vec<(u64, String)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 1, r.clone()))
        .collect();
    spec.score_lines(&lines, false)
        .into_iter()
        .map(|o| o.json)
        .collect()
}

/// Where one engine's records differ from the expected ones, a report line per row.
fn compare_records(
    failures: &mut Vec<String>,
    file: &str,
    engine: &str,
    expected: &[String],
    got: &[String],
) {
    if expected.len() != got.len() {
        failures.push(format!(
            "{}: {} expected records, {engine} wrote {}",
            case_path(file),
            expected.len(),
            got.len()
        ));
    }
    for (i, (e, g)) in expected.iter().zip(got).enumerate() {
        if e != g {
            failures.push(format!(
                "{}:{}: {engine} differs from the expected record\n    expected: {e}\n    {engine:<8}: {g}",
                case_path(file),
                i + 1
            ));
        }
    }
}

/// Runs one case through every engine; every mismatch is a line of the result.
fn run_case(case: &Case, scratch: &Path) -> Vec<String> {
    let name = &case.name;
    let rows_file = format!("{name}.jsonl");
    let expected_file = format!("{name}.expected.jsonl");
    let mut failures = Vec::new();
    // `reward score` with the JIT, run meanwhile: the command line's driver is one more way in.
    let cli = Command::new(library::REWARD)
        .current_dir(cases_dir())
        .args([
            "score",
            &format!("{name}.reward"),
            &rows_file,
            "--engine",
            "jit",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the reward binary runs");

    // Every term of both engines, bit for bit.
    let spec = compile_source(&format!("{name}.reward"), &case.text, &cases_dir(), &[])
        .unwrap_or_else(|d| panic!("{name}.reward does not compile:\n{d}"));
    let engines = Engines::new(&case_path(&format!("{name}.reward")), &spec, &case.text);
    let mut mismatches = Vec::new();
    let mut values: Vec<Option<RowResult>> = Vec::new();
    for (i, line) in case.rows.iter().enumerate() {
        let Ok(row) = spec.row_from_json(line) else {
            values.push(None);
            continue;
        };
        match engines.run(
            &row,
            &format!("{}:{}: {line}", case_path(&rows_file), i + 1),
        ) {
            Ok(r) => values.push(Some(r)),
            Err(m) => {
                mismatches.push(m);
                values.push(Some(engines.interp.evaluate(&row)));
            }
        }
    }
    if !mismatches.is_empty() {
        failures.push(engines.report(&mismatches));
    }

    // The rows of the shared library: the case's rows first, then the picks, with the hidden
    // terms' values in their columns.
    let mut lib_rows: Vec<(String, String)> = case
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("{}:{}", case_path(&rows_file), i + 1), r.clone()))
        .collect();
    let mut lib_values = values.clone();
    if let Some(picks) = case.picks {
        for (i, row) in case.rows.iter().enumerate() {
            if !matches!(values[i], Some(Ok(_))) {
                continue;
            }
            let rest = row
                .strip_prefix(r#"{"pick": "#)
                .and_then(|r| r.split_once(", "))
                .map(|(_, rest)| rest)
                .unwrap_or_else(|| {
                    panic!(
                        "{}:{}: rows of a spec with picks start with {{\"pick\": K, ",
                        case_path(&rows_file),
                        i + 1
                    )
                });
            for k in 0..picks {
                let picked = format!(r#"{{"pick": {k}, {rest}"#);
                if picked == *row {
                    continue;
                }
                let input = spec.row_from_json(&picked).expect("a picked row decodes");
                lib_values.push(Some(engines.interp.evaluate(&input)));
                lib_rows.push((
                    format!("{}:{} with pick {k}", case_path(&rows_file), i + 1),
                    picked,
                ));
            }
        }
    }
    let (lib_text, exposed) = expose_hidden_terms(&spec, &case.text);
    let lib_lines: Vec<String> = lib_rows
        .iter()
        .zip(&lib_values)
        .map(|((_, row), v)| exposed_row(&spec, &exposed, row, v.as_ref()))
        .collect();

    std::thread::scope(|s| {
        // The library is built and run while the engines score in-process.
        let library = s.spawn(|| run_library(scratch, name, &lib_text, &lib_lines));

        // The interpreter's and the JIT's records against the expected file.
        let interp_records = records(
            &compile_public(name, &case.text, reward::Engine::Interpreter),
            &case.rows,
        );
        let expected_path = cases_dir().join(&expected_file);
        let expected = if std::env::var_os("REWARD_BLESS").is_some() {
            std::fs::write(&expected_path, interp_records.join("\n") + "\n").unwrap();
            interp_records.clone()
        } else {
            let expected = read_lines(&expected_path);
            compare_records(
                &mut failures,
                &expected_file,
                "interp",
                &expected,
                &interp_records,
            );
            expected
        };
        let jit_records = records(
            &compile_public(name, &case.text, reward::Engine::Jit),
            &case.rows,
        );
        compare_records(
            &mut failures,
            &expected_file,
            "jit",
            &expected,
            &jit_records,
        );

        // The interpreter's records of the exposed spec. A row that does not decode or fails is
        // the same record as with the case's spec (the exposed columns and rules neither fail
        // nor move the spec's lines), so only the scored rows are scored again.
        let reference_spec = compile_public(name, &lib_text, reward::Engine::Interpreter);
        let scorer = reference_spec.line_scorer(false);
        let reference: Vec<String> = lib_lines
            .iter()
            .enumerate()
            .map(|(i, line)| match (&lib_values[i], interp_records.get(i)) {
                (Some(Ok(_)), _) | (_, None) => scorer.score(i as u64 + 1, line).json,
                (_, Some(record)) => record.clone(),
            })
            .collect();
        // The spec as built for the library computes what the case's spec does.
        for (i, r) in reference.iter().take(case.rows.len()).enumerate() {
            let stripped = without_exposed(r, &spec, &exposed);
            if stripped != interp_records[i] {
                failures.push(format!(
                    "{}:{}: the spec with its hidden terms exposed scores otherwise\n    interp:  {}\n    exposed: {stripped}",
                    case_path(&rows_file),
                    i + 1,
                    interp_records[i]
                ));
            }
        }
        let cli = cli.wait_with_output().expect("reward score runs");
        if !matches!(cli.status.code(), Some(0 | 2)) {
            failures.push(format!(
                "{}: reward score exited with {:?}: {}",
                case_path(&rows_file),
                cli.status.code(),
                String::from_utf8_lossy(&cli.stderr)
            ));
        }
        let cli_records: Vec<String> = String::from_utf8_lossy(&cli.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        compare_records(
            &mut failures,
            &expected_file,
            "cli",
            &expected,
            &cli_records,
        );
        let answers = library
            .join()
            .unwrap_or_else(|_| panic!("{name}: building or running the library failed"));
        failures.extend(compare_library(
            name,
            &lib_rows,
            &lib_lines,
            &answers,
            &reference,
            &reference_spec,
        ));
    });
    failures
}

/// The breakdown shows numbers and bools only, so a text, list or record term computed wrongly
/// by the library could go unseen. This makes every such term visible: for term `T`, an optional
/// input column `expect_T` of its type and a rule `same_T = T == expect_T`; [`exposed_row`] puts
/// the interpreter's value of `T` in that column. The library's `same_T` must then be true like
/// the interpreter's. (Values holding a NaN or an infinity cannot be written in JSON rows: their
/// column is left out, and `==` does not tell -0.0 from 0.0 inside lists and records; the JIT's
/// values are compared bit for bit in-process.) The columns go on the `input {` line and the
/// rules at the end, so the error locations of the spec do not move. Returns the new spec and
/// the exposed terms.
fn expose_hidden_terms(spec: &Spec, src: &str) -> (String, Vec<usize>) {
    let terms = spec.all_terms();
    let hidden: Vec<usize> = terms
        .iter()
        .enumerate()
        // Terms that lowering made (`nav#run`) have no name a spec can write; `Spec::evaluate`
        // compares them, and the library gives what they hold through the terms that read them.
        .filter(|(_, t)| {
            !t.in_breakdown
                && !t.name.contains('#')
                && !matches!(t.ty.strip_optional(), Ty::Regex | Ty::Error)
        })
        .map(|(id, _)| id)
        .collect();
    if hidden.is_empty() {
        return (src.to_string(), hidden);
    }
    let mut columns = String::new();
    let mut rules =
        String::from("\n// ---- added by tests/engines.rs: hidden terms made visible\n");
    for &id in &hidden {
        let t = &terms[id];
        let _ = write!(columns, " expect_{}: {}?,", t.name, t.ty.strip_optional());
        let _ = writeln!(rules, "rule same_{0} = {0} == expect_{0}", t.name);
    }
    let at = src.find("input {").expect("an input block") + "input {".len();
    let mut text = format!("{}{columns}{}", &src[..at], &src[at..]);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&rules);
    (text, hidden)
}

/// `row` with the interpreter's values of the exposed terms (`values`, when it decodes and
/// scores) in their `expect_` columns.
fn exposed_row(spec: &Spec, exposed: &[usize], row: &str, values: Option<&RowResult>) -> String {
    fn finite(v: &Value) -> bool {
        match v {
            Value::Float(x) => x.is_finite(),
            Value::Record(items) => items.iter().all(finite),
            Value::List(_) | Value::Columns(_) => v.as_list().iter().all(finite),
            _ => true,
        }
    }
    let Some(Ok(values)) = values else {
        return row.to_string();
    };
    if exposed.is_empty() {
        return row.to_string();
    }
    let terms = spec.all_terms();
    let fields: Vec<String> = exposed
        .iter()
        .filter(|&&id| finite(&values[id]))
        .map(|&id| {
            format!(
                "\"expect_{}\": {}",
                terms[id].name,
                reward::value_to_json_typed(&values[id], &terms[id].ty)
            )
        })
        .collect();
    let rest = row.strip_prefix('{').expect("an object row");
    let sep = if rest.trim_start().starts_with('}') || fields.is_empty() {
        ""
    } else {
        ", "
    };
    format!("{{{}{sep}{rest}", fields.join(", "))
}

/// A record of the exposed spec without its `same_T` terms: the record of the original spec.
fn without_exposed(record: &str, spec: &Spec, exposed: &[usize]) -> String {
    let mut out = record.to_string();
    if !out.starts_with(r#"{"score":"#) {
        return out;
    }
    let terms = spec.all_terms();
    for &id in exposed {
        let key = format!(
            "{}:",
            serde_json::Value::String(format!("same_{}", terms[id].name))
        );
        for value in ["true", "false"] {
            let pair = format!("{key}{value}");
            if let Some(cut) = out.find(&format!(",{pair}")) {
                out.replace_range(cut..cut + pair.len() + 1, "");
            } else if let Some(cut) = out.find(&format!("{pair},")) {
                out.replace_range(cut..cut + pair.len() + 1, "");
            } else if let Some(cut) = out.find(&pair) {
                out.replace_range(cut..cut + pair.len(), "");
            }
        }
    }
    out
}

/// The pieces of the case-file harness: every differing record is reported with its file and
/// line, and exposing hidden terms to a library keeps the spec's lines and records.
#[test]
fn case_harness_reports_every_mismatch_and_exposes_faithfully() {
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut failures = Vec::new();
    compare_records(
        &mut failures,
        "x.expected.jsonl",
        "jit",
        &lines(&["a", "b", "c"]),
        &lines(&["a", "B", "C"]),
    );
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].starts_with("tests/engines/x.expected.jsonl:2: jit"));
    assert!(failures[1].contains("expected: c") && failures[1].contains("jit     : C"));
    compare_records(
        &mut failures,
        "x.expected.jsonl",
        "interp",
        &lines(&["a"]),
        &[],
    );
    assert_eq!(failures.len(), 3, "a missing record is a mismatch");

    let src = "// a comment\ninput { s: text, n: int }\nlet t = upper(s)\nlet xs = [n, n]\nlet k = len(t)\nscore = k\n";
    let spec = compile_source("x.reward", src, &cases_dir(), &[]).unwrap();
    let (text, exposed) = expose_hidden_terms(&spec, src);
    let terms = spec.all_terms();
    let names: Vec<&str> = exposed.iter().map(|&id| terms[id].name.as_str()).collect();
    assert_eq!(names, ["t", "xs"]);
    assert!(
        text.starts_with("// a comment\ninput { expect_t: text?, expect_xs: list[int]?, s: text")
    );
    assert_eq!(
        text.lines().take(6).skip(2).collect::<Vec<_>>(),
        src.lines().skip(2).collect::<Vec<_>>(),
        "the spec's lines stay where they were"
    );
    assert!(text.ends_with("rule same_t = t == expect_t\nrule same_xs = xs == expect_xs\n"));
    let row = r#"{"s": "é", "n": 2}"#;
    let values = spec.evaluate(&spec.row_from_json(row).unwrap());
    let with = exposed_row(&spec, &exposed, row, Some(&values));
    assert_eq!(
        with,
        r#"{"expect_t": "É", "expect_xs": [2,2], "s": "é", "n": 2}"#
    );
    assert_eq!(exposed_row(&spec, &exposed, "[1]", None), "[1]");
    let exposed_spec = compile_public("x", &text, reward::Engine::Interpreter);
    let record = records(&exposed_spec, &[with])[0].clone();
    assert_eq!(
        record,
        r#"{"score":1.0,"terms":{"k":1,"same_t":true,"same_xs":true}}"#
    );
    assert_eq!(
        without_exposed(&record, &spec, &exposed),
        r#"{"score":1.0,"terms":{"k":1}}"#
    );
    assert_eq!(
        without_exposed(
            r#"{"score":2,"terms":{"same_t":false,"k":2,"same_xs":true}}"#,
            &spec,
            &exposed
        ),
        r#"{"score":2,"terms":{"k":2}}"#
    );
    let error = r#"{"error":{"line":1,"message":"\"same_t\":true"}}"#;
    assert_eq!(without_exposed(error, &spec, &exposed), error);
}

/// Every case file through every engine; all mismatches are reported together.
#[test]
fn case_files_agree_on_every_engine() {
    require_cc();
    let cases = load_cases();
    let scratch = Scratch::new("engines");
    // Two workers: the cases are independent, and most time goes to building libraries.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let dir = scratch.path().join(&case.name);
                std::fs::create_dir_all(&dir).unwrap();
                let found = run_case(case, &dir);
                failures.lock().unwrap().extend(found);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "\n{} mismatch(es) in the case files:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
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

/// The `given` inputs of a spec's tests (as values), compiled with the test's params when it sets
/// some: `(label, spec the row belongs to, row)`.
fn test_rows(spec: &Spec, path: &Path) -> Vec<(String, Option<Spec>, Value)> {
    let mut out = Vec::new();
    for test in spec.test_cases() {
        let variant = if test.params.is_empty() {
            None
        } else {
            Some(compile_file(path, &test.params).unwrap_or_else(|d| {
                panic!(
                    "{}: test {:?} does not compile with its params:\n{d}",
                    path.display(),
                    test.name
                )
            }))
        };
        let given = test.given.unwrap_or_else(|e| {
            panic!("test {:?}: given cannot be built: {}", test.name, e.message)
        });
        if given.is_none() {
            continue; // a test without `given` (only probe expectations): no row to compare
        }
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
        let source = std::fs::read_to_string(path).unwrap();
        let engines = Engines::new(&path.display().to_string(), &spec, &source);
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
            let Ok(row) = spec.row_from_json(line) else {
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
                    if let Err(m) = engines.run_value(&given, &row_text) {
                        mismatches.push(m);
                    }
                }
                Some(v) => {
                    // The spec compiled with this test's params.
                    let e = Engines::new(&format!("{} ({label})", path.display()), v, &source);
                    if let Err(m) = e.run_value(&given, &row_text) {
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
        for test in lib.test_cases() {
            let overrides: Overrides = test.params;
            let exprs: Vec<String> = test.expects;
            match groups.iter_mut().find(|(o, _)| *o == overrides) {
                Some((_, v)) => v.extend(exprs),
                None => groups.push((overrides, exprs)),
            }
        }
        for (overrides, exprs) in groups {
            let mut text = original.clone();
            text.push_str("\n// ---- added by tests/engines.rs\ninput { }\n");
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
            let engines = Engines::new(&format!("{name} (params {overrides:?})"), &spec, &text);
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

// ================================================================ 3. random programs

#[path = "common/random_programs.rs"]
mod random_programs;
use random_programs::{random_program, random_rows};

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
    let engines = Engines::new("a random program", &spec, &src);
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

/// Rows that do not decode, as the case files end with.
const BAD_ROWS: &[&str] = &[
    r#"[1, 2]"#,
    r#"{"x": "#,
    r#"{"unknown_column": 1} trailing"#,
];

/// The same random programs built as shared libraries and held to the interpreter on their
/// random rows. Fewer programs: each one is linked into a library.
#[test]
fn random_programs_as_libraries_agree_with_the_interpreter() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    require_cc();
    let scratch = Scratch::new("random");
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (
        proptest::collection::vec(proptest::arbitrary::any::<u32>(), 0..400),
        proptest::collection::vec(random_rows::row(), 1..6),
    );
    let mut built = 0;
    let mut attempts = 0;
    let mut failures = Vec::new();
    while built < 8 && attempts < 40 {
        attempts += 1;
        let (choices, mut rows) = strategy
            .new_tree(&mut runner)
            .expect("a random case")
            .current();
        // Rows that do not decode: the library must reject them with the interpreter's message.
        rows.extend(BAD_ROWS.iter().map(|r| r.to_string()));
        let src = random_program(&choices);
        let name = format!("random{built}");
        // A constant part that always fails (`1 % 0`) is a compile error: not a program to run.
        let spec = match compile_source(&format!("{name}.reward"), &src, &cases_dir(), &[]) {
            Ok(spec) => spec,
            Err(d) if d.contains("E0029") => continue,
            Err(d) => panic!("the generator built an ill-typed program:\n{d}\n--- source:\n{src}"),
        };
        let reference = records(
            &compile_public(&name, &src, reward::Engine::Interpreter),
            &rows,
        );
        let labels: Vec<(String, String)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("{name} row {}", i + 1), r.clone()))
            .collect();
        let found = library_problems(
            scratch.path(),
            &name,
            &src,
            &labels,
            &rows,
            &reference,
            &spec,
        );
        if !found.is_empty() {
            failures.push(format!("{}\n--- spec:\n{src}", found.join("\n")));
        }
        built += 1;
    }
    assert_eq!(built, 8, "too few random programs compiled");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// The comparison itself: what counts as a disagreement.
#[test]
fn harness_detects_every_kind_of_disagreement() {
    let spec = compile_case(
        "harness",
        "input { x: float }\nlet a = x\nlet b = x * 2.0\nscore = a\n",
    );
    let terms = spec.all_terms();
    let ok = |v: Vec<Value>| -> RowResult { Ok(v) };
    let f = Value::Float;
    let nan_a = f64::from_bits(0x7ff8_0000_0000_0000);
    let nan_b = f64::from_bits(0xfff8_0000_0000_0000);
    let same = |a: &RowResult, b: &RowResult| disagreement(&terms, a, b).is_none();
    assert!(same(
        &ok(vec![f(1.0), f(nan_a), f(0.0)]),
        &ok(vec![f(1.0), f(nan_a), f(0.0)])
    ));
    // One NaN: no operation tells a NaN's sign or payload apart (docs/language.md, Numbers),
    // and which of two NaN operands an addition returns follows the machine code's order.
    assert!(
        same(
            &ok(vec![f(1.0), f(nan_a), f(0.0)]),
            &ok(vec![f(1.0), f(nan_b), f(0.0)])
        ),
        "NaN payloads"
    );
    assert!(
        !same(
            &ok(vec![f(1.0), f(nan_a), f(0.0)]),
            &ok(vec![f(1.0), f(f64::INFINITY), f(0.0)])
        ),
        "NaN and a number"
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
    let err = |message: &str, column: u32, term: &str| -> RowResult {
        Err(RowError {
            message: message.to_string(),
            field: None,
            term: Some(term.to_string()),
            at: Some(format!("harness:2:{column}")),
        })
    };
    assert!(same(&err("boom", 3, "b"), &err("boom", 3, "b")));
    assert!(!same(&err("boom", 3, "b"), &err("bang", 3, "b")), "message");
    assert!(!same(&err("boom", 3, "b"), &err("boom", 4, "b")), "place");
    assert!(!same(&err("boom", 3, "b"), &err("boom", 3, "a")), "term");
    assert!(
        !same(&err("boom", 3, "b"), &ok(vec![f(0.0), f(0.0), f(0.0)])),
        "error vs value"
    );
}
