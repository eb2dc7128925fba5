//! Answers as structures, and when two are the same.
//!
//! * A value, with an optional unit.
//! * `name = answer` (a label: `x = 3`, `(p, q) = (3, 2)`, `f(x) = 1`, `|AB| = 1`,
//!   `V_1 : V_2 = 11 : 21`): the answer is the right side; `5 = x` too. Two labelled answers
//!   with the same label compare their answers, otherwise they compare as equations.
//! * A chain `x = 5 + 5 + 1 = 11` states its last side; `\approx` gives way to an exact side
//!   before it (`x = 1/3 \approx 0.33` is 1/3, `x \approx 11` is 11). An equation between two
//!   constants (`\frac{1}{2} \cdot 20 = 10`) is a computation: its value is the right side.
//! * Equations are equal when `lhs − rhs` agree up to a nonzero constant factor
//!   (`2x + 4y - 3 = 0` is `y = -\frac{1}{2}x + \frac{3}{4}`).
//! * Relations (`<`, `\le`, `>=`, `\gt`, `\neq`, `!=`, chains) are normalised to `a < b`,
//!   `a ≤ b`, `a ≠ b` and compared the same way, up to a positive factor for order relations
//!   (`-x > -1` is `x < 1`; `x \geq 5` is `5 \leq x`). A two-sided bound on one expression
//!   (`-2 \le x \le 7`) is also an interval, as is a one-sided one (`x > 5` is `(5, \infty)`).
//!   Against `z \in` a union of intervals, a condition on `z` alone is compared as a set, by
//!   sampling (`1 \le |z| \le 2` is `z \in [-2, -1] \cup [1, 2]`).
//! * Bare lists (`a, b`, `a and b`, `a or b`, `a; b` when there is no comma, `{a, b}`) and
//!   sets are equal when each element of one has an equal in the other (repetitions do not
//!   count); a list against a tuple is compared in order. `a \pm b` is the list of
//!   both.
//! * Expressions with variables are compared at five points; a point where either side is
//!   undefined (a square root of a negative) is skipped, and at least two must remain.
//! * Rounding policy: a decimal written with k ≥ 2 places equals a value that is not a
//!   terminating decimal (1/3, π, √2) when that value rounds to it at k places (`0.3333` is
//!   1/3, `2.6667` is 8/3); a terminating value must be written exactly (`0.13` is not 1/8).

use super::super::math_options::{options, rounded_equal, Units};
use super::{matrix, point, split_unit, Ex, Parser, Rel, Tok, V};

/// How deep answers nest (a list of labelled tuples is 3); deeper is not parsed.
const MAX_NESTING: usize = 6;
/// Most element pairs compared between two lists or sets (two lists of 300).
const MAX_PAIRS: usize = 90_000;
/// Grid points at which a condition on one variable is compared with a union of intervals.
const GRID: usize = 64;
/// Points at which expressions with variables are compared.
const ROUNDS: usize = 5;
/// Greek letters usable as names in a label.
const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "theta", "lambda", "mu", "phi", "varphi", "psi", "omega",
    "sigma", "rho", "tau",
];

/// What an answer says.
#[derive(Debug)]
pub(super) enum Answer {
    Value(Ex, Option<String>),
    /// `lhs = rhs`.
    Equation(Ex, Ex),
    /// `label = answer`, with both sides as expressions when they parse.
    Labeled(String, Box<Answer>, Option<(Ex, Ex)>),
    /// Relations as links `lhs op rhs` with `op` one of `<`, `≤`, `≠`.
    Relation(Vec<(Ex, Rel, Ex)>),
    Tuple(Vec<Ex>),
    Set(Vec<Answer>),
    /// A bare list: unordered, but in order against a tuple.
    List(Vec<Answer>),
    /// A union of intervals: (closed at the left, lo, hi, closed at the right).
    Intervals(Vec<Interval>),
    Matrix(Vec<Vec<Ex>>),
}

pub(super) type Interval = (bool, Ex, Ex, bool);

