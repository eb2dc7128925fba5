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

use super::math::{normalize_answer, reduce};

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
            let start = i + 1;
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
                i = start + 1;
                continue;
            }
            let name: String = b[start..j].iter().collect();
            i = j;
            if TEXT_COMMANDS.contains(&name.as_str()) {
                // Skip spaces, then a braced argument.
                while i < b.len() && b[i].is_whitespace() {
                    i += 1;
                }
                if b.get(i) == Some(&'{') {
                    let close = matching(&b, i)?;
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
                    i = close + 1;
                }
            } else if IGNORED.contains(&name.as_str()) {
                // `\left.` is an invisible delimiter.
                if (name == "left" || name == "right") && b.get(i) == Some(&'.') {
                    i += 1;
                }
            } else {
                let name = match name.as_str() {
                    "dfrac" | "tfrac" | "cfrac" => "frac".to_string(),
                    "degree" | "circ" => "degree".to_string(),
                    "lbrace" => {
                        out.push(Tok::OpenSet);
                        continue;
                    }
                    "rbrace" => {
                        out.push(Tok::CloseSet);
                        continue;
                    }
                    _ => name,
                };
                out.push(Tok::Cmd(name));
            }
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
    // `^{\circ}` / `^\circ` / `{,}` groupings.
    let mut cleaned: Vec<Tok> = Vec::with_capacity(out.len());
    let mut k = 0;
    while k < out.len() {
        let t = &out[k];
        let deg = Tok::Cmd("degree".into());
        if *t == Tok::Sym('^') && out.get(k + 1) == Some(&deg) {
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
    // `\frac12` is 1/2 and `x^23` is x²·3 in LaTeX: an unbraced argument is one digit.
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
    Some(out)
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
            Ex::Num(v) => *v,
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
                    _ => f64::NAN,
                })
            }
            Ex::Log(base, a) => V::float(a.eval(vars).f.ln() / base.eval(vars).f.ln()),
        }
    }

    fn has_vars(&self) -> bool {
        match self {
            Ex::Num(_) => false,
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
            Ex::Num(v) => v.f.is_infinite(),
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

    fn lone_var(&self) -> Option<&str> {
        match self {
            Ex::Var(v) => Some(v),
            _ => None,
        }
    }
}

/// Fixed evaluation points for variables (three rounds; distinct per variable name).
fn point(name: &str, round: usize) -> f64 {
    let h = name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let base = [0.5377, 1.8339, -2.2588][round];
    base + (h % 97) as f64 * 0.0131
}

const FUNCS: &[&str] = &["ln", "exp", "sin", "cos", "tan"];

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
                        match (digits.parse::<i128>().ok(), den) {
                            (Some(num), Some(den)) => V::exact(num, den),
                            _ => V::float(n.parse().ok()?),
                        }
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
                    Ex::Func(f, Box::new(self.power()?))
                } else {
                    // Several letters: a product of single-letter variables (`xy`).
                    let mut it = w.chars().map(|c| Ex::Var(c.to_string()));
                    let first = it.next()?;
                    it.fold(first, |acc, v| Ex::Mul(Box::new(acc), Box::new(v)))
                }
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
                    Ex::Func(f, Box::new(self.power()?))
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

/// What an answer says.
#[derive(Debug)]
enum Answer {
    Value(Ex, Option<String>),
    /// `lhs = rhs`.
    Equation(Ex, Ex),
    Tuple(Vec<Ex>),
    Set(Vec<Ex>),
    /// A union of intervals: (closed at the left, lo, hi, closed at the right).
    Intervals(Vec<(bool, Ex, Ex, bool)>),
}

