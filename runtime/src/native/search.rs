//! Substring search with `memchr::memmem` (SIMD two-way search): the reward functions of this
//! language spend most of their time looking for tags and markers in long completions, and the
//! standard library's `str::find` is several times slower on such texts.

use std::cell::RefCell;

use memchr::memmem::Finder;

/// Haystacks shorter than this are searched directly: building a `memmem` searcher costs
/// more than scanning a label or a short field.
const SHORT: usize = 64;

/// Byte offset of the first occurrence of `needle` (always a character boundary).
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    find_bytes(haystack.as_bytes(), needle.as_bytes())
}

/// [`find`] on bytes.
pub fn find_bytes(h: &[u8], n: &[u8]) -> Option<usize> {
    match n.len() {
        _ if n.len() > h.len() => None,
        0 => Some(0),
        1 if h.len() < SHORT => h.iter().position(|&b| b == n[0]),
        _ if h.len() < SHORT => h.windows(n.len()).position(|w| w == n),
        1 => memchr::memchr(n[0], h),
        _ => with_finder(n, |f| f.find(h)),
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
        // Forward SIMD searches, each from just past the last hit (so overlapping occurrences
        // count): `memmem`'s reverse searcher has no vector path, and a needle that is absent
        // (a `\boxed` in most completions) made it read the whole text at a fraction of the
        // forward speed.
        _ => with_finder(n, |finder| {
            let mut last = finder.find(h)?;
            while let Some(i) = finder.find(&h[last + 1..]) {
                last += 1 + i;
            }
            Some(last)
        }),
    }
}

pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// Non-overlapping occurrences of a non-empty `needle`, left to right (as Python's
/// `str.count`). For an empty needle the caller decides (Python's answer counts characters).
pub fn count(haystack: &str, needle: &str) -> usize {
    debug_assert!(!needle.is_empty());
    with_finder(needle.as_bytes(), |f| {
        f.find_iter(haystack.as_bytes()).count()
    })
}

/// Needles whose searchers a thread keeps, and the longest it keeps.
const KEPT_FINDERS: usize = 16;
const KEPT_NEEDLE_BYTES: usize = 64;

thread_local! {
    static FINDERS: RefCell<Vec<Finder<'static>>> = const { RefCell::new(Vec::new()) };
}

/// `f` on a `memmem` searcher for `needle`. Reward functions look for the same few tags and
/// markers in every completion, and building a searcher (its prefilter, its ranking of the
/// needle's rare bytes) cost more than some of the searches (W1: 3 % of a run), so each
/// thread keeps the searchers of the last short needles it searched for.
pub fn with_finder<R>(needle: &[u8], f: impl FnOnce(&Finder<'_>) -> R) -> R {
    if needle.len() > KEPT_NEEDLE_BYTES {
        return f(&Finder::new(needle));
    }
    FINDERS.with(|kept| {
        let Ok(mut kept) = kept.try_borrow_mut() else {
            return f(&Finder::new(needle));
        };
        let i = match kept.iter().position(|k| k.needle() == needle) {
            Some(i) => i,
            None => {
                if kept.len() == KEPT_FINDERS {
                    kept.remove(0);
                }
                kept.push(Finder::new(needle).into_owned());
                kept.len() - 1
            }
        };
        f(&kept[i])
    })
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
    fn kept_searchers_find_their_own_needles_as_needles_come_and_go() {
        // More needles than a thread keeps, each searched for twice in turn, some longer than
        // it keeps: every answer is the needle's own.
        let needles: Vec<String> = (0..40)
            .map(|i| match i % 5 {
                4 => format!("{}{i}", "long".repeat(20)),
                _ => format!("<tag{i}>"),
            })
            .collect();
        let haystack: String = needles.iter().rev().map(|n| format!("{n} text ")).collect();
        for round in 0..2 {
            for n in needles.iter().chain(needles.iter().rev()) {
                assert_eq!(find(&haystack, n), haystack.find(n.as_str()), "{n} {round}");
                assert_eq!(
                    rfind(&haystack, n),
                    haystack.rfind(n.as_str()),
                    "{n} {round}"
                );
                assert_eq!(
                    count(&haystack, n),
                    haystack.matches(n.as_str()).count(),
                    "{n}"
                );
            }
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
