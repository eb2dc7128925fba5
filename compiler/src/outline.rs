//! What an editor asks about a spec's text without compiling it: the names it defines and
//! where (from the parser alone, so a file with type errors still has an outline, and an item
//! with a syntax error costs only that item), and the documentation of a builtin.

use reward_runtime::builtins::BUILTINS;

use crate::diag::{FileId, Span};
use crate::syntax::ast::{Item, ItemKind};
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

/// A builtin function as the language reference describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinDoc {
    /// `len(text|list[T]) -> int`, as diagnostics write it.
    pub signature: String,
    pub doc: &'static str,
    /// The `std::` module that exports it (`None`: always in scope).
    pub module: Option<&'static str>,
}

/// The documentation of the builtin called `name` (internal builtins, which specs cannot
/// call, have none).
pub fn builtin(name: &str) -> Option<BuiltinDoc> {
    let id = BUILTINS
        .iter()
        .position(|b| b.name == name && b.module != Some("internal"))?;
    let b = &BUILTINS[id];
    Some(BuiltinDoc {
        signature: crate::check::builtin_signature(id)
            .trim_matches('`')
            .to_string(),
        doc: b.doc,
        module: b.module,
    })
}
