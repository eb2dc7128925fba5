//! The full math answer checker behind `math_equal`: LaTeX answers read as values — numbers and
//! expressions (fractions, radicals, π, e, logarithms, powers, scientific notation, implicit
//! products, variables), with units, as equations, tuples, sets and unions of intervals, or as
//! text — and compared by meaning.
//!
//! Numbers are compared exactly when both sides are rational (128-bit fractions), otherwise as
//! floats within 1e-9 relative; an expression with variables is compared by evaluating both
//! sides at three fixed points per variable (polynomial identity testing), so `x^2 - x - 20`
//! equals `(x - 5)(x + 4)` and not `x^2 + x - 20`.
//!
//! Bounded work on every input: answers longer than [`MAX_ANSWER`] characters are not parsed
//! (only compared as text), the parser descends at most [`MAX_DEPTH`] levels (it is the one
//! recursive function of the native library, and its depth is capped), and powers are computed
//! exactly only for exponents up to 64.

use super::normalize::{normalize_answer, reduce};

mod forms;
mod matrix;

use forms::{answers_equal, parse_answer};

/// Longest answer parsed as mathematics (characters).
pub const MAX_ANSWER: usize = 2_000;
/// Deepest nesting of the expression parser.
pub const MAX_DEPTH: usize = 48;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(String),
    /// A run of ASCII letters (variables, unit words, function names without backslash).
    Word(String),
    /// `\name`.
    Cmd(String),
    /// The content of `\text{…}` (and friends), raw.
    Text(String),
    Sym(char),
    /// `\{` and `\}`.
    OpenSet,
    CloseSet,
    /// An order relation or `≠` (`<`, `\leq`, `>=`, `\neq`, `!=`, …).
    Rel(Rel),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rel {
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
}

/// Commands read as such when written with a doubled backslash (`\\frac`, text escaped twice
/// on its way into a dataset); other `\\` are line breaks.
const DOUBLED_COMMANDS: &[&str] = &[
    "frac", "dfrac", "tfrac", "left", "right", "sqrt", "pi", "cdot", "times", "text", "mathrm",
    "le", "leq", "ge", "geq", "lt", "gt", "neq", "infty", "in", "cup", "pm", "boxed", "sin", "cos",
    "tan", "ln", "log", "quad", "approx",
];

/// The relation a command or symbol pair writes.
fn relation_cmd(name: &str) -> Option<Rel> {
    Some(match name {
        "lt" => Rel::Lt,
        "gt" => Rel::Gt,
        "le" | "leq" | "leqslant" | "leqq" => Rel::Le,
        "ge" | "geq" | "geqslant" | "geqq" => Rel::Ge,
        "ne" | "neq" => Rel::Ne,
        _ => return None,
    })
}

/// Commands dropped entirely (spacing, sizing, style switches).
const IGNORED: &[&str] = &[
    "left",
    "right",
    "displaystyle",
    "textstyle",
    "quad",
    "qquad",
    "big",
    "Big",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "middle",
    "limits",
    "mathbf",
    "mathrm",
    "boldsymbol",
    "mathit",
    "bm",
    "boxed",
    "fbox",
];

/// Commands whose braced argument is text.
const TEXT_COMMANDS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "mbox",
    "textup",
];

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    tokenize_at(s, 0)
}

/// `depth`: how many `\text{…}` groups holding numbers enclose `s` (re-tokenized, at most 4).
fn tokenize_at(s: &str, depth: usize) -> Option<Vec<Tok>> {
    let tokens = lex(s, depth)?;
    let tokens = combine_relations_and_degrees(tokens);
    Some(split_unbraced_digits(tokens))
}

fn lex(s: &str, depth: usize) -> Option<Vec<Tok>> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() || c == '$' || c == '~' {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (num, next) = read_number(&b, i);
            out.push(Tok::Num(num));
            i = next;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Tok::Word(b[start..i].iter().collect()));
        } else if c == '\\' {
            i = lex_command(&b, i, depth, &mut out)?;
        } else if c == '°' {
            out.push(Tok::Cmd("degree".into()));
            i += 1;
        } else if c == '%' {
            out.push(Tok::Cmd("percent".into()));
            i += 1;
        } else if "+-*/^_()[]{},=|!<>:;".contains(c) || c == '−' || c == '·' || c == '×' {
            out.push(Tok::Sym(match c {
                '−' => '-',
                '·' | '×' => '*',
                other => other,
            }));
            i += 1;
        } else {
            // Anything else (non-ASCII letters, quotes): part of a text answer.
            out.push(Tok::Word(c.to_string()));
            i += 1;
        }
    }
    Some(out)
}

