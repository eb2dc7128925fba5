//! The one table of native builtins. The checker reads signatures from it, the interpreter calls
//! `eval`, and later backends register the same entries, so the backends cannot drift apart.
//!
//! Aggregates (`sum`, `mean`, …) are not here: they are special forms with comprehension syntax,
//! handled by the checker and the IR directly.

use crate::native;
use crate::semantics::{fmax, fmin};
use crate::value::check_built_text;
use crate::Value;

pub type BuiltinId = usize;

/// A parameter's accepted types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P {
    Bool,
    Int,
    /// A float; ints and bools are converted.
    Float,
    /// int or float; if any `Num` argument is a float, all are converted to float.
    Num,
    Text,
    Regex,
    /// Any list; binds the element type `T`.
    List,
    ListText,
    /// `list[float]`.
    ListFloat,
    /// `list[list[float]]`: points, each `[x, y]`.
    Points,
    /// Any optional value; binds `T`.
    Opt,
}

/// A result type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum R {
    Bool,
    Int,
    Float,
    Text,
    OptText,
    OptInt,
    OptFloat,
    ListText,
    ListInt,
    /// The unified type of the `Num` arguments.
    Num,
    /// `T?` where `T` is bound by a `List` parameter.
    OptElem,
    /// `list[T]` where `T` is bound by a `List` parameter.
    SameList,
    /// The result record of a reward machine run (see `machine::run`).
    MachineRun,
}

/// What a builtin may need besides its arguments.
pub struct EvalContext<'a> {
    pub regexes: &'a [crate::native::pattern::Pattern],
}

pub type EvalFn = fn(&[Value], &EvalContext) -> Result<Value, String>;

pub struct Builtin {
    pub name: &'static str,
    /// `None` for the prelude (always in scope); otherwise the `std::` module that exports it.
    pub module: Option<&'static str>,
    pub params: &'static [P],
    pub ret: R,
    pub doc: &'static str,
    pub eval: EvalFn,
}

fn text(s: String) -> Value {
    Value::Text(s.into())
}

fn opt_text(s: Option<String>) -> Value {
    s.map_or(Value::None, text)
}

fn text_list(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(text).collect())
}

fn num_unary(
    args: &[Value],
    int: fn(i64) -> Result<i64, String>,
    float: fn(f64) -> f64,
) -> Result<Value, String> {
    match &args[0] {
        Value::Int(i) => int(*i).map(Value::Int),
        other => Ok(Value::Float(float(other.as_f64()))),
    }
}

fn float1(args: &[Value], f: fn(f64) -> f64) -> Result<Value, String> {
    Ok(Value::Float(f(args[0].as_f64())))
}

fn t(args: &[Value], i: usize) -> &str {
    args[i].as_text()
}

macro_rules! b {
    ($name:literal, $module:expr, [$($p:ident),*], $ret:ident, $doc:literal, $eval:expr) => {
        Builtin {
            name: $name,
            module: $module,
            params: &[$(P::$p),*],
            ret: R::$ret,
            doc: $doc,
            eval: $eval,
        }
    };
}

const TEXT: Option<&str> = Some("std::text");
const EXTRACT: Option<&str> = Some("std::extract");
const MATH: Option<&str> = Some("std::math");
const SIMILARITY: Option<&str> = Some("std::similarity");
const GEOMETRY: Option<&str> = Some("std::geometry");
const STRUCTURED: Option<&str> = Some("std::structured");

fn floats(v: &Value) -> Vec<f64> {
    let items = v.scalars();
    (0..items.len()).map(|i| items.f64(i)).collect()
}

/// A box `[x1, y1, x2, y2]`.
fn bbox(v: &Value, which: &str) -> Result<[f64; 4], String> {
    let xs = floats(v);
    <[f64; 4]>::try_from(xs.as_slice()).map_err(|_| {
        format!(
            "the {which} box has {} coordinates; a box is [x1, y1, x2, y2]",
            xs.len()
        )
    })
}

/// Points `[[x, y], …]`.
fn points(v: &Value, which: &str) -> Result<Vec<(f64, f64)>, String> {
    v.as_list()
        .iter()
        .enumerate()
        .map(|(i, p)| match floats(p).as_slice() {
            [x, y] => Ok((*x, *y)),
            other => Err(format!(
                "point {i} of the {which} trajectory has {} coordinates; a point is [x, y]",
                other.len()
            )),
        })
        .collect()
}

