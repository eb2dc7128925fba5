//! TRL parity: our specs of TRL's reward functions against TRL's own scores.
//!
//! `tests/fixtures/trl_rewards.jsonl` was written by `bench/oracles/trl_rewards.py`, which runs
//! the functions of `trl.rewards` (the TRL version is in the fixture's first line) on a fixed
//! corpus: think/answer layouts with missing, duplicated, misordered and nested tags, `\r\n`,
//! trailing text, unicode and long texts; completion lengths around every boundary of the length
//! schedules; token-id lists with and without repetition. No Python runs here.
//!
//! Every case names its TRL function (`fn`), the factory arguments (`params`), the row (`input`)
//! and TRL's score (`expected`; null when TRL returned None). The spec of each function
//! (`tests/fixtures/trl_*.reward`, listed in the meta record) is compiled once per distinct
//! `params` with them as `--param` overrides, and every case is scored through
//! `Spec::score_line` with the reference interpreter AND with the Cranelift JIT. Both must give
//! TRL's score exactly: the same f64 bit pattern (so also the sign of a zero), or null for null.
//!
//! A case with an `excluded` reason cannot be compared (its input cannot be represented in a row,
//! e.g. a lone surrogate; its row is then given as JSON text in `input_line`). It is not skipped:
//! both engines must reject it with an error record, never score it, and every such case is
//! printed with its reason.
//!
//! Regenerate the fixture with `python3 bench/oracles/trl_rewards.py` (creates bench/.venv-trl).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use reward::{Engine, Options, Source, Spec};
use serde_json::{Map, Value as Json};

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::JsonLines;

const FIXTURE: &str = "tests/fixtures/trl_rewards.jsonl";
/// How many disagreeing cases a failure prints in full.
const SHOW: usize = 10;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the compiler crate lives in the workspace")
        .to_path_buf()
}

// ================================================================ fixture

struct Case {
    /// 1-based line of the case in the fixture file.
    line: u64,
    id: u64,
    func: String,
    group: String,
    params: Map<String, Json>,
    /// The row, as one JSON line (what `reward score` would read).
    input: String,
    /// TRL's score; `None` when TRL returned None.
    expected: Option<f64>,
    excluded: Option<String>,
}

struct Fixture {
    meta: Map<String, Json>,
    cases: Vec<Case>,
}

fn load_fixture() -> Fixture {
    let JsonLines { meta, rows } = fixtures::read(FIXTURE);
    let mut cases = Vec::new();
    for (line_no, mut o) in rows {
        let at = |what: &str| format!("{FIXTURE}:{line_no}: {what}");
        let mut take = |key: &str| {
            o.remove(key)
                .unwrap_or_else(|| panic!("{}", at(&format!("no `{key}`"))))
        };
        let id = take("id")
            .as_u64()
            .unwrap_or_else(|| panic!("{}", at("`id` is not a number")));
        let func = take("fn")
            .as_str()
            .unwrap_or_else(|| panic!("{}", at("`fn` is not text")))
            .to_string();
        let group = take("group").as_str().unwrap_or_default().to_string();
        let Json::Object(params) = take("params") else {
            panic!("{}", at("`params` is not an object"))
        };
        let expected = match take("expected") {
            Json::Null => None,
            Json::Number(n) => Some(
                n.as_f64()
                    .unwrap_or_else(|| panic!("{}", at("bad `expected`"))),
            ),
            other => panic!(
                "{}",
                at(&format!("`expected` must be a number or null, not {other}"))
            ),
        };
        // `input_line` (a string) holds a row that cannot be a JSON value here (lone surrogates).
        let input = match (o.remove("input"), o.remove("input_line")) {
            (Some(v @ Json::Object(_)), None) => v.to_string(),
            (None, Some(Json::String(line))) => line,
            _ => panic!(
                "{}",
                at("needs an `input` object or an `input_line` string")
            ),
        };
        let excluded = o.remove("excluded").map(|r| match r {
            Json::String(s) if !s.trim().is_empty() => s,
            other => panic!(
                "{}",
                at(&format!("`excluded` must give a reason, not {other}"))
            ),
        });
        cases.push(Case {
            line: line_no,
            id,
            func,
            group,
            params,
            input,
            expected,
            excluded,
        });
    }
    Fixture { meta, cases }
}

// ================================================================ scoring

/// What one engine made of one case.
#[derive(Debug)]
enum Outcome {
    Score(Option<f64>),
    Error(String),
}

