//! No input makes the parser, the checker or the scorer panic or run away.
//!
//! Four kinds of evidence:
//! - property tests that throw random text, random token soup and mutated specs at the compiler
//!   (`reward::compile`), and random and mangled JSON rows at the decoder;
//! - a generator of well-typed random programs whose rows are scored at the edges of every type
//!   (i64 extremes, -0.0, 1e308, empty lists and strings, Unicode);
//! - hand-written hostile inputs (100,000-deep expressions, thousands of errors, a 1 MB literal,
//!   import cycles, binary files, runaway functions and comprehensions), each under a watchdog;
//! - hostile rows for the decoder (deep nesting, huge numbers, broken escapes, 100,000 keys).
//!
//! The compiler's contract on failure: the rendered report contains at least one `[E0…]` code and
//! ends with `error: N problem(s) found in NAME`; "internal compiler error" means a panic was
//! caught. A scored row is always exactly one JSON object with either `score` or `error`.
//!
//! Rows are scored with the reference interpreter (`Spec::score_line`); the hand-written hostile
//! programs also run on the JIT, the default engine of `reward score`, which must agree. (Random
//! programs on both engines are the subject of tests/engines.rs.)
//!
//! A few tests pin down bugs found while writing this file; their comments say what goes wrong.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use reward::{Engine, Options, Source, Spec};
use reward_runtime::decode::{decode_json, decode_row, DecodeError};
use reward_runtime::driver::RowOutput;
use reward_runtime::ty::Field;
use reward_runtime::{Ty, Value};

/// Every hostile input must be handled within this time (debug build, 2 shared cores).
const WATCHDOG: Duration = Duration::from_secs(20);

/// For the one test whose work is fixed by design: running a row up to the per-row operation
/// budget (10^8 steps) costs about 8 s of CPU in a debug build, which a busy machine can stretch
/// past [`WATCHDOG`]. A runaway would take hours, so this still tells the two apart.
const BUDGET_WATCHDOG: Duration = Duration::from_secs(60);

const BIN: &str = env!("CARGO_BIN_EXE_reward");

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------------------ helpers

#[path = "common/tempdir.rs"]
mod tempdir;
#[path = "common/watchdog.rs"]
mod watchdog;
use tempdir::TempDir;
use watchdog::within;

/// An empty directory that random specs are compiled "in": a random `use "…"` finds nothing there.
fn empty_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new("empty")).path()
}

/// Compiles `spec.reward` in `dir` for the reference interpreter; on failure the diagnostics as
/// the CLI prints them.
fn compile_in(text: &str, dir: &Path) -> Result<Spec, String> {
    let source = Source::Text {
        name: "spec.reward".into(),
        text: text.into(),
        dir: dir.into(),
    };
    reward::compile(source, &Options::default().engine(Engine::Interpreter))
        .map_err(|d| d.to_string())
}

fn compile(text: &str) -> Result<Spec, String> {
    compile_in(text, empty_dir())
}

/// The report of a compilation that must fail.
fn failure(r: Result<Spec, String>, what: &str) -> String {
    match r {
        Ok(_) => panic!("expected {what}, but it compiled"),
        Err(e) => e,
    }
}

/// Runs `f` on a thread with a big stack and fails the test if it takes longer than [`WATCHDOG`].
/// A panic inside `f` is re-raised here, so the test reports it as it is.
fn within_limit<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(WATCHDOG, what, f)
}

/// At most `n` characters of `s`, for assertion messages about huge inputs.
fn clip_text(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &s[..cut], s.len()),
    }
}

/// Checks the shape of a failed compilation and returns the number of problems it announces.
fn problems(input: &str, err: &str) -> usize {
    assert!(
        !err.contains("internal compiler error"),
        "the compiler panicked on:\n{}\n---\n{err}",
        clip_text(input, 2000)
    );
    assert!(
        err.contains("[E0"),
        "a failure without an error code on:\n{}\n---\n{}",
        clip_text(input, 2000),
        clip_text(err, 4000)
    );
    let last = err.trim_end_matches('\n').lines().last().unwrap_or("");
    let count = last
        .strip_prefix("error: ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(n, rest)| {
            let n: usize = n.parse().ok()?;
            let noun = if n == 1 { "problem " } else { "problems " };
            rest.strip_prefix(noun)?.strip_prefix("found in ")?;
            Some(n)
        });
    match count {
        Some(n) if n >= 1 => n,
        _ => panic!(
            "the report does not end with `error: N problem(s) found in …` on:\n{}\n---\n{}",
            clip_text(input, 2000),
            clip_text(err, 4000)
        ),
    }
}

/// The error codes in a report, in order (`E0023`, …). Only meaningful when the source itself
/// contains no `[E0`.
fn codes(report: &str) -> Vec<&str> {
    report
        .match_indices("[E0")
        .filter_map(|(i, _)| {
            let code = report.get(i + 1..i + 6)?;
            (report.as_bytes().get(i + 6) == Some(&b']')
                && code[1..].bytes().all(|b| b.is_ascii_digit()))
            .then_some(code)
        })
        .collect()
}

/// Compiles `text` expecting failure, and checks the report carries exactly `expected` codes
/// (in source order) and says so on its summary line.
fn expect_codes(text: &str, expected: &[&str]) -> String {
    let err = match compile(text) {
        Ok(_) => panic!(
            "expected {expected:?}, but it compiled:\n{}",
            clip_text(text, 2000)
        ),
        Err(e) => e,
    };
    let n = problems(text, &err);
    assert_eq!(codes(&err), expected, "{}", clip_text(&err, 6000));
    assert_eq!(n, expected.len(), "{}", clip_text(&err, 6000));
    err
}

/// Checks a scored row is one JSON object with either `score` (and `terms`) or `error`.
fn one_record(out: &RowOutput, line_no: u64) -> serde_json::Value {
    assert!(
        !out.json.contains('\n'),
        "a row output spans lines: {}",
        out.json
    );
    let v: serde_json::Value =
        serde_json::from_str(&out.json).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.json));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {}", out.json));
    let has_score = obj.contains_key("score");
    let has_error = obj.contains_key("error");
    assert!(
        has_score != has_error,
        "needs exactly one of score/error: {}",
        out.json
    );
    assert_eq!(out.is_error, has_error, "{}", out.json);
    if has_score {
        let number_like = |x: &serde_json::Value| {
            x.is_number()
                || x.is_null()
                || x.is_boolean()
                || matches!(x.as_str(), Some("NaN" | "inf" | "-inf"))
        };
        assert!(number_like(&obj["score"]), "{}", out.json);
        let terms = obj["terms"]
            .as_object()
            .unwrap_or_else(|| panic!("{}", out.json));
        assert!(terms.values().all(number_like), "{}", out.json);
    } else {
        let error = &obj["error"];
        assert_eq!(error["line"], line_no, "{}", out.json);
        let message = error["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "an error without a message: {}",
            out.json
        );
    }
    v
}

/// Scores one row with the reference interpreter.
fn score(spec: &Spec, line: &str) -> serde_json::Value {
    let out = spec.score_line(1, line, false);
    one_record(&out, 1)
}

/// Scores one row with the interpreter and with the JIT (the default engine of `reward score`):
/// both must survive it and write the same record.
fn score_both(spec: &Spec, line: &str) -> serde_json::Value {
    let interp = spec.score_line(1, line, false);
    let v = one_record(&interp, 1);
    let jit = spec
        .with_engine(Engine::Jit)
        .unwrap_or_else(|e| panic!("{e}"));
    let native = jit.score_line(1, line, false);
    one_record(&native, 1);
    assert_eq!(
        native.json, interp.json,
        "the JIT disagrees with the interpreter"
    );
    v
}

// ------------------------------------------------------------ 1. random input to the compiler