pub static BUILTINS: &[Builtin] = &[
    // ---- sizes and lists
    b!("len", None, [Text], Int, "Number of characters (Unicode scalar values).",
        |a, _| Ok(Value::Int(t(a, 0).chars().count() as i64))),
    b!("len", None, [List], Int, "Number of elements.",
        |a, _| Ok(Value::Int(a[0].list_len() as i64))),
    // Not callable by name (the module is internal): machines lower to it.
    b!("machine_run", Some("internal"), [List, List], MachineRun,
        "Runs a reward machine table over per-step edge masks.",
        |a, _| crate::machine::run(&a[0], &a[1])),
    b!("machine_run_labels", Some("internal"), [List, List, List], MachineRun,
        "A reward machine's run over label texts, its atoms `needle in step` (lowered machines).",
        |a, _| crate::machine::run_labels(&a[0], &a[1], a[2].as_list())),
    // Internal too: `ltl` declarations lower to these (see `ltl`).
    b!("ltl_sat", Some("internal"), [List, List], Bool,
        "An LTLf formula at position 0, from per-step atom bitmasks.",
        |a, _| crate::ltl::sat(&a[0], &a[1])),
    b!("ltl_robustness", Some("internal"), [List, List], Float,
        "The robustness of an LTLf formula at position 0, from per-atom robustness lists.",
        |a, _| crate::ltl::robustness(&a[0], a[1].as_list())),
    b!("ltl_verdicts", Some("internal"), [List, List], ListText,
        "Per-step monitor verdicts of an LTLf formula.",
        |a, _| crate::ltl::verdicts(&a[0], a[1].as_list())),
    b!("ltl_run", Some("internal"), [List, List], MachineRun,
        "Rewards from an LTLf formula's automaton, as a machine run.",
        |a, _| crate::ltl::run(&a[0], a[1].as_list())),
    b!("discounted", None, [ListFloat, Float], Float,
        "Σ γ^t · r_t over the list (γ^t by repeated multiplication, summed left to right).",
        |a, _| {
            let gamma = a[1].as_f64();
            let mut weight = 1.0;
            let mut total = 0.0;
            for r in a[0].as_list() {
                total += weight * r.as_f64();
                weight *= gamma;
            }
            Ok(Value::Float(total))
        }),
    b!("distinct", None, [List], SameList,
        "The elements without repeats, in order of first occurrence; elements are compared with `==` (so -0.0 equals 0.0 and every NaN, or list holding one, is kept). Linear time (lists and records hash by their elements).",
        |a, _| Ok(Value::List(distinct(a[0].as_list()).into()))),
    b!("distinct_ngrams", None, [List, Int], Int,
        "The number of distinct runs of n consecutive elements (n-grams), compared with `==`; 0 when n <= 0 or the list is shorter than n. Linear time for small n.",
        |a, _| Ok(Value::Int(distinct_ngrams(a[0].as_list(), a[1].as_int())))),
    b!("to_text", None, [Num], Text,
        "An int as decimal digits; a float in its shortest round-trip form (3.0, 0.1, 1e300, NaN, inf).",
        |a, _| Ok(text(match &a[0] {
            Value::Int(i) => i.to_string(),
            v => crate::value::format_float(v.as_f64()),
        }))),
    b!("first", None, [List], OptElem, "The first element, or none for an empty list.",
        |a, _| Ok(a[0].as_list().first().cloned().unwrap_or(Value::None))),
    b!("last", None, [List], OptElem, "The last element, or none for an empty list.",
        |a, _| Ok(a[0].as_list().last().cloned().unwrap_or(Value::None))),
    b!("range", None, [Int], ListInt, "The integers 0, 1, …, n-1 (empty when n ≤ 0; at most 10,000,000).",
        |a, _| {
            let n = a[0].as_int();
            if n > 10_000_000 {
                return Err(format!("{n} elements is over the limit of 10,000,000"));
            }
            Ok(Value::List((0..n.max(0)).map(Value::Int).collect()))
        }),
    b!("is_none", None, [Opt], Bool, "True when the optional value is none.",
        |a, _| Ok(Value::Bool(a[0].is_none()))),
    b!("is_some", None, [Opt], Bool, "True when the optional value is present.",
        |a, _| Ok(Value::Bool(!a[0].is_none()))),
    // ---- numbers
    b!("abs", None, [Num], Num, "Absolute value; abs of the smallest int is an error.",
        |a, _| num_unary(a, |i| i.checked_abs().ok_or_else(|| "integer overflow in abs".to_string()), f64::abs)),
    b!("min", None, [Num, Num], Num, "The smaller of two numbers; NaN if either is NaN; -0.0 < +0.0.",
        |a, _| Ok(match (&a[0], &a[1]) {
            (Value::Int(x), Value::Int(y)) => Value::Int(*x.min(y)),
            (x, y) => Value::Float(fmin(x.as_f64(), y.as_f64())),
        })),
    b!("max", None, [Num, Num], Num, "The larger of two numbers; NaN if either is NaN; +0.0 > -0.0.",
        |a, _| Ok(match (&a[0], &a[1]) {
            (Value::Int(x), Value::Int(y)) => Value::Int(*x.max(y)),
            (x, y) => Value::Float(fmax(x.as_f64(), y.as_f64())),
        })),
    b!("clip", None, [Num, Num, Num], Num, "clip(x, lo, hi) = min(max(x, lo), hi).",
        |a, _| Ok(match (&a[0], &a[1], &a[2]) {
            (Value::Int(x), Value::Int(lo), Value::Int(hi)) => Value::Int((*x.max(lo)).min(*hi)),
            (x, lo, hi) => Value::Float(fmin(fmax(x.as_f64(), lo.as_f64()), hi.as_f64())),
        })),
    b!("floor", None, [Float], Float, "Largest integer value not above x.", |a, _| float1(a, f64::floor)),
    b!("ceil", None, [Float], Float, "Smallest integer value not below x.", |a, _| float1(a, f64::ceil)),
    b!("round", None, [Float], Float, "Nearest integer value, ties to even (round(2.5) = 2.0, as in Python).",
        |a, _| float1(a, f64::round_ties_even)),
    b!("trunc", None, [Float], Float, "Integer part, toward zero.", |a, _| float1(a, f64::trunc)),
    b!("sqrt", None, [Float], Float, "Square root; NaN for negative x.", |a, _| float1(a, f64::sqrt)),
    b!("exp", None, [Float], Float, "e to the power x.", |a, _| float1(a, f64::exp)),
    b!("log", None, [Float], Float, "Natural logarithm; -inf at 0, NaN below.", |a, _| float1(a, f64::ln)),
    b!("log2", None, [Float], Float, "Base-2 logarithm.", |a, _| float1(a, f64::log2)),
    b!("log10", None, [Float], Float, "Base-10 logarithm.", |a, _| float1(a, f64::log10)),
    b!("sin", None, [Float], Float, "Sine (radians).", |a, _| float1(a, f64::sin)),
    b!("cos", None, [Float], Float, "Cosine (radians).", |a, _| float1(a, f64::cos)),
    b!("tanh", None, [Float], Float, "Hyperbolic tangent.", |a, _| float1(a, f64::tanh)),
    b!("sigmoid", None, [Float], Float, "1 / (1 + e^-x).", |a, _| float1(a, |x| 1.0 / (1.0 + (-x).exp()))),
    b!("pow", None, [Float, Float], Float, "x to the power y (IEEE pow).",
        |a, _| Ok(Value::Float(a[0].as_f64().powf(a[1].as_f64())))),
    b!("pi", None, [], Float, "The constant π.", |_, _| Ok(Value::Float(std::f64::consts::PI))),
    b!("is_nan", None, [Float], Bool, "True when x is NaN.", |a, _| Ok(Value::Bool(a[0].as_f64().is_nan()))),
    b!("is_finite", None, [Float], Bool, "True when x is neither infinite nor NaN.",
        |a, _| Ok(Value::Bool(a[0].as_f64().is_finite()))),
    b!("int", None, [Float], Int, "Truncates toward zero; NaN or a value outside the int range is an error.",
        |a, _| {
            let x = a[0].as_f64();
            let r = x.trunc();
            if r.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
                Err(format!("{} is not representable as a 64-bit integer", crate::value::format_float(x)))
            } else {
                Ok(Value::Int(r as i64))
            }
        }),
    b!("float", None, [Float], Float, "Converts an int or bool to float.", |a, _| Ok(Value::Float(a[0].as_f64()))),
    b!("approx", None, [Float, Float], Bool,
        "True when |a - b| ≤ 1e-9 · max(1, |a|, |b|); NaN is approx NaN. For tests and float comparisons.",
        |a, _| {
            let (x, y) = (a[0].as_f64(), a[1].as_f64());
            Ok(Value::Bool((x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * 1f64.max(x.abs()).max(y.abs())))
        }),
    // ---- text
    b!("lower", None, [Text], Text, "Lower-cased (Unicode).", |a, _| Ok(text(t(a, 0).to_lowercase()))),
    b!("upper", None, [Text], Text, "Upper-cased (Unicode).", |a, _| Ok(text(t(a, 0).to_uppercase()))),
    b!("trim", None, [Text], Text, "Without leading and trailing whitespace.", |a, _| Ok(Value::text(t(a, 0).trim()))),
    b!("contains", None, [Text, Text], Bool, "True when the second text occurs in the first.",
        |a, _| Ok(Value::Bool(native::search::contains(t(a, 0), t(a, 1))))),
    b!("starts_with", None, [Text, Text], Bool, "True when the text starts with the prefix.",
        |a, _| Ok(Value::Bool(t(a, 0).starts_with(t(a, 1))))),
    b!("ends_with", None, [Text, Text], Bool, "True when the text ends with the suffix.",
        |a, _| Ok(Value::Bool(t(a, 0).ends_with(t(a, 1))))),
    b!("replace", None, [Text, Text, Text], Text, "Replaces every non-overlapping occurrence; an empty pattern changes nothing.",
        |a, _| {
            let (s, from, to) = (t(a, 0), t(a, 1), t(a, 2));
            if to.len() > from.len() && !from.is_empty() {
                let n = native::search::count(s, from);
                check_built_text(s.len().saturating_add(n.saturating_mul(to.len() - from.len())))?;
            }
            Ok(text(native::replace(s, from, to)))
        }),
    b!("split", None, [Text, Text], ListText, "Splits on a separator, like Python's str.split(sep).",
        |a, _| Ok(text_list(native::split(t(a, 0), t(a, 1))))),
    b!("lines", None, [Text], ListText, "The lines of a text (\\n or \\r\\n); no empty last line for a trailing newline.",
        |a, _| Ok(text_list(native::lines(t(a, 0))))),
    b!("words", None, [Text], ListText, "Whitespace-separated words.", |a, _| Ok(text_list(native::words(t(a, 0))))),
    b!("join", None, [ListText, Text], Text, "Joins texts with a separator.",
        |a, _| {
            let parts: Vec<&str> = a[0].as_list().iter().map(Value::as_text).collect();
            let sep = t(a, 1).len().saturating_mul(parts.len().saturating_sub(1));
            check_built_text(parts.iter().fold(sep, |n, p| n.saturating_add(p.len())))?;
            Ok(text(parts.join(t(a, 1))))
        }),
    b!("slice", None, [Text, Int, Int], Text, "Characters start..end, Python slice semantics (negative from the end, clamped).",
        |a, _| Ok(text(native::slice(t(a, 0), a[1].as_int(), a[2].as_int())))),
    b!("occurrences", None, [Text, Text], Int, "Non-overlapping occurrences of a substring, like Python's str.count.",
        |a, _| Ok(Value::Int(native::occurrences(t(a, 0), t(a, 1))))),
    b!("occurrences_each", None, [Text, ListText], ListInt,
        "Non-overlapping occurrences of each substring, like Python's str.count for each, in one pass over the text.",
        |a, _| {
            let subs: Vec<&str> = a[1].as_list().iter().map(Value::as_text).collect();
            let counts = native::occurrences_each(t(a, 0), &subs);
            Ok(Value::array(crate::value::Column::Int(counts.into())))
        }),
    b!("find_positions", None, [Text, Text], ListInt,
        "Character offsets of every occurrence of the substring, overlapping ones included.",
        |a, _| Ok(Value::List(native::find_positions(t(a, 0), t(a, 1)).into_iter().map(Value::Int).collect()))),
    b!("chars", None, [Text], ListText, "The characters of a text, each a one-character text.",
        |a, _| Ok(text_list(native::chars(t(a, 0))))),
    b!("parse_int", None, [Text], OptInt, "The integer the trimmed text spells (optional sign, digits), or none.",
        |a, _| Ok(native::parse_int(t(a, 0)).map_or(Value::None, Value::Int))),
    b!("parse_float", None, [Text], OptFloat, "The finite decimal number the trimmed text spells, or none.",
        |a, _| Ok(native::parse_float(t(a, 0)).map_or(Value::None, Value::Float))),
    // ---- regex
    b!("matches", None, [Text, Regex], Bool, "Same as `text ~ /re/`: true when the regex matches anywhere.",
        |a, cx| Ok(Value::Bool(regex_of(a, 1, cx).is_match(t(a, 0))))),
    b!("find_all", None, [Text, Regex], ListText, "Every non-overlapping match, in order.",
        |a, cx| Ok(Value::List(regex_of(a, 1, cx).find_iter(t(a, 0)).map(|m| Value::text(m.as_str())).collect()))),
    b!("count_matches", None, [Text, Regex], Int, "Number of non-overlapping matches.",
        |a, cx| Ok(Value::Int(regex_of(a, 1, cx).find_iter(t(a, 0)).count() as i64))),
    b!("capture", None, [Text, Regex, Int], OptText,
        "Group n of the first match (0 is the whole match); none if no match or the group did not take part.",
        |a, cx| {
            let n = a[2].as_int();
            let caps = regex_of(a, 1, cx).captures(t(a, 0));
            Ok(match (caps, usize::try_from(n)) {
                (Some(c), Ok(n)) => c.get(n).map_or(Value::None, |m| Value::text(m.as_str())),
                _ => Value::None,
            })
        }),
    b!("replace_all", None, [Text, Regex, Text], Text, "Replaces every match; `$1`/`${name}` in the replacement refer to groups.",
        |a, cx| replace_all_bounded(regex_of(a, 1, cx), t(a, 0), t(a, 2)).map(text)),
    // ---- std::text
    b!("extract_tag", TEXT, [Text, Text], OptText,
        "Content between the first `<tag>` and the next `</tag>`; none if either is missing.",
        |a, _| Ok(opt_text(native::extract_tag(t(a, 0), t(a, 1))))),
    b!("extract_tags", TEXT, [Text, Text], ListText, "Every `<tag>…</tag>` content, in order.",
        |a, _| Ok(text_list(native::extract_tags(t(a, 0), t(a, 1))))),
    b!("tag_count", TEXT, [Text, Text], Int, "Occurrences of the opening `<tag>`.",
        |a, _| Ok(Value::Int(native::tag_count(t(a, 0), t(a, 1))))),
    b!("closing_tag_count", TEXT, [Text, Text], Int, "Occurrences of the closing `</tag>`.",
        |a, _| Ok(Value::Int(native::closing_tag_count(t(a, 0), t(a, 1))))),
    b!("word_count", TEXT, [Text], Int, "Number of whitespace-separated words.",
        |a, _| Ok(Value::Int(native::word_count(t(a, 0))))),
    b!("sentence_count", TEXT, [Text], Int, "Number of sentences (ending in . ! or ?).",
        |a, _| Ok(Value::Int(native::sentence_count(t(a, 0))))),
    b!("paragraph_count", TEXT, [Text], Int, "Number of paragraphs (separated by blank lines).",
        |a, _| Ok(Value::Int(native::paragraph_count(t(a, 0))))),
    b!("is_json", TEXT, [Text], Bool, "True when the text (optionally in a ```json fence) is valid JSON.",
        |a, _| Ok(Value::Bool(native::is_json(t(a, 0))))),
    b!("is_lowercase", TEXT, [Text], Bool, "Has a cased letter and no upper-case letter.",
        |a, _| Ok(Value::Bool(native::is_lowercase(t(a, 0))))),
    b!("is_uppercase", TEXT, [Text], Bool, "Has a cased letter and no lower-case letter.",
        |a, _| Ok(Value::Bool(native::is_uppercase(t(a, 0))))),
    // ---- std::extract
    b!("boxed", EXTRACT, [Text], OptText, "Content of the last `\\boxed{…}` (nested braces balanced).",
        |a, _| Ok(opt_text(native::boxed(t(a, 0))))),
    b!("final_answer", EXTRACT, [Text], Text,
        "The stated final answer: last \\boxed{}, else last <answer> tag, else after \"answer is\", else the last $…$, else the text.",
        |a, _| Ok(text(native::final_answer(t(a, 0))))),
    b!("hash_answer", EXTRACT, [Text], OptText, "GSM8K `#### n` in the last 300 characters (last match, commas removed).",
        |a, _| Ok(opt_text(native::hash_answer(t(a, 0))))),
    b!("answer_line", EXTRACT, [Text], OptText, "Text after the last `Answer:` up to the end of its line, trimmed.",
        |a, _| Ok(opt_text(native::answer_line(t(a, 0))))),
    b!("last_number", EXTRACT, [Text], OptText, "The last number in the text (commas removed).",
        |a, _| Ok(opt_text(native::last_number(t(a, 0))))),
    b!("choice_letter", EXTRACT, [Text], OptText, "The multiple-choice answer letter (A–J).",
        |a, _| Ok(opt_text(native::choice_letter(t(a, 0))))),
    b!("code_block", EXTRACT, [Text, Text], OptText, "Content of the last fenced code block with that language (\"\" for any).",
        |a, _| Ok(opt_text(native::code_block(t(a, 0), t(a, 1))))),
    // ---- std::similarity (the model's output first, the reference second)
    b!("edit_distance", SIMILARITY, [Text, Text], Int, "Levenshtein distance over characters.",
        |a, _| Ok(Value::Int(native::similarity::edit_distance(t(a, 0), t(a, 1))))),
    b!("wer", SIMILARITY, [Text, Text], Float, "Word error rate of a hypothesis against a reference, as jiwer computes it.",
        |a, _| Ok(Value::Float(native::similarity::wer(t(a, 0), t(a, 1))))),
    b!("cer", SIMILARITY, [Text, Text], Float, "Character error rate, as jiwer computes it.",
        |a, _| Ok(Value::Float(native::similarity::cer(t(a, 0), t(a, 1))))),
    b!("token_f1", SIMILARITY, [Text, Text], Float, "SQuAD token F1 after SQuAD answer normalisation.",
        |a, _| Ok(Value::Float(native::similarity::token_f1(t(a, 0), t(a, 1))))),
    b!("exact_match", SIMILARITY, [Text, Text], Bool, "SQuAD exact match after answer normalisation.",
        |a, _| Ok(Value::Bool(native::similarity::exact_match(t(a, 0), t(a, 1))))),
    b!("rouge_l", SIMILARITY, [Text, Text], Float, "ROUGE-L F1 with rouge-score's tokenizer (no stemming).",
        |a, _| Ok(Value::Float(native::similarity::rouge_l(t(a, 0), t(a, 1))))),
    b!("bleu", SIMILARITY, [Text, Text], Float, "Sentence BLEU-4 with NLTK smoothing method 1.",
        |a, _| Ok(Value::Float(native::similarity::bleu(t(a, 0), t(a, 1))))),
    b!("fuzzy_ratio", SIMILARITY, [Text, Text], Float, "Indel similarity in [0, 1] (rapidfuzz's fuzz.ratio / 100).",
        |a, _| Ok(Value::Float(native::similarity::fuzzy_ratio(t(a, 0), t(a, 1))))),
    // ---- std::geometry
    b!("json_get", STRUCTURED, [Text, Text], OptText,
        "The value at a dot path (`user.tags.0`) of a JSON text: a string's content or the JSON of other values; none if absent.",
        |a, _| Ok(opt_text(native::structured::json_get(t(a, 0), t(a, 1))))),
    b!("json_schema_valid", STRUCTURED, [Text, Text], Bool,
        "Whether a JSON text satisfies a JSON Schema (a documented subset; `$ref`/`pattern` give false).",
        |a, _| Ok(Value::Bool(native::structured::json_schema_valid(t(a, 0), t(a, 1))))),
    b!("tool_name", STRUCTURED, [Text], OptText,
        "The name of the tool called in a completion (<tool_call> JSON, bare JSON or OpenAI format).",
        |a, _| Ok(opt_text(native::structured::tool_name(t(a, 0))))),
    b!("tool_arguments", STRUCTURED, [Text], OptText,
        "The arguments of the tool call in a completion, as a JSON object text; none without a call.",
        |a, _| Ok(opt_text(native::structured::tool_arguments(t(a, 0))))),
    b!("tool_call_match", STRUCTURED, [Text, Text], Float,
        "Tool-call match in [0, 1]: 0 unless the names agree, else argument recall × precision.",
        |a, _| Ok(Value::Float(native::structured::tool_call_match(t(a, 0), t(a, 1))))),
    b!("iou", GEOMETRY, [ListFloat, ListFloat], Float, "Intersection over union of two boxes [x1, y1, x2, y2]; a list that is not 4 numbers is a row error.",
        |a, _| Ok(Value::Float(native::geometry::iou(bbox(&a[0], "first")?, bbox(&a[1], "second")?)))),
    b!("dtw", GEOMETRY, [Points, Points], OptFloat, "Dynamic time warping distance of two trajectories [[x, y], …] (Euclidean); none if either is empty.",
        |a, _| Ok(native::geometry::dtw(&points(&a[0], "first")?, &points(&a[1], "second")?).map_or(Value::None, Value::Float))),
    b!("frechet", GEOMETRY, [Points, Points], OptFloat, "Discrete Fréchet distance of two trajectories; none if either is empty.",
        |a, _| Ok(native::geometry::frechet(&points(&a[0], "first")?, &points(&a[1], "second")?).map_or(Value::None, Value::Float))),
    b!("relative_error", GEOMETRY, [Float, Float], Float, "|pred - gold| / |gold|; with gold 0: 0 if pred is 0, else inf.",
        |a, _| Ok(Value::Float(native::geometry::relative_error(a[0].as_f64(), a[1].as_f64())))),
    // ---- std::math
    b!("normalize_answer", MATH, [Text], Text, "Minerva-style normalisation of a final answer.",
        |a, _| Ok(text(native::normalize_answer(t(a, 0))))),
    b!("math_equal", MATH, [Text, Text], Bool,
        "math_equal(pred, gold): equal after normalisation, as exact rationals, or as floats within 1e-9 relative; an empty prediction is never equal.",
        |a, _| Ok(Value::Bool(native::math_equal(t(a, 0), t(a, 1))))),
    b!("math_equal_options", MATH, [Text, Text, Int, Bool, Bool, Text, Text], Bool,
        "math_equal_options(pred, gold, float_rounding, ordered_tuples, ordered_sets, units, percent): math_equal with the peers' knobs (see math_equal_with); a negative float_rounding keeps the default tolerance, units is \"lenient\", \"strict\" or \"ignore\", percent \"lenient\" or \"strict\".",
        |a, _| {
            let opts = native::MathOptions::from_args(
                a[2].as_int(),
                a[3].as_bool(),
                a[4].as_bool(),
                t(a, 5),
                t(a, 6),
            )?;
            Ok(Value::Bool(native::math_equal_with(t(a, 0), t(a, 1), opts)))
        }),
];

