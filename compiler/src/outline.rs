//! What an editor asks about a spec's text without compiling it: the names it defines and
//! where (from the parser alone, so a file with type errors still has an outline, and an item
//! with a syntax error costs only that item), and the documentation of a builtin.

use reward_runtime::builtins::BUILTINS;

use crate::diag::{FileId, Span};
use crate::syntax::ast::{Item, ItemKind, UseDecl};
use crate::syntax::parse_module;

/// A name defined by a top-level item (or inside `group by`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// The keyword that defines it: `let`, `rule`, `fn`, `param`, `type`, `input field`, …
    pub kind: &'static str,
    /// Byte range of the name in the text.
    pub start: usize,
    pub end: usize,
    /// Byte range of the whole item.
    pub item_start: usize,
    pub item_end: usize,
}

/// The names a spec's text defines, in order of appearance.
pub fn outline(text: &str) -> Vec<Symbol> {
    let (module, _) = parse_module(FileId(0), text);
    let mut out = Vec::new();
    for item in &module.items {
        symbols_of(item, &mut out);
    }
    out
}

/// The files a spec's text imports with `use "…"`: each path as written, with the byte range
/// of the string in the text.
pub fn file_imports(text: &str) -> Vec<(String, usize, usize)> {
    let (module, _) = parse_module(FileId(0), text);
    module
        .items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Use(UseDecl::File { path, span }) => {
                Some((path.clone(), span.start as usize, span.end as usize))
            }
            _ => None,
        })
        .collect()
}

fn symbols_of(item: &Item, out: &mut Vec<Symbol>) {
    let mut push = |kind: &'static str, name: &str, span: Span| {
        out.push(Symbol {
            name: name.to_string(),
            kind,
            start: span.start as usize,
            end: span.end as usize,
            item_start: item.span.start as usize,
            item_end: item.span.end as usize,
        })
    };
    match &item.kind {
        ItemKind::Input(fields) => {
            for f in fields {
                push("input field", &f.name.name, f.name.span);
            }
        }
        ItemKind::Param { name, .. } => push("param", &name.name, name.span),
        ItemKind::Type { name, .. } => push("type", &name.name, name.span),
        ItemKind::Let { name, .. } => push("let", &name.name, name.span),
        ItemKind::Rule { name, .. } => push("rule", &name.name, name.span),
        ItemKind::Score { keyword, .. } => push("score", "score", *keyword),
        ItemKind::Fn(f) => push("fn", &f.name.name, f.name.span),
        ItemKind::Rubric(r) => push("rubric", &r.name.name, r.name.span),
        ItemKind::Test(t) => push("test", &t.name, t.name_span),
        ItemKind::Prop { name, .. } => push("prop", &name.name, name.span),
        ItemKind::Machine(m) => push("machine", &m.name.name, m.name.span),
        ItemKind::Ltl(l) => push("ltl", &l.name.name, l.name.span),
        ItemKind::Use(_) | ItemKind::Shape(_) => {}
        ItemKind::Group { items, .. } => {
            for inner in items {
                symbols_of(inner, out);
            }
        }
    }
}

/// A function a spec can call, as the language reference describes it: a native builtin (from
/// the builtins table) or a function written in a `std::` module (from its source and its `///`
/// doc comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinDoc {
    pub name: String,
    /// `len(text|list[T]) -> int`, as diagnostics write it; for a function written in a std
    /// module, its declaration: `open_r1_format(s: text) -> bool`.
    pub signature: String,
    pub doc: String,
    /// The `std::` module that exports it, as `use` names it (`math` for `std::math`);
    /// `None`: always in scope.
    pub module: Option<&'static str>,
}

/// The function a spec calls `name`, if the standard library has one.
pub fn builtin(name: &str) -> Option<BuiltinDoc> {
    builtins().into_iter().find(|b| b.name == name)
}

/// Every function of the standard library: the prelude's natives first, then each `std::`
/// module's natives and the functions written in it (helpers named `_…` are left out), in the
/// order of the builtins table and of the module's file.
pub fn builtins() -> Vec<BuiltinDoc> {
    // The table names modules by path (`std::math`); a doc names them as `use` does (`math`).
    let native = |module: Option<&'static str>| {
        BUILTINS
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.module.map(|m| m.trim_start_matches("std::")) == module)
            .map(move |(id, b)| BuiltinDoc {
                name: b.name.to_string(),
                signature: crate::check::builtin_signature(id)
                    .trim_matches('`')
                    .to_string(),
                doc: b.doc.to_string(),
                module,
            })
    };
    let mut out: Vec<BuiltinDoc> = native(None).collect();
    for module in crate::stdlib::MODULES {
        out.extend(native(Some(module.name)));
        out.extend(written_functions(module));
    }
    out
}

/// The public functions a std module defines in the language.
fn written_functions(module: &'static crate::stdlib::StdModule) -> Vec<BuiltinDoc> {
    let (parsed, _) = parse_module(FileId(0), module.source);
    let text = module.source;
    let mut out = Vec::new();
    for item in &parsed.items {
        let ItemKind::Fn(f) = &item.kind else {
            continue;
        };
        if f.name.name.starts_with('_') {
            continue;
        }
        let start = item.span.start as usize;
        // The declaration up to the `=` that starts the body (types contain no `=`).
        let header = &text[start..item.span.end as usize];
        let arrow = header.find("->").unwrap_or(0);
        let body = header[arrow..]
            .find('=')
            .map_or(header.len(), |i| arrow + i);
        let signature = header[..body].trim().trim_start_matches("fn").trim();
        out.push(BuiltinDoc {
            name: f.name.name.clone(),
            signature: signature.split_whitespace().collect::<Vec<_>>().join(" "),
            doc: doc_comment(text, start),
            module: Some(module.name),
        });
    }
    out
}

/// The `///` lines just above `start`, without their markers.
fn doc_comment(text: &str, start: usize) -> String {
    let mut lines: Vec<&str> = text[..start]
        .lines()
        .rev()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.trim_start().starts_with("///"))
        .map(|l| {
            let l = l.trim_start().trim_start_matches("///");
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect();
    lines.reverse();
    lines.join("\n")
}
