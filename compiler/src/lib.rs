//! The reward language compiler: syntax → check → IR → backends.
//!
//! Data flows one way: [`syntax`] parses a file into an AST, [`check`] resolves names and types
//! and elaborates the AST into the typed [`ir`], and [`interp`] (the reference meaning) runs it.
//! The runtime crate (`reward-runtime`) holds what running needs and never depends on this crate.

pub use reward_runtime::builtins;
pub mod aot;
pub mod automaton;
pub mod backend;
pub mod check;
pub mod diag;
pub mod grouping;
pub mod import_rm;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod monitor;
pub mod scoring;
pub mod stdlib;
pub mod syntax;
pub mod testing;
