//! A spec's regex literal, compiled once — the one place that turns a pattern and its flags
//! into a matcher, for the checker, the engines and shared libraries alike.
//!
//! Format checks are the commonest regexes of reward functions, and most are literals joined
//! by `.*?` under the `s` flag, anchored at the ends: open-r1's
//! `^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$`. Whether such a regex matches needs no
//! automaton: the literals must occur in order (each found leftmost after the previous one,
//! since a gap of `.*` with `s` takes any text), the first at the start if anchored there, the
//! last at the end if anchored there. That is a handful of SIMD substring searches instead of
//! a lazy DFA walking every byte of a long reasoning. [`Pattern::is_match`] takes that path
//! when the regex has this shape (`LiteralPlan`) and the `regex` crate otherwise; captures,
//! finds and replacements always use the regex.

use std::ops::Deref;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Compiled programs larger than this are rejected: a regex literal must not be a memory bomb.
pub const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// The letters of the flags a regex literal may carry.
pub const FLAG_LETTERS: &str = "imsxU";

/// The flags a regex literal may carry, each with what it does (for diagnostics).
pub const FLAGS: &str = "i (case-insensitive), m (^ and $ at line ends), s (. matches newline), x (verbose), U (lazy by default)";

#[derive(Clone, Debug)]
pub struct Pattern {
    pattern: String,
    flags: String,
    /// Compiled at once by [`Pattern::build`], on first use after [`Pattern::deferred`].
    regex: OnceLock<Regex>,
    plan: Option<LiteralPlan>,
}

impl Pattern {
    /// Compiles `pattern` with `flags` (letters of [`FLAGS`]; others are ignored here, the
    /// checker reports them), reporting what does not compile.
    pub fn build(pattern: &str, flags: &str) -> Result<Pattern, regex::Error> {
        let regex = compile(pattern, flags)?;
        let mut p = Pattern::deferred(pattern, flags);
        p.regex = OnceLock::from(regex);
        Ok(p)
    }

    /// A pattern known to compile (the standard library's, which its own tests compile):
    /// compiled on first use, so that importing a module does not compile the regexes of
    /// functions the spec never calls — most of a large module's compile time.
    pub fn deferred(pattern: &str, flags: &str) -> Pattern {
        let has = |f| flags.contains(f);
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(has('i'))
            .multi_line(has('m'))
            .dot_matches_new_line(has('s'))
            .ignore_whitespace(has('x'))
            .swap_greed(has('U'))
            .build()
            .parse(pattern);
        Pattern {
            pattern: pattern.to_string(),
            flags: flags.to_string(),
            regex: OnceLock::new(),
            plan: hir.ok().and_then(|h| LiteralPlan::of(&h)),
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        match &self.plan {
            Some(plan) => plan.is_match(text.as_bytes()),
            None => self.regex().is_match(text),
        }
    }

    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // Only a deferred pattern gets here, and those compile (see `deferred`); should one
            // not, it matches nothing rather than failing the row.
            compile(&self.pattern, &self.flags)
                .unwrap_or_else(|_| Regex::new(r"[^\s\S]").expect("a constant pattern compiles"))
        })
    }

    /// Whether [`Pattern::is_match`] runs as literal searches (for tests and benchmarks).
    pub fn is_literal_plan(&self) -> bool {
        self.plan.is_some()
    }
}

fn compile(pattern: &str, flags: &str) -> Result<Regex, regex::Error> {
    let has = |f| flags.contains(f);
    RegexBuilder::new(pattern)
        .case_insensitive(has('i'))
        .multi_line(has('m'))
        .dot_matches_new_line(has('s'))
        .ignore_whitespace(has('x'))
        .swap_greed(has('U'))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Everything but `is_match` is the regex's.
impl Deref for Pattern {
    type Target = Regex;
    fn deref(&self) -> &Regex {
        self.regex()
    }
}

/// A regex of the shape `[start] L0 .* L1 .* … Lk [end]`: literals separated by gaps of any
/// text (`.*` or `.*?` matching newlines), each end anchored or free.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LiteralPlan {
    /// `\A` (or `^` without `m`).
    start: bool,
    /// Literals, and before each one whether a gap precedes it (the first's gap is a free start).
    parts: Vec<(bool, Box<[u8]>)>,
    /// A gap after the last literal.
    trailing_gap: bool,
    end: End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Free,
    /// `\z` (or `$` without `m`).
    Text,
    /// `\n?\z`: the end, or before one final newline.
    TextOrFinalNewline,
    /// `$` with `m`: the end or before any newline.
    Line,
}

