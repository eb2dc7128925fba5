//! `final_answer`: the answer a completion states, whatever its wrapper.
//!
//! Precedence, the first that applies:
//! 1. the last `<answer>…</answer>` block (its content is then read by the rules below);
//! 2. in the text after the last `</think>` (if it is a bare answer, that text; if it is
//!    closing prose that states nothing, the whole text is searched instead), else in the
//!    whole text, the first of:
//!    * the last `\boxed{…}`/`\fbox{…}` — together with the boxes just before it when only a
//!      comma, a semicolon, "and" or "or" (with spacing, `$` and `\text{}`) separates them
//!      (`\boxed{1} and \boxed{2}` is `1, 2`); a later "final answer is $…$" overrides it;
//!    * the statement after the last "answer is" or "answer:" (or after `A:` opening the last
//!      line, below lines of working: GSM8K's `…\nA: 18`) — a math span that starts it,
//!      else its sentence; in a sentence of prose, what follows its last " is " ("Final
//!      Answer: The largest $n$ is 34." is `34`), else the last value it states;
//!    * math spans: if the text is nothing but spans joined by separators, all of them
//!      (`$1$ and $2$` is `1, 2`); else the last span, or in prose the last number written
//!      after it;
//!    * in prose without math, the last number; otherwise the whole text.
//!
//! Math spans are `$$…$$`, `\[…\]` (which may cross lines), `$…$` and `\(…\)` (which may not:
//! a `$` whose partner is on another line is a dollar sign). `\$` is never a delimiter.
//!
//! Every step is linear in the length of the text (a bounded number of passes; at most
//! [`MAX_JOINED`] boxes are joined).

use std::sync::OnceLock;

use regex::Regex;

use super::extract::{matching_brace, tagged};
use super::search;

/// At most this many trailing boxes are joined into one answer.
const MAX_JOINED: usize = 16;
/// Longest separator (characters) between two boxes or spans that are joined.
const MAX_GAP: usize = 48;

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in pattern compiles"))
}

/// See the module documentation. The result is trimmed.
///
/// Time: O(n).
pub fn final_answer(s: &str) -> String {
    if let Some(a) = tagged(s, "answer").last() {
        return stated(a).unwrap_or_else(|| a.trim().to_owned());
    }
    if let Some(i) = search::rfind(s, "</think>") {
        let after = &s[i + "</think>".len()..];
        if !after.trim().is_empty() {
            if let Some(a) = stated(after) {
                return a;
            }
            // A bare answer after the reasoning; after closing remarks, the reasoning's own.
            if !is_prose(after, &math_spans(after)) {
                return after.trim().to_owned();
            }
        }
    }
    stated(s).unwrap_or_else(|| s.trim().to_owned())
}

/// The answer stated in `s`, if any rule but "the whole text" finds one.
fn stated(s: &str) -> Option<String> {
    if let Some((answer, end)) = boxed_answer(s) {
        if let Some(later) = statement_math(&s[end..]) {
            return Some(later);
        }
        return Some(answer);
    }
    if let Some(a) = statement(s) {
        return Some(a);
    }
    last_value(s)
}

/// The start of the last `\boxed`/`\fbox` in `s[..end]` that is not a longer control word.
fn last_box_start(s: &str, end: usize) -> Option<usize> {
    let mut best: Option<usize> = None;
    for name in ["\\boxed", "\\fbox"] {
        let mut stop = end;
        while let Some(i) = search::rfind(&s[..stop], name) {
            let longer = s[i + name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic());
            if !longer {
                best = best.max(Some(i));
                break;
            }
            stop = i;
        }
    }
    best
}

/// The braced argument of the box starting at `start`: its content and the index after `}`.
fn box_at(s: &str, start: usize) -> Option<(String, usize)> {
    let name_len = if s[start..].starts_with("\\boxed") {
        6
    } else {
        5
    };
    let after = start + name_len;
    let rest = &s[after..];
    let arg = rest.trim_start();
    let open = after + (rest.len() - arg.len());
    if arg.starts_with('{') {
        let close = matching_brace(s, open)?;
        return Some((s[open + 1..close].trim().to_owned(), close + 1));
    }
    if open > after && !arg.is_empty() && !arg.starts_with(['$', '}']) {
        let len = arg
            .find(|c: char| c == '$' || c.is_whitespace())
            .unwrap_or(arg.len());
        return Some((arg[..len].to_owned(), open + len));
    }
    None
}

