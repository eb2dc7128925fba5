//! Extraction builtins: how reward code finds the answer inside a completion.
//!
//! All functions are total (no panics on any input), never recurse, and run in time linear in
//! the length of their inputs. Regular expressions are compiled once per process and run on the
//! `regex` crate's linear-time engine.

use std::sync::OnceLock;

use regex::Regex;

use super::{count_to_i64, search};

/// Compiles a built-in pattern once. The patterns are constants checked by the unit tests, so
/// the `expect` cannot fire at run time.
fn cached(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in pattern compiles"))
}

/// The content between the first `<tag>` in `s` and the first `</tag>` after it.
///
/// `tag` is matched literally, character for character and case-sensitively: no pattern
/// syntax, no attributes (`<answer id=1>` is not an opening `<answer>`), no whitespace
/// tolerance. The content is returned exactly as it is, not trimmed, and may be empty
/// (`extract_tag("<a></a>", "a")` is `""`, not none). The result is none if there is no
/// `<tag>`, or no `</tag>` after the first `<tag>`. Nested tags of the same name are not
/// balanced: in `<a>x<a>y</a>z</a>` the content is `x<a>y`.
///
/// Time: O(n + m) for `m = len(tag)`.
pub fn extract_tag(s: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = search::find(s, &open)? + open.len();
    let rest = &s[start..];
    let end = search::find(rest, &close)?;
    Some(rest[..end].to_owned())
}

/// The contents of all `<tag>...</tag>` pairs in `s`, in order.
///
/// Scanning left to right: find the next `<tag>`, then the first `</tag>` after it; the text
/// between them is one result, and scanning resumes after that `</tag>`. Scanning stops at an
/// opening tag that is never closed. Contents are not trimmed and may be empty. The first
/// element, if any, is [`extract_tag`]'s result. `extract_tags("<a>1</a> <a>2</a> <a>3", "a")`
/// is `["1", "2"]`.
///
/// Time: O(n + m).
pub fn extract_tags(s: &str, tag: &str) -> Vec<String> {
    tagged(s, tag).map(str::to_owned).collect()
}

/// The contents of [`extract_tags`], as slices of `s`, found one at a time (the last one
/// without copying the others).
pub(crate) fn tagged<'s>(s: &'s str, tag: &str) -> impl Iterator<Item = &'s str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = s;
    std::iter::from_fn(move || {
        let after = &rest[search::find(rest, &open)? + open.len()..];
        let j = search::find(after, &close)?;
        rest = &after[j + close.len()..];
        Some(&after[..j])
    })
}

/// The number of non-overlapping occurrences of the exact opening tag `<tag>` in `s`.
///
/// Literal and case-sensitive; `<tag attr>` and `< tag>` do not count. Useful for format
/// rewards ("exactly one `<answer>`").
///
/// Time: O(n + m).
pub fn tag_count(s: &str, tag: &str) -> i64 {
    count_to_i64(search::count(s, &format!("<{tag}>")))
}

/// The number of non-overlapping occurrences of the exact closing tag `</tag>` in `s`.
///
/// Literal and case-sensitive, like [`tag_count`].
///
/// Time: O(n + m).
pub fn closing_tag_count(s: &str, tag: &str) -> i64 {
    count_to_i64(search::count(s, &format!("</{tag}>")))
}

