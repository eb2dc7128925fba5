//! The type-directed random program generator of tests/engines.rs (interpreter vs JIT, and
//! interpreter vs `reward build`) and tests/snapshots.rs. Included with `#[path]` by each.

#![allow(dead_code)]

use std::fmt::Write as _;

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ================================================================ 3. random programs

/// The types the generator builds expressions of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum T {
    Float,
    Int,
    Bool,
    Text,
    OptFloat,
    OptInt,
    OptText,
    ListFloat,
    ListInt,
    ListText,
}

const ALL_TYPES: [T; 10] = [
    T::Float,
    T::Int,
    T::Bool,
    T::Text,
    T::OptFloat,
    T::OptInt,
    T::OptText,
    T::ListFloat,
    T::ListInt,
    T::ListText,
];

impl T {
    fn name(self) -> &'static str {
        match self {
            T::Float => "float",
            T::Int => "int",
            T::Bool => "bool",
            T::Text => "text",
            T::OptFloat => "float?",
            T::OptInt => "int?",
            T::OptText => "text?",
            T::ListFloat => "list[float]",
            T::ListInt => "list[int]",
            T::ListText => "list[text]",
        }
    }

    fn elem(self) -> T {
        match self {
            T::ListFloat => T::Float,
            T::ListInt => T::Int,
            T::ListText => T::Text,
            other => panic!("{other:?} is not a list"),
        }
    }

    fn list_of(self) -> T {
        match self {
            T::Float => T::ListFloat,
            T::Int => T::ListInt,
            T::Text => T::ListText,
            other => panic!("no list of {other:?} in the generator"),
        }
    }
}

/// The input schema of every random program.
const RANDOM_INPUT: &[(&str, T)] = &[
    ("x", T::Float),
    ("y", T::Float),
    ("n", T::Int),
    ("m", T::Int),
    ("b", T::Bool),
    ("s", T::Text),
    ("t", T::Text),
    ("xs", T::ListFloat),
    ("ns", T::ListInt),
    ("ts", T::ListText),
    ("o", T::OptFloat),
    ("on", T::OptInt),
    ("ot", T::OptText),
];

const REGEXES: &[&str] = &[
    r"/\d+/",
    r"/^a/i",
    r"/[aeiou]{2}/",
    r"/(\w+)\s(\w+)/",
    r"/é|日|😀/",
    r"/\.\d/",
    r"/^$/m",
    r"/(\d+)(\.\d+)?/",
    r"/b.c/s",
];

struct Fun {
    name: String,
    params: Vec<(String, T)>,
    ret: T,
}

