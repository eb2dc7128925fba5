//! Text builtins: splitting, counting and inspecting text.
//!
//! All functions are total (no panics on any input) and run in linear time unless stated.

use super::count_to_i64;

/// The words of `s`: the maximal runs of non-whitespace characters, in order.
///
/// Whitespace is Unicode whitespace (spaces, tabs, newlines, no-break spaces, ideographic
/// space, ...). Empty words are never produced, so `words("")` and `words("  \n ")` are `[]`.
/// Punctuation is part of a word: `words("Hi, there!")` is `["Hi,", "there!"]`.
///
/// Time: O(n).
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// The number of words of `s`, exactly `len(words(s))`.
///
/// Time: O(n), no allocation.
pub fn word_count(s: &str) -> i64 {
    count_to_i64(s.split_whitespace().count())
}

/// Whether `c` ends a sentence.
fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// The number of sentences in `s`.
///
/// The text is cut into segments: a segment ends after a run of one or more of `.`, `!`, `?`
/// that is followed by whitespace or by the end of the text. Whatever follows the last such
/// run is a final segment. A segment counts as a sentence only if it contains at least one
/// alphanumeric character (letters or digits of any script), so stray punctuation (`"..."`,
/// `"?!"`) is not a sentence.
///
/// Consequences worth knowing: `"3.14 is pi."` is one sentence (a `.` inside a number is not
/// followed by whitespace); `"Wait... what?"` is two; abbreviations do split (`"Dr. Who."` is
/// two); a sentence ending without punctuation still counts (`"Hello"` is 1); a closing quote
/// or bracket right after the punctuation hides it (`"\"Hi.\" Bye."` is 1). `""` is 0.
///
/// Time: O(n).
pub fn sentence_count(s: &str) -> i64 {
    let mut count: usize = 0;
    let mut has_alnum = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            has_alnum = true;
        }
        if is_terminator(c) {
            while chars.peek().is_some_and(|&d| is_terminator(d)) {
                chars.next();
            }
            let ends = match chars.peek() {
                None => true,
                Some(d) => d.is_whitespace(),
            };
            if ends {
                if has_alnum {
                    count += 1;
                }
                has_alnum = false;
            }
        }
    }
    if has_alnum {
        count += 1;
    }
    count_to_i64(count)
}

/// The number of paragraphs in `s`.
///
/// Lines are separated by `\n`. A line is blank if it is empty or contains only whitespace
/// (a `\r` of a CRLF line ending is whitespace). Paragraphs are the maximal runs of non-blank
/// lines; one or more blank lines separate them, and leading or trailing blank lines do not
/// create paragraphs. So `""` and `"\n\n"` have 0 paragraphs, `"a\nb"` has 1 and
/// `"a\n\n\nb\n"` has 2. (IFEval's `***` separator is not special here: it is a non-blank line.)
///
/// Time: O(n).
pub fn paragraph_count(s: &str) -> i64 {
    let mut count: usize = 0;
    let mut in_paragraph = false;
    for line in s.split('\n') {
        let blank = line.trim().is_empty();
        if !blank && !in_paragraph {
            count += 1;
        }
        in_paragraph = !blank;
    }
    count_to_i64(count)
}

/// The lines of `s`.
///
/// Splits on `\n` and removes one trailing `\r` from each line (so CRLF text works). A trailing
/// newline ends the last line rather than starting an empty one: `lines("a\nb\n")` is
/// `["a", "b"]`, and `lines("")` is `[]`. Blank lines are kept: `lines("a\n\nb")` is
/// `["a", "", "b"]`, and `lines("\n")` is `[""]`. A lone `\r` is not a line break.
///
/// Time: O(n).
pub fn lines(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line).to_owned())
        .collect()
}

/// The pieces of `s` between the occurrences of `sep`, like Python's `s.split(sep)`.
///
/// Occurrences are found left to right without overlapping. Empty pieces are kept:
/// `split("a,,b", ",")` is `["a", "", "b"]`, `split(",", ",")` is `["", ""]` and `split("", ",")`
/// is `[""]`. There is always one more piece than occurrences. Unlike Python (which raises an
/// error), an empty `sep` returns `[s]`. To split on runs of whitespace, use [`words`].
///
/// Time: O(n + m) for `m = len(sep)`.
pub fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return vec![s.to_owned()];
    }
    s.split(sep).map(str::to_owned).collect()
}