/// Every kind of token of the language, plus near-misses (unterminated strings and comments, bad
/// regexes, out-of-range numbers, characters the language does not use).
const TOKENS: &[&str] = &[
    // keywords and words with a meaning somewhere
    "use",
    "input",
    "param",
    "type",
    "let",
    "rule",
    "score",
    "fn",
    "rubric",
    "criterion",
    "tag",
    "test",
    "given",
    "expect",
    "if",
    "then",
    "else",
    "for",
    "in",
    "not",
    "and",
    "or",
    "true",
    "false",
    "none",
    "list",
    "bool",
    "int",
    "float",
    "text",
    "regex",
    "normalize",
    "clip",
    "positive",
    "total",
    "std",
    "math",
    "extract_tag",
    // identifiers and builtins
    "completion",
    "answer",
    "x",
    "xs",
    "foo",
    "_",
    "_hidden",
    "a1",
    "é",
    "𝔘",
    "len",
    "sum",
    "count",
    "any",
    "mean",
    "min",
    "max",
    "round",
    "lower",
    "contains",
    "range",
    "argmax",
    // operators and punctuation
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "~",
    "??",
    "=",
    "->",
    "::",
    ":",
    ",",
    ".",
    "?",
    "!",
    "&",
    "|",
    "^",
    "`",
    "#",
    "@",
    "$",
    "\\",
    ";",
    "'",
    // brackets
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "((",
    "))",
    // literals
    "0",
    "1",
    "42",
    "3.14",
    "1e3",
    "1e999",
    "1_000",
    "99999999999999999999999",
    "0.5e-3",
    "1.",
    "9223372036854775807",
    "9223372036854775808",
    ".5",
    "1e",
    "0x10",
    // regexes, valid and not
    "/a+/",
    "/\\d+/i",
    "/(/",
    "/[/",
    "/a{1000}/",
    "/(?P<x>a)/",
    "/\\(/ms",
    "/x/zz",
    "/(a)\\1/",
    // strings and comments
    "\"\"",
    "\"abc\"",
    "\"\\n\"",
    "\"\\u{1F600}\"",
    "\"\\q\"",
    "\"\"\"raw\"\"\"",
    "\"\"\"",
    "\"",
    "\"unterminated",
    "// comment\n",
    "/* block */",
    "/*",
    "*/",
    "//",
    // whitespace and odd characters
    "\n",
    "\t",
    "\r\n",
    "\u{feff}",
    "\0",
    "\u{202e}",
];

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(TOKENS)
}

/// Tokens glued with random separators (none, a space, a newline).
fn token_soup(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (token(), prop::sample::select(&["", " ", " ", "\n"][..])),
        0..max,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(t, sep)| [t, sep])
            .collect::<String>()
    })
}

/// A small valid spec that token soup is spliced into.
const SMALL_SPEC: &str = r#"input {
    completion: text
    answer: text
    xs: list[float]
}
param w: float = 0.5
fn bonus(a: float) -> float = a * w
let n_words = len(words(completion))
rule correct = contains(completion, answer)
score = (if correct then 1.0 else 0.0) + bonus(mean(xs) ?? 0.0)
"#;

/// Byte offsets of `text` that are char boundaries (including the end).
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// Compiles any text; whatever happens must be a success or a well-formed report.
fn compiles_or_reports(text: &str) {
    if let Err(err) = compile(text) {
        problems(text, &err);
    }
}

#[test]
fn the_small_spec_compiles() {
    let spec = compile(SMALL_SPEC).unwrap_or_else(|e| panic!("{e}"));
    let v = score(
        &spec,
        r#"{"completion": "it is 4", "answer": "4", "xs": [1.0, 3.0]}"#,
    );
    assert_eq!(v["score"], 2.0);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        compiles_or_reports(&text);
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        compiles_or_reports(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn printable_ascii(text in "[ -~\n\t]{0,300}") {
        compiles_or_reports(&text);
    }

    #[test]
    fn token_sequences(text in token_soup(80)) {
        compiles_or_reports(&text);
    }

    #[test]
    fn token_sequences_spliced_into_a_valid_spec(soup in token_soup(12), at in any::<Index>()) {
        let cuts = boundaries(SMALL_SPEC);
        let at = cuts[at.index(cuts.len())];
        let text = format!("{}{soup}{}", &SMALL_SPEC[..at], &SMALL_SPEC[at..]);
        compiles_or_reports(&text);
    }
}

// ----------------------------------------------------------------- 2. well-typed random programs

/// The types the generator builds expressions of.
#[derive(Clone, Copy, Debug, PartialEq)]
enum T {
    Float,
    Int,
    Bool,
    Text,
}

/// Builds a type-correct program from a list of choices. When the choices run out every pick is
/// 0, which always means "a leaf", so proptest shrinks towards small programs.
struct Gen<'a> {
    choices: &'a [u32],
    pos: usize,
    fresh: usize,
}

/// Names in scope, with their types, and whether the rollout's columns are visible (not in a fn).
#[derive(Clone)]
struct Env {
    vars: Vec<(String, T)>,
    in_fn: bool,
}

impl Env {
    fn with(&self, name: &str, t: T) -> Env {
        let mut e = self.clone();
        e.vars.push((name.to_string(), t));
        e
    }
}

