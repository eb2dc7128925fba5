//! Edge-case specs run both by tests/differential.rs (interpreter vs JIT) and by
//! tests/shared_library.rs (interpreter vs `reward build`). Included with `#[path]` by each;
//! each constant is named after the differential test that introduced it.

#![allow(dead_code)]

/// tests/differential.rs `list_index_in_and_out_of_range`.
pub const LIST_INDEX_IN_AND_OUT_OF_RANGE: &str = r#"
input { xs: list[float], ts: list[text], rs: list[{a: int, t: text}], i: int }
let x = xs[i]
let t = ts[i]
let ra = rs[i].a + 1
let nested = [xs, xs, xs][i][i]
let last_t = ts[-1]
score = x
"#;

/// tests/differential.rs `rubric_criterion_outside_unit_interval`.
pub const RUBRIC_CRITERION_OUTSIDE_UNIT_INTERVAL: &str = r#"
input { v: float, ok: bool, w: float }
rubric quality (normalize: total, clip: [0, 1]) {
    criterion "ratio" +2 : v
    criterion "flag" +1 : ok tag "style"
    criterion "penalty" -1 : 1.0 - w tag "harm"
    criterion "ratio squared" +1 : v * v tag "harm"
}
rubric raw (normalize: none) {
    criterion "flag again" +3 : ok
    criterion "bounded" -2 : clip(w, 0.0, 1.0)
}
rubric absolute (normalize: abs) {
    criterion "half" +1 : v / 2.0 tag "harm"
    criterion "flag inverted" -3 : not ok
}
rubric positive_only (normalize: positive, clip: [-1, 1]) {
    criterion "good" +4 : ok
    criterion "bad" -4 : w
}
score = quality + raw + absolute + positive_only
"#;

/// tests/differential.rs `optional_returning_builtins`.
pub const OPTIONAL_RETURNING_BUILTINS: &str = r#"
input { s: text, xs: list[float], ns: list[int], ts: list[text] }
let pf = parse_float(s)
let pf_or = parse_float(s) ?? -1.0
let pi_ = parse_int(s)
let pi_or = (parse_int(s) ?? 0) * 2
let fx = first(xs)
let lx = last(xs) ?? 0.0
let fn_ = first(ns) ?? -1
let ft = first(ts) ?? "none"
let lt = last(ts)
let cap1 = capture(s, /(\d+)-(\d+)/, 1)
let cap2 = capture(s, /(\d+)-(\d+)/, 2) ?? "?"
let cap0 = capture(s, /(\d+)-(\d+)/, 0) ?? "?"
let cap_missing = capture(s, /(\d+)-(\d+)/, 5) ?? "no group"
let cap_negative = capture(s, /(\d+)/, -1) ?? "negative"
let cap_optional_group = capture(s, /(a)?(\d)/, 1) ?? "unset"
let first_word = first(split(s, " ")) ?? ""
let last_line = last(lines(s)) ?? ""
score = pf_or
"#;

/// tests/differential.rs `if_with_optional_and_mixed_branches`.
pub const IF_WITH_OPTIONAL_AND_MIXED_BRANCHES: &str = r#"
input { x: float, n: int, b: bool, o: float?, on: int?, ot: text? }
param yes: bool = true
param no: bool = false
let a: float? = if b then x else none
let bb: int? = if b then on else n
let cc = (if b then o else none) ?? 1.0
let dd = if b then n else x
let ee: float? = if b then on else o
let ff = if b then ot else none
let gg = (if b then ot else some_text) ?? "none at all"
let some_text: text? = if n > 0 then "positive" else none
let folded_int = if yes then n else x
let folded_else = if no then x else n
let folded_opt: float? = if yes then on else o
let folded_opt2: float? = if no then o else on
let folded_none: float? = if yes then none else x
let folded_and = yes and b
let folded_or = no or b
let folded_coalesce = first([n, 2]) ?? 0.5
let nested = if b then (if n > 0 then on else none) else (if n < 0 then n else none)
score = cc
"#;

/// tests/differential.rs `short_circuits_skip_errors`.
pub const SHORT_CIRCUITS_SKIP_ERRORS: &str = r#"
input { b: bool, xs: list[float], ns: list[int], o: float? }
rule and_skips = b and xs[10] > 0.0
rule or_skips = not b or xs[10] > 0.0
let if_skips = if b then xs[10] else 1.0
let coalesce_skips = o ?? xs[10]
rule any_stops = any(for k in ns: 10 % k == 0)
rule all_stops = all(for k in ns: 10 % k != 0)
let count_mixed = count(for x in xs if x > 0.0: x > 1.0)
score = 0.0
"#;