pub(super) fn parse_expr(toks: &[Tok]) -> Option<Ex> {
    if toks.is_empty() {
        return None;
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    (p.pos == toks.len()).then_some(e)
}

fn opens(t: &Tok) -> bool {
    matches!(t, Tok::Sym('(' | '[' | '{') | Tok::OpenSet)
}

fn closes(t: &Tok) -> bool {
    matches!(t, Tok::Sym(')' | ']' | '}') | Tok::CloseSet)
}

/// Splits at top-level tokens for which `sep` holds.
fn split_top(toks: &[Tok], sep: impl Fn(&Tok) -> bool) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if opens(t) {
            depth += 1;
        } else if closes(t) {
            depth -= 1;
        } else if depth == 0 && sep(t) {
            parts.push(&toks[start..i]);
            start = i + 1;
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// Splits at top-level commas.
fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    split_top(toks, |t| *t == Tok::Sym(','))
}

/// The items of a bare list: separated by commas, "and", "or", or else by semicolons.
fn split_list(toks: &[Tok]) -> Vec<&[Tok]> {
    let conjunction = |t: &Tok| match t {
        Tok::Sym(',') => true,
        Tok::Word(w) => w == "and" || w == "or",
        Tok::Text(t) => matches!(t.trim(), "and" | "or" | ","),
        _ => false,
    };
    let parts = split_top(toks, conjunction);
    if parts.len() > 1 {
        return parts;
    }
    split_top(toks, |t| *t == Tok::Sym(';'))
}

/// Whether the brackets at the ends of `toks` enclose everything.
fn encloses(toks: &[Tok]) -> bool {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        if opens(t) {
            depth += 1;
        } else if closes(t) {
            depth -= 1;
            if depth == 0 && i + 1 < toks.len() {
                return false;
            }
        }
    }
    depth == 0
}

fn parse_interval(toks: &[Tok]) -> Option<Interval> {
    let left = match toks.first()? {
        Tok::Sym('(') => false,
        Tok::Sym('[') => true,
        _ => return None,
    };
    let right = match toks.last()? {
        Tok::Sym(')') => false,
        Tok::Sym(']') => true,
        _ => return None,
    };
    if toks.len() < 2 {
        return None;
    }
    let parts = split_commas(&toks[1..toks.len() - 1]);
    if parts.len() != 2 {
        return None;
    }
    Some((left, parse_expr(parts[0])?, parse_expr(parts[1])?, right))
}

fn trim_punctuation(mut toks: &[Tok]) -> &[Tok] {
    while let Some(Tok::Sym('.' | ',' | ';')) = toks.last() {
        toks = &toks[..toks.len() - 1];
    }
    while let Some(Tok::Sym(',' | ';')) = toks.first() {
        toks = &toks[1..];
    }
    toks
}

/// A whole answer: a bare list of elements, or one element.
pub(super) fn parse_answer(toks: &[Tok]) -> Option<Answer> {
    parse_list(toks, 0)
}

fn parse_list(toks: &[Tok], depth: usize) -> Option<Answer> {
    let toks = trim_punctuation(toks);
    if toks.is_empty() || depth > MAX_NESTING {
        return None;
    }
    let parts = split_list(toks);
    if parts.len() >= 2 {
        let items: Option<Vec<Answer>> = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| parse_element(p, depth + 1))
            .collect();
        return items.map(Answer::List);
    }
    parse_element(toks, depth)
}

/// `a \pm b` (one `\pm` or `\mp`): the list of both values.
fn plus_minus(toks: &[Tok], depth: usize) -> Option<Option<Answer>> {
    let is_pm = |t: &Tok| matches!(t, Tok::Cmd(c) if c == "pm" || c == "mp");
    let k = toks.iter().position(is_pm)?;
    if toks[k + 1..].iter().any(is_pm) {
        return Some(None);
    }
    let variant = |sign: char| {
        let mut v = toks.to_vec();
        v[k] = Tok::Sym(sign);
        parse_element(&v, depth + 1)
    };
    Some((|| Some(Answer::List(vec![variant('+')?, variant('-')?])))())
}

fn parse_element(toks: &[Tok], depth: usize) -> Option<Answer> {
    let toks = trim_punctuation(toks);
    if toks.is_empty() || depth > MAX_NESTING {
        return None;
    }
    if let Some(answer) = plus_minus(toks, depth) {
        return answer;
    }
    let member = split_top(toks, |t| *t == Tok::Cmd("in".into()));
    if member.len() == 2 {
        let inner = parse_element(member[1], depth + 1)?;
        return is_label(member[0])
            .then(|| Answer::Labeled(label_key(member[0]), Box::new(inner), None));
    }
    let union = Tok::Cmd("cup".into());
    if toks.contains(&union) {
        let parts: Vec<&[Tok]> = toks.split(|t| *t == union).collect();
        let intervals: Option<Vec<_>> = parts.iter().map(|p| parse_interval(p)).collect();
        return intervals.map(Answer::Intervals);
    }
    if let Some(answer) = equation(toks, depth) {
        return answer;
    }
    if toks.iter().any(|t| matches!(t, Tok::Rel(_))) {
        return relation(toks);
    }
    collection(toks, depth).unwrap_or_else(|| value(toks))
}

