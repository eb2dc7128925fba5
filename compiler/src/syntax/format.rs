//! `reward fmt`: one canonical layout for a spec, comments kept.
//!
//! The formatter rewrites whitespace only; every token (and so the meaning) is kept. It works
//! on the token stream, with the parse tree telling it what each token is for:
//! - every top-level item and every line of a block (`input` fields, criteria, machine lines,
//!   test lines, `group by` terms) starts a line, and blocks close on their own line;
//! - the user's other line breaks are kept (at most one blank line in a row), as gofmt keeps
//!   them: breaking a long expression is the writer's choice, indenting it is not;
//! - indentation is four spaces per open bracket or block (several brackets opened on one line
//!   count once), plus four for a line that continues an item or an element;
//! - spacing within a line follows the token's role (a unary `-` is tight, a binary one is
//!   spaced; a call's `(` and an index's `[` are tight);
//! - trailing comments on consecutive lines are aligned.
//!
//! Strings, regexes and numbers are copied byte for byte, so a triple-quoted string keeps its
//! lines. Formatting is idempotent: the output's own line breaks are the ones it was given.

use std::collections::{HashMap, HashSet};

use pest::iterators::Pair;
use pest::Parser;

use super::parse::{parse_module, RewardParser, Rule};
use crate::diag::{Code, Diagnostic, FileId, Span};

/// Formats a spec's text. A text with syntax errors is not formatted: its diagnostics are
/// returned instead.
pub fn format_source(file: FileId, src: &str) -> Result<String, Vec<Diagnostic>> {
    let (_, diags) = parse_module(file, src);
    if !diags.is_empty() {
        return Err(diags);
    }
    let tree = RewardParser::parse(Rule::file, src).map_err(|_| {
        vec![Diagnostic::new(
            Code::E0001,
            Span::new(file, 0, 0),
            "this file could not be parsed as a whole",
        )]
    })?;
    let mut roles = Roles::default();
    for pair in tree {
        roles.collect(pair);
    }
    let tokens = lex(src, &roles);
    Ok(Printer::new(&tokens, &roles).print())
}

/// What the parse tree says about token positions (byte offsets of the source).
#[derive(Default)]
struct Roles {
    /// Strings, regexes and numbers: start → end, copied verbatim.
    opaque: HashMap<usize, usize>,
    /// Tokens that start a line: items and the lines of blocks.
    line_start: HashSet<usize>,
    /// Whether a line-starting token begins a top-level item (blank lines kept before it).
    item_start: HashSet<usize>,
    /// Fields of records and record types, whose commas are optional: a line that starts
    /// with one is an element of its braces, not a continuation.
    field: HashSet<usize>,
    /// The closing `}` of a block (`input`, `rubric`, `machine`, `test`, `group by`).
    block_close: HashSet<usize>,
    /// The closing `}` of a test's `given { … }` record, written with inner spaces; other
    /// records, record types and import sets are written `{a: 1}`.
    spaced_braces_close: HashSet<usize>,
    /// Unary operators (`-x`, `!p`, the sign of a criterion's weight).
    unary: HashSet<usize>,
    /// Names followed by a tight `(`: callees, function and potential names.
    callee: HashSet<usize>,
    /// `[` that belongs to what precedes it: an index, `list[…]`, an LTL window.
    tight_bracket: HashSet<usize>,
    /// Starts of `list[…]` types, whose `[` follows the word `list`.
    list_type: HashSet<usize>,
    /// Machine edges, and the `when` and `reward` keywords of their clauses, which line up in
    /// columns over consecutive edges: a machine reads as a table.
    edge: HashSet<usize>,
    edge_clause: HashSet<usize>,
    /// Binary operators: a line that starts with one continues the operand above it.
    binary: HashSet<usize>,
    /// The `else` of an `if … then … else …`, to the `if` it belongs to.
    else_of: HashMap<usize, usize>,
    /// The `then` and the `else` of an `if`, to the `if`: a branch that starts on its own
    /// line goes one step in from where the `else` goes.
    branch_of: HashMap<usize, usize>,
}

