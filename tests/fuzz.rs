//! Fuzzing, run as a test for a bounded time per target (`REWARD_FUZZ_SECONDS`, default 3):
//! `cargo test -p reward-compiler --test fuzz -- --ignored` (CI runs it for 30 s per target). Each target mutates real inputs — the examples, the standard library, the
//! diagnostics corpus, the sample rollouts — and requires the engine to answer each one in
//! bounded time without panicking:
//!
//! - `specs`: mutated spec texts through the public `reward::compile` (parse, check, lower,
//!   JIT); an "internal compiler error" (a caught panic) is a failure;
//! - `rows`: mutated JSON lines through `Spec::row_from_json` and scoring on both engines,
//!   which must agree on every row;
//! - `answers`: mutated LaTeX answers through `final_answer` and `math_equal`.
//!
//! A failure prints the seed and the input; the seed replays it (`REWARD_FUZZ_SEED`). Every
//! input a fuzzer has found goes into `REGRESSIONS` below, run first on every run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reward::{compile, Engine, Options, Source};
use reward_runtime::native::{final_answer, math_equal};

#[path = "common/watchdog.rs"]
mod watchdog;
use watchdog::within;

#[path = "common/mutate.rs"]
mod mutate;
use mutate::{mutated, Rng};

/// Inputs the fuzzers found, kept as regression cases: (target, input).
const REGRESSIONS: &[(&str, &str)] = &[];

/// Longest one input may take (debug build, shared machine).
const PER_INPUT: Duration = Duration::from_secs(20);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn budget() -> Duration {
    let secs = std::env::var("REWARD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(3);
    Duration::from_secs(secs)
}

fn files(dir: &str, ext: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join(dir)).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            let text = std::fs::read_to_string(&path).expect("read file");
            out.push((path, text));
        }
    }
    out.sort();
    out
}

/// Runs `one` on generated inputs until the time budget is spent; returns how many ran.
fn fuzz(target: &str, mut next: impl FnMut(&mut Rng) -> String, one: fn(String)) -> usize {
    for (t, input) in REGRESSIONS {
        if *t == target {
            let input = input.to_string();
            within(PER_INPUT, target, move || one(input));
        }
    }
    let mut rng = Rng::seeded(target);
    let deadline = Instant::now() + budget();
    let mut runs = 0;
    while Instant::now() < deadline {
        let input = next(&mut rng);
        let shown = input.clone();
        let outcome = std::panic::catch_unwind(|| within(PER_INPUT, target, move || one(input)));
        if let Err(e) = outcome {
            eprintln!("fuzz {target}: failing input after {runs} runs:\n{shown:?}");
            std::panic::resume_unwind(e);
        }
        runs += 1;
    }
    eprintln!("fuzz {target}: {runs} inputs in {:?}", budget());
    runs
}

fn compile_spec(text: String) {
    let options = Options::default().engine(Engine::Interpreter);
    let compiled = compile(Source::text(text.clone()), &options);
    if let Err(d) = &compiled {
        assert!(
            !d.rendered().contains("internal compiler error")
                && !d.rendered().contains("internal error"),
            "{d}"
        );
    }
    // Whatever parses formats, formats to a fixed point, and means what it meant.
    if let Ok(formatted) = reward::format("spec", &text) {
        let again = reward::format("spec", &formatted).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(again, formatted, "formatting twice changes the text");
        if let Ok(spec) = &compiled {
            let after =
                compile(Source::text(formatted), &options).unwrap_or_else(|d| panic!("{d}"));
            assert_eq!(after.ir_text(), spec.ir_text(), "formatting changed the IR");
        }
    }
    if let Ok(spec) = compiled {
        compile(Source::text(text), &Options::default())
            .map(|_| ())
            .unwrap_or_else(|d| {
                panic!(
                    "compiles for the interpreter but not the JIT: {d}\n{}",
                    spec.ir_text()
                )
            });
    }
}

#[test]
#[ignore = "fuzzing: CI runs it with --ignored for REWARD_FUZZ_SECONDS"]
fn specs() {
    let mut seeds = files("examples", "reward");
    seeds.extend(files("stdlib", "reward"));
    seeds.extend(files("tests/ui", "reward"));
    let texts: Vec<String> = seeds.into_iter().map(|(_, t)| t).collect();
    let runs = fuzz(
        "specs",
        |rng| {
            let seed = rng.pick(&texts).clone();
            mutated(rng, &seed)
        },
        compile_spec,
    );
    assert!(runs > 0);
}

