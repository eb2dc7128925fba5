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

use reward::{Engine, Options, Source, Spec};

/// Compiles a file for the interpreter, the reference engine; on failure the diagnostics as
/// the CLI prints them.
fn compile_file(path: &Path) -> Result<Spec, String> {
    reward::compile(
        Source::file(path),
        &Options::default().engine(Engine::Interpreter),
    )
    .map_err(|d| d.to_string())
}

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
    match compile_file(path) {
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
    let report = spec.run_tests();
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
/// A spec with a `group by` block is scored as `reward score` scores it: the whole file, then
/// the group stage (line by line, its group terms would never be computed).
fn breakdown(spec: &Spec, rollouts: &str) -> String {
    let lines: Vec<(u64, String)> = rollouts
        .lines()
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line.to_string()))
        .collect();
    let mut out = String::new();
    for row in spec.score_lines(&lines, false) {
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
            if spec.tests().is_empty() {
                problems.add(format!("{name}: an example has test blocks showing what it rewards"));
            }
            check_tests_pass(path, &spec, &mut problems);
            insta::with_settings!({ description => format!("IR of {name}"), snapshot_suffix => suffix(path) }, {
                insta::assert_snapshot!("example_ir", spec.ir_text());
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
            insta::with_settings!({
                description => format!("reward probe {name} --rows {}: what each attack family finds", rel(&rollouts_path)),
                snapshot_suffix => suffix(path),
            }, {
                insta::assert_snapshot!("example_probe", probe_findings(path, &rollouts));
            });
        });
    });
    problems.assert_none("examples");
}

/// What `reward probe` finds in an example with its sample rows: each example states its
/// expected probe results in its snapshot, so an edit that opens a hole shows up in review.
fn probe_findings(path: &Path, rollouts: &str) -> String {
    let spec = match reward::compile(reward::Source::file(path), &reward::Options::default()) {
        Ok(spec) => spec,
        Err(d) => return format!("does not compile: {d}"),
    };
    let rows: Vec<serde_json::Value> = rollouts
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let statics: String = spec
        .static_findings_with_rows(&rows)
        .iter()
        .map(|f| {
            format!(
                "in the text, {}:{}: {} — {}\n",
                f.line, f.column, f.kind, f.snippet
            )
        })
        .collect();
    probe_attacks(&spec, rollouts) + &statics
}