impl Roles {
    /// Walks the tree without recursion (the parser bounds its depth, but a loop costs nothing).
    fn collect(&mut self, root: Pair<'_, Rule>) {
        let mut stack = vec![(root, None::<Rule>)];
        while let Some((pair, parent)) = stack.pop() {
            let (start, end) = (pair.as_span().start(), pair.as_span().end());
            let rule = pair.as_rule();
            match rule {
                Rule::string | Rule::regex | Rule::number | Rule::probe_family => {
                    self.opaque.insert(start, end);
                    continue;
                }
                Rule::op_neg | Rule::sign => {
                    self.unary.insert(start);
                }
                Rule::ltl_unary if pair.as_str() == "!" => {
                    self.unary.insert(start);
                }
                Rule::index => {
                    self.tight_bracket.insert(start);
                }
                Rule::list_ty => {
                    self.list_type.insert(start);
                }
                Rule::call => {
                    self.callee.insert(start);
                }
                Rule::record_lit if parent == Some(Rule::test_given) => {
                    self.spaced_braces_close.insert(end - 1);
                }
                Rule::ltl_unary if pair.as_str() != "not" => {
                    // `always(safe)`, like a call; `not (a)` as in expressions.
                    self.callee.insert(start);
                }
                Rule::ltl_window => {
                    self.tight_bracket.insert(start);
                    // `eventually[0, 20](goal)`: the window's `]` is followed tightly too.
                    self.callee.insert(end - 1);
                }
                Rule::op_or
                | Rule::op_and
                | Rule::op_in
                | Rule::op_not_in
                | Rule::op_eq
                | Rule::op_ne
                | Rule::op_le
                | Rule::op_ge
                | Rule::op_lt
                | Rule::op_gt
                | Rule::op_match
                | Rule::op_coalesce
                | Rule::op_add
                | Rule::op_sub
                | Rule::op_mul
                | Rule::op_div
                | Rule::op_rem
                | Rule::ltl_infix => {
                    self.binary.insert(start);
                }
                Rule::field_decl | Rule::record_field => {
                    self.field.insert(start);
                }
                Rule::machine_edge => {
                    self.edge.insert(start);
                }
                Rule::kw_when | Rule::kw_reward if parent == Some(Rule::machine_edge) => {
                    self.edge_clause.insert(start);
                }
                Rule::input_decl
                | Rule::rubric_decl
                | Rule::machine_decl
                | Rule::test_decl
                | Rule::group_decl => {
                    self.block_close.insert(end - 1);
                }
                _ => {}
            }
            let is_line = match (parent, rule) {
                (Some(Rule::file), Rule::EOI) => false,
                (Some(Rule::file), _) => {
                    self.item_start.insert(start);
                    true
                }
                (Some(Rule::input_decl), Rule::field_decl)
                | (Some(Rule::group_decl), Rule::let_decl | Rule::score_decl) => true,
                (
                    _,
                    Rule::criterion
                    | Rule::machine_start
                    | Rule::machine_terminal
                    | Rule::machine_edge
                    | Rule::test_param
                    | Rule::test_given
                    | Rule::test_expect,
                ) => true,
                _ => false,
            };
            if is_line {
                self.line_start.insert(start);
            }
            let children: Vec<_> = pair.into_inner().collect();
            if rule == Rule::if_expr {
                let keyword = |k: Rule| children.iter().find(|c| c.as_rule() == k);
                if let Some(k_if) = keyword(Rule::kw_if) {
                    let at = k_if.as_span().start();
                    for branch in [Rule::kw_then, Rule::kw_else] {
                        if let Some(k) = keyword(branch) {
                            self.branch_of.insert(k.as_span().start(), at);
                        }
                    }
                    if let Some(k_else) = keyword(Rule::kw_else) {
                        self.else_of.insert(k_else.as_span().start(), at);
                    }
                }
            }
            if matches!(rule, Rule::fn_decl | Rule::shape_decl) {
                // `fn name(`, `shape m potential(`: the name just before the `(`.
                let names = children.iter().filter(|c| c.as_rule() == Rule::ident);
                let callee = if rule == Rule::fn_decl {
                    names.take(1).last()
                } else {
                    names.take(2).last()
                };
                if let Some(name) = callee {
                    self.callee.insert(name.as_span().start());
                }
            }
            for child in children.into_iter().rev() {
                stack.push((child, Some(rule)));
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Word,
    Punct,
    Opaque,
    LineComment,
    BlockComment,
}

#[derive(Debug)]
struct Token<'s> {
    text: &'s str,
    start: usize,
    kind: Kind,
    /// Newlines in the whitespace just before the token.
    newlines_before: usize,
    /// For an opening bracket, the index of its closing one, and the other way round.
    partner: Option<usize>,
}

impl Token<'_> {
    fn is(&self, text: &str) -> bool {
        self.kind == Kind::Punct && self.text == text
    }

    fn opens(&self) -> bool {
        self.kind == Kind::Punct && matches!(self.text, "(" | "[" | "{")
    }

    fn closes(&self) -> bool {
        self.kind == Kind::Punct && matches!(self.text, ")" | "]" | "}")
    }
}

const MULTI_CHAR_PUNCT: &[&str] = &["<->", "->", "::", "==", "!=", "<=", ">=", "??", "&&", "||"];

/// Splits a text that parsed into tokens and comments. Strings, regexes and numbers come from
/// the parse tree, so a `/` is a regex or a division as the parser decided.
fn lex<'s>(src: &'s str, roles: &Roles) -> Vec<Token<'s>> {
    let bytes = src.as_bytes();
    let mut tokens: Vec<Token<'s>> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut newlines = 0;
    let mut i = 0;
    while i < src.len() {
        let c = bytes[i];
        if c == b'\n' {
            newlines += 1;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            continue;
        }
        let (end, kind) = if let Some(&end) = roles.opaque.get(&i) {
            (end, Kind::Opaque)
        } else if src[i..].starts_with("//") {
            // Trailing spaces are not part of the comment's text.
            let line_end = src[i..].find('\n').map_or(src.len(), |n| i + n);
            (i + src[i..line_end].trim_end().len(), Kind::LineComment)
        } else if src[i..].starts_with("/*") {
            (
                src[i + 2..].find("*/").map_or(src.len(), |n| i + 2 + n + 2),
                Kind::BlockComment,
            )
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let len = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            (i + len, Kind::Word)
        } else if let Some(p) = MULTI_CHAR_PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            (i + p.len(), Kind::Punct)
        } else {
            let len = src[i..].chars().next().map_or(1, char::len_utf8);
            (i + len, Kind::Punct)
        };
        let mut token = Token {
            text: &src[i..end],
            start: i,
            kind,
            newlines_before: newlines,
            partner: None,
        };
        let index = tokens.len();
        if token.opens() {
            open.push(index);
        } else if token.closes() {
            if let Some(opener) = open.pop() {
                tokens[opener].partner = Some(index);
                token.partner = Some(opener);
            }
        }
        tokens.push(token);
        newlines = 0;
        i = end;
    }
    tokens
}

