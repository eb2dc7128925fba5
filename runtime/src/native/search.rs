//! Substring search with `memchr::memmem` (SIMD two-way search): the reward functions of this
//! language spend most of their time looking for tags and markers in long completions, and the
//! standard library's `str::find` is several times slower on such texts.

use memchr::memmem;

/// Haystacks shorter than this are searched directly: building a `memmem` searcher costs
/// more than scanning a label or a short field.
const SHORT: usize = 64;

/// Byte offset of the first occurrence of `needle` (always a character boundary).
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    match n.len() {
        _ if n.len() > h.len() => None,
        0 => Some(0),
        1 if h.len() < SHORT => h.iter().position(|&b| b == n[0]),
        _ if h.len() < SHORT => h.windows(n.len()).position(|w| w == n),
        1 => memchr::memchr(n[0], h),
        _ => memmem::find(h, n),
    }
}

/// Byte offset of the last occurrence of `needle`.
pub fn rfind(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    match n.len() {
        _ if n.len() > h.len() => None,
        0 => Some(h.len()),
        1 if h.len() < SHORT => h.iter().rposition(|&b| b == n[0]),
        _ if h.len() < SHORT => h.windows(n.len()).rposition(|w| w == n),
        1 => memchr::memrchr(n[0], h),
        _ => {
            // Forward SIMD searches, each from just past the last hit (so overlapping
            // occurrences count): `memmem`'s reverse searcher has no vector path, and a needle
            // that is absent (a `\boxed` in most completions) made it read the whole text at
            // a fraction of the forward speed.
            let finder = memmem::Finder::new(n);
            let mut last = finder.find(h)?;
            while let Some(i) = finder.find(&h[last + 1..]) {
                last += 1 + i;
            }
            Some(last)
        }
    }
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
    fn short_and_long_paths_agree_with_str_methods() {
        let long = "ab".repeat(100) + "needle" + &"cd".repeat(100) + "needle!";
        for (h, n) in [
            (long.as_str(), "needle"),
            (&long, "e"),
            (&long, "zz"),
            (&long, "dn"),
        ] {
            assert_eq!(find(h, n), h.find(n), "{n:?}");
            assert_eq!(rfind(h, n), h.rfind(n), "{n:?}");
        }
    }

    #[test]
    fn agrees_with_str_methods() {
        let cases = [
            ("aaaa", "aa"),
            ("<think>\n<think>\n", "<think>\n"),
            ("héllo wörld", "ö"),
            ("", "x"),
            ("abc", "abcd"),
            ("xxabcxxabc", "abc"),
            ("", ""),
            ("ab", ""),
            ("e", "e"),
            ("", "e"),
            ("aXbXc", "X"),
        ];
        for (h, n) in cases {
            assert_eq!(find(h, n), h.find(n), "{h:?} {n:?}");
            assert_eq!(rfind(h, n), h.rfind(n), "{h:?} {n:?}");
            if !n.is_empty() {
                assert_eq!(count(h, n), h.matches(n).count(), "{h:?} {n:?}");
            }
        }
    }
}
