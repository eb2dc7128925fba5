//! Surface syntax: the pest grammar (`grammar/reward.pest`) and the AST built from it.

pub mod ast;
mod format;
pub(crate) mod keywords;
mod parse;

pub use format::format_source;

pub use parse::{item_starts, parse_items_at, parse_module, ItemStart};
