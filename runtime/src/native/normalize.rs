//! Math answers as canonical text ([`normalize_answer`]) and exact rationals in lowest terms
//! ([`reduce`]): the bottom of the answer checker, used by its fast rules (`math`) and its full
//! checker (`answer`) alike.
//!
//! All functions here are total (no panics on any input, arithmetic is checked), never recurse,
//! and run in time linear in the length of their inputs.

use std::sync::OnceLock;

use regex::Regex;

use super::extract::matching_brace;

/// Commands whose braced argument replaces them: `\text{cm}` becomes `cm`.
const UNWRAPPED_COMMANDS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "mathrm",
    "mathbf",
    "mbox",
];

/// At most this many rounds of outer-wrapper removal (`\boxed{}`, `\(\)`, trailing dots).
const UNWRAP_ROUNDS: usize = 16;

/// Pass 1: removes spacing commands, whitespace, `$`, `%` and `°`, escape-aware.
fn scrub(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(n) if matches!(n, '!' | ',' | ';' | ':' | '%' | '$') || n.is_whitespace() => {
                    chars.next();
                }
                Some('\\') => {
                    chars.next();
                    out.push_str("\\\\");
                }
                _ => out.push('\\'),
            },
            '$' | '%' | '°' => {}
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Pass 2: command-level rewrites, in one left-to-right scan (escape-aware):
/// text-like commands are unwrapped, `\left`/`\right` dropped (with a `.` null delimiter),
/// `\dfrac`/`\tfrac` become `\frac`, and the shorthands `\frac12`, `\fracab`, `\sqrt2`, `\sqrtx`
/// get their braces.
fn rewrite_commands(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // For each open brace: whether its closing brace must be dropped (unwrapped command).
    let mut braces: Vec<bool> = Vec::new();
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        match c {
            '\\' => {
                let name_start = i + 1;
                let name_len = s[name_start..]
                    .bytes()
                    .take_while(u8::is_ascii_alphabetic)
                    .count();
                let name_end = name_start + name_len;
                let name = &s[name_start..name_end];
                let next = s[name_end..].chars().next();
                if name.is_empty() {
                    // An escaped character (`\{`, `\\`, ...): copy both.
                    out.push('\\');
                    i = name_start;
                    if let Some(n) = next {
                        out.push(n);
                        i += n.len_utf8();
                    }
                    continue;
                }
                i = name_end;
                if UNWRAPPED_COMMANDS.contains(&name) && next == Some('{') {
                    braces.push(true);
                    i += 1;
                } else if name == "left" || name == "right" {
                    if next == Some('.') {
                        i += 1;
                    }
                } else if name == "frac" || name == "dfrac" || name == "tfrac" {
                    let mut rest = s[name_end..].chars();
                    match (rest.next(), rest.next()) {
                        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_alphanumeric() => {
                            out.push_str(&format!("\\frac{{{a}}}{{{b}}}"));
                            i += 2;
                        }
                        _ => out.push_str("\\frac"),
                    }
                } else if name.len() == 6 && name.starts_with("frac") {
                    out.push_str(&format!("\\frac{{{}}}{{{}}}", &name[4..5], &name[5..6]));
                } else if name == "sqrt" {
                    match next {
                        Some(a) if a.is_ascii_digit() => {
                            out.push_str(&format!("\\sqrt{{{a}}}"));
                            i += 1;
                        }
                        _ => out.push_str("\\sqrt"),
                    }
                } else if name.len() == 5 && name.starts_with("sqrt") {
                    out.push_str(&format!("\\sqrt{{{}}}", &name[4..5]));
                } else {
                    out.push('\\');
                    out.push_str(name);
                }
            }
            '{' => {
                braces.push(false);
                out.push('{');
                i += 1;
            }
            '}' => {
                if braces.pop() != Some(true) {
                    out.push('}');
                }
                i += 1;
            }
            c => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// If `t` is entirely `\boxed{X}` or `\fbox{X}`, returns `X`.
fn unbox_whole(t: &str) -> Option<&str> {
    let arg = t
        .strip_prefix("\\boxed")
        .or_else(|| t.strip_prefix("\\fbox"))?;
    if !arg.starts_with('{') {
        return None;
    }
    let close = matching_brace(arg, 0)?;
    (close + 1 == arg.len()).then(|| &arg[1..close])
}

/// Pass 4: removes outer wrappers and trailing dots, repeatedly (bounded).
fn unwrap_outer(mut t: &str) -> &str {
    for _ in 0..UNWRAP_ROUNDS {
        let before = t.len();
        t = t.trim_end_matches('.');
        if let Some(inner) = t
            .strip_prefix("\\(")
            .and_then(|r| r.strip_suffix("\\)"))
            .or_else(|| t.strip_prefix("\\[").and_then(|r| r.strip_suffix("\\]")))
        {
            t = inner;
        }
        if let Some(inner) = unbox_whole(t) {
            t = inner;
        }
        if t.len() == before {
            break;
        }
    }
    t
}

/// Pass 5: drops a leading single-letter equation prefix (`x=`), if it is the only `=`.
fn strip_variable_prefix(t: &str) -> &str {
    let b = t.as_bytes();
    if b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b'=' && !t[2..].contains('=') {
        &t[2..]
    } else {
        t
    }
}

/// Pass 6: removes the commas of an integer written with thousands separators.
fn strip_thousands(t: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$").expect("built-in pattern compiles")
    });
    if re.is_match(t) {
        t.replace(',', "")
    } else {
        t.to_owned()
    }
}

