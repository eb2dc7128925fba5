//! Reading the JSON Lines fixtures that the oracle scripts in bench/oracles write: a first line
//! `{"meta": {…}}`, then one JSON object per case. A malformed line fails the test naming the
//! file and line.
// Each suite compiles this file on its own and not every one reads the meta line.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Map, Value as Json};

pub struct JsonLines {
    pub meta: Map<String, Json>,
    /// Each case with its 1-based line number.
    pub rows: Vec<(u64, Map<String, Json>)>,
}

/// `path` is relative to the repository root, e.g. `tests/fixtures/trl_rewards.jsonl`.
pub fn read(path: &str) -> JsonLines {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    let text = std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()));
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_else(|| panic!("{path} is empty"));
    let meta = match serde_json::from_str::<Json>(first) {
        Ok(Json::Object(mut o)) => match o.remove("meta") {
            Some(Json::Object(m)) => m,
            _ => panic!("{path}:1: the first line must be {{\"meta\": {{…}}}}"),
        },
        _ => panic!("{path}:1: not a JSON object"),
    };
    let rows = lines
        .enumerate()
        .map(|(i, line)| {
            let line_no = i as u64 + 2;
            match serde_json::from_str::<Json>(line) {
                Ok(Json::Object(o)) => (line_no, o),
                _ => panic!("{path}:{line_no}: not a JSON object"),
            }
        })
        .collect();
    JsonLines { meta, rows }
}