const REGEXES: &[&str] = &[
    "/a+/",
    "/^\\s*$/",
    "/[é✓]/i",
    "/(\\d+)\\.(\\d+)/",
    "/<x>.*<\\/x>/s",
    "/^$/m",
];

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        c as usize % n
    }

    fn var(&mut self) -> String {
        self.fresh += 1;
        format!("it{}", self.fresh)
    }

    fn leaf(&mut self, env: &Env, t: T) -> String {
        let mut options: Vec<String> = match t {
            T::Float => [
                "0.5", "-2.25", "1e308", "0.0", "(-0.0)", "1e-300", "pi()", "w",
            ]
            .map(String::from)
            .to_vec(),
            T::Int => ["0", "7", "(-3)", "9223372036854775807", "m"]
                .map(String::from)
                .to_vec(),
            T::Bool => ["true", "false"].map(String::from).to_vec(),
            T::Text => ["\"\"", "\"héllo ✓\"", "\"a,b\"", "\"<x>1</x>\"", "\"İǅß\""]
                .map(String::from)
                .to_vec(),
        };
        if !env.in_fn {
            options.extend(
                match t {
                    T::Float => &["x"][..],
                    T::Int => &["n"][..],
                    T::Bool => &["flag"][..],
                    T::Text => &["completion", "answer"][..],
                }
                .iter()
                .map(|s| s.to_string()),
            );
        }
        options.extend(
            env.vars
                .iter()
                .filter(|(_, vt)| *vt == t)
                .map(|(n, _)| n.clone()),
        );
        // Prefer names (the last options) so that most programs read their inputs.
        let i = self.pick(options.len());
        options.swap_remove(options.len() - 1 - i)
    }

    /// `for v in LIST` with the element type: input lists at the top level, `words(…)` anywhere.
    fn source(&mut self, env: &Env, depth: usize) -> (String, T) {
        let choice = if env.in_fn { 2 } else { self.pick(3) };
        match choice {
            0 => ("xs".into(), T::Float),
            1 => ("ns".into(), T::Int),
            _ => (
                format!("words({})", self.expr(env, T::Text, depth)),
                T::Text,
            ),
        }
    }

    fn expr(&mut self, env: &Env, t: T, depth: usize) -> String {
        if depth == 0 || self.pick(3) == 0 {
            return self.leaf(env, t);
        }
        let d = depth - 1;
        match t {
            T::Float => match self.pick(11) {
                0 => {
                    let op = ["+", "-", "*", "/"][self.pick(4)];
                    format!(
                        "({} {op} {})",
                        self.expr(env, T::Float, d),
                        self.expr(env, T::Float, d)
                    )
                }
                1 => {
                    let f = [
                        "abs", "round", "floor", "sqrt", "log", "exp", "sigmoid", "tanh",
                    ][self.pick(8)];
                    format!("{f}({})", self.expr(env, T::Float, d))
                }
                2 => {
                    let f = ["min", "max", "pow"][self.pick(3)];
                    format!(
                        "{f}({}, {})",
                        self.expr(env, T::Float, d),
                        self.expr(env, T::Float, d)
                    )
                }
                3 => format!("clip({}, 0.0, 1.0)", self.expr(env, T::Float, d)),
                4 => format!(
                    "(if {} then {} else {})",
                    self.expr(env, T::Bool, d),
                    self.expr(env, T::Float, d),
                    self.expr(env, T::Float, d)
                ),
                5 => format!("float({})", self.expr(env, T::Int, d)),
                6 => format!("(-{})", self.expr(env, T::Float, d)),
                7 => {
                    let (src, et) = self.source(env, d);
                    let v = self.var();
                    let inner = env.with(&v, et);
                    let body = self.expr(&inner, T::Float, d);
                    match self.pick(4) {
                        0 => format!("sum(for {v} in {src}: {body})"),
                        1 => {
                            let cond = self.expr(&inner, T::Bool, d);
                            format!("(mean(for {v} in {src} if {cond}: {body}) ?? 0.0)")
                        }
                        2 => format!("(max(for {v} in {src}: {body}) ?? -1.0)"),
                        _ => format!("(min(for {v} in {src}: {body}) ?? 1.0)"),
                    }
                }
                8 if !env.in_fn => format!(
                    "helper({}, {}, {})",
                    self.expr(env, T::Float, d),
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Int, d)
                ),
                9 if !env.in_fn => format!("(maybe ?? {})", self.expr(env, T::Float, d)),
                _ => format!(
                    "(parse_float({}) ?? {})",
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Float, d)
                ),
            },
            T::Int => match self.pick(9) {
                0 => {
                    let op = ["+", "-", "*", "%"][self.pick(4)];
                    format!(
                        "({} {op} {})",
                        self.expr(env, T::Int, d),
                        self.expr(env, T::Int, d)
                    )
                }
                1 => format!("len({})", self.expr(env, T::Text, d)),
                2 => {
                    let f = ["min", "max"][self.pick(2)];
                    format!(
                        "{f}({}, {})",
                        self.expr(env, T::Int, d),
                        self.expr(env, T::Int, d)
                    )
                }
                3 => format!(
                    "(if {} then {} else {})",
                    self.expr(env, T::Bool, d),
                    self.expr(env, T::Int, d),
                    self.expr(env, T::Int, d)
                ),
                4 => {
                    let (src, et) = self.source(env, d);
                    let v = self.var();
                    let cond = self.expr(&env.with(&v, et), T::Bool, d);
                    format!("count(for {v} in {src} if {cond})")
                }
                5 => format!("int({})", self.expr(env, T::Float, d)),
                6 => format!(
                    "(parse_int({}) ?? {})",
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Int, d)
                ),
                7 => format!(
                    "occurrences({}, {})",
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Text, d)
                ),
                _ => {
                    let f = ["abs", "-"][self.pick(2)];
                    format!("{f}({})", self.expr(env, T::Int, d))
                }
            },
            T::Bool => match self.pick(9) {
                0 => {
                    let op = ["<", "<=", "==", "!=", ">", ">="][self.pick(6)];
                    let nt = [T::Float, T::Int][self.pick(2)];
                    format!("({} {op} {})", self.expr(env, nt, d), self.expr(env, nt, d))
                }
                1 => {
                    let a = self.expr(env, T::Text, d);
                    let b = self.expr(env, T::Text, d);
                    match self.pick(5) {
                        0 => format!("({a} == {b})"),
                        1 => format!("({a} in {b})"),
                        2 => format!("contains({a}, {b})"),
                        3 => format!("starts_with({a}, {b})"),
                        _ => format!("({a} not in {b})"),
                    }
                }
                2 => format!("(not {})", self.expr(env, T::Bool, d)),
                3 => {
                    let op = ["and", "or"][self.pick(2)];
                    format!(
                        "({} {op} {})",
                        self.expr(env, T::Bool, d),
                        self.expr(env, T::Bool, d)
                    )
                }
                4 => {
                    let (src, et) = self.source(env, d);
                    let v = self.var();
                    let body = self.expr(&env.with(&v, et), T::Bool, d);
                    let agg = ["any", "all"][self.pick(2)];
                    format!("{agg}(for {v} in {src}: {body})")
                }
                5 => {
                    if env.in_fn {
                        format!("is_some(parse_int({}))", self.expr(env, T::Text, d))
                    } else {
                        ["is_none(maybe)", "is_some(label)"][self.pick(2)].to_string()
                    }
                }
                6 => {
                    let re = REGEXES[self.pick(REGEXES.len())];
                    format!("({} ~ {re})", self.expr(env, T::Text, d))
                }
                7 => {
                    let f = ["is_nan", "is_finite"][self.pick(2)];
                    format!("{f}({})", self.expr(env, T::Float, d))
                }
                _ => format!(
                    "approx({}, {})",
                    self.expr(env, T::Float, d),
                    self.expr(env, T::Float, d)
                ),
            },
            T::Text => match self.pick(7) {
                0 => {
                    let f = ["lower", "upper", "trim"][self.pick(3)];
                    format!("{f}({})", self.expr(env, T::Text, d))
                }
                1 => format!(
                    "({} + {})",
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Text, d)
                ),
                2 => format!(
                    "(if {} then {} else {})",
                    self.expr(env, T::Bool, d),
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Text, d)
                ),
                3 => format!("replace({}, \"a\", \"ö\")", self.expr(env, T::Text, d)),
                4 => format!(
                    "join(split({}, \",\"), \" | \")",
                    self.expr(env, T::Text, d)
                ),
                5 => format!(
                    "slice({}, {}, {})",
                    self.expr(env, T::Text, d),
                    self.expr(env, T::Int, d),
                    self.expr(env, T::Int, d)
                ),
                _ if !env.in_fn => format!("(label ?? {})", self.expr(env, T::Text, d)),
                _ => format!("(first(words({})) ?? \"\")", self.expr(env, T::Text, d)),
            },
        }
    }

    /// A whole spec: input, params, a fn, terms of every type, a rubric and a score.
    fn program(&mut self) -> String {
        const DEPTH: usize = 4;
        let fn_env = Env {
            vars: vec![
                ("a".into(), T::Float),
                ("b".into(), T::Text),
                ("k".into(), T::Int),
            ],
            in_fn: true,
        };
        let mut env = Env {
            vars: Vec::new(),
            in_fn: false,
        };
        let mut out = String::from(
            "input {\n    completion: text\n    answer: text\n    label: text?\n    n: int\n    \
             x: float\n    maybe: float?\n    flag: bool\n    xs: list[float]\n    ns: list[int]\n}\n\
             param w: float = 0.5\nparam m: int = 3\n",
        );
        out += &format!(
            "fn helper(a: float, b: text, k: int) -> float = {}\n",
            self.expr(&fn_env, T::Float, DEPTH)
        );
        let terms = [
            ("let f0", "f0", T::Float),
            ("let i0", "i0", T::Int),
            ("rule r0", "r0", T::Bool),
            ("let t0", "t0", T::Text),
            ("let f1", "f1", T::Float),
            ("rule r1", "r1", T::Bool),
        ];
        for (head, name, t) in terms {
            out += &format!("{head} = {}\n", self.expr(&env, t, DEPTH));
            env.vars.push((name.to_string(), t));
        }
        // `none` is left out: see `rubric_normalize_none_is_accepted`.
        let normalize = ["positive", "total", "abs"][self.pick(3)];
        out += &format!(
            "rubric quality (normalize: {normalize}, clip: [0, 1]) {{\n    \
             criterion \"first\" +2 : {} tag \"good\"\n    \
             criterion \"second\" -1 : {} tag \"bad\"\n    \
             criterion \"third\" +1 : clip({}, 0.0, 1.0)\n}}\n",
            self.expr(&env, T::Bool, DEPTH - 1),
            self.expr(&env, T::Bool, DEPTH - 1),
            self.expr(&env, T::Float, DEPTH - 1),
        );
        env.vars.push(("quality".into(), T::Float));
        out += &format!("score = {}\n", self.expr(&env, T::Float, DEPTH));
        out
    }
}

/// Rows at the edges of every column type.
const EDGE_ROWS: &[&str] = &[
    r#"{"completion": "", "answer": "", "n": 0, "x": 0.0, "flag": false, "xs": [], "ns": []}"#,
    r#"{"completion": "héllo wörld ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 İ ǅ", "answer": "ß", "label": "x", "n": 9223372036854775807, "x": -0.0, "maybe": null, "flag": true, "xs": [1e308, 1e308], "ns": [9223372036854775807, 1]}"#,
    r#"{"completion": "a,b,c\n\n<x>1</x> 3.14", "answer": "a", "label": null, "n": -9223372036854775808, "x": 1e308, "maybe": -1e308, "flag": false, "xs": [-0.0, 5e-324], "ns": [-9223372036854775808, -1]}"#,
    r#"{"completion": "\u0000 \u202e abc e\u0301 \ud83d\ude00", "answer": " ", "label": "", "n": -1, "x": -1e308, "maybe": 0.0, "flag": true, "xs": [0.5, -2.25, 1e-300], "ns": [0, 3, -3]}"#,
    r#"{"completion": "   ", "answer": "   ", "n": 3, "x": 2.5, "maybe": 1.7976931348623157e308, "flag": true, "xs": [1.7976931348623157e308], "ns": [2, 2, 2]}"#,
];

