//! The answer checker (`std::math`'s `math_equal` on `std::extract`'s `final_answer`) against a
//! corpus whose truth is known by construction (tests/fixtures/math_corpus.jsonl, from
//! bench/oracles/math_corpus.py, with math-verify's verdicts as TRL calls it): at least 99%
//! right overall, and at least as right as math-verify in every category, on both engines.
//! Then hostile inputs (deep nesting, huge completions, thousands of `\boxed`) under a
//! watchdog: each gets its documented result in bounded time.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reward::{Engine, Options, Source, Spec};
use reward_runtime::native::{final_answer, math_equal, math_equal_with, MathOptions};
use reward_runtime::Value;
use serde_json::Value as Json;

#[path = "common/watchdog.rs"]
mod watchdog;
use watchdog::within;

/// The spec compiled for the interpreter and for the JIT.
fn both_engines(source: Source) -> Result<[Spec; 2], String> {
    let compile = |engine| {
        reward::compile(source.clone(), &Options::default().engine(engine))
            .map_err(|d| d.to_string())
    };
    Ok([compile(Engine::Interpreter)?, compile(Engine::Jit)?])
}

fn named(name: &str, text: &str) -> Source {
    Source::Text {
        name: name.into(),
        text: text.into(),
        dir: Path::new(".").into(),
    }
}

#[path = "common/fixtures.rs"]
mod fixtures;

fn corpus() -> Vec<Json> {
    let file = fixtures::read("tests/fixtures/math_corpus.jsonl");
    file.rows
        .into_iter()
        .map(|(_, o)| Json::Object(o))
        .collect()
}

#[test]
fn the_checker_is_right_on_the_corpus_and_never_less_right_than_math_verify() {
    let cases = corpus();
    assert!(cases.len() >= 3000, "{} cases", cases.len());
    // category → (cases, ours right, math-verify right)
    let mut per: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for c in &cases {
        let (pred, gold) = (c["pred"].as_str().unwrap(), c["gold"].as_str().unwrap());
        let truth = c["equal"].as_bool().unwrap();
        let ours = math_equal(&final_answer(pred), gold);
        let mv_right = c["mv"].as_bool() == Some(truth);
        let e = per
            .entry(c["category"].as_str().unwrap().to_string())
            .or_default();
        e.0 += 1;
        e.1 += usize::from(ours == truth);
        e.2 += usize::from(mv_right);
        if ours != truth {
            wrong.push(format!("#{} {gold:?} vs {pred:?}: truth {truth}", c["id"]));
        }
    }
    let right: usize = per.values().map(|e| e.1).sum();
    assert!(
        right * 100 >= cases.len() * 99,
        "{right}/{} right; wrong:\n{}",
        cases.len(),
        wrong.join("\n")
    );
    for (category, (n, ours, mv)) in &per {
        assert!(
            ours >= mv,
            "{category}: ours {ours}/{n} < math-verify {mv}/{n}; wrong:\n{}",
            wrong.join("\n")
        );
    }
}