/// `s` with every occurrence of `from` replaced by `to`.
///
/// Occurrences are found left to right without overlapping (`replace("aaa", "aa", "b")` is
/// `"ba"`), and replaced text is not searched again. An empty `from` returns `s` unchanged (this
/// differs from Python, which inserts `to` between every character).
///
/// Time: O(n + m + output), the output being at most `n + (n / len(from)) * len(to)` long.
pub fn replace(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return s.to_owned();
    }
    s.replace(from, to)
}

/// The number of non-overlapping occurrences of `sub` in `s`, like Python's `s.count(sub)`.
///
/// `occurrences("aaaa", "aa")` is 2. As in Python, an empty `sub` occurs once before every
/// character and once at the end: the result is the number of characters plus one
/// (`occurrences("", "")` is 1).
///
/// Time: O(n + m).
pub fn occurrences(s: &str, sub: &str) -> i64 {
    if sub.is_empty() {
        return count_to_i64(s.chars().count()).saturating_add(1);
    }
    count_to_i64(super::search::count(s, sub))
}

/// [`occurrences`] of each of `subs` in `s`, counted in one pass over `s` for all of them.
pub fn occurrences_each(s: &str, subs: &[&str]) -> Vec<i64> {
    let searched: Vec<&str> = subs.iter().copied().filter(|n| !n.is_empty()).collect();
    let mut counts = super::search::count_each(s, &searched).into_iter();
    subs.iter()
        .map(|n| match n.is_empty() {
            true => occurrences(s, n),
            false => count_to_i64(counts.next().unwrap_or(0)),
        })
        .collect()
}

/// The character offsets of every occurrence of `sub` in `s`, overlapping ones included, in
/// increasing order: the positions `i` where `s[i:].startswith(sub)` in Python, so
/// `find_positions("aaaa", "aa")` is `[0, 1, 2]` where `str.count` finds 2 occurrences. An
/// empty `sub` occurs at every position, the end included (`len(s) + 1` positions).
///
/// Time: O(n + m + k·m) for k occurrences (each search restarts one character after the last
/// occurrence's start; the SIMD search skips ahead between occurrences).
pub fn find_positions(s: &str, sub: &str) -> Vec<i64> {
    if sub.is_empty() {
        return (0..=count_to_i64(s.chars().count())).collect();
    }
    let bytes = s.as_bytes();
    super::search::with_finder(sub.as_bytes(), |finder| {
        let mut out = Vec::new();
        // `at` is a byte offset (a character boundary), `chars` the number of characters
        // before it.
        let (mut at, mut chars) = (0usize, 0i64);
        while let Some(found) = finder.find(&bytes[at..]) {
            let start = at + found;
            chars = chars.saturating_add(count_to_i64(s[at..start].chars().count()));
            out.push(chars);
            // Restart after the occurrence's first character (`sub` is non-empty and starts
            // at a character boundary, so one character follows).
            let step = s[start..].chars().next().map_or(1, char::len_utf8);
            at = start + step;
            chars = chars.saturating_add(1);
        }
        out
    })
}

/// The characters of `s`, each as a one-character text (Python's `list(s)`).
pub fn chars(s: &str) -> Vec<String> {
    s.chars().map(String::from).collect()
}

/// Resolves a Python slice bound against a length: negative counts from the end, then the
/// result is clamped to `0..=len`.
fn slice_bound(index: i64, len: i64) -> i64 {
    let resolved = if index < 0 {
        index.saturating_add(len)
    } else {
        index
    };
    resolved.clamp(0, len)
}

/// The characters of `s` from index `start` (included) to `end` (excluded), with the semantics
/// of Python's `s[start:end]`.
///
/// Indices count characters, not bytes. A negative index counts from the end (`-1` is the last
/// character). After that, indices are clamped to `0..=len(s)`; if `start >= end` the result is
/// `""`. Never fails: `slice("hello", 1, 3)` is `"el"`, `slice("hello", -3, 100)` is `"llo"`,
/// `slice("hello", 4, 2)` is `""`, `slice("héllo", 0, 2)` is `"hé"`. To slice "to the end",
/// pass an `end` at least `len(s)` (e.g. the length itself).
///
/// Time: O(n).
pub fn slice(s: &str, start: i64, end: i64) -> String {
    let len = count_to_i64(s.chars().count());
    let from = slice_bound(start, len);
    let to = slice_bound(end, len);
    if from >= to {
        return String::new();
    }
    // Both bounds are in 0..=len, so they fit in usize.
    let from = usize::try_from(from).unwrap_or(0);
    let to = usize::try_from(to).unwrap_or(0);
    s.chars().skip(from).take(to - from).collect()
}