/// The index in [`BUILTINS`] of the builtin `name` with exactly these parameters. A `const fn`,
/// so that the builtins the compiler emits by itself are named once, in [`id`], and checked
/// when the compiler is built: renaming one in the table is a build error, never a failed
/// lookup at run time.
pub const fn builtin_id(name: &str, params: &[P]) -> usize {
    let mut i = 0;
    while i < BUILTINS.len() {
        let b = &BUILTINS[i];
        if same_str(b.name, name) && same_params(b.params, params) {
            return i;
        }
        i += 1;
    }
    panic!("no builtin of this name and parameters");
}

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_params(a: &[P], b: &[P]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] as u8 != b[i] as u8 {
            return false;
        }
        i += 1;
    }
    true
}

/// The builtins the compiler emits by itself when it lowers machines, formulas, rubrics and
/// `text ~ re`, and those its analyses recognise (`reward probe`'s findings).
pub mod id {
    use super::{builtin_id, P};

    pub const MACHINE_RUN: usize = builtin_id("machine_run", &[P::List, P::List]);
    pub const MACHINE_RUN_LABELS: usize =
        builtin_id("machine_run_labels", &[P::List, P::List, P::List]);
    pub const LTL_SAT: usize = builtin_id("ltl_sat", &[P::List, P::List]);
    pub const LTL_ROBUSTNESS: usize = builtin_id("ltl_robustness", &[P::List, P::List]);
    pub const LTL_VERDICTS: usize = builtin_id("ltl_verdicts", &[P::List, P::List]);
    pub const LTL_RUN: usize = builtin_id("ltl_run", &[P::List, P::List]);
    pub const MIN: usize = builtin_id("min", &[P::Num, P::Num]);
    pub const MAX: usize = builtin_id("max", &[P::Num, P::Num]);
    pub const CLIP: usize = builtin_id("clip", &[P::Num, P::Num, P::Num]);
    pub const RANGE: usize = builtin_id("range", &[P::Int]);
    pub const LEN_OF_LIST: usize = builtin_id("len", &[P::List]);
    pub const MATCHES: usize = builtin_id("matches", &[P::Text, P::Regex]);
    pub const CONTAINS: usize = builtin_id("contains", &[P::Text, P::Text]);
    pub const EXTRACT_TAG: usize = builtin_id("extract_tag", &[P::Text, P::Text]);
    pub const IS_SOME: usize = builtin_id("is_some", &[P::Opt]);
    pub const IS_NONE: usize = builtin_id("is_none", &[P::Opt]);
}

