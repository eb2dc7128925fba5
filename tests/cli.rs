//! The command-line contract of `reward`, exercised on the real binary.
//!
//! Every spec and input is written inline and materialised in a fresh temporary directory, so the
//! tests depend on nothing but the binary (the one exception runs `check` and `test` over whatever
//! `examples/*.reward` exist). Commands run with the temporary directory as working directory and
//! relative file names, so diagnostics show `spec.reward:3:9` exactly as a user would see them.
//! Every child process runs under a deadline: a hang fails the test instead of stalling the suite.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_reward");

/// Generous: debug builds on a shared 2-core machine.
const DEADLINE: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------------------------------ helpers

#[path = "common/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    fn lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }

    fn json_lines(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    #[track_caller]
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit status {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }
}

/// Runs `reward ARGS` in `dir`, feeding `stdin`, killing it after [`DEADLINE`].
fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_with_deadline(dir, args, stdin, DEADLINE)
}

fn run_with_deadline(dir: &Path, args: &[&str], stdin: Option<&[u8]>, deadline: Duration) -> Run {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the reward binary");
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            // The child may exit before reading everything (e.g. a spec error): ignore EPIPE.
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for reward") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`reward {}` did not finish within {deadline:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
        elapsed,
    }
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected to find {needle:?} in:\n{haystack}"
    );
}

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the spec"))
        + 1
}

// ------------------------------------------------------------------------------------------ specs

/// The spec most scoring tests use. Every term kind that can fail at run time is here.
const SPEC: &str = r#"// Scoring spec for the CLI tests.
input {
    completion: text,
    answer: text,
    n: int,
    xs: list[int],
    judge: {ok: bool},
    hint: float?,
}

param w: float = 0.5
param k: int = 2

let correct = trim(completion) == answer
let big = n * 1000000000000
rule has_xs = len(xs) > 0
let third = xs[2]
let m = n % k
let bonus = hint ?? 0.0
let _hidden = 41
let shout = upper(completion)

score = (if correct then 1.0 else 0.0) + w * float(third) + bonus

test "correct answer" {
    given { completion: " 4 ", answer: "4", n: 1, xs: [1, 2, 3], judge: {ok: true} }
    expect correct
    expect score == 2.5
}
"#;

fn row(completion: &str, answer: &str, n: i64, xs: &[i64], hint: Option<f64>) -> String {
    let mut v = json!({
        "completion": completion,
        "answer": answer,
        "n": n,
        "xs": xs,
        "judge": {"ok": true},
    });
    if let Some(h) = hint {
        v["hint"] = json!(h);
    }
    v.to_string()
}

/// The expected output line of a row of [`SPEC`] that scores (with the default params).
fn expected_line(completion: &str, answer: &str, n: i64, xs: &[i64], hint: Option<f64>) -> String {
    let correct = completion.trim() == answer;
    let bonus = hint.unwrap_or(0.0);
    let score = f64::from(u8::from(correct)) + 0.5 * xs[2] as f64 + bonus;
    let out = json!({
        "score": score,
        "terms": {
            "correct": correct,
            "big": n * 1_000_000_000_000,
            "has_xs": !xs.is_empty(),
            "third": xs[2],
            "m": n.rem_euclid(2),
            "bonus": bonus,
        }
    });
    out.to_string()
}

// ------------------------------------------------------------------------------------------ check

#[test]
fn check_clean_spec_exits_0_and_says_ok() {
    let dir = TempDir::new("check-clean");
    dir.write("spec.reward", SPEC);
    let run = run_in(dir.path(), &["check", "spec.reward"], None);
    run.expect_code(0);
    assert!(run.stdout.is_empty(), "check writes nothing on stdout");
    // 8 terms: correct big has_xs third m bonus _hidden shout, plus score.
    assert_contains(&run.stderr, "spec.reward: ok (");
    assert_contains(&run.stderr, "1 tests)");
    assert!(!run.stderr.contains("Error"), "{}", run.stderr);
}

#[test]
fn check_broken_spec_exits_1_with_code_location_and_help() {
    let dir = TempDir::new("check-broken");
    let spec = "input { completion: text }\n\nlet x = lenn(completion)\nscore = float(x)\n";
    dir.write("broken.reward", spec);
    let run = run_in(dir.path(), &["check", "broken.reward"], None);
    run.expect_code(1);
    assert!(run.stdout.is_empty());
    assert_contains(&run.stderr, "[E0002]");
    assert_contains(&run.stderr, "unknown function `lenn`");
    assert_contains(&run.stderr, "broken.reward:3:9");
    assert_contains(&run.stderr, "did you mean `len`?");
    assert_contains(&run.stderr, "error: 1 problem found in broken.reward");
}

#[test]
fn check_reports_every_problem_of_a_file_at_once() {
    let dir = TempDir::new("check-many");
    let spec = "input { completion: text }\n\
                let a = lenn(completion)\n\
                let b: int = \"x\"\n\
                let c = = 3\n\
                rule d = completion + 1\n\
                score = 1.0\n";
    dir.write("many.reward", spec);
    let run = run_in(dir.path(), &["check", "many.reward"], None);
    run.expect_code(1);
    // A syntax error in one item does not hide the errors in the items around it.
    for (code, at) in [
        ("[E0002]", "many.reward:2:9"),
        ("[E0003]", "many.reward:3:14"),
        ("[E0001]", "many.reward:4:9"),
        ("[E0003]", "many.reward:5:10"),
    ] {
        assert_contains(&run.stderr, code);
        assert_contains(&run.stderr, at);
    }
    assert_contains(&run.stderr, "error: 4 problems found in many.reward");
    // Diagnostics come in source order.
    let pos = |s: &str| run.stderr.find(s).unwrap();
    assert!(pos("many.reward:2:9") < pos("many.reward:3:14"));
    assert!(pos("many.reward:3:14") < pos("many.reward:4:9"));
    assert!(pos("many.reward:4:9") < pos("many.reward:5:10"));
}

#[test]
fn check_several_specs_checks_all_of_them() {
    let dir = TempDir::new("check-several");
    dir.write("clean.reward", SPEC);
    dir.write(
        "unknown.reward",
        "input { completion: text }\nscore = float(len(completon))\n",
    );
    dir.write(
        "types.reward",
        "input { completion: text }\nlet n: int = completion\nscore = 1.0\n",
    );
    dir.write("also_clean.reward", "input { a: int }\nscore = a > 0\n");

    let run = run_in(
        dir.path(),
        &[
            "check",
            "unknown.reward",
            "clean.reward",
            "types.reward",
            "also_clean.reward",
        ],
        None,
    );
    run.expect_code(1);
    assert_contains(&run.stderr, "clean.reward: ok (");
    assert_contains(&run.stderr, "also_clean.reward: ok (");
    assert_contains(&run.stderr, "[E0002]");
    assert_contains(&run.stderr, "unknown.reward:2:19");
    assert_contains(&run.stderr, "did you mean `completion`?");
    assert_contains(&run.stderr, "[E0003]");
    assert_contains(&run.stderr, "types.reward:2:14");
    assert_contains(&run.stderr, "error: 1 problem found in unknown.reward");
    assert_contains(&run.stderr, "error: 1 problem found in types.reward");

    // All clean → 0.
    let run = run_in(
        dir.path(),
        &["check", "clean.reward", "also_clean.reward"],
        None,
    );
    run.expect_code(0);
}

#[test]
fn check_missing_file_is_an_error() {
    let dir = TempDir::new("check-missing");
    let run = run_in(dir.path(), &["check", "nope.reward"], None);
    run.expect_code(1);
    assert_contains(&run.stderr, "cannot read `nope.reward`");
}

// ------------------------------------------------------------------------------------------ test

const TEST_SPEC: &str = r#"input { completion: text, answer: text, xs: list[int]? }
let correct = trim(completion) == answer
let length = len(completion)
let third = (xs ?? [0])[2]
score = if correct then 1.0 else 0.0

test "passes" {
    given { completion: " 4 ", answer: "4", xs: [1, 2, 3] }
    expect correct
    expect score == 1.0
}

test "fails" {
    given { completion: "5", answer: "4", xs: [1, 2, 3] }
    expect length == 1
    expect score == 1.0 and length > 0 and answer == completion
}

test "cannot be scored" {
    given { completion: "5", answer: "4" }
    expect score == 0.0
}
"#;

#[test]
fn test_passing_spec_exits_0() {
    let dir = TempDir::new("test-pass");
    dir.write("spec.reward", SPEC);
    dir.write(
        "lib.reward",
        "fn double(x: int) -> int = x * 2\ntest \"lib\" { expect double(21) == 42 }\n",
    );
    let run = run_in(dir.path(), &["test", "spec.reward", "lib.reward"], None);
    run.expect_code(0);
    let out = run.stdout();
    assert_contains(&out, "ok   \"correct answer\"");
    assert_contains(&out, "spec.reward: 1 passed, 0 failed");
    assert_contains(&out, "ok   \"lib\"");
    assert_contains(&out, "lib.reward: 1 passed, 0 failed");
}