/// One output line before trailing comments are aligned.
struct Line {
    indent: usize,
    code: String,
    comment: Option<String>,
    blank_before: bool,
    /// A machine edge: where in `code` its `when` and `reward` clauses start.
    edge: Option<Vec<usize>>,
}

impl Line {
    /// Width of the code in characters, or `None` when a token spans lines (a triple-quoted
    /// string), which keeps the line out of comment alignment.
    fn width(&self) -> Option<usize> {
        (!self.code.contains('\n')).then(|| self.indent + self.code.chars().count())
    }
}

/// An open bracket while printing: the indentation of the line it opened on.
struct Open {
    base: usize,
    block: bool,
}

struct Printer<'t, 's> {
    tokens: &'t [Token<'s>],
    roles: &'t Roles,
    lines: Vec<Line>,
    open: Vec<Open>,
    /// Comments on lines of their own, printed once the next token's indentation is known.
    pending: Vec<(&'s str, bool)>,
    /// Index of the last code token printed.
    prev: Option<usize>,
    /// The next token must start a line (after a line comment or a block's `{`).
    break_next: bool,
    /// Per bracket depth, the last line started at that depth: its indentation and whether it
    /// continues an expression (starts with an operand or a binary operator) rather than
    /// opening a statement (an item, a block line, `if`, `then`, `else`).
    depth_lines: Vec<Option<(usize, bool)>>,
    /// Where the `else` of each `if` goes: the `if`'s line, one step in when the `if` is not
    /// the first word of its line (`let x = if …`).
    if_indent: HashMap<usize, usize>,
}