/// Start of the last occurrence of the control word `name` (e.g. `\boxed`) that is not the
/// prefix of a longer control word (`\boxedx` is not `\boxed`).
fn last_control_word(s: &str, name: &str) -> Option<usize> {
    let mut end = s.len();
    while let Some(i) = search::rfind(&s[..end], name) {
        let longer = s[i + name.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if !longer {
            return Some(i);
        }
        end = i;
    }
    None
}

/// Given `s` where `s[open]` is `{`, the index of its matching `}`. Backslash escapes are
/// honoured: `\{`, `\}` and `\\` are not braces. None if the group is never closed.
pub(crate) fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth: usize = 0;
    let mut escaped = false;
    for (i, c) in s[open..].char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The answer in the last `\boxed{...}` or `\fbox{...}` of `s`, the way MATH/Minerva/Qwen
/// graders find it.
///
/// Precisely: the last occurrence of `\boxed` or `\fbox` (whichever comes later, ignoring
/// longer commands such as `\boxedsymbol`) is the one used; earlier ones are never looked at.
/// After it, whitespace is skipped, then:
/// * if a `{` follows, the result is the text up to its matching `}`, with nested braces
///   balanced (`\boxed{\frac{1}{2}}` gives `\frac{1}{2}`). Escaped braces `\{` and `\}` do not
///   count as braces (`\boxed{\{1,2\}}` gives `\{1,2\}`). If the group is never closed, the
///   result is none (the answer was truncated);
/// * otherwise, if at least one whitespace character was skipped, the result is the following
///   token, up to the next `$` or whitespace or the end (`$\boxed 5$` gives `5`);
/// * otherwise (e.g. `\boxed.`) the result is none.
///
/// The result is trimmed of surrounding whitespace and may be empty (`\boxed{}` gives `""`).
/// None if `s` contains no `\boxed`/`\fbox`.
///
/// Time: O(n), a single backward search and a single forward scan.
pub fn boxed(s: &str) -> Option<String> {
    let start = match (
        last_control_word(s, "\\boxed"),
        last_control_word(s, "\\fbox"),
    ) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b)?,
    };
    let name_len = if s[start..].starts_with("\\boxed") {
        6
    } else {
        5
    };
    let after = &s[start + name_len..];
    let arg = after.trim_start();
    let skipped_space = arg.len() < after.len();
    if arg.starts_with('{') {
        let close = matching_brace(arg, 0)?;
        return Some(arg[1..close].trim().to_owned());
    }
    if skipped_space && !arg.is_empty() && !arg.starts_with(['$', '}']) {
        let end = arg
            .find(|c: char| c == '$' || c.is_whitespace())
            .unwrap_or(arg.len());
        return Some(arg[..end].to_owned());
    }
    None
}

/// The final answer of a GSM8K-style solution, exactly as verl's `gsm8k.extract_solution`
/// (strict mode) finds it.
///
/// Only the last 300 characters of `s` are searched. In them, every match of the regular
/// expression `#### (-?[0-9.,]+)` is found (left to right, non-overlapping), and the captured
/// number of the LAST match is returned with all commas removed: `"... #### 1,234"` gives
/// `"1234"`. Note that exactly one space must follow `####` (`"####5"` and `"####  5"` do not
/// match), a leading `+` or `$` is not part of the pattern, and the capture is taken as is:
/// `"#### 3.5."` gives `"3.5."` and `"#### ,"` gives `""` (verl does the same; compare the
/// result with the reference answer rather than testing for presence only). None if there is
/// no match.
///
/// Time: O(n) to find the last 300 characters, then constant.
pub fn hash_answer(s: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = cached(&RE, r"#### (-?[0-9.,]+)");
    let tail = match s.char_indices().rev().nth(299) {
        Some((i, _)) => &s[i..],
        None => s,
    };
    let caps = re.captures_iter(tail).last()?;
    Some(caps.get(1)?.as_str().replace(',', ""))
}

/// The text after the last `Answer:` in `s`, up to the end of its line.
///
/// The marker is the word `answer` in any case, anywhere (also inside `Final Answer:`), then
/// optional whitespace, then `:`, as in DAPO's and Minerva's `(?i)Answer\s*:\s*([^\n]+)`.
/// After the colon, whitespace is skipped, including newlines (so `"Answer:\n42"` gives
/// `"42"`); the result is the rest of that line, trimmed. None if there is no marker or nothing
/// but whitespace follows the last one. Markdown is not special: `"**Answer:** 42"` gives
/// `"** 42"` and `"**Answer**: 42"` has no marker.
///
/// Difference from DAPO's `re.findall(...)[-1]`: when one line holds several `Answer:`, DAPO's
/// greedy match returns everything after the first of them, this returns the text after the
/// last (`"Answer: 1. Final Answer: 2"` gives `"2"`).
///
/// Time: O(n).
pub fn answer_line(s: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = cached(&RE, r"(?i)answer\s*:");
    let m = re.find_iter(s).last()?;
    let rest = s[m.end()..].trim_start();
    let line = rest.split('\n').next().unwrap_or("").trim();
    if line.is_empty() {
        None
    } else {
        Some(line.to_owned())
    }
}