/// Sets `\{…\}`, brace lists `{a, b}`, tuples and intervals.
fn collection(toks: &[Tok], depth: usize) -> Option<Option<Answer>> {
    let (first, last) = (toks.first()?, toks.last()?);
    if !encloses(toks) || toks.len() < 2 {
        return None;
    }
    let inner = &toks[1..toks.len() - 1];
    if *first == Tok::OpenSet && *last == Tok::CloseSet {
        if inner.is_empty() {
            return Some(Some(Answer::Set(Vec::new())));
        }
        let items: Option<Vec<Answer>> = split_list(inner)
            .into_iter()
            .map(|p| parse_element(p, depth + 1))
            .collect();
        return Some(items.map(Answer::Set));
    }
    if *first == Tok::Sym('{') && *last == Tok::Sym('}') && split_list(inner).len() >= 2 {
        return Some(parse_list(inner, depth + 1));
    }
    if !matches!(first, Tok::Sym('(' | '[')) {
        return None;
    }
    let items = split_commas(inner);
    let items = if items.len() == 1 {
        split_top(inner, |t| *t == Tok::Sym(';'))
    } else {
        items
    };
    if items.len() < 2 {
        return None;
    }
    let bracket = matches!(first, Tok::Sym('[')) || matches!(last, Tok::Sym(']'));
    let infinity = toks.contains(&Tok::Cmd("infty".into()));
    if items.len() == 2 && (bracket || infinity) {
        return Some(parse_interval(toks).map(|i| Answer::Intervals(vec![i])));
    }
    let items: Option<Vec<Ex>> = items.into_iter().map(parse_expr).collect();
    Some(items.map(Answer::Tuple))
}

/// A value with an optional unit, or a ratio `a : b` (the value a/b).
fn value(toks: &[Tok]) -> Option<Answer> {
    let ratio = split_top(toks, |t| *t == Tok::Sym(':'));
    if ratio.len() == 2 {
        let (a, b) = (parse_expr(ratio[0])?, parse_expr(ratio[1])?);
        return Some(Answer::Value(Ex::Div(Box::new(a), Box::new(b)), None));
    }
    let (body, unit) = split_unit(toks);
    Some(Answer::Value(parse_expr(body)?, unit))
}

/// Whether `toks` name something rather than compute it: names (letters, Greek letters),
/// subscripts, parentheses, commas, `|`, `:` and `\frac` of names; no numbers outside
/// subscripts and no operators (`f(x)`, `(p, q)`, `|AB|`, `V_{1}:V_{2}`, `\frac{NO}{BO}`).
fn is_label(toks: &[Tok]) -> bool {
    let mut named = false;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Sym('_') => {
                // Skip the subscript: one token or a braced group.
                i += 1;
                if toks.get(i) == Some(&Tok::Sym('{')) {
                    let mut depth = 0;
                    while i < toks.len() {
                        match toks[i] {
                            Tok::Sym('{') => depth += 1,
                            Tok::Sym('}') => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            break;
                        }
                        i += 1;
                    }
                }
            }
            Tok::Word(w) if w.chars().all(|c| c.is_ascii_alphabetic()) => named = true,
            Tok::Cmd(c) if GREEK.contains(&c.as_str()) => named = true,
            Tok::Cmd(c) if c == "frac" => {}
            Tok::Sym('(' | ')' | ',' | '|' | ':' | '{' | '}') => {}
            _ => return false,
        }
        i += 1;
    }
    named
}

fn label_key(toks: &[Tok]) -> String {
    let mut key = String::new();
    for t in toks {
        match t {
            Tok::Num(n) | Tok::Word(n) => key.push_str(n),
            Tok::Cmd(c) => {
                key.push('\\');
                key.push_str(c);
            }
            Tok::Sym('{' | '}') => {}
            Tok::Sym(c) => key.push(*c),
            _ => key.push('?'),
        }
    }
    key
}