/// Elements without repeats under `==`, first occurrences in order.
/// The number of distinct n-grams of `items` (windows of `n` consecutive elements), with the
/// equality of `==`: windows are grouped by a hash of their elements and compared element by
/// element within a group, so the count is exact; a window holding a NaN equals no other.
fn distinct_ngrams(items: &[Value], n: i64) -> i64 {
    use std::collections::HashMap;
    use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
    let Ok(n) = usize::try_from(n) else {
        return 0;
    };
    if n == 0 || items.len() < n {
        return 0;
    }
    // A fast multiplicative mix (the hash only groups windows; equal windows are then compared
    // element by element, so a collision costs time, never correctness).
    let mix = |h: u64, x: u64| (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    let element_hash = |v: &Value| -> u64 {
        match v {
            Value::Int(i) => *i as u64,
            Value::Float(x) => {
                if *x == 0.0 {
                    0
                } else {
                    x.to_bits()
                }
            }
            Value::Bool(b) => u64::from(*b),
            Value::Text(t) => {
                let mut h = DefaultHasher::new();
                t.hash(&mut h);
                h.finish()
            }
            _ => 0,
        }
    };
    let hashes: Vec<u64> = items.iter().map(element_hash).collect();
    let eq = |a: &Value, b: &Value| crate::semantics::compare(crate::semantics::CmpOp::Eq, a, b);
    /// The window hash is already mixed: pass it through.
    #[derive(Default)]
    struct Identity(u64);
    impl Hasher for Identity {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 << 8) | u64::from(b);
            }
        }
        fn write_u64(&mut self, x: u64) {
            self.0 = x;
        }
    }
    let mut groups: HashMap<u64, Vec<usize>, BuildHasherDefault<Identity>> = HashMap::default();
    let mut count = 0i64;
    for start in 0..=items.len() - n {
        let key = hashes[start..start + n]
            .iter()
            .fold(0u64, |h, &x| mix(h, x));
        let starts = groups.entry(key).or_default();
        let window = &items[start..start + n];
        let seen = starts
            .iter()
            .any(|&s| items[s..s + n].iter().zip(window).all(|(a, b)| eq(a, b)));
        if !seen {
            starts.push(start);
            count += 1;
        }
    }
    count
}

