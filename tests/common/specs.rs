//! Compiling a spec held in a string under a file name of its own (diagnostics name that file),
//! on the reference interpreter. Included with `#[path]` by the suites that need it.

use std::path::Path;

use reward::{Engine, Options, Source, Spec};

pub fn compile_named(name: &str, text: &str) -> Result<Spec, String> {
    let source = Source::Text {
        name: name.into(),
        text: text.into(),
        dir: Path::new(".").into(),
    };
    reward::compile(source, &Options::default().engine(Engine::Interpreter))
        .map_err(|d| d.to_string())
}