/// Whether `c` is a titlecase letter (Unicode general category Lt: `ǅ`, `ǈ`, `ǋ`, `ǲ` and
/// Greek letters with prosgegrammeni such as `ᾈ`). There are exactly 31 of them.
fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{01C5}'
            | '\u{01C8}'
            | '\u{01CB}'
            | '\u{01F2}'
            | '\u{1F88}'..='\u{1F8F}'
            | '\u{1F98}'..='\u{1F9F}'
            | '\u{1FA8}'..='\u{1FAF}'
            | '\u{1FBC}'
            | '\u{1FCC}'
            | '\u{1FFC}'
    )
}

/// Whether `s` is lowercase, exactly like Python's `str.islower()`.
///
/// True iff `s` contains at least one lowercase character and no uppercase or titlecase
/// character (Unicode `Lowercase`/`Uppercase` properties). Characters without case (digits,
/// punctuation, spaces, CJK, ...) are ignored. So `is_lowercase("abc 123!")` is true, while
/// `is_lowercase("123")` and `is_lowercase("")` are false, and `is_lowercase("abC")` is false.
///
/// Time: O(n).
pub fn is_lowercase(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        if c.is_lowercase() {
            cased = true;
        }
    }
    cased
}

/// Whether `s` is uppercase, exactly like Python's `str.isupper()`.
///
/// True iff `s` contains at least one uppercase character and no lowercase or titlecase
/// character. Characters without case are ignored: `is_uppercase("HELLO, WORLD 2")` is true,
/// `is_uppercase("123")` and `is_uppercase("")` are false, `is_uppercase("HELLo")` is false.
///
/// Time: O(n).
pub fn is_uppercase(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Removes a leading "```json" (any ASCII case of "json") or "```", and a trailing "```",
/// the way IFEval's JSON-format check does.
pub(crate) fn strip_json_fence(t: &str) -> &str {
    let mut body = t;
    if let Some(rest) = body.strip_prefix("```") {
        body = match rest.get(..4) {
            Some(word) if word.eq_ignore_ascii_case("json") => &rest[4..],
            _ => rest,
        };
    }
    body = body.strip_suffix("```").unwrap_or(body);
    body.trim()
}

/// Whether `s` is a JSON document.
///
/// `s` is trimmed of whitespace, then, as IFEval's `json_format` check does, a leading
/// ```` ```json ```` (`json` in any case) or ```` ``` ```` is removed, a trailing ```` ``` ````
/// is removed, and the rest is trimmed again. (The two fences are removed independently, so an
/// unclosed fence is tolerated.) The result must then be exactly one JSON value of any kind
/// (object, array, string, number, `true`, `false`, `null`) with nothing after it.
///
/// The check is strict RFC 8259 syntax, validated by `serde_json` without building the value:
/// no comments, no trailing commas, no single quotes, no raw control characters inside strings,
/// no invalid escapes, no `NaN`/`Infinity` (which Python's `json.loads` accepts). Numbers of any
/// size are valid syntax (`1e400` is accepted, as in Python). Nesting depth is unlimited (the
/// validator is iterative, it cannot overflow the stack). `is_json("")` and
/// `is_json("```json\n```")` are false.
///
/// Time: O(n), memory O(nesting depth).
pub fn is_json(s: &str) -> bool {
    let body = strip_json_fence(s.trim());
    serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
}

/// Parses `s` as an integer.
///
/// `s` is trimmed of whitespace, and must then be an optional `+` or `-` followed by one or
/// more ASCII digits, nothing else, and the value must fit in a 64-bit signed integer
/// (`-9223372036854775808 ..= 9223372036854775807`); otherwise the result is none.
/// `parse_int(" -42 ")` is `-42`, `parse_int("007")` is 7; `"1.0"`, `"1e3"`, `"1_000"`,
/// `"1,000"`, `"0x10"`, `"+"` and `""` are all none.
///
/// Time: O(n).
pub fn parse_int(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok()
}

/// Parses `s` as a finite decimal number.
///
/// `s` is trimmed of whitespace and must then be a decimal number: an optional `+` or `-`,
/// digits with at most one `.` (at least one digit overall: `"5."`, `".5"` and `"5"` are
/// fine), and an optional exponent `e`/`E` with optional sign and digits (`"1e3"` is 1000.0,
/// `"-2.5E-2"` is -0.025). Anything else is none: `"inf"`, `"nan"`, `"infinity"`, `"1,000"`,
/// `"1_000"`, `"0x1p3"`, `""`. A number too large to be a finite 64-bit float (`"1e400"`) is also
/// none; one too small becomes 0.0 or a subnormal.
///
/// Time: O(n).
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_split_on_unicode_whitespace() {
        assert_eq!(
            words("  hello   world\n\tfoo "),
            v(&["hello", "world", "foo"])
        );
        assert_eq!(words(""), v(&[]));
        assert_eq!(words(" \n\t "), v(&[]));
        assert_eq!(
            words("a\u{00A0}b\u{3000}c\u{2003}d"),
            v(&["a", "b", "c", "d"])
        );
        assert_eq!(words("Hi, there!"), v(&["Hi,", "there!"]));
        assert_eq!(words("日本語 テキスト"), v(&["日本語", "テキスト"]));
    }

    #[test]
    fn word_count_matches_words() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("   "), 0);
        assert_eq!(word_count("one"), 1);
        assert_eq!(word_count(" one two\nthree\r\nfour "), 4);
        for s in ["a b c", "  x\u{00A0}y  ", "\n\n"] {
            assert_eq!(word_count(s), words(s).len() as i64);
        }
    }

    #[test]
    fn sentence_count_rules() {
        assert_eq!(sentence_count(""), 0);
        assert_eq!(sentence_count("   "), 0);
        assert_eq!(sentence_count("Hello"), 1);
        assert_eq!(sentence_count("Hello."), 1);
        assert_eq!(sentence_count("Hello. World"), 2);
        assert_eq!(sentence_count("Hello! How are you? Fine."), 3);
        assert_eq!(sentence_count("Wait... what?!"), 2);
        assert_eq!(sentence_count("3.14 is pi."), 1);
        assert_eq!(sentence_count("Hello...world"), 1);
        assert_eq!(sentence_count("Dr. Who."), 2);
        assert_eq!(sentence_count("... ?! ."), 0);
        assert_eq!(sentence_count("One.\nTwo.\n\nThree"), 3);
        assert_eq!(sentence_count("Ünïcödé ënds. Ανδ μορε."), 2);
        assert_eq!(sentence_count("a .b. c"), 2);
        assert_eq!(sentence_count("\"Hi.\" Bye."), 1);
    }

    #[test]
    fn paragraph_count_rules() {
        assert_eq!(paragraph_count(""), 0);
        assert_eq!(paragraph_count("\n\n  \n"), 0);
        assert_eq!(paragraph_count("a"), 1);
        assert_eq!(paragraph_count("a\nb\nc"), 1);
        assert_eq!(paragraph_count("a\n\nb"), 2);
        assert_eq!(paragraph_count("\n\na\n \t \n\n\nb\n\n"), 2);
        assert_eq!(paragraph_count("a\r\n\r\nb\r\n"), 2);
        assert_eq!(paragraph_count("p1\n***\np2"), 1);
        assert_eq!(paragraph_count("x\n\ny\n\nz"), 3);
    }

    #[test]
    fn lines_rules() {
        assert_eq!(lines(""), v(&[]));
        assert_eq!(lines("\n"), v(&[""]));
        assert_eq!(lines("a"), v(&["a"]));
        assert_eq!(lines("a\n"), v(&["a"]));
        assert_eq!(lines("a\nb\n"), v(&["a", "b"]));
        assert_eq!(lines("a\n\nb"), v(&["a", "", "b"]));
        assert_eq!(lines("a\n\n"), v(&["a", ""]));
        assert_eq!(lines("a\r\nb\r\n"), v(&["a", "b"]));
        assert_eq!(lines("a\rb"), v(&["a\rb"]));
        assert_eq!(lines("a\r\r\n"), v(&["a\r"]));
    }

    #[test]
    fn split_like_python() {
        assert_eq!(split("a,b,c", ","), v(&["a", "b", "c"]));
        assert_eq!(split("a,,b", ","), v(&["a", "", "b"]));
        assert_eq!(split(",", ","), v(&["", ""]));
        assert_eq!(split("", ","), v(&[""]));
        assert_eq!(split("abc", ""), v(&["abc"]));
        assert_eq!(split("a--b---c", "--"), v(&["a", "b", "-c"]));
        assert_eq!(split("no sep here", "|"), v(&["no sep here"]));
        assert_eq!(split("é→ü→", "→"), v(&["é", "ü", ""]));
    }

    #[test]
    fn replace_rules() {
        assert_eq!(replace("a.b.c", ".", "::"), "a::b::c");
        assert_eq!(replace("aaa", "aa", "b"), "ba");
        assert_eq!(replace("abc", "", "X"), "abc");
        assert_eq!(replace("abc", "d", "X"), "abc");
        assert_eq!(replace("abab", "ab", "ab ab"), "ab abab ab");
        assert_eq!(replace("", "a", "b"), "");
        assert_eq!(replace("ééé", "é", ""), "");
    }

    #[test]
    fn occurrences_like_python_count() {
        assert_eq!(occurrences("aaaa", "aa"), 2);
        assert_eq!(occurrences("abcabc", "bc"), 2);
        assert_eq!(occurrences("abc", "d"), 0);
        assert_eq!(occurrences("", "a"), 0);
        assert_eq!(occurrences("", ""), 1);
        assert_eq!(occurrences("abc", ""), 4);
        assert_eq!(occurrences("héé", ""), 4);
        assert_eq!(occurrences("<a><a>", "<a>"), 2);
    }

    #[test]
    fn find_positions_includes_overlapping_occurrences() {
        assert_eq!(find_positions("aaaa", "aa"), vec![0, 1, 2]);
        assert_eq!(find_positions("aha ha ha", "ha ha"), vec![1, 4]);
        assert_eq!(find_positions("### 1", "##"), vec![0, 1]);
        assert_eq!(find_positions("éaéaé", "éaé"), vec![0, 2]);
        assert_eq!(find_positions("日本日本日", "日本日"), vec![0, 2]);
        assert_eq!(find_positions("abc", "d"), Vec::<i64>::new());
        assert_eq!(find_positions("", "a"), Vec::<i64>::new());
        assert_eq!(find_positions("hé", ""), vec![0, 1, 2]);
        // Python: [i for i in range(len(s)) if s.startswith(sub, i)]
        let (s, sub) = ("xyxyxyx💡xyx", "xyx");
        let want: Vec<i64> = (0..s.chars().count())
            .filter(|&i| s.chars().skip(i).collect::<String>().starts_with(sub))
            .map(|i| i as i64)
            .collect();
        assert_eq!(find_positions(s, sub), want);
    }

    #[test]
    fn chars_are_one_character_texts() {
        assert_eq!(chars("hé💡"), v(&["h", "é", "💡"]));
        assert!(chars("").is_empty());
    }

    #[test]
    fn slice_like_python() {
        assert_eq!(slice("hello", 1, 3), "el");
        assert_eq!(slice("hello", 0, 5), "hello");
        assert_eq!(slice("hello", -3, 100), "llo");
        assert_eq!(slice("hello", -100, 2), "he");
        assert_eq!(slice("hello", 4, 2), "");
        assert_eq!(slice("hello", 0, -1), "hell");
        assert_eq!(slice("hello", -2, -1), "l");
        assert_eq!(slice("hello", 5, 10), "");
        assert_eq!(slice("", 0, 10), "");
        assert_eq!(slice("héllo wörld", 1, 2), "é");
        assert_eq!(slice("héllo wörld", -5, -3), "wö");
        assert_eq!(slice("abc", i64::MIN, i64::MAX), "abc");
        assert_eq!(slice("abc", i64::MAX, i64::MIN), "");
        assert_eq!(slice("abc", i64::MIN, i64::MIN), "");
    }

    #[test]
    fn case_predicates_like_python() {
        assert!(is_lowercase("abc"));
        assert!(is_lowercase("abc 123!"));
        assert!(is_lowercase("ßéü"));
        assert!(!is_lowercase("abC"));
        assert!(!is_lowercase("123"));
        assert!(!is_lowercase(""));
        assert!(!is_lowercase("日本"));
        assert!(!is_lowercase("a\u{01C5}"));
        assert!(is_uppercase("HELLO, WORLD 2"));
        assert!(is_uppercase("ÉÜ"));
        assert!(!is_uppercase("HELLo"));
        assert!(!is_uppercase("123"));
        assert!(!is_uppercase(""));
        assert!(!is_uppercase("A\u{01C5}"));
        assert!(!is_uppercase("A\u{1FFC}"));
        // Neither, in both directions.
        assert!(!is_lowercase("Hello") && !is_uppercase("Hello"));
    }

    #[test]
    fn is_json_values_and_fences() {
        assert!(is_json("{\"a\": 1}"));
        assert!(is_json("  [1, 2, 3]  "));
        assert!(is_json("\"str\""));
        assert!(is_json("42"));
        assert!(is_json("null"));
        assert!(is_json("```json\n{\"a\": [true, null]}\n```"));
        assert!(is_json("```JSON\n{}\n```"));
        assert!(is_json("```\n[1]\n```"));
        assert!(is_json("  ```json\n{}\n```\n"));
        assert!(is_json("```json\n{}")); // IFEval strips the two fences independently
        assert!(!is_json(""));
        assert!(!is_json("   "));
        assert!(!is_json("```json\n```"));
        assert!(!is_json("{a: 1}"));
        assert!(!is_json("{\"a\": 1,}"));
        assert!(!is_json("{\"a\": 1} extra"));
        assert!(!is_json("NaN"));
        assert!(!is_json("Infinity"));
        assert!(is_json("1e400"));
        assert!(!is_json("\"a\nb\""));
        assert!(is_json("\"a\\nb\""));
        assert!(!is_json("\"\\x\""));
        assert!(!is_json("[1] [2]"));
        assert!(!is_json("'a'"));
        assert!(!is_json("// c\n{}"));
        assert!(!is_json("Here is JSON: {}"));
        assert!(!is_json("{\"a\": 1"));
    }

    #[test]
    fn is_json_deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
        assert!(is_json(&deep));
        let unbalanced = format!("{}{}", "[".repeat(500_000), "]".repeat(499_999));
        assert!(!is_json(&unbalanced));
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(is_json(&ok));
    }

    #[test]
    fn parse_int_rules() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int(" -42 \n"), Some(-42));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("007"), Some(7));
        assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        for bad in [
            "", " ", "+", "-", "1.0", "1e3", "1_000", "1,000", "0x10", "--1", "1 2", "٣",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_float_rules() {
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("-2.5"), Some(-2.5));
        assert_eq!(parse_float(" +0.125 "), Some(0.125));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("42"), Some(42.0));
        assert_eq!(parse_float("-2.5E-2"), Some(-0.025));
        assert_eq!(parse_float("1e-400"), Some(0.0));
        for bad in [
            "",
            "inf",
            "-inf",
            "+infinity",
            "nan",
            "NaN",
            "1e400",
            "1,000",
            "1_000",
            ".",
            "e5",
            "1e",
            "0x1p3",
            "1.2.3",
            "--1",
            "½",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn megabyte_inputs_are_fast() {
        let big = "word. ".repeat(200_000);
        assert_eq!(word_count(&big), 200_000);
        assert_eq!(sentence_count(&big), 200_000);
        assert_eq!(paragraph_count(&"x\n\n".repeat(300_000)), 300_000);
        assert_eq!(lines(&"\n".repeat(1_000_000)).len(), 1_000_000);
        assert_eq!(occurrences(&"a".repeat(1_000_000), "aa"), 500_000);
        assert_eq!(slice(&"é".repeat(1_000_000), -2, i64::MAX), "éé");
        assert!(!is_json(&"{".repeat(1_000_000)));
        assert_eq!(parse_float(&"9".repeat(1_000_000)), None);
        assert_eq!(parse_int(&"9".repeat(1_000_000)), None);
    }
}