#[test]
fn both_engines_score_the_corpus_alike() {
    let [interp, jit] = both_engines(Source::file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/math_corpus.reward"),
    ))
    .expect("the corpus spec compiles");
    // Every 7th case keeps the test fast; the native test above covers them all.
    for c in corpus().iter().step_by(7) {
        let row = Value::Record(
            vec![
                Value::Int(c["id"].as_i64().unwrap()),
                Value::text(c["category"].as_str().unwrap()),
                Value::text(c["gold"].as_str().unwrap()),
                Value::text(c["pred"].as_str().unwrap()),
            ]
            .into(),
        );
        let row = interp.row(row).expect("a row of the schema");
        let a = interp.score(&row).unwrap();
        let b = jit.score(&row).unwrap();
        let truth = c["equal"].as_bool().unwrap();
        let correct = |s: &reward::Scored| s.term("correct").expect("the term `correct`").as_bool();
        assert_eq!(correct(&a), truth, "case {}", c["id"]);
        assert_eq!(correct(&b), truth, "JIT, case {}", c["id"]);
    }
}

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn hostile_answers_get_their_documented_result_in_bounded_time() {
    let cases: Vec<(&str, String, String, bool)> = vec![
        // Deeply nested powers and braces: beyond the parser's depth, compared as text.
        (
            "nested powers",
            "2^{".repeat(5000) + "2" + &"}".repeat(5000),
            "4".into(),
            false,
        ),
        // Braces only group: `{{1}}` is 1.
        (
            "nested braces",
            "{".repeat(20_000) + "1" + &"}".repeat(20_000),
            "1".into(),
            true,
        ),
        (
            "nested braces, another value",
            "{".repeat(20_000) + "2" + &"}".repeat(20_000),
            "1".into(),
            false,
        ),
        (
            "nested fractions",
            "\\frac{1}{".repeat(3000) + "2" + &"}".repeat(3000),
            "0".into(),
            false,
        ),
        (
            "same nesting",
            "{".repeat(20_000) + "1" + &"}".repeat(20_000),
            "{".repeat(20_000) + "1" + &"}".repeat(20_000),
            true,
        ),
        // Huge numbers: exact arithmetic overflows into floats, never into a panic.
        (
            "huge power",
            "10^{99999999}".into(),
            "10^{99999998}".into(),
            false,
        ),
        (
            "huge integer",
            "9".repeat(100_000),
            "9".repeat(100_000),
            true,
        ),
        (
            "many texts",
            "\\text{1".repeat(2000) + &"}".repeat(2000),
            "1".into(),
            false,
        ),
        // The structural rules: relations, ±, chains, lists, matrices, labels.
        (
            "many relations",
            "x<".repeat(900) + "1",
            "x<1".into(),
            false,
        ),
        (
            "many plus-minus",
            "1\\pm".repeat(600) + "1",
            "1".into(),
            false,
        ),
        (
            "long chain",
            "x".to_string() + &"=1".repeat(900),
            "1".into(),
            true,
        ),
        (
            "nested brace lists",
            "{1,".repeat(600) + "1" + &"}".repeat(600),
            "1".into(),
            false,
        ),
        (
            "long lists",
            "x, ".repeat(600) + "x",
            "y, ".repeat(600) + "y",
            false,
        ),
        (
            "matrix products",
            "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}".repeat(40),
            "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}".repeat(40),
            true,
        ),
        (
            "many labels",
            "(x,y)=(1,2), ".repeat(120) + "(x,y)=(1,2)",
            "(1,2), (1,2)".into(),
            true,
        ),
    ];
    for (what, pred, gold, want) in cases {
        let got = within(LIMIT, what, move || math_equal(&pred, &gold));
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn hostile_completions_are_extracted_in_bounded_time() {
    // A 1 MB completion with thousands of \boxed: the last one is the answer.
    let mut big = "Let me think. ".repeat(70_000);
    for i in 0..5000 {
        big.push_str(&format!("\\boxed{{{i}}} "));
    }
    let answer = within(LIMIT, "thousands of boxed", move || final_answer(&big));
    assert_eq!(answer, "4999");
    // An unclosed \boxed at the end: no boxed answer; the last $…$ is used.
    let unclosed = "x".repeat(1 << 20) + "$7$ \\boxed{" + &"{".repeat(10_000);
    let answer = within(LIMIT, "unclosed boxed", move || final_answer(&unclosed));
    assert_eq!(answer, "7");
    // 1 MB of boxes joined by commas: the last 16 are one answer.
    let joined = "\\boxed{1}, ".repeat(100_000);
    let answer = within(LIMIT, "joined boxes", move || final_answer(&joined));
    assert_eq!(answer, vec!["1"; 16].join(", "));
    // Unclosed display math and statements, a megabyte each: no span, the whole text.
    for (what, unit) in [
        ("unclosed \\[", "\\[ 1 "),
        ("unclosed \\(", "\\( 1 "),
        ("unclosed $$", "$$ 1 \n"),
        ("answer is", "answer is "),
    ] {
        let text = unit.repeat((1 << 20) / unit.len());
        let ok = within(LIMIT, what, move || math_equal(&final_answer(&text), "2"));
        assert!(!ok, "{what}");
    }
    // 1 MB of `$`: the last (empty) span is skipped, the whole text is the answer.
    let dollars = "$".repeat(1 << 20);
    let answer = within(LIMIT, "dollars", move || {
        math_equal(&final_answer(&dollars), "1")
    });
    assert!(!answer);
}

#[test]
fn the_answer_block_outranks_a_boxed_guess_in_the_reasoning() {
    let completion = "<think>\nFirst guess: \\boxed{12}. No, recount.\n</think>\n<answer>\n\\frac{27}{2}\n</answer>";
    assert_eq!(final_answer(completion), "\\frac{27}{2}");
    assert!(math_equal(&final_answer(completion), "13.5"));
    assert!(!math_equal(&final_answer(completion), "12"));
    // Without an answer block, a box after the reasoning outranks one inside it.
    let completion = "<think>\\boxed{12}?</think> So the total is $\\boxed{13.5}$.";
    assert!(math_equal(&final_answer(completion), "\\frac{27}{2}"));
}

// ================================================================ math_equal_with: the options

#[test]
fn math_equal_with_and_no_options_is_math_equal_on_the_whole_corpus() {
    for c in corpus() {
        let (pred, gold) = (
            final_answer(c["pred"].as_str().unwrap()),
            c["gold"].as_str().unwrap(),
        );
        assert_eq!(
            math_equal_with(&pred, gold, MathOptions::DEFAULT),
            math_equal(&pred, gold),
            "case {}: {gold:?} vs {pred:?}",
            c["id"]
        );
    }
}

/// `(pred, gold, options record, math_equal's verdict, the verdict with the options)`: each
/// option on answers whose truth under it is plain.
const OPTION_CASES: &[(&str, &str, &str, bool, bool)] = &[
    // float_rounding: equal once both are rounded to n places (and no other tolerance).
    ("3.14159", "3.14", "{float_rounding: 2}", false, true),
    ("3.14159", "3.14", "{float_rounding: 3}", false, false),
    ("3.14159", "\\pi", "{float_rounding: 4}", true, true),
    ("3.1416", "\\pi", "{float_rounding: 2}", true, true),
    ("3.1416", "\\pi", "{float_rounding: 6}", true, false),
    ("0.333", "\\frac{1}{3}", "{float_rounding: 6}", true, false),
    (
        "\\frac{1}{3}",
        "0.333333",
        "{float_rounding: 6}",
        true,
        true,
    ),
    ("1000.4", "1000", "{float_rounding: 0}", false, true),
    (
        "x = 0.50001",
        "\\frac{1}{2}",
        "{float_rounding: 4}",
        false,
        true,
    ),
    (
        "(0.501, 2)",
        "(\\frac{1}{2}, 2)",
        "{float_rounding: 2}",
        false,
        true,
    ),
    ("5", "5", "{float_rounding: 2}", true, true),
    ("5", "6", "{float_rounding: 0}", false, false),
    // ordered_tuples: false compares tuples as multisets.
    (
        "(1, 2, 3)",
        "(3, 2, 1)",
        "{ordered_tuples: false}",
        false,
        true,
    ),
    (
        "(1, 2, 3)",
        "(1, 2, 3)",
        "{ordered_tuples: false}",
        true,
        true,
    ),
    (
        "(1, 1, 2)",
        "(1, 2, 2)",
        "{ordered_tuples: false}",
        false,
        false,
    ),
    (
        "(1, 2, 3)",
        "(3, 2)",
        "{ordered_tuples: false}",
        false,
        false,
    ),
    (
        "3, 2, 1",
        "(1, 2, 3)",
        "{ordered_tuples: false}",
        false,
        true,
    ),
    (
        "(1, 2, 3)",
        "(3, 2, 1)",
        "{ordered_tuples: true}",
        false,
        false,
    ),
    // ordered_sets: true compares sets and bare lists in order.
    (
        "\\{1, 2\\}",
        "\\{2, 1\\}",
        "{ordered_sets: true}",
        true,
        false,
    ),
    (
        "\\{1, 2\\}",
        "\\{1, 2\\}",
        "{ordered_sets: true}",
        true,
        true,
    ),
    ("2, 1", "1, 2", "{ordered_sets: true}", true, false),
    ("1 and 2", "1, 2", "{ordered_sets: true}", true, true),
    // units: strict needs the same unit on both sides (synonyms agree); ignore drops them.
    ("5 \\text{ cm}", "5", "{units: \"strict\"}", true, false),
    ("5", "5 \\text{ cm}", "{units: \"strict\"}", true, false),
    (
        "5 \\text{ cm}",
        "5 \\text{ centimeters}",
        "{units: \"strict\"}",
        true,
        true,
    ),
    ("90^\\circ", "90", "{units: \"strict\"}", true, false),
    (
        "90^\\circ",
        "90^{\\circ}",
        "{units: \"strict\"}",
        true,
        true,
    ),
    ("12", "12", "{units: \"strict\"}", true, true),
    (
        "309 \\text{ s}",
        "309 \\text{ min}",
        "{units: \"strict\"}",
        false,
        false,
    ),
    (
        "309 \\text{ s}",
        "309 \\text{ min}",
        "{units: \"ignore\"}",
        false,
        true,
    ),
    (
        "7 \\text{ km}",
        "7 \\text{ kilograms}",
        "{units: \"ignore\"}",
        false,
        true,
    ),
    (
        "7 \\text{ km}",
        "8 \\text{ km}",
        "{units: \"ignore\"}",
        false,
        false,
    ),
    ("5 \\text{ cm}", "5", "{units: \"lenient\"}", true, true),
    // percent: strict means a percentage equals only a percentage.
    ("0.5", "50\\%", "{percent: \"strict\"}", true, false),
    ("50", "50\\%", "{percent: \"strict\"}", true, false),
    ("50\\%", "50", "{percent: \"strict\"}", true, false),
    ("50\\%", "50\\%", "{percent: \"strict\"}", true, true),
    (
        "50 \\text{ percent}",
        "50\\%",
        "{percent: \"strict\"}",
        true,
        true,
    ),
    ("50", "50\\%", "{units: \"strict\"}", true, true),
    // Several at once.
    (
        "(3.14159, 2)",
        "(2, 3.14)",
        "{float_rounding: 2, ordered_tuples: false}",
        false,
        true,
    ),
    (
        "90^\\circ",
        "90",
        "{units: \"strict\", percent: \"strict\"}",
        true,
        false,
    ),
];

fn option_spec(options: &str) -> [Spec; 2] {
    let source = format!(
        "use std::math\ninput {{ pred: text, gold: text }}\nscore = if math_equal_with(pred, gold, {options}) then 1.0 else 0.0\n"
    );
    both_engines(named("options.reward", &source))
        .unwrap_or_else(|e| panic!("{options}: the spec does not compile:\n{e}"))
}

/// The output record of both engines, interpreter first.
fn scores(engines: &[Spec; 2], pred: &str, gold: &str) -> Vec<String> {
    let row = serde_json::json!({ "pred": pred, "gold": gold }).to_string();
    engines
        .iter()
        .map(|spec| spec.score_line(1, &row, false).json)
        .collect()
}

#[test]
fn each_option_of_math_equal_with_changes_what_it_names_on_both_engines() {
    let mut wrong = Vec::new();
    for &(pred, gold, options, default, with) in OPTION_CASES {
        if math_equal(pred, gold) != default {
            wrong.push(format!("math_equal({pred:?}, {gold:?}) is not {default}"));
        }
        let want = format!("{{\"score\":{},", if with { "1.0" } else { "0.0" });
        for (engine, out) in ["interp", "jit"]
            .iter()
            .zip(scores(&option_spec(options), pred, gold))
        {
            if !out.starts_with(&want) {
                wrong.push(format!("{engine}: math_equal_with({pred:?}, {gold:?}, {options}) gave {out}, want {with}"));
            }
        }
        // No options is math_equal.
        for (engine, out) in ["interp", "jit"]
            .iter()
            .zip(scores(&option_spec("{}"), pred, gold))
        {
            let want = format!("{{\"score\":{},", if default { "1.0" } else { "0.0" });
            if !out.starts_with(&want) {
                wrong.push(format!("{engine}: math_equal_with({pred:?}, {gold:?}, {{}}) gave {out}, want {default}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn an_unknown_option_value_is_a_row_error_and_an_unknown_field_a_compile_error() {
    let out = scores(&option_spec("{units: \"loose\"}"), "5", "5");
    for o in &out {
        assert!(
            o.contains("\"error\"") && o.contains("lenient") && o.contains("ignore"),
            "{o}"
        );
    }
    let out = scores(&option_spec("{percent: \"exact\"}"), "5", "5");
    assert!(
        out.iter()
            .all(|o| o.contains("\"error\"") && o.contains("strict")),
        "{out:?}"
    );
    let source = "use std::math\ninput { pred: text, gold: text }\nscore = if math_equal_with(pred, gold, {unit: \"strict\"}) then 1.0 else 0.0\n";
    let err = both_engines(named("typo.reward", source))
        .err()
        .expect("a typo in a field is an error");
    assert!(err.contains("units"), "{err}");
}