#[test]
fn test_failure_shows_every_mentioned_term_and_field() {
    let dir = TempDir::new("test-fail");
    dir.write("spec.reward", TEST_SPEC);
    let run = run_in(dir.path(), &["test", "spec.reward"], None);
    run.expect_code(1);
    let out = run.stdout();
    assert_contains(&out, "ok   \"passes\"");
    assert_contains(&out, "FAIL \"fails\"");
    let expect_line = line_of(TEST_SPEC, "expect score == 1.0 and length");
    assert_contains(
        &out,
        &format!(
            "expected: score == 1.0 and length > 0 and answer == completion    (spec.reward:{expect_line}:12)"
        ),
    );
    // Every term and input field the failing expectation mentions, with its value.
    let block: String = out
        .split("FAIL \"fails\"")
        .nth(1)
        .unwrap()
        .lines()
        .take(6)
        .collect::<Vec<_>>()
        .join("\n");
    for shown in [
        "score = 0.0",
        "length = 1",
        "answer = \"4\"",
        "completion = \"5\"",
    ] {
        assert_contains(&block, shown);
    }
    // The expectation that held in the failing test is not reported.
    assert!(!out.contains("expected: length == 1"), "{out}");
    // A rollout that cannot be scored fails its test with the run-time error and its place.
    let third_line = line_of(TEST_SPEC, "let third");
    assert_contains(
        &out,
        &format!(
            "FAIL \"cannot be scored\": the rollout could not be scored while computing `third`: \
             index 2 is out of range for a list of 1 element (at spec.reward:{third_line}:13)"
        ),
    );
    assert_contains(&out, "spec.reward: 1 passed, 2 failed");
}

#[test]
fn test_several_specs_and_a_broken_one() {
    let dir = TempDir::new("test-several");
    dir.write("good.reward", SPEC);
    dir.write("bad.reward", TEST_SPEC);
    dir.write("broken.reward", "input { a: int }\nscore = b\n");
    let run = run_in(
        dir.path(),
        &["test", "good.reward", "broken.reward", "bad.reward"],
        None,
    );
    run.expect_code(1);
    let out = run.stdout();
    assert_contains(&out, "good.reward: 1 passed, 0 failed");
    assert_contains(&out, "bad.reward: 1 passed, 2 failed");
    assert_contains(&run.stderr, "[E0002]");
    assert_contains(&run.stderr, "broken.reward:2:9");
}

// ------------------------------------------------------------------------------------------ score

/// Input rows for [`SPEC`] with one of every kind of broken row, and what each must produce.
fn mixed_input(spec: &str) -> (Vec<u8>, Vec<Value>) {
    let third_line = line_of(spec, "let third");
    let big_line = line_of(spec, "let big");
    let mut input: Vec<u8> = Vec::new();
    let mut expected: Vec<Value> = Vec::new();
    let mut push = |bytes: &[u8], out: Value| {
        input.extend_from_slice(bytes);
        input.push(b'\n');
        expected.push(out);
    };
    let ok = |c: &str, a: &str, n: i64, xs: &[i64], h: Option<f64>| -> Value {
        serde_json::from_str(&expected_line(c, a, n, xs, h)).unwrap()
    };
    // 1: scores.
    push(
        row(" 4 ", "4", 1, &[1, 2, 3], None).as_bytes(),
        ok(" 4 ", "4", 1, &[1, 2, 3], None),
    );
    // 2: invalid JSON.
    push(
        br#"{"completion": "4", "answer": "#,
        json!({"error": {"line": 2, "message": "invalid JSON at column 30: EOF while parsing a value"}}),
    );
    // 3: wrong type, nested: the field path names it.
    push(
        br#"{"completion":"4","answer":"4","n":1,"xs":[1,2,3],"judge":{"ok":"yes"}}"#,
        json!({"error": {"line": 3, "message": "expected bool, found string \"yes\"", "field": "judge.ok"}}),
    );
    // 4: missing required field.
    push(
        br#"{"completion":"4","n":1,"xs":[1,2,3],"judge":{"ok":true}}"#,
        json!({"error": {"line": 4, "message": "missing required field (expected text)", "field": "answer"}}),
    );
    // 5: blank line.
    push(
        b"",
        json!({"error": {"line": 5, "message": "empty line: expected a JSON object"}}),
    );
    // 6: invalid UTF-8 bytes inside a string.
    push(
        b"{\"completion\":\"\xff\xfe\",\"answer\":\"4\",\"n\":1,\"xs\":[1,2,3],\"judge\":{\"ok\":true}}",
        json!({"error": {"line": 6, "message": "line is not valid UTF-8 (invalid byte at offset 15)"}}),
    );
    // 7: index out of range at run time.
    push(
        row("4", "4", 1, &[1, 2], None).as_bytes(),
        json!({"error": {
            "line": 7,
            "message": "index 2 is out of range for a list of 2 elements",
            "term": "third",
            "at": format!("spec.reward:{third_line}:13"),
        }}),
    );
    // 8: int overflow at run time.
    push(
        row("4", "4", 100_000_000_000, &[1, 2, 3], None).as_bytes(),
        json!({"error": {
            "line": 8,
            "message": "integer overflow: 100000000000 * 1000000000000",
            "term": "big",
            "at": format!("spec.reward:{big_line}:11"),
        }}),
    );
    // 9: wrong type of a list element.
    push(
        br#"{"completion":"4","answer":"4","n":1,"xs":[1,"a",3],"judge":{"ok":true}}"#,
        json!({"error": {"line": 9, "message": "expected int, found string \"a\"", "field": "xs[1]"}}),
    );
    // 10: scores, with the optional field present and extra columns ignored.
    let mut with_extra: Value =
        serde_json::from_str(&row("x", "y", -3, &[0, 0, 7], Some(0.25))).unwrap();
    with_extra["unused"] = json!({"deep": [1, 2, {"a": null}]});
    push(
        with_extra.to_string().as_bytes(),
        ok("x", "y", -3, &[0, 0, 7], Some(0.25)),
    );
    // 11: not an object.
    push(
        b"[1, 2, 3]",
        json!({"error": {"line": 11, "message": "expected a JSON object, found an array"}}),
    );
    // 12: trailing garbage after the object.
    let mut trailing = row("4", "4", 1, &[1, 2, 3], None).into_bytes();
    let col = trailing.len() + 2;
    trailing.extend_from_slice(b" x");
    push(
        &trailing,
        json!({"error": {"line": 12, "message": format!("invalid JSON at column {col}: trailing characters")}}),
    );
    // 13: whitespace only.
    push(
        b"  \t ",
        json!({"error": {"line": 13, "message": "empty line: expected a JSON object"}}),
    );
    // 14: CRLF line ending scores like LF.
    let mut crlf = row("4", "4", 2, &[5, 5, 5], None).into_bytes();
    crlf.push(b'\r');
    push(&crlf, ok("4", "4", 2, &[5, 5, 5], None));
    // 15: null for a required field.
    push(
        br#"{"completion":"4","answer":null,"n":1,"xs":[1,2,3],"judge":{"ok":true}}"#,
        json!({"error": {"line": 15, "message": "expected text, found null", "field": "answer"}}),
    );
    // 16: the last line, without a trailing newline, still counts.
    input.extend_from_slice(row("4", "4", 3, &[1, 1, 1], Some(-1.0)).as_bytes());
    expected.push(ok("4", "4", 3, &[1, 1, 1], Some(-1.0)));
    (input, expected)
}

#[test]
fn score_writes_one_line_per_input_line_with_error_records() {
    let dir = TempDir::new("score-mixed");
    dir.write("spec.reward", SPEC);
    let (input, expected) = mixed_input(SPEC);
    dir.write("in.jsonl", &input);
    let run = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    run.expect_code(2);
    let got = run.json_lines();
    assert_eq!(got.len(), expected.len(), "one output line per input line");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "output line {}", i + 1);
    }
    let errors = expected.iter().filter(|v| v.get("error").is_some()).count();
    assert_contains(
        &run.stderr,
        &format!("{errors} of {} rows could not be scored", expected.len()),
    );
}

#[test]
fn score_output_format_is_exact() {
    // Byte-level: `score` first, then `terms` in source order; ints stay ints, integral floats
    // keep `.0`; `_hidden` and the text term are not in the breakdown.
    let dir = TempDir::new("score-format");
    dir.write("spec.reward", SPEC);
    dir.write(
        "in.jsonl",
        format!("{}\n", row(" 4 ", "4", 1, &[1, 2, 3], None)),
    );
    let run = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    run.expect_code(0);
    assert_eq!(
        run.stdout(),
        "{\"score\":2.5,\"terms\":{\"correct\":true,\"big\":1000000000000,\"has_xs\":true,\
         \"third\":3,\"m\":1,\"bonus\":0.0}}\n"
    );
    assert!(
        !run.stderr.contains("could not be scored"),
        "{}",
        run.stderr
    );
}

#[test]
fn score_exit_0_when_every_row_scores() {
    let dir = TempDir::new("score-ok");
    dir.write("spec.reward", SPEC);
    let rows: Vec<String> = (0..10)
        .map(|i| row(&i.to_string(), "3", i, &[i, i + 1, i + 2], None))
        .collect();
    dir.write("in.jsonl", rows.join("\n") + "\n");
    let run = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    run.expect_code(0);
    let expected: Vec<String> = (0..10)
        .map(|i| expected_line(&i.to_string(), "3", i, &[i, i + 1, i + 2], None))
        .collect();
    assert_eq!(run.lines(), expected);
}

#[test]
fn score_empty_input_gives_empty_output() {
    let dir = TempDir::new("score-empty");
    dir.write("spec.reward", SPEC);
    dir.write("in.jsonl", "");
    let run = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    run.expect_code(0);
    assert!(run.stdout.is_empty());
}

