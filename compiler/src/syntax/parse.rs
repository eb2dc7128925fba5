//! pest parse tree → AST. Parses one top-level item at a time so that every syntax error of a
//! file is reported, not just the first: after an error it skips to the next line that starts
//! with an item keyword.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::Parser;

use super::ast::*;
use super::keywords;
use crate::diag::{Code, Diagnostic, FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/reward.pest"]
pub(super) struct RewardParser;

/// Deepest bracket nesting accepted; deeper input is rejected before parsing so that no input can
/// exhaust the stack.
pub const MAX_NESTING: usize = 64;
/// Deepest expression tree accepted (long operator chains).
pub const MAX_EXPR_DEPTH: usize = 400;

pub fn parse_module(file: FileId, src: &str) -> (Module, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if let Some(d) = check_nesting(file, src) {
        return (Module::default(), vec![d]);
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(50_000_000));
    let mut module = Module::default();
    diags.extend(floor_division_comments(file, src));
    let mut pos = 0;
    while pos <= src.len() {
        match parse_item(&src[pos..]) {
            Ok(pairs) => {
                let Some((item, consumed)) = build_item(file, pos, pairs, &mut diags) else {
                    break;
                };
                module.items.extend(item);
                if consumed == 0 {
                    break;
                }
                pos += consumed;
            }
            Err(err) => {
                let mut d = syntax_error(file, src, pos, &err);
                let error_at = (d.span.start as usize).max(pos);
                let expects_closing = ["`)`", "`]`", "`}`"].iter().any(|b| d.message.contains(b));
                // Where the broken text starts: the previous item when it was cut short.
                let mut scan_from = pos;
                // Where parsing resumes when it is known better than "the next item keyword
                // after the error".
                let mut resume_at = None;
                // An error at the very first token after a complete item usually means that item
                // was cut short (`rule r = a = b` parses as `rule r = a`): drop it, so that its
                // partial meaning does not produce more errors.
                let first_word: String = src[error_at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if src[pos..error_at].trim().is_empty() && !keywords::starts_item(&first_word) {
                    if let Some(prev) = module.items.pop() {
                        scan_from = prev.span.start as usize;
                        let text = &src[prev.span.range()];
                        module.broken_names.extend(defined_name(text));
                        if d.message.starts_with("expected a new item") {
                            d.message =
                                "expected an operator or a new item (`let`, `rule`, `score`, …)"
                                    .into();
                        }
                        // `let a = x +` then `score = …`: the operator took the next item's
                        // keyword as its operand. Say so at the operator, and parse the next
                        // item, so that its own mistakes are reported too.
                        if let Some((op, next_item)) = dangling_operator(src, scan_from, error_at) {
                            d = dangling_operator_error(file, src, op, next_item);
                            resume_at = Some(next_item);
                        }
                    }
                }
                let rest_at_error = src[error_at.min(src.len())..].trim_start();
                let rest_at_error = rest_at_error
                    .strip_prefix('~')
                    .map_or(rest_at_error, str::trim_start);
                if let Some(open) = unterminated_comment(src, scan_from, error_at) {
                    d = Diagnostic::new(
                        Code::E0001,
                        Span::new(file, open, open + 2),
                        "unterminated comment",
                    )
                    .label("this `/*` comment is never closed")
                    .help("close it with `*/`, or use `//` line comments");
                } else if let Some((quote, triple)) = unterminated_string(src, scan_from, error_at)
                {
                    let line_end = src[quote..].find('\n').map_or(src.len(), |i| quote + i);
                    d = if triple {
                        Diagnostic::new(
                            Code::E0001,
                            Span::new(file, quote, quote + 3),
                            "unterminated triple-quoted string",
                        )
                        .label("no closing `\"\"\"` after this")
                        .help("close the text with `\"\"\"`")
                    } else {
                        Diagnostic::new(Code::E0001, Span::new(file, quote, line_end), "unterminated string")
                            .label("this string is not closed on its line")
                            .help("close it with `\"`; strings cannot span lines: use \"\"\"…\"\"\" for multi-line text")
                    };
                } else if rest_at_error.starts_with('/')
                    && !rest_at_error[1..]
                        .split('\n')
                        .next()
                        .unwrap_or("")
                        .replace("\\/", "")
                        .contains('/')
                {
                    let at = src.len() - rest_at_error.len();
                    let line_end = src[at..].find('\n').map_or(src.len(), |i| at + i);
                    d = Diagnostic::new(Code::E0001, Span::new(file, at, line_end), "unterminated regex literal")
                        .label("no closing `/` on this line")
                        .help("write the pattern between slashes: `/pattern/flags` (a `/` inside it is `\\/`)");
                } else if expects_closing {
                    if let Some(open) = unclosed_bracket(src, pos, error_at) {
                        d = d.note(
                            Span::new(file, open, open + 1),
                            "this bracket is never closed",
                        );
                    }
                }
                diags.push(d);
                let resume = resume_at.or_else(|| skip_to_next_item(src, pos, error_at));
                // (Resuming before `pos` re-reads the cut-short item's last line, a new item.)
                let failed = &src[pos..resume.unwrap_or(src.len()).max(pos)];
                module.broken_names.extend(defined_name(failed));
                match resume {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
    }
    (module, diags)
}

/// A top-level item of a module's text found without parsing it, from the line it starts: every
/// item of a standard-library module starts a line with its keyword (as `reward fmt` writes
/// them; the library's tests check this outline against [`parse_module`] on every module).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemStart<'s> {
    /// Byte offset of the keyword.
    pub start: usize,
    pub keyword: &'s str,
    /// The name a `fn` or `type` item defines; empty for other items.
    pub name: &'s str,
}

/// The items of `src` by the lines that start with an item keyword.
pub fn item_starts(src: &str) -> Vec<ItemStart<'_>> {
    let word = |s: &str| {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut out = Vec::new();
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let keyword = &line[..word(line)];
        if keywords::starts_item(keyword) {
            let rest = line[keyword.len()..].trim_start();
            let name = if keyword == "fn" || keyword == "type" {
                &rest[..word(rest)]
            } else {
                ""
            };
            out.push(ItemStart {
                start,
                keyword,
                name,
            });
        }
        start += line.len();
    }
    out
}

/// Parses only the items that start at the offsets `starts` of `src` (from [`item_starts`]),
/// in that order: a spec uses a few of a standard module's items, and parsing is most of the
/// cost of importing one.
pub fn parse_items_at(file: FileId, src: &str, starts: &[usize]) -> (Module, Vec<Diagnostic>) {
    pest::set_call_limit(std::num::NonZeroUsize::new(50_000_000));
    let mut diags = Vec::new();
    let mut module = Module::default();
    for &pos in starts {
        match parse_item(&src[pos..]) {
            Ok(pairs) => {
                if let Some((item, _)) = build_item(file, pos, pairs, &mut diags) {
                    module.items.extend(item);
                }
            }
            Err(err) => diags.push(syntax_error(file, src, pos, &err)),
        }
    }
    (module, diags)
}

/// The item parsed at byte `pos` (`None` when it did not build: its problems are in `diags`)
/// and the bytes it took; `None` at the end of the file.
fn build_item(
    file: FileId,
    pos: usize,
    mut pairs: Pairs<'_, Rule>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Option<Item>, usize)> {
    let next = pairs.next().expect("next_item always produces a pair");
    let consumed = next.as_span().end();
    let inner = next.into_inner().next()?;
    if inner.as_rule() == Rule::end_of_file {
        return None;
    }
    let mut b = Builder {
        file,
        base: pos,
        diags,
        depth: 0,
        too_deep_reported: false,
    };
    Some((b.item(inner), consumed))
}

/// Parses the next item. Pest's error detail (every token tried at every position) makes
/// parsing several times slower and only serves to explain an error, so an item that does not
/// parse is parsed again with it. The switch is global to the process: the lock keeps two
/// explanations from turning it off under each other (a parse that sees it on by chance is
/// only slower).
fn parse_item(src: &str) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    RewardParser::parse(Rule::next_item, src).or_else(|_| {
        static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _explaining = DETAIL.lock().unwrap_or_else(|e| e.into_inner());
        pest::set_error_detail(true);
        let explained = RewardParser::parse(Rule::next_item, src);
        pest::set_error_detail(false);
        explained
    })
}

/// Binary operators that can end a line when an expression goes on to the next.
const LINE_END_OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "??", "==", "!=", "<=", ">=", "<", ">", "~", "and", "or", "in",
];

/// In `src[from..error_at]`, a line that ends with a binary operator followed by a line that
/// starts with an item keyword: the operator's span and where the keyword's line starts.
fn dangling_operator(src: &str, from: usize, error_at: usize) -> Option<((usize, usize), usize)> {
    let text = &src[from..error_at];
    let line_start = text
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .rev()
        .find(|&i| {
            let word: String = text[i..]
                .trim_start_matches([' ', '\t'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            keywords::starts_item(&word)
        })?;
    let before = text[..line_start].trim_end();
    let op = LINE_END_OPERATORS.iter().find(|op| {
        before.ends_with(**op)
            && (op.chars().all(|c| !c.is_ascii_alphabetic())
                || !before[..before.len() - op.len()]
                    .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })?;
    let op_end = from + before.len();
    Some(((op_end - op.len(), op_end), from + line_start))
}

fn dangling_operator_error(
    file: FileId,
    src: &str,
    (start, end): (usize, usize),
    next_item: usize,
) -> Diagnostic {
    let op = &src[start..end];
    let line = src[..next_item].matches('\n').count() + 1;
    let keyword: String = src[next_item..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Diagnostic::new(
        Code::E0001,
        Span::new(file, start, end),
        format!("`{op}` ends its line without a right operand"),
    )
    .label(format!("nothing follows this `{op}`"))
    .help(format!(
        "finish the expression after `{op}`, or remove it: line {line} starts a new item (`{keyword} …`)"
    ))
}

/// Rejects pathologically deep bracket nesting up front, with a span on the offending bracket.
/// Strings, comments and escaped characters are skipped; the count restarts at every line that
/// starts an item, so an unbalanced bracket in a regex cannot accumulate across the file.
fn check_nesting(file: FileId, src: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    let mut line_start = true;
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if line_start && !in_string {
            let word: String = src[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if keywords::starts_item(&word) {
                depth = 0;
            }
        }
        line_start = c == '\n';
        if c == '\n' {
            in_comment = false;
        }
        if in_comment {
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '\\' => {
                chars.next();
            }
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/') => in_comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::new(
                            Code::E0023,
                            Span::new(file, i, i + 1),
                            format!("brackets are nested more than {MAX_NESTING} levels deep"),
                        )
                        .label("nesting limit exceeded here")
                        .help("name intermediate values with `let`, or nested record types with `type`, to flatten it"),
                    );
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// `a // 2` reads as `a` followed by a comment. Python users write it for floor division, and the
/// silent truncation would be a wrong reward, so a comment that is just a number right after an
/// operand is an error.
fn floor_division_comments(file: FileId, src: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        if let Some(at) = comment_start(line) {
            let before = line[..at].trim_end();
            let after = line[at + 2..].trim();
            let operand_before = before
                .ends_with(|c: char| c.is_ascii_alphanumeric() || c == ')' || c == ']' || c == '_');
            let number_after = !after.is_empty()
                && after
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_');
            if operand_before && number_after && !before.trim_start().starts_with("//") {
                out.push(
                    Diagnostic::new(Code::E0001, Span::new(file, offset + at, offset + at + 2), format!("`// {after}` is a comment, not a division"))
                        .label("this starts a comment: the rest of the line is ignored")
                        .help("`/` divides (the result is a float); for integer division write `int(floor(a / b))`"),
                );
            }
        }
        offset += line.len();
    }
    out
}

/// Byte offset of a `//` comment in a line, outside strings and regex literals.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes[i + 1] == b'/' => return Some(i),
            // A regex literal: skip to its closing slash.
            b'/' if !in_string => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'/' && bytes[j] != b'\n' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A plain string opened in `src[from..=to]` and not closed before the end of its line.
fn unterminated_string(src: &str, from: usize, to: usize) -> Option<(usize, bool)> {
    let end = src[to.min(src.len())..]
        .find('\n')
        .map_or(src.len(), |i| to + i);
    let bytes = src.as_bytes();
    let mut i = from;
    let mut open: Option<usize> = None;
    while i < end {
        match bytes[i] {
            b'"' if open.is_none() && src[i..].starts_with("\"\"\"") => {
                // Triple-quoted strings may span lines: skip to the closing quotes.
                match src[i + 3..].find("\"\"\"") {
                    Some(k) => i += k + 6,
                    None => return Some((i, true)),
                }
                continue;
            }
            b'"' if open.is_none() => open = Some(i),
            b'"' => open = None,
            b'\\' if open.is_some() => i += 1,
            b'\n' if open.is_some() => return open.map(|o| (o, false)),
            b'/' if open.is_none() && bytes.get(i + 1) == Some(&b'/') => {
                // A comment: skip to the end of its line.
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    open.map(|o| (o, false))
}

/// A `/*` comment opened in `src[from..to]` (outside strings and line comments) and never closed.
fn unterminated_comment(src: &str, from: usize, to: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    let mut in_string = false;
    while i + 1 < bytes.len() && i < to.max(from) + 1 {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes[i + 1] == b'/' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if !in_string && bytes[i + 1] == b'*' => match src[i + 2..].find("*/") {
                Some(k) => {
                    i += k + 4;
                    continue;
                }
                None => return Some(i),
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where to resume after a syntax error in the item starting at `item_start`: the first line
/// that begins with an item keyword, after the item's first line and not before the line of the
/// error (an item keyword at the start of the error's own line is where the user started anew).
fn skip_to_next_item(src: &str, item_start: usize, error_at: usize) -> Option<usize> {
    let item_text = src[item_start..].trim_start();
    let item_line_end =
        src.len() - item_text.len() + item_text.find('\n').unwrap_or(item_text.len());
    let from = src[..error_at.max(item_line_end)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut offset = from;
    for line in src[from..].split_inclusive('\n') {
        if offset > item_line_end {
            let word: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if keywords::starts_item(&word) {
                return Some(offset);
            }
        }
        offset += line.len();
    }
    None
}

/// The innermost bracket opened in `src[from..to]` and not closed there (strings skipped).
fn unclosed_bracket(src: &str, from: usize, to: usize) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in src[from..to.min(src.len())].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => stack.push(from + i),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

/// The name an unparsable item meant to define, so that uses of it do not cascade into
/// "unknown name" errors.
fn defined_name(item: &str) -> Option<String> {
    let mut words = item
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    match words.next()? {
        "score" => Some("score".into()),
        "let" | "rule" | "fn" | "rubric" | "param" | "type" => words.next().map(str::to_string),
        _ => None,
    }
}

fn syntax_error(
    file: FileId,
    src: &str,
    base: usize,
    err: &pest::error::Error<Rule>,
) -> Diagnostic {
    let mut at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let Some(a) = err.parse_attempts() {
        at = at.max(a.max_position);
    }
    let start = base + at;
    let expected = expected_tokens(err);
    let message = expectation_message(&expected);
    let rest = &src[start.min(src.len())..];
    if expected.iter().any(|e| e == "a name") {
        if let Some(d) = reserved_word_error(file, src, start, rest) {
            return d;
        }
    }
    let found: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(12)
        .collect();
    let label = if found.is_empty() {
        "unexpected end of input".to_string()
    } else {
        format!("unexpected `{}`", found.escape_debug())
    };
    let end = start + rest.chars().next().map_or(0, char::len_utf8);
    let help = syntax_help(&src[..start], rest, &message, at);
    let d = Diagnostic::new(Code::E0001, Span::new(file, start, end), message).label(label);
    match help {
        Some(help) => d.help(help),
        None => d,
    }
}

/// What the parser would have accepted at the error: tokens (quoted) and rule names.
fn expected_tokens(err: &pest::error::Error<Rule>) -> Vec<String> {
    let mut expected: Vec<String> = Vec::new();
    if let Some(attempts) = err.parse_attempts() {
        for tok in attempts.expected_tokens() {
            let token = tok.to_string();
            // Single letters are continuations of numbers (`1e5`, `1_000`): never what the
            // user meant to write next.
            let continuation =
                token.len() == 1 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if token.is_empty()
                || continuation
                || token.contains("..")
                || [" ", "\t", "\r", "\n", "//", "/*"].contains(&token.as_str())
            {
                continue;
            }
            let t = format!("`{token}`");
            if !expected.contains(&t) {
                expected.push(t);
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for rule in positives {
            if let Some(name) = rule_name(*rule) {
                let n = name.to_string();
                if !expected.contains(&n) {
                    expected.push(n);
                }
            }
        }
    }
    expected
}

/// `expected …`, with long token lists grouped into what the user can act on.
fn expectation_message(expected: &[String]) -> String {
    const ITEM_WORDS: &[&str] = &[
        "`use`",
        "`input`",
        "`param`",
        "`type`",
        "`let`",
        "`rule`",
        "`score`",
        "`fn`",
        "`rubric`",
        "`test`",
        "`prop`",
        "`machine`",
        "`ltl`",
        "`shape`",
        "`group`",
    ];
    const OPERATORS: &[&str] = &[
        "`+`", "`-`", "`*`", "`/`", "`%`", "`==`", "`!=`", "`<`", "`<=`", "`>`", "`>=`", "`~`",
        "`??`", "`and`", "`or`", "`in`", "`not`", "`.`", "`[`",
    ];
    let has_item = expected
        .iter()
        .any(|e| ITEM_WORDS.contains(&e.as_str()) || e.starts_with("an item"));
    let has_op = expected
        .iter()
        .any(|e| OPERATORS.contains(&e.as_str()) || e == "an operator");
    let mut grouped: Vec<String> = expected
        .iter()
        .filter(|e| {
            !ITEM_WORDS.contains(&e.as_str())
                && !OPERATORS.contains(&e.as_str())
                && !e.starts_with("an item")
                && *e != "an operator"
                && *e != "end of file"
        })
        .cloned()
        .collect();
    if has_op {
        grouped.push("an operator".into());
    }
    if has_item {
        grouped.push("a new item (`let`, `rule`, `score`, …)".into());
    }
    if grouped.is_empty() {
        "unexpected input".to_string()
    } else if grouped.len() > 8 {
        format!("expected {} or …", grouped[..8].join(", "))
    } else {
        format!("expected {}", list_or(&grouped))
    }
}

/// A reserved word where a name was expected (the word may end right at the error, `start`;
/// `rest` is the source from there).
fn reserved_word_error(file: FileId, src: &str, start: usize, rest: &str) -> Option<Diagnostic> {
    let word_start = src[..start]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word_start = if word_start == start {
        start + (rest.len() - rest.trim_start().len())
    } else {
        word_start
    };
    let word: String = src[word_start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !keywords::is_reserved(&word) {
        return None;
    }
    Some(Diagnostic::new(Code::E0001, Span::new(file, word_start, word_start + word.len()), format!("`{word}` is a reserved word and cannot be a name"))
        .label("reserved word")
        .help(format!("choose another name; reserved words: {}. A column with such a name is read as `input.{word}`", keywords::reserved().collect::<Vec<_>>().join(", "))))
}

/// A hint for a syntax error between `before` and `rest` (`at`: its offset in the parsed
/// text), from what the user probably meant.
fn syntax_help(before: &str, rest: &str, message: &str, at: usize) -> Option<String> {
    // `x.strip()`: a method call, which the language does not have.
    let before = before.trim_end();
    let method: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let is_method = rest.starts_with('(')
        && !method.is_empty()
        && before[..before.len() - method.len()].ends_with('.');
    let help = if is_method {
        let function = if method == "strip" {
            "trim"
        } else {
            method.as_str()
        };
        format!("there are no methods: write `{function}(x)` instead of `x.{method}()`")
    } else if message == "expected `:`" {
        "a name declared here needs a type: `name: text`".into()
    } else if rest.starts_with(':') && message.contains("`then`") {
        "write `if condition then a else b`".into()
    } else if let Some(hint) = python_hint(rest) {
        hint.into()
    } else if at == 0 {
        "a reward file is a sequence of items: `use`, `input`, `param`, `type`, `let`, `rule`, \
         `score`, `fn`, `rubric` and `test`"
            .into()
    } else {
        return None;
    };
    Some(help)
}

/// Hints for spellings users bring from other languages.
fn python_hint(rest: &str) -> Option<&'static str> {
    let hints: &[(&str, &str)] = &[
        ("&&", "write `and` for logical and"),
        ("||", "write `or` for logical or"),
        ("!=", "`!=` compares two values; check what comes before it"),
        ("!", "write `not` for logical negation"),
        ("==", "`==` compares two values; check what comes before it"),
        (
            "=",
            "write `==` to compare; `=` only appears in definitions",
        ),
        ("'", "text literals use double quotes: \"…\""),
        ("elif", "write `else if … then …`"),
        (
            "def ",
            "functions are written `fn name(x: type) -> type = expr`",
        ),
        (
            "return",
            "a function body is a single expression: `fn f(x: int) -> int = x + 1`",
        ),
        ("**", "write `pow(x, y)` for powers"),
        (
            ":",
            "a `let` type annotation goes before `=`: `let x: float = …`",
        ),
        (
            ";",
            "items do not end with `;`: start the next item on a new line",
        ),
    ];
    hints
        .iter()
        .find(|(p, _)| rest.starts_with(p))
        .map(|(_, h)| *h)
}

fn list_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Which temporal operators take a window.
const WINDOWED: &str = "only `eventually[lo, hi]`, `always[lo, hi]` (or `F`/`G`), `until[lo, hi]` and `release[lo, hi]` (or `U`/`R`) have windows";

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::expr | Rule::primary => "an expression",
        Rule::ident => "a name",
        Rule::ty => "a type",
        Rule::string | Rule::plain_string | Rule::triple_string => "a string",
        Rule::number | Rule::signed_number => "a number",
        Rule::range_open => "a range `[lo, hi]`",
        Rule::criterion => "`criterion`",
        Rule::kw_criterion => "`criterion`",
        Rule::kw_expect | Rule::test_expect => "`expect`",
        Rule::probe_family => "a probe family (`near-miss`, `containment`…)",
        Rule::kw_safe => "`safe`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_in => "`in`",
        Rule::ltl | Rule::ltl_prefix | Rule::ltl_unary | Rule::ltl_atom | Rule::ltl_paren => {
            "a formula"
        }
        Rule::ltl_infix => "a temporal or boolean operator",
        Rule::field_decl => "a field declaration (`name: type`)",
        Rule::record_field => "a field (`name: value`)",
        Rule::EOI | Rule::end_of_file => "end of file",
        Rule::op_or
        | Rule::op_and
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_eq => "an operator",
        Rule::use_decl
        | Rule::input_decl
        | Rule::param_decl
        | Rule::type_decl
        | Rule::let_decl
        | Rule::rule_decl
        | Rule::score_decl
        | Rule::fn_decl
        | Rule::rubric_decl
        | Rule::test_decl => "an item (`let`, `rule`, `score`, …)",
        _ => return None,
    })
}

/// Binding powers (left, right) of the infix operators; higher binds tighter.
fn infix_power(rule: Rule) -> Option<(u8, u8)> {
    Some(match rule {
        Rule::op_or => (1, 2),
        Rule::op_and => (3, 4),
        Rule::op_eq
        | Rule::op_ne
        | Rule::op_lt
        | Rule::op_le
        | Rule::op_gt
        | Rule::op_ge
        | Rule::op_in
        | Rule::op_not_in
        | Rule::op_match => (7, 8),
        // `??` is right-associative.
        Rule::op_coalesce => (10, 9),
        Rule::op_add | Rule::op_sub => (11, 12),
        Rule::op_mul | Rule::op_div | Rule::op_rem => (13, 14),
        _ => return None,
    })
}
/// Operand power of the unary temporal operators: tighter than every binary one.
const LTL_UNARY_POWER: u8 = 12;
/// Operand power of prefix `not`: it covers comparisons but not `and`/`or`.
const NOT_POWER: u8 = 5;
/// Operand power of prefix `-`: tighter than `*`, looser than `.field` and `[i]`.
const NEG_POWER: u8 = 15;

struct Builder<'d> {
    file: FileId,
    base: usize,
    diags: &'d mut Vec<Diagnostic>,
    depth: usize,
    too_deep_reported: bool,
}

impl Builder<'_> {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn item(&mut self, pair: Pair<Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        // Every declaration opens with its keyword.
        let keyword = inner.next();
        let kind = match rule {
            Rule::use_decl => self.use_decl(inner.next()?),
            Rule::input_decl => ItemKind::Input(inner.map(|f| self.field_decl(f)).collect()),
            Rule::param_decl => {
                let name = self.ident(inner.next()?);
                let ty = self.ty(inner.next()?);
                let value = self.expr(inner.next()?);
                ItemKind::Param { name, ty, value }
            }
            Rule::type_decl => {
                let name = self.ident(inner.next()?);
                let ty = self.ty(inner.next()?);
                ItemKind::Type { name, ty }
            }
            Rule::let_decl => {
                let name = self.ident(inner.next()?);
                let next = inner.next()?;
                let (ty, value) = if next.as_rule() == Rule::ty {
                    (Some(self.ty(next)), self.expr(inner.next()?))
                } else {
                    (None, self.expr(next))
                };
                ItemKind::Let { name, ty, value }
            }
            Rule::rule_decl => {
                let name = self.ident(inner.next()?);
                let value = self.expr(inner.next()?);
                ItemKind::Rule { name, value }
            }
            Rule::score_decl => {
                let keyword = self.span(&keyword?);
                let value = self.expr(inner.next()?);
                ItemKind::Score { keyword, value }
            }
            Rule::fn_decl => ItemKind::Fn(self.fn_decl(inner)?),
            Rule::rubric_decl => ItemKind::Rubric(self.rubric(inner)?),
            Rule::prop_decl => {
                let name = self.ident(inner.next()?);
                let value = self.expr(inner.next()?);
                ItemKind::Prop { name, value }
            }
            Rule::machine_decl => ItemKind::Machine(self.machine(inner)?),
            Rule::ltl_decl => ItemKind::Ltl(self.ltl_decl(inner)?),
            Rule::group_decl => {
                inner.next(); // by
                let key = self.expr(inner.next()?);
                let items = inner.filter_map(|p| self.item(p)).collect();
                ItemKind::Group { key, items }
            }
            Rule::shape_decl => ItemKind::Shape(self.shape_decl(inner)?),
            Rule::test_decl => ItemKind::Test(self.test_decl(inner)?),
            _ => return None,
        };
        Some(Item { kind, span })
    }

    /// `use "file.reward"` or `use std::a::b` with an optional `{items}`.
    fn use_decl(&mut self, target: Pair<Rule>) -> ItemKind {
        if target.as_rule() == Rule::string {
            let span = self.span(&target);
            let path = self.string(target);
            return ItemKind::Use(UseDecl::File { path, span });
        }
        let mut path = Vec::new();
        let mut items = None;
        for p in target.into_inner() {
            match p.as_rule() {
                Rule::ident => path.push(self.ident(p)),
                _ => items = Some(p.into_inner().map(|i| self.ident(i)).collect()),
            }
        }
        ItemKind::Use(UseDecl::Std { path, items })
    }

    /// After the keyword: the name, parameters, result type and body.
    fn fn_decl(&mut self, mut inner: Pairs<Rule>) -> Option<FnDecl> {
        let name = self.ident(inner.next()?);
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for p in inner {
            match p.as_rule() {
                Rule::fn_param => params.push(self.field_decl(p)),
                Rule::ty => ret = Some(self.ty(p)),
                _ => body = Some(self.expr(p)),
            }
        }
        Some(FnDecl {
            name,
            params,
            ret: ret?,
            body: body?,
        })
    }

    /// After the keyword: the name, options and criteria.
    fn rubric(&mut self, mut inner: Pairs<Rule>) -> Option<Rubric> {
        let name = self.ident(inner.next()?);
        let mut options = Vec::new();
        let mut criteria = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::rubric_options => {
                    for opt in p.into_inner() {
                        options.push(self.rubric_option(opt)?);
                    }
                }
                _ => criteria.push(self.criterion(p)?),
            }
        }
        Some(Rubric {
            name,
            options,
            criteria,
        })
    }

    /// `name: word` or `name: [lo, hi]`.
    fn rubric_option(&mut self, opt: Pair<Rule>) -> Option<RubricOption> {
        let mut o = opt.into_inner();
        let name = self.ident(o.next()?);
        let v = o.next()?;
        let value = if v.as_rule() == Rule::clip_range {
            let span = self.span(&v);
            let mut nums = v
                .into_inner()
                .filter(|p| p.as_rule() == Rule::signed_number);
            let lo = self.signed_number(nums.next()?);
            let hi = self.signed_number(nums.next()?);
            RubricOptionValue::Range { lo, hi, span }
        } else {
            RubricOptionValue::Word(self.ident(v))
        };
        Some(RubricOption { name, value })
    }

    /// After the keyword: `NAME over TRACE`, then options, `start`, `terminal` and edge lines.
    fn machine(&mut self, mut inner: Pairs<Rule>) -> Option<Machine> {
        let name = self.ident(inner.next()?);
        inner.next(); // over
        let trace = self.ident(inner.next()?);
        let mut m = Machine {
            name,
            trace,
            options: Vec::new(),
            start: None,
            terminals: Vec::new(),
            edges: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::rubric_options => {
                    for opt in p.into_inner() {
                        m.options.push(self.machine_option(opt)?);
                    }
                }
                Rule::machine_start => {
                    let mut parts = p.into_inner();
                    parts.next();
                    m.start = Some(self.ident(parts.next()?));
                }
                Rule::machine_terminal => {
                    m.terminals
                        .extend(p.into_inner().skip(1).map(|i| self.ident(i)));
                }
                _ => m.edges.push(self.edge(p)?),
            }
        }
        Some(m)
    }

    /// Like a rubric's option, but a machine takes no range: one is kept (as `[0, 0]`) only
    /// for the checker to report.
    fn machine_option(&mut self, opt: Pair<Rule>) -> Option<RubricOption> {
        let mut o = opt.into_inner();
        let name = self.ident(o.next()?);
        let v = o.next()?;
        let value = if v.as_rule() == Rule::clip_range {
            let span = self.span(&v);
            RubricOptionValue::Range {
                lo: 0.0,
                hi: 0.0,
                span,
            }
        } else {
            RubricOptionValue::Word(self.ident(v))
        };
        Some(RubricOption { name, value })
    }

    /// `FROM, ... -> TO [via MACHINE] [when GUARD] [reward EXPR]`.
    fn edge(&mut self, p: Pair<Rule>) -> Option<Edge> {
        let span = self.span(&p);
        let mut parts = p.into_inner();
        let from: Vec<Ident> = parts.next()?.into_inner().map(|i| self.ident(i)).collect();
        let to = self.ident(parts.next()?);
        let mut guard = None;
        let mut reward = None;
        let mut via = None;
        let mut after_reward = false;
        let mut after_via = false;
        for q in parts {
            match q.as_rule() {
                Rule::kw_via => after_via = true,
                Rule::ident if after_via => {
                    via = Some(self.ident(q));
                    after_via = false;
                }
                Rule::kw_when => {}
                Rule::kw_reward => after_reward = true,
                _ if after_reward => reward = Some(self.expr(q)),
                _ => guard = Some(self.expr(q)),
            }
        }
        // From the first source state to the end of the last part (the rule's own span runs on
        // over the whitespace after it).
        let end = reward
            .as_ref()
            .or(guard.as_ref())
            .map_or(to.span, |e| e.span);
        let span = from.first().map_or(span, |f| f.span.to(end));
        Some(Edge {
            from,
            to,
            via,
            guard,
            reward,
            span,
        })
    }

    /// After the keyword: the name, optional trace, formula and optional reward.
    fn ltl_decl(&mut self, mut inner: Pairs<Rule>) -> Option<LtlDecl> {
        let name = self.ident(inner.next()?);
        let mut trace = None;
        let mut formula = None;
        let mut reward = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => trace = Some(self.ident(p)),
                Rule::ltl => formula = Some(self.ltl(p)),
                Rule::ltl_reward => {
                    reward = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::expr)
                        .map(|q| self.expr(q));
                }
                _ => {}
            }
        }
        Some(LtlDecl {
            name,
            trace,
            formula: formula?,
            reward,
        })
    }

    /// After the keyword: the target, the kind and its `name: value` arguments.
    fn shape_decl(&mut self, mut inner: Pairs<Rule>) -> Option<ShapeDecl> {
        let target = self.ident(inner.next()?);
        let kind = self.ident(inner.next()?);
        let mut args = Vec::new();
        for a in inner {
            let mut parts = a.into_inner();
            let name = self.ident(parts.next()?);
            let value = self.expr(parts.next()?);
            args.push((name, value));
        }
        Some(ShapeDecl { target, kind, args })
    }

    /// After the keyword: the name, then `given`, `param` and `expect` lines.
    fn test_decl(&mut self, mut inner: Pairs<Rule>) -> Option<TestDecl> {
        let name_pair = inner.next()?;
        let name_span = self.span(&name_pair);
        let name = self.string(name_pair);
        let mut given = None;
        let mut params = Vec::new();
        let mut expects = Vec::new();
        let mut probes = Vec::new();
        for p in inner {
            let rule = p.as_rule();
            let mut parts = p.into_inner();
            parts.next(); // keyword
            match rule {
                Rule::test_given => given = Some(self.primary(parts.next()?)),
                Rule::test_param => {
                    let name = self.ident(parts.next()?);
                    params.push((name, self.expr(parts.next()?)));
                }
                _ => {
                    let e = parts.next()?;
                    if e.as_rule() == Rule::probe_expect {
                        probes.push(self.probe_expect(e));
                    } else {
                        expects.push(self.expr(e));
                    }
                }
            }
        }
        Some(TestDecl {
            name,
            name_span,
            params,
            given,
            expects,
            probes,
        })
    }

    /// `probe [family] (== | !=) safe`.
    fn probe_expect(&mut self, pair: Pair<Rule>) -> ProbeExpect {
        let span = self.span(&pair);
        let mut family = None;
        let mut safe = true;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::probe_family => family = Some((p.as_str().to_string(), self.span(&p))),
                Rule::op_ne => safe = false,
                _ => {}
            }
        }
        ProbeExpect { family, safe, span }
    }

    fn criterion(&mut self, pair: Pair<Rule>) -> Option<Criterion> {
        let mut inner = pair.into_inner();
        inner.next();
        let desc = inner.next()?;
        let description_span = self.span(&desc);
        let description = self.string(desc);
        let points_pair = inner.next()?;
        let points_span = self.span(&points_pair);
        let points = self.signed_number(points_pair);
        let value = self.expr(inner.next()?);
        let tags = inner
            .map(|t| {
                let mut parts = t.into_inner();
                parts.next();
                let tag = parts.next().expect("tag has a name");
                if tag.as_rule() == Rule::string {
                    let span = self.span(&tag);
                    Ident {
                        name: self.string(tag),
                        span,
                    }
                } else {
                    self.ident(tag)
                }
            })
            .collect();
        Some(Criterion {
            description,
            description_span,
            points,
            points_span,
            value,
            tags,
        })
    }

    fn signed_number(&mut self, pair: Pair<Rule>) -> f64 {
        let span = self.span(&pair);
        let text: String = pair.as_str().chars().filter(|c| *c != '_').collect();
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => x,
            _ => {
                self.diags.push(
                    Diagnostic::new(Code::E0011, span, "number is out of range")
                        .help("use a finite number"),
                );
                0.0
            }
        }
    }

    fn field_decl(&mut self, pair: Pair<Rule>) -> FieldDecl {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("field name"));
        let ty = self.ty(inner.next().expect("field type"));
        FieldDecl { name, ty }
    }

    fn ty(&mut self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let base = inner.next().expect("type has a base");
        let base_span = self.span(&base);
        let kind = match base.as_rule() {
            Rule::list_ty => {
                let elem = self.ty(base.into_inner().next().expect("list element type"));
                TypeExprKind::List(Box::new(elem))
            }
            Rule::record_ty => {
                TypeExprKind::Record(base.into_inner().map(|f| self.field_decl(f)).collect())
            }
            _ => TypeExprKind::Named(self.ident(base)),
        };
        let base = TypeExpr {
            kind,
            span: base_span,
        };
        if inner.next().is_some() {
            TypeExpr {
                kind: TypeExprKind::Optional(Box::new(base)),
                span,
            }
        } else {
            base
        }
    }

    fn string(&mut self, pair: Pair<Rule>) -> String {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("string has a body");
        match inner.as_rule() {
            Rule::triple_string => inner
                .into_inner()
                .next()
                .map_or(String::new(), |p| p.as_str().to_string()),
            _ => {
                let raw = inner.into_inner().next().map_or("", |p| p.as_str());
                match unescape(raw) {
                    Ok(s) => s,
                    Err(msg) => {
                        self.diags
                            .push(Diagnostic::new(Code::E0024, span, msg).help(
                                "supported escapes: \\n \\t \\r \\\\ \\\" \\0 and \\u{…}; \
                                 use a \"\"\"triple-quoted\"\"\" string for raw text",
                            ));
                        String::new()
                    }
                }
            }
        }
    }

    /// An LTL formula: Pratt parsing over its flat token sequence, like expressions.
    fn ltl(&mut self, pair: Pair<Rule>) -> Ltl {
        let tokens: Vec<Pair<Rule>> = pair.into_inner().collect();
        let mut pos = 0;
        self.ltl_pratt(&tokens, &mut pos, 0)
    }

    fn ltl_pratt(&mut self, tokens: &[Pair<Rule>], pos: &mut usize, min_power: u8) -> Ltl {
        self.depth += 1;
        let f = if self.depth > MAX_EXPR_DEPTH {
            let span = self.span(&tokens[*pos]);
            *pos = tokens.len();
            let e = self.too_deep(span);
            Ltl {
                kind: LtlKind::Atom(e),
                span,
            }
        } else {
            self.ltl_pratt_inner(tokens, pos, min_power)
        };
        self.depth -= 1;
        f
    }

    fn ltl_pratt_inner(&mut self, tokens: &[Pair<Rule>], pos: &mut usize, min_power: u8) -> Ltl {
        use reward_runtime::ltl::Op;
        let first = tokens[*pos].clone();
        *pos += 1;
        let first_span = self.span(&first);
        let mut lhs = match first.as_rule() {
            Rule::ltl_prefix => {
                let mut parts = first.into_inner();
                let word = parts.next().map_or("", |w| w.as_str());
                let op = match word {
                    "not" | "!" => Op::Not,
                    "next" | "X" => Op::Next,
                    "wnext" | "WX" => Op::WNext,
                    "eventually" | "F" => Op::Eventually,
                    "always" | "G" => Op::Always,
                    "prev" | "Y" => Op::Prev,
                    "wprev" | "WY" => Op::WPrev,
                    "once" | "O" => Op::Once,
                    _ => Op::Historically,
                };
                let window = parts.next().map(|w| self.ltl_window(w));
                if window.is_some() && !matches!(op, Op::Eventually | Op::Always) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0001,
                            first_span,
                            format!("`{word}` does not take a window"),
                        )
                        .help(WINDOWED),
                    );
                }
                let arg = self.ltl_pratt(tokens, pos, LTL_UNARY_POWER);
                Ltl {
                    span: first_span.to(arg.span),
                    kind: LtlKind::Unary {
                        op,
                        window: window.filter(|_| matches!(op, Op::Eventually | Op::Always)),
                        arg: Box::new(arg),
                    },
                }
            }
            Rule::ltl_paren => {
                let inner = first.into_inner().next().expect("a parenthesised formula");
                let mut f = self.ltl(inner);
                f.span = first_span;
                f
            }
            Rule::ltl_const => Ltl {
                kind: LtlKind::Const(first.as_str().trim() == "true"),
                span: first_span,
            },
            _ => {
                let e = self.expr(first);
                Ltl {
                    kind: LtlKind::Atom(e),
                    span: first_span,
                }
            }
        };
        while let Some(op) = tokens.get(*pos) {
            let (binop, (left, right)) = match op.as_str() {
                "iff" | "<->" => (Op::Iff, (2, 2)),
                "implies" | "->" => (Op::Implies, (4, 4)),
                "or" | "|" | "||" => (Op::Or, (6, 7)),
                "and" | "&" | "&&" => (Op::And, (8, 9)),
                "until" | "U" => (Op::Until, (10, 10)),
                "release" | "R" => (Op::Release, (10, 10)),
                _ => (Op::Since, (10, 10)),
            };
            if left < min_power {
                break;
            }
            let op_span = self.span(op);
            let word = op.as_str().to_string();
            *pos += 1;
            let mut window = None;
            if let Some(w) = tokens.get(*pos).filter(|t| t.as_rule() == Rule::ltl_window) {
                *pos += 1;
                window = Some(self.ltl_window(w.clone()));
                if !matches!(binop, Op::Until | Op::Release) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0001,
                            op_span,
                            format!("`{word}` does not take a window"),
                        )
                        .help(WINDOWED),
                    );
                    window = None;
                }
            }
            let rhs = self.ltl_pratt(tokens, pos, right);
            let span = lhs.span.to(rhs.span);
            lhs = Ltl {
                kind: LtlKind::Binary {
                    op: binop,
                    window,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        lhs
    }

    /// `[lo, hi]` after a temporal operator: whole numbers of steps, `lo ≤ hi`.
    fn ltl_window(&mut self, w: Pair<Rule>) -> (u32, u32) {
        let wspan = self.span(&w);
        let bounds: Vec<Option<u32>> = w
            .into_inner()
            .map(|n| n.as_str().replace('_', "").parse::<u32>().ok())
            .collect();
        match bounds.as_slice() {
            [Some(lo), Some(hi)] if lo <= hi && *hi < reward_runtime::ltl::UNBOUNDED => (*lo, *hi),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0001,
                        wspan,
                        "a window is `[lo, hi]` with whole numbers of steps, lo ≤ hi",
                    )
                    .help("for example `eventually[0, 50](at_goal)`: within the next 50 steps"),
                );
                (0, 0)
            }
        }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        let tokens: Vec<Pair<Rule>> = pair.into_inner().collect();
        let mut pos = 0;
        let e = self.pratt(&tokens, &mut pos, 0);
        if expr_depth_exceeded(&e) {
            return self.too_deep(e.span);
        }
        e
    }

    /// Pratt parsing over the flat token sequence the grammar produces for an expression.
    fn pratt(&mut self, tokens: &[Pair<Rule>], pos: &mut usize, min_power: u8) -> Expr {
        self.depth += 1;
        let e = if self.depth > MAX_EXPR_DEPTH {
            let span = self.span(&tokens[*pos]);
            *pos = tokens.len();
            self.too_deep(span)
        } else {
            self.pratt_inner(tokens, pos, min_power)
        };
        self.depth -= 1;
        e
    }

    fn pratt_inner(&mut self, tokens: &[Pair<Rule>], pos: &mut usize, min_power: u8) -> Expr {
        let first = tokens[*pos].clone();
        *pos += 1;
        let mut lhs = match first.as_rule() {
            // The smallest int, -9223372036854775808, is only writable as a negative literal:
            // its digits alone do not fit.
            Rule::op_neg
                if tokens.get(*pos).is_some_and(|t| {
                    t.as_rule() == Rule::number
                        && t.as_str().replace('_', "") == "9223372036854775808"
                }) =>
            {
                let number = &tokens[*pos];
                *pos += 1;
                Expr {
                    span: self.span(&first).to(self.span(number)),
                    kind: ExprKind::Int(i64::MIN),
                }
            }
            Rule::op_not | Rule::op_neg => {
                let (op, power) = if first.as_rule() == Rule::op_not {
                    (UnaryOp::Not, NOT_POWER)
                } else {
                    (UnaryOp::Neg, NEG_POWER)
                };
                let rhs = self.pratt(tokens, pos, power);
                Expr {
                    span: self.span(&first).to(rhs.span),
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                }
            }
            _ => self.primary(first),
        };
        while let Some(op) = tokens.get(*pos) {
            match op.as_rule() {
                Rule::field_access => {
                    let span = lhs.span.to(self.span(op));
                    let name = self.ident(op.clone().into_inner().next().expect("field name"));
                    lhs = Expr {
                        kind: ExprKind::Field(Box::new(lhs), name),
                        span,
                    };
                    *pos += 1;
                }
                Rule::index => {
                    let span = lhs.span.to(self.span(op));
                    let index = self.expr(op.clone().into_inner().next().expect("index expr"));
                    lhs = Expr {
                        kind: ExprKind::Index(Box::new(lhs), Box::new(index)),
                        span,
                    };
                    *pos += 1;
                }
                rule => {
                    let Some((left, right)) = infix_power(rule) else {
                        break;
                    };
                    if left < min_power {
                        break;
                    }
                    let op_span = self.span(op);
                    *pos += 1;
                    let rhs = self.pratt(tokens, pos, right);
                    let op = binary_op(rule);
                    if op.is_comparison() && self.check_chained(op, &lhs, &rhs, op_span) {
                        // Reported; checking the chain's types would only add a confusing error.
                        let span = lhs.span.to(rhs.span);
                        lhs = Expr {
                            kind: ExprKind::Error,
                            span,
                        };
                        continue;
                    }
                    let span = lhs.span.to(rhs.span);
                    lhs = Expr {
                        kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                        span,
                    };
                }
            }
        }
        lhs
    }

    fn check_chained(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, op_span: Span) -> bool {
        let mut chained = false;
        for side in [lhs, rhs] {
            if let ExprKind::Binary(inner, ..) = &side.kind {
                if inner.is_comparison() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0017,
                            op_span,
                            format!(
                                "comparison operators cannot be chained: `{}` after `{}`",
                                op.symbol(),
                                inner.symbol()
                            ),
                        )
                        .label("second comparison here")
                        .help("write `a < b and b < c`, or add parentheses to say what you mean"),
                    );
                    chained = true;
                }
            }
        }
        chained
    }

    fn too_deep(&mut self, span: Span) -> Expr {
        // One report per item: the enclosing levels are the same problem.
        if !self.too_deep_reported {
            self.too_deep_reported = true;
            let point = Span {
                end: span.start + 1,
                ..span
            };
            self.diags.push(
                Diagnostic::new(
                    Code::E0023,
                    point,
                    format!("expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
                )
                .label("the nesting limit is reached here")
                .help("name intermediate values with `let` to split the expression"),
            );
        }
        Expr {
            kind: ExprKind::Error,
            span,
        }
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::if_expr => {
                let mut inner = pair.into_inner().filter(|p| p.as_rule() == Rule::expr);
                let c = self.expr(inner.next().expect("condition"));
                let a = self.expr(inner.next().expect("then branch"));
                let b = self.expr(inner.next().expect("else branch"));
                ExprKind::If(Box::new(c), Box::new(a), Box::new(b))
            }
            Rule::paren => ExprKind::Paren(Box::new(
                self.expr(pair.into_inner().next().expect("inner")),
            )),
            Rule::list_lit => {
                let mut inner = pair.into_inner().peekable();
                match inner.peek().map(Pair::as_rule) {
                    // `[for x in xs if c: f(x)]` builds a list.
                    Some(Rule::comprehension) => ExprKind::Aggregate {
                        callee: Ident {
                            name: "list".into(),
                            span,
                        },
                        comp: Box::new(self.comprehension(inner.next().expect("peeked"))),
                    },
                    _ => ExprKind::List(inner.map(|p| self.expr(p)).collect()),
                }
            }
            Rule::record_lit => ExprKind::Record(
                pair.into_inner()
                    .map(|f| {
                        let mut parts = f.into_inner();
                        let name = self.ident(parts.next().expect("field name"));
                        let value = self.expr(parts.next().expect("field value"));
                        (name, value)
                    })
                    .collect(),
            ),
            Rule::number => self.number(pair.as_str(), span),
            Rule::string => ExprKind::Text(self.string(pair)),
            Rule::regex => {
                let mut inner = pair.into_inner();
                let pattern = inner.next().map_or("", |p| p.as_str()).to_string();
                let flags = inner.next().map_or("", |p| p.as_str()).to_string();
                ExprKind::Regex { pattern, flags }
            }
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_none => ExprKind::None,
            Rule::kw_input => ExprKind::Name(Ident {
                name: "input".into(),
                span,
            }),
            Rule::call => {
                let mut inner = pair.into_inner();
                let callee = self.ident(inner.next().expect("callee"));
                match inner.next() {
                    None => ExprKind::Call {
                        callee,
                        args: Vec::new(),
                    },
                    Some(args) if args.as_rule() == Rule::call_args => ExprKind::Call {
                        callee,
                        args: args.into_inner().map(|a| self.expr(a)).collect(),
                    },
                    Some(comp) => ExprKind::Aggregate {
                        callee,
                        comp: Box::new(self.comprehension(comp)),
                    },
                }
            }
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::expr => return self.expr(pair),
            _ => ExprKind::Error,
        };
        Expr { kind, span }
    }

    fn comprehension(&mut self, pair: Pair<Rule>) -> Comprehension {
        let mut var = None;
        let mut iter = None;
        let mut filter = None;
        let mut body = None;
        let mut after_if = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => var = Some(self.ident(p)),
                Rule::kw_if => after_if = true,
                Rule::expr if iter.is_none() => iter = Some(self.expr(p)),
                Rule::expr if after_if && filter.is_none() => filter = Some(self.expr(p)),
                Rule::expr => body = Some(self.expr(p)),
                _ => {}
            }
        }
        Comprehension {
            var: var.expect("loop variable"),
            iter: iter.expect("iterable"),
            filter,
            body,
        }
    }

    fn number(&mut self, text: &str, span: Span) -> ExprKind {
        let clean: String = text.chars().filter(|c| *c != '_').collect();
        let is_float = clean.contains(['.', 'e', 'E']);
        if is_float {
            match clean.parse::<f64>() {
                Ok(x) if x.is_finite() => ExprKind::Float(x),
                _ => {
                    self.diags.push(
                        Diagnostic::new(Code::E0011, span, "float literal is out of range")
                            .label("this does not fit in a 64-bit float")
                            .help("the largest finite float is about 1.8e308"),
                    );
                    ExprKind::Error
                }
            }
        } else {
            match clean.parse::<i64>() {
                Ok(i) => ExprKind::Int(i),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::new(Code::E0011, span, "integer literal is out of range")
                            .label("this does not fit in a 64-bit integer")
                            .help("integers range from -9223372036854775808 to 9223372036854775807; write a float such as `1e30` for larger magnitudes"),
                    );
                    ExprKind::Error
                }
            }
        }
    }
}