/// A type-directed program generator driven by a list of choices: every decision takes the next
/// choice modulo the number of options, and a missing choice is 0, which always means "the
/// simplest option" (a variable or a literal). Shrinking the list (dropping choices, lowering
/// them) therefore shrinks the program.
struct Gen<'c> {
    choices: &'c [u32],
    pos: usize,
    vars: Vec<(String, T)>,
    funs: Vec<Fun>,
    fresh: usize,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        c as usize % n
    }

    fn literal(&mut self, t: T) -> String {
        let options: &[&str] = match t {
            T::Float => &[
                "0.5", "1.0", "0.0", "(-1.5)", "2.5", "1e308", "1e-300", "3.0", "0.1", "(-0.0)",
            ],
            T::Int => &[
                "1",
                "0",
                "2",
                "(-1)",
                "7",
                "3",
                "9223372036854775807",
                "(-9223372036854775807 - 1)",
            ],
            T::Bool => &["true", "false"],
            T::Text => &[
                "\"a\"",
                "\"\"",
                "\"ab c\"",
                "\"é\"",
                "\"日本\"",
                "\"😀\"",
                "\"<b>\"",
                "\"1.5\"",
                "\"42\"",
            ],
            T::OptFloat => &["parse_float(\"1.5\")", "parse_float(\"x\")"],
            T::OptInt => &["parse_int(\"7\")", "parse_int(\"\")"],
            T::OptText => &["first([\"x\"])", "capture(\"\", /a/, 0)"],
            // Lists that differ only in a zero's sign are two constants.
            T::ListFloat => &[
                "[1.0, 2.0]",
                "[0.5]",
                "[(-0.0), 1e308, 1e308]",
                "[0.0, 1e308, 1e308]",
            ],
            T::ListInt => &["[1, 2]", "range(3)", "[9223372036854775807, 1]"],
            T::ListText => &["[\"a\", \"b\"]", "split(\"a b\", \" \")", "[\"\"]"],
        };
        options[self.pick(options.len())].to_string()
    }

    /// A variable of type `t` if there is one (choice 0 takes the first), else a literal.
    fn leaf(&mut self, t: T) -> String {
        let names: Vec<String> = self
            .vars
            .iter()
            .filter(|(_, vt)| *vt == t)
            .map(|(n, _)| n.clone())
            .collect();
        let k = self.pick(names.len() + 1);
        if k < names.len() {
            names[k].clone()
        } else {
            self.literal(t)
        }
    }

    fn regex(&mut self) -> &'static str {
        REGEXES[self.pick(REGEXES.len())]
    }

    /// `for v in LIST if FILTER` (the filter is optional) with `v` bound while `inner` runs.
    fn comprehension(
        &mut self,
        list: T,
        depth: u32,
        inner: impl FnOnce(&mut Self) -> String,
    ) -> String {
        let v = format!("v{}", self.fresh);
        self.fresh += 1;
        let l = self.expr(list, depth);
        self.vars.push((v.clone(), list.elem()));
        let filter = if self.pick(2) == 1 {
            format!(" if {}", self.expr(T::Bool, depth))
        } else {
            String::new()
        };
        let body = inner(self);
        self.vars.pop();
        format!("for {v} in {l}{filter}{body}")
    }

    /// An aggregate `name(for v in LIST if …: BODY)` whose body has type `body`, or `name(LIST)`.
    fn aggregate(&mut self, name: &str, body: T, depth: u32) -> String {
        let lists = [T::ListFloat, T::ListInt, T::ListText];
        if self.pick(3) == 0 && matches!(body, T::Float | T::Int | T::Text) {
            return format!("{name}({})", self.expr(body.list_of(), depth));
        }
        let list = lists[self.pick(3)];
        let c = self.comprehension(list, depth, |g| format!(": {}", g.expr(body, depth)));
        format!("{name}({c})")
    }

    fn call(&mut self, t: T, depth: u32) -> Option<String> {
        let candidates: Vec<usize> = (0..self.funs.len())
            .filter(|&i| self.funs[i].ret == t)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let i = candidates[self.pick(candidates.len())];
        let params: Vec<T> = self.funs[i].params.iter().map(|(_, t)| *t).collect();
        let args: Vec<String> = params.iter().map(|p| self.expr(*p, depth)).collect();
        Some(format!("{}({})", self.funs[i].name, args.join(", ")))
    }

    fn expr(&mut self, t: T, depth: u32) -> String {
        if depth == 0 {
            return self.leaf(t);
        }
        let d = depth - 1;
        let k = self.pick(match t {
            T::Float => 20,
            T::Int => 17,
            T::Bool => 18,
            T::Text => 11,
            T::OptFloat => 8,
            T::OptInt => 7,
            T::OptText => 6,
            T::ListFloat | T::ListInt | T::ListText => 6,
        });
        if k == 0 {
            return self.leaf(t);
        }
        let e = |g: &mut Self, t: T| g.expr(t, d);
        match (t, k) {
            // ---- float
            (T::Float, 1) => {
                let op = ["+", "-", "*", "/", "%"][self.pick(5)];
                format!("({} {op} {})", e(self, T::Float), e(self, T::Float))
            }
            (T::Float, 2) => {
                let op = ["+", "-", "*", "/"][self.pick(4)];
                if self.pick(2) == 0 {
                    format!("({} {op} {})", e(self, T::Float), e(self, T::Int))
                } else {
                    format!("({} {op} {})", e(self, T::Int), e(self, T::Float))
                }
            }
            (T::Float, 3) => format!("(-{})", e(self, T::Float)),
            (T::Float, 4) => {
                let f = [
                    "abs", "floor", "ceil", "round", "trunc", "sqrt", "exp", "log", "log2",
                    "log10", "sin", "cos", "tanh", "sigmoid",
                ];
                let f = f[self.pick(f.len())];
                format!("{f}({})", e(self, T::Float))
            }
            (T::Float, 5) => {
                let f = ["min", "max", "pow"][self.pick(3)];
                format!("{f}({}, {})", e(self, T::Float), e(self, T::Float))
            }
            (T::Float, 6) => format!(
                "clip({}, {}, {})",
                e(self, T::Float),
                e(self, T::Float),
                e(self, T::Float)
            ),
            (T::Float, 7) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Float),
                e(self, T::Float)
            ),
            (T::Float, 8) => format!("({} ?? {})", e(self, T::OptFloat), e(self, T::Float)),
            (T::Float, 9) => {
                let body = [T::Float, T::Int][self.pick(2)];
                let name = ["sum", "product"][self.pick(2)];
                let a = self.aggregate(name, body, d);
                if body == T::Int {
                    format!("float({a})")
                } else {
                    a
                }
            }
            (T::Float, 10) => {
                let name = ["mean", "min", "max"][self.pick(3)];
                let a = self.aggregate(name, T::Float, d);
                format!("({a} ?? {})", e(self, T::Float))
            }
            (T::Float, 11) => format!("({} * {})", e(self, T::Bool), e(self, T::Float)),
            (T::Float, 12) => self
                .call(T::Float, d)
                .unwrap_or_else(|| self.leaf(T::Float)),
            (T::Float, 13) => format!("float({})", e(self, T::Int)),
            (T::Float, 14) => format!("({} / {})", e(self, T::Int), e(self, T::Int)),
            (T::Float, 15) => format!("{}[{}]", e(self, T::ListFloat), e(self, T::Int)),
            (T::Float, 16) => format!("(mean({}) ?? 0.0)", self.aggregate_body_text(T::Int, d)),
            (T::Float, 17) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Int),
                e(self, T::Float)
            ),
            (T::Float, 18) => format!("({} + {})", e(self, T::Bool), e(self, T::Bool)),
            (T::Float, _) => format!(
                "(mean({}) ?? {})",
                self.aggregate_body_text(T::Bool, d),
                e(self, T::Float)
            ),

            // ---- int
            (T::Int, 1) => {
                let op = ["+", "-", "*", "%"][self.pick(4)];
                format!("({} {op} {})", e(self, T::Int), e(self, T::Int))
            }
            (T::Int, 2) => format!("(-{})", e(self, T::Int)),
            (T::Int, 3) => {
                let f = ["min", "max"][self.pick(2)];
                format!("{f}({}, {})", e(self, T::Int), e(self, T::Int))
            }
            (T::Int, 4) => format!("abs({})", e(self, T::Int)),
            (T::Int, 5) => format!(
                "clip({}, {}, {})",
                e(self, T::Int),
                e(self, T::Int),
                e(self, T::Int)
            ),
            (T::Int, 6) => {
                let l = [T::Text, T::ListFloat, T::ListInt, T::ListText][self.pick(4)];
                format!("len({})", e(self, l))
            }
            (T::Int, 7) => {
                if self.pick(2) == 0 {
                    let list = [T::ListFloat, T::ListInt, T::ListText][self.pick(3)];
                    let c = self.comprehension(list, d, |_| String::new());
                    format!("count({c})")
                } else {
                    self.aggregate("count", T::Bool, d)
                }
            }
            (T::Int, 8) => {
                let name = ["sum", "product"][self.pick(2)];
                self.aggregate(name, T::Int, d)
            }
            (T::Int, 9) => {
                let body = [T::Float, T::Int][self.pick(2)];
                let a = self.aggregate("argmax", body, d);
                format!("({a} ?? {})", e(self, T::Int))
            }
            (T::Int, 10) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Int),
                e(self, T::Int)
            ),
            (T::Int, 11) => format!("({} ?? {})", e(self, T::OptInt), e(self, T::Int)),
            (T::Int, 12) => format!("occurrences({}, {})", e(self, T::Text), e(self, T::Text)),
            (T::Int, 13) => {
                let re = self.regex();
                format!("count_matches({}, {re})", e(self, T::Text))
            }
            (T::Int, 14) => format!("int({})", e(self, T::Float)),
            (T::Int, 15) => self.call(T::Int, d).unwrap_or_else(|| self.leaf(T::Int)),
            (T::Int, _) => format!("{}[{}]", e(self, T::ListInt), e(self, T::Int)),

            // ---- bool
            (T::Bool, 1) | (T::Bool, 2) | (T::Bool, 3) => {
                let op = ["==", "!=", "<", "<=", ">", ">="][self.pick(6)];
                let (l, r) = match k {
                    1 => (T::Float, T::Float),
                    2 => [(T::Int, T::Int), (T::Int, T::Float), (T::Float, T::Int)][self.pick(3)],
                    _ => (T::Text, T::Text),
                };
                format!("({} {op} {})", e(self, l), e(self, r))
            }
            (T::Bool, 4) => {
                let op = ["and", "or"][self.pick(2)];
                format!("({} {op} {})", e(self, T::Bool), e(self, T::Bool))
            }
            (T::Bool, 5) => format!("(not {})", e(self, T::Bool)),
            (T::Bool, 6) => {
                let f = ["is_nan", "is_finite"][self.pick(2)];
                format!("{f}({})", e(self, T::Float))
            }
            (T::Bool, 7) => format!("approx({}, {})", e(self, T::Float), e(self, T::Float)),
            (T::Bool, 8) => {
                let f = ["contains", "starts_with", "ends_with"][self.pick(3)];
                format!("{f}({}, {})", e(self, T::Text), e(self, T::Text))
            }
            (T::Bool, 9) => {
                let op = ["in", "not in"][self.pick(2)];
                format!("({} {op} {})", e(self, T::Text), e(self, T::Text))
            }
            (T::Bool, 10) => {
                let re = self.regex();
                format!("({} ~ {re})", e(self, T::Text))
            }
            (T::Bool, 11) => {
                let el = [T::Float, T::Int, T::Text][self.pick(3)];
                let op = ["in", "not in"][self.pick(2)];
                format!("({} {op} {})", e(self, el), e(self, el.list_of()))
            }
            (T::Bool, 12) => {
                let name = ["any", "all"][self.pick(2)];
                self.aggregate(name, T::Bool, d)
            }
            (T::Bool, 13) => {
                let o = [T::OptFloat, T::OptInt, T::OptText][self.pick(3)];
                let f = ["is_none", "is_some"][self.pick(2)];
                format!("{f}({})", e(self, o))
            }
            (T::Bool, 14) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Bool),
                e(self, T::Bool)
            ),
            (T::Bool, 15) => self.call(T::Bool, d).unwrap_or_else(|| self.leaf(T::Bool)),
            (T::Bool, 16) => {
                let l = [T::ListFloat, T::ListInt, T::ListText][self.pick(3)];
                let op = ["==", "!="][self.pick(2)];
                format!("({} {op} {})", e(self, l), e(self, l))
            }
            (T::Bool, _) => {
                let o = [T::OptFloat, T::OptInt, T::OptText][self.pick(3)];
                format!("({} == {})", e(self, o), e(self, o))
            }

            // ---- text
            (T::Text, 1) => {
                let f = ["lower", "upper", "trim"][self.pick(3)];
                format!("{f}({})", e(self, T::Text))
            }
            (T::Text, 2) => format!("({} + {})", e(self, T::Text), e(self, T::Text)),
            (T::Text, 3) => format!(
                "replace({}, {}, {})",
                e(self, T::Text),
                e(self, T::Text),
                e(self, T::Text)
            ),
            (T::Text, 4) => format!(
                "slice({}, {}, {})",
                e(self, T::Text),
                e(self, T::Int),
                e(self, T::Int)
            ),
            (T::Text, 5) => format!("join({}, {})", e(self, T::ListText), e(self, T::Text)),
            (T::Text, 6) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::Text),
                e(self, T::Text)
            ),
            (T::Text, 7) => format!("({} ?? {})", e(self, T::OptText), e(self, T::Text)),
            (T::Text, 8) => {
                let re = self.regex();
                format!("replace_all({}, {re}, \"<$1>\")", e(self, T::Text))
            }
            (T::Text, 9) => {
                let name = ["min", "max"][self.pick(2)];
                let a = self.aggregate(name, T::Text, d);
                format!("({a} ?? {})", e(self, T::Text))
            }
            (T::Text, _) => self.call(T::Text, d).unwrap_or_else(|| self.leaf(T::Text)),

            // ---- optionals
            (T::OptFloat, 1) => {
                let name = ["mean", "min", "max"][self.pick(3)];
                self.aggregate(name, T::Float, d)
            }
            (T::OptFloat, 2) => {
                let f = ["first", "last"][self.pick(2)];
                format!("{f}({})", e(self, T::ListFloat))
            }
            (T::OptFloat, 3) => format!("parse_float({})", e(self, T::Text)),
            (T::OptFloat, 4) => format!(
                "(if {} then {} else none)",
                e(self, T::Bool),
                e(self, T::Float)
            ),
            (T::OptFloat, 5) => format!(
                "(if {} then {} else {})",
                e(self, T::Bool),
                e(self, T::OptFloat),
                e(self, T::Float)
            ),
            (T::OptFloat, 6) => format!("({} ?? {})", e(self, T::OptFloat), e(self, T::OptFloat)),
            (T::OptFloat, _) => self
                .call(T::OptFloat, d)
                .unwrap_or_else(|| self.leaf(T::OptFloat)),
            (T::OptInt, 1) => {
                let body = [T::Float, T::Int][self.pick(2)];
                self.aggregate("argmax", body, d)
            }
            (T::OptInt, 2) => {
                let f = ["first", "last"][self.pick(2)];
                format!("{f}({})", e(self, T::ListInt))
            }
            (T::OptInt, 3) => format!("parse_int({})", e(self, T::Text)),
            (T::OptInt, 4) => {
                let name = ["min", "max"][self.pick(2)];
                self.aggregate(name, T::Int, d)
            }
            (T::OptInt, 5) => format!(
                "(if {} then {} else none)",
                e(self, T::Bool),
                e(self, T::Int)
            ),
            (T::OptInt, _) => format!("({} ?? {})", e(self, T::OptInt), e(self, T::OptInt)),
            (T::OptText, 1) => {
                let re = self.regex();
                format!("capture({}, {re}, {})", e(self, T::Text), e(self, T::Int))
            }
            (T::OptText, 2) => {
                let f = ["first", "last"][self.pick(2)];
                format!("{f}({})", e(self, T::ListText))
            }
            (T::OptText, 3) => format!("extract_tag({}, \"b\")", e(self, T::Text)),
            (T::OptText, 4) => format!(
                "(if {} then {} else none)",
                e(self, T::Bool),
                e(self, T::Text)
            ),
            (T::OptText, _) => format!("({} ?? {})", e(self, T::OptText), e(self, T::OptText)),

            // ---- lists
            (l, 1) => {
                let el = l.elem();
                let list = [T::ListFloat, T::ListInt, T::ListText][self.pick(3)];
                let c = self.comprehension(list, d, |g| format!(": {}", g.expr(el, d)));
                format!("[{c}]")
            }
            (l, 2) => format!("[{}, {}]", e(self, l.elem()), e(self, l.elem())),
            (l, 3) => format!("({} + {})", e(self, l), e(self, l)),
            (T::ListInt, 4) => format!("range(({}) % 6)", e(self, T::Int)),
            (T::ListText, 4) => {
                let f = ["words", "lines"][self.pick(2)];
                format!("{f}({})", e(self, T::Text))
            }
            (T::ListText, 5) => format!("split({}, {})", e(self, T::Text), e(self, T::Text)),
            (T::ListFloat, 4) => {
                let v = format!("v{}", self.fresh);
                self.fresh += 1;
                format!("[for {v} in {}: float({v})]", e(self, T::ListInt))
            }
            (l, _) => {
                let e1 = e(self, l);
                format!("(if {} then {e1} else {})", e(self, T::Bool), e(self, l))
            }
        }
    }

    /// `for v in LIST if …: BODY` over any list with a body of type `body`.
    fn aggregate_body_text(&mut self, body: T, depth: u32) -> String {
        let list = [T::ListFloat, T::ListInt, T::ListText][self.pick(3)];
        self.comprehension(list, depth, |g| format!(": {}", g.expr(body, depth)))
    }
}