fn distinct(items: &[Value]) -> Vec<Value> {
    use std::collections::HashSet;
    #[derive(PartialEq, Eq, Hash)]
    enum Key<'a> {
        Bool(bool),
        Int(i64),
        Float(u64),
        Text(&'a str),
        None,
        Seq(Vec<Key<'a>>),
    }
    /// The value's equality key; `None` when it holds a NaN, which equals nothing (so the
    /// value is always kept). Lists and records hash by their elements: linear time.
    fn key(v: &Value) -> Option<Key<'_>> {
        Some(match v {
            Value::Bool(b) => Key::Bool(*b),
            Value::Int(i) => Key::Int(*i),
            Value::Float(x) if x.is_nan() => return None,
            // -0.0 == 0.0.
            Value::Float(x) => Key::Float(if *x == 0.0 { 0 } else { x.to_bits() }),
            Value::Text(t) => Key::Text(t),
            Value::None => Key::None,
            Value::List(_) | Value::Columns(_) => {
                Key::Seq(v.as_list().iter().map(key).collect::<Option<Vec<_>>>()?)
            }
            Value::Record(items) => Key::Seq(items.iter().map(key).collect::<Option<Vec<_>>>()?),
            Value::Regex(_) => return None,
        })
    }
    let mut seen: HashSet<Key> = HashSet::new();
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        match key(v) {
            Some(k) => {
                if seen.insert(k) {
                    out.push(v.clone());
                }
            }
            None => out.push(v.clone()),
        }
    }
    out
}

