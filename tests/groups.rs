//! Group-level terms (`group by KEY { … }`): on random batches, both engines give the values
//! of a reference written here from the documented meaning (GRPO-style advantages, ranks with
//! ties, min/max normalisation, counts), rows that cannot be scored are in no group, every
//! input row gets one output row in order, and the checker rejects group terms read elsewhere.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reward::{Engine, Options, Source, Spec, Value};

const SPEC: &str = r#"
input { prompt: text, completion: text, reward: float }
let length = len(completion)
score = reward

group by prompt {
    let advantage = (score - mean(score)) / (std(score) + 0.0001)
    let place = rank(score)
    let shortest = min(length)
    let longest = max(length)
    let rel_len = if longest == shortest then 0.0 else (length - shortest) / (longest - shortest)
    let size = count(true)
    let total = sum(length)
    score = advantage - 0.1 * rel_len
}
"#;

fn compile_for(src: &str, engine: Engine) -> Result<Spec, String> {
    reward::compile(Source::text(src), &Options::default().engine(engine))
        .map_err(|d| d.to_string())
}

fn compile(src: &str) -> Spec {
    compile_for(src, Engine::Interpreter).unwrap_or_else(|d| panic!("{d}"))
}

fn term(spec: &Spec, name: &str) -> usize {
    spec.all_terms()
        .iter()
        .position(|t| t.name == name)
        .expect(name)
}

/// What the block means, computed directly.
fn reference(rows: &[(usize, usize, f64)]) -> Vec<(f64, f64, f64, i64, i64)> {
    rows.iter()
        .map(|&(p, len, r)| {
            let group: Vec<&(usize, usize, f64)> = rows.iter().filter(|x| x.0 == p).collect();
            let n = group.len() as f64;
            let mean = group.iter().map(|x| x.2).sum::<f64>() / n;
            let var = group
                .iter()
                .map(|x| (x.2 - mean) * (x.2 - mean))
                .sum::<f64>()
                / n;
            let advantage = (r - mean) / (var.sqrt() + 0.0001);
            let below = group.iter().filter(|x| x.2 < r).count() as f64;
            let ties = group.iter().filter(|x| x.2 == r).count() as f64;
            let place = below + (ties + 1.0) / 2.0;
            let shortest = group.iter().map(|x| x.1).min().unwrap() as f64;
            let longest = group.iter().map(|x| x.1).max().unwrap() as f64;
            let rel = if longest == shortest {
                0.0
            } else {
                (len as f64 - shortest) / (longest - shortest)
            };
            let total = group.iter().map(|x| x.1 as i64).sum();
            (
                advantage - 0.1 * rel,
                advantage,
                place,
                group.len() as i64,
                total,
            )
        })
        .collect()
}

