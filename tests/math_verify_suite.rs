//! Math-Verify's own test suite as an oracle (tests/fixtures/math_verify_suite.jsonl, from
//! bench/oracles/math_verify_suite.py: 276 cases read from math-verify 0.9.0's tests, each with
//! the verdict its test expects). Both sides are written as a dataset writes them (prose,
//! `$…$`, `\boxed{}`), so the comparison is `math_equal(final_answer(pred),
//! final_answer(gold))`. Every disagreement must be listed in [`JUSTIFIED`] with its reason, and
//! the agreement must stay at or above [`FLOOR`] percent.

use std::collections::{BTreeMap, BTreeSet};

use reward_runtime::native::{final_answer, math_equal};

#[path = "common/fixtures.rs"]
mod fixtures;

// verl's graders' cases: the same checker against another peer's suite, in this binary (each
// test binary links the whole compiler).
#[path = "verl_graders.rs"]
mod verl_graders;

/// The agreement reached (percent of cases); it may only go up.
const FLOOR: usize = 97;

/// Cases where we disagree with math-verify's expected verdict on purpose: id → why.
const JUSTIFIED: &[(i64, &str)] = &[
    (
        8,
        "'Soucis : 2,74 $ a..' is one word of prose and a lone `$`: no stated answer, and we \
         do not guess the last number in a fragment that short",
    ),
    (
        195,
        "the same pair as #194 (expected true there): `x \\in [-2,7]` and `-2 \\le x \\le 7` state \
         one condition; math-verify refuses only under its default allow_set_relation_comp=false",
    ),
    (
        199,
        "the gold joins two boxes with `++++++`: we join boxes only across a comma, a \
         semicolon, 'and' or 'or' (else the last box is the answer)",
    ),
    (
        211,
        "`p=5,q=2;p=7,q=2` against `(5,2),(7,2)` needs regrouping labelled values into tuples \
         by their labels: out of scope",
    ),
    (
        226,
        "the gold's `\\boxed{` is never closed and names W(n) where the prediction names W(x), \
         glued to 'or' (`1orW`): no well-formed answer to compare",
    ),
    (
        262,
        "f(x) and f(y) differ; math-verify calls them equal only with strict=False, which \
         renames variables (#261, strict, expects false and agrees with us)",
    ),
    (
        268,
        "symbolic sums (`\\sum_{k=0}^{n-1}`) with commuted products: out of scope (no symbolic \
         algebra); both sides are compared as text",
    ),
    (
        272,
        "1 - 1/e and 1 + 1/e differ: math-verify cuts both at \\mathrm{e} (an extraction quirk, \
         not equality)",
    ),
];

#[test]
fn the_checker_agrees_with_math_verify_on_its_own_suite() {
    let file = fixtures::read("tests/fixtures/math_verify_suite.jsonl");
    let justified: BTreeMap<i64, &str> = JUSTIFIED.iter().copied().collect();
    // family → (cases, agreeing)
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut disagreeing = BTreeSet::new();
    for (line, c) in &file.rows {
        let id = c["id"].as_i64().unwrap();
        let (gold, pred) = (c["gold"].as_str().unwrap(), c["pred"].as_str().unwrap());
        let expected = c["expected"].as_bool().unwrap();
        let ours = math_equal(&final_answer(pred), &final_answer(gold));
        let e = per
            .entry(c["family"].as_str().unwrap().to_string())
            .or_default();
        e.0 += 1;
        e.1 += usize::from(ours == expected);
        if ours != expected {
            disagreeing.insert(id);
            if !justified.contains_key(&id) {
                unexplained.push(format!(
                    "#{id} (line {line}, {}): expected {expected}\n  gold {gold:?} → {:?}\n  pred {pred:?} → {:?}",
                    c["family"], final_answer(gold), final_answer(pred)
                ));
            }
        }
    }
    let n: usize = per.values().map(|e| e.0).sum();
    let agree: usize = per.values().map(|e| e.1).sum();
    for (family, (cases, ok)) in &per {
        println!("{family:>15}: {ok:>3}/{cases:<3}");
    }
    println!(
        "{:>15}: {agree:>3}/{n} ({:.1}%)",
        "all",
        100.0 * agree as f64 / n as f64
    );
    assert_eq!(n, 276, "the fixture has 276 cases");
    assert_agreement(&justified, &disagreeing, &unexplained, (agree, n), FLOOR);
}

/// An oracle suite's verdict: every disagreement is justified, every justification is still
/// needed, and `agree` of `cases` is at or above `floor` percent.
fn assert_agreement(
    justified: &BTreeMap<i64, &str>,
    disagreeing: &BTreeSet<i64>,
    unexplained: &[String],
    (agree, cases): (usize, usize),
    floor: usize,
) {
    let stale: Vec<_> = justified
        .keys()
        .filter(|id| !disagreeing.contains(id))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} unexplained disagreements:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "justified but now agreeing (remove them): {stale:?}"
    );
    assert!(
        agree * 100 >= cases * floor,
        "{agree}/{cases} agree, below the floor of {floor}%"
    );
}