/// Whether the text between two answers only separates them: nothing at all (`\boxed{1}\boxed{2}`),
/// or at most [`MAX_GAP`] characters that hold a comma, a semicolon, or the word "and" or "or"
/// (spacing, `$`, math delimiters and `\text{…}` wrappers aside), with at most three other
/// words and none of [`CONCLUSIONS`]. Answers separated by spaces alone, or by a step of
/// reasoning (`\boxed{3}, so the final is \boxed{5}`), are successive attempts: only the last
/// counts.
fn joins(gap: &str) -> bool {
    if gap.is_empty() {
        return true;
    }
    if gap.chars().count() > MAX_GAP {
        return false;
    }
    let mut g = gap.to_lowercase();
    for noise in [
        "\\qquad", "\\quad", "\\text", "\\mbox", "\\(", "\\)", "\\[", "\\]", "\\,", "\\;", "\\ ",
        "$", "{", "}",
    ] {
        g = g.replace(noise, " ");
    }
    let words: Vec<&str> = g
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let conjunction = |w: &&str| *w == "and" || *w == "or";
    // A short connective ("for part (a) and"), never a conclusion ("so the answer is").
    let others = words.iter().filter(|w| !conjunction(w)).count();
    let concludes = words.iter().any(|w| CONCLUSIONS.contains(w));
    (g.contains([',', ';']) || words.iter().any(conjunction)) && others <= 3 && !concludes
}

/// Words that make the text between two boxes a step of reasoning, not a list.
const CONCLUSIONS: &[&str] = &[
    "is",
    "are",
    "so",
    "thus",
    "hence",
    "therefore",
    "then",
    "final",
    "answer",
    "gives",
    "get",
    "equals",
    "becomes",
    "but",
    "not",
    "wait",
    "instead",
];

/// The last box, joined with the boxes before it that [`joins`] separate from it, and the
/// index after the last box.
fn boxed_answer(s: &str) -> Option<(String, usize)> {
    let last = last_box_start(s, s.len())?;
    let (content, end) = box_at(s, last)?;
    let mut parts = vec![content];
    let mut start = last;
    while parts.len() < MAX_JOINED {
        let Some(prev) = last_box_start(s, start) else {
            break;
        };
        match box_at(s, prev) {
            Some((c, e)) if e <= start && joins(&s[e..start]) => {
                parts.push(c);
                start = prev;
            }
            _ => break,
        }
    }
    parts.reverse();
    Some((parts.join(", "), end))
}

/// A math span: content range and whole range (delimiters included).
#[derive(Clone, Copy, Debug)]
struct Span {
    inner: (usize, usize),
    outer: (usize, usize),
}

/// All math spans of `s`, left to right, in one pass (see the module documentation).
fn math_spans(s: &str) -> Vec<Span> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    // Whether a closing `\]` / `\)` exists at or after a position is monotone: remember misses.
    let (mut no_close_bracket, mut no_close_dollars) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let close: Option<(&str, bool)> = match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'$')) => {
                i += 2;
                continue;
            }
            (b'\\', Some(b'[')) if !no_close_bracket => Some(("\\]", true)),
            (b'\\', Some(b'(')) => Some(("\\)", false)),
            (b'$', Some(b'$')) if !no_close_dollars => Some(("$$", true)),
            (b'$', _) => Some(("$", false)),
            _ => None,
        };
        let Some((closer, multiline)) = close else {
            i += 1;
            continue;
        };
        let open_len = if closer == "$" { 1 } else { 2 };
        let from = i + open_len;
        let found = find_closer(s, from, closer, multiline);
        match found {
            Some(j) => {
                spans.push(Span {
                    inner: (from, j),
                    outer: (i, j + closer.len()),
                });
                i = j + closer.len();
            }
            None => {
                no_close_bracket |= closer == "\\]";
                no_close_dollars |= closer == "$$";
                i = if multiline {
                    from
                } else {
                    // No partner on this line: skip to the end of the line.
                    s[from..].find('\n').map_or(b.len(), |k| from + k)
                };
            }
        }
    }
    spans
}

/// The next unescaped `closer` at or after `from` (on the same line unless `multiline`).
fn find_closer(s: &str, from: usize, closer: &str, multiline: bool) -> Option<usize> {
    let limit = if multiline {
        s.len()
    } else {
        s[from..].find('\n').map_or(s.len(), |k| from + k)
    };
    let b = s.as_bytes();
    let mut j = from;
    while j < limit {
        if b[j] == b'\\' && closer.starts_with('$') && b.get(j + 1) == Some(&b'$') {
            j += 2;
            continue;
        }
        if b[j..limit].starts_with(closer.as_bytes()) {
            return Some(j);
        }
        j += 1;
    }
    None
}

/// The last number written in `s` (digits with `,`/`.` groups, an optional `/d` and `%`).
fn last_number_in(s: &str) -> Option<(String, usize)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"-?[0-9]+(?:[.,][0-9]+)*(?:/[0-9]+)?%?");
    let m = re.find_iter(s).last()?;
    Some((m.as_str().to_owned(), m.start()))
}