/// Equations, chains and approximations; none if `toks` has no top-level `=` or `\approx`.
fn equation(toks: &[Tok], depth: usize) -> Option<Option<Answer>> {
    let is_approx = |t: &Tok| *t == Tok::Cmd("approx".into());
    let sides = split_top(toks, |t| *t == Tok::Sym('=') || is_approx(t));
    if sides.len() < 2 {
        return None;
    }
    if sides.len() == 2 && !toks.iter().any(is_approx) {
        return Some(single_equation(sides[0], sides[1], depth));
    }
    // The separators, in order: is the k-th one `\approx`?
    let approx: Vec<bool> = toks
        .iter()
        .filter(|t| **t == Tok::Sym('=') || is_approx(t))
        .map(is_approx)
        .collect();
    let stated = match approx.iter().position(|a| *a) {
        Some(k) if k > 0 && approx.len() + 1 == sides.len() => sides[k],
        _ => sides[sides.len() - 1],
    };
    let inner = parse_element(stated, depth + 1);
    Some(if is_label(sides[0]) {
        inner.map(|a| Answer::Labeled(label_key(sides[0]), Box::new(a), None))
    } else {
        inner
    })
}

fn single_equation(l: &[Tok], r: &[Tok], depth: usize) -> Option<Answer> {
    let (l_body, _) = split_unit(l);
    let (r_body, unit) = split_unit(r);
    let sides = parse_expr(l_body).zip(parse_expr(r_body));
    if is_label(l) {
        let inner = parse_element(r, depth + 1)?;
        return Some(Answer::Labeled(label_key(l), Box::new(inner), sides));
    }
    if is_label(r) {
        let inner = parse_element(l, depth + 1)?;
        return Some(Answer::Labeled(label_key(r), Box::new(inner), sides));
    }
    let (le, re) = sides?;
    if !le.has_vars() && !re.has_vars() {
        return Some(Answer::Value(re, unit));
    }
    Some(Answer::Equation(le, re))
}

/// A chain of relations as normalised links.
fn relation(toks: &[Tok]) -> Option<Answer> {
    let rels: Vec<Rel> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Rel(r) => Some(*r),
            _ => None,
        })
        .collect();
    let sides = split_top(toks, |t| matches!(t, Tok::Rel(_)));
    if sides.len() != rels.len() + 1 {
        return None;
    }
    let exprs: Option<Vec<Ex>> = sides.into_iter().map(parse_expr).collect();
    let exprs = exprs?;
    let links = rels
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let (a, b) = (exprs[k].clone(), exprs[k + 1].clone());
            match r {
                Rel::Lt => (a, Rel::Lt, b),
                Rel::Le => (a, Rel::Le, b),
                Rel::Gt => (b, Rel::Lt, a),
                Rel::Ge => (b, Rel::Le, a),
                Rel::Ne => (a, Rel::Ne, b),
            }
        })
        .collect();
    Some(Answer::Relation(links))
}

/// The interval a relation confines one expression to (`a ≤ x < b`, `x > 5`).
fn relation_interval(links: &[(Ex, Rel, Ex)]) -> Option<Interval> {
    let inf = || Ex::Num(V::float(f64::INFINITY));
    match links {
        [(l, op, r)] if *op != Rel::Ne => {
            let closed = *op == Rel::Le;
            if l.has_vars() && !r.has_vars() {
                Some((false, Ex::Neg(Box::new(inf())), r.clone(), closed))
            } else if r.has_vars() && !l.has_vars() {
                Some((closed, l.clone(), inf(), false))
            } else {
                None
            }
        }
        [first, second] => {
            let (low, high) = if exprs_equal(&first.2, &second.0) {
                (first, second)
            } else if exprs_equal(&second.2, &first.0) {
                (second, first)
            } else {
                return None;
            };
            let ok = low.1 != Rel::Ne && high.1 != Rel::Ne;
            (ok && !low.0.has_vars() && !high.2.has_vars()).then(|| {
                (
                    low.1 == Rel::Le,
                    low.0.clone(),
                    high.2.clone(),
                    high.1 == Rel::Le,
                )
            })
        }
        _ => None,
    }
}