fn regex_of<'c>(
    args: &[Value],
    i: usize,
    cx: &'c EvalContext,
) -> &'c crate::native::pattern::Pattern {
    match &args[i] {
        Value::Regex(id) => &cx.regexes[*id as usize],
        other => panic!("internal error: expected a regex, found {other:?}"),
    }
}

pub fn module_exports(module: &str) -> impl Iterator<Item = &'static str> + '_ {
    BUILTINS
        .iter()
        .filter(move |b| b.module == Some(module))
        .map(|b| b.name)
}

/// `re.replace_all(s, rep)`, failing as soon as the text being built would exceed the size a
/// rollout may build (a `$0$0$0…` replacement grows the text at every call).
fn replace_all_bounded(
    re: &crate::native::pattern::Pattern,
    s: &str,
    rep: &str,
) -> Result<String, String> {
    let mut out = String::new();
    let mut last = 0;
    let mut push = |out: &mut String, start: usize, end: usize, expand: &dyn Fn(&mut String)| {
        out.push_str(&s[last..start]);
        expand(out);
        last = end;
        check_built_text(out.len().saturating_add(s.len() - last))
    };
    if rep.contains('$') {
        for caps in re.captures_iter(s) {
            let Some(m) = caps.get(0) else { continue };
            push(&mut out, m.start(), m.end(), &|o| caps.expand(rep, o))?;
        }
    } else {
        for m in re.find_iter(s) {
            push(&mut out, m.start(), m.end(), &|o| o.push_str(rep))?;
        }
    }
    out.push_str(&s[last..]);
    Ok(out)
}

