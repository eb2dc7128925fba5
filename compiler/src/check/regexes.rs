//! Regex literals: flags, compilation with the linear-time `regex` crate, and diagnostics that
//! explain what it cannot do (backreferences, look-around) and where.

use regex_syntax::ast::ErrorKind;
use reward_runtime::native::pattern::{Pattern, FLAGS, FLAG_LETTERS};

use super::Checker;
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{RegexDef, RegexId};

impl Checker<'_> {
    /// Compiles a regex literal (once per distinct pattern and flags) and returns its id.
    /// A literal of the standard library (`deferred`) is compiled on first use: its module's
    /// own tests compile every one of them, and a spec pays only for the functions it calls.
    pub(crate) fn regex_literal(
        &mut self,
        pattern: &str,
        flags: &str,
        span: Span,
        deferred: bool,
    ) -> Option<RegexId> {
        if let Some(i) = self
            .regexes
            .iter()
            .position(|r| r.pattern == pattern && r.flags == flags)
        {
            return Some(i as RegexId);
        }
        let flags_start = span.end as usize - flags.len();
        let mut ok = true;
        for (i, f) in flags.char_indices() {
            match f {
                f if FLAG_LETTERS.contains(f) => {}
                other => {
                    ok = false;
                    self.error(
                        Diagnostic::new(
                            Code::E0010,
                            Span::new(
                                span.file,
                                flags_start + i,
                                flags_start + i + other.len_utf8(),
                            ),
                            format!("unknown regex flag `{other}`"),
                        )
                        .label("not a flag")
                        .help(format!("flags: {FLAGS}")),
                    );
                }
            }
        }
        if !ok {
            return None;
        }
        // The pattern starts one byte after the opening slash.
        let body_start = span.start as usize + 1;
        if let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
            let at = e.span();
            let sub = Span::new(
                span.file,
                body_start + at.start.offset,
                body_start + at.end.offset.max(next_boundary(pattern, at.start.offset)),
            );
            let d = match e.kind() {
                ErrorKind::UnsupportedBackreference => Diagnostic::new(Code::E0009, sub, "backreferences are not supported")
                    .label("backreference")
                    .help("regexes run in linear time so that no rollout can hang the scorer, and backreferences need backtracking; capture the group with `capture(text, /re/, n)` and compare it with `==`"),
                ErrorKind::UnsupportedLookAround => Diagnostic::new(Code::E0009, sub, "look-around is not supported")
                    .label("look-ahead or look-behind")
                    .help("regexes run in linear time so that no rollout can hang the scorer, and look-around needs backtracking; combine two matches with `and`/`not`, or use a capture group"),
                other => Diagnostic::new(Code::E0008, sub, format!("invalid regex: {other}"))
                    .label("here")
                    .help("regex syntax is that of the Rust `regex` crate (close to Python's `re`, without backtracking features)"),
            };
            self.error(d);
            return None;
        }
        let built = if deferred {
            Ok(Pattern::deferred(pattern, flags))
        } else {
            Pattern::build(pattern, flags)
        };
        match built {
            Ok(regex) => {
                self.regexes.push(RegexDef {
                    pattern: pattern.to_string(),
                    flags: flags.to_string(),
                    regex,
                });
                Some(self.regexes.len() as RegexId - 1)
            }
            Err(regex::Error::CompiledTooBig(limit)) => {
                self.error(
                    Diagnostic::new(Code::E0008, span, format!("regex is too large: it compiles to more than {limit} bytes"))
                        .help("large counted repetitions such as `a{1000}{1000}` multiply the program size; simplify the pattern"),
                );
                None
            }
            Err(e) => {
                let msg = e.to_string();
                let last = msg
                    .lines()
                    .rfind(|l| l.starts_with("error:"))
                    .unwrap_or("invalid regex")
                    .trim_start_matches("error: ")
                    .to_string();
                self.error(
                    Diagnostic::new(Code::E0008, span, format!("invalid regex: {last}"))
                        .help("regex syntax is that of the Rust `regex` crate"),
                );
                None
            }
        }
    }
}

/// The end of the character that starts at byte `at` (an empty error span becomes that char).
fn next_boundary(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| at + c.len_utf8())
}