#[test]
fn score_output_file_and_stdin() {
    let dir = TempDir::new("score-io");
    dir.write("spec.reward", SPEC);
    let (input, _) = mixed_input(SPEC);
    dir.write("in.jsonl", &input);
    let reference = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    reference.expect_code(2);
    assert!(!reference.stdout.is_empty());

    // -o FILE: the file gets exactly what stdout would have, stdout gets nothing.
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "in.jsonl", "-o", "out.jsonl"],
        None,
    );
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "with -o nothing goes to stdout");
    assert_eq!(dir.read("out.jsonl"), reference.stdout);

    // --output overwrites an existing file.
    dir.write(
        "out2.jsonl",
        "stale content that must disappear\n".repeat(100),
    );
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "in.jsonl", "--output", "out2.jsonl"],
        None,
    );
    run.expect_code(2);
    assert_eq!(dir.read("out2.jsonl"), reference.stdout);

    // `-` reads standard input.
    let run = run_in(dir.path(), &["score", "spec.reward", "-"], Some(&input));
    run.expect_code(2);
    assert_eq!(run.stdout, reference.stdout);

    // stdin and -o together.
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "-", "-o", "out3.jsonl"],
        Some(&input),
    );
    run.expect_code(2);
    assert_eq!(dir.read("out3.jsonl"), reference.stdout);
}

#[test]
fn score_missing_input_or_broken_spec_is_exit_1() {
    let dir = TempDir::new("score-fail");
    dir.write("spec.reward", SPEC);
    dir.write("broken.reward", "input { a: int }\nscore = a +\n");
    dir.write("in.jsonl", row("4", "4", 1, &[1, 2, 3], None) + "\n");

    let run = run_in(dir.path(), &["score", "spec.reward", "missing.jsonl"], None);
    run.expect_code(1);
    assert_contains(&run.stderr, "cannot read `missing.jsonl`");
    assert!(run.stdout.is_empty());

    let run = run_in(dir.path(), &["score", "broken.reward", "in.jsonl"], None);
    run.expect_code(1);
    assert_contains(&run.stderr, "[E0001]");
    assert_contains(&run.stderr, "broken.reward:2:");
    assert!(
        run.stdout.is_empty(),
        "no rows are scored with a broken spec"
    );

    // With -o, a broken spec does not create (or truncate) the output file.
    dir.write("keep.jsonl", "previous\n");
    let run = run_in(
        dir.path(),
        &["score", "broken.reward", "in.jsonl", "-o", "keep.jsonl"],
        None,
    );
    run.expect_code(1);
    assert_eq!(dir.read("keep.jsonl"), b"previous\n");
}

#[test]
fn score_params_change_the_score() {
    let dir = TempDir::new("score-params");
    dir.write("spec.reward", SPEC);
    dir.write("in.jsonl", row(" 4 ", "4", 5, &[1, 2, 3], None) + "\n");

    let score_of = |args: &[&str]| -> Value {
        let mut all = vec!["score", "spec.reward", "in.jsonl"];
        all.extend_from_slice(args);
        let run = run_in(dir.path(), &all, None);
        run.expect_code(0);
        run.json_lines().remove(0)
    };
    let base = score_of(&[]);
    assert_eq!(base["score"], json!(2.5));
    assert_eq!(base["terms"]["m"], json!(1));

    let v = score_of(&["--param", "w=2"]);
    assert_eq!(v["score"], json!(7.0), "1 + 2 * 3");
    let v = score_of(&["--param", "w=-0.5", "--param", "k=3"]);
    assert_eq!(v["score"], json!(-0.5), "1 - 0.5 * 3");
    assert_eq!(v["terms"]["m"], json!(2), "5 % 3");
    // An int literal is a valid value for a float param.
    let v = score_of(&["--param", "w=1"]);
    assert_eq!(v["score"], json!(4.0));
}

#[test]
fn score_repeated_param_last_one_wins() {
    // `--param w=1 --param w=0`: the last override wins, as with repeated flags elsewhere (a clear
    // "given twice" error would also be defensible; "no param `w`" is not).
    let dir = TempDir::new("score-param-twice");
    dir.write("spec.reward", SPEC);
    dir.write("in.jsonl", row(" 4 ", "4", 5, &[1, 2, 3], None) + "\n");
    let run = run_in(
        dir.path(),
        &[
            "score",
            "spec.reward",
            "in.jsonl",
            "--param",
            "w=1",
            "--param",
            "w=0",
        ],
        None,
    );
    assert!(
        !run.stderr.contains("no param `w`"),
        "a param given twice is reported as unknown:\n{}",
        run.stderr
    );
    run.expect_code(0);
    assert_eq!(run.json_lines()[0]["score"], json!(1.0));
}

#[test]
fn score_bad_params_are_errors_naming_them() {
    let dir = TempDir::new("score-bad-params");
    dir.write("spec.reward", SPEC);
    dir.write("in.jsonl", row("4", "4", 1, &[1, 2, 3], None) + "\n");
    let bad = |args: &[&str]| -> String {
        let mut all = vec!["score", "spec.reward", "in.jsonl"];
        all.extend_from_slice(args);
        let run = run_in(dir.path(), &all, None);
        run.expect_code(1);
        assert!(run.stdout.is_empty(), "no rows are scored with a bad param");
        run.stderr
    };

    let err = bad(&["--param", "nope=1"]);
    assert_contains(&err, "[E0030]");
    assert_contains(&err, "this spec has no param `nope`");
    // The help lists the spec's params (in some order: see /tmp/reward-bugs.md).
    let help = err
        .lines()
        .find(|l| l.contains("Help: params of this spec: "))
        .unwrap_or_else(|| panic!("no list of params in:\n{err}"));
    let mut listed: Vec<&str> = help
        .split("params of this spec: ")
        .nth(1)
        .unwrap()
        .split(", ")
        .map(str::trim)
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, ["k", "w"]);

    let err = bad(&["--param", "w=abc"]);
    assert_contains(&err, "[E0030]");
    assert_contains(
        &err,
        "invalid value for param `w`: `abc` is not a valid float",
    );

    let err = bad(&["--param", "k=1.5"]);
    assert_contains(&err, "invalid value for param `k`: expected int, found 1.5");

    let err = bad(&["--param", "w=nan"]);
    assert_contains(&err, "invalid value for param `w`");

    // Not of the form NAME=VALUE: a wrong command line (64), not a wrong value for the spec.
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "in.jsonl", "--param", "w"],
        None,
    );
    run.expect_code(64);
    assert_contains(&run.stderr, "`--param w` must have the form NAME=VALUE");

    // A good param before a bad one does not rescue it.
    let err = bad(&["--param", "w=1", "--param", "zz=2"]);
    assert_contains(&err, "no param `zz`");
}

/// `n` generated rows for [`SPEC`], some of them broken; returns the input and which 1-based
/// line numbers must be error records.
fn generated_rows(n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut input = Vec::new();
    let mut errors = Vec::new();
    for i in 1..=n {
        let r = next();
        let kind = if i % 37 == 0 { (r >> 8) % 6 } else { 99 };
        match kind {
            0 => input.extend_from_slice(b"{\"completion\": oops"),
            1 => {}
            2 => input.extend_from_slice(b"{\"completion\":\"\xc3\x28\"}"),
            3 => input.extend_from_slice(row("1", "1", 1, &[1], None).as_bytes()),
            4 => input.extend_from_slice(row("1", "1", i64::MAX / 2, &[1, 2, 3], None).as_bytes()),
            5 => input.extend_from_slice(
                br#"{"completion":"1","answer":"1","n":1.5,"xs":[1,2,3],"judge":{"ok":true}}"#,
            ),
            _ => {
                let len = (r % 40) as usize;
                let completion: String = (0..len)
                    .map(|j| char::from(b'a' + ((r >> (j % 50)) % 26) as u8))
                    .collect();
                let answer = if r % 3 == 0 {
                    completion.clone()
                } else {
                    "z".into()
                };
                let n_val = (r % 2001) as i64 - 1000;
                let xs: Vec<i64> = (0..3 + (r % 4) as i64)
                    .map(|j| j * (r % 7) as i64)
                    .collect();
                let hint = (r % 5 == 0).then_some((r % 100) as f64 / 8.0);
                input.extend_from_slice(row(&completion, &answer, n_val, &xs, hint).as_bytes());
            }
        }
        if kind != 99 {
            errors.push(i);
        }
        input.push(b'\n');
    }
    (input, errors)
}

#[test]
fn score_is_byte_identical_across_thread_counts() {
    let dir = TempDir::new("score-threads");
    dir.write("spec.reward", SPEC);
    let n = 5000;
    let (input, errors) = generated_rows(n);
    assert!(!errors.is_empty());
    dir.write("in.jsonl", &input);

    let one = run_in(
        dir.path(),
        &["score", "spec.reward", "in.jsonl", "--threads", "1"],
        None,
    );
    one.expect_code(2);
    let two = run_in(
        dir.path(),
        &["score", "spec.reward", "in.jsonl", "--threads", "2"],
        None,
    );
    two.expect_code(2);
    assert!(
        one.stdout == two.stdout,
        "--threads 1 and --threads 2 differ"
    );
    let default = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    default.expect_code(2);
    assert!(one.stdout == default.stdout, "default thread count differs");

    let lines = one.json_lines();
    assert_eq!(lines.len(), n);
    let got_errors: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.get("error").map(|e| {
                assert_eq!(e["line"], json!(i + 1), "error record names its own line");
                i + 1
            })
        })
        .collect();
    assert_eq!(got_errors, errors);
    assert_contains(
        &one.stderr,
        &format!("{} of {n} rows could not be scored", errors.len()),
    );
}