/// Calls builtin `id`; its error names the builtin. A result that puts the rollout over its
/// memory budget is an error too (see [`crate::meter`]).
pub fn call_builtin(id: usize, args: &[Value], cx: &EvalContext) -> Result<Value, String> {
    let b = &BUILTINS[id];
    // Internal builtins (machines, formulas) name what failed in their own terms.
    let v = if b.module == Some("internal") {
        (b.eval)(args, cx)?
    } else {
        (b.eval)(args, cx).map_err(|m| format!("{}: {m}", b.name))?
    };
    crate::meter::check()?;
    Ok(v)
}

#[cfg(test)]
mod distinct_tests {
    use super::*;

    #[test]
    fn lists_are_distinct_by_their_elements_and_nan_is_never_equal() {
        let l = |xs: &[f64]| Value::List(xs.iter().map(|&x| Value::Float(x)).collect());
        let items = vec![
            l(&[1.0, 2.0]),
            l(&[1.0, 2.0]),
            l(&[-0.0, 2.0]),
            l(&[0.0, 2.0]),
            l(&[f64::NAN]),
            l(&[f64::NAN]),
            l(&[2.0, 1.0]),
        ];
        let out = distinct(&items);
        // [1,2], [-0,2] (= [0,2]), [NaN], [NaN], [2,1]
        assert_eq!(out.len(), 5);
        assert!(out[1].same(&l(&[-0.0, 2.0])));
    }

    #[test]
    fn ngrams_are_counted_exactly() {
        let ints = |xs: &[i64]| xs.iter().map(|&x| Value::Int(x)).collect::<Vec<_>>();
        assert_eq!(distinct_ngrams(&ints(&[1, 2, 1, 2, 1, 2]), 2), 2);
        assert_eq!(distinct_ngrams(&ints(&[1, 1, 1, 1]), 2), 1);
        assert_eq!(distinct_ngrams(&ints(&[1, 2, 3]), 4), 0);
        assert_eq!(distinct_ngrams(&ints(&[1, 2, 3]), 0), 0);
        let nan = vec![Value::Float(f64::NAN), Value::Float(f64::NAN)];
        assert_eq!(distinct_ngrams(&nan, 1), 2);
        let zeros = vec![Value::Float(0.0), Value::Float(-0.0)];
        assert_eq!(distinct_ngrams(&zeros, 1), 1);
    }
}