/// The last number written in `s`, as text, without thousands separators.
///
/// Numbers are the matches of `-?[0-9][0-9,]*(\.[0-9]+)?` (ASCII digits only), found left to
/// right without overlapping; the last match is returned with every comma removed:
/// `"1,234 apples"` gives `"1234"`, `"x = -3.5."` gives `"-3.5"`, `"1, 2, and 3"` gives `"3"`.
/// A fraction part needs digits after the point (`"5."` gives `"5"`), and `.5` gives `"5"`
/// (no leading-point numbers). A `-` directly before a digit is always a sign, so the range
/// `"2023-2024"` gives `"-2024"`. Exponents are not understood (`"1e5"` gives `"5"`). None if
/// `s` contains no ASCII digit.
///
/// Time: O(n).
pub fn last_number(s: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = cached(&RE, r"-?[0-9][0-9,]*(?:\.[0-9]+)?");
    let m = re.find_iter(s).last()?;
    Some(m.as_str().replace(',', ""))
}

/// The multiple-choice answer letter (`A` to `J`, uppercase only) chosen in `s`.
///
/// Three rules are tried in order; the first that finds something decides:
/// 1. An explicit statement: the last match of either
///    * `answer` (any case), optional spaces/`*`, then `is` or `:` (any case), optional
///      spaces/`*`/`:`/`$`, an optional `(`, and a letter A–J that is not followed by another
///      letter, digit or `_` (`The answer is (B)`, `**Answer:** C`, `answer: D.`); or
///    * `\boxed{X}` or `\fbox{X}` with optional spaces and parentheses around the letter.
/// 2. A labelled option: the last letter A–J directly followed by `)` and preceded by `(`, `*`,
///    whitespace or the start of a line (`(C)`, `C)`, `**C)**`).
/// 3. The whole text: after trimming whitespace, `*` and `$` from both ends and then one
///    trailing `.`, `s` is a single letter A–J (`"B"`, `" **B.** "`).
///
/// Otherwise none. Lowercase letters never count, and letters inside words never count. Note
/// that rule 1 may read the article "A" as a choice (`"The answer: A detailed ..."`), and that
/// rule 2 prefers the last labelled option even if it is only mentioned
/// (`"(B) is wrong, not (C)"` gives `C`): ask for an explicit "The answer is X" in the prompt.
///
/// Time: O(n).
pub fn choice_letter(s: &str) -> Option<String> {
    static EXPLICIT: OnceLock<Regex> = OnceLock::new();
    static LABELLED: OnceLock<Regex> = OnceLock::new();
    let explicit = cached(
        &EXPLICIT,
        r"(?:(?i:answer)[\s*]*(?i:is|:)[\s*:$]*\(?\s*([A-J])\b|\\(?:boxed|fbox)\{\s*\(?\s*([A-J])\s*\)?\s*\})",
    );
    if let Some(caps) = explicit.captures_iter(s).last() {
        if let Some(m) = caps.get(1).or_else(|| caps.get(2)) {
            return Some(m.as_str().to_owned());
        }
    }
    let labelled = cached(&LABELLED, r"(?m)(?:^|[\s(*])([A-J])\)");
    if let Some(caps) = labelled.captures_iter(s).last() {
        if let Some(m) = caps.get(1) {
            return Some(m.as_str().to_owned());
        }
    }
    let t = s
        .trim()
        .trim_matches(|c: char| c == '*' || c == '$' || c.is_whitespace());
    let t = t.strip_suffix('.').unwrap_or(t);
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ 'A'..='J'), None) => Some(c.to_string()),
        _ => None,
    }
}

