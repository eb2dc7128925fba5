//! Substring search with `memchr::memmem` (SIMD two-way search): the reward functions of this
//! language spend most of their time looking for tags and markers in long completions, and the
//! standard library's `str::find` is several times slower on such texts.

use memchr::memmem;

/// Byte offset of the first occurrence of `needle` (always a character boundary).
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    memmem::find(haystack.as_bytes(), needle.as_bytes())
}

/// Byte offset of the last occurrence of `needle`.
pub fn rfind(haystack: &str, needle: &str) -> Option<usize> {
    memmem::rfind(haystack.as_bytes(), needle.as_bytes())
}

pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// Non-overlapping occurrences of a non-empty `needle`, left to right (as Python's
/// `str.count`). For an empty needle the caller decides (Python's answer counts characters).
pub fn count(haystack: &str, needle: &str) -> usize {
    debug_assert!(!needle.is_empty());
    memmem::find_iter(haystack.as_bytes(), needle.as_bytes()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_str_methods() {
        let cases = [
            ("aaaa", "aa"),
            ("<think>\n<think>\n", "<think>\n"),
            ("héllo wörld", "ö"),
            ("", "x"),
            ("abc", "abcd"),
            ("xxabcxxabc", "abc"),
        ];
        for (h, n) in cases {
            assert_eq!(find(h, n), h.find(n), "{h:?} {n:?}");
            assert_eq!(rfind(h, n), h.rfind(n), "{h:?} {n:?}");
            assert_eq!(count(h, n), h.matches(n).count(), "{h:?} {n:?}");
        }
    }
}