/// Prose: at least three words (two or more letters, apostrophes allowed) outside math spans.
fn is_prose(s: &str, spans: &[Span]) -> bool {
    let mut words = 0;
    let mut from = 0;
    for range in spans
        .iter()
        .map(|sp| sp.outer)
        .chain(std::iter::once((s.len(), s.len())))
    {
        words += s[from..range.0]
            .split_whitespace()
            .filter(|w| {
                let w = w.trim_end_matches([',', '.', ';', ':', '!', '?']);
                w.len() >= 2
                    && w.chars().all(|c| c.is_ascii_alphabetic() || c == '\'')
                    && w.chars().filter(char::is_ascii_alphabetic).count() >= 2
            })
            .count();
        from = range.1;
    }
    words >= 3
}

/// The last value in `s`: all spans when the text is only spans and separators, else the last
/// span, or in prose a number written after it; in prose without spans, the last number.
fn last_value(s: &str) -> Option<String> {
    let spans: Vec<Span> = math_spans(s)
        .into_iter()
        .filter(|sp| !s[sp.inner.0..sp.inner.1].trim().is_empty())
        .collect();
    let text = |sp: &Span| s[sp.inner.0..sp.inner.1].trim().to_owned();
    if spans.len() >= 2 && spans.len() <= MAX_JOINED {
        let only_spans = s[..spans[0].outer.0].trim().is_empty()
            && s[spans[spans.len() - 1].outer.1..]
                .trim()
                .trim_end_matches('.')
                .is_empty()
            && spans
                .windows(2)
                .all(|w| joins(&s[w[0].outer.1..w[1].outer.0]));
        if only_spans {
            return Some(spans.iter().map(text).collect::<Vec<_>>().join(", "));
        }
    }
    let prose = is_prose(s, &spans);
    match spans.last() {
        Some(sp) => {
            let after = &s[sp.outer.1..];
            if prose {
                if let Some((n, _)) = last_number_in(after) {
                    return Some(n);
                }
            }
            Some(text(sp))
        }
        None if prose => last_number_in(s).map(|(n, _)| n),
        None => None,
    }
}

/// A math span that starts `rest` (after leading spaces), as the answer.
fn leading_math(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    let sp = math_spans(rest).into_iter().next()?;
    (sp.outer.0 == 0).then(|| rest[sp.inner.0..sp.inner.1].trim().to_owned())
}

/// After a box: a later "answer is $…$" (a statement written after the box wins).
fn statement_math(after: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?i)answer\s+is\s*:?");
    let m = re.find_iter(after).last()?;
    leading_math(&after[m.end()..]).filter(|a| !a.is_empty())
}

/// Where the answer of a last line labelled `A:` starts, when lines of working come before it
/// (the GSM8K authors' solutions end in `\nA: 18`, as do "Q: … A: …" completions); a text
/// of one line starting with `A:` is left alone (an option of a multiple choice).
fn qa_answer_start(s: &str) -> Option<usize> {
    let t = s.trim_end();
    let start = t.rfind('\n')? + 1;
    if t[..start].trim().is_empty() {
        return None;
    }
    let line = &t[start..];
    let label = line.trim_start();
    label
        .starts_with("A:")
        .then(|| start + (line.len() - label.len()) + 2)
}