#[test]
fn score_terms_follow_source_order() {
    let dir = TempDir::new("score-order");
    let spec = r#"input { completion: text }
let zeta = 1.0
rubric safety (normalize: positive, clip: [0, 1]) {
    criterion "mentions dose" +5 : completion ~ /dose/i
    criterion "unsafe" -8 : "double" in completion
        tag "harm"
}
rule alpha = len(completion) > 3
let _private = 2.0
let middle = zeta * 2.0
let words_seen = len(words(completion))
score = safety + middle
"#;
    dir.write("spec.reward", spec);
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "-"],
        Some(b"{\"completion\":\"Dose: one\"}\n{\"completion\":\"double the dose\"}\n"),
    );
    run.expect_code(0);
    assert_eq!(
        run.lines(),
        vec![
            "{\"score\":3.0,\"terms\":{\"zeta\":1.0,\"safety\":1.0,\"safety/mentions dose\":1.0,\
             \"safety/unsafe\":0.0,\"safety#harm\":0.0,\"alpha\":true,\"middle\":2.0,\"words_seen\":2}}",
            "{\"score\":2.0,\"terms\":{\"zeta\":1.0,\"safety\":0.0,\"safety/mentions dose\":1.0,\
             \"safety/unsafe\":1.0,\"safety#harm\":-8.0,\"alpha\":true,\"middle\":2.0,\"words_seen\":3}}",
        ]
    );
}

#[test]
fn score_optional_none_is_null() {
    let dir = TempDir::new("score-null");
    dir.write(
        "spec.reward",
        "input { completion: text, x: float? }\nlet present = is_some(x)\nscore = x\n",
    );
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "-"],
        Some(b"{\"completion\":\"a\",\"x\":0.5}\n{\"completion\":\"b\"}\n{\"completion\":\"c\",\"x\":null}\n"),
    );
    // A missing score is not an error.
    run.expect_code(0);
    assert_eq!(
        run.lines(),
        vec![
            r#"{"score":0.5,"terms":{"present":true}}"#,
            r#"{"score":null,"terms":{"present":false}}"#,
            r#"{"score":null,"terms":{"present":false}}"#,
        ]
    );
}

#[test]
fn score_non_finite_floats_are_strings() {
    // JSON has no literal for NaN or infinities: they are written as the strings "NaN", "inf"
    // and "-inf" (score and terms alike), and such a row is not an error.
    let dir = TempDir::new("score-nonfinite");
    dir.write(
        "spec.reward",
        "input { completion: text }\n\
         let nan = sqrt(-1.0)\n\
         let pinf = exp(1000.0)\n\
         let ninf = -exp(1000.0)\n\
         let fine = 0.1 + 0.2\n\
         score = log(0.0)\n",
    );
    let run = run_in(
        dir.path(),
        &["score", "spec.reward", "-"],
        Some(b"{\"completion\":\"a\"}\n"),
    );
    run.expect_code(0);
    assert_eq!(
        run.stdout(),
        "{\"score\":\"-inf\",\"terms\":{\"nan\":\"NaN\",\"pinf\":\"inf\",\"ninf\":\"-inf\",\
         \"fine\":0.30000000000000004}}\n"
    );
}

// ------------------------------------------------------------------------------------------ explain

/// `(kind, value)` of the term `name` in `reward explain` output.
fn explained(out: &str, name: &str) -> Option<(String, String)> {
    let terms = out.split("\nterms:\n").nth(1)?;
    terms.lines().find_map(|l| {
        let (left, value) = l.trim_start().split_once(" = ")?;
        let (kind, term) = left.trim_end().split_once(char::is_whitespace)?;
        (term.trim() == name).then(|| (kind.to_string(), value.to_string()))
    })
}

#[test]
fn explain_prints_every_term_with_its_value() {
    let dir = TempDir::new("explain");
    dir.write("spec.reward", SPEC);
    let (input, _) = mixed_input(SPEC);
    dir.write("in.jsonl", &input);
    let run = run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "10"],
        None,
    );
    run.expect_code(0);
    let out = run.stdout();
    assert!(out.starts_with("row 10\n"), "{out}");
    // Input fields.
    for (field, value) in [
        ("completion", "\"x\""),
        ("answer", "\"y\""),
        ("n", "-3"),
        ("xs", "[0, 0, 7]"),
        ("judge", "{ok: true}"),
        ("hint", "0.25"),
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(field)
                && l.trim_end().ends_with(&format!("= {value}"))),
            "input field {field} = {value} missing in:\n{out}"
        );
    }
    // Every term, including those not in the breakdown (text, `_` names).
    let expect = [
        ("correct", "let", "false"),
        ("big", "let", "-3000000000000"),
        ("has_xs", "rule", "true"),
        ("third", "let", "7"),
        ("m", "let", "1"),
        ("bonus", "let", "0.25"),
        ("_hidden", "let", "41  (not in the breakdown)"),
        ("shout", "let", "\"X\"  (not in the breakdown)"),
        ("score", "score", "3.75"),
    ];
    for (name, kind, value) in expect {
        assert_eq!(
            explained(&out, name),
            Some((kind.to_string(), value.to_string())),
            "term {name} in:\n{out}"
        );
    }
    assert!(out.ends_with("score = 3.75\n"), "{out}");

    // From standard input too.
    let run2 = run_in(
        dir.path(),
        &["explain", "spec.reward", "-", "--row", "10"],
        Some(&input),
    );
    run2.expect_code(0);
    assert_eq!(run2.stdout, run.stdout);

    // Params apply.
    let run3 = run_in(
        dir.path(),
        &[
            "explain",
            "spec.reward",
            "in.jsonl",
            "--row",
            "10",
            "--param",
            "w=1",
        ],
        None,
    );
    run3.expect_code(0);
    assert_eq!(
        explained(&run3.stdout(), "score"),
        Some(("score".to_string(), "7.25".to_string()))
    );
}

#[test]
fn explain_errors() {
    let dir = TempDir::new("explain-errors");
    dir.write("spec.reward", SPEC);
    let (input, _) = mixed_input(SPEC);
    dir.write("in.jsonl", &input);
    let lines = input.split(|&b| b == b'\n').count();

    // Out of range, past the end and zero.
    for row in ["99", "0"] {
        let run = run_in(
            dir.path(),
            &["explain", "spec.reward", "in.jsonl", "--row", row],
            None,
        );
        run.expect_code(1);
        assert!(run.stdout.is_empty());
        assert_contains(
            &run.stderr,
            &format!("`in.jsonl` has {lines} lines; there is no row {row}"),
        );
    }
    // A row that does not decode names the field.
    let run = run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "3"],
        None,
    );
    run.expect_code(1);
    assert_contains(&run.stderr, "line 3: field `judge.ok`: expected bool");
    // A row that fails at run time names the term, the message and the place.
    let third_line = line_of(SPEC, "let third");
    let run = run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "7"],
        None,
    );
    run.expect_code(1);
    assert_contains(
        &run.stderr,
        &format!(
            "line 7 could not be scored while computing `third`: index 2 is out of range for a \
             list of 2 elements (at spec.reward:{third_line}:13)"
        ),
    );
    // Invalid UTF-8.
    let run = run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "6"],
        None,
    );
    run.expect_code(1);
    assert_contains(&run.stderr, "line 6 is not valid UTF-8");
    // A broken spec is reported like everywhere else.
    dir.write("broken.reward", "input { a: int }\nscore = nope\n");
    let run = run_in(
        dir.path(),
        &["explain", "broken.reward", "in.jsonl", "--row", "1"],
        None,
    );
    run.expect_code(1);
    assert_contains(&run.stderr, "[E0002]");
}

// ------------------------------------------------------------------------------------------ big rows

#[test]
fn ten_megabyte_completion_with_regexes() {
    let dir = TempDir::new("big-row");
    let spec = r#"input { completion: text }
let n = len(completion)
rule has_answer = completion ~ /<answer>\s*([0-9]+)\s*<\/answer>/
let pairs = count_matches(completion, /(ab|cd)+/)
let shouting = completion ~ /(?i)^[A-Z ]+$/
let answer = capture(completion, /<answer>\s*([0-9]+)\s*<\/answer>/, 1) ?? ""
let n_words = len(words(completion))
score = if has_answer and answer == "42" then 1.0 else 0.0
"#;
    dir.write("spec.reward", spec);
    let unit = "lorem ipsum abab cdcd dolor ";
    let target = 10 * 1024 * 1024;
    let mut completion = unit.repeat(target / unit.len() + 1);
    completion.truncate(target - 21);
    completion.push_str("<answer> 42 </answer>");
    assert_eq!(completion.len(), target);
    let mut input = json!({ "completion": completion }).to_string().into_bytes();
    input.push(b'\n');
    input.extend_from_slice(b"{\"completion\":\"short\"}\n");
    dir.write("in.jsonl", &input);

    let run = run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None);
    run.expect_code(0);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2);
    let units = (target - 21) / unit.len();
    assert_eq!(lines[0]["score"], json!(1.0));
    assert_eq!(lines[0]["terms"]["n"], json!(target));
    assert_eq!(lines[0]["terms"]["has_answer"], json!(true));
    assert_eq!(lines[0]["terms"]["shouting"], json!(false));
    // Each full unit has two matches ("abab", "cdcd"); the cut unit may add some.
    let pairs = lines[0]["terms"]["pairs"].as_u64().unwrap();
    assert!(
        pairs >= 2 * units as u64 && pairs <= 2 * units as u64 + 2,
        "{pairs}"
    );
    assert!(lines[0]["terms"]["n_words"].as_u64().unwrap() >= 5 * units as u64);
    assert_eq!(
        lines[1].to_string(),
        r#"{"score":0.0,"terms":{"n":5,"has_answer":false,"pairs":0,"shouting":true,"n_words":1}}"#
    );
    assert!(
        run.elapsed < Duration::from_secs(60),
        "10 MB row took {:?}",
        run.elapsed
    );

    // explain on the same row shows the text abbreviated, not 10 MB.
    let run = run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "1"],
        None,
    );
    run.expect_code(0);
    assert!(
        run.stdout.len() < 10_000,
        "explain printed {} bytes",
        run.stdout.len()
    );
    assert_contains(&run.stdout(), &format!("({target} characters)"));
}

