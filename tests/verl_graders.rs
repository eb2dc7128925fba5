//! verl's answer graders' own test cases as an oracle (tests/fixtures/verl_graders.jsonl, from
//! bench/oracles/verl_graders.py): the pairs verl's `test_prime_math` asserts, the MATH authors'
//! unittest of `is_equiv` (which verl's `math_reward` copies), an unmerged verl pull request's
//! `is_equiv` cases, and the GSM8K authors' 5,276 labelled model solutions — each with the
//! verdict its source states, verl's grader's verdict and math-verify's. As verl does, the gold
//! is a bare answer and the prediction is what the model wrote, so the comparison is
//! `math_equal(final_answer(pred), final_answer(gold))` (`final_answer` of a bare answer is the
//! answer; the same call as tests/math_verify_suite.rs). Every disagreement with the stated
//! verdict must be listed in [`JUSTIFIED`] with its reason, and agreement must stay at or above
//! [`FLOOR`] percent.

use std::collections::{BTreeMap, BTreeSet};

use reward_runtime::native::{final_answer, math_equal, math_equal_with, MathOptions};
use serde_json::Value as Json;

// A module of the math_verify_suite binary, which loads the fixtures reader.
use super::fixtures;

/// The agreement reached (percent of cases); it may only go up.
const FLOOR: usize = 99;

/// Cases where we disagree with the source's stated verdict on purpose: id → why.
const JUSTIFIED: &[(i64, &str)] = &[
    (
        9,
        "MATH's is_equiv compares normalised strings, so `10, 4, -2` differs from `4, 10, -2`; a \
         bare list is a set for us (and for math-verify): MATH's 'enter all solutions, separated \
         by commas' answers are unordered; `math_equal_with(p, g, {ordered_sets: true})` gives \
         MATH's verdict",
    ),
    (
        16,
        "the same order rule: `0.1, 4, 2` and `4, .1, 2` hold the same numbers; MATH's string \
         equality (after its `.1` → `0.1` fix) sees another order",
    ),
];

/// The justified cases that the opt-in `ordered_sets: true` option decides as the source does.
const ORDERED_SETS_AGREES: &[i64] = &[9, 16];

/// Per family: cases, and how many of them ours, verl's grader and math-verify get right.
#[derive(Default)]
struct Tally {
    cases: usize,
    ours: usize,
    verl: usize,
    mv: usize,
}

#[test]
fn the_checker_agrees_with_verls_grader_tests() {
    let file = fixtures::read("tests/fixtures/verl_graders.jsonl");
    let justified: BTreeMap<i64, &str> = JUSTIFIED.iter().copied().collect();
    let mut per: BTreeMap<String, Tally> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut disagreeing = BTreeSet::new();
    for (line, c) in &file.rows {
        let id = c["id"].as_i64().unwrap();
        let (gold, pred) = (c["gold"].as_str().unwrap(), c["pred"].as_str().unwrap());
        let expected = c["expected"].as_bool().unwrap();
        let ours = math_equal(&final_answer(pred), &final_answer(gold));
        let t = per
            .entry(c["family"].as_str().unwrap().to_string())
            .or_default();
        t.cases += 1;
        t.ours += usize::from(ours == expected);
        t.verl += usize::from(c["verl_grader"]["verdict"] == Json::Bool(expected));
        t.mv += usize::from(c["math_verify"] == Json::Bool(expected));
        if ORDERED_SETS_AGREES.contains(&id) {
            let opts = MathOptions {
                ordered_sets: true,
                ..MathOptions::DEFAULT
            };
            let ordered = math_equal_with(&final_answer(pred), &final_answer(gold), opts);
            assert_eq!(
                ordered, expected,
                "#{id}: ordered_sets should give the source's verdict"
            );
        }
        if ours != expected {
            disagreeing.insert(id);
            if !justified.contains_key(&id) {
                unexplained.push(format!(
                    "#{id} (line {line}, {}, {}): expected {expected}, verl {}, math-verify {}\n  gold {gold:?} → {:?}\n  pred …{:?} → {:?}",
                    c["family"],
                    c["source"],
                    c["verl_grader"]["verdict"],
                    c["math_verify"],
                    final_answer(gold),
                    tail(pred),
                    final_answer(pred)
                ));
            }
        }
    }
    let mut all = Tally::default();
    println!("{:>13}  cases    ours    verl    math-verify", "family");
    for (family, t) in &per {
        println!(
            "{family:>13}  {:>5}  {:>6}  {:>6}  {:>6}",
            t.cases, t.ours, t.verl, t.mv
        );
        all.cases += t.cases;
        all.ours += t.ours;
        all.verl += t.verl;
        all.mv += t.mv;
    }
    let pct = |k: usize| 100.0 * k as f64 / all.cases as f64;
    println!(
        "{:>13}  {:>5}  {:>6}  {:>6}  {:>6}   ({:.2}% / {:.2}% / {:.2}%)",
        "all",
        all.cases,
        all.ours,
        all.verl,
        all.mv,
        pct(all.ours),
        pct(all.verl),
        pct(all.mv)
    );
    assert_eq!(all.cases, 5299, "the fixture has 5,299 cases");
    super::assert_agreement(
        &justified,
        &disagreeing,
        &unexplained,
        (all.ours, all.cases),
        FLOOR,
    );
}

/// The last 160 characters of a long prediction (GSM8K solutions), for the failure message.
fn tail(s: &str) -> &str {
    let mut start = s.len().saturating_sub(160);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
