//! `reward build`: a spec compiled to a shared library, held to the reference interpreter as
//! strictly as the JIT is (tests/differential.rs).
//!
//! 1. Every example becomes a library that a C program and Python's ctypes load and call, with
//!    the same results as `reward score`.
//! 2. The hand-written edge cases of tests/differential.rs (NaN, infinities, signed zeros, empty
//!    and NaN aggregates, int overflow, `%` by zero, indexes, rubric criteria, optionals, text and
//!    regexes, comprehensions, user functions, records, the per-row budget) become libraries. For
//!    every row, `reward_breakdown_json` must print exactly the line of
//!    `reward score --engine interp` (an error record's `"line"` excepted: the library always
//!    says 1), and `reward_score_json` must return the interpreter's score bit for bit (NaN
//!    payloads included), with the status code that line implies and a `reward_last_error` that
//!    says its message. `reward_score_batch` over the same rows agrees. Text, list and record
//!    terms, which the breakdown does not show, are made visible as rules comparing them with
//!    the interpreter's values ([`expose_hidden_terms`]). A few more cases where a library could
//!    part from the interpreter: int, bool and optional scores, the order in which failing terms
//!    are reported, values kept across loop iterations, constants, names needing escapes, and two
//!    libraries in one process.
//! 3. The `given` inputs of every example's tests (through the example's library of part 1), and
//!    of a spec whose tests set params (a library per setting, built with `--param`), against
//!    `Spec::score_line` with the interpreter.
//! 4. Hostile calls (NULL pointers, zero lengths, invalid UTF-8, a 10 MB line, deeply nested
//!    JSON, short buffers, 8 threads at once) never crash the host, give the same answers and
//!    keep no memory.
//!
//! Libraries are built with the debug runtime; each test builds one library per spec (edge
//! cases are combined into specs with many rows) in its own scratch directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use reward::internals::scoring::{compile_file, compile_source, value_json, Spec};
use reward::internals::testing::param_overrides;
use reward_runtime::decode::decode_row;
use reward_runtime::{Ty, Value};

const REWARD: &str = env!("CARGO_BIN_EXE_reward");

#[path = "common/edge_specs.rs"]
mod edge_specs;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The runtime's static library is not produced by `cargo test` (the runtime is only a
/// dependency there), so build it once per test run (reusing the workspace's compiled
/// dependencies). It must come from the same sources as the `reward` binary: nothing checks
/// that they match, and compiled code calls the builtins by their index in the runtime's table,
/// so editing the runtime while these tests run shows up as disagreements.
fn runtime_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace().join("target"), PathBuf::from);
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "reward-runtime", "--target-dir"])
            .arg(&target)
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the runtime static library failed"
        );
        let lib = target.join("debug").join("libreward_runtime.a");
        assert!(lib.exists(), "{} missing", lib.display());
        lib
    })
}

/// A scratch directory, removed when the test ends (also when it fails: the failure messages
/// carry the spec, the rows and both results).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("reward-so-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn require_cc() {
    if Command::new("cc").arg("--version").output().is_err() {
        panic!("a C compiler (cc) is needed for this test");
    }
}

/// `reward build SPEC -o DIR/libNAME.so --runtime … [--param k=v]…`; checks the header is beside
/// the library.
fn build_library(dir: &Path, name: &str, spec: &Path, params: &[(String, String)]) -> PathBuf {
    let lib = dir.join(format!("lib{name}.so"));
    let mut cmd = Command::new(REWARD);
    cmd.arg("build")
        .arg(spec)
        .arg("-o")
        .arg(&lib)
        .arg("--runtime")
        .arg(runtime_library());
    for (k, v) in params {
        cmd.arg("--param").arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("the reward binary runs");
    assert!(
        out.status.success(),
        "reward build {name} (params {params:?}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join(format!("lib{name}.h")).exists(),
        "header beside the library"
    );
    lib
}

/// Compiles a C program against `libNAME.so` (its generated header is `HEADER` in `source`).
fn compile_driver(dir: &Path, name: &str, driver: &str, source: &str) -> PathBuf {
    let c_file = dir.join(format!("{driver}_{name}.c"));
    std::fs::write(
        &c_file,
        source.replace("HEADER", &format!("\"lib{name}.h\"")),
    )
    .unwrap();
    let exe = dir.join(format!("{driver}_{name}"));
    let cc = Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Werror", "-pthread", "-o"])
        .arg(&exe)
        .arg(&c_file)
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-L{}", dir.display()))
        .arg(format!("-l{name}"))
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "cc {driver}_{name}.c: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    exe
}

// ================================================================ 1. examples, C and ctypes

const C_DRIVER: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include HEADER

/* Prints, for each line of the input, the breakdown record; then checks the error paths. */
int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    char *buf = malloc(cap);
    while (fgets(line, (int)cap, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        double score = 0;
        int status = reward_score_json(line, n, &score);
        int64_t k = reward_breakdown_json(line, n, buf, cap);
        if (k < 0 || (size_t)k >= cap) return 3;
        printf("%s\n", buf);
        if (status != 0 && status != 3) { fprintf(stderr, "status %d: %s\n", status, reward_last_error()); return 4; }
    }
    /* Malformed input: an error code and a message, never a crash. */
    if (reward_score_json("{\"nope\":", 8, NULL) != 1) return 5;
    if (strlen(reward_last_error()) == 0) return 6;
    if (reward_score_json("\xff", 1, NULL) != 1) return 7;
    if (reward_score_json(NULL, 0, NULL) != 1) return 8;
    return 0;
}
"#;

#[test]
fn examples_as_shared_libraries_match_the_cli() {
    require_cc();
    let scratch = Scratch::new("examples");
    let dir = scratch.path();
    let mut checked = 0;
    let mut test_inputs = 0;
    for entry in std::fs::read_dir(workspace().join("examples")).unwrap() {
        let spec = entry.unwrap().path();
        if spec.extension().is_none_or(|e| e != "reward") {
            continue;
        }
        // `reward build` refuses a `group by` spec: its group terms need every row of a group,
        // and the C API scores one rollout per call.
        let source = std::fs::read_to_string(&spec).unwrap();
        if source
            .lines()
            .any(|l| l.trim_start().starts_with("group by "))
        {
            continue;
        }
        let name = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let rollouts = spec.with_extension("jsonl");
        let lib = build_library(dir, &name, &spec, &[]);

        // Only the C API is exported.
        let nm = Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(&lib)
            .output();
        if let Ok(nm) = nm {
            let text = String::from_utf8_lossy(&nm.stdout);
            for sym in text.lines().filter_map(|l| l.split_whitespace().nth(2)) {
                assert!(
                    sym.starts_with("reward_"),
                    "{name}: unexpected export {sym}"
                );
            }
        }

        let exe = compile_driver(dir, &name, "drive", C_DRIVER);
        let ran = Command::new(&exe).arg(&rollouts).output().unwrap();
        assert!(
            ran.status.success(),
            "{name}: C driver exited with {:?}: {}",
            ran.status.code(),
            String::from_utf8_lossy(&ran.stderr)
        );
        let cli = Command::new(REWARD)
            .arg("score")
            .arg(&spec)
            .arg(&rollouts)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout),
            String::from_utf8_lossy(&cli.stdout),
            "{name}: library and CLI disagree"
        );

        // Python's ctypes loads the same library and gets the same scores, one by one and in a batch.
        let py = format!(
            r#"
import ctypes, json, math, sys
lib = ctypes.CDLL({lib:?})
lib.reward_score_json.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_double)]
lib.reward_score_json.restype = ctypes.c_int
lib.reward_score_batch.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_double), ctypes.c_size_t]
lib.reward_score_batch.restype = ctypes.c_int64
data = open({rollouts:?}, "rb").read()
expected = [json.loads(l).get("score") for l in sys.stdin.read().splitlines()]
lines = data.splitlines()
got = []
for line in lines:
    s = ctypes.c_double()
    status = lib.reward_score_json(line, len(line), ctypes.byref(s))
    got.append(None if status == 3 else s.value)
arr = (ctypes.c_double * len(lines))()
n = lib.reward_score_batch(data, len(data), arr, len(lines))
assert n == len(lines), (n, len(lines))
for e, g, b in zip(expected, got, arr):
    if e is None:
        assert g is None and math.isnan(b), (e, g, b)
    else:
        assert g == e and b == e, (e, g, b)
print("ok", len(lines))
"#,
            lib = lib.display().to_string(),
            rollouts = rollouts.display().to_string(),
        );
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(&py)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&cli.stdout).unwrap();
        let py_out = child.wait_with_output().unwrap();
        assert!(
            py_out.status.success(),
            "{name}: ctypes check failed: {}",
            String::from_utf8_lossy(&py_out.stderr)
        );

        // The inputs of the example's own tests, through the same library.
        test_inputs += check_test_inputs(dir, &spec, Some(&name));
        checked += 1;
        let _ = std::fs::remove_file(&lib);
    }
    assert!(
        checked >= 6,
        "expected the bundled examples, found {checked}"
    );
    assert!(test_inputs > 50, "only {test_inputs} test inputs compared");
}

// ================================================================ the library against a reference

/// Prints, for each line of argv[1] (any length, NUL bytes included), a header
/// `status bits error_len record_len` (the status of `reward_score_json`, the bits of the double
/// it wrote, the length of `reward_last_error()` and of the breakdown record), then the error
/// and the record, then a newline. The record is asked for as a caller that does not know its
/// size would: into a 256-byte buffer, and when that is too small (the length returned is 256 or
/// more), again into a buffer of exactly that length + 1. Last, `batch N` and the bits of the N
/// scores of `reward_score_batch` over the whole file.
const DIFF_DRIVER: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include HEADER

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    size_t rows = 0;
    while ((got = getline(&line, &cap, f)) != -1) {
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        rows++;
        double score = 0.0;
        int status = reward_score_json(line, n, &score);
        const char *err = reward_last_error();
        if (!err) { fprintf(stderr, "row %zu: reward_last_error() is NULL\n", rows); return 3; }
        size_t err_len = strlen(err);
        uint64_t bits;
        memcpy(&bits, &score, sizeof bits);
        char *rec = malloc(256);
        int64_t need = reward_breakdown_json(line, n, rec, 256);
        if (need < 0) { fprintf(stderr, "row %zu: reward_breakdown_json returned %lld\n", rows, (long long)need); return 4; }
        int64_t again = need;
        if (need >= 256) {
            free(rec);
            rec = malloc((size_t)need + 1);
            memset(rec, 'Z', (size_t)need + 1);
            again = reward_breakdown_json(line, n, rec, (size_t)need + 1);
        }
        if (again != need || rec[need] != '\0' || strlen(rec) != (size_t)need) {
            fprintf(stderr, "row %zu: %lld bytes announced, then %lld written\n", rows, (long long)need, (long long)again);
            return 5;
        }
        printf("%d %016llx %zu %lld\n", status, (unsigned long long)bits, err_len, (long long)need);
        fwrite(err, 1, err_len, stdout);
        fwrite(rec, 1, (size_t)need, stdout);
        putchar('\n');
        free(rec);
    }
    if (fseek(f, 0, SEEK_END) != 0) return 6;
    long size = ftell(f);
    rewind(f);
    char *all = malloc((size_t)size + 1);
    if (fread(all, 1, (size_t)size, f) != (size_t)size) return 7;
    double *scores = malloc(sizeof(double) * (rows + 1));
    int64_t k = reward_score_batch(all, (size_t)size, scores, rows);
    printf("batch %lld\n", (long long)k);
    for (int64_t i = 0; i < k && (size_t)i < rows; i++) {
        uint64_t bits;
        memcpy(&bits, &scores[i], sizeof bits);
        printf("%016llx\n", (unsigned long long)bits);
    }
    return 0;
}
"#;

/// What the library said about one row.
#[derive(Debug)]
struct LibRow {
    status: i32,
    bits: u64,
    last_error: String,
    record: String,
}

/// Parses the output of [`DIFF_DRIVER`]: the rows, and the batch scores' bits.
fn parse_diff_output(out: &[u8]) -> (Vec<LibRow>, Vec<u64>) {
    fn take_line<'a>(out: &'a [u8], pos: &mut usize) -> &'a str {
        let end = out[*pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(out.len(), |i| *pos + i);
        let line = std::str::from_utf8(&out[*pos..end]).expect("header lines are ASCII");
        *pos = (end + 1).min(out.len());
        line
    }
    let mut rows = Vec::new();
    let mut pos = 0;
    loop {
        let header = take_line(out, &mut pos);
        if let Some(n) = header.strip_prefix("batch ") {
            let n: i64 = n.parse().expect("batch count");
            let batch = (0..n)
                .map(|_| u64::from_str_radix(take_line(out, &mut pos), 16).expect("batch bits"))
                .collect();
            return (rows, batch);
        }
        let fields: Vec<&str> = header.split(' ').collect();
        assert_eq!(fields.len(), 4, "bad driver header {header:?}");
        let err_len: usize = fields[2].parse().unwrap();
        let rec_len: usize = fields[3].parse().unwrap();
        let last_error = String::from_utf8_lossy(&out[pos..pos + err_len]).into_owned();
        pos += err_len;
        let record = String::from_utf8_lossy(&out[pos..pos + rec_len]).into_owned();
        pos += rec_len;
        assert_eq!(out.get(pos), Some(&b'\n'), "driver output framing");
        pos += 1;
        rows.push(LibRow {
            status: fields[0].parse().unwrap(),
            bits: u64::from_str_radix(fields[1], 16).unwrap(),
            last_error,
            record,
        });
    }
}