fn comparable(x: &V, e: &Ex) -> bool {
    // An infinite value is only meaningful when `\infty` is written: otherwise it is an
    // overflow (`10^{99999999}`), and overflowed values are not compared.
    x.exact.is_some() || x.f.is_finite() || e.writes_infinity()
}

/// The decimal places of a written decimal literal (`0.33`, `-2.6667`).
fn decimal_places(e: &Ex) -> Option<u32> {
    match e {
        Ex::Dec(_, k) => Some(*k),
        Ex::Neg(inner) => match **inner {
            Ex::Dec(_, k) => Some(k),
            _ => None,
        },
        _ => None,
    }
}

/// The rounding policy (see the module documentation): `lit` is written as a decimal.
fn rounds_to(lit_e: &Ex, lit: &V, other: &V) -> bool {
    let Some(places) = decimal_places(lit_e).filter(|k| (2..=12).contains(k)) else {
        return false;
    };
    if let Some((_, mut d)) = other.exact {
        while d % 2 == 0 {
            d /= 2;
        }
        while d % 5 == 0 {
            d /= 5;
        }
        if d == 1 {
            return false;
        }
    }
    let half = 0.5 / 10f64.powi(places as i32);
    other.f.is_finite() && (lit.f - other.f).abs() <= half * (1.0 + 1e-9)
}

pub(super) fn exprs_equal(a: &Ex, b: &Ex) -> bool {
    let rounding = options().float_rounding;
    let same = |x: V, y: V| {
        comparable(&x, a)
            && comparable(&y, b)
            && match rounding {
                None => x.same(&y) || rounds_to(a, &x, &y) || rounds_to(b, &y, &x),
                Some(places) => {
                    matches!((x.exact, y.exact), (Some(p), Some(q)) if p == q)
                        || rounded_equal(x.f, y.f, places)
                }
            }
    };
    if !a.has_vars() && !b.has_vars() {
        return same(a.eval(&|_| f64::NAN), b.eval(&|_| f64::NAN));
    }
    let mut defined = 0;
    for round in 0..ROUNDS {
        let vars = |name: &str| point(name, round);
        let (x, y) = (a.eval(&vars), b.eval(&vars));
        if x.f.is_nan() || y.f.is_nan() {
            continue;
        }
        if !same(x, y) {
            return false;
        }
        defined += 1;
    }
    defined >= 2
}

/// Whether `a = c·b` for a constant `c ≠ 0` (`c > 0` if `positive`), by evaluation.
fn proportional(a: &Ex, b: &Ex, positive: bool) -> bool {
    let rounds = if a.has_vars() || b.has_vars() {
        ROUNDS
    } else {
        1
    };
    let mut pairs = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let vars = |name: &str| point(name, round);
        let (x, y) = (a.eval(&vars).f, b.eval(&vars).f);
        if x.is_finite() && y.is_finite() {
            pairs.push((x, y));
        }
    }
    if pairs.len() < rounds.min(2) {
        return false;
    }
    let tiny = |v: f64| v.abs() <= 1e-12;
    let Some(&(x0, y0)) = pairs.iter().max_by(|p, q| p.1.abs().total_cmp(&q.1.abs())) else {
        return false;
    };
    if tiny(y0) {
        return pairs.iter().all(|&(x, _)| tiny(x));
    }
    let c = x0 / y0;
    if tiny(c) || (positive && c < 0.0) {
        return false;
    }
    pairs
        .iter()
        .all(|&(x, y)| (x - c * y).abs() <= 1e-9 * x.abs().max((c * y).abs()).max(1.0))
}

fn difference(l: &Ex, r: &Ex) -> Ex {
    Ex::Add(Box::new(l.clone()), Box::new(r.clone()), -1)
}

/// Equations are equal when `lhs − rhs` agree up to a nonzero constant factor.
fn equations_equal(l1: &Ex, r1: &Ex, l2: &Ex, r2: &Ex) -> bool {
    proportional(&difference(l1, r1), &difference(l2, r2), false)
}

fn links_equal(a: &(Ex, Rel, Ex), b: &(Ex, Rel, Ex)) -> bool {
    a.1 == b.1
        && proportional(
            &difference(&a.0, &a.2),
            &difference(&b.0, &b.2),
            a.1 != Rel::Ne,
        )
}

