//! The online monitor (`Spec::monitor`): step by step, it gives exactly the per-step rewards
//! of whole-trace scoring (`--steps`) and the verdicts of `verdicts(f)`, resets between
//! episodes, and does not allocate on its hot path after the first episode.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reward::{Engine, Options, Source, Spec, Value, Verdict};

/// Compiles for the interpreter, the reference for whole-trace scoring.
fn compile(source: Source) -> Spec {
    reward::compile(source, &Options::default().engine(Engine::Interpreter))
        .unwrap_or_else(|d| panic!("{d}"))
}

fn example(name: &str) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    compile(Source::file(path))
}

fn term(spec: &Spec, name: &str) -> usize {
    spec.all_terms()
        .iter()
        .position(|t| t.name == name)
        .unwrap_or_else(|| panic!("no term {name}"))
}

/// Every term of one row.
fn evaluate(spec: &Spec, row: &Value) -> Vec<Value> {
    let row = spec.row(row.clone()).expect("a row of the schema");
    spec.evaluate(&row).expect("no row error")
}

/// Whole-trace scoring of one row: per stream, its per-step rewards.
fn whole_trace(spec: &Spec, row: &Value, streams: &[&str]) -> Vec<Vec<f64>> {
    let values = evaluate(spec, row);
    streams
        .iter()
        .map(|s| {
            let run = term(spec, &format!("{s}#run"));
            let Value::Record(r) = &values[run] else {
                panic!("a run record")
            };
            r[1].as_list().iter().map(Value::as_f64).collect()
        })
        .collect()
}

#[test]
fn machines_step_by_step_equal_whole_trace_scoring() {
    let spec = example("hierarchical_delivery.reward");
    let monitor = std::cell::RefCell::new(spec.monitor().expect("monitorable"));
    let streams: Vec<String> = monitor
        .borrow()
        .streams()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(streams.iter().any(|s| s == "deliver_shaped"), "{streams:?}");
    let stream_refs: Vec<&str> = streams.iter().map(String::as_str).collect();
    let letters = ["", "f", "g", "e", "n", "fe", "ge", "fn"];
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    runner
        .run(
            &proptest::collection::vec(0..letters.len(), 0..16),
            |trace| {
                let steps: Vec<Value> = trace.iter().map(|&i| Value::text(letters[i])).collect();
                // `{episode: text?, events: list[text]}`.
                let row =
                    Value::Record(vec![Value::None, Value::List(steps.clone().into())].into());
                let want = whole_trace(&spec, &row, &stream_refs);
                let mut monitor = monitor.borrow_mut();
                monitor.reset();
                for (i, step) in steps.iter().enumerate() {
                    let r = monitor.step(step).expect("no error");
                    for (k, s) in streams.iter().enumerate() {
                        prop_assert_eq!(
                            r.rewards[k].to_bits(),
                            want[k][i].to_bits(),
                            "{} at step {} of {:?}",
                            s,
                            i,
                            trace.iter().map(|&j| letters[j]).collect::<Vec<_>>()
                        );
                    }
                    let sum: f64 = r.rewards.iter().sum();
                    prop_assert_eq!(r.reward.to_bits(), sum.to_bits());
                }
                Ok(())
            },
        )
        .unwrap();
}

const PROTOCOL: &str = r#"
input { turns: list[{role: text, tool: text?}] }
prop call_tool    = step.role == "assistant" and is_some(step.tool)
prop final_answer = step.role == "assistant" and is_none(step.tool)
prop tool_result  = step.role == "tool"
ltl pairing  = always(tool_result iff prev(call_tool))
ltl answers  = eventually(final_answer) and always(final_answer implies not next(true))
ltl paid     = eventually(final_answer and once(tool_result)) reward on accept 1.0
shape paid potential(gamma: 0.9)
let v_pairing = verdicts(pairing)
let v_answers = verdicts(answers)
let v_paid = verdicts(paid)
score = paid
"#;