fn probe_attacks(spec: &reward::Spec, rollouts: &str) -> String {
    let options = match reward::ProbeOptions::for_spec(spec, None, None) {
        Ok(options) => options,
        Err(e) => return format!("not probed: {e}\n"),
    };
    let rows: Vec<serde_json::Value> = rollouts
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    match reward::probe(spec, &rows, &options) {
        Ok(report) if report.skipped.is_some() => {
            format!("not probed: {}\n", report.skipped.unwrap_or_default())
        }
        Ok(report) => {
            let mut out = format!(
                "{} attacks on {} rows ({} / {}), format: {}\n",
                report.attacks, report.rows, options.completion, options.gold, report.format
            );
            for f in &report.findings {
                out.push_str(&format!(
                    "{} {}: {} — {}/{} golds, {} vs correct {}\n",
                    if f.severe { "SEVERE " } else { "warning" },
                    f.family,
                    f.attack,
                    f.hits,
                    f.rows,
                    f.score,
                    f.reference
                ));
            }
            for (attack, error) in &report.errors {
                out.push_str(&format!("row error on {attack}: {error}\n"));
            }
            out
        }
        Err(e) => format!("not probed: {e}\n"),
    }
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
                insta::assert_snapshot!("stdlib_ir", spec.ir_text());
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
            let diags = match compile_file(path) {
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

// ---------------------------------------------------------------- the formatter

#[path = "common/mutate.rs"]
mod mutate;
#[path = "common/random_programs.rs"]
mod random_programs;

/// Every spec of the repository that parses, by path, with the directory its imports are
/// relative to.
fn repository_specs() -> Vec<(PathBuf, String)> {
    let mut specs = Vec::new();
    for dir in [
        "examples",
        "stdlib",
        "tests/ui",
        "tests/fixtures",
        "tests/engines",
        "bench",
    ] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("spec directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "reward"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("spec text");
            if reward::format("spec", &text).is_ok() {
                specs.push((path, text));
            }
        }
    }
    specs
}

/// The IR of a spec's text, or its diagnostics without their places (a spec that does not
/// check must fail the same way after formatting).
fn meaning(text: &str, dir: &Path) -> String {
    let source = reward::Source::Text {
        name: "spec".into(),
        text: text.into(),
        dir: dir.to_path_buf(),
    };
    match reward::compile(
        source,
        &reward::Options::default().engine(reward::Engine::Interpreter),
    ) {
        Ok(spec) => spec.ir_text(),
        Err(diags) => diags
            .problems()
            .iter()
            .map(|p| format!("{:?} {}\n", p.code, p.message))
            .collect(),
    }
}

/// The same text with every line's indentation, trailing spaces and blank-line runs
/// changed at random, outside triple-quoted strings (whose lines are their value).
fn relaid(text: &str, rng: &mut mutate::Rng) -> String {
    let mut out = String::new();
    let mut in_string = false;
    for line in text.lines() {
        if in_string {
            out.push_str(line);
        } else if line.trim().is_empty() {
            out.push_str(&"\n".repeat(rng.below(3)));
        } else {
            out.push_str(&" ".repeat(rng.below(11)));
            if rng.below(4) == 0 {
                out.push('\t');
            }
            out.push_str(line.trim_start());
            out.push_str(&" ".repeat(rng.below(3)));
        }
        out.push('\n');
        in_string ^= line.matches("\"\"\"").count() % 2 == 1;
    }
    out
}

#[test]
fn formatting_is_canonical_idempotent_and_keeps_the_meaning() {
    let specs = repository_specs();
    assert!(specs.len() > 60, "only {} specs found", specs.len());
    let mut rng = mutate::Rng(0x5eed_f0a7);
    let mut problems = Vec::new();
    for (path, text) in &specs {
        let dir = path.parent().expect("a spec's directory");
        let formatted = reward::format("spec", text).expect("it parsed");
        if formatted != *text {
            problems.push(format!("{}: not formatted (run `reward fmt`)", rel(path)));
        }
        let again = reward::format("spec", &formatted).expect("formatted text parses");
        if again != formatted {
            problems.push(format!("{}: formatting twice changes the text", rel(path)));
        }
        let before = meaning(text, dir);
        for _ in 0..3 {
            let messy = relaid(&formatted, &mut rng);
            match reward::format("spec", &messy) {
                Ok(back) if back == formatted => {}
                Ok(back) => problems.push(format!(
                    "{}: a re-indented copy formats differently:\n{back}",
                    rel(path)
                )),
                Err(d) => problems.push(format!("{}: a re-indented copy: {d}", rel(path))),
            }
            if meaning(&messy, dir) != before {
                problems.push(format!(
                    "{}: the re-indented copy means something else",
                    rel(path)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn formatting_random_programs_keeps_their_ir() {
    let mut rng = mutate::Rng(0x0f0a_7123);
    for case in 0..300 {
        let choices: Vec<u32> = (0..rng.below(400)).map(|_| rng.next() as u32).collect();
        let text = random_programs::random_program(&choices);
        let formatted = reward::format("spec", &text).unwrap_or_else(|d| {
            panic!("case {case}: a generated program does not parse:\n{d}\n{text}")
        });
        assert_eq!(
            reward::format("spec", &formatted).expect("formatted text parses"),
            formatted,
            "case {case}: formatting twice changes\n{text}"
        );
        let messy = relaid(&formatted, &mut rng);
        assert_eq!(
            reward::format("spec", &messy).expect("re-indented text parses"),
            formatted,
            "case {case}: a re-indented copy formats differently"
        );
        assert_eq!(
            meaning(&formatted, Path::new(".")),
            meaning(&text, Path::new(".")),
            "case {case}: formatting changed the IR of\n{text}"
        );
    }
}

#[test]
fn the_formatter_lays_out_each_construct() {
    let messy = "use std::extract::{ final_answer,boxed }\ninput{completion:text, steps: list[ {x:float} ] // the trace\n}\n\
        /// doc\nfn f( x:int )->int=x*2+ - 1\nlet a:int=f(1)\n  let b = if a>1 then\n 1\nelse 2\n\n\n\n\
        rubric r(clip:[ 0,1 ]){criterion \"c\" -2 : a>1 tag \"t\"}\n\
        machine m over steps { start s\n s->t when step.x>0 reward 1.0 // go\n t,s -> u when step.x<0\n terminal u }\n\
        ltl l over steps = always( step.x>0 )until[1,2]eventually (! (step.x<0))\n\
        score=a+\nb\ntest \"t\"{given{completion:\"x\",steps:[{x:1.0}]}expect score==3}\n";
    let expected = "\
use std::extract::{final_answer, boxed}
input {
    completion: text,
    steps: list[{x: float}]  // the trace
}
/// doc
fn f(x: int) -> int = x * 2 + -1
let a: int = f(1)
let b = if a > 1 then
        1
    else 2

rubric r (clip: [0, 1]) {
    criterion \"c\" -2: a > 1 tag \"t\"
}
machine m over steps {
    start s
    s -> t    when step.x > 0 reward 1.0  // go
    t, s -> u when step.x < 0
    terminal u
}
ltl l over steps = always(step.x > 0) until[1, 2] eventually(!(step.x < 0))
score = a +
    b
test \"t\" {
    given { completion: \"x\", steps: [{x: 1.0}] }
    expect score == 3
}
";
    let formatted = reward::format("spec", messy).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(formatted, expected, "got:\n{formatted}");
    assert_eq!(reward::format("spec", &formatted).unwrap(), formatted);

    let broken = reward::format("broken.reward", "let x = (1 +\nscore = x\n").unwrap_err();
    assert!(broken.to_string().contains("broken.reward:"), "{broken}");
    assert_eq!(broken.problems()[0].code.as_deref(), Some("E0001"));
}