/// tests/differential.rs `conversions_ranges_and_comparisons_of_optionals`.
pub const CONVERSIONS_RANGES_AND_COMPARISONS_OF_OPTIONALS: &str = r#"
input { x: float, n: int, o: float?, on: int?, ot: text?, s: text, recs: list[{a: int}], ls: list[list[int]] }
let as_float: float = n
let as_int = int(x)
let r = len(range(n))
let r_sum = sum(range(n))
rule o_eq = o == x
rule o_ne = o != x
rule on_eq = on == n
rule ot_eq = ot == s
rule rec_in = {a: n} in recs
rule list_in = [n] in ls
rule list_not_in = [n, n] not in ls
let mixed_cmp = n < x
let mixed_eq = n == x
score = as_float
"#;

/// tests/differential.rs `list_comprehensions`.
pub const LIST_COMPREHENSIONS: &str = r#"
input { xs: list[float], ns: list[int], ts: list[text] }
let doubled = [for x in xs: x * 2.0]
let positive = [for x in xs if x > 0.0: x]
let ids = [for x in xs if x != 0.0: x]
let as_text = [for n in ns if n % 2 == 0: "n=" + upper(join([for t in ts: t], "-"))]
let pairs = [for n in ns: [for m in ns if m < n: m * n]]
let records = [for t in ts: {name: t, size: len(t), long: len(t) > 2}]
let opts = [for x in xs: if x > 0.0 then x else none]
let from_range = [for i in range(len(ts)): ts[len(ts) - 1 - i]]
let total_pairs = sum(for p in pairs: len(p))
let sizes = sum(for r in records: r.size)
let longs = count(for r in records: r.long)
let present = count(for o in opts if is_some(o))
let opt_sum = sum(for o in opts: o ?? 0.0)
let first_pos = first(positive) ?? -1.0
let flat_len = len(doubled + positive)
rule same_again = doubled == [for x in xs: x + x]
rule reversed_twice = [for i in range(len(from_range)): from_range[len(from_range) - 1 - i]] == ts
let bool_list = [for n in ns: n > 0]
let n_true = count(bool_list)
score = opt_sum
"#;

/// tests/differential.rs `user_functions_calling_user_functions`.
pub const USER_FUNCTIONS_CALLING_USER_FUNCTIONS: &str = r#"
type Item = {name: text, weight: float}
input { x: float, y: float, n: int, s: text, items: list[Item], o: float? }
fn sq(v: float) -> float = v * v
fn hyp(a: float, b: float) -> float = sqrt(sq(a) + sq(b))
fn clamp01(v: float) -> float = clip(v, 0.0, 1.0)
fn scaled_hyp(a: float, b: float, k: int) -> float = hyp(a, b) * k
fn safe_div(a: float, b: float) -> float? = if b == 0.0 then none else a / b
fn label(ok: bool, k: int) -> text = if ok then "yes" + slice("!!!!!", 0, k) else "no"
fn heavy(items: list[Item], limit: float) -> list[text] = [for it in items if it.weight > limit: it.name]
fn total(items: list[Item]) -> float = sum(for it in items: it.weight)
fn bump(k: int) -> int = k + 1
fn twice(k: int) -> int = bump(bump(k))
fn pick(o: float?, d: float) -> float = o ?? d
fn describe(it: Item) -> text = it.name + ":" + lower(it.name)
fn score_of(it: Item, ok: bool) -> float = if ok then it.weight else -it.weight
let h = hyp(x, y)
let sh = scaled_hyp(x, y, n)
let c = clamp01(h / 10.0)
let q = safe_div(x, y) ?? -1.0
let lab = label(x > y, n)
let names = join(heavy(items, 1.0), ",")
let tot = total(items)
let t2 = twice(n)
let p = pick(o, x)
let p_none = pick(none, y)
let descs = [for it in items: describe(it)]
let best = max(for it in items: score_of(it, it.weight > 0.0)) ?? 0.0
let fn_in_filter = count(for it in items if sq(it.weight) > 1.0)
score = h + tot
"#;

/// tests/differential.rs `records_and_lists_built_in_expressions`.
pub const RECORDS_AND_LISTS_BUILT_IN_EXPRESSIONS: &str = r#"
input { x: float, n: int, s: text, xs: list[float] }
let r = {a: n, b: [x, x * 2.0], c: {d: s, e: [s, s + s]}}
let ra = r.a
let rb = r.b[1]
let rcd = r.c.d
let rce = r.c.e[-1]
let no_ints: list[int] = []
let no_texts: list[text] = []
let lists = [[n], [n, n + 1], no_ints]
let inner = lists[1][1]
let recs = [r, {a: 0, b: xs, c: {d: "", e: no_texts}}]
let pick = recs[if n > 0 then 0 else 1].b
rule eq_lists = [n, 1] == [1, n]
rule ne_lists = [x] != xs
rule eq_records = {a: n, b: s} == {a: 1, b: "x"}
rule eq_nested = r == {a: n, b: [x, x * 2.0], c: {d: s, e: [s, s + s]}}
rule eq_nan_record = {v: x / x} == {v: x / x}
let lens = len(lists) + len(recs[1].b)
score = x
"#;