// ------------------------------------------------------------------------------------------ examples

#[test]
fn every_example_checks_and_passes_its_tests() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut specs: Vec<PathBuf> = fs::read_dir(&examples)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "reward"))
                .collect()
        })
        .unwrap_or_default();
    specs.sort();
    if specs.is_empty() {
        eprintln!("no examples/*.reward yet: nothing to check");
        return;
    }
    let mut failures = Vec::new();
    for spec in &specs {
        let path = spec.to_str().expect("UTF-8 path");
        let check = run_in(&examples, &["check", path], None);
        if check.code != Some(0) {
            failures.push(format!("reward check {path}:\n{}", check.stderr));
            continue;
        }
        let test = run_in(&examples, &["test", path], None);
        if test.code != Some(0) {
            failures.push(format!(
                "reward test {path}:\n{}{}",
                test.stdout(),
                test.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples fail:\n\n{}",
        failures.len(),
        specs.len(),
        failures.join("\n")
    );
}

#[test]
fn exit_statuses_tell_usage_mistakes_from_row_errors() {
    let dir = TempDir::new("exit-statuses");
    dir.write("spec.reward", "input { n: int }\nscore = n\n");
    dir.write("in.jsonl", "{\"n\": 1}\n{\"n\": \"x\"}\n");
    // Some rows failed: 2.
    run_in(dir.path(), &["score", "spec.reward", "in.jsonl"], None).expect_code(2);
    // A mistyped flag, a missing argument, zero threads: usage errors, 64.
    for args in [
        &["score", "spec.reward", "in.jsonl", "--thread", "2"][..],
        &["score", "spec.reward"][..],
        &["score", "spec.reward", "in.jsonl", "--threads", "0"][..],
    ] {
        let run = run_in(dir.path(), args, None);
        run.expect_code(64);
        assert!(run.stdout.is_empty());
    }
    // A row that does not exist is an error of the command, not a row error: 1.
    run_in(
        dir.path(),
        &["explain", "spec.reward", "in.jsonl", "--row", "99"],
        None,
    )
    .expect_code(1);
    // Help is not an error.
    run_in(dir.path(), &["--help"], None).expect_code(0);
}

/// `reward score` runs a `group by` spec in two stages, keeping per row only what the group
/// stage reads; its records equal the in-memory batch of the library (`Spec::score_lines`),
/// on both engines, with `--steps`, with group terms that read the rollout itself, and with
/// error rows among the others.
#[test]
fn group_specs_score_the_same_streamed_and_in_memory() {
    let spec_text = r#"
input { prompt: text, completion: text, events: list[text] }
prop hit = "h" in step
machine m over events (otherwise: stay) {
    start a
    a -> b when hit reward 1.0
    terminal b
}
let length = len(completion)
let _big = completion + completion
rule long = length > 3
score = length + m
group by prompt {
    let centred = score - mean(score)
    let mentions = if contains(completion, "x") then 1 else 0
    score = centred + mentions + rank(length)
}
"#;
    let dir = TempDir::new("group-streamed");
    dir.write("spec.reward", spec_text);
    let mut input = String::new();
    for i in 0..300 {
        let completion = "x".repeat(i % 7) + &"y".repeat(i % 5);
        input.push_str(&format!(
            "{{\"prompt\": \"p{}\", \"completion\": \"{completion}\", \"events\": [\"\", \"{}\"]}}\n",
            i % 13,
            if i % 3 == 0 { "h" } else { "" }
        ));
        if i % 50 == 7 {
            input.push_str("{\"prompt\": 3}\n");
            input.push_str("not json\n");
        }
    }
    dir.write("in.jsonl", &input);
    let lines: Vec<(u64, String)> = input
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.to_string()))
        .collect();
    for engine in ["jit", "interp"] {
        let spec = reward::compile(
            reward::Source::file(dir.path().join("spec.reward")),
            &reward::Options::default().engine(reward::Engine::from_name(engine).unwrap()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for steps in [false, true] {
            let mut args = vec!["score", "spec.reward", "in.jsonl", "--engine", engine];
            if steps {
                args.push("--steps");
            }
            let run = run_in(dir.path(), &args, None);
            run.expect_code(2);
            let expected: String = spec
                .score_lines(&lines, steps)
                .into_iter()
                .map(|o| o.json + "\n")
                .collect();
            assert_eq!(
                String::from_utf8_lossy(&run.stdout),
                expected,
                "{engine} steps={steps}"
            );
        }
    }
}

/// `--keep COL,…` copies input columns into each record, first, for rows that scored and for
/// error rows, with and without `group by`; a column an output record already has is refused.
#[test]
fn keep_carries_input_columns_into_each_record() {
    let dir = TempDir::new("keep");
    dir.write("plain.reward", "input { n: int }\nscore = n\n");
    dir.write(
        "grouped.reward",
        "input { n: int, g: text }\nscore = n\ngroup by g {\n    score = score - mean(score)\n}\n",
    );
    dir.write(
        "in.jsonl",
        "{\"id\": 7, \"n\": 1, \"g\": \"a\"}\n{\"id\": \"x\", \"n\": \"bad\"}\n{\"n\": 3, \"g\": \"a\"}\n",
    );
    for spec in ["plain.reward", "grouped.reward"] {
        let run = run_in(
            dir.path(),
            &["score", spec, "in.jsonl", "--keep", "id"],
            None,
        );
        run.expect_code(2);
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&run.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON record"))
            .collect();
        assert_eq!(lines.len(), 3, "{spec}");
        assert_eq!(lines[0]["id"], json!(7), "{spec}");
        assert_eq!(lines[1]["id"], json!("x"), "{spec}");
        assert!(lines[1].get("error").is_some(), "{spec}");
        assert_eq!(lines[2]["id"], json!(null), "{spec}");
        let first_key = String::from_utf8_lossy(&run.stdout);
        assert!(first_key.starts_with("{\"id\":7,"), "{spec}: {first_key}");
    }
    run_in(
        dir.path(),
        &["score", "plain.reward", "in.jsonl", "--keep", "terms"],
        None,
    )
    .expect_code(64);
}

/// Runs `reward ARGS`, reads one line of its output and closes the pipe (as `| head -1` does):
/// the exit status and what it wrote on standard error.
fn close_after_one_line(args: &[&str], stdin: Vec<u8>) -> (Option<i32>, String) {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the reward binary");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&stdin);
    });
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout pipe"));
    let mut first = String::new();
    out.read_line(&mut first).expect("one line");
    assert!(!first.is_empty(), "reward {args:?} wrote nothing");
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr pipe")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait for reward");
    let _ = writer.join();
    (status.code(), err)
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly_with_status_0() {
    let rows =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/r1_zero.jsonl"))
            .unwrap();
    let many: Vec<u8> = rows.repeat(2000);
    for args in [
        &["score", "examples/r1_zero.reward", "-"][..],
        &[
            "score",
            "--engine",
            "interp",
            "examples/r1_zero.reward",
            "-",
        ][..],
        &["ir", "examples/ifeval_constraints.reward"][..],
        &[
            "explain",
            "examples/ifeval_constraints.reward",
            "examples/ifeval_constraints.jsonl",
            "--row",
            "1",
        ][..],
        &["automata", "examples/tool_agent_protocol.reward"][..],
    ] {
        let (code, err) = close_after_one_line(args, many.clone());
        assert_eq!(code, Some(0), "reward {args:?}: {err}");
        assert_eq!(err, "", "reward {args:?}");
    }
}

// ------------------------------------------------------------------------------- language server

