//! Substring search with `memchr::memmem` (SIMD two-way search): the reward functions of this
//! language spend most of their time looking for tags and markers in long completions, and the
//! standard library's `str::find` is several times slower on such texts.

use std::cell::RefCell;

use aho_corasick::{AhoCorasick, MatchKind};
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

/// For each non-empty needle of `needles`, its non-overlapping occurrences in `haystack` as
/// [`count`] counts them, all in one pass over the haystack: an Aho–Corasick automaton reports
/// every occurrence of every needle (overlapping ones too), and each needle keeps those that
/// start at or after the end of its last one counted, which is `str.count`'s left-to-right
/// rule. A completion's tag counts are one pass instead of one per tag (16 KB completions,
/// four tags: 1.8 µs → 0.7 µs).
pub fn count_each(haystack: &str, needles: &[&str]) -> Vec<usize> {
    debug_assert!(needles.iter().all(|n| !n.is_empty()));
    match needles {
        [] => return Vec::new(),
        [needle] => return vec![count(haystack, needle)],
        _ => {}
    }
    // A needle given twice is counted once: each pattern of the automaton is distinct.
    let mut distinct: Vec<&str> = Vec::with_capacity(needles.len());
    let slots: Vec<usize> = needles
        .iter()
        .map(|n| match distinct.iter().position(|d| d == n) {
            Some(k) => k,
            None => {
                distinct.push(n);
                distinct.len() - 1
            }
        })
        .collect();
    let Some(counts) = with_automaton(&distinct, |automaton| {
        let mut counts = vec![0usize; distinct.len()];
        let mut free_from = vec![0usize; distinct.len()];
        for m in automaton.find_overlapping_iter(haystack) {
            let k = m.pattern().as_usize();
            if m.start() >= free_from[k] {
                counts[k] += 1;
                free_from[k] = m.end();
            }
        }
        counts
    }) else {
        // Needles too many for an automaton: one search each.
        return needles.iter().map(|n| count(haystack, n)).collect();
    };
    slots.iter().map(|&k| counts[k]).collect()
}

/// Needle sets whose automata a thread keeps, and the most bytes of needles it keeps one for.
const KEPT_AUTOMATA: usize = 8;
const KEPT_AUTOMATON_BYTES: usize = 1024;

/// Needles whose searchers a thread keeps, and the longest it keeps.
const KEPT_FINDERS: usize = 16;
const KEPT_NEEDLE_BYTES: usize = 64;

thread_local! {
    static AUTOMATA: Kept<Box<[Box<str>]>, Option<AhoCorasick>> = const { RefCell::new(Vec::new()) };
    static FINDERS: Kept<Box<[u8]>, Finder<'static>> = const { RefCell::new(Vec::new()) };
}

/// What a thread keeps of the last few searchers it built, each with its key (oldest first).
type Kept<K, V> = RefCell<Vec<(K, V)>>;

/// `f` on the searcher kept under `key` in `kept` (at most `capacity` of them), built by `make`
/// (with its key) when none is; the oldest kept gives way. When the cache is in use (a search
/// inside a search), the searcher is built for this call only.
fn with_kept<K, V, R>(
    kept: &'static std::thread::LocalKey<Kept<K, V>>,
    capacity: usize,
    is_key: impl Fn(&K) -> bool,
    make: impl FnOnce() -> (K, V),
    f: impl FnOnce(&V) -> R,
) -> R {
    kept.with(|kept| {
        let Ok(mut kept) = kept.try_borrow_mut() else {
            return f(&make().1);
        };
        let i = match kept.iter().position(|(k, _)| is_key(k)) {
            Some(i) => i,
            None => {
                if kept.len() == capacity {
                    kept.remove(0);
                }
                kept.push(make());
                kept.len() - 1
            }
        };
        f(&kept[i].1)
    })
}

/// `f` on an Aho–Corasick automaton of `needles` (distinct, non-empty) reporting overlapping
/// matches: as [`with_finder`], each thread keeps the automata of the last few small needle
/// sets (a spec counts the same tags in every completion). `None` when no automaton of these
/// needles can be built (more states than it can number).
fn with_automaton<R>(needles: &[&str], f: impl FnOnce(&AhoCorasick) -> R) -> Option<R> {
    let build = || {
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(needles)
            .ok()
    };
    if needles.iter().map(|n| n.len()).sum::<usize>() > KEPT_AUTOMATON_BYTES {
        return build().map(|a| f(&a));
    }
    let key = || needles.iter().map(|n| Box::from(*n)).collect();
    with_kept(
        &AUTOMATA,
        KEPT_AUTOMATA,
        |k| k.iter().map(|n| &**n).eq(needles.iter().copied()),
        || (key(), build()),
        |automaton| automaton.as_ref().map(f),
    )
}

/// `f` on a `memmem` searcher for `needle`. Reward functions look for the same few tags and
/// markers in every completion, and building a searcher (its prefilter, its ranking of the
/// needle's rare bytes) cost more than some of the searches (W1: 3 % of a run), so each
/// thread keeps the searchers of the last short needles it searched for.
pub fn with_finder<R>(needle: &[u8], f: impl FnOnce(&Finder<'_>) -> R) -> R {
    if needle.len() > KEPT_NEEDLE_BYTES {
        return f(&Finder::new(needle));
    }
    with_kept(
        &FINDERS,
        KEPT_FINDERS,
        |k| **k == *needle,
        || (Box::from(needle), Finder::new(needle).into_owned()),
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_several_needles_in_one_pass_are_each_needles_own_count() {
        // Haystacks over a small alphabet (so needles overlap each other and themselves), and
        // needle sets with repeats, prefixes of one another and multi-byte characters; more sets
        // than a thread keeps automata for, each counted twice in turn.
        let mut next = crate::test_rng(0x0c0f_fee5);
        let alphabet = ["a", "b", "<", "\n", "é", "ab", "</t>"];
        let text = |len: usize, next: &mut dyn FnMut(usize) -> usize| -> String {
            (0..len).map(|_| alphabet[next(alphabet.len())]).collect()
        };
        let sets: Vec<Vec<String>> = (0..24)
            .map(|_| {
                let k = 2 + next(5);
                (0..k).map(|_| text(1 + next(4), &mut next)).collect()
            })
            .collect();
        for round in 0..2 {
            for (i, set) in sets.iter().enumerate() {
                let needles: Vec<&str> = set.iter().map(String::as_str).collect();
                let haystack = text(next(400), &mut next);
                let want: Vec<usize> = needles.iter().map(|n| count(&haystack, n)).collect();
                assert_eq!(
                    count_each(&haystack, &needles),
                    want,
                    "round {round} set {i}: {needles:?} in {haystack:?}"
                );
            }
        }
        assert_eq!(count_each("aaaa", &["aa", "a", "aa"]), vec![2, 4, 2]);
    }

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