/// tests/differential.rs `concat_in_and_bool_arithmetic`.
pub const CONCAT_IN_AND_BOOL_ARITHMETIC: &str = r#"
input { x: float, n: int, b: bool, c: bool, s: text, xs: list[float], ns: list[int], ts: list[text] }
let t = s + "!" + s
let empty = "" + ""
let nothing: list[float] = []
let l = xs + [x] + nothing
let lt = ts + split(s, " ")
let lns = ns + [n]
rule x_in = x in xs
rule n_in = n in ns
rule n_not_in = n not in ns
rule s_in = s in ts
rule sub_in = "a" in s
rule empty_in = "" in s
rule nan_in = x / x in xs + [x / x]
rule zero_in = -0.0 in [x]
let bf = b * 2.5
let bb = b + c
let bsub = 1.0 - b
let bdiv = b / 2
let bmix = b * n + c * x
let frac = mean(for y in xs: y > 0.0) ?? 0.0
let flags = sum(for y in xs: y > 0.0)
let bneg = -b
score = bf + bb
"#;

/// tests/differential.rs `input_records_nested_and_optional`.
pub const INPUT_RECORDS_NESTED_AND_OPTIONAL: &str = r#"
type Step = {x: float, tag: text?}
input {
    meta: {lang: text, difficulty: int, judge: {ok: bool, score: float?}}
    steps: list[Step]
    extra: {a: int}?
}
let difficulty = meta.difficulty * 2
let judged = meta.judge.ok
let judge_score = meta.judge.score ?? -1.0
let total = sum(for st in steps: st.x)
let tagged = count(for st in steps if is_some(st.tag))
let tags = [for st in steps: st.tag ?? "-"]
let best = argmax(for st in steps: st.x) ?? -1
let last_x = (last(steps) ?? {x: 0.0, tag: none}).x
let extra_a = (extra ?? {a: 7}).a
rule english = meta.lang == "en"
score = total
"#;

/// tests/differential.rs `text_operations_and_regexes`.
pub const TEXT_OPERATIONS_AND_REGEXES: &str = r#"
use std::text::{extract_tag, extract_tags, tag_count, word_count, sentence_count, is_json, is_lowercase}
use std::extract::{boxed, last_number, answer_line}
use std::math::{normalize_answer, math_equal}
input { s: text, t: text, n: int }
let low = lower(s)
let up = upper(s)
let trimmed = trim(s)
let replaced = replace(s, t, "<>")
let parts = split(s, t)
let n_parts = len(split(s, t))
let ls = lines(s)
let ws = words(s)
let joined = join(words(s), t)
let sliced = slice(s, n, -n)
let sliced_open = slice(s, -n, 1000)
let occ = occurrences(s, t)
let n_chars = len(s)
rule has_t = contains(s, t)
rule starts = starts_with(s, t)
rule ends = ends_with(s, t)
rule t_in_s = t in s
rule t_not_in_s = t not in s
rule digits = s ~ /\d+/
rule word_ci = s ~ /HELLO/i
rule anchored_m = s ~ /^b/m
rule dot_all = s ~ /a.b/s
rule verbose = s ~ /\d + \. \d+/x
rule lazy_swap = s ~ /a+?b/U
rule via_matches = matches(s, /(?i)é/)
let all_numbers = find_all(s, /-?\d+(\.\d+)?/)
let n_matches = count_matches(s, /[aeiou]/i)
let swapped = replace_all(s, /(\w+)@(\w+)/, "$2 at $1")
let named = replace_all(s, /(?P<first>\w)(?P<rest>\w*)/, "${rest}${first}")
let tag = extract_tag(s, "answer") ?? "no tag"
let tags = extract_tags(s, "b")
let n_tags = tag_count(s, "b")
let n_words = word_count(s)
let n_sentences = sentence_count(s)
rule json = is_json(s)
rule lowercase = is_lowercase(s)
let box = boxed(s) ?? ""
let number = last_number(s) ?? ""
let answer = answer_line(s) ?? ""
let norm = normalize_answer(s)
rule same_math = math_equal(s, t)
let cmp_lt = s < t
let cmp_ge = s >= t
let text_eq = lower(s) == lower(t)
let concat = s + t + ""
let longest = max(for w in words(s): w) ?? ""
let shortest = min(for w in words(s): w) ?? ""
score = float(n_chars)
"#;

/// tests/differential.rs `operation_budget_is_spent_identically`.
pub const OPERATION_BUDGET_IS_SPENT_IDENTICALLY: &str = r#"
input { n: int, w: int }
fn f(i: int) -> bool = i >= 0
let warmup = count(range(w))
let r = range(n)
let pairs = count(for i in r: f(i) and count(for j in r) > 0)
score = float(pairs)
"#;