/// A random spec: the fixed input, up to three user functions (each may call the earlier ones),
/// a few typed `let`s reading the input and earlier terms, sometimes a rubric, and a score.
pub fn random_program(choices: &[u32]) -> String {
    let mut g = Gen {
        choices,
        pos: 0,
        vars: Vec::new(),
        funs: Vec::new(),
        fresh: 0,
    };
    let mut src = String::from("use std::text::{extract_tag}\n\ninput {\n");
    for (name, t) in RANDOM_INPUT {
        let _ = writeln!(src, "    {name}: {}", t.name());
    }
    src.push_str("}\n\n");
    let signatures: [(&[(&str, T)], T); 4] = [
        (&[("a", T::Float), ("k", T::Int)], T::Float),
        (&[("a", T::Float), ("w", T::Text), ("p", T::Bool)], T::Bool),
        (&[("ys", T::ListFloat), ("q", T::OptFloat)], T::OptFloat),
        (&[("w", T::Text), ("k", T::Int)], T::Text),
    ];
    let n_funs = g.pick(4);
    for (i, (params, ret)) in signatures.iter().take(n_funs).enumerate() {
        g.vars = params.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        let body = g.expr(*ret, 2);
        let ps: Vec<String> = params
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.name()))
            .collect();
        let _ = writeln!(src, "fn f{i}({}) -> {} = {body}", ps.join(", "), ret.name());
        g.funs.push(Fun {
            name: format!("f{i}"),
            params: params.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            ret: *ret,
        });
    }
    g.vars = RANDOM_INPUT
        .iter()
        .map(|(n, t)| (n.to_string(), *t))
        .collect();
    // Every function is called at least once, from a term.
    for i in 0..n_funs {
        let params: Vec<T> = g.funs[i].params.iter().map(|(_, t)| *t).collect();
        let args: Vec<String> = params.iter().map(|t| g.expr(*t, 2)).collect();
        let ret = g.funs[i].ret;
        let _ = writeln!(
            src,
            "let call{i}: {} = f{i}({})",
            ret.name(),
            args.join(", ")
        );
        g.vars.push((format!("call{i}"), ret));
    }
    let n_terms = 1 + g.pick(5);
    for i in 0..n_terms {
        let t = ALL_TYPES[g.pick(ALL_TYPES.len())];
        let depth = 1 + g.pick(3) as u32;
        let body = g.expr(t, depth);
        let _ = writeln!(src, "let t{i}: {} = {body}", t.name());
        g.vars.push((format!("t{i}"), t));
    }
    if g.pick(4) == 1 {
        let c0 = g.expr(T::Bool, 2);
        let c1 = g.expr(T::Float, 2);
        let c1 = if g.pick(3) == 0 {
            c1
        } else {
            format!("clip({c1}, 0.0, 1.0)")
        };
        let _ = writeln!(
            src,
            "rubric r (normalize: total) {{\n    criterion \"flag\" +2 : {c0} tag \"a\"\n    criterion \"share\" -1 : {c1} tag \"a\"\n}}"
        );
    }
    let score = g.expr(T::Float, 2);
    let _ = writeln!(src, "score = {score}");
    src
}

