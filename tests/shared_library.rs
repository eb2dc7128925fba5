//! `reward build`: a spec compiled to a shared library, and its C API. A module of the `engines`
//! test binary (tests/engines.rs), which builds the libraries' common helpers once for both.
//!
//! The edge cases (NaN, infinities, signed zeros, overflow, empty aggregates, optionals, texts,
//! score types, error order, …) and random programs go through a library in tests/engines.rs,
//! with the interpreter and the JIT; this suite holds what is particular to libraries:
//!
//! 1. Every example becomes a library that a C program and Python's ctypes load and call, with
//!    the same results as `reward score`; two libraries live in one process.
//! 2. The `given` inputs of every example's tests (through the example's library of part 1), and
//!    of a spec whose tests set params (a library per setting, built with `--param`), against
//!    `Spec::score_line` with the interpreter.
//! 3. Hostile calls (NULL pointers, zero lengths, invalid UTF-8, a 10 MB line, deeply nested
//!    JSON, short buffers, 8 threads at once) never crash the host, give the same answers and
//!    keep no memory; hostile specs are row errors in the calling process; the C API fuzz target.
//!
//! Libraries are built with the debug runtime (tests/common/library.rs), each test in its own
//! scratch directory.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use reward::{Spec, Ty};

use super::{compile_file, compile_source};

use super::library::{
    build_library, compile_driver, interpreter_score, library_problems, require_cc, row_problems,
    run_diff_driver, show_row, with_line_one, workspace, LibRow, Scratch, DIFF_DRIVER, REWARD,
};

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

/// Two libraries in one process, loaded with RTLD_GLOBAL (their `reward_*` names clash): each
/// handle still scores with its own spec and keeps its own last error. (The specs are cases of
/// tests/engines.)
#[test]
fn two_libraries_in_one_process() {
    require_cc();
    let scratch = Scratch::new("two");
    let dir = scratch.path();
    let cases = workspace().join("tests").join("engines");
    for name in ["int_score", "bool_score"] {
        build_library(dir, name, &cases.join(format!("{name}.reward")), &[]);
    }
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

// ================================================================ 2. test inputs

/// Param overrides as `reward build --param` takes them (values as JSON).
type Overrides = Vec<(String, String)>;

/// The `given` inputs of a spec's tests as JSON lines `(test name, line)`, grouped by the params
/// the tests set.
fn given_rows(spec: &Spec) -> Vec<(Overrides, Vec<(String, String)>)> {
    let mut groups: Vec<(Overrides, Vec<(String, String)>)> = Vec::new();
    for test in spec.test_cases() {
        let overrides: Overrides = test.params;
        let given = test.given.unwrap_or_else(|e| {
            panic!("test {:?}: given cannot be built: {}", test.name, e.message)
        });
        let line = reward::value_to_json_typed(&given, spec.input_schema()).to_string();
        let row = (test.name, line);
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
        matches!(spec.input_schema(), Ty::Record(fields) if !fields.is_empty()),
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
        let scorer = reference_spec.line_scorer(false);
        for (i, (test, line)) in rows.iter().enumerate() {
            let reference = scorer.score(1, line).json;
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

// ================================================================ 3. hostile calls

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
    // Named as the library names it (it is built from `hostile.reward` in `dir`).
    let spec = compile_source("hostile.reward", HOSTILE, dir, &[]).unwrap();
    let interp = spec.line_scorer(false);
    let reference: Vec<String> = checked
        .iter()
        .enumerate()
        .map(|(i, row)| interp.score(i as u64 + 1, row).json)
        .collect();
    let count = |prefix: &str| reference.iter().filter(|r| r.starts_with(prefix)).count();
    let (none_scores, row_errors) = (count(r#"{"score":null"#), count(r#"{"error":{"line""#));
    let bad_inputs = reference
        .iter()
        .filter(|r| r.starts_with(r#"{"error""#) && !r.contains(r#","at":"#))
        .count();
    assert!(
        reference.len() - row_errors - none_scores >= 8
            && none_scores == 1
            && row_errors - bad_inputs == 1
            && bad_inputs >= 10,
        "{reference:?}"
    );
    let labels: Vec<(String, String)> = checked
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("hostile row {}", i + 1), r.clone()))
        .collect();
    let problems = library_problems(
        dir, "hostile", HOSTILE, &labels, &checked, &reference, &spec,
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));

    // The same library, called from C with everything a careless or hostile host might pass.
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
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.len(), rows.len());
    for (row, line) in rows.iter().zip(printed) {
        let reference = interp.score(1, row).json;
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

// ============================================== 4. hostile specs through a library in Python

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

// ========================================================= 5. fuzzing the C API (--ignored)

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
