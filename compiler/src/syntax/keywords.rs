//! The language's keywords, declared once: the parser reads which words are reserved and which
//! start an item from here, and the language server offers the same words as completions
//! (through [`crate::keywords`]), so the two cannot drift apart.

/// Where a keyword has its meaning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reserved: no definition may take it as its name.
    Reserved,
    /// Starts a top-level item, and is reserved.
    ReservedItem,
    /// Starts a top-level item, but may still name things (`score`, `machine`, …).
    Item,
    /// A keyword only inside a construct (`criterion` in a rubric, `when` on an edge, `always`
    /// in a formula, …).
    Contextual,
}

/// Every keyword with its role. The reserved words come first, in the order diagnostics list
/// them.
const KEYWORDS: &[(&str, Role)] = &[
    ("and", Role::Reserved),
    ("or", Role::Reserved),
    ("not", Role::Reserved),
    ("if", Role::Reserved),
    ("then", Role::Reserved),
    ("else", Role::Reserved),
    ("for", Role::Reserved),
    ("in", Role::Reserved),
    ("true", Role::Reserved),
    ("false", Role::Reserved),
    ("none", Role::Reserved),
    ("let", Role::ReservedItem),
    ("rule", Role::ReservedItem),
    ("fn", Role::ReservedItem),
    ("use", Role::ReservedItem),
    ("input", Role::ReservedItem),
    ("param", Role::ReservedItem),
    ("type", Role::ReservedItem),
    ("rubric", Role::ReservedItem),
    ("test", Role::ReservedItem),
    ("score", Role::Item),
    ("prop", Role::Item),
    ("machine", Role::Item),
    ("ltl", Role::Item),
    ("shape", Role::Item),
    ("group", Role::Item),
    ("criterion", Role::Contextual),
    ("tag", Role::Contextual),
    ("given", Role::Contextual),
    ("expect", Role::Contextual),
    ("probe", Role::Contextual),
    ("safe", Role::Contextual),
    ("over", Role::Contextual),
    ("start", Role::Contextual),
    ("terminal", Role::Contextual),
    ("when", Role::Contextual),
    ("reward", Role::Contextual),
    ("via", Role::Contextual),
    ("by", Role::Contextual),
    ("eventually", Role::Contextual),
    ("always", Role::Contextual),
    ("next", Role::Contextual),
    ("until", Role::Contextual),
    ("release", Role::Contextual),
];

/// Every keyword of the language.
pub(crate) fn all() -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().map(|(word, _)| *word)
}

/// The reserved words, in the order diagnostics list them.
pub(super) fn reserved() -> impl Iterator<Item = &'static str> {
    KEYWORDS
        .iter()
        .filter(|(_, role)| matches!(role, Role::Reserved | Role::ReservedItem))
        .map(|(word, _)| *word)
}

pub(super) fn is_reserved(word: &str) -> bool {
    reserved().any(|w| w == word)
}

/// Whether `word` starts a top-level item (where the parser resumes after a syntax error).
pub(super) fn starts_item(word: &str) -> bool {
    KEYWORDS
        .iter()
        .any(|(w, role)| *w == word && matches!(role, Role::Item | Role::ReservedItem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_keyword_is_declared_once() {
        let mut words: Vec<&str> = all().collect();
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n);
    }

    #[test]
    fn roles() {
        assert_eq!(
            reserved().collect::<Vec<_>>().join(", "),
            "and, or, not, if, then, else, for, in, true, false, none, let, rule, fn, use, \
             input, param, type, rubric, test"
        );
        for item in [
            "use", "input", "param", "type", "let", "rule", "score", "fn", "rubric", "test",
            "prop", "machine", "ltl", "shape", "group",
        ] {
            assert!(starts_item(item), "{item}");
        }
        assert!(!starts_item("and") && !starts_item("criterion"));
        assert!(!is_reserved("score") && is_reserved("rubric"));
        assert_eq!(all().filter(|w| starts_item(w)).count(), 15);
    }
}
