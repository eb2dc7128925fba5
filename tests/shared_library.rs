//! `reward build`: every example becomes a shared library that a C program and Python's ctypes
//! load and call, with the same results as `reward score` (the interpreter is checked against
//! `reward score` by the differential tests).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The runtime's static library is not produced by `cargo test` (the runtime is only a
/// dependency there), so build it (reusing the workspace's compiled dependencies).
fn runtime_library() -> PathBuf {
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
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reward-so-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
    if Command::new("cc").arg("--version").output().is_err() {
        panic!("a C compiler (cc) is needed for this test");
    }
    let runtime = runtime_library();
    let dir = scratch("examples");
    let reward = env!("CARGO_BIN_EXE_reward");
    let mut checked = 0;
    for entry in std::fs::read_dir(workspace().join("examples")).unwrap() {
        let spec = entry.unwrap().path();
        if spec.extension().is_none_or(|e| e != "reward") {
            continue;
        }
        let name = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let rollouts = spec.with_extension("jsonl");
        let lib = dir.join(format!("lib{name}.so"));
        let out = Command::new(reward)
            .arg("build")
            .arg(&spec)
            .arg("-o")
            .arg(&lib)
            .arg("--runtime")
            .arg(&runtime)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "reward build {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            dir.join(format!("lib{name}.h")).exists(),
            "header beside the library"
        );

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

        let c_file = dir.join(format!("drive_{name}.c"));
        std::fs::write(
            &c_file,
            C_DRIVER.replace("HEADER", &format!("\"lib{name}.h\"")),
        )
        .unwrap();
        let exe = dir.join(format!("drive_{name}"));
        let cc = Command::new("cc")
            .arg("-o")
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
            "cc: {}",
            String::from_utf8_lossy(&cc.stderr)
        );
        let ran = Command::new(&exe).arg(&rollouts).output().unwrap();
        assert!(
            ran.status.success(),
            "{name}: C driver exited with {:?}: {}",
            ran.status.code(),
            String::from_utf8_lossy(&ran.stderr)
        );
        let cli = Command::new(reward)
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
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
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
        checked += 1;
    }
    assert!(
        checked >= 6,
        "expected the bundled examples, found {checked}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