/// Runs [`DIFF_DRIVER`] (compiled for `libNAME.so`) on a JSON Lines file.
fn run_diff_driver(exe: &Path, rows: &Path) -> (Vec<LibRow>, Vec<u64>) {
    let out = Command::new(exe).arg(rows).output().unwrap();
    assert!(
        out.status.success(),
        "{}: exited with {:?} (signal {:?}): {}",
        exe.display(),
        out.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_diff_output(&out.stdout)
}

/// The reference's record with its error line set to 1, as the library writes it (it scores
/// one rollout and does not know its line). Only the `"line"` field changes: inside JSON strings
/// a `"` is always escaped, so the text `"line":N` cannot occur there.
fn with_line_one(record: &str, line: usize) -> String {
    let prefix = format!(r#"{{"error":{{"line":{line},"#);
    match record.strip_prefix(&prefix) {
        Some(rest) => format!(r#"{{"error":{{"line":1,{rest}"#),
        None => record.to_string(),
    }
}

/// What a reference record implies for `reward_score_json`.
#[derive(Debug)]
enum Expected {
    /// Status 0 with this score (NaN: compared with the interpreter's bits).
    Score(f64),
    /// Status 3: the score is none (NaN written).
    NoScore,
    /// Status 1 (the row does not decode) with this `reward_last_error()`.
    BadInput(String),
    /// Status 2 (a row error) with this `reward_last_error()`.
    Failed(String),
}

fn expected_from_record(record: &str) -> Result<Expected, String> {
    if record.starts_with(r#"{"error":"#) {
        let v: serde_json::Value =
            serde_json::from_str(record).map_err(|e| format!("record is not JSON: {e}"))?;
        let e = &v["error"];
        let message = e["message"].as_str().ok_or("no message")?.to_string();
        return Ok(match e.get("at").and_then(|a| a.as_str()) {
            // A row error: the library names the term and the place.
            Some(at) => Expected::Failed(format!(
                "{message} (while computing `{}`, at {at})",
                e["term"].as_str().unwrap_or("?")
            )),
            None => Expected::BadInput(match e.get("field").and_then(|f| f.as_str()) {
                Some(field) => format!("field `{field}`: {message}"),
                None => message,
            }),
        });
    }
    // `{"score":X,"terms":{…}}`: X as printed (parsed by Rust's correctly rounded parser, not
    // serde_json's default one).
    let rest = record
        .strip_prefix(r#"{"score":"#)
        .ok_or("neither a score nor an error record")?;
    let end = rest
        .find(r#","terms":"#)
        .ok_or("no terms after the score")?;
    let text = &rest[..end];
    Ok(match text {
        "null" => Expected::NoScore,
        "true" => Expected::Score(1.0),
        "false" => Expected::Score(0.0),
        r#""NaN""# => Expected::Score(f64::NAN),
        r#""inf""# => Expected::Score(f64::INFINITY),
        r#""-inf""# => Expected::Score(f64::NEG_INFINITY),
        number => Expected::Score(
            number
                .parse::<f64>()
                .map_err(|e| format!("score {number:?}: {e}"))?,
        ),
    })
}

/// The interpreter's score for a row, as `reward_score_json` would return it (NaN for none).
fn interpreter_score(spec: &Spec, line: &str) -> Option<f64> {
    let row = decode_row(line, spec.input_type()).ok()?;
    let values = spec.interpreter().eval_row(&row).ok()?;
    let id = spec.program.score?;
    Some(match &values[id] {
        Value::None => f64::NAN,
        v => v.as_f64(),
    })
}

fn show_bits(bits: u64) -> String {
    let x = f64::from_bits(bits);
    if x.is_nan() {
        format!("NaN[0x{bits:016x}]")
    } else {
        format!("{x:?} [0x{bits:016x}]")
    }
}

/// Everything that differs between the library's answers for one row and the reference record
/// (already with line 1). `interp` computes the interpreter's score (for NaN bits).
fn row_problems(
    reference: &str,
    lib: &LibRow,
    batch: Option<u64>,
    interp: impl FnOnce() -> Option<f64>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if lib.record != reference {
        problems.push(format!(
            "reward_breakdown_json:\n        library:     {}\n        interpreter: {}",
            lib.record, reference
        ));
    }
    let expected = match expected_from_record(reference) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("cannot read the reference record: {e}"));
            return problems;
        }
    };
    let got = f64::from_bits(lib.bits);
    let (status, message) = match &expected {
        Expected::Score(x) => {
            let want = if x.is_nan() {
                interp().map(f64::to_bits)
            } else {
                Some(x.to_bits())
            };
            if want != Some(lib.bits) {
                problems.push(format!(
                    "reward_score_json score: library {} / interpreter {}",
                    show_bits(lib.bits),
                    want.map_or("(no score)".into(), show_bits)
                ));
            }
            (0, None)
        }
        Expected::NoScore => {
            if !got.is_nan() {
                problems.push(format!(
                    "reward_score_json wrote {} for a none score (NaN expected)",
                    show_bits(lib.bits)
                ));
            }
            (3, Some("the score is none for this rollout".to_string()))
        }
        Expected::BadInput(m) => (1, Some(m.clone())),
        Expected::Failed(m) => (2, Some(m.clone())),
    };
    if lib.status != status {
        problems.push(format!(
            "reward_score_json status: library {} / expected {status} (the record is {})",
            lib.status,
            &reference[..reference.len().min(120)]
        ));
    }
    if let Some(m) = message {
        if lib.last_error != m {
            problems.push(format!(
                "reward_last_error:\n        library:  {:?}\n        expected: {m:?}",
                lib.last_error
            ));
        }
    }
    match batch {
        None => problems.push("reward_score_batch gave no score for this line".into()),
        Some(b) => {
            let ok = if status == 0 {
                b == lib.bits
            } else {
                f64::from_bits(b).is_nan()
            };
            if !ok {
                problems.push(format!(
                    "reward_score_batch: {} where reward_score_json gave status {} and {}",
                    show_bits(b),
                    lib.status,
                    show_bits(lib.bits)
                ));
            }
        }
    }
    problems
}

/// A row for a failure message (long rows cut).
fn show_row(row: &str) -> String {
    if row.len() <= 300 {
        row.to_string()
    } else {
        let mut cut = 200;
        while !row.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} bytes)", &row[..cut], row.len())
    }
}

/// How the rows of a spec came out (to check that the edge cases were reached).
#[derive(Debug, Default)]
struct Tally {
    rows: usize,
    scores: usize,
    nan_scores: usize,
    none_scores: usize,
    row_errors: usize,
    bad_inputs: usize,
    /// Terms made visible by [`expose_hidden_terms`].
    exposed: usize,
}

impl Tally {
    fn add(&mut self, status: i32, bits: u64) {
        self.rows += 1;
        match status {
            0 if f64::from_bits(bits).is_nan() => self.nan_scores += 1,
            0 => self.scores += 1,
            1 => self.bad_inputs += 1,
            2 => self.row_errors += 1,
            _ => self.none_scores += 1,
        }
    }
}

/// Rows that do not decode, added to every spec: the library must reject them with the
/// interpreter's message.
const BAD_ROWS: &[&str] = &[
    r#"[1, 2]"#,
    r#"{"x": "#,
    r#"{"unknown_column": 1} trailing"#,
];

/// Builds `src` as `libNAME.so`, runs every row (and [`BAD_ROWS`]) through it and through
/// `reward score --engine interp`, and panics with a full report if they disagree anywhere.
fn check_case(dir: &Path, name: &str, src: &str, rows: &[String]) -> Tally {
    let spec_path = dir.join(format!("{name}.reward"));
    std::fs::write(&spec_path, src).unwrap();
    let rows: Vec<&str> = rows
        .iter()
        .map(String::as_str)
        .chain(BAD_ROWS.iter().copied())
        .collect();
    assert!(
        rows.iter()
            .all(|r| !r.contains('\n') && !r.trim().is_empty()),
        "{name}: one non-blank row per line"
    );
    let rows_path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&rows_path, rows.join("\n") + "\n").unwrap();
    let spec = compile_file(&spec_path, &[])
        .unwrap_or_else(|d| panic!("edge case {name} does not compile:\n{d}\n--- source:\n{src}"));

    // The interpreter scores the rows while the library is built and run.
    let cli_path = dir.join(format!("{name}.interp.jsonl"));
    let cli = Command::new(REWARD)
        .arg("score")
        .arg(&spec_path)
        .arg(&rows_path)
        .args(["--engine", "interp", "--threads", "1", "-o"])
        .arg(&cli_path)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the reward binary runs");
    let lib = build_library(dir, name, &spec_path, &[]);
    let exe = compile_driver(dir, name, "diff", DIFF_DRIVER);
    let (lib_rows, batch) = run_diff_driver(&exe, &rows_path);
    let cli = cli.wait_with_output().unwrap();
    assert!(
        matches!(cli.status.code(), Some(0 | 2)),
        "{name}: reward score exited with {:?}: {}",
        cli.status.code(),
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli_out = std::fs::read_to_string(&cli_path).expect("the CLI writes UTF-8");
    let cli_lines: Vec<&str> = cli_out.lines().collect();

    assert_eq!(cli_lines.len(), rows.len(), "{name}: CLI output lines");
    assert_eq!(lib_rows.len(), rows.len(), "{name}: library output rows");
    assert_eq!(
        batch.len(),
        rows.len(),
        "{name}: reward_score_batch line count"
    );

    let mut tally = Tally::default();
    let mut report = String::new();
    let mut failing = 0;
    for (i, row) in rows.iter().enumerate() {
        let reference = with_line_one(cli_lines[i], i + 1);
        let lib = &lib_rows[i];
        tally.add(lib.status, lib.bits);
        let problems = row_problems(&reference, lib, batch.get(i).copied(), || {
            interpreter_score(&spec, row)
        });
        if !problems.is_empty() {
            failing += 1;
            if failing <= 20 {
                let _ = writeln!(report, "--- row {} {}", i + 1, show_row(row));
                for p in problems {
                    let _ = writeln!(report, "    {p}");
                }
            }
        }
    }
    assert!(lib.exists());
    assert!(
        failing == 0,
        "\n==== the shared library and the interpreter disagree on {name} ({failing} of {} rows)\n{report}--- spec ({}):\n{src}",
        rows.len(),
        spec_path.display()
    );
    tally
}

/// The breakdown shows numbers and bools only, so a text, list or record term computed wrongly
/// by the library could go unseen. This makes every such term visible: for term `T`, an optional
/// input column `expect_T` of its type and a rule `same_T = T == expect_T`, and in each row the
/// interpreter's value of `T` (computed in-process on the original spec) in that column. The
/// library's `same_T` must then be true like the interpreter's. (Values holding a NaN or an
/// infinity cannot be written in JSON rows: their column is left out, and `==` does not tell
/// -0.0 from 0.0 inside lists and records.) Returns the new spec, rows and number of terms made
/// visible.
fn expose_hidden_terms(
    dir: &Path,
    name: &str,
    src: &str,
    rows: &[String],
) -> (String, Vec<String>, usize) {
    let spec = compile_source(name, src, dir, &[])
        .unwrap_or_else(|d| panic!("edge case {name} does not compile:\n{d}\n--- source:\n{src}"));
    let hidden: Vec<usize> = spec
        .program
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.in_breakdown && !matches!(t.ty.strip_optional(), Ty::Regex | Ty::Error))
        .map(|(id, _)| id)
        .collect();
    if hidden.is_empty() {
        return (src.to_string(), rows.to_vec(), 0);
    }
    let terms = &spec.program.terms;
    let mut columns = String::new();
    let mut rules =
        String::from("\n// ---- added by tests/shared_library.rs: hidden terms made visible\n");
    for &id in &hidden {
        let t = &terms[id];
        let _ = write!(
            columns,
            "\n    expect_{}: {}?,",
            t.name,
            t.ty.strip_optional()
        );
        let _ = writeln!(rules, "rule same_{0} = {0} == expect_{0}", t.name);
    }
    let at = src.find("input {").expect("an input block") + "input {".len();
    let new_src = format!("{}{columns}{}{rules}", &src[..at], &src[at..]);

    fn finite(v: &Value) -> bool {
        match v {
            Value::Float(x) => x.is_finite(),
            Value::List(items) | Value::Record(items) => items.iter().all(finite),
            _ => true,
        }
    }
    let interp = spec.interpreter();
    let new_rows = rows
        .iter()
        .map(|row| {
            let Ok(input) = decode_row(row, spec.input_type()) else {
                return row.clone();
            };
            let Ok(values) = interp.eval_row(&input) else {
                return row.clone();
            };
            let fields: Vec<String> = hidden
                .iter()
                .filter(|&&id| finite(&values[id]))
                .map(|&id| {
                    format!(
                        "\"expect_{}\": {}",
                        terms[id].name,
                        value_json(&values[id], &terms[id].ty)
                    )
                })
                .collect();
            let rest = row.strip_prefix('{').expect("an object row");
            let sep = if rest.trim_start().starts_with('}') {
                ""
            } else {
                ", "
            };
            format!("{{{}{sep}{rest}", fields.join(", "))
        })
        .collect();
    (new_src, new_rows, hidden.len())
}