/// A spec compiled for both engines, once per path.
fn engines(path: &str) -> (reward::Spec, reward::Spec) {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, (reward::Spec, reward::Spec)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(pair) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return pair.clone();
    }
    let source = Source::file(path);
    let interp = compile(
        source.clone(),
        &Options::default().engine(Engine::Interpreter),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let jit = compile(source, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let pair = (interp, jit);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_string(), pair.clone());
    pair
}

/// Bit-for-bit equality of decoded values (`Value::same` equates 0.0 and -0.0).
fn identical(a: &reward::Value, b: &reward::Value) -> bool {
    use reward::Value;
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Record(x), Value::Record(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| identical(p, q))
        }
        // A list held as arrays (the scanner's) against one held as values (serde's).
        (Value::List(_) | Value::Columns(_), Value::List(_) | Value::Columns(_)) => {
            let (x, y) = (a.as_list(), b.as_list());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| identical(p, q))
        }
        _ => a.same(b),
    }
}

/// A spec and its sample rows, both engines.
fn score_row(input: String) {
    let (path, line) = input.split_once('\u{1}').expect("spec path and row");
    let (interp, jit) = engines(path);
    let (a, b) = (interp.row_from_json(line), jit.row_from_json(line));
    assert_eq!(a.is_ok(), b.is_ok());
    // The row scanner (the fast path) and the serde decoder agree, value and error alike.
    let schema = jit.input_schema();
    let (fast, reference) = (
        reward_runtime::decode::decode_row(line, schema),
        reward_runtime::decode::decode_row_reference(line, schema),
    );
    match (&fast, &reference) {
        (Ok(x), Ok(y)) => assert!(identical(x, y), "the decoders disagree on {line}"),
        _ => assert_eq!(
            fast.err(),
            reference.err(),
            "the decoders disagree on {line}"
        ),
    }
    if let (Ok(a), Ok(b)) = (a, b) {
        let (x, y) = (interp.score(&a), jit.score(&b));
        let show = |r: &Result<reward::Scored, reward::RowError>| match r {
            Ok(s) => s.to_json(),
            Err(e) => e.to_json(1),
        };
        assert_eq!(show(&x), show(&y), "the engines disagree on {line}");
    }
}

#[test]
#[ignore = "fuzzing: CI runs it with --ignored for REWARD_FUZZ_SECONDS"]
fn rows() {
    let mut seeds = Vec::new();
    for (path, _) in files("examples", "reward") {
        let rows = path.with_extension("jsonl");
        if let Ok(text) = std::fs::read_to_string(&rows) {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                seeds.push((path.display().to_string(), line.to_string()));
            }
        }
    }
    let runs = fuzz(
        "rows",
        |rng| {
            let (path, line) = rng.pick(&seeds).clone();
            format!("{path}\u{1}{}", mutated(rng, &line))
        },
        score_row,
    );
    assert!(runs > 0);
}

fn check_answer(input: String) {
    let (pred, gold) = input.split_once('\u{1}').unwrap_or((&input, "1"));
    let extracted = final_answer(pred);
    let _ = math_equal(&extracted, gold);
    let _ = math_equal(pred, gold);
    // (Not reflexive by design: an answer that normalises to nothing, such as ".", equals
    // nothing, itself included.)
}

#[test]
#[ignore = "fuzzing: CI runs it with --ignored for REWARD_FUZZ_SECONDS"]
fn answers() {
    let seeds = [
        "\\frac{1}{2}",
        "0.5",
        "\\sqrt{2}/2",
        "x^2+2x+1",
        "(x+1)^2",
        "\\{1,2\\}",
        "[1, 3)",
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        "x \\geq 5",
        "2x+4y-3=0",
        "1,000.99",
        "The answer is $\\boxed{42}$.",
        "<think>\\boxed{1}</think><answer>2</answer>",
        "10\\%",
        "3\\text{ cm}",
        "\\pi r^2",
        "e^{i\\pi}",
        "\\log_2 8",
        "1e-5",
        "-\\infty",
    ];
    let runs = fuzz(
        "answers",
        |rng| {
            let (pred, gold) = (*rng.pick(&seeds), *rng.pick(&seeds));
            format!("{}\u{1}{gold}", mutated(rng, pred))
        },
        check_answer,
    );
    assert!(runs > 0);
}