/// A `reward lsp` process and the framing of its messages (`Content-Length` headers).
struct Lsp {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Lsp {
    fn start() -> Lsp {
        let mut child = Command::new(BIN)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start reward lsp");
        let out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        Lsp { child, out }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.child.stdin.as_mut().expect("stdin");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        use std::io::BufRead;
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.out.read_line(&mut line).expect("a header");
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.out.read_exact(&mut body).expect("a body");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        let reply = self.receive();
        assert_eq!(reply["id"], id, "{reply}");
        reply["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }
}

#[test]
fn the_language_server_underlines_mistakes_hovers_and_finds_definitions() {
    use serde_json::json;
    let mut lsp = Lsp::start();
    let caps = lsp.request(1, "initialize", json!({"capabilities": {}}));
    assert_eq!(caps["capabilities"]["hoverProvider"], true, "{caps}");
    lsp.notify("initialized", json!({}));
    let uri = "file:///tmp/a%20spec.reward";
    let text = "input { completion: text }\nlet n = len(completion)\nlet bad = lenn(completion)\nscore = n + 1.0\n";
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "reward", "version": 1, "text": text}}),
    );
    // The checker's diagnostic, where it points (line 3, `lenn`), with its code and help.
    let published = lsp.receive();
    assert_eq!(published["method"], "textDocument/publishDiagnostics");
    let d = &published["params"]["diagnostics"][0];
    assert_eq!(d["code"], "E0002", "{published}");
    assert_eq!(d["range"]["start"], json!({"line": 2, "character": 10}));
    assert_eq!(d["range"]["end"], json!({"line": 2, "character": 14}));
    assert_contains(d["message"].as_str().unwrap(), "did you mean `len`?");
    // Fixed as it is typed: no diagnostics left.
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"text": text.replace("lenn", "len")}]}),
    );
    assert_eq!(lsp.receive()["params"]["diagnostics"], json!([]));
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    // Hover: a builtin's signature and documentation; a term's kind and type.
    let builtin = lsp.request(2, "textDocument/hover", at(1, 9));
    assert_contains(
        builtin["contents"]["value"].as_str().unwrap(),
        "len(text) -> int",
    );
    let term = lsp.request(3, "textDocument/hover", at(3, 8));
    assert_contains(term["contents"]["value"].as_str().unwrap(), "let n: int");
    // Go to definition: `n` in `score` is defined on line 2.
    let def = lsp.request(4, "textDocument/definition", at(3, 8));
    assert_eq!(def["uri"], uri);
    assert_eq!(def["range"]["start"], json!({"line": 1, "character": 4}));
    // The outline lists the items in order.
    let symbols = lsp.request(
        5,
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["completion", "n", "bad", "score"]);
    lsp.request(6, "shutdown", Value::Null);
    lsp.notify("exit", Value::Null);
    let status = lsp.child.wait().expect("the server exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn fmt_rewrites_in_place_checks_reads_stdin_and_refuses_broken_specs() {
    let dir = TempDir::new("fmt");
    let messy = "input{completion:text}\nscore=len( completion )/10 // short\n";
    let tidy = "input {\n    completion: text\n}\nscore = len(completion) / 10  // short\n";
    dir.write("a.reward", messy);
    fs::create_dir_all(dir.path().join("more")).unwrap();
    fs::write(dir.path().join("more/b.reward"), tidy).unwrap();
    fs::write(dir.path().join("more/notes.txt"), "not a spec {").unwrap();

    // --check writes nothing and names the file that is not formatted.
    let run = run_in(dir.path(), &["fmt", "--check", "a.reward", "more"], None);
    run.expect_code(1);
    assert_eq!(run.stdout(), "a.reward: not formatted\n");
    assert_eq!(
        fs::read_to_string(dir.path().join("a.reward")).unwrap(),
        messy
    );

    // Without --check the file is rewritten; a directory stands for its .reward files.
    let run = run_in(dir.path(), &["fmt", "."], None);
    run.expect_code(0);
    assert_contains(&run.stderr, "formatted ./a.reward");
    assert!(!run.stderr.contains("b.reward"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("a.reward")).unwrap(),
        tidy
    );
    run_in(dir.path(), &["fmt", "--check", "."], None).expect_code(0);

    // `-`: standard input to standard output.
    let run = run_in(dir.path(), &["fmt", "-"], Some(messy.as_bytes()));
    run.expect_code(0);
    assert_eq!(run.stdout(), tidy);

    // A spec with a syntax error is reported with its place and left as it was.
    let broken = "input { completion: text }\nscore = len(completion\n";
    dir.write("broken.reward", broken);
    let run = run_in(dir.path(), &["fmt", "broken.reward"], None);
    run.expect_code(1);
    assert_contains(&run.stderr, "[E0001]");
    assert_contains(&run.stderr, "broken.reward:");
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.reward")).unwrap(),
        broken
    );
    run_in(dir.path(), &["fmt", "missing.reward"], None).expect_code(1);
}

#[test]
fn the_language_server_completes_and_formats() {
    use serde_json::json;
    let mut lsp = Lsp::start();
    let caps = lsp.request(1, "initialize", json!({"capabilities": {}}));
    assert_eq!(
        caps["capabilities"]["documentFormattingProvider"], true,
        "{caps}"
    );
    assert_eq!(
        caps["capabilities"]["completionProvider"]["triggerCharacters"],
        json!(["."])
    );
    lsp.notify("initialized", json!({}));
    let uri = "file:///tmp/complete.reward";
    let text =
        "input{completion:text, judge: {safe: bool, helpful: bool}, steps: list[{x: float}]}\n\
                let answer_len=len(completion)\nscore=float(answer_len)\n";
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "reward", "version": 1, "text": text}}),
    );
    assert_eq!(lsp.receive()["params"]["diagnostics"], json!([]));
    // A line being typed does not compile; the fields of the last good version stay known.
    let typing = format!("{text}let j = judge.\nlet s = step.\nlet m = ans\nlet f = math_eq\n");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": typing}]}),
    );
    assert_ne!(lsp.receive()["params"]["diagnostics"], json!([]));
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    let labels = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("a list of items: {v}"))
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    // After `judge.`: the record column's fields, with their types.
    let judge = lsp.request(2, "textDocument/completion", at(3, 14));
    assert_eq!(labels(&judge), ["safe", "helpful"]);
    assert_eq!(judge[0]["detail"], "bool");
    // After `step.`: the fields of the trace's steps.
    assert_eq!(
        labels(&lsp.request(3, "textDocument/completion", at(4, 13))),
        ["x"]
    );
    // A name being typed: the spec's terms first, then std functions (`answer_line` is in
    // std::extract).
    let term = lsp.request(4, "textDocument/completion", at(5, 11));
    assert_eq!(labels(&term), ["answer_len", "answer_line"]);
    assert_eq!(term[0]["detail"], "let : int");
    // A std function not imported yet comes with its `use` line.
    let std = lsp.request(5, "textDocument/completion", at(6, 15));
    assert!(
        labels(&std).iter().all(|l| l.starts_with("math_eq")),
        "{std}"
    );
    assert_eq!(labels(&std)[0], "math_equal");
    assert_contains(std[0]["detail"].as_str().unwrap(), "(std::math)");
    assert_eq!(
        std[0]["additionalTextEdits"][0]["newText"],
        "use std::math::{math_equal}\n"
    );
    // Keywords and prelude functions start the list of what a line may begin with.
    let all = labels(&lsp.request(6, "textDocument/completion", at(6, 8)));
    for expected in [
        "completion",
        "answer_len",
        "len",
        "final_answer",
        "machine",
        "eventually",
    ] {
        assert!(
            all.iter().any(|l| l == expected),
            "{expected} missing from {all:?}"
        );
    }

    // Formatting: one edit with `reward fmt`'s text; none for a broken document.
    let format = |lsp: &mut Lsp, id: u64| {
        lsp.request(
            id,
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
        )
    };
    assert_eq!(format(&mut lsp, 7), Value::Null);
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": text}]}),
    );
    lsp.receive();
    let edits = format(&mut lsp, 8);
    assert_eq!(edits[0]["newText"], reward::format("x", text).unwrap());
    assert_eq!(edits[0]["range"]["end"], json!({"line": 3, "character": 0}));
    lsp.request(9, "shutdown", Value::Null);
    lsp.notify("exit", Value::Null);
    assert!(lsp.child.wait().expect("the server exits").success());
}

#[test]
fn the_std_reference_in_docs_is_what_reward_doc_generates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = run_in(&root, &["doc"], None);
    run.expect_code(0);
    let committed = fs::read_to_string(root.join("docs/std.md")).expect("docs/std.md");
    assert!(
        run.stdout() == committed,
        "docs/std.md is stale: run `reward doc > docs/std.md`"
    );
    // Natives and functions written in the language, with their documentation.
    assert_contains(
        &committed,
        "### `math_equal`\n\n```reward\nmath_equal(text, text) -> bool\n```",
    );
    assert_contains(
        &committed,
        "### `open_r1_format`\n\n```reward\nopen_r1_format(s: text) -> bool\n```\n\n",
    );
    assert!(
        !committed.contains("### `_"),
        "helpers named _… are not documented"
    );
}