/// A canonical form of a math answer, for comparing answers as text (Minerva-style).
///
/// The rules are applied in this order:
/// 1. **Spacing and symbols.** All whitespace is removed, and so are the LaTeX spacing
///    commands `\!`, `\,`, `\;`, `\:` and `\ ` (backslash-space), every `$` and `\$`, every
///    `%` and `\%`, and the degree sign `°`. (`\\` is kept as it is.)
/// 2. **Commands.** `\text{...}`, `\textbf`, `\textit`, `\textrm`, `\textnormal`, `\mathrm`,
///    `\mathbf` and `\mbox` are replaced by their braced argument (`\text{cm}` → `cm`; nested
///    braces are balanced). `\left` and `\right` are removed (with a following `.`, the
///    invisible delimiter), but not `\leftarrow` and the like. `\dfrac` and `\tfrac` become
///    `\frac`. Brace-less shorthands get braces: `\frac12` → `\frac{1}{2}`, `\frac1x` →
///    `\frac{1}{x}`, `\fracab` → `\frac{a}{b}`, `\sqrt2` → `\sqrt{2}`, `\sqrtx` → `\sqrt{x}`.
/// 3. **Degrees and grouping.** `^{\circ}` and `^\circ` are removed; `{,}` becomes `,`.
/// 4. **Wrappers.** Repeatedly (at most 16 rounds): trailing `.` are removed; an answer that
///    is entirely `\(...\)` or `\[...\]` is unwrapped; an answer that is entirely `\boxed{...}` or
///    `\fbox{...}` is unwrapped.
/// 5. **Variable prefix.** A leading single ASCII letter and `=` is removed if no other `=`
///    follows and something does (`x=5` → `5`, `y=2x+1` → `2x+1`, but `x=1,y=2` is kept).
///    Then rule 4 is applied again.
/// 6. **Thousands separators.** A number written with comma-separated groups of three digits
///    (`-?d{1,3}(,ddd)+` with an optional decimal part) loses its commas: `1,234` → `1234`,
///    `12,345.5` → `12345.5`; other commas are kept (`1,2` is a list, not a number), and so are
///    all commas when one is followed by whitespace (`32, 349` is a list).
///
/// Nothing else changes: letter case is kept, unit words are kept (`5 cm` → `5cm`), and
/// surrounding prose is not removed (extract the answer first, e.g. with `boxed`).
/// Examples: `" $\boxed{\dfrac{1}{2}}$ "` → `\frac{1}{2}`, `"\text{(A)}"` → `(A)`,
/// `"90^\circ"` → `90`, `"50\%"` → `50`, `"\$1,000."` → `1000`, `"\left( 1, 2 \right)"` → `(1,2)`.
///
/// Time: O(n).
pub fn normalize_answer(s: &str) -> String {
    let t = scrub(s);
    let t = rewrite_commands(&t);
    let t = t
        .replace("^{\\circ}", "")
        .replace("^\\circ", "")
        .replace("{,}", ",");
    let t = unwrap_outer(&t);
    let t = unwrap_outer(strip_variable_prefix(t));
    // `32, 349` is a list: a separator is never followed by a space (except inside `{, }`).
    let spaced = s
        .match_indices(',')
        .any(|(i, _)| !s[..i].ends_with('{') && s[i + 1..].starts_with(char::is_whitespace));
    if spaced {
        return t.to_owned();
    }
    strip_thousands(t)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `num / den` in lowest terms with a positive denominator; None if `den` is 0 or on overflow.
pub(crate) fn reduce(num: i128, den: i128) -> Option<(i128, i128)> {
    if den == 0 {
        return None;
    }
    let g = gcd(num.unsigned_abs(), den.unsigned_abs());
    // g >= 1 since den != 0, and g divides both, so the quotients fit.
    let g = i128::try_from(g).ok()?;
    let (num, den) = (num / g, den / g);
    if den < 0 {
        Some((num.checked_neg()?, den.checked_neg()?))
    } else {
        Some((num, den))
    }
}
