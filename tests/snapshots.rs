//! Snapshot tests: one snapshot per file, stored in `tests/snapshots/`.
//!
//! - `examples/*.reward`: the IR, the breakdown of the sample rollouts `examples/NAME.jsonl`
//!   (one output line per input line), and every test block must pass.
//! - `stdlib/*.reward`: every test block must pass; the IR.
//! - `tests/ui/*.reward`: each must FAIL to compile; the plain-text diagnostics.
//!
//! A snapshot is an assertion: review every new or changed `.snap` by reading it. To accept
//! changes: `INSTA_UPDATE=always cargo test -p reward-compiler --test snapshots`. To run one
//! file: `INSTA_GLOB_FILTER=unknown_name_typo.reward cargo test -p reward-compiler --test
//! snapshots ui`.
//!
//! Paths in snapshots are relative to the workspace root (`tests/ui/x.reward`), whatever the
//! checkout's location, so snapshots are the same on every machine.

use std::path::{Path, PathBuf};

use reward::internals::scoring::{compile_file, Spec};
use reward::internals::testing::run_tests;

/// The workspace root, canonical (the tests run with cwd = `compiler/`).
fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .canonicalize()
        .expect("workspace root")
}

/// `path` relative to the workspace root, with `/` separators.
fn rel(path: &Path) -> String {
    let root = root();
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or(&path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Replaces the absolute workspace root in compiler output (file names in diagnostics, `at`
/// locations of run-time errors, test reports) with nothing, so that names are relative.
fn stable(text: &str) -> String {
    let mut prefix = root().display().to_string();
    prefix.push(std::path::MAIN_SEPARATOR);
    text.replace(&prefix, "")
}

/// Snapshot settings shared by every test: snapshot names without the module prefix
/// (`ui@x.reward.snap`), and no expression in the header (the description says what it is).
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// Problems found while walking a glob. A panic inside `insta::glob!` would stop at the first
/// bad file; collecting instead reports every bad file at once, after all snapshots are checked.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, text: String) {
        self.0.push(text);
    }

    fn assert_none(self, what: &str) {
        assert!(
            self.0.is_empty(),
            "{} {what} failed:\n\n{}",
            self.0.len(),
            self.0.join("\n\n")
        );
    }
}

/// The file name as the snapshot suffix (`ui@x.reward.snap`), set explicitly: `insta::glob!`
/// derives it from the files' common prefix, which is the whole path when only one file matches.
fn suffix(path: &Path) -> String {
    path.file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned()
}

/// Compiles a file that must compile; on failure records the diagnostics.
fn compile_ok(path: &Path, problems: &mut Problems) -> Option<Spec> {
    match compile_file(path, &[]) {
        Ok(spec) => Some(spec),
        Err(diags) => {
            problems.add(format!(
                "{} does not compile:\n{}",
                rel(path),
                stable(&diags)
            ));
            None
        }
    }
}

/// Runs the test blocks of a spec; records the report unless every block passes.
fn check_tests_pass(path: &Path, spec: &Spec, problems: &mut Problems) {
    let report = run_tests(spec);
    if report.failed != 0 {
        problems.add(format!(
            "{}: {} of {} test blocks failed:\n{}",
            rel(path),
            report.failed,
            report.failed + report.passed,
            stable(&report.output)
        ));
    }
}

/// Scores every line of a JSON Lines file: one output line per input line (line numbers from 1).
fn breakdown(spec: &Spec, rollouts: &str) -> String {
    let interp = spec.interpreter();
    let mut out = String::new();
    for (i, line) in rollouts.lines().enumerate() {
        let row = spec.score_line(&interp, i as u64 + 1, line);
        out.push_str(&stable(&row.json));
        out.push('\n');
    }
    out
}

#[test]
fn examples() {
    let mut problems = Problems::default();
    let mut settings = settings();
    // Examples are written over time; an empty directory is not a failure of the harness.
    settings.set_allow_empty_glob(true);
    settings.bind(|| {
        insta::glob!("../examples", "*.reward", |path| {
            let name = rel(path);
            let Some(spec) = compile_ok(path, &mut problems) else {
                return;
            };
            if spec.program.tests.is_empty() {
                problems.add(format!("{name}: an example has test blocks showing what it rewards"));
            }
            check_tests_pass(path, &spec, &mut problems);
            insta::with_settings!({ description => format!("IR of {name}"), snapshot_suffix => suffix(path) }, {
                insta::assert_snapshot!("example_ir", reward::internals::ir::print_program(&spec.program));
            });

            let rollouts_path = path.with_extension("jsonl");
            let rollouts = match std::fs::read_to_string(&rollouts_path) {
                Ok(text) => text,
                Err(e) => {
                    problems.add(format!(
                        "{name}: every example ships sample rollouts in {}: {e}",
                        rel(&rollouts_path)
                    ));
                    return;
                }
            };
            insta::with_settings!({
                description => format!("{name} scored on {} (one output line per input line)", rel(&rollouts_path)),
                snapshot_suffix => suffix(path),
            }, {
                insta::assert_snapshot!("example_scores", breakdown(&spec, &rollouts));
            });
        });
    });
    problems.assert_none("examples");
}

#[test]
fn stdlib() {
    let mut problems = Problems::default();
    settings().bind(|| {
        insta::glob!("../stdlib", "*.reward", |path| {
            let name = rel(path);
            let Some(spec) = compile_ok(path, &mut problems) else {
                return;
            };
            check_tests_pass(path, &spec, &mut problems);
            insta::with_settings!({ description => format!("IR of {name}"), snapshot_suffix => suffix(path) }, {
                insta::assert_snapshot!("stdlib_ir", reward::internals::ir::print_program(&spec.program));
            });
        });
    });
    problems.assert_none("stdlib modules");
}

/// Each `tests/ui/*.reward` shows one class of mistake (a few show several at once); it must fail
/// to compile, and its diagnostics are the snapshot. Helper files they import live in
/// `tests/ui/lib/` (not matched by the glob).
#[test]
fn ui() {
    let mut problems = Problems::default();
    settings().bind(|| {
        insta::glob!("ui", "*.reward", |path| {
            let name = rel(path);
            let source = std::fs::read_to_string(path).expect("readable ui case");
            // The leading `//` comment says what mistake the case shows.
            let what: Vec<&str> = source
                .lines()
                .map_while(|l| l.strip_prefix("//"))
                .map(str::trim)
                .collect();
            if what.is_empty() {
                problems.add(format!(
                    "{name}: a ui case starts with a `//` comment saying what mistake it shows"
                ));
                return;
            }
            let what = what.join(" ");
            let diags = match compile_file(path, &[]) {
                Ok(_) => {
                    problems.add(format!("{name} compiled, but it must fail: {what}"));
                    "(compiled without errors)\n".to_string()
                }
                Err(diags) => stable(&diags),
            };
            if diags.contains("internal compiler error") {
                problems.add(format!("{name}: the compiler crashed:\n{diags}"));
            }
            insta::with_settings!({ description => format!("{name}: {what}"), snapshot_suffix => suffix(path) }, {
                insta::assert_snapshot!("ui", diags);
            });
        });
    });
    problems.assert_none("ui cases");
}