const INDENT: usize = 4;

impl<'t, 's> Printer<'t, 's> {
    fn new(tokens: &'t [Token<'s>], roles: &'t Roles) -> Self {
        Printer {
            tokens,
            roles,
            lines: Vec::new(),
            open: Vec::new(),
            pending: Vec::new(),
            prev: None,
            break_next: false,
            depth_lines: Vec::new(),
            if_indent: HashMap::new(),
        }
    }

    fn print(mut self) -> String {
        for index in 0..self.tokens.len() {
            let token = &self.tokens[index];
            match token.kind {
                Kind::LineComment => self.comment(token, true),
                Kind::BlockComment => self.comment(token, false),
                _ => self.code(index),
            }
        }
        let indent = self.open.last().map_or(0, |o| o.base + INDENT);
        self.flush_pending(indent);
        self.render()
    }

    fn comment(&mut self, token: &Token<'s>, ends_line: bool) {
        let trailing = token.newlines_before == 0 && self.pending.is_empty();
        match self.lines.last_mut() {
            Some(line) if trailing && line.comment.is_none() => {
                if ends_line {
                    line.comment = Some(token.text.to_string());
                } else {
                    line.code.push(' ');
                    line.code.push_str(token.text);
                }
            }
            _ => {
                let blank = token.newlines_before >= 2
                    && !(self.lines.is_empty() && self.pending.is_empty());
                self.pending.push((token.text, blank));
            }
        }
        if ends_line {
            self.break_next = true;
        }
    }

    fn code(&mut self, index: usize) {
        let token = &self.tokens[index];
        let closing = token.closes().then(|| self.open.pop()).flatten();
        let starts_line = self.break_next
            || !self.pending.is_empty()
            || self.lines.is_empty()
            || token.newlines_before > 0
            || self.lines.last().is_some_and(|l| l.comment.is_some())
            || self.roles.line_start.contains(&token.start)
            || (token.is("}")
                && self.roles.block_close.contains(&token.start)
                && token.partner != self.prev);
        if starts_line {
            let indent = match &closing {
                Some(opener) => opener.base,
                None => self.indent_of(index),
            };
            let inside = closing.as_ref().map_or(indent, |o| o.base + INDENT);
            self.flush_pending(inside);
            let after_opener = self.prev.is_some_and(|p| self.tokens[p].opens());
            let blank = token.newlines_before >= 2
                && !self.lines.is_empty()
                && !after_opener
                && closing.is_none();
            let edge = self.roles.edge.contains(&token.start).then(Vec::new);
            let depth = self.open.len();
            self.depth_lines.truncate(depth + 1);
            self.depth_lines.resize(depth + 1, None);
            let opens_statement = self.roles.line_start.contains(&token.start)
                || (token.kind == Kind::Word && matches!(token.text, "if" | "then" | "else"));
            self.depth_lines[depth] = Some((indent, !opens_statement));
            self.lines.push(Line {
                indent,
                code: token.text.to_string(),
                comment: None,
                blank_before: blank,
                edge,
            });
        } else {
            let space = self.prev.is_some_and(|p| self.space_between(p, index));
            let Some(line) = self.lines.last_mut() else {
                return;
            };
            if space {
                line.code.push(' ');
            }
            if self.roles.edge_clause.contains(&token.start) {
                if let Some(clauses) = &mut line.edge {
                    clauses.push(line.code.len());
                }
            }
            line.code.push_str(token.text);
        }
        self.break_next = false;
        if self.roles.else_of.values().any(|&i| i == token.start) {
            if let Some(line) = self.lines.last() {
                let first = line.code == token.text || line.code == "else if";
                let indent = line.indent + if first { 0 } else { INDENT };
                self.if_indent.insert(token.start, indent);
            }
        }
        if token.opens() {
            let block = token.partner.is_some_and(|close| {
                let close = &self.tokens[close];
                close.is("}") && self.roles.block_close.contains(&close.start)
            });
            let base = self.lines.last().map_or(0, |l| l.indent);
            self.open.push(Open { base, block });
            // A block's lines start on lines of their own; an empty block stays `{}`.
            self.break_next = block && token.partner != Some(index + 1);
        }
        self.prev = Some(index);
    }

    /// Indentation of a line that starts with the (non-closing) token `index`.
    fn indent_of(&self, index: usize) -> usize {
        let token = &self.tokens[index];
        let starts_element = self.roles.line_start.contains(&token.start);
        if let Some(indent) = self
            .roles
            .else_of
            .get(&token.start)
            .and_then(|i| self.if_indent.get(i))
        {
            return *indent;
        }
        let previous_line = self.depth_lines.get(self.open.len()).copied().flatten();
        // `a\nand b` keeps the operands in one column; `let x = a\n+ b` steps in.
        if let (false, true, Some((indent, continues))) = (
            starts_element,
            self.roles.binary.contains(&token.start),
            previous_line,
        ) {
            return if continues { indent } else { indent + INDENT };
        }
        let branch_if = self
            .prev
            .and_then(|p| self.roles.branch_of.get(&self.tokens[p].start));
        if let Some(indent) = branch_if.and_then(|i| self.if_indent.get(i)) {
            return indent + INDENT;
        }
        let Some(top) = self.open.last() else {
            return if starts_element || self.prev.is_none() {
                0
            } else {
                INDENT
            };
        };
        let inner = top.base + INDENT;
        let after_separator = self
            .prev
            .is_some_and(|p| self.tokens[p].opens() || self.tokens[p].is(","));
        let continues = if top.block {
            !starts_element && !self.prev.is_some_and(|p| self.tokens[p].opens())
        } else {
            !after_separator && !self.roles.field.contains(&token.start)
        };
        if continues {
            inner + INDENT
        } else {
            inner
        }
    }

    fn flush_pending(&mut self, indent: usize) {
        for (text, blank) in std::mem::take(&mut self.pending) {
            let after_opener = self.prev.is_some_and(|p| self.tokens[p].opens())
                && self.lines.last().is_some_and(|l| l.comment.is_none());
            self.lines.push(Line {
                indent,
                code: text.to_string(),
                comment: None,
                blank_before: blank && !after_opener,
                edge: None,
            });
        }
    }

    fn space_between(&self, prev: usize, next: usize) -> bool {
        let (a, b) = (&self.tokens[prev], &self.tokens[next]);
        let spaced_braces = |t: &Token<'_>| {
            let close = if t.is("}") {
                Some(t.start)
            } else {
                t.partner.map(|c| self.tokens[c].start)
            };
            close.is_some_and(|c| {
                self.roles.spaced_braces_close.contains(&c) || self.roles.block_close.contains(&c)
            })
        };
        if b.is("}") {
            return !a.is("{") && spaced_braces(b);
        }
        if a.is("{") {
            return spaced_braces(a);
        }
        if b.is(")") || b.is("]") || b.is(",") || b.is(".") || b.is("?") || b.is(":") {
            return false;
        }
        if a.is("::") || b.is("::") || a.is("(") || a.is("[") || a.is(".") {
            return false;
        }
        if a.kind == Kind::Punct && self.roles.unary.contains(&a.start) {
            return false;
        }
        if b.is("(") {
            return !self.roles.callee.contains(&a.start);
        }
        if b.is("[") {
            let after_list = a.text == "list" && self.roles.list_type.contains(&a.start);
            return !(after_list || self.roles.tight_bracket.contains(&b.start));
        }
        true
    }

    fn render(mut self) -> String {
        align_machine_edges(&mut self.lines);
        align_trailing_comments(&mut self.lines);
        let mut out = String::new();
        for line in &self.lines {
            if line.blank_before {
                out.push('\n');
            }
            if !line.code.is_empty() {
                out.extend(std::iter::repeat_n(' ', line.indent));
            }
            out.push_str(&line.code);
            if let Some(comment) = &line.comment {
                out.push_str(comment);
            }
            out.push('\n');
        }
        out
    }
}