/// [`check_case`] on the spec with its hidden terms made visible ([`expose_hidden_terms`]).
fn check_case_exposed(dir: &Path, name: &str, src: &str, rows: &[String]) -> Tally {
    let (src, rows, exposed) = expose_hidden_terms(dir, name, src, rows);
    let mut tally = check_case(dir, name, &src, &rows);
    tally.exposed = exposed;
    tally
}

/// Rows with `"pick": k` added for k in 0..picks (the specs' score is `[…][pick]`, so that
/// every interesting value goes through `reward_score_json`'s double, not only through JSON).
fn with_picks(rows: &[String], picks: usize) -> Vec<String> {
    rows.iter()
        .flat_map(|r| {
            let body = r.strip_prefix('{').expect("an object row").to_string();
            (0..picks).map(move |k| format!(r#"{{"pick": {k}, {body}"#))
        })
        .collect()
}

fn strings(rows: &[&str]) -> Vec<String> {
    rows.iter().map(|r| r.to_string()).collect()
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

// ================================================================ 2. edge cases (tests/differential.rs)

const I64_MAX: &str = "9223372036854775807";
const I64_MIN: &str = "-9223372036854775808";

/// The rows of the float cases (tests/differential.rs `float_rows`): `big` overflows to ±inf when
/// multiplied by 10, and NaN comes from `inf - inf` and `0 / 0` at run time.
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

/// tests/differential.rs `min_max_clip_propagate_nan_bit_for_bit` and
/// `floats_infinities_signed_zeros_and_nan_arithmetic` in one spec, with every float term
/// selectable as the score.
const FLOATS: &str = r#"
input { big: float, y: float, z: float, pick: int }
let inf = big * 10.0
let ninf = -big * 10.0
let nan = inf - inf
let nan2 = z / z
let nz = -z
let min_nan_l = min(nan, y)
let min_nan_r = min(y, nan)
let max_nan_l = max(nan, y)
let max_nan_r = max(y, nan2)
let clip_nan = clip(nan, 0.0, 1.0)
let clip_nan_lo = clip(y, nan, 1.0)
let clip_nan_hi = clip(y, -1.0, nan)
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
score = [
    y, inf, ninf, nan, nan2, nz,
    min_nan_l, min_nan_r, max_nan_l, max_nan_r, clip_nan, clip_nan_lo, clip_nan_hi,
    min_inf, max_inf, min_zero_a, min_zero_b, max_zero_a, max_zero_b, min_y, max_y,
    clip_inf, clip_ninf, clip_nz, clip_y, clip_inverted, clip_int_bounds,
    round_y, floor_y, ceil_y, trunc_y, round_nan, floor_inf,
    abs_nz, abs_y, abs_ninf, abs_nan, neg_nan,
    sqrt_y, sqrt_nz, exp_y, log_y, log_z, log2_y, log10_y, sin_y, cos_inf, tanh_y,
    sig_y, sig_ninf, pow_y, pow_nan0, pow_inf, pow_z, div_z, div_inf,
    rem_z, rem_pos, rem_neg, rem_inf, rem_ninf, rem_of_inf, rem_zero, rem_nzero,
    sum_mixed, scaled, tiny
][pick]
"#;

/// Float terms selectable in [`FLOATS`].
const FLOAT_PICKS: usize = 67;

#[test]
fn floats_nan_infinities_and_signed_zeros_bit_for_bit() {
    require_cc();
    let scratch = Scratch::new("floats");
    // Rows where `int(y)` fails are row errors whatever the pick: one pick is enough there.
    let rows: Vec<String> = with_picks(&float_rows(), FLOAT_PICKS)
        .into_iter()
        .filter(|r| {
            !(r.contains(r#""y": 1e300"#)
                || r.contains(r#""y": -1e300"#)
                || r.contains(r#""y": 1.79"#))
                || r.starts_with(r#"{"pick": 0,"#)
        })
        .collect();
    let t = check_case_exposed(scratch.path(), "floats", FLOATS, &rows);
    assert!(t.nan_scores > 100, "NaN scores must be reached: {t:?}");
    assert!(t.row_errors >= 6, "int(y) out of range: {t:?}");
    assert!(t.scores > 1000, "{t:?}");
}

/// tests/differential.rs `aggregates_over_empty_and_nan_lists` and
/// `min_max_aggregates_over_nan_bit_for_bit`, with the float results selectable as the score.
const AGGREGATES: &str = r#"
input { xs: list[float], ns: list[int], ts: list[text], pick: int }
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
let min_nan = min(for x in xs: x / x * x)
let max_nan = max(for x in xs: x / x * x)
let max_first_nan = max(for x in xs: if x == 0.0 then x / x else x)
score = [
    mean_x, min_x, max_x, mean_n, sum_x, prod_x, mean_or, mean_len, frac_long,
    mean_nan, sum_nan, prod_nan, filtered_min, min_nan, max_nan, max_first_nan
][pick]
"#;

#[test]
fn aggregates_over_empty_and_nan_lists_bit_for_bit() {
    require_cc();
    let scratch = Scratch::new("aggregates");
    let rows = strings(&[
        r#"{"xs": [], "ns": [], "ts": []}"#,
        r#"{"xs": [1.0, 0.0, -2.0], "ns": [3, -1, 3], "ts": ["b", "abc", "a"]}"#,
        r#"{"xs": [0.0], "ns": [0], "ts": [""]}"#,
        r#"{"xs": [-0.0, 0.0], "ns": [-5, -5], "ts": ["é", "e", "z"]}"#,
        r#"{"xs": [0.0, -0.0], "ns": [9223372036854775807], "ts": ["ab", "ab"]}"#,
        r#"{"xs": [3.0, 3.0], "ns": [2, 7, 7, 1], "ts": ["日本", "😀", "Z"]}"#,
        r#"{"xs": [1e308, 1e308], "ns": [-9223372036854775808], "ts": ["a"]}"#,
        r#"{"xs": [-1e308, -1e308, 5e-324], "ns": [1, 2, 3, 4, 5], "ts": ["x", "y"]}"#,
        r#"{"xs": [-3.5, -0.5, 2.0, 0.0, 7.25], "ns": [], "ts": []}"#,
        r#"{"xs": [0.0, 5.0], "ns": [], "ts": []}"#,
        r#"{"xs": [5.0, 0.0], "ns": [], "ts": []}"#,
        r#"{"xs": [-0.0, 1.0], "ns": [], "ts": []}"#,
    ]);
    let t = check_case_exposed(
        scratch.path(),
        "aggregates",
        AGGREGATES,
        &with_picks(&rows, 16),
    );
    assert!(t.nan_scores > 20 && t.none_scores > 10, "{t:?}");

    // Aggregates inside aggregates (tests/differential.rs `nested_aggregates`).
    let nested = r#"
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
score = nested_mean
"#;
    let t = check_case_exposed(
        scratch.path(),
        "nested_aggregates",
        nested,
        &strings(&[
            r#"{"xs": [], "ns": [], "ts": []}"#,
            r#"{"xs": [3.0, 1.0, 2.0, 1.0], "ns": [1, -1, 2, 0, 3], "ts": ["aa", "b", "aa", "ccc"]}"#,
            r#"{"xs": [-0.0, 0.0, 1e308, -1e308], "ns": [5], "ts": ["😀"]}"#,
            r#"{"xs": [0.5], "ns": [3037000500, 3037000500], "ts": []}"#,
        ]),
    );
    assert_eq!((t.scores + t.nan_scores, t.row_errors), (3, 1), "{t:?}");
}

/// A spec with one group of input columns per operation (`{op}_a`, `{op}_b`, … of type `ty`),
/// and rows that set one operation's columns to the case's values and every other column to a
/// harmless value: each row's error (if any) comes from the operation it is about, as if each
/// operation had its own spec (tests/differential.rs builds one per operation).
struct Grouped<'a> {
    /// (operation, term definitions with `{}` for the column prefix, rows of column values)
    ops: Vec<(&'a str, String, Vec<Vec<String>>)>,
    columns: &'a [&'a str],
    ty: &'a str,
    harmless: &'a str,
}

impl Grouped<'_> {
    fn spec(&self) -> String {
        let mut src = String::from("input {\n");
        for (op, _, _) in &self.ops {
            for c in self.columns {
                let _ = writeln!(src, "    {op}_{c}: {},", self.ty);
            }
        }
        src.push_str("}\n");
        let mut scores = Vec::new();
        for (op, terms, _) in &self.ops {
            src.push_str(&terms.replace("{}", op));
            src.push('\n');
            scores.push(format!("float(after_{op})"));
        }
        let _ = writeln!(src, "score = {}", scores.join(" + "));
        src
    }

    fn rows(&self) -> Vec<String> {
        let mut rows = Vec::new();
        for (target, _, values) in &self.ops {
            for vals in values {
                let mut fields = Vec::new();
                for (op, _, _) in &self.ops {
                    for (i, c) in self.columns.iter().enumerate() {
                        let v = if op == target {
                            vals[i].as_str()
                        } else {
                            self.harmless
                        };
                        fields.push(format!(r#""{op}_{c}": {v}"#));
                    }
                }
                rows.push(format!("{{{}}}", fields.join(", ")));
            }
        }
        rows
    }
}

fn pairs(rows: &[(&str, &str)]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|(a, b)| vec![a.to_string(), b.to_string()])
        .collect()
}

#[test]
fn int_overflow_modulo_by_zero_and_indexes_are_the_same_row_errors() {
    require_cc();
    let scratch = Scratch::new("ints");
    let dir = scratch.path();

    // tests/differential.rs `int_overflow_is_the_same_row_error`.
    let binary = |expr: &str| {
        format!(
            "let r_{{}} = {}\nlet after_{{}} = r_{{}} + 1",
            expr.replace('A', "{}_a").replace('B', "{}_b")
        )
    };
    let ints = Grouped {
        ops: vec![
            (
                "add",
                binary("A + B"),
                pairs(&[
                    (I64_MAX, "1"),
                    (I64_MIN, "-1"),
                    (I64_MAX, I64_MIN),
                    ("1", "2"),
                ]),
            ),
            (
                "sub",
                binary("A - B"),
                pairs(&[
                    (I64_MIN, "1"),
                    (I64_MAX, "-1"),
                    ("0", I64_MIN),
                    ("-1", I64_MIN),
                ]),
            ),
            (
                "mul",
                binary("A * B"),
                pairs(&[
                    (I64_MIN, "-1"),
                    (I64_MAX, "2"),
                    ("4294967296", "2147483648"),
                    ("-4294967296", "2147483648"),
                    ("-1", I64_MAX),
                    ("3037000500", "3037000500"),
                ]),
            ),
            (
                "neg",
                binary("-A + 0 * B"),
                pairs(&[(I64_MIN, "0"), (I64_MAX, "0"), ("0", "0")]),
            ),
            (
                "abs",
                binary("abs(A) + B"),
                pairs(&[(I64_MIN, "0"), (I64_MAX, "0"), ("-5", "1")]),
            ),
            (
                "nested",
                binary("(A + B) * (A - B)"),
                pairs(&[(I64_MAX, "1"), ("3037000500", "0"), ("5", "3")]),
            ),
            (
                "mmc",
                binary("min(A, B) + max(A, B) + clip(A, B, 10)"),
                pairs(&[(I64_MAX, "1"), (I64_MIN, "0"), ("3", "4")]),
            ),
        ],
        columns: &["a", "b"],
        ty: "int",
        harmless: "0",
    };
    let t = check_case_exposed(dir, "int_overflow", &ints.spec(), &ints.rows());
    assert!(t.row_errors >= 14 && t.scores >= 7, "{t:?}");

    // tests/differential.rs `sum_and_product_overflow_in_order`.
    let lists: Vec<Vec<String>> = [
        format!("[{I64_MAX}, 1]"),
        format!("[{I64_MAX}, 1, -1]"),
        format!("[{I64_MAX}, -1, 1]"),
        format!("[{I64_MIN}, -1]"),
        "[4294967296, 2147483648]".to_string(),
        "[-4294967296, 2147483648]".to_string(),
        "[4611686018427387904, 1]".to_string(),
        "[]".to_string(),
        "[0, 3037000500, 3037000500]".to_string(),
        "[3, -4, 5]".to_string(),
    ]
    .into_iter()
    .map(|l| vec![l])
    .collect();
    let folds = Grouped {
        ops: [
            ("sum", "sum({}_ns)"),
            ("product", "product({}_ns)"),
            ("body", "sum(for n in {}_ns: n * 2)"),
            ("filtered", "product(for n in {}_ns if n != 0: n)"),
            ("nested", "sum(for n in {}_ns: sum(for m in {}_ns: m))"),
            ("negated", "-sum({}_ns)"),
        ]
        .into_iter()
        .map(|(op, expr)| (op, format!("let after_{{}} = {expr}"), lists.clone()))
        .collect(),
        columns: &["ns"],
        ty: "list[int]",
        harmless: "[]",
    };
    let t = check_case_exposed(dir, "sum_product", &folds.spec(), &folds.rows());
    assert!(t.row_errors >= 15 && t.scores >= 30, "{t:?}");

    // tests/differential.rs `int_modulo_by_zero_and_python_signs`.
    let modulo = r#"
input { a: int, b: int, x: float, y: float }
let m = a % b
let mf = x % y
let mixed = a % y
score = mf
"#;
    let rows: Vec<String> = [
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
    ]
    .iter()
    .map(|(a, b)| format!(r#"{{"a": {a}, "b": {b}, "x": {a}.5, "y": {b}.0}}"#))
    .collect();
    let t = check_case_exposed(dir, "modulo", modulo, &rows);
    assert_eq!((t.scores, t.row_errors), (9, 2), "{t:?}");

    // tests/differential.rs `list_index_in_and_out_of_range`.
    let index = edge_specs::LIST_INDEX_IN_AND_OUT_OF_RANGE;
    let base = r#""xs": [1.5, -0.0, 3.0], "ts": ["a", "b", "c"], "rs": [{"a": 1, "t": "x"}, {"a": 2, "t": "y"}, {"a": 3, "t": "z"}]"#;
    let rows: Vec<String> = ["0", "2", "-1", "-3", "3", "-4", I64_MIN, I64_MAX, "1"]
        .iter()
        .map(|i| format!("{{{base}, \"i\": {i}}}"))
        .chain([r#"{"xs": [], "ts": [], "rs": [], "i": 0}"#.to_string()])
        .chain([r#"{"xs": [2.0], "ts": ["only"], "rs": [{"a": 0, "t": ""}], "i": -1}"#.to_string()])
        .collect();
    let t = check_case_exposed(dir, "index", index, &rows);
    assert!(t.row_errors >= 4 && t.scores >= 5, "{t:?}");
}

#[test]
fn rubrics_optionals_short_circuits_and_conversions() {
    require_cc();
    let scratch = Scratch::new("optionals");
    let dir = scratch.path();

    // tests/differential.rs `rubric_criterion_outside_unit_interval`.
    let rubric = edge_specs::RUBRIC_CRITERION_OUTSIDE_UNIT_INTERVAL;
    let rubric_rows = strings(&[
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
    ]);

    let t = check_case_exposed(dir, "rubric", rubric, &rubric_rows);
    assert_eq!(t.row_errors, 5, "criteria outside [0, 1]: {t:?}");

    // tests/differential.rs `coalesce_on_every_optional_shape`.
    let coalesce = r#"
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
score = f3
"#;
    let coalesce_rows = strings(&[
        r#"{"oi": 5, "of": 2.5, "ot": "t", "orec": {"a": 1, "b": "x"}, "ol": [4, 5], "ofs": [1.0, null, -0.0]}"#,
        r#"{"ofs": []}"#,
        r#"{"oi": null, "of": null, "ot": null, "orec": null, "ol": null, "ofs": [null]}"#,
        r#"{"oi": -9223372036854775808, "of": -0.0, "ot": "", "orec": {"a": 9223372036854775807, "b": ""}, "ol": [], "ofs": [null, 3.5]}"#,
        r#"{"oi": 0, "ofs": [1e308, 1e308]}"#,
        r#"{"of": 1e-310, "ot": "日本語", "ol": [9223372036854775807, 1], "ofs": [0.0]}"#,
    ]);

    let t = check_case_exposed(dir, "coalesce", coalesce, &coalesce_rows);
    assert!(t.none_scores >= 2 && t.row_errors == 1, "{t:?}");

    // tests/differential.rs `optional_returning_builtins`.
    let optional = edge_specs::OPTIONAL_RETURNING_BUILTINS;
    let optional_rows = strings(&[
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
    ]);

    check_case_exposed(dir, "optional_builtins", optional, &optional_rows);

    // tests/differential.rs `if_with_optional_and_mixed_branches`.
    let ifs = edge_specs::IF_WITH_OPTIONAL_AND_MIXED_BRANCHES;
    let ifs_rows = strings(&[
        r#"{"x": 1.5, "n": 2, "b": true, "o": 0.25, "on": 7, "ot": "t"}"#,
        r#"{"x": -0.0, "n": -1, "b": false}"#,
        r#"{"x": 2.0, "n": 0, "b": true}"#,
        r#"{"x": 3.0, "n": 5, "b": false, "o": null, "on": -9223372036854775808, "ot": ""}"#,
    ]);

    check_case_exposed(dir, "if_optionals", ifs, &ifs_rows);

    // tests/differential.rs `short_circuits_skip_errors`.
    let short = edge_specs::SHORT_CIRCUITS_SKIP_ERRORS;
    let short_rows = strings(&[
        r#"{"b": false, "xs": [2.0, 0.5, -1.0], "ns": [5, 0], "o": 1.0}"#,
        r#"{"b": false, "xs": [2.0, 0.5, -1.0], "ns": [3, 0], "o": 1.0}"#,
        r#"{"b": true, "xs": [], "ns": [], "o": 1.0}"#,
        r#"{"b": false, "xs": [], "ns": [5, 0]}"#,
    ]);

    let t = check_case_exposed(dir, "short_circuits", short, &short_rows);
    assert_eq!(t.row_errors, 3, "{t:?}");

    // tests/differential.rs `conversions_ranges_and_comparisons_of_optionals`.
    let conversions = edge_specs::CONVERSIONS_RANGES_AND_COMPARISONS_OF_OPTIONALS;
    let conversions_rows = strings(&[
        r#"{"x": 2.9, "n": 3, "o": 2.9, "on": 3, "ot": "s", "s": "s", "recs": [{"a": 3}], "ls": [[3]]}"#,
        r#"{"x": -2.9, "n": -3, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": 9007199254740993.0, "n": 9007199254740993, "o": null, "s": "", "recs": [{"a": 1}], "ls": [[1, 2], []]}"#,
        r#"{"x": 9.3e18, "n": 0, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": -9.223372036854775808e18, "n": 10000001, "s": "", "recs": [], "ls": []}"#,
        r#"{"x": 1.0, "n": 10000001, "s": "", "recs": [], "ls": []}"#,
    ]);

    let t = check_case_exposed(dir, "conversions", conversions, &conversions_rows);
    assert!(t.row_errors >= 2, "{t:?}");
}

#[test]
fn comprehensions_functions_records_and_lists() {
    require_cc();
    let scratch = Scratch::new("lists");
    let dir = scratch.path();

    // tests/differential.rs `list_comprehensions`.
    let comprehensions = edge_specs::LIST_COMPREHENSIONS;
    let comprehensions_rows = strings(&[
        r#"{"xs": [], "ns": [], "ts": []}"#,
        r#"{"xs": [1.5, -2.0, 0.0, -0.0, 3.0], "ns": [1, 2, 3, 4], "ts": ["a", "bcd", "ef"]}"#,
        r#"{"xs": [1e308, 1e308], "ns": [-9223372036854775808, 2], "ts": ["日本語", ""]}"#,
        r#"{"xs": [5e-324], "ns": [0, 0, 0], "ts": ["x"]}"#,
    ]);

    check_case_exposed(dir, "comprehensions", comprehensions, &comprehensions_rows);

    // tests/differential.rs `user_functions_calling_user_functions`.
    let functions = edge_specs::USER_FUNCTIONS_CALLING_USER_FUNCTIONS;
    let items = r#"[{"name": "A", "weight": 2.0}, {"name": "bé", "weight": -0.5}, {"name": "C", "weight": 1.5}]"#;
    let functions_rows = [
        format!(r#"{{"x": 3.0, "y": 4.0, "n": 2, "s": "", "items": {items}, "o": 1.0}}"#),
        r#"{"x": 0.0, "y": 0.0, "n": 0, "s": "x", "items": []}"#.to_string(),
        format!(r#"{{"x": -0.0, "y": 1e308, "n": -3, "s": "x", "items": {items}}}"#),
        format!(
            r#"{{"x": 1e200, "y": 1e200, "n": 9223372036854775806, "s": "x", "items": {items}}}"#
        ),
        r#"{"x": 1.0, "y": 2.0, "n": 9223372036854775807, "s": "x", "items": []}"#.to_string(),
    ];
    let t = check_case_exposed(dir, "functions", functions, &functions_rows);
    assert_eq!(
        t.row_errors, 2,
        "overflow inside `bump`, called by `twice`: {t:?}"
    );

    // tests/differential.rs `records_and_lists_built_in_expressions`.
    let records = edge_specs::RECORDS_AND_LISTS_BUILT_IN_EXPRESSIONS;
    let records_rows = strings(&[
        r#"{"x": 1.5, "n": 1, "s": "x", "xs": [1.5]}"#,
        r#"{"x": 0.0, "n": -1, "s": "", "xs": []}"#,
        r#"{"x": -0.0, "n": 1, "s": "x", "xs": [0.0, 1.0]}"#,
        r#"{"x": 1e308, "n": 9223372036854775807, "s": "日本", "xs": [1e308]}"#,
    ]);

    check_case_exposed(dir, "records", records, &records_rows);

    // tests/differential.rs `concat_in_and_bool_arithmetic`.
    let concat = edge_specs::CONCAT_IN_AND_BOOL_ARITHMETIC;
    let concat_rows = strings(&[
        r#"{"x": 0.0, "n": 1, "b": true, "c": false, "s": "a b", "xs": [1.0, -0.0], "ns": [1, 2], "ts": ["a b"]}"#,
        r#"{"x": -0.0, "n": 3, "b": false, "c": true, "s": "", "xs": [], "ns": [], "ts": []}"#,
        r#"{"x": 2.0, "n": 9223372036854775807, "b": true, "c": true, "s": "日本 語", "xs": [2.0, 1e308], "ns": [9223372036854775807], "ts": ["x"]}"#,
    ]);

    check_case_exposed(dir, "concat_in_bool", concat, &concat_rows);

    // tests/differential.rs `input_records_nested_and_optional`.
    let input_records = edge_specs::INPUT_RECORDS_NESTED_AND_OPTIONAL;
    let input_records_rows = strings(&[
        r#"{"meta": {"lang": "en", "difficulty": 3, "judge": {"ok": true, "score": 0.5}}, "steps": [{"x": 1.0, "tag": "a"}, {"x": -0.0}], "extra": {"a": 1}}"#,
        r#"{"meta": {"lang": "fr", "difficulty": -9223372036854775808, "judge": {"ok": false}}, "steps": []}"#,
        r#"{"meta": {"lang": "", "difficulty": 0, "judge": {"ok": false, "score": null}}, "steps": [{"x": 1e308, "tag": null}, {"x": 1e308, "tag": "é"}], "extra": null}"#,
    ]);

    check_case_exposed(dir, "input_records", input_records, &input_records_rows);
}

#[test]
fn text_operations_and_regexes() {
    require_cc();
    let scratch = Scratch::new("text");

    // tests/differential.rs `text_operations_and_regexes`.
    let text = edge_specs::TEXT_OPERATIONS_AND_REGEXES;
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
        // Not in tests/differential.rs: NUL, a byte order mark, special case mappings.
        ("a\u{0}b\u{0}", "\u{0}", "1"),
        ("\u{feff}bom \u{feff}", "bom", "0"),
        ("ǅ ǆ ß ẞ ΣΑΣ ﬁ İ", "σ", "1"),
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
    let t = check_case_exposed(scratch.path(), "text", text, &lines);
    assert!(t.scores >= 15, "{t:?}");
}

/// Not in tests/differential.rs, but where a library could part from the interpreter: scores that
/// are ints, bools and optionals (converted to the C double), the order in which a row's
/// failing terms are reported, values kept across loop iterations (the compiled code rolls its
/// arena back after each one), and rubric names that need escaping in the breakdown.
#[test]
fn score_types_error_order_retained_values_and_odd_names() {
    require_cc();
    let scratch = Scratch::new("misc");
    let dir = scratch.path();
    let ints = [
        ("3", "4"),
        ("9007199254740993", "1"),
        ("-9007199254740993", "1"),
        (I64_MAX, "1"),
        (I64_MIN, "1"),
        (I64_MAX, "2"),
        ("0", "-1"),
    ];
    let rows: Vec<String> = ints
        .iter()
        .map(|(a, b)| format!(r#"{{"a": {a}, "b": {b}}}"#))
        .collect();
    let t = check_case_exposed(
        dir,
        "int_score",
        "input { a: int, b: int }\nlet p = a * b\nscore = p\n",
        &rows,
    );
    assert_eq!((t.scores, t.row_errors), (6, 1), "{t:?}");

    let texts: Vec<String> = [
        "ok",
        "",
        "not 0k",
        "42",
        "-9223372036854775808",
        "4.0",
        "ok 7",
    ]
    .iter()
    .map(|s| format!(r#"{{"s": {}}}"#, json_string(s)))
    .collect();
    let t = check_case_exposed(
        dir,
        "bool_score",
        "input { s: text }\nrule passes = contains(s, \"ok\")\nscore = passes\n",
        &texts,
    );
    assert_eq!(t.scores, texts.len(), "{t:?}");
    let t = check_case_exposed(
        dir,
        "optional_int_score",
        "input { s: text }\nlet n = parse_int(s)\nscore = n\n",
        &texts,
    );
    assert_eq!((t.scores, t.none_scores), (2, 5), "{t:?}");

    // Several terms fail on the same row: the same one is reported, whatever the declaration
    // order of the terms and their dependencies.
    let order = r#"
input { n: int, xs: list[int], s: text }
let uses_later = later + 1
let later = 10 % n
let index = xs[5]
rule also_bad = xs[7] > 0 or int(parse_float(s) ?? 1e300) > 0
let both = index + uses_later
let overflow = both * 9223372036854775807
// Terms the score does not use still fail the row, even hidden ones.
let unused_text = slice(s, 0, 1) + ["x"][n - 3]
let _hidden = xs[9]
score = float(overflow)
"#;
    let rows = strings(&[
        r#"{"n": 0, "xs": [], "s": ""}"#,
        r#"{"n": 3, "xs": [], "s": ""}"#,
        r#"{"n": 0, "xs": [1, 2, 3, 4, 5, 6, 7, 8], "s": ""}"#,
        r#"{"n": 3, "xs": [1, 2, 3, 4, 5, 6, 7, 8], "s": ""}"#,
        r#"{"n": 3, "xs": [0, 0, 0, 0, 0, 0, 0, 0], "s": ""}"#,
        r#"{"n": 3, "xs": [0, 0, 0, 0, 0, -2, 0, 0], "s": ""}"#,
    ]);
    let t = check_case_exposed(dir, "error_order", order, &rows);
    assert_eq!(t.row_errors, 6, "{t:?}");

    // Constants folded at compile time (NaNs of both signs among them) reach the library
    // through its metadata.
    let constants = r#"
input { pick: int }
let a = 1
let nan = 0.0 / 0.0
let neg_nan = -(0.0 / 0.0)
let inf_nan = (1e308 * 10.0) - (1e308 * 10.0)
let m = min(nan, 1.0)
let neg_zero = -0.0
let tiny = 5e-324 * 0.5
let big = 9223372036854775807
let t = upper("é") + "\u{0}"
let list = [nan, neg_nan, inf_nan, m, neg_zero, tiny, float(big)]
score = list[pick]
"#;
    let rows: Vec<String> = (0..7).map(|k| format!(r#"{{"pick": {k}}}"#)).collect();
    let t = check_case_exposed(dir, "constants", constants, &rows);
    assert_eq!((t.nan_scores, t.scores), (4, 3), "{t:?}");

    // Values made in one loop iteration and kept after it: texts chosen by min/max, lists and
    // records collected from nested loops, texts passed through user functions.
    let retained = r#"
type Part = {w: text, n: int}
input { ts: list[text], xs: list[float] }
fn shout(t: text) -> text = upper(t) + "!"
fn parts(t: text) -> list[Part] = [for w in words(t): {w: shout(w), n: len(w)}]
let longest = max(for t in ts: upper(t) + "|" + lower(t)) ?? ""
let shortest = min(for t in ts: join([for w in words(t): shout(w)], "-")) ?? ""
let best_inner = max(for t in ts: max(for w in words(t): w + t) ?? "") ?? ""
let nested = [for t in ts: parts(t)]
let flat = join([for t in ts: join([for p in parts(t): p.w + p.w], "")], "/")
let firsts = [for t in ts: first(words(t)) ?? ""]
let records = [for t in ts: {t: t + "", split: split(t, " "), first: (first(parts(t)) ?? {w: "", n: 0}).w}]
let rebuilt = [for r in records: join(r.split, "_") + r.t + r.first]
let pairs = [for x in xs: [x, x * 2.0, min(for y in xs: y + x) ?? 0.0]]
let picked = [for p in pairs if len(p) > 2: p[2]]
let n_longest = len(longest) + len(shortest) + len(best_inner)
let n_flat = len(flat)
let total = sum(for p in picked: p)
let size = sum(for ps in nested: sum(for p in ps: p.n))
rule ordered = longest >= shortest
score = total
"#;
    let rows = strings(&[
        r#"{"ts": [], "xs": []}"#,
        r#"{"ts": ["b a", "ccc dd e", "", "日本 語 😀"], "xs": [1.5, -0.0, 2.0]}"#,
        r#"{"ts": ["zz", "a", "zz y", "Ǆ ǆ"], "xs": [1e308, -1e308]}"#,
        r#"{"ts": ["same same", "same same", "x"], "xs": [0.5]}"#,
    ]);
    let t = check_case_exposed(dir, "retained", retained, &rows);
    assert!(t.exposed >= 8 && t.scores + t.nan_scores == 4, "{t:?}");

    // Criterion descriptions and tags with quotes, backslashes, tabs and non-ASCII text are term
    // names in the breakdown.
    let odd = r#"
input { ok: bool, v: float }
rubric odd (normalize: total) {
    criterion "says \"hi\" \\ naïve 😀\tok" +2 : ok tag "a/b \"c\""
    criterion "v ∈ [0, 1]" -1 : v tag "a/b \"c\"" tag "ü"
    criterion "" +1 : not ok
}
score = odd
"#;
    let rows = strings(&[
        r#"{"ok": true, "v": 0.25}"#,
        r#"{"ok": false, "v": 1.0}"#,
        r#"{"ok": true, "v": 1.5}"#,
    ]);
    let t = check_case_exposed(dir, "odd_names", odd, &rows);
    assert_eq!((t.scores, t.row_errors), (2, 1), "{t:?}");

    // Two libraries in one process, loaded with RTLD_GLOBAL (their `reward_*` names clash):
    // each handle still scores with its own spec and keeps its own last error.
    let py = format!(
        r#"
import ctypes
def load(path):
    lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    lib.reward_score_json.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_double)]
    lib.reward_score_json.restype = ctypes.c_int
    lib.reward_last_error.restype = ctypes.c_char_p
    return lib
ints, bools = load({ints:?}), load({bools:?})
def score(lib, row):
    s = ctypes.c_double(-1.0)
    status = lib.reward_score_json(row, len(row), ctypes.byref(s))
    return status, s.value
for _ in range(3):
    assert score(ints, b'{{"a": 3, "b": 4}}') == (0, 12.0)
    assert score(bools, b'{{"s": "ok"}}') == (0, 1.0)
    assert score(ints, b'{{"s": "ok"}}')[0] == 1
    assert score(bools, b'{{"a": 3, "b": 4}}')[0] == 1
    assert score(bools, b'{{"s": "no"}}') == (0, 0.0)
    assert score(ints, b'{{"a": 9223372036854775807, "b": 2}}')[0] == 2
    assert b"integer overflow" in ints.reward_last_error(), ints.reward_last_error()
    assert b"field `s`" in bools.reward_last_error(), bools.reward_last_error()
print("ok")
"#,
        ints = dir.join("libint_score.so").display().to_string(),
        bools = dir.join("libbool_score.so").display().to_string(),
    );
    let out = Command::new("python3").arg("-c").arg(&py).output().unwrap();
    assert!(
        out.status.success(),
        "two libraries in one process: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// tests/differential.rs `operation_budget_is_spent_identically`: the per-rollout budget of 10⁸
/// loop iterations and function calls runs out at the same call of `f`, for the same term.
#[test]
fn operation_budget_is_spent_identically() {
    require_cc();
    let scratch = Scratch::new("budget");
    let src = edge_specs::OPERATION_BUDGET_IS_SPENT_IDENTICALLY;
    let t = check_case(
        scratch.path(),
        "budget",
        src,
        &strings(&[r#"{"n": 20000, "w": 10001}"#, r#"{"n": 100, "w": 0}"#]),
    );
    assert_eq!((t.row_errors, t.scores), (1, 1), "{t:?}");
}

// ================================================================ 3. test inputs

/// Param overrides as `reward build --param` takes them (values as JSON).
type Overrides = Vec<(String, String)>;

/// The `given` inputs of a spec's tests as JSON lines `(test name, line)`, grouped by the params
/// the tests set.
fn given_rows(spec: &Spec) -> Vec<(Overrides, Vec<(String, String)>)> {
    let mut groups: Vec<(Overrides, Vec<(String, String)>)> = Vec::new();
    for test in &spec.program.tests {
        let overrides: Overrides = param_overrides(spec, test);
        let given = spec
            .interpreter()
            .eval_body(&test.given, &Value::None, &[])
            .unwrap_or_else(|e| {
                panic!("test {:?}: given cannot be built: {}", test.name, e.message)
            });
        let line = value_json(&given, spec.input_type()).to_string();
        let row = (test.name.clone(), line);
        match groups.iter_mut().find(|(o, _)| *o == overrides) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((overrides, vec![row])),
        }
    }
    groups
}

/// Builds the spec once per distinct param setting of its tests (`built`: the name of its
/// library without params, when that is already in `dir`) and checks every test input against
/// `Spec::score_line` with the interpreter (of the spec compiled with those params). Returns the
/// number of rows compared.
fn check_test_inputs(dir: &Path, path: &Path, built: Option<&str>) -> usize {
    let spec = compile_file(path, &[])
        .unwrap_or_else(|d| panic!("{} does not compile:\n{d}", path.display()));
    assert!(
        spec.program.input.is_some(),
        "{} has no input",
        path.display()
    );
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut compared = 0;
    let mut report = String::new();
    for (g, (overrides, rows)) in given_rows(&spec).into_iter().enumerate() {
        let variant;
        let reference_spec = if overrides.is_empty() {
            &spec
        } else {
            variant = compile_file(path, &overrides).unwrap_or_else(|d| {
                panic!(
                    "{} does not compile with {overrides:?}:\n{d}",
                    path.display()
                )
            });
            &variant
        };
        let (name, lib) = match built {
            Some(name) if overrides.is_empty() => (name.to_string(), None),
            _ => {
                let name = format!("{stem}_{g}");
                let lib = build_library(dir, &name, path, &overrides);
                (name, Some(lib))
            }
        };
        let exe = compile_driver(dir, &name, "diff", DIFF_DRIVER);
        let rows_path = dir.join(format!("{name}.jsonl"));
        let text: Vec<&str> = rows.iter().map(|(_, line)| line.as_str()).collect();
        std::fs::write(&rows_path, text.join("\n") + "\n").unwrap();
        let (lib_rows, batch) = run_diff_driver(&exe, &rows_path);
        assert_eq!(lib_rows.len(), rows.len(), "{name}: rows");
        let interp = reference_spec.interpreter();
        for (i, (test, line)) in rows.iter().enumerate() {
            let reference = reference_spec.score_line(&interp, 1, line).json;
            let problems = row_problems(&reference, &lib_rows[i], batch.get(i).copied(), || {
                interpreter_score(reference_spec, line)
            });
            if !problems.is_empty() {
                let _ = writeln!(
                    report,
                    "--- {} test {test:?} (params {overrides:?}): {}",
                    path.display(),
                    show_row(line)
                );
                for p in problems {
                    let _ = writeln!(report, "    {p}");
                }
            }
            compared += 1;
        }
        if let Some(lib) = lib {
            let _ = std::fs::remove_file(lib);
        }
    }
    assert!(
        report.is_empty(),
        "\n==== the shared library and the interpreter disagree on test inputs\n{report}"
    );
    compared
}

/// A spec whose tests set params of every kind (float, bool, text, int): a library per setting.
/// (`-9223372036854775808` is not a valid literal: it is the negation of a literal out of range.)
const PARAMS_IN_TESTS: &str = r#"
input { completion: text, bonus: float?, n: int }
param weight: float = 1.0
param strict: bool = false
param marker: text = "Answer:"
param limit: int = 3
let found = contains(completion, marker)
let base = if found then weight else 0.0
let over = n > limit
score = if strict and is_none(bonus) then none else base + (bonus ?? 0.0) - over
test "defaults" {
    given { completion: "Answer: 4", n: 1 }
    expect score == 1.0
}
test "weight and marker" {
    param weight = 2.5
    param marker = "Final:"
    given { completion: "Final: 4", bonus: 0.5, n: 1 }
    expect score == 3.0
}
test "strict without bonus: none" {
    param strict = true
    param weight = -0.0
    param limit = -9223372036854775807 - 1
    given { completion: "Answer: 4", n: 9 }
    expect is_none(score)
}
test "strict with bonus, negative zero weight, smallest limit" {
    param strict = true
    param weight = -0.0
    param limit = -9223372036854775807 - 1
    given { completion: "Answer: 4", bonus: -0.0, n: -9223372036854775807 - 1 }
    expect score == 0.0 and not over
}
"#;

/// No example's test sets a param today (the examples' test inputs are checked by
/// `examples_as_shared_libraries_match_the_cli`); this spec's tests do.
#[test]
fn tests_that_set_params_get_a_library_each() {
    require_cc();
    let scratch = Scratch::new("params");
    let dir = scratch.path();
    let path = dir.join("params_in_tests.reward");
    std::fs::write(&path, PARAMS_IN_TESTS).unwrap();
    let ran = Command::new(REWARD)
        .arg("test")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "the params spec's own tests: {}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    let spec = compile_file(&path, &[]).unwrap();
    assert_eq!(given_rows(&spec).len(), 3, "three param settings");
    assert_eq!(check_test_inputs(dir, &path, None), 4);
}

// ================================================================ 4. hostile calls

/// The spec the hostile calls go to: text, a nested list column, an optional, a row error
/// (`10 % n` for n = 0) and a none score.
const HOSTILE: &str = r#"
use std::text::{extract_tag}
input { completion: text, answer: text, n: int, xs: list[list[int]], o: float? }
let predicted = trim(extract_tag(completion, "answer") ?? "")
rule correct = predicted == trim(answer)
let n_chars = len(completion)
let runs = count_matches(completion, /é{1000}/)
let cells = sum(for x in xs: len(x))
let bucket = 10 % n
let shaped: float? = if n < 0 then o else float(bucket) / 10.0 + float(cells)
score = if correct then shaped else 0.0
"#;

/// Rows of [`HOSTILE`], with nesting `depth` levels deep in a few of them.
fn hostile_rows(depth: usize) -> Vec<String> {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    vec![
        r#"{"completion": "<answer> 4 </answer>", "answer": "4", "n": 3, "xs": [[1, 2], [3]], "o": 0.5}"#.into(),
        r#"{"completion": "<answer>4</answer>", "answer": "4", "n": -1, "xs": []}"#.into(),
        r#"{"completion": "<answer>4</answer>", "answer": "4", "n": -1, "xs": [], "o": -0.0}"#.into(),
        r#"{"completion": "<answer>4</answer>", "answer": "4", "n": 0, "xs": []}"#.into(),
        r#"{"completion": "no tag", "answer": "4", "n": 7, "xs": [[]]}"#.into(),
        r#"{"completion": 4, "answer": "4", "n": 7, "xs": []}"#.into(),
        r#"{"completion": "x", "answer": "4", "n": 7, "xs": [[1, "2"]]}"#.into(),
        r#"{"completion": "<answer>日本😀</answer>", "answer": "日本😀", "n": 4, "xs": [[9223372036854775807]]}"#.into(),
        r#"{"completion": "<answer>a\u0000b</answer>", "answer": "a\u0000b", "n": 2, "xs": []}"#.into(),
        r#"{"completion": "\ud800", "answer": "4", "n": 2, "xs": []}"#.into(),
        format!(
            r#"{{"completion": "<answer>4</answer>", "answer": "4", "n": 3, "xs": [], "zz": {}}}"#,
            nested(depth)
        ),
        format!(
            r#"{{"completion": "<answer>4</answer>", "answer": "4", "n": 3, "xs": [], "zz": {}}}"#,
            objects(depth)
        ),
        format!(
            r#"{{"completion": "<answer>4</answer>", "answer": "4", "n": 3, "xs": {}}}"#,
            nested(depth)
        ),
        format!(
            r#"{{"completion": "<answer>4</answer>", "answer": "4", "n": 3, "xs": [], "zz": {}"#,
            "[".repeat(depth)
        ),
        nested(depth),
        "[]".into(),
        "null".into(),
        "\"text\"".into(),
        "{}".into(),
        " { } ".into(),
    ]
}

/// Hostile calls, each a CHECK that prints what failed; exit status 1 if any did. argv[1] holds
/// the rows the 8 threads score at once, before any other call in the process (so that they
/// also race to load the library's tables); then the same rows on the main thread must give the
/// same results, byte for byte.
const HOSTILE_DRIVER: &str = r#"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include HEADER

static int failures = 0, checks = 0;
#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "line %d: check failed: %s\n", __LINE__, #c); } } while (0)

typedef struct { int status; uint64_t bits; char *error; char *record; } result;

/* reward_score_json, the thread's last error, and the breakdown (tried in a small buffer
 * first, then in one of the announced size). */
static void score_one(const char *line, size_t n, result *r) {
    double s = 0.0;
    r->status = reward_score_json(line, n, &s);
    memcpy(&r->bits, &s, sizeof s);
    if (r->status != 0 && r->status != 3) r->bits = 0; /* not specified */
    const char *e = reward_last_error();
    r->error = strdup(r->status == 0 ? "" : (e ? e : "(NULL)"));
    char small[64];
    int64_t need = reward_breakdown_json(line, n, small, sizeof small);
    if (need < 0) { r->record = strdup("(internal error)"); return; }
    if ((size_t)need < sizeof small) { r->record = strdup(small); return; }
    r->record = malloc((size_t)need + 1);
    if (reward_breakdown_json(line, n, r->record, (size_t)need + 1) != need) {
        free(r->record);
        r->record = strdup("(the length changed)");
    }
}

static long resident_kb(void) {
    long pages = 0, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * 4;
}

static int same(const result *a, const result *b) {
    return a->status == b->status && a->bits == b->bits && strcmp(a->error, b->error) == 0
        && strcmp(a->record, b->record) == 0;
}

#define THREADS 8
#define ROUNDS 4
static char *all;
static size_t all_len;
static char **rows;
static size_t *lens;
static size_t n_rows;
static result *first[THREADS];
static uint64_t *first_batch[THREADS];
static int diverged[THREADS], fresh_error_set[THREADS], batch_count[THREADS];
static pthread_barrier_t start;

static void *worker(void *arg) {
    size_t t = (size_t)arg;
    const char *e = reward_last_error();
    fresh_error_set[t] = e == NULL || e[0] != '\0';
    first[t] = calloc(n_rows, sizeof(result));
    first_batch[t] = calloc(n_rows, sizeof(uint64_t));
    double *b = calloc(n_rows, sizeof(double));
    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t k = 0; k < n_rows; k++) {
            size_t i = (k + t) % n_rows; /* the threads are on different rows */
            result r;
            score_one(rows[i], lens[i], &r);
            if (round == 0) {
                first[t][i] = r;
            } else {
                if (!same(&r, &first[t][i])) diverged[t]++;
                free(r.error);
                free(r.record);
            }
        }
        int64_t k = reward_score_batch(all, all_len, b, n_rows);
        if (round == 0) batch_count[t] = (int)k;
        else if (k != batch_count[t]) diverged[t]++;
        for (size_t i = 0; i < n_rows; i++) {
            uint64_t bits;
            memcpy(&bits, &b[i], sizeof bits);
            if (round == 0) first_batch[t][i] = bits;
            else if (bits != first_batch[t][i]) diverged[t]++;
        }
    }
    free(b);
    return NULL;
}

/* A line of JSON built here: head + fill repeated to `size` bytes + tail. */
static char *build(const char *head, const char *fill, size_t size, const char *tail, size_t *len) {
    size_t h = strlen(head), f = strlen(fill), t = strlen(tail);
    char *s = malloc(size + h + t + f + 1);
    memcpy(s, head, h);
    size_t n = h;
    while (n - h + f <= size) { memcpy(s + n, fill, f); n += f; }
    memcpy(s + n, tail, t);
    n += t;
    s[n] = 0;
    *len = n;
    return s;
}

/* Scores 0.5 (n < 0: the score is o). */
static const char *GOOD = "{\"completion\": \"<answer>4</answer> \xc3\xa9t\xc3\xa9\", \"answer\": \"4\", \"n\": -1, \"xs\": [[1]], \"o\": 0.5}";

static void *other_thread_error(void *arg) {
    (void)arg;
    const char *bad = "{\"completion\": \"\", \"answer\": \"\", \"n\": 0, \"xs\": []}";
    CHECK(reward_score_json(bad, strlen(bad), NULL) == 2);
    CHECK(strstr(reward_last_error(), "modulo by zero") != NULL);
    return NULL;
}

/* Deeply nested and huge lines, from a thread with the default stack. */
static void *deep_and_huge(void *arg) {
    (void)arg;
    size_t n;
    char *s = build("{\"zz\": ", "[", 1000000, "", &n);
    CHECK(reward_score_json(s, n, NULL) == 1);
    free(s);
    s = build("", "[", 10 << 20, "", &n);
    CHECK(reward_score_json(s, n, NULL) == 1);
    char small[16];
    int64_t need = reward_breakdown_json(s, n, small, sizeof small);
    CHECK(need > 0);
    free(s);
    s = build("", "{\"a\":", 10 << 20, "", &n);
    CHECK(reward_score_json(s, n, NULL) == 1);
    free(s);
    /* Balanced nesting in a column the schema does not have: skipped. */
    char *open = build("{\"completion\": \"\", \"answer\": \"4\", \"n\": 3, \"xs\": [], \"zz\": ", "[", 1000000, "", &n);
    char *line = malloc(n + 1000000 + 2);
    memcpy(line, open, n);
    memset(line + n, ']', 1000000);
    line[n + 1000000] = '}';
    double score = -1.0;
    CHECK(reward_score_json(line, n + 1000001, &score) == 0 && score == 0.0);
    free(open);
    free(line);
    /* 10 MB of whitespace around an object, of garbage, of a string ending in a bad byte. */
    s = build("", " ", 10 << 20, GOOD, &n);
    CHECK(reward_score_json(s, n, &score) == 0 && score == 0.5);
    free(s);
    s = build("{\"completion\": \"", "ab", 10 << 20, "\xff\", \"answer\": \"4\", \"n\": 3, \"xs\": []}", &n);
    CHECK(reward_score_json(s, n, NULL) == 1);
    CHECK(strstr(reward_last_error(), "UTF-8") != NULL);
    free(s);
    s = build("", "\x01", 10 << 20, "", &n);
    CHECK(reward_score_json(s, n, NULL) == 1);
    free(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    all_len = (size_t)ftell(f);
    rewind(f);
    all = malloc(all_len + 1);
    if (fread(all, 1, all_len, f) != all_len) return 2;
    all[all_len] = 0;
    for (size_t i = 0; i < all_len; i++) n_rows += all[i] == '\n';
    rows = calloc(n_rows, sizeof(char *));
    lens = calloc(n_rows, sizeof(size_t));
    char *p = all;
    for (size_t i = 0; i < n_rows; i++) {
        char *nl = memchr(p, '\n', all_len - (size_t)(p - all));
        rows[i] = malloc((size_t)(nl - p));
        memcpy(rows[i], p, (size_t)(nl - p)); /* no NUL: only `len` bytes may be read */
        lens[i] = (size_t)(nl - p);
        p = nl + 1;
    }

    /* 1. Eight threads at once: the first calls of the process. */
    pthread_t th[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (size_t t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, worker, (void *)t);
    for (size_t t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    result *single = calloc(n_rows, sizeof(result));
    for (size_t i = 0; i < n_rows; i++) score_one(rows[i], lens[i], &single[i]);
    double *b = calloc(n_rows, sizeof(double));
    CHECK(reward_score_batch(all, all_len, b, n_rows) == (int64_t)n_rows);
    for (size_t t = 0; t < THREADS; t++) {
        CHECK(fresh_error_set[t] == 0);
        CHECK(diverged[t] == 0);
        CHECK(batch_count[t] == (int)n_rows);
        for (size_t i = 0; i < n_rows; i++) {
            if (!same(&first[t][i], &single[i])) {
                failures++;
                fprintf(stderr, "thread %zu, row %zu: status %d %s / alone %d %s\n", t, i + 1,
                        first[t][i].status, first[t][i].record, single[i].status, single[i].record);
            }
            uint64_t bits;
            memcpy(&bits, &b[i], sizeof bits);
            CHECK(first_batch[t][i] == bits);
        }
    }
    /* The single-threaded results, for the test to compare with the interpreter's. */
    for (size_t i = 0; i < n_rows; i++)
        printf("%d %016llx %s\n", single[i].status, (unsigned long long)single[i].bits, single[i].record);

    /* 2. NULL pointers and zero lengths. */
    size_t good_len = strlen(GOOD);
    double score = 123.0;
    CHECK(reward_score_json(GOOD, good_len, &score) == 0 && score == 0.5);
    CHECK(reward_score_json(GOOD, good_len, NULL) == 0);
    CHECK(reward_score_json(NULL, 0, &score) == 1);
    CHECK(score != score); /* a failed call leaves NaN, never the previous score */
    CHECK(strlen(reward_last_error()) > 0);
    CHECK(reward_score_json(NULL, 100, &score) == 1);
    CHECK(reward_score_json(NULL, (size_t)-1, NULL) == 1);
    CHECK(reward_score_json("", 0, &score) == 1);
    CHECK(reward_score_json(GOOD, 0, &score) == 1); /* only `len` bytes are read */
    CHECK(reward_score_json(GOOD, good_len - 1, &score) == 1);
    char buf[4096];
    int64_t k = reward_breakdown_json(NULL, 0, buf, sizeof buf);
    CHECK(k > 0 && (size_t)k < sizeof buf && strncmp(buf, "{\"error\":{\"line\":1,\"message\":", 29) == 0);
    k = reward_breakdown_json(GOOD, 0, buf, sizeof buf);
    CHECK(k > 0 && strncmp(buf, "{\"error\":{\"line\":1,\"message\":", 29) == 0);
    int64_t need = reward_breakdown_json(GOOD, good_len, NULL, 0);
    CHECK(need > 0);
    CHECK(reward_breakdown_json(GOOD, good_len, NULL, 1000) == need);
    CHECK(reward_score_batch(NULL, 0, NULL, 0) == 0);
    CHECK(reward_score_batch(NULL, 100, b, n_rows) == 0);
    CHECK(reward_score_batch("", 0, b, n_rows) == 0);
    CHECK(reward_score_batch(all, all_len, NULL, 5) == (int64_t)n_rows);
    CHECK(reward_score_batch(all, all_len, NULL, 0) == (int64_t)n_rows);
    /* Only `capacity` scores are written. */
    double few[3] = {7.0, 7.0, 7.0};
    CHECK(reward_score_batch(all, all_len, few, 1) == (int64_t)n_rows);
    CHECK(few[1] == 7.0 && few[2] == 7.0);
    /* The final newline is optional. */
    char two[1024];
    snprintf(two, sizeof two, "%s\n%s", GOOD, GOOD);
    CHECK(reward_score_batch(two, strlen(two), few, 3) == 2 && few[0] == 0.5 && few[1] == 0.5);
    strcat(two, "\n");
    CHECK(reward_score_batch(two, strlen(two), few, 3) == 2);
    /* CRLF line ends. */
    snprintf(two, sizeof two, "%s\r\n%s\r\n", GOOD, GOOD);
    few[0] = few[1] = 7.0;
    CHECK(reward_score_batch(two, strlen(two), few, 3) == 2 && few[0] == 0.5 && few[1] == 0.5);
    CHECK(reward_score_json(two, good_len + 2, &score) == 0 && score == 0.5);
    /* `len` is honoured: bytes after it are never read as part of the row. */
    char padded[1024];
    snprintf(padded, sizeof padded, "%s GARBAGE", GOOD);
    CHECK(reward_score_json(padded, good_len, &score) == 0 && score == 0.5);
    /* A NUL inside `len` is not the end of the row: a raw NUL is invalid JSON. */
    char with_nul[1024];
    memcpy(with_nul, GOOD, good_len);
    with_nul[20] = '\0';
    CHECK(reward_score_json(with_nul, good_len, &score) == 1);

    /* 3. Invalid UTF-8: rejected with a message, never read as text. */
    const char *bad_utf8[] = {
        "\xff",
        "{\"completion\": \"\xc0\xaf\", \"answer\": \"4\", \"n\": 3, \"xs\": []}",
        "{\"completion\": \"\xed\xa0\x80\", \"answer\": \"4\", \"n\": 3, \"xs\": []}",
        "{\"completion\": \"\xf4\x90\x80\x80\", \"answer\": \"4\", \"n\": 3, \"xs\": []}",
        "{\"completion\": \"\xe6\x97\", \"answer\": \"4\", \"n\": 3, \"xs\": []}",
        "{\"completion\": \"ok\", \"answer\": \"4\", \"n\": 3, \"xs\": []}\x80",
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        size_t n = strlen(bad_utf8[i]);
        CHECK(reward_score_json(bad_utf8[i], n, &score) == 1);
        CHECK(strstr(reward_last_error(), "UTF-8") != NULL);
        k = reward_breakdown_json(bad_utf8[i], n, buf, sizeof buf);
        CHECK(k > 0 && (size_t)k < sizeof buf && strstr(buf, "UTF-8") != NULL);
    }
    /* `len` cutting a multi-byte character (the é of GOOD) in two. */
    const char *e_acute = strstr(GOOD, "\xc3\xa9");
    CHECK(reward_score_json(GOOD, (size_t)(e_acute - GOOD) + 1, &score) == 1);
    CHECK(strstr(reward_last_error(), "UTF-8") != NULL);
    /* In a batch, a bad line is NaN and the others are scored. */
    char mixed[1024];
    snprintf(mixed, sizeof mixed, "%s\n\xff\xfe\n%s\n", GOOD, GOOD);
    CHECK(reward_score_batch(mixed, strlen(mixed), few, 3) == 3 && few[0] == 0.5 && few[1] != few[1] && few[2] == 0.5);

    /* 4. A buffer too small for the record: its length, nothing written past capacity; then
     * exactly length + 1 bytes are enough. */
    char *big = malloc((size_t)need + 64);
    memset(big, 'Z', (size_t)need + 64);
    CHECK(reward_breakdown_json(GOOD, good_len, big, (size_t)need + 64) == need);
    char *exact = malloc((size_t)need + 64);
    size_t caps[] = {1, 2, (size_t)need / 2, (size_t)need - 1, (size_t)need};
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        memset(exact, 'Z', (size_t)need + 64);
        CHECK(reward_breakdown_json(GOOD, good_len, exact, caps[c]) == need);
        int untouched = 1;
        for (size_t i = caps[c]; i < (size_t)need + 64; i++) untouched &= exact[i] == 'Z';
        CHECK(untouched);
    }
    memset(exact, 'Z', (size_t)need + 64);
    CHECK(reward_breakdown_json(GOOD, good_len, exact, (size_t)need + 1) == need);
    CHECK(exact[need] == '\0' && strcmp(exact, big) == 0 && exact[need + 1] == 'Z');
    CHECK(strncmp(big, "{\"score\":0.5,\"terms\":{", 22) == 0);

    /* 5. The last error belongs to the thread. */
    CHECK(reward_score_json("[]", 2, NULL) == 1);
    char mine[1024];
    snprintf(mine, sizeof mine, "%s", reward_last_error());
    pthread_t other;
    pthread_create(&other, NULL, other_thread_error, NULL);
    pthread_join(other, NULL);
    CHECK(strcmp(reward_last_error(), mine) == 0);

    /* 6. Deep and huge lines, on another thread. */
    pthread_t deep;
    pthread_create(&deep, NULL, deep_and_huge, NULL);
    pthread_join(deep, NULL);

    /* 7. No memory kept between calls, on any path: resident memory stays flat over rounds of
     * scores, row errors, none scores, bad input and short buffers (after a first round that
     * warms the allocator up). */
    const char *kinds[] = {
        GOOD,
        "{\"completion\": \"<answer>4</answer>\", \"answer\": \"4\", \"n\": 0, \"xs\": [[1, 2], [3]]}",
        "{\"completion\": \"<answer>4</answer>\", \"answer\": \"4\", \"n\": -1, \"xs\": []}",
        "{\"completion\": 4}",
        "\xff",
        "[[[[",
    };
    long rss[3];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1500; i++) {
            for (size_t r = 0; r < sizeof kinds / sizeof *kinds; r++) {
                size_t n = strlen(kinds[r]);
                reward_score_json(kinds[r], n, &score);
                reward_breakdown_json(kinds[r], n, buf, sizeof buf);
                reward_breakdown_json(kinds[r], n, buf, 8);
            }
        }
        rss[round] = resident_kb();
    }
    if (rss[2] - rss[0] > 512) {
        failures++;
        fprintf(stderr, "resident memory grew by %ld kB over 54000 calls\n", rss[2] - rss[0]);
    }

    fprintf(stderr, "%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
"#;

#[test]
fn hostile_calls_never_crash_the_host() {
    require_cc();
    let scratch = Scratch::new("hostile");
    let dir = scratch.path();
    // Every row (nested 100000 levels deep), and a 10 MB one, exactly as the interpreter
    // scores them.
    let mut checked = hostile_rows(100_000);
    checked.push(format!(
        r#"{{"completion": "<answer>4</answer>{}", "answer": "4", "n": 3, "xs": [[1, 2, 3]], "o": 1.5}}"#,
        "é".repeat(5 << 20)
    ));
    let t = check_case(dir, "hostile", HOSTILE, &checked);
    assert!(
        t.scores >= 8 && t.none_scores == 1 && t.row_errors == 1 && t.bad_inputs >= 10,
        "{t:?}"
    );

    // The same library, called from C with everything a careless or hostile host might pass.
    let spec_path = dir.join("hostile.reward");
    let exe = compile_driver(dir, "hostile", "calls", HOSTILE_DRIVER);
    // The threads' rows are less deep, to keep the test fast in debug builds.
    let rows = hostile_rows(5_000);
    let rows_path = dir.join("threads.jsonl");
    std::fs::write(&rows_path, rows.join("\n") + "\n").unwrap();
    let out = Command::new(&exe).arg(&rows_path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the hostile C driver exited with {:?} (signal {:?}):\n{stderr}",
        out.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&out.status),
    );
    assert!(stderr.contains(" checks, 0 failed"), "{stderr}");

    // The single-threaded results it compared the threads with are the interpreter's.
    let spec = compile_file(&spec_path, &[]).unwrap();
    let interp = spec.interpreter();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.len(), rows.len());
    for (row, line) in rows.iter().zip(printed) {
        let reference = spec.score_line(&interp, 1, row).json;
        let record = line.splitn(3, ' ').nth(2).unwrap();
        assert_eq!(record, reference, "row {}", show_row(row));
    }
}

/// Lines the CLI's driver handles before any scoring (invalid UTF-8, blank lines) and the
/// library gets as a rollout: the same status and message (the library says "input" where the
/// CLI says "line"; the offset of the bad byte is the same).
#[test]
fn lines_the_cli_rejects_before_scoring() {
    require_cc();
    let scratch = Scratch::new("raw");
    let dir = scratch.path();
    let spec_path = dir.join("raw.reward");
    std::fs::write(&spec_path, HOSTILE).unwrap();
    let lines: Vec<&[u8]> = vec![
        b"\xff",
        b"{\"completion\": \"\xc3\", \"answer\": \"4\", \"n\": 3, \"xs\": []}",
        b"{\"completion\": \"ok\", \"answer\": \"\xed\xa0\x80\", \"n\": 3, \"xs\": []}",
        b" ",
        b"\t",
    ];
    let mut file = Vec::new();
    for l in &lines {
        file.extend_from_slice(l);
        file.push(b'\n');
    }
    let rows_path = dir.join("raw.jsonl");
    std::fs::write(&rows_path, &file).unwrap();
    build_library(dir, "raw", &spec_path, &[]);
    let exe = compile_driver(dir, "raw", "diff", DIFF_DRIVER);
    let (lib_rows, _) = run_diff_driver(&exe, &rows_path);
    let cli = Command::new(REWARD)
        .arg("score")
        .arg(&spec_path)
        .arg(&rows_path)
        .args(["--engine", "interp"])
        .output()
        .unwrap();
    let cli_out = String::from_utf8(cli.stdout).unwrap();
    let mut report = String::new();
    for (i, (cli_line, lib)) in cli_out.lines().zip(&lib_rows).enumerate() {
        let reference = with_line_one(cli_line, i + 1);
        let cli_message = serde_json::from_str::<serde_json::Value>(&reference).unwrap()["error"]
            ["message"]
            .as_str()
            .unwrap()
            .to_string();
        let lib_message = serde_json::from_str::<serde_json::Value>(&lib.record)
            .map(|v| v["error"]["message"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let same = lib.status == 1
            && (lib_message == cli_message
                || lib_message.replacen("input is", "line is", 1) == cli_message)
            && lib.last_error == lib_message;
        if !same {
            let _ = writeln!(
                report,
                "--- line {} {:?}\n    library: status {}, {} (last error {:?})\n    CLI:     {}",
                i + 1,
                String::from_utf8_lossy(lines[i]),
                lib.status,
                lib.record,
                lib.last_error,
                cli_line
            );
        }
    }
    assert_eq!(lib_rows.len(), lines.len());
    assert!(report.is_empty(), "\n{report}");
}

/// The comparison itself: what counts as a disagreement (no library needed).
#[test]
fn harness_detects_every_kind_of_disagreement() {
    let row = |status: i32, x: f64, last_error: &str, record: &str| LibRow {
        status,
        bits: x.to_bits(),
        last_error: last_error.to_string(),
        record: record.to_string(),
    };
    let check = |reference: &str, lib: &LibRow, batch: Option<u64>, interp: Option<f64>| {
        row_problems(reference, lib, batch, || interp)
    };
    let half = 0.5f64.to_bits();

    // A score: record, status, bits and batch must all agree.
    let ok = r#"{"score":0.5,"terms":{"a":1}}"#;
    assert!(check(ok, &row(0, 0.5, "", ok), Some(half), None).is_empty());
    let other = r#"{"score":0.5,"terms":{"a":2}}"#;
    assert_eq!(
        check(ok, &row(0, 0.5, "", other), Some(half), None).len(),
        1
    );
    let next = f64::from_bits(half + 1);
    assert_eq!(
        check(ok, &row(0, next, "", ok), Some(half + 1), None).len(),
        1
    );
    assert_eq!(check(ok, &row(3, 0.5, "", ok), Some(half), None).len(), 1);
    assert_eq!(
        check(ok, &row(0, 0.5, "", ok), Some(half + 1), None).len(),
        1
    );
    assert_eq!(check(ok, &row(0, 0.5, "", ok), None, None).len(), 1);
    // Signed zeros and big, tiny and integer scores are exact.
    let neg_zero = r#"{"score":-0.0,"terms":{}}"#;
    assert_eq!(
        check(neg_zero, &row(0, 0.0, "", neg_zero), Some(0), None).len(),
        1
    );
    for (text, x) in [
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
        ("3", 3.0),
        ("true", 1.0),
    ] {
        let r = format!(r#"{{"score":{text},"terms":{{}}}}"#);
        let lib = row(0, x, "", &r);
        assert!(
            check(&r, &lib, Some(x.to_bits()), None).is_empty(),
            "{text}"
        );
    }
    // NaN: the payload and sign are the interpreter's.
    let nan = r#"{"score":"NaN","terms":{}}"#;
    let (a, b) = (
        f64::from_bits(0x7ff8_0000_0000_0000),
        f64::from_bits(0xfff8_0000_0000_0000),
    );
    assert!(check(nan, &row(0, a, "", nan), Some(a.to_bits()), Some(a)).is_empty());
    assert_eq!(
        check(nan, &row(0, a, "", nan), Some(a.to_bits()), Some(b)).len(),
        1
    );
    let inf = r#"{"score":"-inf","terms":{}}"#;
    assert_eq!(
        check(
            inf,
            &row(0, f64::INFINITY, "", inf),
            Some(f64::INFINITY.to_bits()),
            None
        )
        .len(),
        1
    );
    // No score: status 3, NaN, and the message.
    let none = r#"{"score":null,"terms":{}}"#;
    let said = "the score is none for this rollout";
    assert!(check(none, &row(3, a, said, none), Some(a.to_bits()), None).is_empty());
    assert_eq!(
        check(none, &row(3, a, "", none), Some(a.to_bits()), None).len(),
        1
    );
    assert_eq!(
        check(none, &row(3, 0.0, said, none), Some(a.to_bits()), None).len(),
        1
    );
    assert_eq!(check(none, &row(3, a, said, none), Some(0), None).len(), 1);
    // A row error: status 2, and a last error naming the message, the term and the place.
    let failed = r#"{"error":{"line":1,"message":"m","term":"t","at":"f:1:2"}}"#;
    let said = "m (while computing `t`, at f:1:2)";
    assert!(check(failed, &row(2, 0.0, said, failed), Some(a.to_bits()), None).is_empty());
    assert_eq!(
        check(failed, &row(1, 0.0, said, failed), Some(a.to_bits()), None).len(),
        1
    );
    assert_eq!(
        check(failed, &row(2, 0.0, "m", failed), Some(a.to_bits()), None).len(),
        1
    );
    let elsewhere = r#"{"error":{"line":1,"message":"m","term":"t","at":"f:1:3"}}"#;
    assert_eq!(
        check(
            failed,
            &row(2, 0.0, said, elsewhere),
            Some(a.to_bits()),
            None
        )
        .len(),
        1
    );
    assert_eq!(
        check(failed, &row(2, 0.0, said, failed), Some(0), None).len(),
        1
    );
    // A row that does not decode: status 1, the field in the last error.
    let bad = r#"{"error":{"line":1,"message":"expected int","field":"n"}}"#;
    let said = "field `n`: expected int";
    assert!(check(bad, &row(1, 0.0, said, bad), Some(a.to_bits()), None).is_empty());
    assert_eq!(
        check(
            bad,
            &row(1, 0.0, "expected int", bad),
            Some(a.to_bits()),
            None
        )
        .len(),
        1
    );
    assert_eq!(
        check(bad, &row(2, 0.0, said, bad), Some(a.to_bits()), None).len(),
        1
    );

    // Only an error record's own line is rewritten.
    assert_eq!(
        with_line_one(r#"{"error":{"line":12,"message":"\"line\":12"}}"#, 12),
        r#"{"error":{"line":1,"message":"\"line\":12"}}"#
    );
    assert_eq!(
        with_line_one(r#"{"error":{"line":13,"message":"x"}}"#, 12),
        r#"{"error":{"line":13,"message":"x"}}"#
    );
    assert_eq!(with_line_one(ok, 1), ok);
}

#[path = "common/random_programs.rs"]
mod random_programs;

/// The same type-directed random programs as tests/differential.rs (interpreter vs JIT), built
/// as shared libraries and held to the interpreter on random rows. Fewer programs than there:
/// each one is linked into a library.
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
        proptest::collection::vec(random_programs::random_rows::row(), 1..6),
    );
    let mut built = 0;
    let mut attempts = 0;
    while built < 8 && attempts < 40 {
        attempts += 1;
        let (choices, rows) = strategy
            .new_tree(&mut runner)
            .expect("a random case")
            .current();
        let src = random_programs::random_program(&choices);
        // A constant part that always fails (`1 % 0`) is a compile error: not a program to run.
        match compile_source("random.reward", &src, Path::new("."), &[]) {
            Ok(_) => {}
            Err(d) if d.contains("E0029") => continue,
            Err(d) => panic!("the generator built an ill-typed program:\n{d}\n--- source:\n{src}"),
        }
        check_case(scratch.path(), &format!("random{built}"), &src, &rows);
        built += 1;
    }
    assert_eq!(built, 8, "too few random programs compiled");
}

// ============================================== 5. hostile specs through a library in Python

/// The reproducers of a reward that would take the host down — a text doubled forty times
/// (2^40 bytes) and a comprehension nested over `range` (81 million values) — built into
/// shared libraries and called from Python with ctypes: each hostile row gets status 2, a NaN
/// score and a message naming the budget, the next row is scored, and the Python process stays
/// small.
#[test]
fn hostile_specs_in_a_library_are_row_errors_in_the_calling_process() {
    require_cc();
    let scratch = Scratch::new("hostile-specs");
    let dir = scratch.path();
    let mut doubling = "completion".to_string();
    for _ in 0..40 {
        doubling = format!("d({doubling})");
    }
    let specs = [
        (
            "doubling",
            format!("input {{ completion: text, n: int }}\nfn d(s: text) -> text = join([s, s], \"\")\nlet x = if n > 100 then {doubling} else completion\nscore = len(x)\n"),
            "MiB a rollout may build",
        ),
        (
            "nested",
            "input { completion: text, n: int }\nlet ws = [for i in range(n): completion]\nlet big = [for a in ws: [for b in ws: a]]\nscore = len(big)\n".to_string(),
            "more than 512 MiB of values",
        ),
    ];
    for (name, text, expected) in specs {
        let spec = dir.join(format!("{name}.reward"));
        std::fs::write(&spec, text).unwrap();
        let lib = build_library(dir, name, &spec, &[]);
        let py = format!(
            r#"
import ctypes, math, resource
lib = ctypes.CDLL({lib:?})
lib.reward_score_json.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_double)]
lib.reward_score_json.restype = ctypes.c_int
lib.reward_last_error.restype = ctypes.c_char_p
def score(line):
    s = ctypes.c_double(1.0)
    status = lib.reward_score_json(line, len(line), ctypes.byref(s))
    return status, s.value
status, s = score(b'{{"completion": "x", "n": 9000}}')
message = lib.reward_last_error().decode()
assert status == 2 and math.isnan(s), (status, s)
assert {expected:?} in message, message
status, s = score(b'{{"completion": "x", "n": 30}}')
assert status == 0, (status, lib.reward_last_error())
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
assert peak_mib < 1024, peak_mib
print("ok", s, peak_mib)
"#,
            lib = lib.display().to_string(),
        );
        let out = Command::new("timeout")
            .args(["300", "python3", "-c", &py])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ========================================================= 6. fuzzing the C API (--ignored)

#[path = "common/mutate.rs"]
mod mutate;

/// Scores every line of a file through the library: the status must be one of the documented
/// codes with a NaN score on failure, and the breakdown record (grown to fit) is printed.
const C_FUZZ_DRIVER: &str = r#"
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include HEADER

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    char *line = NULL;
    size_t line_cap = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = getline(&line, &line_cap, f)) != -1) {
        size_t n = (size_t)got;
        while (n && line[n - 1] == '\n') n--;
        double score = 0;
        int status = reward_score_json(line, n, &score);
        if (status < 0 || status > 4) return 3;
        if (status != 0 && !isnan(score)) return 4;
        int64_t k = reward_breakdown_json(line, n, buf, cap);
        if (k >= 0 && (size_t)k >= cap) {
            cap = (size_t)k + 1;
            buf = realloc(buf, cap);
            k = reward_breakdown_json(line, n, buf, cap);
        }
        if (k < 0 || (size_t)k >= cap) return 5;
        fwrite(buf, 1, (size_t)k, stdout);
        putchar('\n');
    }
    return 0;
}
"#;

/// A record without its `line` (the CLI numbers the lines of its file; the library scores one
/// rollout at a time).
fn without_line(record: &str) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(record).unwrap_or_else(|e| panic!("not JSON ({e}): {record}"));
    if let Some(error) = v.get_mut("error").and_then(|e| e.as_object_mut()) {
        error.remove("line");
    }
    v
}

/// The C API fuzz target: mutated rows of the examples through `reward_score_json` and
/// `reward_breakdown_json` of each example's library, for `REWARD_FUZZ_SECONDS` (default 3):
/// every call returns a documented status (NaN on failure) and the same record as `reward
/// score` on the same line. The seed is printed first (`REWARD_FUZZ_SEED` replays it).
#[test]
#[ignore = "fuzzing: CI runs it with --ignored for REWARD_FUZZ_SECONDS"]
fn fuzz_c_api() {
    require_cc();
    let seconds = std::env::var("REWARD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let scratch = Scratch::new("fuzz-capi");
    let dir = scratch.path();
    let examples = [
        "r1_zero",
        "tool_agent_protocol",
        "office_delivery",
        "verl_dapo",
    ];
    let mut built = Vec::new();
    for name in examples {
        let spec = workspace().join("examples").join(format!("{name}.reward"));
        build_library(dir, name, &spec, &[]);
        let exe = compile_driver(dir, name, "fuzz", C_FUZZ_DRIVER);
        let rows = std::fs::read_to_string(spec.with_extension("jsonl")).unwrap();
        let seeds: Vec<String> = rows.lines().map(str::to_string).collect();
        built.push((spec, exe, seeds));
    }
    let mut rng = mutate::Rng::seeded("c_api");
    let mut lines_run = 0;
    while std::time::Instant::now() < deadline {
        let (spec, exe, seeds) = rng.pick(&built).clone();
        let mut batch = String::new();
        for _ in 0..500 {
            let seed = rng.pick(&seeds).clone();
            let line = mutate::mutated(&mut rng, &seed);
            // One rollout per line on both sides: no line breaks inside, no empty lines.
            let line = line.replace(['\n', '\r'], " ");
            if !line.trim().is_empty() {
                batch.push_str(&line);
                batch.push('\n');
            }
        }
        let file = dir.join("batch.jsonl");
        std::fs::write(&file, &batch).unwrap();
        let ran = Command::new(&exe).arg(&file).output().unwrap();
        assert!(
            ran.status.success(),
            "the C API failed ({:?}) on {}: {}",
            ran.status,
            file.display(),
            String::from_utf8_lossy(&ran.stderr)
        );
        let cli = Command::new(REWARD)
            .args(["score", "--engine", "jit"])
            .arg(&spec)
            .arg(&file)
            .output()
            .unwrap();
        let (lib_out, cli_out) = (
            String::from_utf8_lossy(&ran.stdout).into_owned(),
            String::from_utf8_lossy(&cli.stdout).into_owned(),
        );
        assert_eq!(lib_out.lines().count(), cli_out.lines().count());
        for (i, (a, b)) in lib_out.lines().zip(cli_out.lines()).enumerate() {
            assert_eq!(
                without_line(a),
                without_line(b),
                "line {} of {}: the library and the CLI disagree",
                i + 1,
                file.display()
            );
        }
        lines_run += batch.lines().count();
    }
    eprintln!("fuzz c_api: {lines_run} rollouts through the C API in {seconds} s");
    assert!(lines_run > 0);
}
