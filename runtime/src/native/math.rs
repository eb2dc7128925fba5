//! Math answers: normalisation and the fast text-and-number rules of the checker.
//!
//! [`normalize_answer`] rewrites an answer to a canonical text, [`parse_number_latex`] reads
//! it as an exact rational number, and [`math_equal`] combines both with a tolerant numeric
//! comparison, then hands over to the full checker in [`super::answer`] (expressions, units,
//! equations, tuples, sets, intervals).
//!
//! All functions here are total (no panics on any input, arithmetic is checked), never recurse,
//! and run in time linear in the length of their inputs.

use super::math_options::{options, rounded_equal, OptionsInForce};
pub use super::math_options::{MathOptions, Units};
pub use super::normalize::normalize_answer;
use super::normalize::reduce;
use super::text::parse_float;

/// An unsigned decimal: `d+`, `d+.d*` or `.d+`, as an exact rational.
fn parse_unsigned_decimal(t: &str) -> Option<(i128, i128)> {
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (t, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut num: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        num = num.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let exp = u32::try_from(frac_part.len()).ok()?;
    let den = 10i128.checked_pow(exp)?;
    reduce(num, den)
}

/// A decimal with an optional sign.
fn parse_signed_decimal(t: &str) -> Option<(i128, i128)> {
    match t.strip_prefix('-') {
        Some(rest) => {
            let (n, d) = parse_unsigned_decimal(rest)?;
            Some((n.checked_neg()?, d))
        }
        None => parse_unsigned_decimal(t.strip_prefix('+').unwrap_or(t)),
    }
}

fn divide(a: (i128, i128), b: (i128, i128)) -> Option<(i128, i128)> {
    reduce(a.0.checked_mul(b.1)?, a.1.checked_mul(b.0)?)
}

/// Exact rational value of an already normalised answer.
fn parse_rational(t: &str) -> Option<(i128, i128)> {
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let value = if let Some(args) = body.strip_prefix("\\frac{") {
        let (a, b) = args.strip_suffix('}')?.split_once("}{")?;
        if a.contains(['{', '}']) || b.contains(['{', '}']) {
            return None;
        }
        divide(parse_signed_decimal(a)?, parse_signed_decimal(b)?)?
    } else if let Some((a, b)) = body.split_once('/') {
        divide(parse_unsigned_decimal(a)?, parse_unsigned_decimal(b)?)?
    } else {
        parse_unsigned_decimal(body)?
    };
    if negative {
        Some((value.0.checked_neg()?, value.1))
    } else {
        Some(value)
    }
}

/// The exact value of a math answer as a fraction `(numerator, denominator)`.
///
/// The answer is first normalised with [`normalize_answer`], then must be, optionally preceded
/// by `-` or `+`, one of:
/// * an integer: `42`, `1,234` (thousands separators are removed by normalisation);
/// * a decimal: `0.125` (exactly 1/8), `.5`, `3.` (trailing dots are removed by normalisation);
/// * a fraction of two unsigned integers or decimals: `3/4`, `1.5/2`;
/// * `\frac{a}{b}` where `a` and `b` are integers or decimals, each with an optional sign
///   (`\frac{-1}{2}`), also written `\dfrac`, `\tfrac` or `\frac12` (single characters).
///
/// The result is in lowest terms with a positive denominator, and zero is `(0, 1)`:
/// `"\frac{2}{-4}"` gives `(-1, 2)`, `"0.50"` gives `(1, 2)`. None for anything else (mixed
/// numbers like `1\frac{1}{2}`, exponents like `1e3`, expressions, `\sqrt{2}`, `\pi`), for a
/// zero denominator, and when a number does not fit in 128-bit integers (about 38 digits;
/// trailing zeros after the decimal point do not count).
///
/// Time: O(n).
pub fn parse_number_latex(s: &str) -> Option<(i128, i128)> {
    parse_rational(&normalize_answer(s))
}

/// The numeric readings of a normalised answer: exact if possible, and as a float.
struct Numeric {
    exact: Option<(i128, i128)>,
    float: Option<f64>,
}

impl Numeric {
    fn of(t: &str) -> Numeric {
        let exact = parse_rational(t);
        let float = match exact {
            Some((n, d)) => Some(n as f64 / d as f64),
            None => parse_float(t),
        };
        Numeric { exact, float }
    }

    fn percent_of(&self) -> Numeric {
        Numeric {
            exact: self.exact.and_then(|(n, d)| reduce(n, d.checked_mul(100)?)),
            float: self.float.map(|x| x / 100.0),
        }
    }

    /// Equal exactly, or as floats within 1e-9 relative to `gold` (absolute below 1); with a
    /// `float_rounding` of n, equal exactly or once both are rounded to n decimal places.
    fn agrees_with(&self, gold: &Numeric) -> bool {
        if let (Some(a), Some(b)) = (self.exact, gold.exact) {
            if a == b {
                return true;
            }
        }
        match (self.float, gold.float, options().float_rounding) {
            (Some(p), Some(g), Some(places)) => rounded_equal(p, g, places),
            (Some(p), Some(g), None) => (p - g).abs() <= 1e-9 * g.abs().max(1.0),
            _ => false,
        }
    }
}

/// Whether the answer `pred` matches the reference answer `gold`: the text and number rules
/// below, then the full checker ([`super::answer::equivalent`]: expressions, radicals, π,
/// logarithms, units, equations, tuples, sets, intervals, text answers).
///
/// The text and number rules: both are normalised with [`normalize_answer`]. Then:
/// 1. If the normalised `pred` is empty, the result is **false**, whatever `gold` is (an empty
///    or whitespace-only answer, `$ $`, `\boxed{}` never earns credit). An empty normalised
///    `gold` also gives false.
/// 2. If the normalised texts are equal, true (`\dfrac12` equals `\frac{1}{2}`, `x = 5` equals
///    `5`, `\text{(B)}` equals `(B)`).
/// 3. If both are exact numbers per [`parse_number_latex`] and equal, true (`0.5`, `1/2`,
///    `\frac{2}{4}` and `.50` are all equal).
/// 4. If both are numbers as floats and `|pred - gold| <= 1e-9 * max(1, |gold|)`, true.
/// 5. If the raw `gold` contains `%` (`50\%`), `pred` may also give the fraction (`0.5`).
///
/// Time: O(n + m) for these rules; the full checker parses answers of at most 2,000
/// characters (longer ones are compared as text) with bounded depth.
pub fn math_equal(pred: &str, gold: &str) -> bool {
    math_equal_with(pred, gold, MathOptions::DEFAULT)
}

/// [`math_equal`] with options (see [`MathOptions`]): the same rules, each knob changing the
/// one it names. With strict units (or percentages), the units after the two answers (or
/// whether each is a percentage) must be the same before anything else is compared.
pub fn math_equal_with(pred: &str, gold: &str, opts: MathOptions) -> bool {
    verdicts::recalled_or(pred, gold, opts, || decide(pred, gold, opts))
}

/// [`math_equal_with`], worked out.
fn decide(pred: &str, gold: &str, opts: MathOptions) -> bool {
    let _in_force = OptionsInForce::set(opts);
    if opts.units == Units::Strict || opts.strict_percent {
        let (pu, gu) = (
            super::answer::trailing_unit(pred),
            super::answer::trailing_unit(gold),
        );
        let percent = |u: &Option<String>| u.as_deref() == Some("percent");
        if opts.strict_percent && percent(&pu) != percent(&gu) {
            return false;
        }
        let other = |u: Option<String>| u.filter(|u| u != "percent");
        if opts.units == Units::Strict && other(pu) != other(gu) {
            return false;
        }
    }
    // Rule 1, once for the rules that follow.
    let p = normalize_answer(pred);
    if p.is_empty() {
        return false;
    }
    basic_equal(&p, pred, gold) || super::answer::equivalent(pred, gold)
}

/// The verdicts of the last comparisons made on this thread. A GRPO step compares each
/// prompt's gold with the answers of its G completions, and right answers are mostly written
/// alike, so most comparisons were just made: working one out (normalising, parsing,
/// evaluating) takes microseconds, recalling it tens of nanoseconds. The comparison is a pure
/// function of its arguments, so a recalled verdict is the one it would give.
mod verdicts {
    use std::cell::RefCell;
    use std::hash::{Hash, Hasher};

    use super::MathOptions;

    /// Slots of the table, each holding the last comparison whose arguments hash there.
    const SLOTS: usize = 1024;
    /// Longer answers are not kept: they rarely repeat, and the table stays small (at most
    /// `SLOTS` × 2 × this many bytes per thread).
    const MAX_KEPT_BYTES: usize = 128;

    struct Verdict {
        pred: String,
        gold: String,
        opts: MathOptions,
        equal: bool,
    }

    thread_local! {
        static TABLE: RefCell<Vec<Option<Verdict>>> = const { RefCell::new(Vec::new()) };
    }

    fn slot(pred: &str, gold: &str, opts: MathOptions) -> Option<usize> {
        if pred.len() > MAX_KEPT_BYTES || gold.len() > MAX_KEPT_BYTES {
            return None;
        }
        let mut h = rustc_hash::FxHasher::default();
        (pred, gold, opts).hash(&mut h);
        Some(h.finish() as usize % SLOTS)
    }

    /// The verdict of the comparison when it was made last on this thread and is still kept,
    /// else `decide()`'s, then kept.
    pub(super) fn recalled_or(
        pred: &str,
        gold: &str,
        opts: MathOptions,
        decide: impl FnOnce() -> bool,
    ) -> bool {
        let Some(slot) = slot(pred, gold, opts) else {
            return decide();
        };
        let recalled = TABLE.with(|table| {
            let table = table.try_borrow().ok()?;
            let kept = table.get(slot)?.as_ref()?;
            (kept.pred == pred && kept.gold == gold && kept.opts == opts).then_some(kept.equal)
        });
        if let Some(equal) = recalled {
            return equal;
        }
        // Worked out with the table free: the comparison may compare others.
        let equal = decide();
        TABLE.with(|table| {
            let Ok(mut table) = table.try_borrow_mut() else {
                return;
            };
            if table.is_empty() {
                table.resize_with(SLOTS, || None);
            }
            let kept = table[slot].get_or_insert_with(|| Verdict {
                pred: String::new(),
                gold: String::new(),
                opts,
                equal,
            });
            // The slot's buffers are reused.
            kept.pred.clear();
            kept.pred.push_str(pred);
            kept.gold.clear();
            kept.gold.push_str(gold);
            kept.opts = opts;
            kept.equal = equal;
        });
        equal
    }
}

/// Rules 2–5 of [`math_equal`]; `p` is `pred` normalised, not empty.
fn basic_equal(p: &str, pred: &str, gold: &str) -> bool {
    let g = normalize_answer(gold);
    if g.is_empty() {
        return false;
    }
    if p == g {
        return true;
    }
    let pn = Numeric::of(p);
    if pn.exact.is_none() && pn.float.is_none() {
        return false;
    }
    let gn = Numeric::of(&g);
    if pn.agrees_with(&gn) {
        return true;
    }
    !options().strict_percent
        && gold.contains('%')
        && !pred.contains('%')
        && pn.agrees_with(&gn.percent_of())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn recalled_verdicts_are_the_verdicts_whatever_the_order_and_options() {
        // Answers that are equal under some options and not others, with long ones (never
        // kept) and more pairs than the table has slots, asked in a random order: every
        // answer must be the comparison's own.
        let answers = [
            "0.5",
            "\\frac{1}{2}",
            "50\\%",
            "50",
            "(1, 2)",
            "(2, 1)",
            "\\{1, 2\\}",
            "3.14159",
            "3.14",
            "5 \\text{ cm}",
            "5",
            "x = 5",
            "",
            "1,000",
            "1000",
        ];
        let long = "1".repeat(200);
        let mut options = vec![MathOptions::DEFAULT];
        for (rounding, tuples, percent) in [(2, true, "lenient"), (-1, false, "strict")] {
            for units in ["lenient", "strict", "ignore"] {
                options
                    .push(MathOptions::from_args(rounding, tuples, false, units, percent).unwrap());
            }
        }
        let mut next = crate::test_rng(0xD1B5_4A32_D192_ED03);
        let mut differed = 0;
        for round in 0..20_000 {
            let pick = |next: &mut dyn FnMut(usize) -> usize| {
                if next(40) == 0 {
                    long.clone()
                } else {
                    format!(
                        "{}{}",
                        answers[next(answers.len())],
                        " ".repeat(next(3) * (round % 2))
                    )
                }
            };
            let (pred, gold) = (pick(&mut next), pick(&mut next));
            let opts = options[next(options.len())];
            let want = decide(&pred, &gold, opts);
            assert_eq!(
                math_equal_with(&pred, &gold, opts),
                want,
                "{pred:?} {gold:?} {opts:?}"
            );
            differed += usize::from(want != decide(&pred, &gold, MathOptions::DEFAULT));
        }
        assert!(differed > 100, "{differed}");
    }

    #[test]
    fn options_from_args() {
        assert_eq!(
            MathOptions::from_args(-1, true, false, "lenient", "lenient"),
            Ok(MathOptions::DEFAULT)
        );
        let o = MathOptions::from_args(40, false, true, "ignore", "strict").unwrap();
        assert_eq!(o.float_rounding, Some(15));
        assert!(!o.ordered_tuples && o.ordered_sets && o.strict_percent);
        assert_eq!(o.units, Units::Ignore);
        let e = MathOptions::from_args(2, true, false, "loose", "lenient").unwrap_err();
        assert!(e.contains("\"loose\"") && e.contains("\"strict\""), "{e}");
        assert!(MathOptions::from_args(2, true, false, "strict", "").is_err());
    }

    #[test]
    fn rounding_half_to_even_at_places() {
        assert!(rounded_equal(1.23456, 1.23, 2));
        assert!(!rounded_equal(1.23456, 1.23, 3));
        assert!(rounded_equal(0.5, 0.0, 0) && rounded_equal(1.5, 2.0, 0));
        assert!(rounded_equal(f64::INFINITY, f64::INFINITY, 3));
        assert!(!rounded_equal(f64::NAN, f64::NAN, 3));
    }

    #[test]
    fn options_are_restored_after_a_comparison() {
        let strict = MathOptions {
            units: Units::Strict,
            ..MathOptions::DEFAULT
        };
        assert!(!math_equal_with("5 \\text{ cm}", "5", strict));
        assert_eq!(options(), MathOptions::DEFAULT);
        assert!(math_equal("5 \\text{ cm}", "5"));
    }

    #[test]
    fn normalize_spacing_and_symbols() {
        assert_eq!(normalize_answer("  42  "), "42");
        assert_eq!(normalize_answer("$42$"), "42");
        assert_eq!(normalize_answer("$$42$$"), "42");
        assert_eq!(normalize_answer("1\\,000\\!"), "1000");
        assert_eq!(normalize_answer("a\\;b\\:c\\ d"), "abcd");
        assert_eq!(normalize_answer("50\\%"), "50");
        assert_eq!(normalize_answer("50%"), "50");
        assert_eq!(normalize_answer("\\$5"), "5");
        assert_eq!(normalize_answer("90°"), "90");
        assert_eq!(normalize_answer("a\\\\b"), "a\\\\b");
        assert_eq!(normalize_answer(""), "");
        assert_eq!(normalize_answer(" $ $ "), "");
    }

    #[test]
    fn normalize_commands() {
        assert_eq!(normalize_answer("\\text{(A)}"), "(A)");
        assert_eq!(normalize_answer("5\\text{ cm}"), "5cm");
        assert_eq!(normalize_answer("\\textbf{\\text{yes}}"), "yes");
        assert_eq!(normalize_answer("\\mathrm{a{b}c}"), "a{b}c");
        assert_eq!(normalize_answer("\\mbox{x}"), "x");
        assert_eq!(normalize_answer("\\left( 1, 2 \\right)"), "(1,2)");
        assert_eq!(normalize_answer("\\left\\{1\\right\\}"), "\\{1\\}");
        assert_eq!(normalize_answer("\\left.x\\right|"), "x|");
        assert_eq!(normalize_answer("a\\leftarrow b"), "a\\leftarrowb");
        assert_eq!(normalize_answer("\\dfrac{1}{2}"), "\\frac{1}{2}");
        assert_eq!(normalize_answer("\\tfrac{3}{4}"), "\\frac{3}{4}");
        assert_eq!(normalize_answer("\\frac12"), "\\frac{1}{2}");
        assert_eq!(normalize_answer("\\frac 1 2"), "\\frac{1}{2}");
        assert_eq!(normalize_answer("\\dfrac1x"), "\\frac{1}{x}");
        assert_eq!(normalize_answer("\\fracab"), "\\frac{a}{b}");
        assert_eq!(normalize_answer("\\sqrt2"), "\\sqrt{2}");
        assert_eq!(normalize_answer("3\\sqrt x"), "3\\sqrt{x}");
        assert_eq!(normalize_answer("\\sqrt{2}"), "\\sqrt{2}");
        assert_eq!(normalize_answer("\\text{unclosed"), "unclosed");
        assert_eq!(normalize_answer("}}{"), "}}{");
        assert_eq!(normalize_answer("\\"), "\\");
        assert_eq!(normalize_answer("\\é"), "\\é");
    }

    #[test]
    fn normalize_degrees_wrappers_prefix_thousands() {
        assert_eq!(normalize_answer("90^\\circ"), "90");
        assert_eq!(normalize_answer("90^{\\circ}"), "90");
        assert_eq!(normalize_answer("1{,}234"), "1234");
        assert_eq!(normalize_answer("\\boxed{5}"), "5");
        assert_eq!(
            normalize_answer("$\\boxed{\\dfrac{1}{2}}$."),
            "\\frac{1}{2}"
        );
        assert_eq!(normalize_answer("\\boxed{\\text{5}}"), "5");
        assert_eq!(normalize_answer("\\fbox{\\boxed{7}}"), "7");
        assert_eq!(
            normalize_answer("\\boxed{1}+\\boxed{2}"),
            "\\boxed{1}+\\boxed{2}"
        );
        assert_eq!(normalize_answer("\\(3\\)"), "3");
        assert_eq!(normalize_answer("\\[3\\]"), "3");
        assert_eq!(normalize_answer("5..."), "5");
        assert_eq!(normalize_answer("x = 5"), "5");
        assert_eq!(normalize_answer("y=2x+1"), "2x+1");
        assert_eq!(normalize_answer("x=1, y=2"), "x=1,y=2");
        assert_eq!(normalize_answer("\\boxed{x=\\boxed{3}}"), "3");
        assert_eq!(normalize_answer("x="), "x=");
        assert_eq!(normalize_answer("1,234"), "1234");
        assert_eq!(normalize_answer("-1,234,567"), "-1234567");
        assert_eq!(normalize_answer("12,345.5"), "12345.5");
        assert_eq!(normalize_answer("1,2"), "1,2");
        assert_eq!(normalize_answer("1,2345"), "1,2345");
        assert_eq!(normalize_answer("\\$1,000."), "1000");
        assert_eq!(normalize_answer("\\boxed{}"), "");
    }

    #[test]
    fn parse_number_latex_forms() {
        assert_eq!(parse_number_latex("42"), Some((42, 1)));
        assert_eq!(parse_number_latex("-42"), Some((-42, 1)));
        assert_eq!(parse_number_latex("+7"), Some((7, 1)));
        assert_eq!(parse_number_latex("0"), Some((0, 1)));
        assert_eq!(parse_number_latex("-0"), Some((0, 1)));
        assert_eq!(parse_number_latex("0.125"), Some((1, 8)));
        assert_eq!(parse_number_latex("0.50"), Some((1, 2)));
        assert_eq!(parse_number_latex(".5"), Some((1, 2)));
        assert_eq!(parse_number_latex("3."), Some((3, 1)));
        assert_eq!(parse_number_latex("1,234"), Some((1234, 1)));
        assert_eq!(parse_number_latex("6/8"), Some((3, 4)));
        assert_eq!(parse_number_latex("-6/8"), Some((-3, 4)));
        assert_eq!(parse_number_latex("1.5/2"), Some((3, 4)));
        assert_eq!(parse_number_latex("\\frac{2}{4}"), Some((1, 2)));
        assert_eq!(parse_number_latex("\\dfrac{2}{-4}"), Some((-1, 2)));
        assert_eq!(parse_number_latex("-\\frac{-1}{3}"), Some((1, 3)));
        assert_eq!(parse_number_latex("\\frac12"), Some((1, 2)));
        assert_eq!(parse_number_latex("$\\boxed{\\frac{3}{9}}$"), Some((1, 3)));
        assert_eq!(parse_number_latex("x = 0.25"), Some((1, 4)));
        assert_eq!(
            parse_number_latex("1.000000000000000000000000000000000000000000"),
            Some((1, 1))
        );
    }

    #[test]
    fn parse_number_latex_rejects() {
        for bad in [
            "",
            "-",
            ".",
            "1/0",
            "\\frac{1}{0}",
            "0/0",
            "1e3",
            "1\\frac{1}{2}",
            "\\sqrt{2}",
            "\\pi",
            "1/2/3",
            "1/-2",
            "--1",
            "x",
            "1.2.3",
            "\\frac{1}{2}{3}",
            "\\frac{{1}}{2}",
            "1+1",
            "1,2",
            "inf",
            "٣",
        ] {
            assert_eq!(parse_number_latex(bad), None, "{bad:?}");
        }
        // Overflow gives none, never a panic.
        assert_eq!(parse_number_latex(&"9".repeat(39)), None);
        assert_eq!(parse_number_latex(&format!("0.{}1", "0".repeat(40))), None);
        let max = i128::MAX.to_string();
        assert_eq!(parse_number_latex(&max), Some((i128::MAX, 1)));
        assert_eq!(
            parse_number_latex(&format!("-{max}")),
            Some((-i128::MAX, 1))
        );
        assert_eq!(parse_number_latex(&format!("{max}/{max}")), Some((1, 1)));
        assert_eq!(parse_number_latex(&format!("\\frac{{{max}}}{{0.5}}")), None);
        assert_eq!(
            parse_number_latex(&format!("\\frac{{-{max}}}{{-1}}")),
            Some((i128::MAX, 1))
        );
    }

    #[test]
    fn math_equal_text_and_numbers() {
        assert!(math_equal("42", "42"));
        assert!(math_equal("$\\boxed{42}$", "42"));
        assert!(math_equal("\\dfrac12", "\\frac{1}{2}"));
        assert!(math_equal("0.5", "\\frac{1}{2}"));
        assert!(math_equal("1/2", "0.5"));
        assert!(math_equal(".50", "\\frac{2}{4}"));
        assert!(math_equal("5.0", "5"));
        assert!(math_equal("1,000", "1000"));
        assert!(math_equal("\\$1,000.", "1000"));
        assert!(math_equal("x = 5", "5"));
        assert!(math_equal("1e3", "1000"));
        assert!(math_equal("0.3333333333", "\\frac{1}{3}"));
        assert!(math_equal("-0", "0"));
        assert!(math_equal("\\text{(B)}", "(B)"));
        assert!(math_equal("\\left(1,2\\right)", "(1, 2)"));
        assert!(math_equal("90^\\circ", "90"));
        // The rounding policy: a decimal written with k >= 2 places equals a non-terminating
        // value that rounds to it; a terminating value must be written exactly.
        assert!(math_equal("0.333", "\\frac{1}{3}"));
        assert!(!math_equal("0.334", "\\frac{1}{3}"));
        assert!(!math_equal("0.3", "\\frac{1}{3}"));
        assert!(!math_equal("0.13", "\\frac{1}{8}"));
        assert!(!math_equal("0.33", "0.333"));
        assert!(!math_equal("43", "42"));
        assert!(!math_equal("-5", "5"));
        // A unit may be written or left out; values and expressions compare by meaning; text
        // answers ignore case (the full checker, `answer::equivalent`).
        assert!(math_equal("5cm", "5"));
        assert!(!math_equal("5 \\text{cm}", "5 \\text{km}"));
        assert!(math_equal("\\sqrt{4}", "2"));
        assert!(math_equal("x+1", "1+x"));
        assert!(math_equal("(b)", "(B)"));
        assert!(!math_equal("1000001", "1000000"));
        assert!(math_equal("1000000.0000001", "1000000"));
        // Equal text is enough, even when it is not a number.
        assert!(math_equal("1/0", "1/0 "));
        assert!(math_equal("\\text{Yes}", "Yes"));
        assert!(math_equal("yes", "Yes"));
        assert!(!math_equal("no", "Yes"));
    }

    #[test]
    fn math_equal_percentages() {
        assert!(math_equal("50", "50\\%"));
        assert!(math_equal("50\\%", "50\\%"));
        assert!(math_equal("0.5", "50\\%"));
        assert!(math_equal("\\frac{1}{2}", "50%"));
        assert!(math_equal("12.5", "12.5\\%"));
        assert!(math_equal("0.125", "12.5\\%"));
        assert!(!math_equal("0.5", "50"));
        assert!(!math_equal("50\\%", "0.5"));
        assert!(!math_equal("0.6", "50\\%"));
    }

    #[test]
    fn math_equal_empty_pred_never_matches() {
        for empty in ["", " ", "$ $", "\\boxed{}", "\\text{}", ".", "\\,", "$$"] {
            assert!(!math_equal(empty, ""), "{empty:?}");
            assert!(!math_equal(empty, "$ $"), "{empty:?}");
            assert!(!math_equal(empty, "42"), "{empty:?}");
        }
        assert!(!math_equal("42", ""));
    }

    #[test]
    fn megabyte_inputs_are_fast() {
        let quick = |f: &dyn Fn()| {
            let t = Instant::now();
            f();
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "took {:?}",
                t.elapsed()
            );
        };
        let braces = "{".repeat(1_000_000);
        quick(&|| assert_eq!(normalize_answer(&braces), braces));
        let boxes = "\\boxed{".repeat(100_000);
        quick(&|| assert!(!math_equal(&boxes, "1")));
        let nested = format!("{}1{}", "\\boxed{".repeat(100_000), "}".repeat(100_000));
        quick(&|| assert!(normalize_answer(&nested).starts_with("\\boxed{")));
        let texts = format!("{}1{}", "\\text{".repeat(100_000), "}".repeat(100_000));
        quick(&|| assert!(math_equal(&texts, "1")));
        let dollars = "$".repeat(1_000_000);
        quick(&|| assert!(!math_equal(&dollars, &dollars)));
        let digits = "9".repeat(1_000_000);
        quick(&|| assert!(math_equal(&digits, &digits)));
        quick(&|| assert!(!math_equal(&digits, "1")));
        let dots = format!("5{}", ".".repeat(1_000_000));
        quick(&|| assert!(math_equal(&dots, "5")));
        let backslashes = "\\".repeat(1_000_001);
        quick(&|| assert_eq!(normalize_answer(&backslashes).len(), 1_000_001));
        let fracs = "\\frac12".repeat(100_000);
        quick(&|| assert!(!math_equal(&fracs, "0.5")));
    }
}