fn unordered<A, B>(a: &[A], b: &[B], eq: impl Fn(&A, &B) -> bool) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter()
        .all(|x| match (0..b.len()).find(|&j| !used[j] && eq(x, &b[j])) {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        })
}

/// Sets: every element of each has an equal in the other (repetitions do not count). Lists
/// whose comparison would take more than [`MAX_PAIRS`] element comparisons are not equal.
fn same_elements(a: &[Answer], b: &[Answer]) -> bool {
    if a.len().saturating_mul(b.len()) > MAX_PAIRS {
        return false;
    }
    let within =
        |x: &[Answer], y: &[Answer]| x.iter().all(|e| y.iter().any(|f| answers_equal(e, f)));
    within(a, b) && within(b, a)
}

fn interval_equal(a: &Interval, b: &Interval) -> bool {
    a.0 == b.0 && a.3 == b.3 && exprs_equal(&a.1, &b.1) && exprs_equal(&a.2, &b.2)
}

/// A tuple `(a, b)` read as the open interval.
fn tuple_interval(t: &[Ex]) -> Option<Interval> {
    match t {
        [a, b] => Some((false, a.clone(), b.clone(), false)),
        _ => None,
    }
}

/// Whether `var` is the one variable of the relation.
fn only_variable(links: &[(Ex, Rel, Ex)], var: &str) -> bool {
    let mut names = Vec::new();
    for (l, _, r) in links {
        variables(l, &mut names);
        variables(r, &mut names);
    }
    names == [var]
}

/// A union of intervals, or a pair `(a, b)` read as the open interval.
fn as_intervals(a: &Answer) -> Option<Vec<Interval>> {
    match a {
        Answer::Intervals(iv) => Some(iv.clone()),
        Answer::Tuple(t) => tuple_interval(t).map(|i| vec![i]),
        _ => None,
    }
}

/// The names of the variables of `e`.
fn variables<'e>(e: &'e Ex, out: &mut Vec<&'e str>) {
    match e {
        Ex::Var(v) => {
            if !out.contains(&v.as_str()) {
                out.push(v);
            }
        }
        Ex::Num(_) | Ex::Dec(..) => {}
        Ex::Neg(a) | Ex::Func(_, a) => variables(a, out),
        Ex::Add(a, b, _)
        | Ex::Mul(a, b)
        | Ex::Div(a, b)
        | Ex::Pow(a, b)
        | Ex::Root(a, b)
        | Ex::Log(a, b) => {
            variables(a, out);
            variables(b, out);
        }
    }
}

/// A condition on one variable (`1 \le |z| \le 2`) against `z \in` a union of intervals: the
/// same set when they agree at every finite endpoint of the union, between consecutive
/// endpoints, at their negatives, and at [`GRID`] points across twice their range (a test by
/// sampling, like the evaluation of identities).
fn condition_equal(links: &[(Ex, Rel, Ex)], var: &str, iv: &[Interval]) -> bool {
    if !only_variable(links, var) {
        return false;
    }
    let at = |e: &Ex, x: f64| e.eval(&|n: &str| if n == var { x } else { f64::NAN }).f;
    let close = |a: f64, b: f64| {
        a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0) && (a - b).is_finite()
    };
    let holds = |x: f64| {
        links.iter().all(|(l, op, r)| {
            let (a, b) = (at(l, x), at(r, x));
            match op {
                Rel::Lt => a < b && !close(a, b),
                Rel::Le => a < b || close(a, b),
                _ => !close(a, b),
            }
        })
    };
    let ends: Vec<(bool, f64, f64, bool)> = iv
        .iter()
        .map(|(lc, lo, hi, rc)| (*lc, at(lo, 0.0), at(hi, 0.0), *rc))
        .collect();
    let inside = |x: f64| {
        ends.iter().any(|&(lc, lo, hi, rc)| {
            (lo < x && x < hi && !close(x, lo) && !close(x, hi))
                || (lc && close(x, lo))
                || (rc && close(x, hi))
        })
    };
    let mut points: Vec<f64> = ends
        .iter()
        .flat_map(|e| [e.1, e.2])
        .filter(|x| x.is_finite())
        .collect();
    if ends.iter().any(|e| e.1.is_nan() || e.2.is_nan()) {
        return false;
    }
    points.sort_by(f64::total_cmp);
    points.dedup_by(|a, b| close(*a, *b));
    let mut tests = points.clone();
    tests.extend(points.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    // The condition may change where the union does not (`|z| ≥ 1` at -1): also the
    // negatives of the endpoints and a grid across the range.
    tests.extend(points.iter().map(|x| -x));
    let reach = points.iter().fold(1.0f64, |m, x| m.max(x.abs())) * 2.0 + 1.0;
    tests.extend((0..=GRID).map(|k| -reach + 2.0 * reach * (k as f64 + 0.377) / GRID as f64));
    tests.into_iter().all(|x| holds(x) == inside(x))
}