#[test]
fn diff_shows_which_rows_and_terms_an_edit_moves_and_the_ranks_it_changes() {
    let dir = TempDir::new("diff");
    let old = "input { id: text, group: text, completion: text }\n\
               rule has_answer = contains(completion, \"<answer>\")\n\
               let length_bonus = min(len(completion), 100) / 100\n\
               score = has_answer + length_bonus\n";
    // The edit: the answer is worth half as much, and an empty completion is now a row error.
    let new = "input { id: text, group: text, completion: text }\n\
               rule has_answer = contains(completion, \"<answer>\")\n\
               let length_bonus = min(len(completion), 100) / 100\n\
               let checked = 0 * (1 % len(completion))\n\
               score = 0.5 * has_answer + length_bonus + checked\n";
    dir.write("old.reward", old);
    dir.write("new.reward", new);
    let long = "x".repeat(109);
    let rows = [
        r#"{"id": "a", "group": "p1", "completion": "<answer>1</answer>"}"#.to_string(),
        format!(r#"{{"id": "b", "group": "p1", "completion": "{long}"}}"#),
        r#"{"id": "c", "group": "p2", "completion": ""}"#.to_string(),
    ];
    dir.write("rows.jsonl", rows.join("\n") + "\n");
    let args = [
        "diff",
        "old.reward",
        "new.reward",
        "rows.jsonl",
        "--group",
        "group",
    ];
    let run = run_in(dir.path(), &[&args[..], &["--json"]].concat(), None);
    run.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout()).expect("one JSON report");
    assert_eq!(
        (report["rows"].as_u64(), report["changed"].as_u64()),
        (Some(3), Some(3))
    );
    let changed = report["changed_rows"].as_array().unwrap();
    // Row a: 1.18 → 0.68, and b (1.0 both times, but a new term) overtakes it in group p1.
    assert_eq!(changed[0]["line"], 1);
    assert!(
        (changed[0]["delta"].as_f64().unwrap() + 0.5).abs() < 1e-12,
        "{report}"
    );
    assert_eq!(
        (
            changed[0]["old_rank"].as_u64(),
            changed[0]["new_rank"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(changed[1]["delta"], 0.0);
    assert_eq!(
        (
            changed[1]["old_rank"].as_u64(),
            changed[1]["new_rank"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        changed[1]["terms"],
        json!([{"name": "checked", "old": null, "new": 0, "delta": null}])
    );
    // Row c fails with the new spec only.
    assert_eq!(changed[2]["old"]["score"], 0.0);
    assert_contains(changed[2]["new"]["error"].as_str().unwrap(), "by zero");
    // a and b swap; c loses its rank by failing.
    assert_eq!(report["rank_changes"], 3);
    assert_eq!(report["terms"][0]["name"], "checked");
    assert_eq!(report["terms"][0]["rows"], 2);

    // The text report: summary, histogram, terms, largest changes, rank changes.
    let run = run_in(dir.path(), &args, None);
    run.expect_code(1);
    let text = run.stdout();
    assert_contains(
        &text,
        "old.reward → new.reward: 3 rows, 3 changed, 1 changed score",
    );
    assert_contains(
        &text,
        "1 rows fail only with the new spec, 0 only with the old one",
    );
    assert_contains(&text, "line 1: 1.18 → 0.6799999999999999");
    assert_contains(&text, "3 rows change rank within their `group` group");
    assert_contains(&text, "line 2 (group \"p1\"): rank 2 → 1");
    // The same spec twice: nothing changed, status 0.
    let same = run_in(
        dir.path(),
        &["diff", "old.reward", "old.reward", "rows.jsonl"],
        None,
    );
    same.expect_code(0);
    assert_contains(&same.stdout(), "3 rows, 0 changed, 0 changed score");
}

#[test]
fn the_language_server_goes_to_definitions_in_imported_files() {
    use serde_json::json;
    let dir = TempDir::new("lsp-imports");
    dir.write(
        "helpers.reward",
        "input { completion: text }\n\nfn shout(t: text) -> text = upper(t) + \"!\"\n",
    );
    let main =
        "use \"helpers.reward\"\ninput { completion: text }\nscore = len(shout(completion))\n";
    let main_path = dir.write("main spec.reward", main);
    let uri = format!("file://{}", main_path.display()).replace(' ', "%20");
    let mut lsp = Lsp::start();
    lsp.request(1, "initialize", json!({"capabilities": {}}));
    lsp.notify("initialized", json!({}));
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "reward", "version": 1, "text": main}}),
    );
    assert_eq!(lsp.receive()["params"]["diagnostics"], json!([]));
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    // `shout` is defined on line 3 of the imported file.
    let def = lsp.request(2, "textDocument/definition", at(2, 14));
    assert!(
        def["uri"].as_str().unwrap().ends_with("/helpers.reward"),
        "{def}"
    );
    assert_eq!(def["range"]["start"], json!({"line": 2, "character": 3}));
    // On the import's path: the file itself.
    let file = lsp.request(3, "textDocument/definition", at(0, 8));
    assert_eq!(file["uri"], def["uri"]);
    assert_eq!(file["range"]["start"], json!({"line": 0, "character": 0}));
    // A name defined nowhere has no definition.
    assert_eq!(
        lsp.request(4, "textDocument/definition", at(2, 8)),
        Value::Null
    );
    lsp.request(5, "shutdown", Value::Null);
    lsp.notify("exit", Value::Null);
    assert!(lsp.child.wait().expect("the server exits").success());
}

#[test]
fn probe_without_a_completion_column_reads_the_spec_and_skips_the_attacks() {
    let dir = TempDir::new("probe-labels");
    // A machine over labels: nothing to attack, but a regex anchored at one end is still a
    // finding of the spec's text.
    dir.write(
        "labels.reward",
        "input { steps: list[text], note: text }\n\
         prop a = \"a\" in step\n\
         machine m over steps (otherwise: stay) {\n    start s\n    s -> t when a reward 1\n    terminal t\n}\n\
         rule noted = note ~ /^done/\n\
         score = m + (if noted then 1.0 else 0.0)\n",
    );
    let run = run_in(dir.path(), &["probe", "labels.reward"], None);
    run.expect_code(0);
    assert_contains(
        &run.stdout(),
        "no attacks: which column holds the completion?",
    );
    assert_contains(&run.stdout(), "one-end-anchor");
    let run = run_in(dir.path(), &["probe", "labels.reward", "--json"], None);
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout()).expect("one JSON report");
    assert_eq!(report["attacks"], 0);
    assert_eq!(report["static"][0]["kind"], "one-end-anchor");
    run_in(
        dir.path(),
        &["probe", "labels.reward", "--fail-on", "any"],
        None,
    )
    .expect_code(1);
    // A column named that does not exist is still a usage error.
    run_in(
        dir.path(),
        &["probe", "labels.reward", "--completion", "nope"],
        None,
    )
    .expect_code(64);
}

/// A `group by` spec's static findings, in `reward probe` and in `reward test`'s `expect probe`
/// lines: each completion tried is ranked beside a correct and a wrong companion.
#[test]
fn probe_reports_the_static_findings_of_a_group_spec() {
    let dir = TempDir::new("probe-group-static");
    let spec = |accuracy: &str, expect: &str| {
        format!(
            "use std::text::{{extract_tag}}\n\
             input {{ prompt_id: text, completion: text, solution: text }}\n\
             let block = trim(extract_tag(completion, \"answer\") ?? \"\")\n\
             rule accuracy = {accuracy}\nscore = accuracy\n\
             group by prompt_id {{\n    \
                 let rank_reward = if count(true) == 1 then 0.5\n        \
                     else (rank(score) - 1.0) / (count(true) - 1.0)\n    \
                 score = rank_reward\n}}\n\
             test \"probe\" {{\n    expect probe pays-on-empty {expect} safe\n}}\n"
        )
    };
    dir.write("hole.reward", spec("contains(solution, block)", "!="));
    dir.write("sound.reward", spec("block == solution", "=="));
    let run = run_in(dir.path(), &["probe", "hole.reward", "--json"], None);
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout()).expect("one JSON report");
    let empty = report["static"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "pays-on-empty")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(empty["line"], 4);
    assert_contains(
        empty["message"].as_str().unwrap(),
        "`accuracy` is true on the empty completion and adds 0.5 to the score",
    );
    let run = run_in(dir.path(), &["probe", "sound.reward", "--json"], None);
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout()).expect("one JSON report");
    assert!(
        report["static"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "pays-on-empty"),
        "{report}"
    );
    for file in ["hole.reward", "sound.reward"] {
        run_in(dir.path(), &["test", file], None).expect_code(0);
    }
}

#[test]
fn probe_on_golds_no_attack_edits_reports_the_static_findings_and_succeeds() {
    let dir = TempDir::new("probe-paths");
    // Gold trajectories: no answer attack rewrites them and no structured attack edits them,
    // so the probe says why nothing ran and still reads the spec (its open-ended regex).
    dir.write(
        "path.reward",
        "use std::text::{extract_tag}\n\
         input { completion: text, solution: list[list[float]] }\n\
         let block = extract_tag(completion, \"answer\") ?? \"\"\n\
         rule shaped = completion ~ /^<answer>/\n\
         score = (if shaped then 0.5 else 0.0) + (if len(block) > 2 then 0.5 else 0.0)\n",
    );
    let row = |i: u32| {
        format!(
            r#"{{"solution": [[{i}.0, 1.0], [2.0, {i}.5]], "completion": "<answer>[[{i}, 1], [2, {i}]]</answer>"}}"#
        )
    };
    dir.write("rows.jsonl", (1..4).map(row).collect::<Vec<_>>().join("\n"));
    let run = run_in(
        dir.path(),
        &["probe", "path.reward", "--rows", "rows.jsonl"],
        None,
    );
    run.expect_code(0);
    assert_contains(
        &run.stdout(),
        "no attacks: the golds in column `solution` are structured",
    );
    assert_contains(&run.stdout(), "one-end-anchor");
    let run = run_in(
        dir.path(),
        &["probe", "path.reward", "--rows", "rows.jsonl", "--json"],
        None,
    );
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout()).expect("one JSON report");
    assert_eq!(
        (report["attacks"].as_u64(), report["format"].as_str()),
        (Some(0), Some("none"))
    );
    assert_contains(report["skipped"].as_str().unwrap(), "structured");
    // Rows whose golds are answers but too few to confirm a hit are still an error.
    dir.write(
        "one.reward",
        "input { completion: text, solution: text }\nscore = if completion == solution then 1.0 else 0.0\n",
    );
    dir.write("one.jsonl", r#"{"solution": "7", "completion": "7"}"#);
    run_in(
        dir.path(),
        &["probe", "one.reward", "--rows", "one.jsonl"],
        None,
    )
    .expect_code(1);
}