/// Lines up the `when` and `reward` clauses of consecutive one-line machine edges:
///
/// ```text
/// fetch -> carry         when coffee and not decoration
/// carry -> delivered     when office and not decoration  reward delivery_reward
/// fetch, carry -> broken when decoration                 reward decoration_penalty
/// ```
fn align_machine_edges(lines: &mut [Line]) {
    let one_line_edge = |lines: &[Line], i: usize| {
        lines[i].edge.is_some()
            && lines[i].width().is_some()
            && lines
                .get(i + 1)
                .is_none_or(|next| next.indent <= lines[i].indent)
    };
    let mut i = 0;
    while i < lines.len() {
        if !one_line_edge(lines, i) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < lines.len() && one_line_edge(lines, end) && !lines[end].blank_before {
            end += 1;
        }
        let cells: Vec<[String; 3]> = lines[i..end].iter().map(edge_cells).collect();
        let widths: [usize; 3] = std::array::from_fn(|k| {
            cells
                .iter()
                .map(|c| c[k].chars().count())
                .max()
                .unwrap_or(0)
        });
        for (line, cell) in lines[i..end].iter_mut().zip(&cells) {
            let last = (0..3).rev().find(|&k| !cell[k].is_empty()).unwrap_or(0);
            let mut code = String::new();
            for k in 0..=last {
                if k > 0 && widths[k - 1] > 0 {
                    code.push(' ');
                }
                code.push_str(&cell[k]);
                if k < last {
                    let pad = widths[k] - cell[k].chars().count();
                    code.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line.code = code;
        }
        i = end;
    }
}

/// An edge's text split into the transition, the `when` clause and the `reward` clause.
fn edge_cells(line: &Line) -> [String; 3] {
    let clauses = line.edge.as_deref().unwrap_or(&[]);
    let mut cells: [String; 3] = Default::default();
    let mut bounds: Vec<usize> = clauses.to_vec();
    bounds.push(line.code.len());
    cells[0] = line.code[..bounds[0]].trim_end().to_string();
    for pair in bounds.windows(2) {
        let text = &line.code[pair[0]..pair[1]];
        let slot = if text.starts_with("when") { 1 } else { 2 };
        cells[slot] = text.trim_end().to_string();
    }
    cells
}

/// Pads the code of consecutive lines with trailing comments so the comments start in one
/// column, two spaces after the longest code of the run.
fn align_trailing_comments(lines: &mut [Line]) {
    let mut i = 0;
    while i < lines.len() {
        let aligned = |l: &Line| l.comment.is_some() && l.width().is_some();
        if !aligned(&lines[i]) {
            if lines[i].comment.is_some() {
                lines[i].code.push_str("  ");
            }
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < lines.len() && aligned(&lines[end]) && !lines[end].blank_before {
            end += 1;
        }
        let column = lines[i..end]
            .iter()
            .filter_map(Line::width)
            .max()
            .unwrap_or(0)
            + 2;
        for line in &mut lines[i..end] {
            let width = line.width().unwrap_or(column);
            line.code.extend(std::iter::repeat_n(' ', column - width));
        }
        i = end;
    }
}