#[test]
fn both_engines_compute_what_the_group_block_means() {
    let interp = compile(SPEC);
    let jit = compile_for(SPEC, Engine::Jit).expect("JIT");
    let (adv, place, size, total) = (
        term(&interp, "advantage"),
        term(&interp, "place"),
        term(&interp, "size"),
        term(&interp, "total"),
    );
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    let row = (0..4usize, 0..6usize, 0..5u8);
    runner
        .run(&proptest::collection::vec(row, 1..24), |rows| {
            // Rewards on a coarse grid, so that ties happen.
            let rows: Vec<(usize, usize, f64)> = rows
                .iter()
                .map(|&(p, l, r)| (p, l, f64::from(r) * 0.25))
                .collect();
            let inputs: Vec<Value> = rows
                .iter()
                .map(|&(p, l, r)| {
                    Value::Record(
                        vec![
                            Value::text(&format!("p{p}")),
                            Value::text(&"x".repeat(l)),
                            Value::Float(r),
                        ]
                        .into(),
                    )
                })
                .collect();
            let want = reference(&rows);
            let inputs: Vec<reward::Row> = inputs
                .into_iter()
                .map(|v| interp.row(v).expect("a row of the schema"))
                .collect();
            for engine in [&jit, &interp] {
                let got = engine.evaluate_batch(&inputs);
                let scores = engine.score_batch(&inputs);
                prop_assert_eq!(got.len(), rows.len());
                for (i, g) in got.iter().enumerate() {
                    let v = g.as_ref().expect("no row error");
                    let score = scores[i].as_ref().expect("no row error").score();
                    let w = want[i];
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
                    prop_assert!(
                        close(score, w.0),
                        "{}: score {} vs {}",
                        engine.engine().name(),
                        score,
                        w.0
                    );
                    prop_assert!(close(v[adv].as_f64(), w.1));
                    prop_assert_eq!(v[place].as_f64(), w.2);
                    prop_assert_eq!(v[size].as_int(), w.3);
                    prop_assert_eq!(v[total].as_int(), w.4);
                }
            }
            // The engines agree bit for bit.
            let (a, b) = (interp.evaluate_batch(&inputs), jit.evaluate_batch(&inputs));
            for (x, y) in a.iter().zip(&b) {
                let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
                prop_assert!(x.iter().zip(y).all(|(p, q)| p.same(q)));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn rows_that_fail_are_in_no_group_and_every_line_gets_one_output() {
    let spec = compile(SPEC);
    let lines: Vec<(u64, String)> = [
        r#"{"prompt": "a", "completion": "xx", "reward": 1.0}"#,
        r#"{"prompt": "a", "completion": "xxxx"}"#,
        r#"{"prompt": "a", "completion": "x", "reward": 0.0}"#,
        r#"not json"#,
        r#"{"prompt": "b", "completion": "x", "reward": 0.5}"#,
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| (i as u64 + 1, l.to_string()))
    .collect();
    let out = spec.score_lines(&lines, false);
    assert_eq!(out.len(), lines.len());
    assert!(
        out[1].is_error && out[3].is_error,
        "{:?}",
        out.iter().map(|o| &o.json).collect::<Vec<_>>()
    );
    // Group "a" has two scorable rows (rewards 1 and 0): sizes are 2, not 3.
    for i in [0, 2] {
        let j: serde_json::Value = serde_json::from_str(&out[i].json).unwrap();
        assert_eq!(j["terms"]["size"], 2, "{}", out[i].json);
    }
    // A group of one: advantage 0, rank 1.
    let j: serde_json::Value = serde_json::from_str(&out[4].json).unwrap();
    assert_eq!(j["terms"]["advantage"], 0.0);
    assert_eq!(j["terms"]["place"], 1.0);
}

#[test]
fn group_terms_are_read_only_inside_the_block_and_tests() {
    let outside = SPEC.to_string() + "let leak = advantage * 2.0\n";
    let err = compile_for(&outside, Engine::Interpreter)
        .err()
        .expect("rejected");
    assert!(
        err.contains("E0028") && err.contains("`advantage` is a group term"),
        "{err}"
    );
    let two = SPEC.to_string() + "group by completion { let z = 1 }\n";
    let err = compile_for(&two, Engine::Interpreter)
        .err()
        .expect("rejected");
    assert!(err.contains("at most one `group by`"), "{err}");
    let bad_key = SPEC.replace("group by prompt", "group by reward");
    let err = compile_for(&bad_key, Engine::Interpreter)
        .err()
        .expect("rejected");
    assert!(err.contains("a group key is text, int or bool"), "{err}");
    let nested = SPEC.replace("let size = count(true)", "let size = mean(advantage)");
    let err = compile_for(&nested, Engine::Interpreter)
        .err()
        .expect("rejected");
    assert!(
        err.contains("reads per-row values, not other group terms"),
        "{err}"
    );
    // In a test, a rollout is a group of one and `score` is the final score.
    let with_test = SPEC.to_string()
        + r#"test "one" { given { prompt: "p", completion: "ab", reward: 0.5 } expect advantage == 0.0 expect score == 0.0 }"#;
    let spec = compile(&with_test);
    let report = spec.run_tests();
    assert_eq!((report.passed, report.failed), (1, 0), "{}", report.output);
}