#[test]
fn probe_finds_the_holes_of_deliberately_broken_rewards_with_a_minimal_completion() {
    let dir = TempDir::new("probe");
    let header = "use std::text::{extract_tag}\nuse std::math::{math_equal}\n\
                  input { completion: text, solution: text }\n\
                  let block = extract_tag(completion, \"answer\") ?? \"\"\n";
    let specs = [
        // Accuracy by containment: any answer block that mentions the gold pays.
        (
            "substring",
            "rule accuracy = contains(block, trim(solution))\nscore = accuracy\n",
        ),
        // Accuracy read from the whole completion, reasoning included.
        (
            "whole",
            "rule accuracy = contains(completion, trim(solution))\nscore = accuracy\n",
        ),
        // A format weight that outweighs correctness.
        (
            "weights",
            "rule format = completion ~ /(?s)^<think>.*<\\/think>\\s*<answer>.*<\\/answer>$/\n\
                     rule accuracy = math_equal(block, solution)\nscore = 2 * format + accuracy\n",
        ),
        // Sound: exactly one answer block (both ends anchored), compared as math, nothing
        // for format alone.
        (
            "sound",
            "rule format = completion ~ /^<think>\\n.*?\\n<\\/think>\\n<answer>\\n[^<]*\\n<\\/answer>$/s\n\
             rule accuracy = format and math_equal(block, solution)\nscore = accuracy\n",
        ),
    ];
    for (name, body) in specs {
        dir.write(&format!("{name}.reward"), format!("{header}{body}"));
    }
    let probe = |name: &str| -> Value {
        let run = run_in(
            dir.path(),
            &["probe", &format!("{name}.reward"), "--json"],
            None,
        );
        run.expect_code(0);
        serde_json::from_str(&run.stdout()).expect("one JSON report")
    };
    let attacks = |report: &Value, severe: bool| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severe"] == severe)
            .map(|f| {
                format!(
                    "{}: {}",
                    f["family"].as_str().unwrap(),
                    f["attack"].as_str().unwrap()
                )
            })
            .collect()
    };

    let substring = probe("substring");
    assert_eq!(substring["format"], "reasoning and answer tags");
    let found = attacks(&substring, true);
    for expected in [
        "shotgun: a list of candidates",
        "hedging: gold or a wrong answer",
        "near miss: gold twice",
        "near miss: gold with a digit appended",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} not in {found:?}"
        );
    }
    // Each finding holds the completion that shows it, confirmed on both made-up golds.
    let shotgun = substring["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["attack"] == "a list of candidates")
        .unwrap();
    assert_eq!(
        (shotgun["hits"].as_u64(), shotgun["rows"].as_u64()),
        (Some(2), Some(2))
    );
    assert_contains(
        shotgun["completion"].as_str().unwrap(),
        "<answer>\n39, 40, 41, 42, 43, 44, 45\n</answer>",
    );
    assert_eq!(shotgun["score"], 1.0);

    let whole = probe("whole");
    assert!(
        attacks(&whole, true).contains(&"contradiction: gold only in the reasoning".to_string()),
        "{whole}"
    );

    let weights = probe("weights");
    let format_only = weights["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["attack"] == "wrong answer in the format")
        .unwrap_or_else(|| panic!("{weights}"));
    assert_eq!(
        (
            format_only["score"].as_f64(),
            format_only["reference"].as_f64()
        ),
        (Some(2.0), Some(3.0))
    );
    assert_eq!(format_only["terms"], json!(["format"]));

    let sound = probe("sound");
    assert_eq!(sound["findings"], json!([]), "{sound}");
    assert_eq!(sound["static"], json!([]), "{sound}");
    // The spec's text, beside the attacks: containment of the gold, at its place.
    let of_kind = |report: &Value, kind: &str| -> Value {
        report["static"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} in {report}"))
    };
    let containment = of_kind(&substring, "containment");
    assert_eq!(
        (containment["line"].as_u64(), containment["column"].as_u64()),
        (Some(5), Some(17))
    );
    assert_eq!(containment["text"], "contains(block, trim(solution))");
    // The ungated `extract_tag` takes the first of several answer blocks.
    assert_eq!(
        of_kind(&substring, "several-answer-blocks")["text"],
        "extract_tag(completion, \"answer\")"
    );
    of_kind(&whole, "containment");
    assert_eq!(
        of_kind(&whole, "whole-completion-accuracy")["text"],
        "contains(completion, trim(solution))"
    );
    assert_eq!(
        of_kind(&weights, "max-without-correctness")["text"],
        "score = 2 * format + accuracy"
    );
    // A format regex whose `.*` stops at newlines and whose end is free.
    dir.write(
        "regex.reward",
        format!("{header}rule format = completion ~ /^<think>.*<\\/think>\\s*<answer>.*<\\/answer>/\nscore = format\n"),
    );
    let regex = probe("regex");
    let kinds: Vec<&str> = regex["static"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["dot-without-s", "one-end-anchor"], "{regex}");

    // Text for people, and --fail-on for CI.
    let run = run_in(
        dir.path(),
        &["probe", "substring.reward", "--fail-on", "severe"],
        None,
    );
    run.expect_code(1);
    assert_contains(
        &run.stdout(),
        "SEVERE: these score as much as a correct answer or more",
    );
    run_in(
        dir.path(),
        &["probe", "sound.reward", "--fail-on", "any"],
        None,
    )
    .expect_code(0);
    // Real rows: golds come from the rows' solution column (their \boxed{} answer).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = run_in(
        &root,
        &[
            "probe",
            "examples/open_r1_grpo.reward",
            "--rows",
            "examples/open_r1_grpo.jsonl",
            "--json",
        ],
        None,
    );
    run.expect_code(0);
    let open_r1: Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(open_r1["rows"], 8);
    assert_eq!(attacks(&open_r1, true), ["hedging: several boxed answers"]);
    // The recipe's published format regex (open-r1 issue #616): its lazy `.*?` runs over a
    // second `</answer>`, a second block, a `</answer>` inside the answer.
    assert_eq!(
        attacks(&open_r1, false),
        [
            "format only: wrong answer in the format",
            "malformed: a closing tag inside the answer",
            "malformed: a second answer block after the first",
            "malformed: duplicated closing tag",
        ]
    );
}

#[test]
fn probe_finds_a_format_regex_that_accepts_a_correct_answer_in_a_broken_shell() {
    let dir = TempDir::new("probe-malformed");
    // Format and accuracy, 1 each; the two specs differ only in what the answer block may hold.
    let spec = |answer: &str| {
        format!(
            "use std::text::{{extract_tag}}\nuse std::math::{{math_equal}}\n\
             input {{ completion: text, solution: text }}\n\
             let block = extract_tag(completion, \"answer\") ?? \"\"\n\
             rule format = completion ~ /^<think>\\n.*?\\n<\\/think>\\n<answer>\\n{answer}\\n<\\/answer>$/s\n\
             rule accuracy = math_equal(block, solution)\nscore = format + accuracy\n"
        )
    };
    dir.write("lazy.reward", spec(".*?"));
    dir.write("tight.reward", spec("[^<]*"));
    let probe = |name: &str| -> Value {
        let run = run_in(dir.path(), &["probe", name, "--json"], None);
        run.expect_code(0);
        serde_json::from_str(&run.stdout()).expect("one JSON report")
    };
    let malformed = |report: &Value| -> Vec<Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["family"] == "malformed")
            .cloned()
            .collect()
    };
    let lazy = probe("lazy.reward");
    let found = malformed(&lazy);
    let names: Vec<&str> = found
        .iter()
        .map(|f| f["attack"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "a closing tag inside the answer",
            "a second answer block after the first",
            "duplicated closing tag",
        ],
        "{lazy}"
    );
    // Paid in full, by the format term, on both golds, yet not severe: the answer is right.
    let duplicated = &found[2];
    assert_eq!(
        duplicated["completion"],
        "<think>\nLet me work through it.\n</think>\n<answer>\n42\n</answer>\n</answer>"
    );
    assert_eq!(
        (
            duplicated["score"].as_f64(),
            duplicated["reference"].as_f64(),
            duplicated["hits"].as_u64(),
            duplicated["severe"].as_bool()
        ),
        (Some(2.0), Some(2.0), Some(2), Some(false))
    );
    assert_eq!(duplicated["terms"], json!(["format"]));
    // Everything else the two specs share is found in both; the broken shells only in one.
    let tight = probe("tight.reward");
    assert_eq!(malformed(&tight), Vec::<Value>::new(), "{tight}");
    let others = |report: &Value| -> Vec<Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["family"] != "malformed")
            .map(|f| f["attack"].clone())
            .collect()
    };
    assert_eq!(others(&lazy), others(&tight));
    // The text report says why these are not severe.
    let run = run_in(
        dir.path(),
        &["probe", "lazy.reward", "--fail-on", "severe"],
        None,
    );
    run.expect_code(0);
    assert_contains(
        &run.stdout(),
        "MALFORMED: a correct answer in a broken format is paid as if well-formed (not severe",
    );
    assert_contains(
        &run.stdout(),
        "- malformed: duplicated closing tag — accepted on 2/2 golds; gold \"42\": 2 vs correct 2 (paid by format)",
    );
}
