//! Static findings: reward-hacking risks visible in a spec's own text, each at the place it comes
//! from — the half of `reward probe` that needs no rows.

use reward_runtime::builtins::BUILTINS;

use crate::diag::{FileId, SourceMap, Span};
use crate::ir::{Expr, ExprKind, Program};
use crate::probe::GOLD_COLUMNS;

/// One risk in the spec's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticFinding {
    /// A short stable name: `containment`, `dot-without-s`, `one-end-anchor`.
    pub kind: &'static str,
    pub message: String,
    /// Where (1-based line and column in the spec's file) and the text there.
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub snippet: String,
    pub help: &'static str,
}

/// The findings of the root file's terms (imported modules are not the spec's own text).
pub(crate) fn findings(program: &Program, sources: &SourceMap) -> Vec<StaticFinding> {
    let mut out = Vec::new();
    for term in &program.terms {
        let mut stack = vec![&term.body.expr];
        while let Some(e) = stack.pop() {
            if e.span.file == FileId(0) {
                check(e, program, sources, &mut out);
            }
            stack.extend(e.children());
        }
    }
    out.sort_by_key(|f| (f.line, f.column, f.kind));
    out.dedup();
    out
}

fn check(e: &Expr, program: &Program, sources: &SourceMap, out: &mut Vec<StaticFinding>) {
    let mut push = |kind, span: Span, message: String, help| {
        let (line, column) = sources.line_col(span);
        out.push(StaticFinding {
            kind,
            message,
            file: sources.name(span.file).to_string(),
            line,
            column,
            snippet: sources.snippet(span).to_string(),
            help,
        })
    };
    let contains_gold = match &e.kind {
        ExprKind::TextContains { needle, .. } => gold_column(needle),
        ExprKind::Call(id, args) if BUILTINS[*id].name == "contains" => {
            args.get(1).and_then(gold_column)
        }
        _ => None,
    };
    if let Some(column) = contains_gold {
        push(
            "containment",
            e.span,
            format!("the answer is compared with `{column}` by containment: any text that includes it passes, a list of candidates or `{{gold}}0` too"),
            "compare the extracted answer for equality (`math_equal(final_answer(completion), …)`, or `==` after `trim`)",
        );
    }
    if let ExprKind::Match(subject, id) = &e.kind {
        let re = &program.regexes[*id as usize];
        // Only a whole column (or what is extracted from one) can span lines; a line of it
        // cannot.
        let multiline = reads_column(subject);
        if multiline
            && dot_runs(&re.pattern)
            && !re.flags.contains('s')
            && !re.pattern.contains("(?s")
        {
            push(
                "dot-without-s",
                e.span,
                format!("`/{}/{}`: `.` does not match a newline, so a completion whose reasoning spans lines never matches", re.pattern, re.flags),
                "add the `s` flag (`/…/s`) so `.` crosses lines, or write `[\\s\\S]`",
            );
        }
        let body = without_leading_flags(&re.pattern);
        let start = body.starts_with('^') || body.starts_with("\\A");
        let end = (body.ends_with('$') && !body.ends_with("\\$")) || body.ends_with("\\z");
        if start != end {
            push(
                "one-end-anchor",
                e.span,
                format!("`/{}/{}` is anchored at one end only: anything may {} the part it checks (a second answer, a duplicated closing tag)", re.pattern, re.flags, if start { "follow" } else { "precede" }),
                "anchor both ends (`^…$`, or `\\A…\\z`), or say why the rest may be free",
            );
        }
    }
}

/// The pattern after its leading inline flag groups (`(?s)`, `(?i)`…).
fn without_leading_flags(mut pattern: &str) -> &str {
    while let Some(rest) = pattern.strip_prefix("(?") {
        match rest.find(')') {
            Some(close)
                if rest[..close]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '-') =>
            {
                pattern = &rest[close + 1..];
            }
            _ => break,
        }
    }
    pattern
}

/// Whether an expression is an input column, or what a builtin extracts from one (its first
/// argument), possibly with a default.
fn reads_column(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(inner, _) => matches!(inner.kind, ExprKind::Input),
        ExprKind::Call(_, args) => args.first().is_some_and(reads_column),
        ExprKind::Coalesce(a, _) | ExprKind::Some(a) => reads_column(a),
        _ => false,
    }
}

/// `.*`, `.+` or `.*?` outside a character class and not escaped.
fn dot_runs(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    let (mut i, mut in_class) = (0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'.' if !in_class && matches!(bytes.get(i + 1), Some(b'*' | b'+')) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// The gold-like input column an expression reads directly (possibly trimmed).
fn gold_column(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Field(inner, index) if matches!(inner.kind, ExprKind::Input) => {
            let reward_runtime::Ty::Record(fields) = &inner.ty else {
                return None;
            };
            let name: &str = &fields.get(*index)?.name;
            GOLD_COLUMNS.contains(&name).then_some(name)
        }
        ExprKind::Call(_, args) if args.len() == 1 => gold_column(&args[0]),
        _ => None,
    }
}
