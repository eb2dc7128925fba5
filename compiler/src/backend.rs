//! The engines that run a compiled program. The interpreter is the meaning; every other
//! backend must produce the same term values (floats bit for bit) and the same row errors.

use reward_runtime::Value;

use crate::interp::{Interpreter, RuntimeError};

pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// Computes every term for one rollout (a record of the input type), indexed by term id.
    fn eval_row(&self, input: &Value) -> Result<Vec<Value>, RuntimeError>;
    /// Computes the group stage's terms (`Program::group`'s `order`) for one rollout whose
    /// per-row terms and group aggregates are already in `terms`.
    fn eval_group_terms(&self, input: &Value, terms: &mut [Value]) -> Result<(), RuntimeError>;
}

impl Backend for Interpreter<'_> {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn eval_row(&self, input: &Value) -> Result<Vec<Value>, RuntimeError> {
        Interpreter::eval_row(self, input)
    }

    fn eval_group_terms(&self, input: &Value, terms: &mut [Value]) -> Result<(), RuntimeError> {
        Interpreter::eval_group_terms(self, input, terms)
    }
}