fn turn(kind: usize) -> Value {
    let (role, tool) = match kind {
        0 => ("user", None),
        1 => ("assistant", Some("search")),
        2 => ("tool", None),
        _ => ("assistant", None),
    };
    Value::Record(vec![Value::text(role), tool.map_or(Value::None, Value::text)].into())
}

#[test]
fn formulas_step_by_step_equal_verdicts_and_rewards_of_the_whole_trace() {
    let spec = compile(Source::text(PROTOCOL));
    let monitor = spec.monitor().expect("monitorable");
    assert_eq!(monitor.formulas(), vec!["pairing", "answers", "paid"]);
    assert_eq!(monitor.streams(), vec!["paid"]);
    let monitor = std::cell::RefCell::new(monitor);
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(0..4usize, 1..12), |kinds| {
            let steps: Vec<Value> = kinds.iter().map(|&k| turn(k)).collect();
            let row = Value::Record(vec![Value::List(steps.clone().into())].into());
            let values = evaluate(&spec, &row);
            let verdicts: Vec<Vec<String>> = ["v_pairing", "v_answers", "v_paid"]
                .iter()
                .map(|t| {
                    values[term(&spec, t)]
                        .as_list()
                        .iter()
                        .map(|v| v.as_text().to_string())
                        .collect()
                })
                .collect();
            let Value::Record(run) = &values[term(&spec, "paid#run")] else {
                panic!("a run record")
            };
            let rewards: Vec<f64> = run[1].as_list().iter().map(Value::as_f64).collect();
            let mut monitor = monitor.borrow_mut();
            monitor.reset();
            for (i, step) in steps.iter().enumerate() {
                let r = monitor.step(step).expect("no error");
                for (k, v) in r.verdicts.iter().enumerate() {
                    prop_assert_eq!(
                        v.name(),
                        verdicts[k][i].as_str(),
                        "formula {} step {} of {:?}",
                        k,
                        i,
                        kinds
                    );
                }
                prop_assert_eq!(r.rewards[0].to_bits(), rewards[i].to_bits());
                let all_final = r.verdicts.iter().all(|v| *v != Verdict::Undecided);
                prop_assert!(!r.done || all_final);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn stepping_does_not_allocate_after_the_first_episode() {
    let spec = compile(Source::text(PROTOCOL));
    let machines = example("hierarchical_delivery.reward");
    let mut protocol = spec.monitor().expect("monitorable");
    let mut delivery = machines.monitor().expect("monitorable");
    let turns: Vec<Value> = (0..2000).map(|i| turn((i * 7 + i / 3) % 4)).collect();
    let events: Vec<Value> = ["", "f", "e", "g", "n", "fe"]
        .iter()
        .cycle()
        .take(2000)
        .map(|s| Value::text(s))
        .collect();
    // First episode: buffers grow to size.
    for t in &turns {
        protocol.step(t).unwrap();
    }
    for e in &events {
        delivery.step(e).unwrap();
    }
    protocol.reset();
    delivery.reset();
    // The runtime's counting allocator counts per thread (other tests run on other threads).
    let before = reward_runtime::meter::allocations();
    let mut total = 0.0;
    for (t, e) in turns.iter().zip(&events) {
        total += protocol.step(t).map(|r| r.reward).unwrap_or(f64::NAN);
        total += delivery.step(e).map(|r| r.reward).unwrap_or(f64::NAN);
    }
    let allocations = reward_runtime::meter::allocations() - before;
    assert!(total.is_finite());
    assert_eq!(allocations, 0, "{allocations} allocations in 4,000 steps");
}

#[test]
fn specs_that_read_more_than_the_step_are_refused_with_a_reason() {
    let src = r#"
input { steps: list[text], limit: int }
prop a = len(step) > limit
ltl f = eventually(a)
score = if f then 1.0 else 0.0
"#;
    let spec = compile(Source::text(src));
    let err = spec.monitor().err().expect("refused");
    assert!(err.0.contains("`f` reads the rollout"), "{err}");
}
