//! Native builtins of the reward language's standard library.
//!
//! Every function here is plain, pure and total: it never panics, whatever the input (empty,
//! huge, malformed, hostile), never recurses (except the answer parser, to a fixed depth), and runs in time linear in the size of its inputs
//! unless its documentation says otherwise. "Characters" always means Unicode scalar values
//! (Rust `char`s), never bytes. Counts are returned as `i64` (the language's `int`).
//!
//! * [`text`]: splitting, counting and inspecting text.
//! * [`extract`]: finding the answer in a completion (tags, `\boxed{}`, `#### `, `Answer:`,
//!   numbers, choice letters, fenced code blocks).
//! * [`math`]: normalisation of math answers and the fast rules of `math_equal`.
//! * [`answer`]: the full answer checker (LaTeX expressions, units, equations, tuples, sets,
//!   intervals), the one function here that recurses, with its depth capped.

pub mod answer;
pub mod extract;
pub mod geometry;
pub mod math;
mod math_options;
mod normalize;
pub mod pattern;
pub mod search;
pub mod similarity;
mod statement;
pub mod structured;
pub mod text;

pub use extract::{
    answer_line, boxed, choice_letter, closing_tag_count, code_block, extract_tag, extract_tags,
    hash_answer, last_number, tag_count,
};
pub use math::{math_equal, math_equal_with, parse_number_latex};
pub use math_options::{MathOptions, Units};
pub use normalize::normalize_answer;
pub use statement::final_answer;
pub use text::{
    chars, find_positions, is_json, is_lowercase, is_uppercase, lines, occurrences,
    occurrences_each, paragraph_count, parse_float, parse_int, replace, sentence_count, slice,
    split, word_count, words,
};

/// Converts a length or count to the language's `int`, saturating (never reached in practice:
/// no string is longer than `i64::MAX` bytes).
pub(crate) fn count_to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    //! Cross-function invariants on pseudo-random hostile inputs: nothing panics, and the
    //! documented relations between functions hold.
    use super::*;

    /// Fragments that exercise every parser's special cases.
    const PIECES: &[&str] = &[
        "\\",
        "{",
        "}",
        "$",
        "$$",
        "<a>",
        "</a>",
        "<",
        ">",
        "#### ",
        "####",
        " ",
        "\n",
        "\r\n",
        "\t",
        "```",
        "```python\n",
        "~~~",
        "\\boxed",
        "\\boxed{",
        "\\fbox",
        "\\frac",
        "\\dfrac",
        "\\text{",
        "\\left",
        "\\right",
        "\\sqrt",
        "\\%",
        "%",
        "\\,",
        "answer",
        "Answer:",
        "is",
        ":",
        "(",
        ")",
        "A",
        "B)",
        "J",
        "K",
        ".",
        "...",
        ",",
        "-",
        "+",
        "/",
        "=",
        "x",
        "0",
        "1",
        "9",
        "12",
        "999999999999999999999",
        "e",
        "é",
        "日",
        "\u{1FFC}",
        "\u{00A0}",
        "°",
        "!",
        "?",
        "*",
        "**",
        "inf",
        "nan",
        "\"",
        "[",
        "]",
        "null",
        "^\\circ",
        "{,}",
    ];

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn text(&mut self) -> String {
            let n = (self.next() % 24) as usize;
            (0..n)
                .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
                .collect()
        }
    }

    #[test]
    fn random_hostile_inputs_never_panic_and_invariants_hold() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let s = rng.text();
            let t = rng.text();
            let small = (rng.next() % 41) as i64 - 20;

            assert_eq!(word_count(&s), words(&s).len() as i64);
            assert!(words(&s).iter().all(|w| !w.is_empty()));
            assert!(sentence_count(&s) >= 0 && paragraph_count(&s) >= 0);
            assert!(paragraph_count(&s) <= lines(&s).len() as i64);
            let _ = (is_json(&s), is_lowercase(&s), is_uppercase(&s));
            let _ = (parse_int(&s), parse_float(&s).map(f64::is_finite));
            if !t.is_empty() {
                assert_eq!(split(&s, &t).len() as i64, occurrences(&s, &t) + 1);
                assert_eq!(split(&s, &t).join(&t), s);
                assert_eq!(replace(&s, &t, &t), s);
            }
            let sl = slice(&s, small, small.saturating_mul(3));
            assert!(sl.chars().count() <= s.chars().count());

            let tag = if rng.next().is_multiple_of(2) {
                "a"
            } else {
                t.as_str()
            };
            let all = extract_tags(&s, tag);
            assert_eq!(all.first().cloned(), extract_tag(&s, tag));
            assert!(all.len() as i64 <= tag_count(&s, tag));
            assert!(all.len() as i64 <= closing_tag_count(&s, tag));
            let _ = (boxed(&s), hash_answer(&s), answer_line(&s), last_number(&s));
            if let Some(letter) = choice_letter(&s) {
                assert!(matches!(
                    letter.as_str(),
                    "A" | "B" | "C" | "D" | "E" | "F" | "G" | "H" | "I" | "J"
                ));
            }
            let _ = (code_block(&s, ""), code_block(&s, "python"));

            let n = normalize_answer(&s);
            assert!(!n.chars().any(char::is_whitespace));
            assert_eq!(math_equal(&s, &s), !n.is_empty());
            if let Some((num, den)) = parse_number_latex(&s) {
                assert!(den > 0);
                let mut a = num.unsigned_abs();
                let mut b = den.unsigned_abs();
                while b != 0 {
                    (a, b) = (b, a % b);
                }
                assert_eq!(a, 1, "{s:?} gave {num}/{den}");
            }
            let _ = math_equal(&s, &t);
        }
    }
}
