//! The runtime of the reward language: what a compiled (or interpreted) reward needs at run time,
//! and nothing of the compiler. Values and types, decoding of rollouts against an input schema,
//! native text/regex/number helpers, and the parallel, order-preserving batch driver.

pub mod abi;
mod arena;
pub mod builtins;
pub mod capi;
pub mod decode;
pub mod driver;
pub mod ltl;
pub mod machine;
pub mod meta;
pub mod meter;
pub mod native;
pub mod output;
pub mod semantics;
pub mod tables;
pub mod ty;
pub mod value;

pub use ty::Ty;
pub use value::Value;

/// A seeded xorshift generator for the unit tests' random cases: `next(m)` is in `0..m`.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |m| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    }
}