#[test]
fn rubric_normalize_none_is_accepted() {
    // The checker documents four modes ("`none` (raw points)"), but `none` is a reserved word
    // and the parser rejects it as an option value.
    let text = format!(
        "{HEAD}rubric raw (normalize: none) {{\n    criterion \"long\" +2 : len(completion) > 2\n    \
         criterion \"bad\" -1 : x > 1.0\n}}\nscore = raw\n"
    );
    let spec = compile(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
    let v = score(&spec, ROW);
    assert_eq!(v["score"], 1.0, "{v}");
}

#[test]
fn the_simplest_generated_program_compiles_and_scores() {
    let text = Gen {
        choices: &[],
        pos: 0,
        fresh: 0,
    }
    .program();
    let spec = compile(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
    for row in EDGE_ROWS {
        let v = score(&spec, row);
        assert!(v.get("score").is_some(), "{text}\n{row}\n{v}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn well_typed_programs_compile_and_score_edge_rows(
        choices in prop::collection::vec(any::<u32>(), 0..160)
    ) {
        let text = Gen { choices: &choices, pos: 0, fresh: 0 }.program();
        match compile(&text) {
            Ok(spec) => {
                for (i, row) in EDGE_ROWS.iter().enumerate() {
                    let line_no = i as u64 + 1;
                    one_record(&spec.score_line(line_no, row, false), line_no);
                }
            }
            Err(err) => {
                problems(&text, &err);
                // Only constant folding may reject a well-typed program (`1 % 0`, overflow).
                let found = codes(&err);
                prop_assert!(
                    found.iter().all(|c| *c == "E0029"),
                    "a well-typed program was rejected:\n{}\n{}", text, err
                );
            }
        }
    }
}

// ------------------------------------------------------------------ 3. mutations of a valid spec

/// A complete valid spec with every kind of item, so that mutations reach every part of the
/// parser and the checker.
const FULL_SPEC: &str = r#"//! A complete spec: every kind of item.
use std::text::{extract_tag, word_count}

input {
    completion: text
    answer: text
    steps: list[{x: float, ok: bool}]
    judge: {helpful: bool, harmful: bool}?
    id: text?
}

param length_weight: float = 0.2
param max_words: int = 50

type Step = {x: float, ok: bool}

fn step_value(s: Step, w: float) -> float = if s.ok then s.x * w else 0.0

let predicted = extract_tag(completion, "answer") ?? ""
rule correct = trim(predicted) == trim(answer)
rule formatted = completion ~ /^<think>.*<\/think>/s
let n_words = word_count(completion)
let progress = sum(for s in steps if s.ok: step_value(s, 1.0)) / max(float(len(steps)), 1.0)
let brevity = clip(1.0 - float(n_words) / float(max_words), 0.0, 1.0)
let _no_judge = {helpful: false, harmful: false}

rubric quality (normalize: positive, clip: [0, 1]) {
    criterion "correct answer" +3 : correct tag "accuracy"
    criterion "well formatted" +1 : formatted
    criterion "helpful" +1 : (judge ?? _no_judge).helpful
    criterion "harmful" -5 : (judge ?? _no_judge).harmful tag "harm"
}

score = quality + length_weight * brevity + 0.1 * progress

test "a correct, formatted answer" {
    given { completion: "<think>2+2</think><answer>4</answer>", answer: "4", steps: [] }
    expect correct
    expect formatted
    expect score > 0.5
}
"#;

const FULL_ROWS: &[&str] = &[
    r#"{"completion": "<think>2+2</think><answer>4</answer>", "answer": "4", "steps": [{"x": 1.0, "ok": true}, {"x": 5.0, "ok": false}], "judge": {"helpful": true, "harmful": false}}"#,
    r#"{"completion": "", "answer": "", "steps": []}"#,
];

#[test]
fn the_full_spec_compiles_and_scores() {
    let spec = compile(FULL_SPEC).unwrap_or_else(|e| panic!("{e}"));
    let v = score(&spec, FULL_ROWS[0]);
    // quality (3 + 1 + 1) / 5 = 1.0, brevity 1 - 1/50 = 0.98, progress 1.0 / 2 steps = 0.5:
    // 1.0 + 0.2 * 0.98 + 0.1 * 0.5.
    assert!((v["score"].as_f64().unwrap() - 1.246).abs() < 1e-12, "{v}");
    assert_eq!(v["terms"]["quality#harm"], 0.0);
    let v = score(&spec, FULL_ROWS[1]);
    assert!(v.get("score").is_some(), "{v}");
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index, Index),
    Duplicate(Index, Index),
    Swap(Index, Index, Index, Index),
    Insert(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = || any::<Index>();
    prop_oneof![
        (idx(), idx()).prop_map(|(a, b)| Mutation::Delete(a, b)),
        (idx(), idx()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
        (idx(), idx(), idx(), idx()).prop_map(|(a, b, c, d)| Mutation::Swap(a, b, c, d)),
        (idx(), prop::collection::vec(any::<u8>(), 1..12)).prop_map(|(a, bytes)| Mutation::Insert(
            a,
            String::from_utf8_lossy(&bytes).into_owned()
        )),
        (idx(), token_soup(4)).prop_map(|(a, soup)| Mutation::Insert(a, soup)),
    ]
}

/// A sorted pair of char boundaries.
fn range_of(text: &str, a: &Index, b: &Index) -> (usize, usize) {
    let cuts = boundaries(text);
    let (x, y) = (cuts[a.index(cuts.len())], cuts[b.index(cuts.len())]);
    (x.min(y), x.max(y))
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Delete(a, b) => {
            let (s, e) = range_of(text, a, b);
            format!("{}{}", &text[..s], &text[e..])
        }
        Mutation::Duplicate(a, b) => {
            let (s, e) = range_of(text, a, b);
            format!("{}{}", &text[..e], &text[s..])
        }
        Mutation::Swap(a, b, c, d) => {
            let mut cuts = [range_of(text, a, b), range_of(text, c, d)];
            cuts.sort();
            let [(s1, e1), (s2, e2)] = cuts;
            if e1 > s2 {
                // Overlapping ranges: swap the two halves of their union instead.
                let (s, m, e) = (s1, s2, e1.max(e2));
                format!("{}{}{}{}", &text[..s], &text[m..e], &text[s..m], &text[e..])
            } else {
                format!(
                    "{}{}{}{}{}",
                    &text[..s1],
                    &text[s2..e2],
                    &text[e1..s2],
                    &text[s1..e1],
                    &text[e2..]
                )
            }
        }
        Mutation::Insert(a, what) => {
            let cuts = boundaries(text);
            let at = cuts[a.index(cuts.len())];
            format!("{}{what}{}", &text[..at], &text[at..])
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_specs(mutations in prop::collection::vec(mutation(), 1..4)) {
        let text = mutations.iter().fold(FULL_SPEC.to_string(), |t, m| apply(&t, m));
        match compile(&text) {
            Err(err) => {
                problems(&text, &err);
            }
            Ok(spec) => {
                for (i, row) in FULL_ROWS.iter().enumerate() {
                    let line_no = i as u64 + 1;
                    one_record(&spec.score_line(line_no, row, false), line_no);
                }
            }
        }
    }
}

// --------------------------------------------------------------------------- 4. hostile inputs

const HEAD: &str = "input { completion: text, x: float, maybe: float? }\n";
const ROW: &str = r#"{"completion": "abc", "x": 2.0}"#;

/// Compiles on a watched thread.
fn watched_compile(what: &str, text: String) -> (String, Result<Spec, String>) {
    within_limit(what, move || {
        let r = compile(&text);
        (text, r)
    })
}

#[test]
fn empty_file() {
    // A file with no items is a valid (empty) library.
    let (_, r) = watched_compile("empty file", String::new());
    r.unwrap_or_else(|e| panic!("{e}"));
    let (_, r) = watched_compile("whitespace", " \n\t\r\n".into());
    r.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn only_comments() {
    let text = "// a comment\n//! a doc comment\n/* a block\n   comment */\n// ((( [[[ {{{ \"\n";
    let (_, r) = watched_compile("only comments", text.into());
    r.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn param_defaults_with_unknown_names_are_reported_not_evaluated() {
    // Found by `mutated_specs`: a param default (or a test's param value) that failed to check
    // is still evaluated at compile time, and the interpreter panics on the error node
    // ("internal error: expected a bool value, found None").
    let cases = [
        format!("{HEAD}param p: float = if nope then 1.0 else 0.0\nscore = x\n"),
        format!("{HEAD}param p: bool = not nope\nscore = x\n"),
        format!("{HEAD}param p: float = [1.0][nope]\nscore = x\n"),
        format!(
            "{HEAD}param p: float = 1.0\nscore = x * p\n\
             test \"t\" {{\n    param p = if nope then 1.0 else 2.0\n    \
             given {{ completion: \"a\", x: 1.0 }}\n    expect score == 1.0\n}}\n"
        ),
    ];
    for text in cases {
        let err = within_limit("param default", move || expect_codes(&text, &["E0002"]));
        assert!(err.contains("unknown name `nope`"), "{err}");
    }
}

#[test]
fn syntax_error_right_after_a_non_ascii_character() {
    // Found by `token_sequences_spliced_into_a_valid_spec`: when a name is expected, the parser's
    // error reporter steps one byte past the last non-identifier character before the error
    // (syntax/parse.rs `syntax_error`, `rfind(..).map_or(0, |i| i + 1)`), which is inside `é`:
    // "start byte index … is not a char boundary".
    for text in [
        format!("{HEAD}score = float(len(x*/é\n"),
        format!("{HEAD}let n = len(w*/é\nords(completion))\nscore = x\n"),
    ] {
        let err = within_limit("non-ASCII before an error", move || {
            let err = failure(compile(&text), "a syntax error");
            problems(&text, &err);
            err
        });
        assert!(codes(&err).iter().all(|c| *c == "E0001"), "{err}");
    }
}

#[test]
fn invalid_regex_error_at_a_non_ascii_character() {
    // Found by `mutated_specs`: regex_syntax reports `{é` with an empty span at `é`; the checker
    // widens it by one byte (check/regexes.rs, `at.start.offset + 1`), which ends inside `é`,
    // and ariadne panics rendering it ("end byte index … is not a char boundary").
    for pattern in ["a{é", "^{é<think>", "x{2,é}"] {
        let text =
            format!("{HEAD}rule r = completion ~ /{pattern}/\nscore = if r then 1.0 else 0.0\n");
        let err = within_limit("regex error at é", move || expect_codes(&text, &["E0008"]));
        assert!(err.contains("invalid regex"), "{err}");
    }
}

#[test]
fn hundred_thousand_nested_parens() {
    let text = format!(
        "{HEAD}score = {}x{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let err = within_limit("100k parens", move || expect_codes(&text, &["E0023"]));
    assert!(err.contains("nested more than 64 levels"), "{err}");
    // The 100,000-character line is not echoed.
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn hundred_thousand_nots() {
    let text = format!("{HEAD}rule r = {}true\nscore = x\n", "not ".repeat(100_000));
    let err = within_limit("100k nots", move || expect_codes(&text, &["E0023"]));
    assert!(err.contains("nested more than"), "{err}");
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn hundred_thousand_unary_minus() {
    let text = format!("{HEAD}score = {}x\n", "- ".repeat(100_000));
    let err = within_limit("100k minus", move || expect_codes(&text, &["E0023"]));
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn hundred_thousand_additions() {
    let text = format!("{HEAD}score = x + 1{}\n", " + 1".repeat(100_000));
    let err = within_limit("100k additions", move || expect_codes(&text, &["E0023"]));
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn hundred_thousand_coalesces() {
    let text = format!(
        "{HEAD}score = maybe{} ?? 0.0\n",
        " ?? maybe".repeat(100_000)
    );
    let err = within_limit("100k ??", move || expect_codes(&text, &["E0023"]));
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn twenty_thousand_nested_ifs() {
    let text = format!(
        "{HEAD}score = {}x\n",
        "if x > 0.0 then 1.0 else ".repeat(20_000)
    );
    let err = within_limit("20k ifs", move || expect_codes(&text, &["E0023"]));
    assert!(err.len() < 2000, "{} bytes of report", err.len());
}

#[test]
fn deep_but_allowed_expressions_compile_and_score() {
    // Just under both limits: 60 brackets, 300 chained additions.
    let text = format!(
        "{HEAD}let a = {}x{}\nlet b = x{}\nscore = a + b\n",
        "(".repeat(60),
        ")".repeat(60),
        " + 1".repeat(300)
    );
    let v = within_limit("deep but allowed", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 304.0, "{v}");
}

#[test]
fn huge_int_literal() {
    let text = format!("{HEAD}score = x + {}\n", "9".repeat(100));
    let err = within_limit("huge int", move || expect_codes(&text, &["E0011"]));
    assert!(err.contains("integer literal is out of range"), "{err}");
}

#[test]
fn float_literal_out_of_range() {
    let text = format!("{HEAD}score = x + 1e999\n");
    let err = within_limit("1e999", move || expect_codes(&text, &["E0011"]));
    assert!(err.contains("float literal is out of range"), "{err}");
}

#[test]
fn megabyte_string_literal_compiles() {
    let text = format!(
        "{HEAD}let s = \"{}\"\nscore = float(len(s)) + x\n",
        "ab✓".repeat(350_000)
    );
    let v = within_limit("1 MB string", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{}", clip_text(&e, 2000)));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 1_050_002.0, "{v}");
}

#[test]
fn nul_byte() {
    let text = format!("{HEAD}score = x\0\n");
    let err = within_limit("NUL", move || expect_codes(&text, &["E0001"]));
    assert!(err.contains("spec.reward:2:"), "{err}");
    // A NUL inside a string literal is just a character.
    let text = format!("{HEAD}score = float(len(\"a\0b\"))\n");
    let v = within_limit("NUL in a string", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 3.0);
}

#[test]
fn very_long_identifier() {
    // A 100,000-character name, misspelt once: reported quickly, without a suggestion search.
    let name = "a".repeat(100_000);
    let text = format!("{HEAD}let {name} = x + 1.0\nscore = {name}b\n");
    let t0 = Instant::now();
    let err = within_limit("long identifier", move || expect_codes(&text, &["E0002"]));
    assert!(err.contains("unknown name"), "{}", clip_text(&err, 500));
    assert!(!err.contains("did you mean"), "{}", clip_text(&err, 500));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    // Spelt right, it works.
    let name = "b".repeat(100_000);
    let text = format!("{HEAD}let {name} = x + 1.0\nscore = {name}\n");
    let v = within_limit("long identifier, used", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{}", clip_text(&e, 500)));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 3.0);
}

#[test]
fn ten_thousand_nested_list_types() {
    let text = format!(
        "input {{ c: {}int{} }}\nscore = 1.0\n",
        "list[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = within_limit("list[list[…]]", move || expect_codes(&text, &["E0023"]));
    assert!(err.contains("nested more than 64 levels"), "{err}");
}

#[test]
fn byte_order_mark_at_file_start_is_skipped() {
    let text = format!("\u{feff}{HEAD}score = x * 2.0\n");
    let v = within_limit("BOM", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 4.0);
}

#[test]
fn thousands_of_errors_are_reported_in_time() {
    let mut text = String::from(HEAD);
    for i in 0..2000 {
        text += &format!("let a{i} = nope{i} + 1\n");
    }
    text += "score = x\n";
    let err = within_limit("2000 unknown names", move || {
        let err = failure(compile(&text), "2000 errors");
        assert_eq!(problems(&text, &err), 2000, "{}", clip_text(&err, 3000));
        err
    });
    // The first 200 are shown, in source order, then a count of the rest.
    let shown = codes(&err);
    assert_eq!(shown.len(), 200);
    assert!(shown.iter().all(|c| *c == "E0002"));
    assert!(err.contains("unknown name `nope0`"));
    assert!(err.contains("unknown name `nope199`"));
    assert!(!err.contains("unknown name `nope200`"));
    assert!(
        err.contains("… and 1800 more problems not shown\n"),
        "{}",
        clip_text(&err, 1000)
    );
}

#[test]
fn syntax_errors_everywhere_are_reported_in_time() {
    let mut text = String::from(HEAD);
    for i in 0..2000 {
        text += &format!("let a{i} = ) {i}\n");
    }
    text += "score = x\n";
    let err = within_limit("2000 syntax errors", move || {
        let err = failure(compile(&text), "2000 errors");
        // Recovery is per item: one error per broken line, no cascades.
        assert_eq!(problems(&text, &err), 2000, "{}", clip_text(&err, 3000));
        err
    });
    assert!(codes(&err).iter().all(|c| *c == "E0001"));
    assert!(err.contains("… and 1800 more problems not shown\n"));
}

#[test]
fn five_thousand_definitions_compile() {
    let mut text = String::from(HEAD);
    for i in 0..5000 {
        text += &format!("let a{i} = x + {i}.0\n");
    }
    // A long dependency chain through terms, too.
    text += "let c0 = a0\n";
    for i in 1..5000 {
        text += &format!("let c{i} = c{} + 1.0\n", i - 1);
    }
    text += "score = a4999 + c4999\n";
    let v = within_limit("5000 definitions", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{}", clip_text(&e, 3000)));
        score(&spec, ROW)
    });
    assert_eq!(v["score"], (2.0 + 4999.0) + (2.0 + 4999.0));
    assert_eq!(v["terms"].as_object().unwrap().len(), 10_000);
}

#[test]
fn long_function_call_chains_are_rejected() {
    let mut text = format!("{HEAD}fn f0(a: float) -> float = a\n");
    for i in 1..2000 {
        text += &format!("fn f{i}(a: float) -> float = f{}(a) + 1.0\n", i - 1);
    }
    text += "score = f1999(x)\n";
    let err = within_limit("2000-deep call chain", move || {
        expect_codes(&text, &["E0023"])
    });
    assert!(
        err.contains("nested function calls (the limit is 64)"),
        "{err}"
    );
    // 64 levels are fine.
    let mut text = format!("{HEAD}fn f0(a: float) -> float = a\n");
    for i in 1..64 {
        text += &format!("fn f{i}(a: float) -> float = f{}(a) + 1.0\n", i - 1);
    }
    text += "score = f63(x)\n";
    let v = within_limit("64-deep call chain", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        score_both(&spec, ROW)
    });
    assert_eq!(v["score"], 65.0);
}

#[test]
fn doubling_function_chain_is_rejected() {
    let mut text = format!("{HEAD}fn f0(a: float) -> float = a\n");
    for i in 1..64 {
        text += &format!(
            "fn f{i}(a: float) -> float = f{j}(a) + f{j}(a)\n",
            j = i - 1
        );
    }
    text += "score = f63(x)\n";
    let err = within_limit("doubling chain", move || expect_codes(&text, &["E0023"]));
    assert!(err.contains("expands to more than"), "{err}");
}

#[test]
fn nested_comprehension_runs_out_of_budget() {
    let text = format!(
        "{HEAD}score = float(sum(for i in range(100000): sum(for j in range(100000): 1)))\n"
    );
    // Each engine under its own watchdog: both must stop at the per-row operation budget.
    let spec_text = text.clone();
    let interp = within(
        BUDGET_WATCHDOG,
        "nested comprehension, interpreter",
        move || {
            let spec = compile(&spec_text).unwrap_or_else(|e| panic!("{e}"));
            spec.score_line(1, ROW, false).json
        },
    );
    let native = within(BUDGET_WATCHDOG, "nested comprehension, JIT", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        let jit = spec
            .with_engine(Engine::Jit)
            .unwrap_or_else(|e| panic!("{e}"));
        jit.score_line(1, ROW, false).json
    });
    assert_eq!(native, interp, "the JIT disagrees with the interpreter");
    let v: serde_json::Value = serde_json::from_str(&interp).expect("JSON");
    let message = v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    assert!(message.contains("budget"), "{v}");
    assert_eq!(v["error"]["term"], "score", "{v}");
}

#[test]
fn brackets_in_regexes_and_comments_do_not_count_as_nesting() {
    let text = format!(
        "{HEAD}rule parens = completion ~ /{}/\n// {}\nscore = if parens then 1.0 else 0.0 // {}\n",
        "\\(".repeat(70),
        "(".repeat(70),
        "[{".repeat(70)
    );
    let v = within_limit("regex and comment brackets", move || {
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        let row = format!(r#"{{"completion": "{}", "x": 0.0}}"#, "(".repeat(70));
        score_both(&spec, &row)
    });
    assert_eq!(v["score"], 1.0);
}

#[test]
fn unterminated_strings_and_comments() {
    // Each is one syntax error, without cascades.
    let cases = [
        // (text, a phrase the report must contain)
        (
            format!("{HEAD}score = float(len(\"abc))\n"),
            "unterminated string",
        ),
        (
            format!("{HEAD}score = float(len(\"abc"),
            "unterminated string",
        ),
        (format!("{HEAD}let s = \"\"\"abc\nscore = x\n"), "[E0001]"),
        (
            format!("{HEAD}score = x /* never closed\nlet y = 1\n"),
            "[E0001]",
        ),
        (format!("{HEAD}score = x\n/*"), "[E0001]"),
        (
            format!("{HEAD}rule r = completion ~ /abc\nscore = x\n"),
            "[E0001]",
        ),
    ];
    for (text, phrase) in cases {
        let err = within_limit("unterminated", move || {
            let err = failure(compile(&text), "an unterminated token");
            assert_eq!(problems(&text, &err), 1, "{text}\n{err}");
            assert_eq!(codes(&err), ["E0001"], "{text}\n{err}");
            err
        });
        assert!(err.contains(phrase), "{err}");
    }
}

#[test]
fn import_cycles_are_reported() {
    let dir = TempDir::new("cycle");
    dir.write(
        "a.reward",
        "use \"./b.reward\"\nfn fa(v: float) -> float = fb(v)\n",
    );
    dir.write(
        "b.reward",
        "use \"./a.reward\"\nfn fb(v: float) -> float = v\n",
    );
    let path = dir.write(
        "self.reward",
        "use \"./self.reward\"\ninput { x: float }\nscore = x\n",
    );
    let root = dir.path().to_path_buf();
    let err = within_limit("import cycle", move || {
        let text = format!("use \"./a.reward\"\n{HEAD}score = fa(x)\n");
        let err = failure(compile_in(&text, &root), "a cycle");
        assert_eq!(problems(&text, &err), 1, "{err}");
        err
    });
    assert_eq!(codes(&err), ["E0020"], "{err}");
    assert!(err.contains("import cycle"), "{err}");
    let err = within_limit("self import", move || {
        let err = failure(
            reward::compile(
                Source::file(path),
                &Options::default().engine(Engine::Interpreter),
            )
            .map_err(|d| d.to_string()),
            "a cycle",
        );
        assert_eq!(problems("self.reward", &err), 1, "{err}");
        err
    });
    assert_eq!(codes(&err), ["E0020"], "{err}");
    assert!(err.contains("import cycle"), "{err}");
}

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` under the watchdog; a run past it is killed and fails the test.
fn run_cli(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reward");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`reward {}` ran longer than {WATCHDOG:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn assert_clean_exit_1(run: &Run, args: &str, needle: &str) {
    assert_eq!(
        run.code,
        Some(1),
        "reward {args}: {}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "reward {args}: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("internal compiler error"),
        "reward {args}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "reward {args}: expected `{needle}` in:\n{}",
        run.stderr
    );
}

#[test]
fn a_directory_or_a_binary_file_as_the_spec() {
    let dir = TempDir::new("cli-odd-files");
    fs::create_dir(dir.path().join("folder.reward")).unwrap();
    let run = run_cli(dir.path(), &["check", "folder.reward"]);
    assert_clean_exit_1(&run, "check folder.reward", "cannot read `folder.reward`");
    let run = run_cli(dir.path(), &["check", "."]);
    assert_clean_exit_1(&run, "check .", "cannot read `.`");

    // Every byte value: not UTF-8.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    dir.write("binary.reward", &bytes);
    let run = run_cli(dir.path(), &["check", "binary.reward"]);
    assert_clean_exit_1(
        &run,
        "check binary.reward",
        "`binary.reward` is not valid UTF-8",
    );

    // Control characters that happen to be valid UTF-8 reach the parser.
    let bytes: Vec<u8> = (0..128u8).cycle().take(4096).collect();
    dir.write("ascii.reward", &bytes);
    let run = run_cli(dir.path(), &["check", "ascii.reward"]);
    assert_clean_exit_1(&run, "check ascii.reward", "[E0001]");
    assert!(
        run.stderr.contains("found in ascii.reward"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_utf8_spec_through_every_command() {
    let dir = TempDir::new("cli-utf8");
    dir.write("bad.reward", b"input { x: float }\nscore = x \xff\xfe\n");
    dir.write("rows.jsonl", "{\"x\": 1.0}\n");
    let commands: &[&[&str]] = &[
        &["check", "bad.reward"],
        &["test", "bad.reward"],
        &["ir", "bad.reward"],
        &["score", "bad.reward", "rows.jsonl"],
        &["explain", "bad.reward", "rows.jsonl", "--row", "1"],
    ];
    for args in commands {
        let run = run_cli(dir.path(), args);
        assert_clean_exit_1(
            &run,
            &args.join(" "),
            "`bad.reward` is not valid UTF-8 (invalid byte at offset 29)",
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

// ---------------------------------------------------------------------------------- 5. decoding

fn field(name: &str, ty: Ty) -> Field {
    Field {
        name: name.into(),
        ty,
    }
}

fn record(fields: Vec<(&str, Ty)>) -> Ty {
    Ty::record(fields.into_iter().map(|(n, t)| field(n, t)).collect())
}

/// Field names, including ones that look like paths or are empty.
const NAMES: &[&str] = &["a", "b", "answer", "n", "é", "", "a.b", "[0]", "x y"];

/// A record whose names come from `names` (duplicates dropped: the checker never builds those).
fn record_of(fields: Vec<(&'static str, Ty)>) -> Ty {
    let mut seen = Vec::new();
    let fields = fields
        .into_iter()
        .filter(|(n, _)| {
            let fresh = !seen.contains(n);
            seen.push(*n);
            fresh
        })
        .collect();
    record(fields)
}

fn ty_strategy() -> impl Strategy<Value = Ty> {
    let leaf = prop_oneof![
        Just(Ty::Bool),
        Just(Ty::Int),
        Just(Ty::Float),
        Just(Ty::Text)
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Ty::list),
            inner.clone().prop_map(Ty::optional),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..4).prop_map(record_of),
        ]
    })
}

/// Input schemas are records.
fn schema_strategy() -> impl Strategy<Value = Ty> {
    prop::collection::vec((prop::sample::select(NAMES), ty_strategy()), 0..5).prop_map(record_of)
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        prop::sample::select(
            &[
                0.0,
                -0.0,
                1.0,
                3.0,
                -2.5,
                1e308,
                -1e308,
                5e-324,
                9.223372036854776e18
            ][..]
        ),
    ]
}

fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        (-3i64..4).prop_map(J::from),
        finite_f64().prop_map(J::from),
        ".{0,8}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..5).prop_map(|kv| {
                J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// Mostly objects (rows), sometimes any JSON value.
fn row_json_strategy() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        4 => prop::collection::vec((prop::sample::select(NAMES), json_strategy()), 0..6)
            .prop_map(|kv| serde_json::Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        1 => json_strategy(),
    ]
}

/// A JSON value of type `ty` together with the value it must decode to. `None` as JSON means
/// "leave the field out" (only produced for optional fields).
fn conforming(ty: &Ty) -> BoxedStrategy<(Option<serde_json::Value>, Value)> {
    use serde_json::Value as J;
    match ty {
        Ty::Bool => any::<bool>()
            .prop_map(|b| (Some(J::Bool(b)), Value::Bool(b)))
            .boxed(),
        Ty::Int => prop_oneof![
            any::<i64>().prop_map(|i| (Some(J::from(i)), Value::Int(i))),
            // pandas writes integer columns with missing values as floats: `3.0`.
            (-(1i64 << 53)..(1i64 << 53)).prop_map(|i| (Some(J::from(i as f64)), Value::Int(i))),
        ]
        .boxed(),
        Ty::Float => prop_oneof![
            finite_f64().prop_map(|x| (Some(J::from(x)), Value::Float(x))),
            any::<i64>().prop_map(|i| (Some(J::from(i)), Value::Float(i as f64))),
            any::<u64>().prop_map(|u| (Some(J::from(u)), Value::Float(u as f64))),
        ]
        .boxed(),
        Ty::Text => any::<String>()
            .prop_map(|s| (Some(J::String(s.clone())), Value::text(&s)))
            .boxed(),
        Ty::List(elem) => prop::collection::vec(conforming(elem), 0..4)
            .prop_map(|items| {
                let (json, values): (Vec<_>, Vec<_>) = items
                    .into_iter()
                    .map(|(j, v)| (j.unwrap_or(J::Null), v))
                    .unzip();
                (Some(J::Array(json)), Value::List(values.into()))
            })
            .boxed(),
        Ty::Optional(inner) => prop_oneof![
            Just((Some(J::Null), Value::None)),
            Just((None, Value::None)),
            conforming(inner),
        ]
        .boxed(),
        Ty::Record(fields) => {
            let names: Vec<String> = fields.iter().map(|f| f.name.to_string()).collect();
            let parts: Vec<_> = fields.iter().map(|f| conforming(&f.ty)).collect();
            // Columns the schema does not mention, with any JSON in them.
            let extras = prop::collection::vec(json_strategy(), 0..3);
            (parts, extras)
                .prop_flat_map(move |(parts, extras)| {
                    let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
                    let mut values = Vec::new();
                    for (name, (json, value)) in names.iter().zip(parts) {
                        if let Some(json) = json {
                            entries.push((name.clone(), json));
                        }
                        values.push(value);
                    }
                    for (i, extra) in extras.into_iter().enumerate() {
                        entries.push((format!("zz_extra_{i}"), extra));
                    }
                    (
                        Just(entries).prop_shuffle(),
                        Just(Value::Record(values.into())),
                    )
                })
                .prop_map(|(entries, value)| {
                    (Some(J::Object(entries.into_iter().collect())), value)
                })
                .boxed()
        }
        other => panic!("no values of type {other}"),
    }
}

fn conforming_row() -> impl Strategy<Value = (Ty, serde_json::Value, Value)> {
    schema_strategy().prop_flat_map(|ty| {
        let values = conforming(&ty);
        (Just(ty), values).prop_map(|(ty, (json, value))| (ty, json.expect("a row"), value))
    })
}

/// Two outcomes agree: the same value, or the same error.
fn agree(a: &Result<Value, DecodeError>, b: &Result<Value, DecodeError>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x.same(y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

/// Mangles a line: deletes, duplicates or replaces a char-aligned range.
fn mangle(line: &str, kind: u8, a: &Index, b: &Index, junk: &str) -> String {
    let (s, e) = range_of(line, a, b);
    match kind % 3 {
        0 => format!("{}{}", &line[..s], &line[e..]),
        1 => format!("{}{}", &line[..e], &line[s..]),
        _ => format!("{}{junk}{}", &line[..s], &line[e..]),
    }
}

const JUNK: &[&str] = &[
    "", "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "1e999", "-", "0.",
    "\0", "\n", "é",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_json_against_random_schemas(schema in schema_strategy(), json in row_json_strategy()) {
        let tree = decode_json(&json, &schema);
        let text = decode_row(&json.to_string(), &schema);
        prop_assert!(agree(&tree, &text), "{json}\nagainst {schema}\ntree: {tree:?}\ntext: {text:?}");
        let pretty = decode_row(&serde_json::to_string_pretty(&json).unwrap(), &schema);
        prop_assert!(agree(&tree, &pretty), "{json}\nagainst {schema}\ntree: {tree:?}\npretty: {pretty:?}");
    }

    #[test]
    fn conforming_rows_decode_to_their_values((schema, json, expected) in conforming_row()) {
        for line in [json.to_string(), serde_json::to_string_pretty(&json).unwrap()] {
            match decode_row(&line, &schema) {
                Ok(v) => prop_assert!(v.same(&expected), "{line}\nagainst {schema}\n{v:?}\n!= {expected:?}"),
                Err(e) => prop_assert!(false, "{line}\nagainst {schema}\nfailed: {e}"),
            }
        }
        let v = decode_json(&json, &schema);
        prop_assert!(matches!(&v, Ok(v) if v.same(&expected)), "{json}\nagainst {schema}\n{v:?}");
    }

    #[test]
    fn mangled_rows_never_panic_and_agree_with_the_tree(
        (schema, json, _) in conforming_row(),
        edits in prop::collection::vec(
            (any::<u8>(), any::<Index>(), any::<Index>(), prop::sample::select(JUNK)), 1..4),
    ) {
        let line = edits.iter().fold(json.to_string(), |l, (k, a, b, junk)| mangle(&l, *k, a, b, junk));
        let text = decode_row(&line, &schema);
        if let Ok(tree) = serde_json::from_str::<serde_json::Value>(&line) {
            let tree = decode_json(&tree, &schema);
            prop_assert!(agree(&tree, &text), "{line}\nagainst {schema}\ntree: {tree:?}\ntext: {text:?}");
        }
    }

    #[test]
    fn arbitrary_lines_never_panic(schema in schema_strategy(), line in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_row(&line, &schema);
        let _ = decode_row(&String::from_utf8_lossy(&bytes), &schema);
    }
}

/// The schema of the hostile-row tests.
fn hostile_schema() -> Ty {
    record(vec![
        ("n", Ty::Int),
        ("s", Ty::optional(Ty::Text)),
        ("l", Ty::optional(Ty::list(Ty::Int))),
    ])
}

fn decode_watched(what: &str, line: String) -> Result<Value, DecodeError> {
    within_limit(what, move || decode_row(&line, &hostile_schema()))
}

fn decoded_fields(r: &Result<Value, DecodeError>) -> Vec<Value> {
    match r {
        Ok(Value::Record(fields)) => fields.to_vec(),
        other => panic!("expected a record, got {other:?}"),
    }
}

fn decode_error(r: Result<Value, DecodeError>) -> DecodeError {
    r.expect_err("expected a decode error")
}

#[test]
fn deep_nesting_in_an_ignored_column_is_skipped() {
    for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
        let line = format!(
            "{{\"n\": 1, \"deep\": {}0{}, \"s\": \"after\"}}",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let r = decode_watched("deep ignored column", line);
        let f = decoded_fields(&r);
        assert!(f[0].same(&Value::Int(1)));
        assert!(f[1].same(&Value::text("after")));
        assert!(f[2].is_none());
    }
}

#[test]
fn fifty_thousand_unclosed_objects() {
    let line = format!("{{\"n\": 1, \"deep\": {}", "{\"k\": ".repeat(50_000));
    let e = decode_error(decode_watched("unclosed objects", line));
    assert_eq!(e.path, "");
    assert!(e.message.starts_with("invalid JSON"), "{e}");
}

#[test]
fn deep_nesting_where_the_schema_has_a_list() {
    let line = format!(
        "{{\"n\": 1, \"l\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = decode_error(decode_watched("deep list", line));
    assert_eq!(e.path, "l[0]");
    assert_eq!(e.message, "expected int, found an array");
}

#[test]
fn out_of_range_numbers() {
    let n = |v: &str| decode_row(&format!("{{\"n\": {v}}}"), &hostile_schema());
    for v in [
        &"9".repeat(100)[..],
        "1e999",
        "9223372036854775808",
        "1.5",
        "1e-5",
        "1e19",
        "-1e19",
    ] {
        let e = n(v).expect_err(v);
        assert!(e.path.is_empty() || e.path == "n", "{v}: {e}");
        assert!(!e.message.is_empty());
    }
    assert_eq!(
        n("9223372036854775808").unwrap_err().message,
        "integer 9223372036854775808 does not fit in 64 bits"
    );
    assert_eq!(n("1.5").unwrap_err().message, "expected int, found 1.5");
    assert!(n("1e999")
        .unwrap_err()
        .message
        .contains("number out of range"));
    assert!(decoded_fields(&n("-9223372036854775808"))[0].same(&Value::Int(i64::MIN)));
    assert!(decoded_fields(&n("9223372036854775807"))[0].same(&Value::Int(i64::MAX)));
    assert!(decoded_fields(&n("1e2"))[0].same(&Value::Int(100)));
    assert!(decoded_fields(&n("-0"))[0].same(&Value::Int(0)));
}

#[test]
fn integer_below_i64_min_is_rejected() {
    // serde_json reads integers below i64::MIN as floats; -9223372036854775809 rounds to exactly
    // -2^63, which then passes as an integral float in range, so the row silently gets i64::MIN
    // (as does every integer down to -9223372036854776832, exclusive).
    let schema = hostile_schema();
    for v in ["-9223372036854775809", "-9223372036854776000"] {
        let e = decode_row(&format!("{{\"n\": {v}}}"), &schema).expect_err(v);
        assert_eq!(e.path, "n");
        // serde_json has already rounded the literal to a float: the message can only show that.
        assert!(
            e.message.contains("does not fit in 64 bits") || e.message.contains("2^53"),
            "{v}: {}",
            e.message
        );
    }
}

#[test]
fn string_escapes() {
    let s = |v: &str| decode_row(&format!("{{\"n\": 0, \"s\": \"{v}\"}}"), &hostile_schema());
    let e = s("\\ud800").expect_err("a lone surrogate");
    assert!(e.message.starts_with("invalid JSON"), "{e}");
    let e = s("\\udc00x").expect_err("a lone trailing surrogate");
    assert!(e.message.starts_with("invalid JSON"), "{e}");
    assert!(decoded_fields(&s("a\\u0000b"))[1].same(&Value::text("a\0b")));
    assert!(decoded_fields(&s("\\ud83d\\ude00"))[1].same(&Value::text("😀")));
    assert!(decoded_fields(&s("😀\\n\\t\\\"\\\\\\/"))[1].same(&Value::text("😀\n\t\"\\/")));
    // A raw control character inside a string is not JSON.
    assert!(s("a\u{1}b").is_err());
}

#[test]
fn megabyte_string_cell() {
    let big = "x✓".repeat(250_000);
    let r = decode_watched("1 MB string", format!("{{\"n\": 0, \"s\": \"{big}\"}}"));
    assert!(decoded_fields(&r)[1].same(&Value::text(&big)));
}

#[test]
fn duplicate_keys_last_wins() {
    let schema = hostile_schema();
    let r = decode_row(
        r#"{"n": "bad", "n": 1, "n": 2, "s": "a", "s": null}"#,
        &schema,
    );
    let f = decoded_fields(&r);
    assert!(f[0].same(&Value::Int(2)));
    assert!(f[1].is_none());
    let e = decode_row(r#"{"n": 1, "n": "bad"}"#, &schema).expect_err("last wins");
    assert_eq!(e.path, "n");
}

#[test]
fn hundred_thousand_keys() {
    let mut line = String::from("{");
    for i in 0..100_000 {
        line += &format!("\"k{i}\": [{i}], ");
    }
    line += "\"n\": 5}";
    let r = decode_watched("100k keys", line);
    assert!(decoded_fields(&r)[0].same(&Value::Int(5)));
}

#[test]
fn trailing_garbage_empty_lines_and_null() {
    let schema = hostile_schema();
    for line in [
        "{\"n\": 1}\0",
        "{\"n\": 1} x",
        "{\"n\": 1}{}",
        "",
        "   \t",
        "null",
        "[]",
        "1",
        "\"n\"",
    ] {
        let e = decode_row(line, &schema).expect_err(line);
        assert_eq!(e.path, "", "{line:?}: {e}");
    }
    assert_eq!(
        decode_row("", &schema).unwrap_err().message,
        "empty line: expected a JSON object"
    );
    assert_eq!(
        decode_row("null", &schema).unwrap_err().message,
        "expected a JSON object, found null"
    );
    // Surrounding whitespace (including the \r of CRLF files) is fine.
    assert!(decode_row(" {\"n\": 1}\r\n", &schema).is_ok());
}

// --------------------------------------------------------------- bytes a rollout may build

/// A spec that doubles a text forty times would need 2^40 bytes: each engine fails the row
/// before the allocation, naming the term, instead of aborting the process.
#[test]
fn doubling_a_text_is_a_row_error_not_an_abort() {
    let nested = |call: &str| {
        let mut e = "completion".to_string();
        for _ in 0..40 {
            e = format!("{call}({e})");
        }
        e
    };
    // (`replace(s, "x", "xx")` is bounded the same way; its scan is too slow in a debug build
    // to run here.)
    for (fun, body) in [("d", "join([s, s], \"\")"), ("d", "s + s")] {
        let text = format!(
            "input {{ completion: text }}\nfn {fun}(s: text) -> text = {body}\nlet x = {}\nscore = len(x)\n",
            nested(fun)
        );
        let spec = compile(&text).unwrap_or_else(|e| panic!("{e}"));
        let record = within_limit("a doubling spec", move || {
            score_both(&spec, r#"{"completion": "x"}"#)
        });
        let message = record["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("MiB a rollout may build"),
            "{body}: {record}"
        );
        assert_eq!(record["error"]["term"], "x", "{body}");
    }
}

/// A comprehension nested over `range` holds 81 million values (about 2 GB) although every text
/// in it is small: the per-rollout memory budget stops it as a row error naming the term, on
/// both engines, and the next rollout starts from zero. A smaller budget set through the API
/// stops a smaller spec; the same rows fit a larger one.
#[test]
fn a_rollout_over_its_memory_budget_is_a_row_error() {
    let text = "input { completion: text, n: int }\n\
                let ws = [for i in range(n): completion]\n\
                let big = [for a in ws: [for b in ws: a]]\n\
                score = len(big)\n";
    let lines = [
        r#"{"completion": "x", "n": 9000}"#,
        r#"{"completion": "x", "n": 30}"#,
    ];
    for engine in [reward::Engine::Interpreter, reward::Engine::Jit] {
        let compile = |options: reward::Options| {
            reward::compile(reward::Source::text(text), &options.engine(engine))
                .unwrap_or_else(|d| panic!("{d}"))
        };
        let spec = compile(reward::Options::default());
        let rows: Vec<_> = lines
            .iter()
            .map(|l| spec.row_from_json(l).expect("row"))
            .collect();
        let first = within_limit("a rollout over its memory budget", {
            let (spec, row) = (spec.clone(), rows[0].clone());
            move || spec.score(&row)
        })
        .expect_err("81 million values are over 512 MiB");
        assert!(
            first.message.contains("more than 512 MiB of values"),
            "{engine:?}: {}",
            first.message
        );
        assert_eq!(first.term.as_deref(), Some("big"), "{engine:?}");
        assert_eq!(spec.score(&rows[1]).expect("a small rollout").score(), 30.0);
        // 900 values of a one-byte text fit 1 MiB; 90,000 do not.
        let small = compile(reward::Options::default().max_row_bytes(1 << 20));
        let row = |n: u64| {
            small
                .row_from_json(&format!(r#"{{"completion": "x", "n": {n}}}"#))
                .expect("row")
        };
        assert_eq!(small.score(&row(30)).expect("fits").score(), 30.0);
        let err = small.score(&row(300)).expect_err("over 1 MiB");
        assert!(err.message.contains("more than 1 MiB"), "{}", err.message);
    }
}