impl Outcome {
    fn show(&self) -> String {
        match self {
            Outcome::Score(None) => "null".to_string(),
            Outcome::Score(Some(x)) => show_f64(*x),
            Outcome::Error(e) => format!("error record {e}"),
        }
    }
}

fn show_f64(x: f64) -> String {
    format!("{x:?} (bits {:#018x})", x.to_bits())
}

/// Compiles a spec file with param overrides for the interpreter; the rendered diagnostics on
/// failure.
fn compile_file(path: &Path, params: &[(String, String)]) -> Result<Spec, String> {
    let options = Options {
        params: params.to_vec(),
        ..Options::default().engine(Engine::Interpreter)
    };
    reward::compile(Source::file(path), &options).map_err(|d| d.to_string())
}

fn score_case(spec: &Spec, case: &Case) -> Outcome {
    let out = spec.score_line(case.line, &case.input, false);
    let json: Json = serde_json::from_str(&out.json).unwrap_or_else(|e| {
        panic!(
            "case {}: the output is not JSON ({e}): {}",
            case.id, out.json
        )
    });
    if out.is_error {
        return Outcome::Error(json["error"].to_string());
    }
    Outcome::Score(match &json["score"] {
        Json::Null => None,
        Json::Number(n) => n.as_f64(),
        // NaN and infinities are written as strings; TRL's fixture never has them.
        Json::String(s) => Some(match s.as_str() {
            "NaN" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("case {}: unexpected score {other:?}", case.id),
        }),
        other => panic!("case {}: the score is not a number: {other}", case.id),
    })
}

/// Same value: same bit pattern (so -0.0 differs from 0.0), or both null.
fn agrees(expected: Option<f64>, got: &Outcome) -> bool {
    match (expected, got) {
        (None, Outcome::Score(None)) => true,
        (Some(e), Outcome::Score(Some(g))) => e.to_bits() == g.to_bits(),
        _ => false,
    }
}

fn preview(input: &str) -> String {
    const MAX: usize = 600;
    if input.chars().count() <= MAX {
        input.to_string()
    } else {
        let head: String = input.chars().take(MAX).collect();
        format!("{head}… ({} characters in all)", input.chars().count())
    }
}

/// A case on which at least one engine differs from TRL.
struct Disagreement {
    func: String,
    /// The engines that differ.
    engines: Vec<&'static str>,
    /// The case, TRL's score and both engines' outcomes, for people.
    text: String,
}

// ================================================================ the tests