/// The command or escaped symbol at `b[i] == '\\'`: pushes its tokens, returns the position
/// after it.
fn lex_command(b: &[char], i: usize, depth: usize, out: &mut Vec<Tok>) -> Option<usize> {
    let mut start = i + 1;
    if b.get(start) == Some(&'\\') {
        let name: String = b[start + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if DOUBLED_COMMANDS.contains(&name.as_str()) {
            start += 1;
        }
    }
    let mut j = start;
    while j < b.len() && b[j].is_ascii_alphabetic() {
        j += 1;
    }
    if j == start {
        // An escaped symbol.
        match b.get(start) {
            Some('{') => out.push(Tok::OpenSet),
            Some('}') => out.push(Tok::CloseSet),
            Some('%') => out.push(Tok::Cmd("percent".into())),
            Some('$') => out.push(Tok::Cmd("dollar".into())),
            // Spacing: `\,` `\!` `\;` `\:` `\ ` and `\\`.
            _ => {}
        }
        return Some(start + 1);
    }
    let name: String = b[start..j].iter().collect();
    if TEXT_COMMANDS.contains(&name.as_str()) {
        return text_argument(b, j, depth, out);
    }
    if IGNORED.contains(&name.as_str()) {
        // `\left.` is an invisible delimiter.
        if (name == "left" || name == "right") && b.get(j) == Some(&'.') {
            return Some(j + 1);
        }
        return Some(j);
    }
    out.push(match name.as_str() {
        "dfrac" | "tfrac" | "cfrac" => Tok::Cmd("frac".to_string()),
        "degree" | "circ" => Tok::Cmd("degree".to_string()),
        "lbrace" => Tok::OpenSet,
        "rbrace" => Tok::CloseSet,
        // `\quadx`: a spacing command glued to a variable.
        glued if glued.len() > 4 && glued.starts_with("quad") => Tok::Word(glued[4..].to_string()),
        _ => Tok::Cmd(name),
    });
    Some(j)
}

/// The braced argument of a text command ending at `i` (after spaces; none is skipped):
/// pushes its tokens, returns the position after it.
fn text_argument(b: &[char], mut i: usize, depth: usize, out: &mut Vec<Tok>) -> Option<usize> {
    while i < b.len() && b[i].is_whitespace() {
        i += 1;
    }
    if b.get(i) != Some(&'{') {
        return Some(i);
    }
    let close = matching(b, i)?;
    let content: String = b[i + 1..close].iter().collect();
    let starts_numeric = content
        .trim_start()
        .trim_start_matches('-')
        .starts_with(|c: char| c.is_ascii_digit());
    if starts_numeric && depth < 4 {
        // `\text{246 students}`: a number and a unit, written as text.
        out.extend(tokenize_at(&content, depth + 1)?);
    } else {
        out.push(Tok::Text(content));
    }
    Some(close + 1)
}

/// Relations (`\le`, `<=`, `!=`, …) become one token each, and `^{\circ}` / `^\circ` a degree.
fn combine_relations_and_degrees(out: Vec<Tok>) -> Vec<Tok> {
    let mut cleaned: Vec<Tok> = Vec::with_capacity(out.len());
    let mut k = 0;
    while k < out.len() {
        let t = &out[k];
        let deg = Tok::Cmd("degree".into());
        let next_eq = out.get(k + 1) == Some(&Tok::Sym('='));
        let rel = match t {
            Tok::Cmd(c) => relation_cmd(c),
            Tok::Sym('<') if next_eq => Some(Rel::Le),
            Tok::Sym('>') if next_eq => Some(Rel::Ge),
            Tok::Sym('!') if next_eq => Some(Rel::Ne),
            Tok::Sym('<') => Some(Rel::Lt),
            Tok::Sym('>') => Some(Rel::Gt),
            _ => None,
        };
        if let Some(r) = rel {
            cleaned.push(Tok::Rel(r));
            k += if matches!(t, Tok::Sym(_)) && next_eq {
                2
            } else {
                1
            };
        } else if *t == Tok::Sym('^') && out.get(k + 1) == Some(&deg) {
            cleaned.push(deg);
            k += 2;
        } else if *t == Tok::Sym('^')
            && out.get(k + 1) == Some(&Tok::Sym('{'))
            && out.get(k + 2) == Some(&deg)
            && out.get(k + 3) == Some(&Tok::Sym('}'))
        {
            cleaned.push(deg);
            k += 4;
        } else {
            cleaned.push(t.clone());
            k += 1;
        }
    }
    cleaned
}

/// `\frac12` is 1/2 and `x^23` is x²·3 in LaTeX: an unbraced argument is one digit.
fn split_unbraced_digits(cleaned: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::with_capacity(cleaned.len());
    let mut k = 0;
    while k < cleaned.len() {
        let t = cleaned[k].clone();
        let splits_next = match &t {
            Tok::Cmd(c) if c == "frac" => 2,
            Tok::Sym('^') => 1,
            _ => 0,
        };
        out.push(t);
        k += 1;
        let mut left = splits_next;
        while left > 0 {
            match cleaned.get(k) {
                Some(Tok::Num(n)) if !n.contains('.') && n.len() > 1 => {
                    let mut digits = n.chars();
                    let first = digits.next().map(String::from).unwrap_or_default();
                    let rest: String = digits.collect();
                    out.push(Tok::Num(first));
                    left -= 1;
                    if left > 0 && rest.len() > 1 {
                        let mut r = rest.chars();
                        out.push(Tok::Num(r.next().map(String::from).unwrap_or_default()));
                        out.push(Tok::Num(r.collect()));
                    } else {
                        out.push(Tok::Num(rest));
                    }
                    left = 0;
                    k += 1;
                }
                _ => left = 0,
            }
        }
    }
    out
}

fn matching(b: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A number starting at `i`, with thousands separators (`1,234`, `1{,}234`, `1,\!234`,
/// `1\,234`) removed when every group after the first has exactly three digits.
fn read_number(b: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    let digits = |b: &[char], i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let first = digits(b, i);
    s.extend(&b[i..i + first]);
    i += first;
    if first > 0 && first <= 3 {
        loop {
            // Separator forms, then exactly three digits not followed by another digit.
            let sep_len = [",", "{,}", ",\\!", "\\,", "\\!", ",\\,"]
                .iter()
                .find(|sep| {
                    let sep: Vec<char> = sep.chars().collect();
                    b.len() >= i + sep.len() && b[i..i + sep.len()] == sep[..]
                })
                .map(|sep| sep.chars().count());
            let Some(len) = sep_len else { break };
            if digits(b, i + len) == 3 {
                s.extend(&b[i + len..i + len + 3]);
                i += len + 3;
            } else {
                break;
            }
        }
    }
    if b.get(i) == Some(&'.') && b.get(i + 1).is_some_and(char::is_ascii_digit) {
        s.push('.');
        i += 1;
        let d = digits(b, i);
        s.extend(&b[i..i + d]);
        i += d;
    } else if b.get(i) == Some(&'.')
        && first > 0
        && !b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic())
    {
        // `3.` (a trailing point) is 3.
        i += 1;
    }
    (s, i)
}

/// A number: exactly (when rational and small enough) and as a float.
#[derive(Clone, Copy, Debug)]
struct V {
    exact: Option<(i128, i128)>,
    f: f64,
}

impl V {
    fn float(f: f64) -> V {
        V { exact: None, f }
    }

    fn exact(n: i128, d: i128) -> V {
        V {
            exact: reduce(n, d),
            f: n as f64 / d as f64,
        }
    }

    fn add(self, o: V, sign: i128) -> V {
        let exact = match (self.exact, o.exact) {
            (Some((a, b)), Some((c, d))) => (|| {
                reduce(
                    a.checked_mul(d)?
                        .checked_add(sign.checked_mul(c)?.checked_mul(b)?)?,
                    b.checked_mul(d)?,
                )
            })(),
            _ => None,
        };
        V {
            exact,
            f: self.f + sign as f64 * o.f,
        }
    }

    fn mul(self, o: V) -> V {
        let exact = match (self.exact, o.exact) {
            (Some((a, b)), Some((c, d))) => (|| reduce(a.checked_mul(c)?, b.checked_mul(d)?))(),
            _ => None,
        };
        V {
            exact,
            f: self.f * o.f,
        }
    }

    fn div(self, o: V) -> V {
        let exact = match (self.exact, o.exact) {
            (Some((a, b)), Some((c, d))) if c != 0 => {
                (|| reduce(a.checked_mul(d)?, b.checked_mul(c)?))()
            }
            _ => None,
        };
        V {
            exact,
            f: self.f / o.f,
        }
    }

    fn pow(self, o: V) -> V {
        if let (Some((a, b)), Some((e, 1))) = (self.exact, o.exact) {
            if e.unsigned_abs() <= 64 {
                let exact = (|| {
                    let k = u32::try_from(e.unsigned_abs()).ok()?;
                    let (n, d) = (a.checked_pow(k)?, b.checked_pow(k)?);
                    if e >= 0 {
                        reduce(n, d)
                    } else {
                        reduce(d, n)
                    }
                })();
                if exact.is_some() {
                    return V {
                        exact,
                        f: self.f.powf(o.f),
                    };
                }
            }
        }
        // An exact square root of a perfect square stays exact (√4 = 2).
        V::float(self.f.powf(o.f))
    }

    fn sqrt(self) -> V {
        if let Some((n, d)) = self.exact {
            if let (Some(rn), Some(rd)) = (isqrt(n), isqrt(d)) {
                return V::exact(rn, rd);
            }
        }
        V::float(self.f.sqrt())
    }

    fn same(&self, o: &V) -> bool {
        if let (Some(a), Some(b)) = (self.exact, o.exact) {
            return a == b;
        }
        if self.f.is_infinite() || o.f.is_infinite() {
            return self.f == o.f;
        }
        if !self.f.is_finite() || !o.f.is_finite() {
            return false;
        }
        (self.f - o.f).abs() <= 1e-9 * self.f.abs().max(o.f.abs()).max(1.0)
    }
}

fn isqrt(n: i128) -> Option<i128> {
    if n < 0 {
        return None;
    }
    let r = (n as f64).sqrt().round() as i128;
    (r.checked_mul(r)? == n).then_some(r)
}

#[derive(Clone, Debug)]
enum Ex {
    Num(V),
    /// A decimal literal and its number of decimal places (for the rounding policy).
    Dec(V, u32),
    Var(String),
    Neg(Box<Ex>),
    Add(Box<Ex>, Box<Ex>, i128),
    Mul(Box<Ex>, Box<Ex>),
    Div(Box<Ex>, Box<Ex>),
    Pow(Box<Ex>, Box<Ex>),
    Root(Box<Ex>, Box<Ex>),
    Func(&'static str, Box<Ex>),
    Log(Box<Ex>, Box<Ex>),
}

impl Ex {
    fn eval(&self, vars: &dyn Fn(&str) -> f64) -> V {
        match self {
            Ex::Num(v) | Ex::Dec(v, _) => *v,
            Ex::Var(name) => V::float(vars(name)),
            Ex::Neg(a) => V::exact(0, 1).add(a.eval(vars), -1),
            Ex::Add(a, b, sign) => a.eval(vars).add(b.eval(vars), *sign),
            Ex::Mul(a, b) => a.eval(vars).mul(b.eval(vars)),
            Ex::Div(a, b) => a.eval(vars).div(b.eval(vars)),
            Ex::Pow(a, b) => a.eval(vars).pow(b.eval(vars)),
            Ex::Root(index, a) => {
                let (i, x) = (index.eval(vars), a.eval(vars));
                if i.exact == Some((2, 1)) {
                    x.sqrt()
                } else if x.f < 0.0 && i.f.rem_euclid(2.0) == 1.0 {
                    V::float(-(-x.f).powf(1.0 / i.f))
                } else {
                    V::float(x.f.powf(1.0 / i.f))
                }
            }
            Ex::Func(f, a) => {
                let x = a.eval(vars).f;
                V::float(match *f {
                    "ln" => x.ln(),
                    "exp" => x.exp(),
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "tan" => x.tan(),
                    "sec" => 1.0 / x.cos(),
                    "csc" => 1.0 / x.sin(),
                    "cot" => 1.0 / x.tan(),
                    "arcsin" => x.asin(),
                    "arccos" => x.acos(),
                    "arctan" => x.atan(),
                    "sinh" => x.sinh(),
                    "cosh" => x.cosh(),
                    "tanh" => x.tanh(),
                    "abs" => x.abs(),
                    _ => f64::NAN,
                })
            }
            Ex::Log(base, a) => V::float(a.eval(vars).f.ln() / base.eval(vars).f.ln()),
        }
    }

    fn has_vars(&self) -> bool {
        match self {
            Ex::Num(_) | Ex::Dec(..) => false,
            Ex::Var(_) => true,
            Ex::Neg(a) | Ex::Func(_, a) => a.has_vars(),
            Ex::Add(a, b, _)
            | Ex::Mul(a, b)
            | Ex::Div(a, b)
            | Ex::Pow(a, b)
            | Ex::Root(a, b)
            | Ex::Log(a, b) => a.has_vars() || b.has_vars(),
        }
    }

    fn writes_infinity(&self) -> bool {
        match self {
            Ex::Num(v) | Ex::Dec(v, _) => v.f.is_infinite(),
            Ex::Var(_) => false,
            Ex::Neg(a) | Ex::Func(_, a) => a.writes_infinity(),
            Ex::Add(a, b, _)
            | Ex::Mul(a, b)
            | Ex::Div(a, b)
            | Ex::Pow(a, b)
            | Ex::Root(a, b)
            | Ex::Log(a, b) => a.writes_infinity() || b.writes_infinity(),
        }
    }
}

/// Fixed evaluation points for variables: a pseudo-random value in [-3, 3] (away from 0) for
/// each variable name and round, independent between names (so that `y - x` is not the same
/// at every round).
fn point(name: &str, round: usize) -> f64 {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // splitmix64 of the name's hash and the round.
    let mut z = h.wrapping_add((round as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let x = -3.0 + 6.0 * ((z >> 11) as f64 / (1u64 << 53) as f64);
    if x.abs() < 0.25 {
        x + 0.5
    } else {
        x
    }
}

const FUNCS: &[&str] = &[
    "ln", "exp", "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "tanh",
];

/// `\sin^{-1}` is `\arcsin`.
fn inverse(f: &'static str) -> Option<&'static str> {
    Some(match f {
        "sin" => "arcsin",
        "cos" => "arccos",
        "tan" => "arctan",
        _ => return None,
    })
}

struct Parser<'t> {
    toks: &'t [Tok],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn expr(&mut self) -> Option<Ex> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let sign = if self.eat(&Tok::Sym('+')) {
                1
            } else if self.eat(&Tok::Sym('-')) {
                -1
            } else if self.eat(&Tok::Cmd("pm".into())) {
                return None;
            } else {
                break;
            };
            let rhs = self.term()?;
            lhs = Ex::Add(Box::new(lhs), Box::new(rhs), sign);
        }
        self.depth -= 1;
        Some(lhs)
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(Tok::Num(_)) | Some(Tok::Sym('(')) | Some(Tok::Sym('{')) => true,
            Some(Tok::Word(w)) => w.chars().all(|c| c.is_ascii_alphabetic()),
            Some(Tok::Cmd(c)) => {
                matches!(c.as_str(), "frac" | "sqrt" | "pi" | "log" | "infty")
                    || FUNCS.contains(&c.as_str())
            }
            _ => false,
        }
    }

    fn term(&mut self) -> Option<Ex> {
        let mut lhs = self.unary()?;
        loop {
            if self.eat(&Tok::Sym('*'))
                || self.eat(&Tok::Cmd("cdot".into()))
                || self.eat(&Tok::Cmd("times".into()))
            {
                let rhs = self.unary()?;
                lhs = Ex::Mul(Box::new(lhs), Box::new(rhs));
            } else if self.eat(&Tok::Sym('/')) || self.eat(&Tok::Cmd("div".into())) {
                let rhs = self.unary()?;
                lhs = Ex::Div(Box::new(lhs), Box::new(rhs));
            } else if self.starts_atom() {
                let rhs = self.power()?;
                lhs = Ex::Mul(Box::new(lhs), Box::new(rhs));
            } else {
                break;
            }
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<Ex> {
        if self.eat(&Tok::Sym('-')) {
            self.enter()?;
            let a = self.unary()?;
            self.depth -= 1;
            return Some(Ex::Neg(Box::new(a)));
        }
        if self.eat(&Tok::Sym('+')) {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Option<Ex> {
        let base = self.atom()?;
        if self.eat(&Tok::Sym('^')) {
            self.enter()?;
            let exp = if self.peek() == Some(&Tok::Sym('-')) {
                self.unary()?
            } else {
                self.atom_single()?
            };
            self.depth -= 1;
            return Some(Ex::Pow(Box::new(base), Box::new(exp)));
        }
        Some(base)
    }

    /// An exponent: a group, or one atom (`\frac12` and `x^23` were split into single digits
    /// by the tokenizer).
    fn atom_single(&mut self) -> Option<Ex> {
        if self.peek() == Some(&Tok::Sym('{')) {
            return self.group();
        }
        self.atom()
    }

    /// `f x`, `f(x)`, `f^2 x` (the square of `f x`) and `f^{-1} x` (the inverse function).
    fn function(&mut self, f: &'static str) -> Option<Ex> {
        let exp = if self.eat(&Tok::Sym('^')) {
            Some(if self.peek() == Some(&Tok::Sym('-')) {
                self.unary()?
            } else {
                self.atom_single()?
            })
        } else {
            None
        };
        let is_inverse = exp
            .as_ref()
            .is_some_and(|e| !e.has_vars() && e.eval(&|_| f64::NAN).exact == Some((-1, 1)));
        if is_inverse {
            if let Some(g) = inverse(f) {
                return Some(Ex::Func(g, Box::new(self.power()?)));
            }
        }
        let applied = Ex::Func(f, Box::new(self.power()?));
        Some(match exp {
            Some(e) => Ex::Pow(Box::new(applied), Box::new(e)),
            None => applied,
        })
    }

    fn group(&mut self) -> Option<Ex> {
        if !self.eat(&Tok::Sym('{')) {
            return self.atom();
        }
        let e = self.expr()?;
        self.eat(&Tok::Sym('}')).then_some(e)
    }

    fn atom(&mut self) -> Option<Ex> {
        self.enter()?;
        let tok = self.peek()?.clone();
        self.pos += 1;
        let e = match tok {
            Tok::Num(n) => {
                let v = match n.split_once('.') {
                    Some((i, f)) => {
                        let digits = format!("{i}{f}");
                        let den = 10i128.checked_pow(u32::try_from(f.len()).ok()?);
                        let places = u32::try_from(f.len()).ok()?;
                        let v = match (digits.parse::<i128>().ok(), den) {
                            (Some(num), Some(den)) => V::exact(num, den),
                            _ => V::float(n.parse().ok()?),
                        };
                        self.depth -= 1;
                        return Some(Ex::Dec(v, places));
                    }
                    None => match n.parse::<i128>() {
                        Ok(v) => V::exact(v, 1),
                        Err(_) => V::float(n.parse().ok()?),
                    },
                };
                Ex::Num(v)
            }
            Tok::Word(w) => {
                if w.chars().count() == 1 && w != "e" {
                    Ex::Var(w)
                } else if w == "e" {
                    Ex::Num(V::float(std::f64::consts::E))
                } else if FUNCS.contains(&w.as_str()) {
                    let f = FUNCS.iter().find(|f| **f == w).copied()?;
                    self.function(f)?
                } else {
                    // Several letters: a product of single-letter variables (`xy`).
                    let mut it = w.chars().map(|c| Ex::Var(c.to_string()));
                    let first = it.next()?;
                    it.fold(first, |acc, v| Ex::Mul(Box::new(acc), Box::new(v)))
                }
            }
            // `|x|`: the absolute value (not juxtaposed: `2|x|` is not read).
            Tok::Sym('|') => {
                let e = self.expr()?;
                if !self.eat(&Tok::Sym('|')) {
                    return None;
                }
                Ex::Func("abs", Box::new(e))
            }
            Tok::Sym('(') => {
                let e = self.expr()?;
                if !self.eat(&Tok::Sym(')')) {
                    return None;
                }
                e
            }
            Tok::Sym('{') => {
                let e = self.expr()?;
                if !self.eat(&Tok::Sym('}')) {
                    return None;
                }
                e
            }
            Tok::Cmd(c) => match c.as_str() {
                "frac" => {
                    let a = self.group()?;
                    let b = self.group()?;
                    Ex::Div(Box::new(a), Box::new(b))
                }
                "sqrt" => {
                    let index = if self.eat(&Tok::Sym('[')) {
                        let i = self.expr()?;
                        if !self.eat(&Tok::Sym(']')) {
                            return None;
                        }
                        i
                    } else {
                        Ex::Num(V::exact(2, 1))
                    };
                    let a = self.group()?;
                    Ex::Root(Box::new(index), Box::new(a))
                }
                "pi" => Ex::Num(V::float(std::f64::consts::PI)),
                "infty" => Ex::Num(V::float(f64::INFINITY)),
                "log" => {
                    let base = if self.eat(&Tok::Sym('_')) {
                        self.group()?
                    } else {
                        Ex::Num(V::float(std::f64::consts::E))
                    };
                    let arg = self.power()?;
                    Ex::Log(Box::new(base), Box::new(arg))
                }
                other => {
                    let f = FUNCS.iter().find(|f| **f == other).copied()?;
                    self.function(f)?
                }
            },
            _ => return None,
        };
        self.depth -= 1;
        Some(e)
    }
}

/// A unit after a value, canonical: `km` for `kilometers`, `degree` for `^\circ`, `percent`
/// for `\%`, `cm^2` for `\text{cm}^2`.
fn canonical_unit(words: &str) -> String {
    const SYNONYMS: &[(&str, &[&str])] = &[
        ("degree", &["degree", "degrees", "deg", "°"]),
        ("percent", &["percent", "%", "pct", "percentage"]),
        ("s", &["s", "sec", "secs", "second", "seconds"]),
        ("min", &["min", "mins", "minute", "minutes"]),
        ("h", &["h", "hr", "hrs", "hour", "hours"]),
        ("day", &["day", "days"]),
        ("week", &["week", "weeks"]),
        ("year", &["year", "years", "yr", "yrs"]),
        ("m", &["m", "meter", "meters", "metre", "metres"]),
        (
            "cm",
            &[
                "cm",
                "centimeter",
                "centimeters",
                "centimetre",
                "centimetres",
            ],
        ),
        (
            "mm",
            &[
                "mm",
                "millimeter",
                "millimeters",
                "millimetre",
                "millimetres",
            ],
        ),
        (
            "km",
            &["km", "kilometer", "kilometers", "kilometre", "kilometres"],
        ),
        ("in", &["in", "inch", "inches"]),
        ("ft", &["ft", "foot", "feet"]),
        ("yd", &["yd", "yard", "yards"]),
        ("mi", &["mi", "mile", "miles"]),
        ("g", &["g", "gram", "grams"]),
        ("kg", &["kg", "kilogram", "kilograms"]),
        ("mg", &["mg", "milligram", "milligrams"]),
        ("lb", &["lb", "lbs", "pound", "pounds"]),
        ("oz", &["oz", "ounce", "ounces"]),
        ("l", &["l", "liter", "liters", "litre", "litres"]),
        (
            "ml",
            &[
                "ml",
                "milliliter",
                "milliliters",
                "millilitre",
                "millilitres",
            ],
        ),
        ("dollar", &["dollar", "dollars", "usd"]),
        ("cent", &["cent", "cents"]),
        ("mph", &["mph"]),
    ];
    let lower = words.trim().to_lowercase();
    // `square centimeters` is `cm^2`, `cubic meters` is `m^3`.
    for (prefix, power) in [("square ", "^2"), ("cubic ", "^3")] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return format!("{}{power}", canonical_unit(rest));
        }
    }
    let (base, exp) = match lower.split_once('^') {
        Some((b, e)) => (
            b.trim().to_string(),
            format!("^{}", e.trim_matches(['{', '}', ' '])),
        ),
        None => (lower.clone(), String::new()),
    };
    let base = base.trim();
    for (canon, forms) in SYNONYMS {
        if forms.contains(&base) {
            return format!("{canon}{exp}");
        }
    }
    // Count nouns: `students` and `student` are one unit.
    let singular = if base.len() > 3 && base.ends_with('s') {
        &base[..base.len() - 1]
    } else {
        base
    };
    format!("{singular}{exp}")
}

/// Single letters that are units when they follow a number.
const LETTER_UNITS: &[&str] = &["s", "m", "g", "h", "l"];

/// Splits a trailing unit off the tokens: text groups, `\%`, `^\circ`, known unit words (with
/// an optional `^2`/`^3`). The unit is only taken if something remains before it.
fn split_unit(toks: &[Tok]) -> (&[Tok], Option<String>) {
    let mut end = toks.len();
    let mut unit: Vec<String> = Vec::new();
    loop {
        if end == 0 {
            break;
        }
        // `unit^2`
        let (exp, before_exp) = match (toks.get(end.wrapping_sub(2)), toks.get(end - 1)) {
            (Some(Tok::Sym('^')), Some(Tok::Num(n))) if end >= 3 => (format!("^{n}"), end - 2),
            _ => (String::new(), end),
        };
        let Some(t) = before_exp.checked_sub(1).and_then(|k| toks.get(k)) else {
            break;
        };
        let word = match t {
            Tok::Cmd(c) if c == "degree" || c == "percent" || c == "dollar" => c.clone(),
            Tok::Text(s) => {
                let s = s.replace("\\%", "%").replace("\\", "");
                let s = s.trim().to_string();
                if s.is_empty()
                    || s.chars().any(|c| c.is_ascii_digit())
                        && !s.contains(' ')
                        && s.parse::<f64>().is_ok()
                {
                    break;
                }
                s
            }
            Tok::Word(w)
                if (w.chars().count() >= 2 && !FUNCS.contains(&w.as_str()))
                    || LETTER_UNITS.contains(&w.as_str()) =>
            {
                w.clone()
            }
            _ => break,
        };
        if before_exp - 1 == 0 {
            break;
        }
        unit.insert(0, format!("{word}{exp}"));
        end = before_exp - 1;
    }
    if unit.is_empty() {
        return (toks, None);
    }
    // A leading `\text{...}` of digits with a unit inside (`\text{271 students}`) is handled
    // by the caller as text.
    (&toks[..end], Some(canonical_unit(&unit.join(" "))))
}

/// The unit after the whole answer, canonical (`cm` for `5 \text{ centimeters}`, `percent` for
/// `50\%`), or none.
pub(super) fn trailing_unit(s: &str) -> Option<String> {
    if s.chars().count() > MAX_ANSWER {
        return None;
    }
    split_unit(&tokenize(&decimal_comma(s))?).1
}

/// Text answers (`\text{north}`, `(C)`, `Monday`): normalised (see `normalize_answer`),
/// without braces, lower case.
fn text_key(s: &str) -> String {
    let t = normalize_answer(s);
    let t = t
        .replace("\\text", "")
        .replace("\\textbf", "")
        .replace("\\mathrm", "");
    // Braces only group; everything else counts (`**12` is not `12`, `2*3` is not `23`).
    let key: String = t
        .chars()
        .filter(|c| !matches!(c, '{' | '}') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    // A multiple-choice letter is the same with or without parentheses: `(C)` is `C`.
    let mut chars = key.chars();
    match (chars.next(), chars.next(), chars.next(), chars.next()) {
        (Some('('), Some(letter), Some(')'), None) if letter.is_alphabetic() => letter.to_string(),
        _ => key,
    }
}

/// Whether `pred` and `gold` state the same answer (see the module documentation). An empty
/// prediction is never equal.
pub fn equivalent(pred: &str, gold: &str) -> bool {
    if pred.trim().is_empty() || gold.trim().is_empty() {
        return false;
    }
    let pk = text_key(pred);
    if pk.is_empty() {
        return false;
    }
    if pk == text_key(gold) {
        return true;
    }
    if pred.chars().count() > MAX_ANSWER || gold.chars().count() > MAX_ANSWER {
        return false;
    }
    let read = |s: &str| {
        let s = decimal_comma(s);
        matrix::parse(&s).or_else(|| parse_answer(&tokenize(&s)?))
    };
    match (read(pred), read(gold)) {
        (Some(p), Some(g)) => answers_equal(&p, &g),
        _ => false,
    }
}

/// A decimal comma, read as a point where it cannot be anything else: the answer's only
/// comma, outside brackets, between digits and not followed by a space, with at least two
/// digits after it, and not a thousands separator (three digits after a group of one to three
/// digits that does not start with 0). `1,22` and `1000,99` and `0,111` are decimals; `1,234`
/// is a thousand and more, `2,3` and `1, 22` are lists.
fn decimal_comma(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    let mut commas = b.iter().enumerate().filter(|(_, c)| **c == b',');
    let (Some((k, _)), None) = (commas.next(), commas.next()) else {
        return s.into();
    };
    let nested = b[..k]
        .iter()
        .any(|c| matches!(c, b'(' | b'[' | b'{' | b')' | b']' | b'}'));
    let before = b[..k]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let after = b[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = &s[k - before..k];
    let around = |i: Option<&u8>| i.is_some_and(|c| c.is_ascii_digit() || *c == b'.');
    let thousands = after == 3 && before <= 3 && !int.starts_with('0');
    let decimal = before > 0
        && after >= 2
        && !thousands
        && !nested
        && !around(k.checked_sub(before + 1).and_then(|i| b.get(i)))
        && !around(b.get(k + 1 + after));
    if decimal {
        format!("{}.{}", &s[..k], &s[k + 1..]).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_value() {
        for (p, g) in [
            ("\\frac{530}{2}", "265"),
            ("6681 \\times 10^{-2}", "66.81"),
            ("2 \\cdot \\sqrt{15}", "2\\sqrt{15}"),
            ("\\frac{20}{\\sqrt{10}}", "2\\sqrt{10}"),
            ("\\log_{5}{625}", "4"),
            ("\\frac{1}{6}\\pi", "\\frac{\\pi}{6}"),
            ("\\ln(17)", "\\ln 17"),
            ("25\\text{ percent}", "25\\%"),
            ("216 \\text{ kilometers}", "216 \\text{ km}"),
            ("15^\\circ", "15^{\\circ}"),
            (
                "(\\frac{7}{2}, \\infty) \\cup (-\\infty, -11]",
                "(-\\infty, -11] \\cup (\\frac{7}{2}, \\infty)",
            ),
            (
                "\\{\\sqrt{7}, -\\frac{5}{\\sqrt{5}}\\}",
                "\\{-\\sqrt{5}, \\sqrt{7}\\}",
            ),
            ("(\\frac{-18}{2}, 2.25)", "(-9,\\frac{9}{4})"),
            ("-5 = k", "k = -5"),
            ("x=-20", "-20"),
            ("42\\,129\\,000", "42129000"),
            ("957,\\!049", "957,049"),
            ("\\dfrac35", "\\frac{3}{5}"),
            ("(x-5)(x+4)", "x^2 - x - 20"),
        ] {
            assert!(equivalent(p, g), "{p} vs {g}");
        }
    }

    #[test]
    fn near_misses() {
        for (p, g) in [
            ("-15", "15"),
            ("2\\sqrt{12}", "2\\sqrt{11}"),
            ("\\frac{\\ln 7}{\\ln 8}", "\\log_{7} 8"),
            ("x^2 + x - 20", "x^2 - x - 20"),
            ("309 \\text{ s}", "309 \\text{ min}"),
            (
                "(\\frac{7}{2}, \\infty)",
                "(-\\infty, -11] \\cup (\\frac{7}{2}, \\infty)",
            ),
            ("\\{-2, -1, 0\\}", "\\{-2, -1\\}"),
            ("(9, 8, 0)", "(9,8)"),
            ("\\text{Increasing}", "\\text{decreasing}"),
            ("55\\,621\\,000", "55,620,000"),
            ("", "5"),
            ("\\boxed{}", "5"),
        ] {
            assert!(!equivalent(p, g), "{p} vs {g}");
        }
    }
}

#[cfg(test)]
mod form_tests {
    use super::equivalent;

    fn same(pairs: &[(&str, &str)]) {
        for (p, g) in pairs {
            assert!(equivalent(p, g), "{p} vs {g}");
        }
    }

    fn differ(pairs: &[(&str, &str)]) {
        for (p, g) in pairs {
            assert!(!equivalent(p, g), "{p} vs {g}");
        }
    }

    #[test]
    fn relations_are_direction_normalised() {
        same(&[
            ("x \\geq 5", "x >= 5"),
            ("x \\lt 3", "x < 3"),
            ("x \\neq 3", "x != 3"),
            ("5 \\geq x", "x \\leq 5"),
            ("-x > -1", "x < 1"),
            ("2x < 6", "x < 3"),
            ("-2 \\le x \\le 7", "x \\in [-2,7]"),
            ("-793 < a < 10", "(-793, 10)"),
            ("x > 5", "(5, \\infty)"),
            (
                "1\\leq|z|\\leq \\frac{3}{2}",
                "z \\in \\left[-\\frac{3}{2}, -1\\right] \\cup \\left[1, \\frac{3}{2}\\right]",
            ),
            ("|z| < 1", "z \\in (-1, 1)"),
            ("x^2 < 4", "x \\in (-2, 2)"),
            ("x > 5", "x \\in (5, \\infty)"),
        ]);
        differ(&[
            ("x < 5", "x > 5"),
            ("x \\leq 5", "x \\geq 5"),
            ("x > -1", "x < 1"),
            ("-2x < 6", "x < -3"),
            ("x \\le 7", "x < 7"),
            ("|z| \\le 1", "z \\in (-1, 1)"),
            ("x > 5", "x \\in [5, \\infty)"),
            ("x^2 < 4", "y \\in (-2, 2)"),
            ("1 \\leq |z| \\leq 2", "z \\in [1, 2]"),
        ]);
    }

    #[test]
    fn equations_up_to_rearrangement_and_scaling() {
        same(&[
            ("y=-\\frac{1}{2}x+\\frac{3}{4}", "2x+4y-3=0"),
            ("x^2/16 + y^2/12 = 1/4", "x^2/4 + y^2/3 = 1"),
            ("x = 5+5+1 = 7 =11", "x = 11"),
            ("x = 5+5+1 = 1/3 \\approx 11", "1/3"),
            ("x\\approx11", "11"),
            ("(p,q)=(3,2)", "(3,2)"),
            ("f(x)=1", "1"),
            ("S_{MBCN}:S=7:32", "7:32"),
            ("\\frac{1}{2} \\cdot 20 = 10", "10"),
        ]);
        differ(&[
            ("7 = 11a+c", "11a+c"),
            ("a +3z = 0", "0"),
            ("2x + z = 1", "1"),
            ("y = 2x + 1", "y = 2x - 1"),
            ("x = 3", "x = 4"),
            ("y = x - 9", "y=x+9"),
            ("x - y", "1"),
            ("2x - 2y = 3", "x - y = 1"),
        ]);
    }

    #[test]
    fn lists_sets_tuples_and_plus_minus() {
        same(&[
            ("{1,3}", "(1,3)"),
            ("\\pm 2021", "\\{-2021, 2021\\}"),
            ("-12;-11;-10", "\\{-10, -11, -12\\}"),
            ("(7,11),\\ (11,7)", "(11,7)or(7,11)"),
            ("6 \\text{ and } 8", "6,8"),
            ("a_3 = 2, a_{37} = 19", "a_{37} = 19, \\quad a_3 = 2"),
            ("x = 3 \\pm \\sqrt{2}", "3 - \\sqrt{2}, 3 + \\sqrt{2}"),
            // Sets: repetitions do not count.
            ("2, 2", "2"),
            ("\\{1, 1, 2\\}", "\\{2, 1\\}"),
        ]);
        differ(&[
            ("{1,3}", "(3,1)"),
            ("\\pm 2021", "2021"),
            ("(1,2),(3,4)", "(1,2),(3,5)"),
            ("2, 3", "2"),
        ]);
    }

    #[test]
    fn matrices_identities_rounding_and_commas() {
        same(&[
            (
                "\\begin{pmatrix}1 & 2 \\\\3 & 4\\end{pmatrix}",
                "\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]",
            ),
            (
                "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}",
                "\\begin{bmatrix}6 & 8 \\\\ 10 & 12\\end{bmatrix}",
            ),
            ("\\tan^2(y)+1", "\\sec^2(y)"),
            ("\\sin^2 x + \\cos^2 x", "1"),
            ("0.3333", "\\frac{1}{3}"),
            ("(0.6,2.6667]", "(\\frac{3}{5},\\frac{8}{3}]"),
            ("1000,99", "1000.99"),
            ("1,22", "1.22"),
            ("0,111", "0.111"),
            ("\\\\frac{1}{2}", "0.5"),
        ]);
        differ(&[
            (
                "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}",
                "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}",
            ),
            (
                "\\begin{pmatrix}1 & 2\\end{pmatrix}",
                "\\begin{pmatrix}1 \\\\ 2\\end{pmatrix}",
            ),
            ("\\tan^2(y)", "\\sec^2(y)"),
            ("0.13", "\\frac{1}{8}"),
            ("2,3", "2.3"),
            ("1,234", "1.234"),
            ("32, 349", "32349"),
        ]);
    }
}
