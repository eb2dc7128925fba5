//! Random edits of real inputs for the fuzz targets (`tests/fuzz.rs`, and the C API target in
//! `tests/shared_library.rs`): a seedable generator and mutations that splice in the tokens and
//! characters that break lexers, JSON and LaTeX.
// Each suite compiles this file on its own and uses a part of it.
#![allow(dead_code)]

/// A small, seedable generator (xorshift64*): the fuzzers must be reproducible from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn seeded(target: &str) -> Rng {
        let seed = std::env::var("REWARD_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("fuzz {target}: seed {seed} (REWARD_FUZZ_SEED={seed} replays it)");
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces that mutations splice in: the language's tokens and the characters that break
/// lexers, JSON and LaTeX.
pub const PIECES: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    "/",
    "//",
    "/*",
    "*/",
    ",",
    ":",
    ";",
    "=",
    "==",
    "+",
    "-",
    "*",
    "**",
    "%",
    "?",
    "??",
    "~",
    ".",
    "..",
    "\n",
    "\t",
    " ",
    "0",
    "-1",
    "1e308",
    "9223372036854775807",
    "NaN",
    "null",
    "true",
    "none",
    "é",
    "\u{0}",
    "\u{feff}",
    "𝑥",
    "let",
    "rule",
    "score",
    "fn",
    "input",
    "use",
    "machine",
    "ltl",
    "rubric",
    "group by",
    "for",
    "in",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "text",
    "int",
    "float",
    "bool",
    "list[",
    "test",
    "expect",
    "given",
    "prop",
    "step",
    "eventually",
    "always",
    "until",
    "next",
    "\\frac{",
    "\\sqrt",
    "\\boxed{",
    "^",
    "_",
    "$",
    "\\left(",
    "\\right)",
    "\\begin{pmatrix}",
    "&",
    "\\\\",
    "%",
    "<answer>",
    "</answer>",
    "<think>",
];

/// One random edit of `text`: delete, duplicate, insert a piece, swap two spans, or cut it.
pub fn mutate(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let at = rng.below(n + 1);
    let len = rng.below(16).min(n - at.min(n));
    let s = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    match rng.below(6) {
        0 => format!("{}{}", s(0, at), s(at + len, n)),
        1 => format!("{}{}{}", s(0, at + len), s(at, at + len), s(at + len, n)),
        2 | 3 => format!("{}{}{}", s(0, at), rng.pick(PIECES), s(at, n)),
        4 => {
            let other = rng.below(n + 1);
            let (a, b) = (at.min(other), at.max(other));
            format!("{}{}{}{}", s(0, a), s(b, n), s(a, b), "")
        }
        _ => s(0, at),
    }
}

pub fn mutated(rng: &mut Rng, seed: &str) -> String {
    let mut text = seed.to_string();
    for _ in 0..=rng.below(4) {
        text = mutate(rng, &text);
    }
    text
}
