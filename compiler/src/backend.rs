//! The engines that run a compiled program. The interpreter is the meaning; every other
//! backend must produce the same term values (floats bit for bit) and the same row errors.

use reward_runtime::Value;

use crate::interp::{Interpreter, RuntimeError};

pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// Computes every term for one rollout (a record of the input type), indexed by term id.
    fn eval_row(&self, input: &Value) -> Result<Vec<Value>, RuntimeError>;
}

impl Backend for Interpreter<'_> {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn eval_row(&self, input: &Value) -> Result<Vec<Value>, RuntimeError> {
        Interpreter::eval_row(self, input)
    }
}
