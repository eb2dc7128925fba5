//! LTLf against the world and against itself:
//! - truth of 2,640 formula/trace cases decided by flloat and ltlf2dfa+MONA
//!   (tests/fixtures/ltlf_truth.jsonl, from bench/oracles/ltlf_truth.py), on both engines;
//! - robustness of STL formulas on random signals computed by rtamt
//!   (tests/fixtures/stl_robustness.jsonl, from bench/oracles/stl_robustness.py), on both engines;
//! - on random formulas: the minimal DFA accepts exactly the traces the direct semantics
//!   satisfies, and the sign of robustness agrees with the boolean verdict;
//! - a machine that calls others equals its hand-written flattening.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reward::{Engine, Options, RowError, Source, Spec};
use reward_runtime::ltl::{evaluate_all, Node, Op, UNBOUNDED};
use reward_runtime::value::{Column, Columns};
use reward_runtime::Value;
use serde_json::Value as Json;

#[path = "common/fixtures.rs"]
mod fixtures;

#[path = "common/random_formulas.rs"]
mod random_formulas;

#[path = "common/specs.rs"]
mod specs;

#[path = "common/traces.rs"]
mod traces;
use random_formulas::{random_formula, xorshift};
use specs::compile_named;
use traces::{engines_agree, float_rows, optional_rows, xyb_rows, OPTIONAL_STEPS};

/// The cases of a fixture (its meta line left out).
fn fixture(name: &str) -> Vec<Json> {
    let file = fixtures::read(&format!("tests/fixtures/{name}"));
    file.rows
        .into_iter()
        .map(|(_, o)| Json::Object(o))
        .collect()
}

fn compile(text: &str) -> Spec {
    compile_named("temporal.reward", text)
        .unwrap_or_else(|d| panic!("spec does not compile:\n{d}\n{text}"))
}

/// The spec on the interpreter and on the JIT.
fn engines(spec: &Spec) -> Vec<Spec> {
    let jit = spec
        .with_engine(Engine::Jit)
        .expect("the JIT compiles the spec");
    vec![spec.clone(), jit]
}

/// Every term of a row, as the engines compute it.
trait EvalRow {
    fn eval_row(&self, row: &Value) -> Result<Vec<Value>, RowError>;
    fn name(&self) -> &'static str;
}

impl EvalRow for Spec {
    fn eval_row(&self, row: &Value) -> Result<Vec<Value>, RowError> {
        self.evaluate(&self.row(row.clone()).expect("a row of the schema"))
    }

    fn name(&self) -> &'static str {
        self.engine().name()
    }
}

fn term(spec: &Spec, name: &str) -> usize {
    spec.all_terms()
        .iter()
        .position(|t| t.name == name)
        .unwrap_or_else(|| panic!("no term {name}"))
}

/// `src` compiled for the interpreter and the JIT, and the index of each term named in `names`.
fn compile_both(src: &str, names: Vec<String>) -> (Spec, Spec, Vec<(usize, String)>) {
    let spec = compile(src);
    let jit = spec.with_engine(Engine::Jit).expect("the JIT compiles");
    let terms = names
        .into_iter()
        .map(|name| (term(&spec, &name), name))
        .collect();
    (spec, jit, terms)
}