/// Long operator chains build deep trees without deep parse trees; measure the result.
fn expr_depth_exceeded(e: &Expr) -> bool {
    fn depth(e: &Expr, budget: usize) -> bool {
        if budget == 0 {
            return true;
        }
        match &e.kind {
            ExprKind::Binary(_, a, b) => depth(a, budget - 1) || depth(b, budget - 1),
            ExprKind::Unary(_, a) | ExprKind::Field(a, _) | ExprKind::Paren(a) => {
                depth(a, budget - 1)
            }
            ExprKind::Index(a, b) => depth(a, budget - 1) || depth(b, budget - 1),
            _ => false,
        }
    }
    depth(e, MAX_EXPR_DEPTH)
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_not_in => BinaryOp::NotIn,
        Rule::op_match => BinaryOp::Match,
        Rule::op_coalesce => BinaryOp::Coalesce,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        _ => BinaryOp::Rem,
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('u') => {
                let rest: String = chars.clone().collect();
                let Some(body) = rest.strip_prefix('{').and_then(|r| r.split_once('}')) else {
                    return Err("invalid unicode escape: expected `\\u{…}`".into());
                };
                let code = u32::from_str_radix(body.0, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("`\\u{{{}}}` is not a Unicode scalar value", body.0))?;
                out.push(code);
                for _ in 0..body.0.chars().count() + 2 {
                    chars.next();
                }
            }
            Some(other) => return Err(format!("unknown escape `\\{other}` in string")),
            None => return Err("string ends with a lone backslash".into()),
        }
    }
    Ok(out)
}
