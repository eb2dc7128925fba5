//! Building a spec as a shared library (`reward build`) and holding it to a reference: the
//! helpers of tests/shared_library.rs (the examples, the C API's behaviour) and of
//! tests/engines.rs (every case file and random program through a library). Included with
//! `#[path]` by each.
// Each suite compiles this file on its own and not every one uses every helper.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use reward::{Spec, Value};

pub const REWARD: &str = env!("CARGO_BIN_EXE_reward");

pub fn workspace() -> PathBuf {
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
pub fn runtime_library() -> &'static Path {
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
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("reward-so-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn require_cc() {
    if Command::new("cc").arg("--version").output().is_err() {
        panic!("a C compiler (cc) is needed for this test");
    }
}

/// `reward build SPEC -o DIR/libNAME.so --runtime … [--param k=v]…`; checks the header is beside
/// the library.
pub fn build_library(dir: &Path, name: &str, spec: &Path, params: &[(String, String)]) -> PathBuf {
    let lib = dir.join(format!("lib{name}.so"));
    let mut cmd = Command::new(REWARD);
    // A relative `spec` is in `dir`, and the library's error locations name it so.
    cmd.current_dir(dir)
        .arg("build")
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
pub fn compile_driver(dir: &Path, name: &str, driver: &str, source: &str) -> PathBuf {
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

/// Prints, for each line of argv[1] (any length, NUL bytes included), a header
/// `status bits error_len record_len` (the status of `reward_score_json`, the bits of the double
/// it wrote, the length of `reward_last_error()` and of the breakdown record), then the error
/// and the record, then a newline. The record is asked for as a caller that does not know its
/// size would: into a 256-byte buffer, and when that is too small (the length returned is 256 or
/// more), again into a buffer of exactly that length + 1. Last, `batch N` and the bits of the N
/// scores of `reward_score_batch` over the whole file.
pub const DIFF_DRIVER: &str = r#"
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
pub struct LibRow {
    pub status: i32,
    pub bits: u64,
    pub last_error: String,
    pub record: String,
}

/// Parses the output of [`DIFF_DRIVER`]: the rows, and the batch scores' bits.
pub fn parse_diff_output(out: &[u8]) -> (Vec<LibRow>, Vec<u64>) {
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
pub fn run_diff_driver(exe: &Path, rows: &Path) -> (Vec<LibRow>, Vec<u64>) {
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
pub fn with_line_one(record: &str, line: usize) -> String {
    let prefix = format!(r#"{{"error":{{"line":{line},"#);
    match record.strip_prefix(&prefix) {
        Some(rest) => format!(r#"{{"error":{{"line":1,{rest}"#),
        None => record.to_string(),
    }
}

/// What a reference record implies for `reward_score_json`.
#[derive(Debug)]
pub enum Expected {
    /// Status 0 with this score (NaN: compared with the interpreter's bits).
    Score(f64),
    /// Status 3: the score is none (NaN written).
    NoScore,
    /// Status 1 (the row does not decode) with this `reward_last_error()`.
    BadInput(String),
    /// Status 2 (a row error) with this `reward_last_error()`.
    Failed(String),
}

pub fn expected_from_record(record: &str) -> Result<Expected, String> {
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
pub fn interpreter_score(spec: &Spec, line: &str) -> Option<f64> {
    if !spec.can_score() {
        return None;
    }
    let row = spec.row_from_json(line).ok()?;
    let scored = spec.score(&row).ok()?;
    Some(match scored.score_value() {
        Value::None => f64::NAN,
        v => v.as_f64(),
    })
}

pub fn show_bits(bits: u64) -> String {
    let x = f64::from_bits(bits);
    if x.is_nan() {
        format!("NaN[0x{bits:016x}]")
    } else {
        format!("{x:?} [0x{bits:016x}]")
    }
}

/// Everything that differs between the library's answers for one row and the reference record
/// (already with line 1). `interp` computes the interpreter's score (for NaN bits).
pub fn row_problems(
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
pub fn show_row(row: &str) -> String {
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

/// The comparison of a library with the interpreter: builds `src` as `libNAME.so` in `dir`
/// (error locations name `NAME.reward`), runs `lines` through it with [`DIFF_DRIVER`] and
/// compares every answer with the interpreter's `reference` records ([`row_problems`]; the
/// score's NaN bits come from `reference_spec`). One report entry per row that differs, named
/// by `labels` (`(label, row)`).
pub fn library_problems(
    dir: &Path,
    name: &str,
    src: &str,
    labels: &[(String, String)],
    lines: &[String],
    reference: &[String],
    reference_spec: &Spec,
) -> Vec<String> {
    let answers = run_library(dir, name, src, lines);
    compare_library(name, labels, lines, &answers, reference, reference_spec)
}

/// What a library answered for each row, and the bits of its batch scores.
pub type Answers = (Vec<LibRow>, Vec<u64>);

/// The first half of [`library_problems`]: builds the library and runs the rows through it.
pub fn run_library(dir: &Path, name: &str, src: &str, lines: &[String]) -> Answers {
    let spec_file = format!("{name}.reward");
    std::fs::write(dir.join(&spec_file), src).unwrap();
    let rows_path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&rows_path, lines.join("\n") + "\n").unwrap();
    build_library(dir, name, Path::new(&spec_file), &[]);
    let exe = compile_driver(dir, name, "diff", DIFF_DRIVER);
    run_diff_driver(&exe, &rows_path)
}

/// The second half of [`library_problems`]: the library's answers against the reference.
pub fn compare_library(
    name: &str,
    labels: &[(String, String)],
    lines: &[String],
    (lib_rows, batch): &Answers,
    reference: &[String],
    reference_spec: &Spec,
) -> Vec<String> {
    let mut failures = Vec::new();
    if lib_rows.len() != lines.len() || batch.len() != lines.len() {
        failures.push(format!(
            "{name}: {} rows, the library answered {} (and {} in a batch)",
            lines.len(),
            lib_rows.len(),
            batch.len()
        ));
    }
    for (i, lib) in lib_rows.iter().enumerate().take(lines.len()) {
        let record = with_line_one(&reference[i], i + 1);
        let problems = row_problems(&record, lib, batch.get(i).copied(), || {
            interpreter_score(reference_spec, &lines[i])
        });
        if !problems.is_empty() {
            let mut report = format!(
                "{}: the shared library differs from the interpreter on {}",
                labels[i].0,
                show_row(&labels[i].1)
            );
            for p in problems {
                let _ = write!(report, "\n    {p}");
            }
            failures.push(report);
        }
    }
    failures
}