pub mod random_rows {
    use proptest::prelude::*;

    use super::json_string;

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            3 => prop::sample::select(vec![
                0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -2.5, 3.0, 0.1, 100.0,
                1e308, -1e308, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324, -5e-324, 1e-300,
                9007199254740993.0, 9.3e18, i64::MIN as f64,
            ]),
            2 => -1000.0..1000.0f64,
            1 => any::<f64>().prop_filter("JSON numbers are finite", |x| x.is_finite()),
        ]
    }

    fn int() -> impl Strategy<Value = i64> {
        prop_oneof![
            3 => prop::sample::select(vec![
                0, 1, -1, 2, 3, 5, 7, -7, 10, i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1,
                1 << 32, 3037000500, -3037000500, 1 << 62,
            ]),
            2 => -20i64..20,
            1 => any::<i64>(),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => prop::sample::select(vec![
                "", "a", "ab c", "é", "日本語", "😀👍🏽", "<b>x</b>", "1.5", "42", "-7",
                "  padded  ", "line\nnext", "a.b c", "ÉCOLE straße", "<b>1</b><b>2</b>",
            ])
            .prop_map(str::to_string),
            1 => "[a-c0-9 .<>/é日😀\n-]{0,10}",
        ]
    }

    fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>>
    where
        S::Value: std::fmt::Debug,
    {
        prop::option::of(s)
    }

    fn json_float(x: f64) -> String {
        // `{:?}` is the shortest round-trip form with a `.0` or an exponent: valid JSON.
        format!("{x:?}")
    }

    fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
        format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(", "))
    }

    /// One JSON row of the random programs' input schema.
    pub fn row() -> impl Strategy<Value = String> {
        (
            (float(), float(), int(), int(), any::<bool>()),
            (text(), text()),
            (
                prop::collection::vec(float(), 0..4),
                prop::collection::vec(int(), 0..4),
                prop::collection::vec(text(), 0..4),
            ),
            (opt(float()), opt(int()), opt(text())),
        )
            .prop_map(|((x, y, n, m, b), (s, t), (xs, ns, ts), (o, on, ot))| {
                format!(
                    "{{\"x\": {}, \"y\": {}, \"n\": {n}, \"m\": {m}, \"b\": {b}, \"s\": {}, \"t\": {}, \
                     \"xs\": {}, \"ns\": {}, \"ts\": {}, \"o\": {}, \"on\": {}, \"ot\": {}}}",
                    json_float(x),
                    json_float(y),
                    json_string(&s),
                    json_string(&t),
                    list(&xs, |x| json_float(*x)),
                    list(&ns, |n| n.to_string()),
                    list(&ts, |t| json_string(t)),
                    o.map_or("null".into(), json_float),
                    on.map_or("null".into(), |n| n.to_string()),
                    ot.map_or("null".into(), |t| json_string(&t)),
                )
            })
    }
}