enum Token {
    Lit(Vec<u8>),
    Gap,
    Start,
    End(End),
}

impl LiteralPlan {
    fn of(hir: &Hir) -> Option<LiteralPlan> {
        let mut tokens = Vec::new();
        flatten(hir, &mut tokens)?;
        let start = matches!(tokens.first(), Some(Token::Start));
        let end = match tokens.last() {
            Some(Token::End(e)) => *e,
            _ => End::Free,
        };
        let body = &tokens[usize::from(start)..tokens.len() - usize::from(end != End::Free)];
        let mut parts: Vec<(bool, Vec<u8>)> = Vec::new();
        let mut gap = !start;
        for token in body {
            match token {
                Token::Gap => gap = true,
                Token::Lit(l) => match parts.last_mut() {
                    // Adjacent literals are one literal.
                    Some((_, prev)) if !gap => prev.extend_from_slice(l),
                    _ => {
                        parts.push((gap, l.clone()));
                        gap = false;
                    }
                },
                Token::Start | Token::End(_) => return None, // an anchor inside
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(LiteralPlan {
            start,
            parts: parts.into_iter().map(|(g, l)| (g, l.into())).collect(),
            trailing_gap: gap,
            end,
        })
    }

    fn is_match(&self, text: &[u8]) -> bool {
        let mut pos = 0;
        let last = self.parts.len() - 1;
        for (i, (gap, lit)) in self.parts.iter().enumerate() {
            if i == last && !self.trailing_gap && self.end != End::Free {
                return self.last_at_end(text, pos, *gap, lit);
            }
            pos = if *gap {
                match super::search::find_bytes(&text[pos..], lit) {
                    Some(at) => pos + at + lit.len(),
                    None => return false,
                }
            } else if text[pos..].starts_with(lit) {
                pos + lit.len()
            } else {
                return false;
            };
        }
        // A trailing gap reaches any end; without one the end must be right here.
        self.trailing_gap
            || match self.end {
                End::Free => true,
                End::Text => pos == text.len(),
                End::TextOrFinalNewline => text[pos..] == *b"" || text[pos..] == *b"\n",
                End::Line => pos == text.len() || text[pos] == b'\n',
            }
    }

    /// The last literal, which the end anchor pins: somewhere at or after `pos` with a gap
    /// before it, exactly at `pos` without one.
    fn last_at_end(&self, text: &[u8], pos: usize, gap: bool, lit: &[u8]) -> bool {
        let fits = |at: usize| at >= pos && (gap || at == pos);
        let ends_with_at = |suffix_len: usize| {
            text.len() >= lit.len() + suffix_len && {
                let at = text.len() - lit.len() - suffix_len;
                fits(at) && text[at..at + lit.len()] == *lit
            }
        };
        match self.end {
            End::Free => unreachable!("only called with an end anchor"),
            End::Text => ends_with_at(0),
            End::TextOrFinalNewline => {
                ends_with_at(0) || (text.last() == Some(&b'\n') && ends_with_at(1))
            }
            End::Line => {
                let ends_line = |at: usize| {
                    let after = at + lit.len();
                    after == text.len() || text[after] == b'\n'
                };
                if !gap {
                    return text[pos..].starts_with(lit) && ends_line(pos);
                }
                // Every occurrence is a candidate (the first may not end a line).
                let mut from = pos;
                while let Some(at) = super::search::find_bytes(&text[from..], lit) {
                    if ends_line(from + at) {
                        return true;
                    }
                    from += at + 1;
                }
                false
            }
        }
    }
}

/// The regex as a flat list of tokens, or `None` when it has any other construct.
fn flatten(hir: &Hir, out: &mut Vec<Token>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(l) => out.push(Token::Lit(l.0.to_vec())),
        HirKind::Capture(c) => flatten(&c.sub, out)?,
        HirKind::Concat(items) => {
            for (i, item) in items.iter().enumerate() {
                // `\n?` right before `\z`: Python's `$`.
                if let (HirKind::Repetition(r), Some(next)) = (item.kind(), items.get(i + 1)) {
                    if r.min == 0
                        && r.max == Some(1)
                        && matches!(r.sub.kind(), HirKind::Literal(l) if *l.0 == *b"\n")
                        && matches!(next.kind(), HirKind::Look(Look::End))
                        && i + 2 == items.len()
                    {
                        out.push(Token::End(End::TextOrFinalNewline));
                        return Some(());
                    }
                }
                flatten(item, out)?;
            }
        }
        HirKind::Repetition(r) if r.min == 0 && r.max.is_none() && any_char(&r.sub) => {
            out.push(Token::Gap)
        }
        HirKind::Look(Look::Start) if out.is_empty() => out.push(Token::Start),
        HirKind::Look(Look::End) => out.push(Token::End(End::Text)),
        HirKind::Look(Look::EndLF) => out.push(Token::End(End::Line)),
        _ => return None,
    }
    Some(())
}

/// `.` under the `s` flag: every character.
fn any_char(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let r = c.ranges();
            r.len() == 1 && r[0].start() == '\0' && r[0].end() == char::MAX
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_regexes_take_the_literal_path() {
        for (pattern, flags) in [
            (r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "s"),
            (r"\A<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "sm"),
            (
                r"\A<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>\n?\z",
                "s",
            ),
            (r"<answer>(.*?)</answer>", "s"),
            (r"^<think>.*</think>", "s"),
        ] {
            assert!(
                Pattern::build(pattern, flags).unwrap().is_literal_plan(),
                "{pattern}"
            );
        }
        for (pattern, flags) in [
            (r"^<think>\n.*?\n</think>", ""), // `.` without `s` stops at newlines
            (r"<answer>", "i"),
            (r"^\s*<think>.*?</think>", "s"),
            (r"^a.*b$", "sm"), // `^` with `m` is a line start
            (r"a|b", "s"),
            (r"", ""),
        ] {
            assert!(
                !Pattern::build(pattern, flags).unwrap().is_literal_plan(),
                "{pattern}"
            );
        }
    }

    #[test]
    fn deferred_patterns_match_as_built_ones() {
        for (pattern, flags) in [
            (r"(\d+) apples", ""),
            (r"^<think>.*</think>", "s"),
            ("a|B", "i"),
        ] {
            let built = Pattern::build(pattern, flags).unwrap();
            let deferred = Pattern::deferred(pattern, flags);
            for text in ["12 apples", "<think>x\n</think>", "b", "none here"] {
                assert_eq!(
                    built.is_match(text),
                    deferred.is_match(text),
                    "{pattern} on {text}"
                );
                let range = |p: &Pattern| p.find(text).map(|m| m.range());
                assert_eq!(range(&built), range(&deferred), "{pattern} on {text}");
            }
        }
    }

    /// The literal path agrees with the regex on every text built from the literals' pieces.
    #[test]
    fn agrees_with_the_regex_on_generated_texts() {
        let patterns = [
            (r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "s"),
            (r"\A<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", "sm"),
            (
                r"\A<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>\n?\z",
                "s",
            ),
            (r"<answer>(.*?)</answer>", "s"),
            (r"^<think>.*</think>", "s"),
            (r"<a>.*<a>$", "s"),
            (r"(?s)aa.*aa\z", ""),
            (r".*x.*", "s"),
            (r"^x", ""),
            (r"x\z", ""),
            (r"x$", "m"),
            (r"^x\n?\z", ""),
            (r"^é.*ü$", "s"),
        ];
        let pieces = [
            "<think>",
            "\n",
            "</think>",
            "<answer>",
            "</answer>",
            "x",
            "a",
            "aa",
            "b",
            "é",
            "ü",
            "<a>",
            " ",
            "ab",
        ];
        let mut next = crate::test_rng(0x9E37_79B9_7F4A_7C15u64);
        let mut matched = 0;
        for (pattern, flags) in patterns {
            let p = Pattern::build(pattern, flags).unwrap();
            assert!(p.is_literal_plan(), "{pattern}");
            for _ in 0..4000 {
                let mut text = String::new();
                // Texts near the pattern: its own literals in a shuffled, dropped, doubled order.
                for _ in 0..next(12) {
                    text.push_str(pieces[next(pieces.len())]);
                }
                if next(3) == 0 {
                    text = format!("<think>\n{text}\n</think>\n<answer>\n{text}\n</answer>");
                    if next(2) == 0 {
                        text.push_str(["\n", "\n\n", "x", "\nP.S."][next(4)]);
                    }
                }
                let expected = p.regex().is_match(&text);
                assert_eq!(p.is_match(&text), expected, "{pattern:?} on {text:?}");
                matched += usize::from(expected);
            }
        }
        assert!(
            matched > 2000,
            "too few matching texts ({matched}) to mean anything"
        );
    }
}