/// The statement after the last "answer is" / "answer:", or after a last line's `A:` label
/// (see the module documentation).
fn statement(s: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?i)answer(?:\s+is\s*:?|\s*:)");
    let end = re
        .find_iter(s)
        .last()
        .map(|m| m.end())
        .max(qa_answer_start(s))?;
    let rest = s[end..].trim_start();
    if let Some(math) = leading_math(rest) {
        if !math.is_empty() {
            return Some(math);
        }
    }
    let line = rest.split('\n').next().unwrap_or("");
    let spans = math_spans(line);
    let mut k = 0;
    let mut sentence_end = line.len();
    for (i, c) in line.char_indices() {
        while k < spans.len() && spans[k].outer.1 <= i {
            k += 1;
        }
        let in_span = k < spans.len() && spans[k].outer.0 <= i;
        if c == '.' && !in_span && line[i + 1..].chars().next().is_none_or(char::is_whitespace) {
            sentence_end = i;
            break;
        }
    }
    let sentence = line[..sentence_end].trim();
    if sentence.is_empty() {
        return None;
    }
    if is_prose(sentence, &math_spans(sentence)) {
        // "The largest $n$ is 34": what follows the last " is ", unless that is prose too.
        if let Some(k) = sentence.rfind(" is ") {
            let tail = sentence[k + 4..].trim();
            if !tail.is_empty() && !is_prose(tail, &math_spans(tail)) {
                return Some(leading_math(tail).unwrap_or_else(|| tail.to_owned()));
            }
        }
        if let Some(v) = last_value(sentence) {
            return Some(v);
        }
    }
    Some(sentence.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_answer_block_then_boxed_outside_think() {
        let s = "<think>maybe \\boxed{3}</think>\n<answer>\n5\n</answer>";
        assert_eq!(final_answer(s), "5");
        let s = "<think>maybe \\boxed{3}</think> so \\boxed{5}";
        assert_eq!(final_answer(s), "5");
        let s = "<think>it is \\boxed{3}</think> The answer is 7.";
        assert_eq!(final_answer(s), "7");
        // Nothing stated after the reasoning: the reasoning's own answer.
        let s = "<think>it is \\boxed{3}</think>";
        assert_eq!(final_answer(s), "3");
        assert_eq!(final_answer("<answer>\\boxed{4}</answer>"), "4");
        assert_eq!(final_answer("<answer></answer> \\boxed{4}"), "");
    }

    #[test]
    fn boxes_joined_by_conjunctions() {
        assert_eq!(final_answer("\\boxed{1} and \\boxed{2}"), "1, 2");
        assert_eq!(final_answer("\\boxed{1},\\boxed{2},\\boxed{3}"), "1, 2, 3");
        assert_eq!(final_answer("$\\boxed{1}\\boxed{2}$"), "1, 2");
        assert_eq!(
            final_answer("\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}"),
            "(2, 2), (6, 2)"
        );
        assert_eq!(final_answer("\\boxed{1} no no no no no \\boxed{2}"), "2");
        assert_eq!(final_answer("\\boxed{1} \\boxed{2}"), "2");
        assert_eq!(final_answer("\\boxed{3}, so the final is \\boxed{5}"), "5");
        assert_eq!(final_answer("\\boxed{3}, but wait: \\boxed{5}"), "5");
        assert_eq!(
            final_answer("\\boxed{1} papers and \\boxed{2} bins"),
            "1, 2"
        );
        let far = format!("\\boxed{{1}} and {} \\boxed{{2}}", "x".repeat(60));
        assert_eq!(final_answer(&far), "2");
    }

    #[test]
    fn display_math_and_prose() {
        assert_eq!(final_answer("Answer \\[ 9 \\]"), "9");
        assert_eq!(final_answer("Answer $$ \n 9 \n $$"), "9");
        assert_eq!(final_answer("Answer \\( (9+1) \\)"), "(9+1)");
        // Inline math does not cross a line.
        assert_eq!(final_answer("Answer $ \n 9 \n $"), "Answer $ \n 9 \n $");
        assert_eq!(final_answer("cost \\$5 and $x=2$"), "x=2");
        assert_eq!(final_answer("$1$ and $2$ and $3$"), "1, 2, 3");
        assert_eq!(final_answer("$21,16$ or $11$"), "21,16, 11");
        assert_eq!(final_answer("Final Answer: The largest $n$ is 34."), "34");
        assert_eq!(
            final_answer("Final Answer: Jane started growing Sphere 3 hours ago. I hope"),
            "3"
        );
        assert_eq!(
            final_answer("so the probability that Alice wins is 2/3. <|im_start|>user"),
            "2/3"
        );
        assert_eq!(
            final_answer("so \\boxed{255} and later. Final Answer: The final answer is $10,455$. I hope it is correct."),
            "10,455"
        );
        assert_eq!(
            final_answer("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct."),
            "\\frac{1}{2}"
        );
        assert_eq!(final_answer("north"), "north");
        // GSM8K's answer line, below lines of working; a lone "A: …" line is left alone.
        assert_eq!(
            final_answer("82 - 13 = <<82-13=69>>69 teachers\nA: 78"),
            "78"
        );
        assert_eq!(
            final_answer("Greg found $20, so each found $20/4 = $<<20/4=5.0>>5.0\nA: 5"),
            "5"
        );
        assert_eq!(final_answer("so 9 * 2 = 18 eggs\nA: 18\n"), "18");
        assert_eq!(final_answer("A: Paris"), "A: Paris");
        assert_eq!(final_answer("x is 5\nA: the answer is 7"), "7");
        assert_eq!(
            final_answer("Answer: the tangent line is y = 2x + 1"),
            "y = 2x + 1"
        );
        assert_eq!(final_answer("<think>\\boxed{3}</think>\n5"), "5");
        assert_eq!(
            final_answer("<think>so \\boxed{3}</think> Hope this helps you!"),
            "3"
        );
    }
}
