//! Completion: what may be written at the cursor — a field after `input.`, `step.` or a
//! record column's `.`, otherwise the names the spec defines, its input columns, the standard
//! library's functions (with the `use` line added when the module is not imported yet) and the
//! keywords.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use lsp_types::{Position, Range, TextEdit};
use reward::Ty;

use super::Document;

/// The completions at `offset` in the document's text.
pub fn completions(doc: &Document, offset: usize) -> Vec<CompletionItem> {
    let text = &doc.text;
    let before = &text[..offset];
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let prefix = &before[word_start..];
    let mut items = match before[..word_start].strip_suffix('.') {
        Some(owner) => fields_after(doc, owner),
        None => everything(doc, text),
    };
    items.retain(|item| item.label.starts_with(prefix));
    items
}

/// Fields of what precedes the dot: `input.`, `step.` (the fields of every trace column's
/// steps) or a record column.
fn fields_after(doc: &Document, owner: &str) -> Vec<CompletionItem> {
    let owner_start = owner
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let owner = &owner[owner_start..];
    let Some(Ty::Record(columns)) = doc.last_good.as_ref().map(|s| s.input_schema().clone()) else {
        return Vec::new();
    };
    let record_fields = |ty: &Ty| match ty {
        Ty::Record(fields) => fields.to_vec(),
        Ty::Optional(inner) => match &**inner {
            Ty::Record(fields) => fields.to_vec(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let fields = match owner {
        "input" => columns.to_vec(),
        "step" => columns
            .iter()
            .filter_map(|c| match &c.ty {
                Ty::List(element) => Some(record_fields(element)),
                _ => None,
            })
            .flatten()
            .collect(),
        column => columns
            .iter()
            .find(|c| &*c.name == column)
            .map(|c| record_fields(&c.ty))
            .unwrap_or_default(),
    };
    fields
        .into_iter()
        .map(|f| CompletionItem {
            label: f.name.to_string(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(f.ty.to_string()),
            ..CompletionItem::default()
        })
        .collect()
}

fn everything(doc: &Document, text: &str) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    for symbol in reward::outline(text) {
        if symbol.kind == "test" {
            continue;
        }
        let kind = match symbol.kind {
            "fn" => CompletionItemKind::FUNCTION,
            "param" => CompletionItemKind::CONSTANT,
            "input field" => CompletionItemKind::FIELD,
            "type" => CompletionItemKind::STRUCT,
            _ => CompletionItemKind::VARIABLE,
        };
        let ty = doc.last_good.as_ref().and_then(|spec| {
            spec.terms()
                .into_iter()
                .find(|t| t.name == symbol.name)
                .map(|t| t.ty.to_string())
        });
        items.push(CompletionItem {
            label: symbol.name,
            kind: Some(kind),
            detail: Some(match ty {
                Some(ty) => format!("{} : {ty}", symbol.kind),
                None => symbol.kind.to_string(),
            }),
            ..CompletionItem::default()
        });
    }
    for function in reward::builtins() {
        let import = function
            .module
            .filter(|m| !in_scope(text, m, &function.name))
            .map(|m| TextEdit {
                range: Range::new(Position::new(0, 0), Position::new(0, 0)),
                new_text: format!("use std::{m}::{{{}}}\n", function.name),
            });
        let from = function
            .module
            .map_or(String::new(), |m| format!(" (std::{m})"));
        items.push(CompletionItem {
            label: function.name,
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(format!("{}{from}", function.signature)),
            documentation: Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: function.doc,
            })),
            additional_text_edits: import.map(|edit| vec![edit]),
            ..CompletionItem::default()
        });
    }
    items.extend(reward::keywords().map(|k| CompletionItem {
        label: k.to_string(),
        kind: Some(CompletionItemKind::KEYWORD),
        ..CompletionItem::default()
    }));
    items
}

/// Whether `use` lines of the text bring `std::module`'s `name` into scope (the whole module,
/// or a list that names it).
fn in_scope(text: &str, module: &str, name: &str) -> bool {
    let path = format!("std::{module}");
    text.lines().any(|line| {
        let Some(rest) = line.trim_start().strip_prefix("use") else {
            return false;
        };
        let Some(rest) = rest.trim_start().strip_prefix(&path) else {
            return false;
        };
        match rest.strip_prefix("::") {
            Some(list) => list
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == name),
            None => rest.trim().is_empty() || rest.trim_start().starts_with("//"),
        }
    })
}