/// If `line` (with indentation already removed) opens or closes a fence, its fence character,
/// fence length and the rest of the line.
fn fence(line: &str) -> Option<(char, usize, &str)> {
    let ch = line.chars().next().filter(|&c| c == '`' || c == '~')?;
    let len = line.len() - line.trim_start_matches(ch).len();
    (len >= 3).then(|| (ch, len, &line[len..]))
}

/// The content of the last fenced code block of `s` whose language is `lang`.
///
/// Blocks are Markdown fenced code blocks, read line by line: an opening fence is a line made
/// of optional spaces/tabs, three or more backticks (or three or more `~`) and an optional info
/// string (which, for backtick fences, may not contain a backtick); the block ends at the next
/// line made of optional spaces/tabs and at least as many of the same fence character, and
/// nothing else but trailing whitespace. Lines inside a block are never fences of new blocks.
/// A block that is never closed (e.g. a truncated completion) does not count, and neither does
/// a fence inside a line (```` ```python print(1)``` ````).
///
/// The block's language is the first word of its info string; it must equal `lang` ignoring
/// ASCII case (`lang` itself is trimmed first). An empty `lang` accepts any block, with or
/// without a language. The content is the text between the fence lines, exactly as written,
/// without the final line break before the closing fence (CRLF text: the `\r` of that line
/// break is removed too). An empty block gives `""`. None if no block matches.
///
/// Time: O(n).
pub fn code_block(s: &str, lang: &str) -> Option<String> {
    let want = lang.trim();
    // (fence char, fence length, language matches, content start)
    let mut open: Option<(char, usize, bool, usize)> = None;
    let mut found: Option<(usize, usize)> = None;
    let mut pos = 0;
    for raw in s.split_inclusive('\n') {
        let line_start = pos;
        pos += raw.len();
        let line = raw.trim_start_matches([' ', '\t']);
        match open {
            None => {
                if let Some((ch, len, info)) = fence(line) {
                    if ch == '`' && info.contains('`') {
                        continue;
                    }
                    let language = info.split_whitespace().next().unwrap_or("");
                    let matches = want.is_empty() || language.eq_ignore_ascii_case(want);
                    open = Some((ch, len, matches, pos));
                }
            }
            Some((ch, len, matches, start)) => {
                if let Some((c, l, rest)) = fence(line) {
                    if c == ch && l >= len && rest.trim().is_empty() {
                        if matches {
                            found = Some((start, line_start));
                        }
                        open = None;
                    }
                }
            }
        }
    }
    let (start, end) = found?;
    let content = &s[start..end];
    let content = content.strip_suffix('\n').unwrap_or(content);
    let content = content.strip_suffix('\r').unwrap_or(content);
    Some(content.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn extract_tag_first_pair() {
        assert_eq!(
            extract_tag("<think>hm</think><answer> 42 </answer>", "answer"),
            some(" 42 ")
        );
        assert_eq!(extract_tag("<answer></answer>", "answer"), some(""));
        assert_eq!(extract_tag("<a>1</a><a>2</a>", "a"), some("1"));
        assert_eq!(extract_tag("</a>x<a>y</a>", "a"), some("y"));
        assert_eq!(extract_tag("<a>x<a>y</a>z</a>", "a"), some("x<a>y"));
        assert_eq!(extract_tag("<a>unclosed", "a"), None);
        assert_eq!(extract_tag("no tags", "a"), None);
        assert_eq!(extract_tag("<A>x</A>", "a"), None);
        assert_eq!(extract_tag("<a id=1>x</a>", "a"), None);
        assert_eq!(
            extract_tag("<a>\nmulti\nline\n</a>", "a"),
            some("\nmulti\nline\n")
        );
        // Tag names are literal, not patterns.
        assert_eq!(extract_tag("<a.*>x</a.*>", "a.*"), some("x"));
        assert_eq!(extract_tag("<ab>x</ab>", "a.*"), None);
        assert_eq!(extract_tag("<>x</>", ""), some("x"));
        assert_eq!(extract_tag("<é>ü</é>", "é"), some("ü"));
    }

    #[test]
    fn extract_tags_all_pairs() {
        assert_eq!(extract_tags("<a>1</a> <a>2</a> <a>3", "a"), vec!["1", "2"]);
        assert_eq!(extract_tags("<a></a><a>x</a>", "a"), vec!["", "x"]);
        assert_eq!(extract_tags("nothing", "a"), Vec::<String>::new());
        assert_eq!(
            extract_tags("<a>x<a>y</a>z</a><a>w</a>", "a"),
            vec!["x<a>y", "w"]
        );
        assert_eq!(extract_tags("</a><a>k</a>", "a"), vec!["k"]);
    }

    #[test]
    fn tag_counts() {
        let s = "<think>a</think><think>b</think><answer>c</answer><answer>";
        assert_eq!(tag_count(s, "think"), 2);
        assert_eq!(closing_tag_count(s, "think"), 2);
        assert_eq!(tag_count(s, "answer"), 2);
        assert_eq!(closing_tag_count(s, "answer"), 1);
        assert_eq!(tag_count(s, "none"), 0);
        assert_eq!(tag_count("<a attr>", "a"), 0);
        assert_eq!(tag_count("", "a"), 0);
    }

    #[test]
    fn boxed_braces() {
        assert_eq!(boxed("so \\boxed{42}."), some("42"));
        assert_eq!(boxed("\\boxed{1} then \\boxed{2}"), some("2"));
        assert_eq!(boxed("$\\boxed{\\frac{1}{2}}$"), some("\\frac{1}{2}"));
        assert_eq!(boxed("\\boxed{ 7 }"), some("7"));
        assert_eq!(boxed("\\boxed{}"), some(""));
        assert_eq!(boxed("\\boxed{\\{1,2\\}}"), some("\\{1,2\\}"));
        assert_eq!(
            boxed("\\boxed{\\left\\{ x \\right.}"),
            some("\\left\\{ x \\right.")
        );
        assert_eq!(boxed("\\boxed {3}"), some("3"));
        assert_eq!(boxed("\\boxed\n{3}"), some("3"));
        assert_eq!(boxed("\\fbox{A}"), some("A"));
        assert_eq!(boxed("\\boxed{1} \\fbox{2}"), some("2"));
        assert_eq!(boxed("\\fbox{1} \\boxed{2}"), some("2"));
        assert_eq!(boxed("\\boxed{\\boxed{5}}"), some("5"));
        assert_eq!(boxed("\\boxed{a}{b}"), some("a"));
        assert_eq!(boxed("\\boxed{é{ü}}"), some("é{ü}"));
    }

    #[test]
    fn boxed_missing_or_unbalanced() {
        assert_eq!(boxed(""), None);
        assert_eq!(boxed("no box here: 42"), None);
        assert_eq!(boxed("\\boxed{42"), None);
        assert_eq!(boxed("\\boxed{1} and \\boxed{2"), None);
        assert_eq!(boxed("\\boxed"), None);
        assert_eq!(boxed("\\boxed."), None);
        assert_eq!(boxed("\\boxed "), None);
        assert_eq!(boxed("\\boxed $"), None);
        // Longer control words are not \boxed.
        assert_eq!(boxed("\\boxedsymbol{3}"), None);
        assert_eq!(boxed("\\boxed{4} \\boxedsymbol{3}"), some("4"));
    }

    #[test]
    fn boxed_token_form() {
        assert_eq!(boxed("$\\boxed 5$"), some("5"));
        assert_eq!(boxed("the answer is \\boxed 12 apples"), some("12"));
        assert_eq!(boxed("\\boxed   -3.5"), some("-3.5"));
        assert_eq!(boxed("\\boxed{1} \\boxed 7"), some("7"));
    }

    #[test]
    fn hash_answer_like_verl() {
        assert_eq!(hash_answer("reasoning\n#### 72"), some("72"));
        assert_eq!(hash_answer("#### 1,234"), some("1234"));
        assert_eq!(hash_answer("#### -5"), some("-5"));
        assert_eq!(hash_answer("#### 1\n#### 2"), some("2"));
        assert_eq!(hash_answer("#### 3.5."), some("3.5."));
        assert_eq!(hash_answer("#### ,"), some(""));
        assert_eq!(hash_answer("####5"), None);
        assert_eq!(hash_answer("####  5"), None);
        assert_eq!(hash_answer("#### $5"), None);
        assert_eq!(hash_answer("#### abc"), None);
        assert_eq!(hash_answer(""), None);
        // Only the last 300 characters are searched.
        let far = format!("#### 9{}", "x".repeat(300));
        assert_eq!(hash_answer(&far), None);
        let near = format!("#### 9{}", "x".repeat(294));
        assert_eq!(hash_answer(&near), some("9"));
        let near_multibyte = format!("{}#### 9{}", "é".repeat(1000), "é".repeat(294));
        assert_eq!(hash_answer(&near_multibyte), some("9"));
        // A clipped marker does not match.
        let clipped = format!("#### 9{}", "x".repeat(295));
        assert_eq!(hash_answer(&clipped), None);
    }

    #[test]
    fn answer_line_last_and_trimmed() {
        assert_eq!(answer_line("Answer: 42"), some("42"));
        assert_eq!(
            answer_line("reasoning\nFinal answer:  $x^2$  \nmore"),
            some("$x^2$")
        );
        assert_eq!(answer_line("ANSWER : B"), some("B"));
        assert_eq!(answer_line("Answer: 1\nAnswer: 2"), some("2"));
        assert_eq!(answer_line("Answer: 1. Final Answer: 2"), some("2"));
        assert_eq!(answer_line("Answer:\n\n  42\nrest"), some("42"));
        assert_eq!(answer_line("Answer: 5\r\n"), some("5"));
        assert_eq!(answer_line("Answer:   "), None);
        assert_eq!(answer_line("Answer is 5"), None);
        assert_eq!(answer_line("**Answer:** 42"), some("** 42"));
        assert_eq!(answer_line("**Answer**: 42"), None);
        assert_eq!(answer_line("no marker"), None);
        assert_eq!(answer_line(""), None);
    }

    #[test]
    fn last_number_rules() {
        assert_eq!(last_number("I have 3 apples and 1,234 pears"), some("1234"));
        assert_eq!(last_number("x = -3.5."), some("-3.5"));
        assert_eq!(last_number("1, 2, and 3"), some("3"));
        assert_eq!(last_number("total: 5."), some("5"));
        assert_eq!(last_number("value .5"), some("5"));
        assert_eq!(last_number("2023-2024"), some("-2024"));
        assert_eq!(last_number("1e5"), some("5"));
        assert_eq!(last_number("3,"), some("3"));
        assert_eq!(last_number("no digits"), None);
        assert_eq!(last_number("٣ arabic-indic digits are not ASCII"), None);
        assert_eq!(last_number(""), None);
        assert_eq!(last_number("-"), None);
    }

    #[test]
    fn choice_letter_rules() {
        assert_eq!(choice_letter("The answer is (B)."), some("B"));
        assert_eq!(choice_letter("The answer is B"), some("B"));
        assert_eq!(choice_letter("**Answer:** C"), some("C"));
        assert_eq!(choice_letter("answer: D."), some("D"));
        assert_eq!(choice_letter("The answer is: $\\boxed{E}$"), some("E"));
        assert_eq!(choice_letter("\\boxed{(J)}"), some("J"));
        assert_eq!(choice_letter("The answer is B. (A) is wrong."), some("B"));
        assert_eq!(choice_letter("answer is A\n... final answer: C"), some("C"));
        assert_eq!(choice_letter("I pick (C) over (A)"), some("A"));
        assert_eq!(choice_letter("Options:\nA) one\nB) two"), some("B"));
        assert_eq!(choice_letter("B"), some("B"));
        assert_eq!(choice_letter("  **B.** "), some("B"));
        assert_eq!(choice_letter("$C$"), some("C"));
        assert_eq!(choice_letter("The answer is Alpha"), None);
        assert_eq!(choice_letter("The answer is K"), None);
        assert_eq!(choice_letter("b"), None);
        assert_eq!(choice_letter("K"), None);
        assert_eq!(choice_letter("AB"), None);
        assert_eq!(choice_letter("f(x) = 3"), None);
        assert_eq!(choice_letter(""), None);
    }

    #[test]
    fn code_block_rules() {
        let s = "text\n```python\nprint(1)\n```\nmore\n```js\nlet x;\n```\n```python\nprint(2)\nprint(3)\n```\n";
        assert_eq!(code_block(s, "python"), some("print(2)\nprint(3)"));
        assert_eq!(code_block(s, "js"), some("let x;"));
        assert_eq!(code_block(s, "JS"), some("let x;"));
        assert_eq!(code_block(s, ""), some("print(2)\nprint(3)"));
        assert_eq!(code_block(s, "rust"), None);
        assert_eq!(code_block("```\nplain\n```", ""), some("plain"));
        assert_eq!(code_block("```\nplain\n```", "python"), None);
        assert_eq!(
            code_block("```python title=\"x\"\ncode\n```", "python"),
            some("code")
        );
        assert_eq!(code_block("```python\n```", "python"), some(""));
        assert_eq!(code_block("```python\n\n```", "python"), some(""));
        assert_eq!(
            code_block("```python\r\na\r\nb\r\n```\r\n", "python"),
            some("a\r\nb")
        );
        // Unclosed and inline fences do not count.
        assert_eq!(code_block("```python\nprint(1)\n", "python"), None);
        assert_eq!(code_block("```python print(1)```", "python"), None);
        // Longer fences need an at-least-as-long closing fence; inner fences are content.
        let nested = "````markdown\n```python\nx\n```\n````";
        assert_eq!(code_block(nested, "markdown"), some("```python\nx\n```"));
        assert_eq!(code_block(nested, "python"), None);
        assert_eq!(code_block("~~~py\nx\n~~~", "py"), some("x"));
        assert_eq!(code_block("~~~py\nx\n```\ny\n~~~", "py"), some("x\n```\ny"));
        assert_eq!(code_block("  ```py\n  x\n  ```", "py"), some("  x"));
        assert_eq!(
            code_block("```py\nx\n``` trailing\n```", "py"),
            some("x\n``` trailing")
        );
        assert_eq!(code_block("", ""), None);
    }

    fn quick<T>(f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
        r
    }

    #[test]
    fn megabyte_inputs_are_fast() {
        let braces = "{".repeat(1_000_000);
        assert_eq!(quick(|| boxed(&braces)), None);
        let open_box = format!("\\boxed{braces}");
        assert_eq!(quick(|| boxed(&open_box)), None);
        let deep = format!("\\boxed{}{}", "{".repeat(500_000), "}".repeat(500_000));
        assert_eq!(quick(|| boxed(&deep)).map(|b| b.len()), Some(999_998));
        let many_boxes = "\\boxed{".repeat(100_000);
        assert_eq!(quick(|| boxed(&many_boxes)), None);
        let hashes = "#### ".repeat(200_000);
        assert_eq!(quick(|| hash_answer(&hashes)), None);
        let hashes_num = format!("{hashes}7");
        assert_eq!(quick(|| hash_answer(&hashes_num)), some("7"));
        let answers = "Answer:".repeat(150_000);
        assert_eq!(quick(|| answer_line(&answers)), None);
        let digits = "1,".repeat(500_000);
        assert_eq!(
            quick(|| last_number(&digits)).map(|n| n.len()),
            Some(500_000)
        );
        let tags = "<a>".repeat(300_000);
        assert_eq!(quick(|| extract_tags(&tags, "a")).len(), 0);
        assert_eq!(quick(|| tag_count(&tags, "a")), 300_000);
        let pairs = "<a>x</a>".repeat(125_000);
        assert_eq!(quick(|| extract_tags(&pairs, "a")).len(), 125_000);
        let letters = "(A) ".repeat(250_000);
        assert_eq!(quick(|| choice_letter(&letters)), some("A"));
        let fences = "```\n".repeat(250_000);
        assert_eq!(quick(|| code_block(&fences, "")), some(""));
    }
}
