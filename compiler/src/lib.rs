//! # reward
//!
//! A declarative language for the reward functions of reinforcement learning, and its
//! compiler. Compile a `.reward` spec once, then score rollouts with it:
//!
//! ```
//! use reward::{compile, Options, Source};
//!
//! let spec = compile(
//!     Source::text(
//!         r#"
//!         input { completion: text, answer: text }
//!         rule has_answer = completion ~ /<answer>/
//!         rule correct = completion ~ /<answer>4<\/answer>/ and answer == "4"
//!         score = 0.2 * has_answer + 0.8 * correct
//!         "#,
//!     ),
//!     &Options::default(),
//! )?;
//! let row = spec.row_from_json(r#"{"completion": "<answer>4</answer>", "answer": "4"}"#)?;
//! let scored = spec.score(&row)?;
//! assert_eq!(scored.score(), 1.0);
//! assert_eq!(scored.to_json(), r#"{"score":1.0,"terms":{"has_answer":true,"correct":true}}"#);
//!
//! // A row that does not match the schema is an error for that row alone.
//! let err = spec.row_from_json(r#"{"completion": 3, "answer": "4"}"#).unwrap_err();
//! assert_eq!(err.field.as_deref(), Some("completion"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A spec with mistakes gives every diagnostic, structured and rendered as the CLI prints them:
//!
//! ```
//! let source = "input { completion: text }\nscore = lenn(completion)";
//! let err = reward::compile(reward::Source::text(source), &Default::default())
//!     .err()
//!     .unwrap();
//! let problem = &err.problems()[0];
//! assert_eq!(problem.code.as_deref(), Some("E0002"));
//! assert_eq!((problem.line, problem.column), (2, 9));
//! assert_eq!(problem.help.as_deref(), Some("did you mean `len`?"));
//! assert!(err.to_string().contains("error: 1 problem found in <spec>"));
//! ```
//!
//! [`Options`] choose the engine (the JIT by default, or the reference interpreter, which
//! agree bit for bit) and override params. A [`Spec`] is cheap to clone and safe to share
//! between threads; [`Spec::score_batch`] scores rows in parallel (and forms `group by`
//! groups over the batch; a caller that makes the rows itself can make them on the same
//! workers with [`Spec::on_workers`]), [`Spec::run_tests`] runs the spec's tests, [`Spec::monitor`] steps
//! its machines and formulas online, and [`Spec::build_library`] writes a shared library
//! with a C API. To look inside a score, [`Spec::evaluate`] gives every term's value (the
//! hidden ones too, in the order of [`Spec::all_terms`]); [`Spec::with_engine`] gives the same
//! checked spec on the other engine, to compare them.
//!
//! Inside, data flows one way: `syntax` parses a file into an AST, `check` resolves names and
//! types and elaborates the AST into the typed `ir`, and the interpreter (the meaning), the
//! JIT and the object-file backend run it. The runtime crate (`reward-runtime`) holds what
//! running needs and never depends on this crate.

mod aot;
mod api;
mod automaton;
mod backend;
mod check;
mod diag;
mod diff;
mod explain;
mod grouping;
mod import_rm;
mod interp;
mod ir;
mod jit;
mod lint;
mod loop_shape;
mod monitor;
mod outline;
mod probe;
mod scoring;
mod stdlib;
mod syntax;
mod testing;

pub use api::{
    compile, format, import_reward_machine, read_spec, value_to_json, value_to_json_typed,
    Diagnostics, Engine, GroupRow, GroupStages, LineOutput, LineScorer, Options, ParamInfo,
    Problem, Row, RowError, Scored, Source, Spec, TermInfo, TestCase, MAX_SPEC_BYTES,
};
pub use diff::{diff, Diff, Outcome, RowDiff, TermChange, TermSummary};
pub use explain::AutomatonInfo;
pub use lint::{StaticFinding, KINDS as STATIC_FINDING_KINDS};
pub use monitor::{Monitor, MonitorError, StepResult, Verdict};
pub use outline::{builtin, builtins, file_imports, outline, BuiltinDoc, Symbol};
pub use probe::{probe, Finding, ProbeOptions, ProbeReport};
pub use reward_runtime::value::{Column, Columns, Texts};
pub use reward_runtime::{Ty, Value};
pub use testing::TestReport;

use reward_runtime::builtins;

/// Every keyword of the language: the item keywords (`let`, `rule`, `machine`, …), the reserved
/// words of expressions (`and`, `if`, `true`, …) and the words that are keywords inside one
/// construct (`criterion`, `when`, `always`, …). The parser takes its reserved words and item
/// keywords from the same declaration.
///
/// ```
/// let keywords: Vec<&str> = reward::keywords().collect();
/// assert!(keywords.contains(&"machine") && keywords.contains(&"eventually"));
/// ```
pub fn keywords() -> impl Iterator<Item = &'static str> {
    syntax::keywords::all()
}