/// The units after two values agree, under the `units` and `percent` options.
fn units_agree(a: &Option<String>, b: &Option<String>) -> bool {
    let opts = options();
    let percent = |u: &Option<String>| u.as_deref() == Some("percent");
    if opts.strict_percent && percent(a) != percent(b) {
        return false;
    }
    match opts.units {
        Units::Ignore => true,
        Units::Strict => {
            a.as_deref().filter(|u| *u != "percent") == b.as_deref().filter(|u| *u != "percent")
        }
        Units::Lenient => !matches!((a, b), (Some(x), Some(y)) if x != y),
    }
}

pub(super) fn answers_equal(p: &Answer, g: &Answer) -> bool {
    use Answer::*;
    match (p, g) {
        (Labeled(k1, a, s1), Labeled(k2, b, s2)) => {
            (k1 == k2 && answers_equal(a, b))
                || matches!((s1, s2), (Some((l1, r1)), Some((l2, r2)))
                    if equations_equal(l1, r1, l2, r2))
        }
        // A condition on the labelled variable itself: compared as sets of that variable.
        (Relation(r), Labeled(k, a, _)) | (Labeled(k, a, _), Relation(r))
            if only_variable(r, k) && as_intervals(a).is_some() =>
        {
            as_intervals(a).is_some_and(|iv| condition_equal(r, k, &iv))
        }
        (Labeled(_, _, Some((l1, r1))), Equation(l2, r2))
        | (Equation(l2, r2), Labeled(_, _, Some((l1, r1)))) => equations_equal(l1, r1, l2, r2),
        (Labeled(_, a, _), other) | (other, Labeled(_, a, _)) => answers_equal(a, other),
        (Value(a, ua), Value(b, ub)) => units_agree(ua, ub) && exprs_equal(a, b),
        (Equation(l1, r1), Equation(l2, r2)) => equations_equal(l1, r1, l2, r2),
        (Relation(a), Relation(b)) => unordered(a, b, links_equal),
        (Relation(r), Intervals(iv)) | (Intervals(iv), Relation(r)) => {
            iv.len() == 1 && relation_interval(r).is_some_and(|i| interval_equal(&i, &iv[0]))
        }
        (Relation(r), Tuple(t)) | (Tuple(t), Relation(r)) => {
            match (relation_interval(r), tuple_interval(t)) {
                (Some(a), Some(b)) => interval_equal(&a, &b),
                _ => false,
            }
        }
        (Tuple(a), Tuple(b)) if !options().ordered_tuples => unordered(a, b, exprs_equal),
        (Tuple(a), Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| exprs_equal(x, y))
        }
        (List(a) | Set(a), List(b) | Set(b)) if options().ordered_sets => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| answers_equal(x, y))
        }
        (List(a) | Set(a), List(b) | Set(b)) => same_elements(a, b),
        (List(a), Tuple(t)) | (Tuple(t), List(a)) if !options().ordered_tuples => {
            unordered(a, t, |x, y| answers_equal(x, &Value(y.clone(), None)))
        }
        (List(a), Tuple(t)) | (Tuple(t), List(a)) => {
            a.len() == t.len()
                && a.iter()
                    .zip(t)
                    .all(|(x, y)| answers_equal(x, &Value(y.clone(), None)))
        }
        (List(a) | Set(a), other) | (other, List(a) | Set(a)) => {
            !a.is_empty() && a.iter().all(|x| answers_equal(x, other))
        }
        (Intervals(a), Intervals(b)) => unordered(a, b, interval_equal),
        (Tuple(t), Intervals(iv)) | (Intervals(iv), Tuple(t)) => {
            iv.len() == 1 && tuple_interval(t).is_some_and(|i| interval_equal(&i, &iv[0]))
        }
        (Matrix(a), Matrix(b)) => matrix::equal(a, b),
        _ => false,
    }
}