fn parse_expr(toks: &[Tok]) -> Option<Ex> {
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

/// Splits at top-level commas.
fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Sym('(' | '[' | '{') | Tok::OpenSet => depth += 1,
            Tok::Sym(')' | ']' | '}') | Tok::CloseSet => depth -= 1,
            Tok::Sym(',') if depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// Whether `toks[open]` is closed by the last token (the brackets enclose everything).
fn encloses(toks: &[Tok]) -> bool {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Sym('(' | '[' | '{') | Tok::OpenSet => depth += 1,
            Tok::Sym(')' | ']' | '}') | Tok::CloseSet => {
                depth -= 1;
                if depth == 0 && i + 1 < toks.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn parse_interval(toks: &[Tok]) -> Option<(bool, Ex, Ex, bool)> {
    let (first, last) = (toks.first()?, toks.last()?);
    let left = match first {
        Tok::Sym('(') => false,
        Tok::Sym('[') => true,
        _ => return None,
    };
    let right = match last {
        Tok::Sym(')') => false,
        Tok::Sym(']') => true,
        _ => return None,
    };
    let inner = &toks[1..toks.len() - 1];
    let parts = split_commas(inner);
    if parts.len() != 2 {
        return None;
    }
    Some((left, parse_expr(parts[0])?, parse_expr(parts[1])?, right))
}

fn parse_answer(toks: &[Tok]) -> Option<Answer> {
    // Trailing punctuation.
    let mut toks = toks;
    while let Some(Tok::Sym('.' | ',' | ';')) = toks.last() {
        toks = &toks[..toks.len() - 1];
    }
    if toks.is_empty() {
        return None;
    }
    // Unions of intervals.
    let union = Tok::Cmd("cup".into());
    if toks.contains(&union) {
        let parts: Vec<&[Tok]> = toks.split(|t| *t == union).collect();
        let intervals: Option<Vec<_>> = parts.iter().map(|p| parse_interval(p)).collect();
        return intervals.map(Answer::Intervals);
    }
    // Equations.
    let eqs: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Sym('='))
        .map(|(i, _)| i)
        .collect();
    if eqs.len() == 1 {
        let (l, r) = (&toks[..eqs[0]], &toks[eqs[0] + 1..]);
        let (r, _unit) = split_unit(r);
        return Some(Answer::Equation(parse_expr(l)?, parse_expr(r)?));
    }
    if !eqs.is_empty() {
        return None;
    }
    // Sets.
    if toks.first() == Some(&Tok::OpenSet) && toks.last() == Some(&Tok::CloseSet) && encloses(toks)
    {
        let inner = &toks[1..toks.len() - 1];
        if inner.is_empty() {
            return Some(Answer::Set(Vec::new()));
        }
        let items: Option<Vec<Ex>> = split_commas(inner).into_iter().map(parse_expr).collect();
        return items.map(Answer::Set);
    }
    let parts = split_commas(toks);
    if parts.len() == 1 {
        let has_infinity = toks.contains(&Tok::Cmd("infty".into()));
        if matches!(toks.first(), Some(Tok::Sym('(' | '['))) && encloses(toks) {
            let inner = &toks[1..toks.len() - 1];
            let items = split_commas(inner);
            if items.len() >= 2 {
                let bracket = matches!(toks.first(), Some(Tok::Sym('[')))
                    || matches!(toks.last(), Some(Tok::Sym(']')));
                if items.len() == 2 && (bracket || has_infinity) {
                    return parse_interval(toks).map(|i| Answer::Intervals(vec![i]));
                }
                let items: Option<Vec<Ex>> = items.into_iter().map(parse_expr).collect();
                return items.map(Answer::Tuple);
            }
        }
        let (body, unit) = split_unit(toks);
        return Some(Answer::Value(parse_expr(body)?, unit));
    }
    // A bare comma-separated list: the set of its elements (MATH's "all solutions").
    let items: Option<Vec<Ex>> = parts.into_iter().map(parse_expr).collect();
    items.map(Answer::Set)
}

fn exprs_equal(a: &Ex, b: &Ex) -> bool {
    // An infinite value is only meaningful when `\infty` is written: otherwise it is an
    // overflow (`10^{99999999}`), and overflowed values are not compared.
    let comparable = |x: &V, e: &Ex| x.exact.is_some() || x.f.is_finite() || e.writes_infinity();
    let same = |x: V, y: V| comparable(&x, a) && comparable(&y, b) && x.same(&y);
    if !a.has_vars() && !b.has_vars() {
        return same(a.eval(&|_| f64::NAN), b.eval(&|_| f64::NAN));
    }
    (0..3).all(|round| {
        let vars = |name: &str| point(name, round);
        same(a.eval(&vars), b.eval(&vars))
    })
}

/// `lhs - rhs` of an equation, for comparing equations up to sides and sign.
fn difference(l: &Ex, r: &Ex) -> Ex {
    Ex::Add(Box::new(l.clone()), Box::new(r.clone()), -1)
}

fn equations_equal(l1: &Ex, r1: &Ex, l2: &Ex, r2: &Ex) -> bool {
    let (d1, d2) = (difference(l1, r1), difference(l2, r2));
    let neg = Ex::Neg(Box::new(d2.clone()));
    exprs_equal(&d1, &d2) || exprs_equal(&d1, &neg)
}

/// The value an equation gives to its lone variable (`x = 3` or `3 = x`).
fn solved(l: &Ex, r: &Ex) -> Option<Ex> {
    match (l.lone_var(), r.lone_var()) {
        (Some(_), _) if !r.has_vars() || r.lone_var().is_none() => Some(r.clone()),
        (None, Some(_)) => Some(l.clone()),
        (Some(_), Some(_)) => Some(r.clone()),
        _ => None,
    }
}

fn sets_equal(a: &[Ex], b: &[Ex]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(
        |x| match (0..b.len()).find(|&j| !used[j] && exprs_equal(x, &b[j])) {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        },
    )
}

fn answers_equal(p: &Answer, g: &Answer) -> bool {
    use Answer::*;
    match (p, g) {
        (Value(a, ua), Value(b, ub)) => {
            if let (Some(x), Some(y)) = (ua, ub) {
                if x != y {
                    return false;
                }
            }
            exprs_equal(a, b)
        }
        (Equation(l1, r1), Equation(l2, r2)) => {
            match (
                solved(l1, r1),
                solved(l2, r2),
                l1.lone_var().or(r1.lone_var()),
                l2.lone_var().or(r2.lone_var()),
            ) {
                (Some(a), Some(b), Some(v1), Some(v2))
                    if v1 == v2 && !a.has_vars() && !b.has_vars() =>
                {
                    exprs_equal(&a, &b)
                }
                _ => equations_equal(l1, r1, l2, r2),
            }
        }
        (Equation(l, r), Value(v, _)) | (Value(v, _), Equation(l, r)) => {
            solved(l, r).is_some_and(|s| exprs_equal(&s, v))
        }
        (Tuple(a), Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| exprs_equal(x, y))
        }
        (Set(a), Set(b)) => sets_equal(a, b),
        (Set(a), Value(v, _)) | (Value(v, _), Set(a)) => a.len() == 1 && exprs_equal(&a[0], v),
        (Intervals(a), Intervals(b)) => {
            a.len() == b.len()
                && a.iter().all(|(lc, lo, hi, rc)| {
                    b.iter().any(|(lc2, lo2, hi2, rc2)| {
                        lc == lc2 && rc == rc2 && exprs_equal(lo, lo2) && exprs_equal(hi, hi2)
                    })
                })
        }
        (Tuple(t), Intervals(iv)) | (Intervals(iv), Tuple(t)) => {
            // `(a, b)` is also the open interval.
            t.len() == 2
                && iv.len() == 1
                && !iv[0].0
                && !iv[0].3
                && exprs_equal(&t[0], &iv[0].1)
                && exprs_equal(&t[1], &iv[0].2)
        }
        _ => false,
    }
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
    let (Some(pt), Some(gt)) = (tokenize(pred), tokenize(gold)) else {
        return false;
    };
    match (parse_answer(&pt), parse_answer(&gt)) {
        (Some(p), Some(g)) => answers_equal(&p, &g),
        _ => false,
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
