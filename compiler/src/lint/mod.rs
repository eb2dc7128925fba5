//! Static findings: reward-hacking risks of a spec, each at the place in its own text it comes
//! from — the half of `reward probe` that needs no attack. Some are read from the syntax
//! (containment, regexes, what a correctness term compares); the others are decided by running
//! the terms on synthesized rows ([`evaluated`]).

mod evaluated;

pub(crate) use evaluated::reads_field;

use reward_runtime::builtins::{self, BUILTINS};

use crate::diag::{FileId, SourceMap, Span};
use crate::ir::{CmpOp, Expr, ExprKind, Program, Term, TermId};
use crate::probe::{COMPLETION_COLUMNS, GOLD_COLUMNS};

/// Every kind of static finding, with what it means (for `expect probe <kind> == safe`).
pub const KINDS: &[&str] = &[
    "containment",
    "dot-without-s",
    "one-end-anchor",
    "whole-completion-accuracy",
    "pays-on-empty",
    "several-answer-blocks",
    "max-without-correctness",
    "constant-term",
];

/// One risk in the spec's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticFinding {
    /// A short stable name, one of [`KINDS`].
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
/// `rows` (JSON objects) seed the evaluated findings with real columns and golds; with
/// `constant`, a term with one value on all of them (at least two) is a `constant-term`
/// finding (real rows only: a test's `given` records are chosen, not sampled).
pub(crate) fn findings(
    program: &Program,
    sources: &SourceMap,
    rows: &[serde_json::Value],
    constant: bool,
) -> Vec<StaticFinding> {
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
    if let Some(evaluator) = evaluated::Evaluator::new(program, sources, rows) {
        evaluator.findings(&mut out);
    }
    if constant {
        evaluated::constant_terms(program, sources, rows, &mut out);
    }
    out.sort_by_key(|f| (f.line, f.column, f.kind));
    out.dedup();
    out
}

/// A finding at `span`.
fn finding(
    sources: &SourceMap,
    kind: &'static str,
    span: Span,
    message: String,
    help: &'static str,
) -> StaticFinding {
    let (line, column) = sources.line_col(span);
    StaticFinding {
        kind,
        message,
        file: sources.name(span.file).to_string(),
        line,
        column,
        snippet: sources.snippet(span).to_string(),
        help,
    }
}

/// A term's declaration from its name to the end of its body (`accuracy = contains(…)`).
fn term_span(term: &Term) -> Span {
    let body = term.body.expr.span;
    if body.file == term.span.file && body.end > term.span.start {
        Span::new(term.span.file, term.span.start as usize, body.end as usize)
    } else {
        term.span
    }
}