#[test]
fn trl_reward_functions_agree_with_their_specs_on_every_fixture_case() {
    let root = repo_root();
    let fixture = load_fixture();
    let meta = &fixture.meta;
    let functions = meta["functions"]
        .as_object()
        .expect("meta.functions is an object");
    let trl_version = meta["trl_version"].as_str().unwrap_or("?");

    // The fixture must be what its meta record says, and every covered function must be used.
    assert_eq!(
        meta["cases"].as_u64(),
        Some(fixture.cases.len() as u64),
        "meta.cases != number of case lines"
    );
    let mut per_fn: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &fixture.cases {
        assert!(
            functions.contains_key(&c.func),
            "case {}: `{}` is not in meta.functions",
            c.id,
            c.func
        );
        *per_fn.entry(c.func.as_str()).or_default() += 1;
    }
    for (name, info) in functions {
        let n = per_fn.get(name.as_str()).copied().unwrap_or(0);
        assert_eq!(
            info["cases"].as_u64(),
            Some(n as u64),
            "meta.functions.{name}.cases"
        );
        assert!(
            n >= 100,
            "{name}: only {n} cases; the fixture is meant to stress every function"
        );
    }
    let n_excluded = fixture
        .cases
        .iter()
        .filter(|c| c.excluded.is_some())
        .count();
    assert_eq!(
        meta["excluded"].as_u64(),
        Some(n_excluded as u64),
        "meta.excluded != cases with `excluded`"
    );

    // One compiled spec (both engines) per function and distinct params, in fixture order.
    let mut groups: Vec<((String, String), Vec<&Case>)> = Vec::new();
    for c in &fixture.cases {
        let key = (c.func.clone(), Json::Object(c.params.clone()).to_string());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cases)) => cases.push(c),
            None => groups.push((key, vec![c])),
        }
    }

    let mut disagreements: Vec<Disagreement> = Vec::new();
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    for ((func, params_json), cases) in &groups {
        let spec_rel = functions[func]["spec"]
            .as_str()
            .expect("meta.functions.*.spec is a path");
        let overrides: Vec<(String, String)> = cases[0]
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let spec = compile_file(&root.join(spec_rel), &overrides).unwrap_or_else(|e| {
            panic!("{spec_rel} with params {params_json} does not compile:\n{e}")
        });
        let jit = spec
            .with_engine(Engine::Jit)
            .unwrap_or_else(|e| panic!("{spec_rel} with params {params_json}: the JIT fails: {e}"));
        let engines: [(&'static str, &Spec); 2] = [("interp", &spec), ("jit", &jit)];
        for case in cases {
            let outcomes = engines.map(|(engine, spec)| (engine, score_case(spec, case)));
            let ok = |got: &Outcome| match &case.excluded {
                None => agrees(case.expected, got),
                Some(_) => matches!(got, Outcome::Error(_)),
            };
            if !outcomes.iter().all(|(_, got)| ok(got)) {
                let mut text = String::new();
                let _ = writeln!(
                    text,
                    "case {} ({FIXTURE}:{}), {func} [{}]:",
                    case.id, case.line, case.group
                );
                let _ = writeln!(text, "  spec:   {spec_rel}  params {params_json}");
                let _ = writeln!(text, "  input:  {}", preview(&case.input));
                match &case.excluded {
                    None => {
                        let want = case.expected.map_or("null".to_string(), show_f64);
                        let _ = writeln!(text, "  TRL:    {want}");
                    }
                    Some(reason) => {
                        let _ = writeln!(
                            text,
                            "  TRL:    excluded ({reason}): an error record is expected"
                        );
                    }
                }
                for (engine, got) in &outcomes {
                    let verdict = if ok(got) { "agrees" } else { "DIFFERS" };
                    let _ = writeln!(text, "  {engine:<6}  {} — {verdict}", got.show());
                }
                let engines = outcomes
                    .iter()
                    .filter(|(_, got)| !ok(got))
                    .map(|(e, _)| *e)
                    .collect();
                disagreements.push(Disagreement {
                    func: func.clone(),
                    engines,
                    text,
                });
            }
            if case.excluded.is_none() {
                *compared.entry(func.as_str()).or_default() += 1;
            }
        }
    }

    println!(
        "TRL {trl_version} parity ({} cases, {} groups of params):",
        fixture.cases.len(),
        groups.len()
    );
    for (name, n) in &per_fn {
        println!(
            "  {name:<32} {n:>5} cases, {:>5} compared",
            compared.get(name).copied().unwrap_or(0)
        );
    }
    println!(
        "excluded cases ({n_excluded}): each must be rejected as an error record by both engines"
    );
    for c in fixture.cases.iter().filter(|c| c.excluded.is_some()) {
        println!(
            "  case {} ({}): {} — input {}",
            c.id,
            c.func,
            c.excluded.as_deref().unwrap_or(""),
            preview(&c.input)
        );
    }

    if !disagreements.is_empty() {
        let mut per_fn: BTreeMap<&str, usize> = BTreeMap::new();
        let mut per_engine: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &disagreements {
            *per_fn.entry(d.func.as_str()).or_default() += 1;
            for e in &d.engines {
                *per_engine.entry(e).or_default() += 1;
            }
        }
        let mut msg = format!(
            "{} of {} cases disagree with TRL {trl_version}: per function {per_fn:?}, per engine \
             {per_engine:?}; the first {}:\n",
            disagreements.len(),
            fixture.cases.len(),
            SHOW.min(disagreements.len())
        );
        for d in disagreements.iter().take(SHOW) {
            msg.push_str(&d.text);
        }
        panic!("{msg}");
    }
}

/// The specs' own `test` blocks (documentation examples and TRL docstring cases) pass.
#[test]
fn trl_specs_pass_their_own_tests() {
    let root = repo_root();
    let fixture = load_fixture();
    let functions = fixture.meta["functions"]
        .as_object()
        .expect("meta.functions is an object");
    for (name, info) in functions {
        let rel = info["spec"]
            .as_str()
            .expect("meta.functions.*.spec is a path");
        let spec =
            compile_file(&root.join(rel), &[]).unwrap_or_else(|e| panic!("{rel} ({name}):\n{e}"));
        assert!(!spec.tests().is_empty(), "{rel}: no test blocks");
        let report = spec.run_tests();
        assert_eq!(report.failed, 0, "{rel}:\n{}", report.output);
    }
}