#[test]
fn ltlf_truth_matches_flloat_and_ltlf2dfa_on_both_engines() {
    let cases = fixture("ltlf_truth.jsonl");
    assert!(cases.len() >= 2000, "{} cases", cases.len());
    // One spec per formula (each formula comes with several traces).
    let mut formulas: Vec<(String, String)> = Vec::new();
    for c in &cases {
        let f = (
            c["formula"].as_str().unwrap().to_string(),
            c["at"].as_str().unwrap().to_string(),
        );
        if !formulas.contains(&f) {
            formulas.push(f);
        }
    }
    let mut checked = 0;
    for chunk in formulas.chunks(60) {
        let mut src = String::from(
            "input { steps: list[text] }\nprop a = \"a\" in step\nprop b = \"b\" in step\nprop c = \"c\" in step\nprop d = \"d\" in step\n",
        );
        for (k, (f, at)) in chunk.iter().enumerate() {
            // A pure-past formula holds on a trace when it holds at the last step.
            let f = if at == "last" {
                format!("eventually(({f}) and wnext false)")
            } else {
                f.clone()
            };
            src.push_str(&format!("ltl f{k} = {f}\n"));
        }
        src.push_str("score = 0.0\n");
        let spec = compile(&src);
        // The same formulas over steps of four bools, held as columns: the JIT's loops over
        // the steps (see `formulas_compiled_to_loops_equal_the_interpreter_bit_for_bit`).
        let over_bools = src
            .replace(
                "input { steps: list[text] }",
                "input { steps: list[{a: bool, b: bool, c: bool, d: bool}] }",
            )
            .replace("\"a\" in step", "step.a")
            .replace("\"b\" in step", "step.b")
            .replace("\"c\" in step", "step.c")
            .replace("\"d\" in step", "step.d");
        let over_bools = compile(&over_bools)
            .with_engine(Engine::Jit)
            .expect("the JIT compiles");
        let Ok([interp, jit]) = <[Spec; 2]>::try_from(engines(&spec)) else {
            panic!("two engines")
        };
        for c in &cases {
            let key = (
                c["formula"].as_str().unwrap().to_string(),
                c["at"].as_str().unwrap().to_string(),
            );
            let Some(k) = chunk.iter().position(|f| *f == key) else {
                continue;
            };
            let steps = c["trace"].as_array().unwrap();
            let letters = |s: &Json| -> Vec<String> {
                s.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            };
            // Each step a text of its letters, and the same as four columns of bools.
            let texts: Vec<Value> = steps
                .iter()
                .map(|s| Value::text(&letters(s).concat()))
                .collect();
            let as_texts = Value::Record(vec![Value::List(texts.into())].into());
            let letter = |l: &str| {
                Column::Bool(
                    steps
                        .iter()
                        .map(|s| letters(s).iter().any(|x| x == l))
                        .collect(),
                )
            };
            let as_columns = columns_row(
                steps.len(),
                ["a", "b", "c", "d"].into_iter().map(letter).collect(),
            );
            for (name, engine, row) in [
                ("the interpreter", &interp, &as_texts),
                ("the JIT", &jit, &as_texts),
                ("the JIT over columns", &over_bools, &as_columns),
            ] {
                let values = engine.eval_row(row).expect("no row error");
                let got = values[term(engine, &format!("f{k}"))].as_bool();
                assert_eq!(
                    got,
                    c["holds"].as_bool().unwrap(),
                    "{name} on {}: case {} ({}, {})",
                    c["trace"],
                    c["id"],
                    c["formula_tool"],
                    c["tool"]
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * cases.len());
}

/// A row whose one column is a trace of `n` steps held as the arrays `fields`.
fn columns_row(n: usize, fields: Vec<Column>) -> Value {
    let steps = Value::Columns(std::sync::Arc::new(Columns::new(n, fields)));
    Value::Record(vec![steps].into())
}

fn parse_robustness(v: &Json) -> f64 {
    match v {
        Json::String(s) if s == "inf" => f64::INFINITY,
        Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other.as_f64().expect("a number"),
    }
}

#[test]
fn robustness_matches_rtamt_on_both_engines() {
    let cases = fixture("stl_robustness.jsonl");
    // Every case, bounded `until[a, b]` included (363 of them).
    let supported: Vec<&Json> = cases.iter().collect();
    assert!(supported.len() >= 1200, "{} cases", supported.len());
    assert!(
        supported
            .iter()
            .filter(|c| c["formula"].as_str().unwrap().contains("until["))
            .count()
            >= 300
    );
    let mut checked = 0;
    for chunk in supported.chunks(60) {
        let mut src = String::from("input { steps: list[{x: float, y: float}] }\n");
        for (k, c) in chunk.iter().enumerate() {
            src.push_str(&format!(
                "ltl f{k} = {}\nlet r{k} = robustness(f{k})\n",
                c["formula"].as_str().unwrap()
            ));
        }
        src.push_str("score = 0.0\n");
        let spec = compile(&src);
        let Ok([interp, jit]) = <[Spec; 2]>::try_from(engines(&spec)) else {
            panic!("two engines")
        };
        for (k, c) in chunk.iter().enumerate() {
            let steps = c["trace"].as_array().unwrap();
            // The trace as records, and held as columns (the JIT's loops over the steps).
            let records: Vec<Value> = steps
                .iter()
                .map(|p| {
                    Value::Record(
                        vec![
                            Value::Float(p["x"].as_f64().unwrap()),
                            Value::Float(p["y"].as_f64().unwrap()),
                        ]
                        .into(),
                    )
                })
                .collect();
            let as_records = Value::Record(vec![Value::List(records.into())].into());
            let field = |f: &str| {
                Column::Float(
                    steps
                        .iter()
                        .map(|p| p[f].as_f64().unwrap())
                        .collect::<Vec<_>>()
                        .into(),
                )
            };
            let as_columns = columns_row(steps.len(), vec![field("x"), field("y")]);
            let want = parse_robustness(&c["robustness"]);
            for (name, engine, row) in [
                ("the interpreter", &interp, &as_records),
                ("the JIT", &jit, &as_records),
                ("the JIT over columns", &jit, &as_columns),
            ] {
                let values = engine.eval_row(row).expect("no row error");
                let got = values[term(&spec, &format!("r{k}"))].as_f64();
                assert!(
                    got == want,
                    "{name}: case {} {}: got {got}, rtamt {want}",
                    c["id"],
                    c["formula_tool"]
                );
                // The sign agrees with the formula's truth wherever it is not 0.
                let truth = values[term(&spec, &format!("f{k}"))].as_bool();
                if got != 0.0 {
                    assert_eq!(truth, got > 0.0, "{name}: case {}", c["id"]);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * supported.len());
}

#[test]
fn robustness_sign_agrees_with_truth_on_random_formulas() {
    let mut rng = xorshift(0xfeed_beef);
    let mut nonzero = 0;
    for _ in 0..1500 {
        let atoms = 1 + (rng() % 3) as u32;
        let size = 1 + (rng() % 7) as u32;
        let nodes = random_formula(&mut rng, atoms, size, false);
        let n = 1 + (rng() % 10) as usize;
        // Non-zero atom robustness, so that an atom's truth is its sign.
        let values: Vec<Vec<f64>> = (0..atoms)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        let x = (rng() % 2001) as f64 / 100.0 - 10.0;
                        if x == 0.0 {
                            0.5
                        } else {
                            x
                        }
                    })
                    .collect()
            })
            .collect();
        let rob = evaluate_all(&nodes, n, &|k, i| values[k as usize][i]);
        let truth = evaluate_all(&nodes, n, &|k, i| {
            if values[k as usize][i] > 0.0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }
        });
        for i in 0..n {
            let r = rob[(nodes.len() - 1) * n + i];
            let t = truth[(nodes.len() - 1) * n + i] > 0.0;
            if r != 0.0 {
                nonzero += 1;
                assert_eq!(r > 0.0, t, "{nodes:?} {values:?} at {i}: robustness {r}");
            }
        }
    }
    assert!(nonzero > 3000);
}

#[test]
fn windows_cost_near_linear_time_whatever_their_width() {
    // eventually[0, w] over 200,000 steps for a huge w: the sliding window, not n·w work.
    let n = 200_000;
    let nodes = [
        Node::new(Op::Atom, 0, 0),
        Node {
            lo: 0,
            hi: UNBOUNDED - 1,
            ..Node::new(Op::Eventually, 0, 0)
        },
        Node {
            lo: 3,
            hi: 150_000,
            ..Node::new(Op::Always, 1, 0)
        },
    ];
    let vals = evaluate_all(&nodes, n, &|_, i| if i == n - 1 { 1.0 } else { -1.0 });
    assert_eq!(vals[2 * n], 1.0);
    assert_eq!(vals[n + n - 2], 1.0);
    // a until[2, 150000] b: a holds but at n − 5, b only at the last step.
    let nodes = [
        Node::new(Op::Atom, 0, 0),
        Node::new(Op::Atom, 1, 0),
        Node {
            lo: 2,
            hi: 150_000,
            ..Node::new(Op::Until, 0, 1)
        },
    ];
    let vals = evaluate_all(&nodes, n, &|k, i| match (k, i) {
        (0, i) if i == n - 5 => -1.0,
        (0, _) => 1.0,
        (_, i) if i == n - 1 => 1.0,
        _ => -1.0,
    });
    let until = &vals[2 * n..];
    assert_eq!(until[0], -1.0, "b is beyond the window");
    assert_eq!(until[60_000], -1.0, "a fails on the way to b");
    assert_eq!(until[n - 4], 1.0);
    assert_eq!(
        until[n - 2],
        f64::NEG_INFINITY,
        "the window starts past the end"
    );
}

const HIERARCHY: &str = r#"
input { events: list[text] }
prop coffee = "f" in step
prop office = "g" in step
prop mail = "e" in step
prop decoration = "n" in step

machine get_coffee over events {
    start look
    look -> holding when coffee and not decoration reward 0.25
    look -> spilled when decoration reward -0.5
    terminal holding, spilled
}

machine get_mail over events {
    start wait
    wait -> sorted when mail reward 1.0
    terminal sorted
}

machine top over events (otherwise: stay) {
    start fetch
    fetch -> carry via get_coffee when not office
    carry -> post via get_mail when not decoration reward 2
    post -> delivered when office reward 1
    terminal delivered
}

machine flat over events (otherwise: stay, order: first) {
    start fetch
    fetch -> carry when not office and coffee and not decoration reward 0.25
    fetch -> carry when not office and decoration reward -0.5
    fetch -> inside_coffee when not office
    inside_coffee -> carry when coffee and not decoration reward 0.25
    inside_coffee -> carry when decoration reward -0.5
    carry -> post when not decoration and mail reward 3
    carry -> inside_mail when not decoration
    inside_mail -> post when mail reward 3
    post -> delivered when office reward 1
    terminal delivered
}

score = top
"#;

#[test]
fn a_hierarchical_machine_equals_its_flattening_on_both_engines() {
    let src = HIERARCHY;
    let spec = compile(src);
    let (top, flat) = (term(&spec, "top#run"), term(&spec, "flat#run"));
    let engines = engines(&spec);
    let letters = ["", "f", "g", "e", "n", "fe", "ge", "fn"];
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    runner
        .run(
            &proptest::collection::vec(0..letters.len(), 0..14),
            |trace| {
                let row = Value::Record(
                    vec![Value::List(
                        trace.iter().map(|&i| Value::text(letters[i])).collect(),
                    )]
                    .into(),
                );
                for engine in &engines {
                    let v = engine.eval_row(&row).expect("no row error");
                    prop_assert!(
                        v[top].same(&Value::Record(match &v[flat] {
                            Value::Record(f) => {
                                let mut f = f.to_vec();
                                // Same rewards, total and done step; state names differ.
                                f[3] = match &v[top] {
                                    Value::Record(t) => t[3].clone(),
                                    _ => Value::None,
                                };
                                f[4] = match &v[top] {
                                    Value::Record(t) => t[4].clone(),
                                    _ => Value::None,
                                };
                                f.into()
                            }
                            _ => unreachable!(),
                        })),
                        "{} on {:?}: {} vs {}",
                        engine.name(),
                        trace.iter().map(|&i| letters[i]).collect::<Vec<_>>(),
                        v[top],
                        v[flat]
                    );
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn machine_calls_that_cycle_or_end_are_rejected() {
    let cyclic = HIERARCHY.replace(
        "wait -> sorted when mail",
        "wait -> sorted via top when mail",
    );
    let err = compile_named("c.reward", &cyclic).err().expect("rejected");
    assert!(
        err.contains("E0012") && err.contains("calls itself"),
        "{err}"
    );
    let ending = HIERARCHY.replace(
        "machine get_mail over events {",
        "machine get_mail over events (otherwise: end) {",
    );
    let err = compile_named("e.reward", &ending).err().expect("rejected");
    assert!(err.contains("must use `otherwise: stay`"), "{err}");
}

#[test]
fn shaping_adds_the_potential_difference_from_value_iteration() {
    let src = r#"
input { events: list[text] }
prop coffee = "f" in step
prop office = "g" in step
machine m over events (otherwise: stay) {
    start fetch
    fetch -> carry when coffee
    carry -> done when office reward 1
    terminal done
}
shape m potential(gamma: 0.5)
machine u over events (otherwise: stay) {
    start fetch
    fetch -> carry when coffee
    carry -> done when office reward 1
    terminal done
}
shape u potential(gamma: 0.5, states: {fetch: 2.0, carry: 3.0})
score = m
"#;
    let spec = compile(src);
    // V(carry) = 1, V(fetch) = 0.5 · 1; Φ = −V.
    // "" : stay in fetch, 0.5·(−0.5) − (−0.5) = 0.25; "f": 0.5·(−1) − (−0.5) = 0;
    // "g": 1 + 0 − (−1) = 2 (a terminal state has potential 0).
    let row = Value::Record(
        vec![Value::List(
            ["", "f", "g", "g"].iter().map(|s| Value::text(s)).collect(),
        )]
        .into(),
    );
    for engine in engines(&spec) {
        let v = engine.eval_row(&row).unwrap();
        let Value::Record(r) = &v[term(&spec, "m#run")] else {
            panic!()
        };
        let rewards: Vec<f64> = r[1].as_list().iter().map(Value::as_f64).collect();
        assert_eq!(rewards, vec![0.25, 0.0, 2.0, 0.0], "{}", engine.name());
        // User potentials: 0.5·2 − 2 = −1; 0.5·3 − 2 = −0.5; 1 + 0 − 3 = −2.
        let Value::Record(r) = &v[term(&spec, "u#run")] else {
            panic!()
        };
        let rewards: Vec<f64> = r[1].as_list().iter().map(Value::as_f64).collect();
        assert_eq!(rewards, vec![-1.0, -0.5, -2.0, 0.0], "{}", engine.name());
    }
}

#[test]
fn an_empty_trace_is_a_row_error_naming_the_formula_on_both_engines() {
    for (example, formula) in [
        ("robot_reach_avoid.reward", "reach_avoid"),
        ("tool_agent_protocol.reward", "protocol"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(example);
        let spec = reward::compile(
            Source::file(path),
            &Options::default().engine(Engine::Interpreter),
        )
        .expect("example compiles");
        // Both inputs: an optional text column, then the trace.
        let empty = Value::Record(vec![Value::None, Value::List(Vec::new().into())].into());
        for engine in engines(&spec) {
            let err = engine
                .eval_row(&empty)
                .err()
                .unwrap_or_else(|| panic!("{}: an empty trace must be an error", engine.name()));
            assert!(
                err.message
                    .contains(&format!("`{formula}`: the trace is empty")),
                "{}: {}",
                engine.name(),
                err.message
            );
        }
    }
}

#[test]
fn a_guard_whose_atom_can_fail_keeps_short_circuit_evaluation() {
    // `step.xs[0] > 0` would fail on an empty list; `len(step.xs) > 0 and …` guards it, so the
    // machine must not evaluate the atom on steps where the first conjunct is false.
    let src = r#"
input { steps: list[{xs: list[int]}] }
machine m over steps (otherwise: stay) {
    start a
    a -> b when len(step.xs) > 0 and step.xs[0] > 0 reward 1
    terminal b
}
score = m
"#;
    let spec = compile(src);
    let row = |lists: &[&[i64]]| {
        Value::Record(
            vec![Value::List(
                lists
                    .iter()
                    .map(|xs| {
                        Value::Record(
                            vec![Value::List(xs.iter().map(|&x| Value::Int(x)).collect())].into(),
                        )
                    })
                    .collect(),
            )]
            .into(),
        )
    };
    for engine in engines(&spec) {
        let v = engine
            .eval_row(&row(&[&[], &[0], &[5]]))
            .unwrap_or_else(|e| panic!("{}: {}", engine.name(), e.message));
        assert_eq!(v[term(&spec, "m")].as_f64(), 1.0, "{}", engine.name());
    }
}

#[test]
fn a_rewarded_formula_is_shaped_by_value_iteration_on_its_automaton() {
    // eventually(a): start q0 (undecided) and an accepting sink. V(q0) = 1 (one step from the
    // reward), the sink is final (worth 0); Φ = −V. On ["", "a"]:
    //   step 0 (stay in q0): 0 + 0.5·(−1) − (−1) = 0.5;  step 1 (accept): 1 + 0 − (−1) = 2.
    let src = r#"
input { steps: list[text] }
prop a = "a" in step
ltl f = eventually(a) reward on accept 1.0
shape f potential(gamma: 0.5)
score = f
"#;
    let spec = compile(src);
    let row = Value::Record(
        vec![Value::List(
            vec![Value::text(""), Value::text("a"), Value::text("")].into(),
        )]
        .into(),
    );
    for engine in engines(&spec) {
        let v = engine.eval_row(&row).unwrap();
        let Value::Record(run) = &v[term(&spec, "f#run")] else {
            panic!("a run record")
        };
        let rewards: Vec<f64> = run[1].as_list().iter().map(Value::as_f64).collect();
        assert_eq!(rewards, vec![0.5, 2.0, 0.0], "{}", engine.name());
        assert_eq!(v[term(&spec, "f")].as_f64(), 2.5);
    }
}

/// `n` conjoined chains `eventually(a and next eventually(b until c))` over disjoint atoms, with
/// a reward on acceptance and per-step verdicts.
fn chains_spec(n: usize) -> String {
    let atoms: Vec<String> = (0..3 * n).map(|i| format!("x{i}")).collect();
    let fields: Vec<String> = atoms.iter().map(|a| format!("{a}: bool")).collect();
    let props: Vec<String> = atoms
        .iter()
        .map(|a| format!("prop {a} = step.{a}"))
        .collect();
    let chains: Vec<String> = (0..n)
        .map(|i| {
            let (a, b, c) = (3 * i, 3 * i + 1, 3 * i + 2);
            format!("eventually(x{a} and next eventually(x{b} until x{c}))")
        })
        .collect();
    format!(
        "input {{ trace: list[{{{}}}] }}\n{}\nltl chains over trace = {} reward on accept 1.0\nlet undecided = count(for v in verdicts(chains) if v == \"undecided\")\nlet satisfied = count(for v in verdicts(chains) if v == \"satisfied\")\nscore = chains\n",
        fields.join(", "),
        props.join("\n"),
        chains.join(" and ")
    )
}

#[test]
fn conjoined_chains_get_a_symbolic_automaton_beyond_twelve_atoms() {
    // Five chains over 15 atoms: 4^5 states, each reading only the atoms its chains still wait
    // for. Chain i is done by a step with its `a`, then a step with its `c`.
    let n = 5;
    let text = chains_spec(n);
    let mut steps = Vec::new();
    for i in 0..n {
        for atom in [3 * i, 3 * i + 2] {
            let fields: Vec<String> = (0..3 * n)
                .map(|k| format!("\"x{k}\": {}", k == atom))
                .collect();
            steps.push(format!("{{{}}}", fields.join(", ")));
        }
    }
    let line = format!("{{\"trace\": [{}]}}", steps.join(", "));
    let last = 2 * n - 1;
    for engine in [reward::Engine::Interpreter, reward::Engine::Jit] {
        let spec = reward::compile(
            reward::Source::text(text.clone()),
            &reward::Options::default().engine(engine),
        )
        .unwrap_or_else(|d| panic!("{d}"));
        let scored = spec
            .score(&spec.row_from_json(&line).expect("row"))
            .expect("scores");
        assert_eq!(scored.score(), 1.0, "{engine:?}");
        // Undecided until the last step, satisfied there.
        assert_eq!(
            scored.term("undecided").map(Value::as_int),
            Some(last as i64)
        );
        assert_eq!(scored.term("satisfied").map(Value::as_int), Some(1));
        // Without the last chain's `c` the formula is not satisfied and nothing is paid.
        let short = format!("{{\"trace\": [{}]}}", steps[..last].join(", "));
        let scored = spec
            .score(&spec.row_from_json(&short).expect("row"))
            .expect("scores");
        assert_eq!(scored.score(), 0.0, "{engine:?}");
    }
}

#[test]
fn a_sequence_of_thirty_two_atoms_builds_a_thirty_three_state_automaton() {
    // `eventually(x0 and next eventually(x1 and … eventually(x31)))`: an explicit alphabet
    // would have 2^32 letters; over guards it is a chain of 33 states.
    let n = 32;
    let mut formula = format!("x{}", n - 1);
    for i in (0..n - 1).rev() {
        formula = format!("x{i} and next eventually({formula})");
    }
    let fields: Vec<String> = (0..n).map(|i| format!("x{i}: bool")).collect();
    let props: Vec<String> = (0..n).map(|i| format!("prop x{i} = step.x{i}")).collect();
    let text = format!(
        "input {{ trace: list[{{{}}}] }}\n{}\nltl seq over trace = eventually({formula}) reward on accept 1.0\nscore = seq\n",
        fields.join(", "),
        props.join("\n")
    );
    let step = |on: usize| {
        let fields: Vec<String> = (0..n).map(|k| format!("\"x{k}\": {}", k == on)).collect();
        format!("{{{}}}", fields.join(", "))
    };
    let in_order: Vec<String> = (0..n).map(step).collect();
    let mut swapped = in_order.clone();
    swapped.swap(3, 4);
    for engine in [reward::Engine::Interpreter, reward::Engine::Jit] {
        let spec = reward::compile(
            reward::Source::text(text.clone()),
            &reward::Options::default().engine(engine),
        )
        .unwrap_or_else(|d| panic!("{d}"));
        let info = &spec.automata(1)[0];
        assert_eq!(
            (info.atoms, info.states.clone()),
            (32, Ok(33)),
            "{engine:?}"
        );
        let score = |steps: &[String]| {
            let line = format!("{{\"trace\": [{}]}}", steps.join(", "));
            spec.score(&spec.row_from_json(&line).expect("row"))
                .expect("scores")
                .score()
        };
        assert_eq!(score(&in_order), 1.0, "{engine:?}");
        assert_eq!(
            score(&swapped),
            0.0,
            "{engine:?}: x4 before x3 breaks the sequence"
        );
    }
}

/// A node list in the language's syntax, fully parenthesised; atom `k` is `atoms[k]`.
fn formula_text(nodes: &[Node], j: usize, atoms: &[&str]) -> String {
    let n = nodes[j];
    let (a, b) = (n.a as usize, n.b as usize);
    let window = if n.windowed() {
        format!("[{}, {}]", n.lo, n.hi)
    } else {
        String::new()
    };
    let unary = |name: &str| format!("({name}{window} ({}))", formula_text(nodes, a, atoms));
    let binary = |name: &str| {
        format!(
            "(({}) {name}{window} ({}))",
            formula_text(nodes, a, atoms),
            formula_text(nodes, b, atoms)
        )
    };
    match n.op {
        Op::True => "true".into(),
        Op::False => "false".into(),
        Op::Atom => format!("({})", atoms[a]),
        Op::Not => unary("not"),
        Op::And => binary("and"),
        Op::Or => binary("or"),
        Op::Implies => binary("implies"),
        Op::Iff => binary("iff"),
        Op::Next => unary("next"),
        Op::WNext => unary("wnext"),
        Op::Until => binary("until"),
        Op::Release => binary("release"),
        Op::Eventually => unary("eventually"),
        Op::Always => unary("always"),
        Op::Prev => unary("prev"),
        Op::WPrev => unary("wprev"),
        Op::Since => binary("since"),
        Op::Once => unary("once"),
        Op::Historically => unary("historically"),
    }
}

/// A random formula of one to six operators over `atoms`, without windows, in the language's
/// syntax.
fn unbounded_formula(rng: &mut impl FnMut() -> u64, atoms: &[&str]) -> String {
    let size = 1 + (rng() % 6) as u32;
    let mut nodes = random_formula(rng, atoms.len() as u32, size, false);
    for n in nodes.iter_mut() {
        (n.lo, n.hi) = (0, UNBOUNDED);
    }
    formula_text(&nodes, nodes.len() - 1, atoms)
}

/// A trace of `n` steps `{x: float, y: float, b: bool}` held as columns (as decoders make it),
/// with the floats that tell min and max apart: NaN, both zeros, both infinities, ties.
fn awkward_trace(rng: &mut impl FnMut() -> u64, n: usize) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    let float = |r: u64| match r % 12 {
        0 => f64::NAN,
        1 => 0.0,
        2 => -0.0,
        3 => f64::INFINITY,
        4 => f64::NEG_INFINITY,
        5..=7 => (r % 5) as f64 - 2.0,
        _ => (r % 2001) as f64 / 100.0 - 10.0,
    };
    let xs = (0..n).map(|_| float(rng())).collect();
    let ys = (0..n).map(|_| float(rng())).collect();
    let bs = (0..n).map(|_| rng().is_multiple_of(3)).collect();
    (xs, ys, bs)
}

#[test]
fn formulas_compiled_to_loops_equal_the_interpreter_bit_for_bit() {
    // Atoms the JIT computes in its loop over the steps (scalars of the step that cannot fail),
    // and one it cannot (an int division), which keeps the formula on the reference path.
    let atoms = [
        "step.x > 0.0",
        "step.y <= step.x",
        "step.b",
        "step.x == step.y",
        "step.x - step.y >= 0.5 and not step.b",
    ];
    let mut rng = xorshift(0x1009_f00d);
    let (mut fused, mut compared) = (0, 0);
    for round in 0..12 {
        let mut src = String::from("input { steps: list[{x: float, y: float, b: bool}] }\n");
        let mut count = 0;
        for k in 0..25 {
            let size = 1 + (rng() % 7) as u32;
            let mut nodes = random_formula(&mut rng, atoms.len() as u32, size, false);
            // Mostly the fragment the loops cover: no window, or one read at step 0 only.
            if !rng().is_multiple_of(4) {
                for n in nodes.iter_mut() {
                    (n.lo, n.hi) = (0, UNBOUNDED);
                }
                if !rng().is_multiple_of(3) {
                    // A window read at step 0 only, or under an operator over the future (read
                    // at every step).
                    let op = [Op::Eventually, Op::Always][(rng() % 2) as usize];
                    let root = nodes.len() as u32 - 1;
                    let mut window = Node::new(op, root, 0);
                    window.lo = (rng() % 6) as u32;
                    window.hi = window.lo + (rng() % 45) as u32;
                    nodes.push(window);
                    let outer = [Op::Not, Op::Eventually, Op::Always, Op::WNext, Op::Next];
                    nodes.push(Node::new(outer[(rng() % 5) as usize], root + 1, 0));
                }
                fused += 1;
            }
            let mut atom_texts = atoms.to_vec();
            if round % 3 == 2 && k % 5 == 0 {
                atom_texts[0] = "step.x > 0.0 and len([step.x]) > 0";
            }
            let text = formula_text(&nodes, nodes.len() - 1, &atom_texts);
            src.push_str(&format!("ltl f{k} = {text}\nlet r{k} = robustness(f{k})\n"));
            count += 1;
        }
        src.push_str("score = 0.0\n");
        let spec = compile(&src);
        let jit = spec.with_engine(Engine::Jit).expect("the JIT compiles");
        for _ in 0..6 {
            let n = 1 + (rng() % 40) as usize;
            let (xs, ys, bs) = awkward_trace(&mut rng, n);
            let (as_columns, as_values) = xyb_rows(&xs, &ys, &bs);
            let want = spec.eval_row(&as_columns).expect("the interpreter scores");
            for (engine, row, held) in [
                (&jit, &as_columns, "columns"),
                (&jit, &as_values, "values"),
                (&spec, &as_values, "values"),
            ] {
                let got = engine.eval_row(row).expect("scores");
                for k in 0..count {
                    for name in [format!("f{k}"), format!("r{k}")] {
                        let t = term(&spec, &name);
                        let (w, g) = (&want[t], &got[t]);
                        let same = match (w, g) {
                            (Value::Float(w), Value::Float(g)) => w.to_bits() == g.to_bits(),
                            (Value::Bool(w), Value::Bool(g)) => w == g,
                            _ => false,
                        };
                        assert!(
                            same,
                            "{} on {held}: {name} = {g:?}, the interpreter {w:?}\n{}\nx {xs:?}\ny {ys:?}\nb {bs:?}",
                            engine.name(),
                            src.lines().nth(1 + 2 * k).unwrap_or(""),
                        );
                    }
                }
                compared += 1;
            }
        }
    }
    // An empty trace held as columns is the reference's row error, not a value of the loops.
    let spec = compile(
        "input { steps: list[{x: float, y: float, b: bool}] }\nltl f = eventually(step.b)\nscore = robustness(f)\n",
    );
    let empty = columns_row(
        0,
        vec![
            Column::Float(Vec::new().into()),
            Column::Float(Vec::new().into()),
            Column::Bool(Vec::new()),
        ],
    );
    for engine in engines(&spec) {
        let err = engine
            .eval_row(&empty)
            .expect_err("an empty trace is an error");
        assert!(
            err.message.contains("`f`: the trace is empty"),
            "{}",
            err.message
        );
    }
    assert!(fused > 200, "{fused} formulas in the fused fragment");
    assert_eq!(compared, 12 * 6 * 3);
}

#[test]
fn rewarded_formulas_run_in_one_loop_equal_the_interpreter_bit_for_bit() {
    // The JIT runs a rewarded formula's automaton in the machine's loop over the trace's
    // columns (atoms it computes per step); one atom it cannot (an int division) keeps some
    // formulas on the reference path. The run record and the verdicts must be the
    // interpreter's, bit for bit, on any holding of the trace.
    let atoms = [
        "step.x > 0.0",
        "step.y <= step.x",
        "step.b",
        "step.x == step.y",
        "step.x - step.y >= 0.5 and not step.b",
    ];
    let rewards = ["1.0", "-0.5", "0.0", "-0.0", "2.5"];
    let mut rng = xorshift(0xacce_97ed);
    let (mut rows, mut accepted, mut ended_early) = (0, 0, 0);
    for round in 0..10 {
        let mut src = String::from("input { steps: list[{x: float, y: float, b: bool}] }\n");
        let count = 16;
        for k in 0..count {
            let mut atom_texts = atoms.to_vec();
            if round % 3 == 2 && k % 4 == 0 {
                atom_texts[0] = "step.x > 0.0 and len([step.x]) > 0";
            }
            let text = unbounded_formula(&mut rng, &atom_texts);
            let reward = rewards[(rng() % 5) as usize];
            src.push_str(&format!(
                "ltl f{k} = {text} reward on accept {reward}\nlet v{k} = verdicts(f{k})\n"
            ));
            if rng().is_multiple_of(3) {
                src.push_str(&format!("shape f{k} potential(gamma: 0.9)\n"));
            }
        }
        src.push_str("score = 0.0\n");
        let names = (0..count).flat_map(|k| [format!("f{k}#run"), format!("v{k}")]);
        let (spec, jit, terms) = compile_both(&src, names.collect());
        for _ in 0..6 {
            let n = (rng() % 30) as usize;
            let (xs, ys, bs) = awkward_trace(&mut rng, n);
            let (as_columns, as_values) = xyb_rows(&xs, &ys, &bs);
            let want = engines_agree(&spec, &jit, (&as_columns, &as_values), &terms, || {
                format!("{src}\nx {xs:?}\ny {ys:?}\nb {bs:?}")
            });
            rows += 1;
            if let Ok(v) = &want {
                for k in 0..count {
                    let Value::Record(run) = &v[term(&spec, &format!("f{k}#run"))] else {
                        panic!("a run record");
                    };
                    let rewards = run[1].as_list();
                    accepted += usize::from(rewards.iter().any(|r| r.as_f64() != 0.0));
                    ended_early += usize::from(
                        matches!(run[2], Value::Int(d) if (d as usize) + 1 < rewards.len()),
                    );
                }
            }
        }
    }
    assert_eq!(rows, 10 * 6);
    // Runs that earn rewards and runs whose verdict is final before the trace ends.
    assert!(accepted > 100, "{accepted} runs earned a reward");
    assert!(ended_early > 100, "{ended_early} runs ended early");
}

/// Appends formula `f{k}` = `text`, paid on acceptance, and its truth `s{k}`, robustness `r{k}`
/// and verdicts `v{k}` to `src`: the names of those terms and of its run.
fn every_use(src: &mut String, k: usize, text: &str) -> [String; 4] {
    src.push_str(&format!(
        "ltl f{k} = {text} reward on accept 1.0\nlet s{k} = sat(f{k})\n\
         let r{k} = robustness(f{k})\nlet v{k} = verdicts(f{k})\n"
    ));
    [
        format!("f{k}#run"),
        format!("s{k}"),
        format!("r{k}"),
        format!("v{k}"),
    ]
}

#[test]
fn formulas_over_a_list_of_floats_run_in_loops_equal_the_interpreter_bit_for_bit() {
    // A trace that is a list of floats held as one array: the step is the float, and the
    // loops read it from the array (truth, robustness, the rewarded run and the verdicts).
    let atoms = [
        "step > 0.0",
        "step <= 1.5",
        "step == 0.0",
        "abs(step) >= 2.0",
        "not (step - 1.0 < -1.5)",
    ];
    let mut rng = xorshift(0x5ca1_a77e);
    let mut compared = 0;
    for _ in 0..8 {
        let mut src = String::from("input { steps: list[float] }\n");
        let names: Vec<String> = (0..12)
            .flat_map(|k| every_use(&mut src, k, &unbounded_formula(&mut rng, &atoms)))
            .collect();
        src.push_str("score = 0.0\n");
        let (spec, jit, terms) = compile_both(&src, names);
        for _ in 0..6 {
            let n = (rng() % 30) as usize;
            let (xs, _, _) = awkward_trace(&mut rng, n);
            let rows_of = float_rows(&xs);
            engines_agree(&spec, &jit, (&rows_of.0, &rows_of.1), &terms, || {
                format!("{src}\nxs {xs:?}")
            })
            .ok();
            compared += 1;
        }
    }
    assert_eq!(compared, 8 * 6);
}

/// A trace of [`OPTIONAL_STEPS`] whose optional fields are left out about a third of the time,
/// with the floats of [`awkward_trace`].
fn optional_trace(rng: &mut impl FnMut() -> u64, n: usize) -> (Value, Value, String) {
    let (xs, ys, bs) = awkward_trace(rng, n);
    let mut held = || !rng().is_multiple_of(3);
    let bs: Vec<Option<bool>> = bs.into_iter().map(|b| held().then_some(b)).collect();
    let ys: Vec<Option<f64>> = ys.into_iter().map(|y| held().then_some(y)).collect();
    let ks: Vec<Option<i64>> = xs.iter().map(|&x| held().then_some(x as i64 % 4)).collect();
    let (as_columns, as_values) = optional_rows(&xs, &bs, &ks, &ys);
    let shown = format!("x {xs:?}\nb {bs:?}\nk {ks:?}\ny {ys:?}");
    (as_columns, as_values, shown)
}

#[test]
fn optional_fields_read_in_every_loop_equal_the_interpreter_bit_for_bit() {
    // Optional fields of the step read with a default or tested for presence: the loops over
    // the trace's columns read them in place (the value's array and which rows hold it) in
    // formulas, rewarded formulas, machines and comprehensions.
    let atoms = [
        "step.b ?? false",
        "(step.y ?? step.x) > 0.0",
        "is_some(step.k) and step.x > 0.0",
        "is_none(step.y) or step.x <= 0.0",
        "(step.k ?? -1) >= 2",
    ];
    let comprehensions = [
        "sum(for s in steps: s.y ?? 0.5)",
        "len([for s in steps if is_some(s.k): s.x])",
        "count(for s in steps if s.b ?? false)",
        "[for s in steps: if s.b ?? true then s.x else (s.y ?? -1.0)]",
        "max(for s in steps: s.k ?? -1)",
        "[for s in steps: is_none(s.b)]",
        "sum(for s in steps: if is_some(s.y) then (s.y ?? 0.0) * 2.0 else s.x)",
        // A default the loop computes only where the row leaves the field out.
        "[for s in steps: s.y ?? float(len([s.x]))]",
        // Steps by index, from either end: read from the arrays, not from records.
        "[for i in range(len(steps)): steps[i].x - (if i == 0 then 0.0 else steps[i - 1].x)]",
        "sum(for i in range(len(steps)): steps[i].y ?? steps[-1 - i].x)",
        "[for i in range(len(steps)): if steps[i].b ?? (i % 2 == 0) then steps[i].k ?? 7 else -1]",
        // Items of lists of numbers (collected as arrays, or constants) by index.
        "[for i in range(len(steps)): [for s in steps: s.x][len(steps) - 1 - i] + [1.5, -0.0][i % 2]]",
        "[for s in steps: s.y ?? 0.0][-1] + float([for s in steps: s.k ?? 0][0])",
    ];
    let machine = "machine m over steps (order: first, otherwise: stay) {
    start a
    a -> b when step.b ?? false reward 1.0
    a -> a when is_none(step.y) reward -0.0
    b -> a when (step.k ?? 0) > 1 reward -0.5
    b -> b when is_some(step.k) and (step.y ?? 1.0) > 0.0 reward 0.25
}
";
    let mut rng = xorshift(0x0b7e_c7ed);
    let mut compared = 0;
    for _ in 0..8 {
        let mut src = format!("input {{ steps: {OPTIONAL_STEPS} }}\n{machine}");
        let mut names = vec!["m#run".to_string()];
        for (k, c) in comprehensions.iter().enumerate() {
            src.push_str(&format!("let c{k} = {c}\n"));
            names.push(format!("c{k}"));
        }
        for k in 0..10 {
            names.extend(every_use(&mut src, k, &unbounded_formula(&mut rng, &atoms)));
        }
        src.push_str("score = m\n");
        let (spec, jit, terms) = compile_both(&src, names);
        for _ in 0..6 {
            let n = 1 + (rng() % 30) as usize;
            let (as_columns, as_values, shown) = optional_trace(&mut rng, n);
            engines_agree(&spec, &jit, (&as_columns, &as_values), &terms, || {
                format!("{src}\n{shown}")
            })
            .expect("scores");
            compared += 1;
        }
    }
    assert_eq!(compared, 8 * 6);
}

#[test]
fn every_formula_is_listed_with_its_automaton_whatever_it_is_used_for() {
    let spec = compile(
        "input { steps: list[{x: float, b: bool}] }\n\
         ltl truth = eventually(step.b)\n\
         ltl margin = always(step.x > 0.0)\n\
         ltl paid = step.b until (step.x > 1.0) reward on accept 1.0\n\
         let r = robustness(margin)\n\
         score = paid\n",
    );
    let mut listed: Vec<(String, usize)> = spec
        .automata(1)
        .into_iter()
        .map(|a| (a.formula, a.atoms))
        .collect();
    listed.sort();
    let want = [("margin", 1), ("paid", 2), ("truth", 1)];
    assert_eq!(
        listed,
        want.map(|(f, a)| (f.to_string(), a)).to_vec(),
        "`reward automata` lists each formula"
    );
}

#[test]
fn a_formula_without_atoms_has_a_robustness_on_any_non_empty_trace() {
    // Its runtime call used to see no atom list, hence no steps, and called the trace empty.
    let spec = compile(
        "input { steps: list[{x: float}] }\n\
         ltl yes = eventually(true)\n\
         ltl no = always(next(true))\n\
         let r_yes = robustness(yes)\n\
         let r_no = robustness(no)\n\
         score = 0.0\n",
    );
    let steps = |n: usize| vec![Column::Float(vec![0.5; n].into())];
    for engine in engines(&spec) {
        for n in [1, 3] {
            let v = engine
                .eval_row(&columns_row(n, steps(n)))
                .unwrap_or_else(|e| panic!("{}: {}", engine.name(), e.message));
            assert_eq!(v[term(&spec, "r_yes")].as_f64(), f64::INFINITY);
            // Strong `next` is false at the last step.
            assert_eq!(v[term(&spec, "r_no")].as_f64(), f64::NEG_INFINITY);
            assert!(v[term(&spec, "yes")].as_bool());
        }
        let err = engine
            .eval_row(&columns_row(0, steps(0)))
            .expect_err("still an error on an empty trace");
        assert!(
            err.message.contains("the trace is empty"),
            "{}",
            err.message
        );
    }
}