/// The terms an expression reads directly, each once.
fn term_refs(e: &Expr, out: &mut Vec<TermId>) {
    if let ExprKind::Term(t) = e.kind {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    for c in e.children() {
        term_refs(c, out);
    }
}

fn check(e: &Expr, program: &Program, sources: &SourceMap, out: &mut Vec<StaticFinding>) {
    let mut push = |kind, span: Span, message: String, help| {
        out.push(finding(sources, kind, span, message, help));
    };
    if let Some((column, completion)) = whole_completion_comparison(e, program) {
        push(
            "whole-completion-accuracy",
            e.span,
            format!("`{column}` is compared with the whole `{completion}`, reasoning included: the gold stated anywhere in the reasoning can count, and a correct answer with reasoning around it can fail"),
            "compare with the extracted answer: `final_answer(completion)`, or `extract_tag(completion, \"answer\") ?? \"\"`",
        );
    }
    let contains_gold = match &e.kind {
        ExprKind::TextContains { needle, .. } => gold_column(needle),
        ExprKind::Call(id, args) if *id == builtins::id::CONTAINS => {
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

/// A comparison (`==`, `!=`, `in`, or a builtin of two texts such as `contains` or
/// `math_equal`) of a gold column with a whole completion column: (gold, completion).
fn whole_completion_comparison<'p>(e: &Expr, program: &'p Program) -> Option<(&'p str, &'p str)> {
    let operands: Vec<&Expr> = match &e.kind {
        ExprKind::Compare(CmpOp::Eq | CmpOp::Ne, a, b) => vec![a, b],
        ExprKind::TextContains { haystack, needle } => vec![haystack, needle],
        ExprKind::Call(id, args)
            if args.len() >= 2 && !evaluated::TRANSPARENT.contains(&BUILTINS[*id].name) =>
        {
            args.iter().collect()
        }
        _ => return None,
    };
    let reward_runtime::Ty::Record(fields) = program.input.as_ref()? else {
        return None;
    };
    let gold = operands.iter().find_map(|o| gold_column(o))?;
    let completion = fields.iter().enumerate().find_map(|(i, f)| {
        (COMPLETION_COLUMNS.contains(&&*f.name)
            && operands
                .iter()
                .any(|o| evaluated::reads_whole(program, o, i)))
        .then_some(&*f.name)
    })?;
    let gold = fields.iter().find(|f| &*f.name == gold).map(|f| &*f.name)?;
    Some((gold, completion))
}

#[cfg(test)]
mod tests {
    use crate::{compile, Options, Source};

    const HEADER: &str = "use std::text::{extract_tag}\nuse std::math::{math_equal}\n\
                          input { completion: text, solution: text }\n\
                          let block = extract_tag(completion, \"answer\") ?? \"\"\n";

    /// A format that allows exactly one answer block, both ends anchored, `.` across lines.
    const FORMAT: &str =
        "rule format = completion ~ /^<think>\\n.*?\\n<\\/think>\\n<answer>\\n[^<]*\\n<\\/answer>$/s\n";

    /// (kind, line, column, snippet) of each finding of `body` after the header.
    fn findings(
        body: &str,
        rows: &[serde_json::Value],
    ) -> Vec<(&'static str, usize, usize, String)> {
        let spec = compile(Source::text(format!("{HEADER}{body}")), &Options::default())
            .unwrap_or_else(|d| panic!("{d}"));
        spec.static_findings_with_rows(rows)
            .into_iter()
            .map(|f| (f.kind, f.line, f.column, f.snippet))
            .collect()
    }

    fn kinds(body: &str) -> Vec<&'static str> {
        findings(body, &[]).into_iter().map(|f| f.0).collect()
    }

    #[test]
    fn a_sound_spec_has_no_finding() {
        let body = format!(
            "{FORMAT}rule correct = format and math_equal(block, solution)\nscore = 0.8 * correct + 0.2 * format\n"
        );
        assert_eq!(findings(&body, &[]), []);
        // Real rows that differ: still nothing, and no term is constant.
        let rows = [
            serde_json::json!({"completion": "<think>\nx\n</think>\n<answer>\n4\n</answer>", "solution": "4"}),
            serde_json::json!({"completion": "no format", "solution": "5"}),
        ];
        assert_eq!(findings(&body, &rows), []);
    }

    #[test]
    fn gold_containing_the_answer_pays_on_empty_tags() {
        // Visual-RFT #176: `gold contains answer` holds for the empty answer.
        let found = findings(
            &format!("{FORMAT}rule accuracy = contains(solution, block)\nscore = accuracy + 0.1 * format\n"),
            &[],
        );
        assert!(
            found.contains(&(
                "pays-on-empty",
                6,
                6,
                "accuracy = contains(solution, block)".into()
            )),
            "{found:?}"
        );
    }

    #[test]
    fn a_brevity_bonus_pays_on_the_empty_completion() {
        let found = kinds(&format!(
            "{FORMAT}rule correct = format and math_equal(block, solution)\nrule short = len(completion) < 200\nscore = correct + 0.5 * short\n"
        ));
        assert_eq!(found, ["pays-on-empty"]);
        // A penalty that is true on the empty completion lowers the score: not a finding.
        let found = kinds(&format!(
            "{FORMAT}rule correct = format and math_equal(block, solution)\nrule short = len(completion) < 200\nscore = correct - 0.1 * short\n"
        ));
        assert_eq!(found, Vec::<&str>::new());
    }

    #[test]
    fn an_ungated_extraction_allows_several_answer_blocks_and_says_which_counts() {
        let found = findings(
            "rule accuracy = math_equal(block, solution)\nscore = accuracy\n",
            &[],
        );
        assert_eq!(
            found,
            [(
                "several-answer-blocks",
                4,
                13,
                "extract_tag(completion, \"answer\")".to_string()
            )]
        );
        let spec = compile(
            Source::text(format!(
                "{HEADER}rule accuracy = math_equal(block, solution)\nscore = accuracy\n"
            )),
            &Options::default(),
        )
        .unwrap();
        let message = &spec.static_findings()[0].message;
        assert!(message.contains("takes the first"), "{message}");
        // `final_answer` takes the last of several boxes.
        let spec = compile(
            Source::text(format!("{HEADER}use std::extract::{{final_answer}}\nrule accuracy = math_equal(final_answer(completion), solution)\nscore = accuracy\n")),
            &Options::default(),
        )
        .unwrap();
        let found = spec.static_findings();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].kind, found[0].snippet.as_str()),
            ("several-answer-blocks", "final_answer(completion)")
        );
        assert!(
            found[0].message.contains("takes the last"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn accuracy_against_the_whole_completion() {
        let found = findings(
            &format!("{FORMAT}rule accuracy = format and math_equal(completion, solution)\nscore = accuracy\n"),
            &[],
        );
        assert_eq!(
            found,
            [(
                "whole-completion-accuracy",
                6,
                28,
                "math_equal(completion, solution)".to_string()
            )]
        );
        assert!(
            kinds("rule accuracy = trim(completion) == trim(solution)\nscore = accuracy\n")
                .contains(&"whole-completion-accuracy")
        );
    }

    #[test]
    fn a_format_weight_that_outweighs_correctness() {
        let body = format!("{FORMAT}rule accuracy = format and math_equal(block, solution)\nscore = 2 * format + accuracy\n");
        let found = findings(&body, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0, found[0].1, found[0].2),
            ("max-without-correctness", 7, 1)
        );
        // Equal weights: format alone earns what a correct answer without format earns.
        assert_eq!(
            kinds(&format!("{FORMAT}rule accuracy = math_equal(block, solution) and format\nscore = format + accuracy\n")),
            ["max-without-correctness"]
        );
    }

    /// A group spec: the row's `score` ranked among its prompt's rollouts.
    fn ranked(rules: &str, score: &str) -> String {
        format!(
            "use std::text::{{extract_tag}}\n\
             input {{ prompt_id: text, completion: text, solution: text }}\n\
             let block = trim(extract_tag(completion, \"answer\") ?? \"\")\n\
             {rules}score = {score}\n\
             group by prompt_id {{\n    \
                 let rank_reward = if count(true) == 1 then 0.5\n        \
                     else (rank(score) - 1.0) / (count(true) - 1.0)\n    \
                 score = rank_reward\n}}\n"
        )
    }

    /// (kind, snippet) of each finding of `text` of kind `kind` (every kind for `""`).
    fn group_findings(
        text: &str,
        rows: &[serde_json::Value],
        kind: &str,
    ) -> Vec<(&'static str, String)> {
        let spec =
            compile(Source::text(text), &Options::default()).unwrap_or_else(|d| panic!("{d}"));
        spec.static_findings_with_rows(rows)
            .into_iter()
            .filter(|f| kind.is_empty() || f.kind == kind)
            .map(|f| (f.kind, f.snippet))
            .collect()
    }

    #[test]
    fn a_group_spec_whose_accuracy_holds_for_the_empty_answer_pays_on_empty() {
        // `gold contains answer` holds for an empty answer: beside a correct and a wrong
        // rollout, the empty completion ties the correct one (rank reward 0.75, not 0.25).
        let rules = "rule accuracy = contains(solution, block)\nrule exact = block == solution\n";
        let broken = group_findings(
            &ranked(rules, "accuracy + 0.0 * exact"),
            &[],
            "pays-on-empty",
        );
        assert_eq!(
            broken,
            [(
                "pays-on-empty",
                "accuracy = contains(solution, block)".to_string()
            )]
        );
        let spec = compile(
            Source::text(ranked(rules, "accuracy + 0.0 * exact")),
            &Options::default(),
        )
        .unwrap();
        let found = spec.static_findings();
        let message = &found
            .iter()
            .find(|f| f.kind == "pays-on-empty")
            .unwrap()
            .message;
        assert!(
            message.contains("on the empty completion and adds 0.5"),
            "{message}"
        );
        // Equality with the gold: an empty answer ties the wrong companion and is not paid for
        // being empty, though its rank reward (0.25) is above 0.
        let sound = "rule accuracy = block == solution and len(block) == len(solution)\n";
        assert_eq!(
            group_findings(&ranked(sound, "accuracy"), &[], "pays-on-empty"),
            []
        );
    }

    #[test]
    fn a_group_spec_ranks_a_formatted_wrong_answer_above_a_correct_unformatted_one() {
        let rules = "rule correct = block == solution\nrule formatted = completion ~ /<answer>/\n";
        let broken = group_findings(
            &ranked(rules, "0.3 * correct + 0.7 * formatted"),
            &[],
            "max-without-correctness",
        );
        assert_eq!(
            broken,
            [(
                "max-without-correctness",
                "score = 0.3 * correct + 0.7 * formatted".to_string()
            )]
        );
        let spec = compile(
            Source::text(ranked(rules, "0.3 * correct + 0.7 * formatted")),
            &Options::default(),
        )
        .unwrap();
        let found = spec.static_findings();
        let message = &found
            .iter()
            .find(|f| f.kind == "max-without-correctness")
            .unwrap()
            .message;
        assert!(
            message.contains("reaches 0.7 (formatted = true)")
                && message
                    .contains("the group's score gives it 0.25 against 0 for that correct answer"),
            "{message}"
        );
        let sound = group_findings(
            &ranked(rules, "0.8 * correct + 0.2 * formatted"),
            &[],
            "max-without-correctness",
        );
        assert_eq!(sound, []);
    }

    #[test]
    fn a_group_spec_with_two_answer_blocks_paid_and_a_group_let_constant_over_real_rows() {
        let rules = "rule correct = block == solution\n";
        let text = ranked(rules, "correct");
        assert_eq!(
            group_findings(&text, &[], ""),
            [(
                "several-answer-blocks",
                "extract_tag(completion, \"answer\")".to_string()
            )]
        );
        // Real rows, each prompt's rollouts all correct: the rank reward (a group `let`) is
        // the same everywhere, though it reads the completion through the rank.
        let rows: Vec<serde_json::Value> = [("p1", "4"), ("p1", "4"), ("p2", "5"), ("p2", "5")]
            .iter()
            .map(|(p, g)| serde_json::json!({"prompt_id": p, "completion": format!("<answer>{g}</answer>"), "solution": g}))
            .collect();
        let found = group_findings(&text, &rows, "");
        let constant: Vec<&str> = found
            .iter()
            .filter(|f| f.0 == "constant-term")
            .map(|f| f.1.as_str())
            .collect();
        assert!(
            constant.iter().any(|c| c.starts_with("rank_reward = ")),
            "{found:?}"
        );
    }

    #[test]
    fn a_term_constant_over_the_rows_given() {
        // `.` without `s`: the format never matches a completion whose reasoning spans lines.
        let body = "rule format = completion ~ /^<think>.*<\\/think>/\nrule correct = math_equal(block, solution)\nscore = 0.9 * correct + 0.1 * format\n";
        let rows: Vec<serde_json::Value> = [("4", "4"), ("5", "6"), ("6", "6")]
            .iter()
            .map(|(a, g)| serde_json::json!({"completion": format!("<think>\nstep\n</think>\n<answer>{a}</answer>"), "solution": g}))
            .collect();
        let found = findings(body, &rows);
        let constant: Vec<_> = found.iter().filter(|f| f.0 == "constant-term").collect();
        assert_eq!(constant.len(), 1, "{found:?}");
        assert_eq!(
            constant[0].3,
            "format = completion ~ /^<think>.*<\\/think>/"
        );
        // Without rows there is nothing to be constant over.
        assert!(!kinds(body).contains(&"constant-term"));
    }
}
