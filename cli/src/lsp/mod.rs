//! `reward lsp`: a language server over standard input and output, for any editor that speaks
//! the Language Server Protocol. It checks a spec as it is typed (the same diagnostics as
//! `reward check`, underlined where they point), shows the type of a term or the signature and
//! documentation of a builtin on hover, jumps to where a name is defined, and lists a file's
//! items as its outline, completes names, fields, std functions and keywords, and formats a
//! document as `reward fmt` does. It uses only the library's public API.

mod complete;

use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::{
    DiagnosticSeverity, DocumentSymbol, DocumentSymbolResponse, GotoDefinitionResponse, Hover,
    HoverContents, Location, MarkupContent, MarkupKind, Position, Range, ServerCapabilities,
    SymbolKind, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use reward::{compile, Engine, Options, Source, Spec};

/// An open document: its text and the spec its latest text that compiled compiled to (so
/// that fields and types stay known while the user types a broken line).
struct Document {
    text: String,
    last_good: Option<Spec>,
}

pub fn run() -> Result<(), Box<dyn Error + Sync + Send>> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(true.into()),
        definition_provider: Some(lsp_types::OneOf::Left(true)),
        document_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        document_formatting_provider: Some(lsp_types::OneOf::Left(true)),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..lsp_types::CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    };
    connection.initialize(serde_json::to_value(capabilities)?)?;
    let mut documents: HashMap<String, Document> = HashMap::new();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    break;
                }
                let response = answer(&documents, request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(n) => {
                if let Some(published) = notice(&mut documents, n)? {
                    connection.sender.send(Message::Notification(published))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// Opens, changes or closes a document; returns the diagnostics to publish.
fn notice(
    documents: &mut HashMap<String, Document>,
    n: Notification,
) -> Result<Option<Notification>, serde_json::Error> {
    use lsp_types::{
        DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    };
    let (uri, text) = match n.method.as_str() {
        "textDocument/didOpen" => {
            let p: DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
            (p.text_document.uri, p.text_document.text)
        }
        "textDocument/didChange" => {
            let p: DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
            let Some(last) = p.content_changes.into_iter().last() else {
                return Ok(None);
            };
            (p.text_document.uri, last.text)
        }
        "textDocument/didClose" => {
            let p: DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
            documents.remove(p.text_document.uri.as_str());
            return Ok(Some(publish(&p.text_document.uri, Vec::new())));
        }
        _ => return Ok(None),
    };
    let (spec, diagnostics) = check(&uri, &text);
    let previous = documents.remove(uri.as_str()).and_then(|d| d.last_good);
    let last_good = spec.or(previous);
    documents.insert(uri.as_str().to_string(), Document { text, last_good });
    Ok(Some(publish(&uri, diagnostics)))
}

fn publish(uri: &Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Notification {
    let params = lsp_types::PublishDiagnosticsParams {
        uri: uri.clone(),
        diagnostics,
        version: None,
    };
    Notification::new("textDocument/publishDiagnostics".into(), params)
}

/// The file a `file://` URI names (percent escapes decoded), if it is one.
fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// Compiles the text (imports relative to the file's directory) into its diagnostics.
fn check(uri: &Uri, text: &str) -> (Option<Spec>, Vec<lsp_types::Diagnostic>) {
    let path = file_path(uri);
    let name = path
        .as_ref()
        .map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
    let dir = path
        .as_ref()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let source = Source::Text {
        name: name.clone(),
        text: text.to_string(),
        dir,
    };
    match compile(source, &Options::default().engine(Engine::Interpreter)) {
        Ok(spec) => (Some(spec), Vec::new()),
        Err(diags) => {
            let list = diags
                .problems()
                .iter()
                .map(|p| diagnostic(p, &name, text))
                .collect();
            (None, list)
        }
    }
}

fn diagnostic(p: &reward::Problem, name: &str, text: &str) -> lsp_types::Diagnostic {
    let here = p.file == name && p.line > 0;
    let range = if here {
        Range {
            start: position_of_line_col(text, p.line, p.column),
            end: position_of_line_col(text, p.end_line, p.end_column),
        }
    } else {
        Range::default()
    };
    let mut message = if here || p.file.is_empty() {
        p.message.clone()
    } else {
        format!("{}:{}:{}: {}", p.file, p.line, p.column, p.message)
    };
    if let Some(help) = &p.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        code: p.code.clone().map(lsp_types::NumberOrString::String),
        source: Some("reward".into()),
        message,
        ..lsp_types::Diagnostic::default()
    }
}

/// The LSP position (UTF-16 columns) of 1-based line `line`, 1-based character `column`.
fn position_of_line_col(text: &str, line: usize, column: usize) -> Position {
    let line_text = text.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    let units: usize = line_text
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf16)
        .sum();
    Position::new(line.saturating_sub(1) as u32, units as u32)
}

/// The LSP position of a byte offset.
fn position_of_offset(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let units: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, units as u32)
}

/// The byte offset of an LSP position (clamped to the text).
fn offset_of(text: &str, at: Position) -> usize {
    let mut offset = 0;
    for (i, line) in text.split('\n').enumerate() {
        if i == at.line as usize {
            let mut units = 0;
            for (j, c) in line.char_indices() {
                if units >= at.character as usize {
                    return offset + j;
                }
                units += c.len_utf16();
            }
            return offset + line.len();
        }
        offset += line.len() + 1;
    }
    text.len()
}

/// The name under (or just before) the cursor.
fn word_at(text: &str, at: Position) -> Option<&str> {
    let offset = offset_of(text, at);
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_name(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset
        + text[offset..]
            .find(|c: char| !is_name(c))
            .unwrap_or(text.len() - offset);
    (start < end).then(|| &text[start..end])
}

fn answer(documents: &HashMap<String, Document>, request: Request) -> Response {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        "textDocument/hover" => with_document(documents, request, hover),
        "textDocument/definition" => with_document(documents, request, definition),
        "textDocument/documentSymbol" => symbols(documents, request),
        "textDocument/completion" => with_document(documents, request, completion),
        "textDocument/formatting" => formatting(documents, request),
        _ => {
            return Response::new_err(
                id,
                lsp_server::ErrorCode::MethodNotFound as i32,
                format!("unsupported request {}", request.method),
            )
        }
    };
    match result {
        Ok(value) => Response::new_ok(id, value),
        Err(e) => Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, e),
    }
}

/// Runs a position request against its open document (`null` for a document not open).
fn with_document(
    documents: &HashMap<String, Document>,
    request: Request,
    f: fn(&Document, &Uri, Position) -> serde_json::Value,
) -> Result<serde_json::Value, String> {
    let p: lsp_types::TextDocumentPositionParams =
        serde_json::from_value(request.params).map_err(|e| e.to_string())?;
    let uri = p.text_document.uri;
    Ok(documents
        .get(uri.as_str())
        .map_or(serde_json::Value::Null, |d| f(d, &uri, p.position)))
}

fn hover(doc: &Document, _uri: &Uri, at: Position) -> serde_json::Value {
    let Some(word) = word_at(&doc.text, at) else {
        return serde_json::Value::Null;
    };
    let defined = reward::outline(&doc.text)
        .into_iter()
        .find(|s| s.name == word && s.kind != "test");
    let text = if let Some(symbol) = defined {
        let ty = doc.last_good.as_ref().and_then(|spec| {
            spec.terms()
                .into_iter()
                .find(|t| t.name == word)
                .map(|t| t.ty.to_string())
        });
        match ty {
            Some(ty) => format!("```reward\n{} {word}: {ty}\n```", symbol.kind),
            None => format!("```reward\n{} {word}\n```", symbol.kind),
        }
    } else if let Some(b) = reward::builtin(word) {
        let from = b
            .module
            .map_or(String::new(), |m| format!("\n\n(from `std::{m}`)"));
        format!("```reward\n{}\n```\n{}{from}", b.signature, b.doc)
    } else {
        return serde_json::Value::Null;
    };
    let hover = Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: None,
    };
    serde_json::to_value(hover).unwrap_or_default()
}

fn completion(doc: &Document, _uri: &Uri, at: Position) -> serde_json::Value {
    let items = complete::completions(doc, offset_of(&doc.text, at));
    serde_json::to_value(lsp_types::CompletionResponse::Array(items)).unwrap_or_default()
}

/// The whole document in `reward fmt`'s layout, as one edit (none when it is already
/// formatted; `null` when it has syntax errors, which the diagnostics show).
fn formatting(
    documents: &HashMap<String, Document>,
    request: Request,
) -> Result<serde_json::Value, String> {
    let p: lsp_types::DocumentFormattingParams =
        serde_json::from_value(request.params).map_err(|e| e.to_string())?;
    let Some(doc) = documents.get(p.text_document.uri.as_str()) else {
        return Ok(serde_json::Value::Null);
    };
    let Ok(formatted) = reward::format(p.text_document.uri.as_str(), &doc.text) else {
        return Ok(serde_json::Value::Null);
    };
    let edits = if formatted == doc.text {
        Vec::new()
    } else {
        vec![lsp_types::TextEdit {
            range: Range {
                start: Position::new(0, 0),
                end: position_of_offset(&doc.text, doc.text.len()),
            },
            new_text: formatted,
        }]
    };
    serde_json::to_value(edits).map_err(|e| e.to_string())
}

/// Where a name is defined: in this file, else in a file it imports with `use "…"` (or, on
/// the import's path itself, that file).
fn definition(doc: &Document, uri: &Uri, at: Position) -> serde_json::Value {
    let offset = offset_of(&doc.text, at);
    let imports = reward::file_imports(&doc.text);
    let dir = file_path(uri).and_then(|p| p.parent().map(PathBuf::from));
    let resolve = |path: &str| dir.as_ref().map(|d| d.join(path));
    let location = if let Some((path, ..)) = imports
        .iter()
        .find(|(_, start, end)| (*start..=*end).contains(&offset))
    {
        resolve(path).and_then(|file| {
            let target = file_uri(&file)?;
            Some(Location::new(target, Range::default()))
        })
    } else {
        let Some(word) = word_at(&doc.text, at) else {
            return serde_json::Value::Null;
        };
        let here = reward::outline(&doc.text)
            .into_iter()
            .find(|s| s.name == word && s.kind != "test")
            .map(|s| symbol_location(uri.clone(), &doc.text, &s));
        here.or_else(|| {
            imports.iter().find_map(|(path, ..)| {
                let file = resolve(path)?;
                let text = reward::read_spec(&file).ok()?;
                let symbol = reward::outline(&text)
                    .into_iter()
                    .find(|s| s.name == word && s.kind != "test")?;
                Some(symbol_location(file_uri(&file)?, &text, &symbol))
            })
        })
    };
    location.map_or(serde_json::Value::Null, |l| {
        serde_json::to_value(GotoDefinitionResponse::Scalar(l)).unwrap_or_default()
    })
}

fn symbol_location(uri: Uri, text: &str, symbol: &reward::Symbol) -> Location {
    Location {
        uri,
        range: Range {
            start: position_of_offset(text, symbol.start),
            end: position_of_offset(text, symbol.end),
        },
    }
}

/// The `file://` URI of a path (made absolute; characters outside the unreserved set and `/`
/// percent-encoded).
fn file_uri(path: &std::path::Path) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    let mut out = String::from("file://");
    for b in absolute.to_str()?.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

fn symbols(
    documents: &HashMap<String, Document>,
    request: Request,
) -> Result<serde_json::Value, String> {
    let p: lsp_types::DocumentSymbolParams =
        serde_json::from_value(request.params).map_err(|e| e.to_string())?;
    let Some(doc) = documents.get(p.text_document.uri.as_str()) else {
        return Ok(serde_json::Value::Null);
    };
    let text = &doc.text;
    #[allow(deprecated)] // `deprecated` is a field every DocumentSymbol must still carry
    let list: Vec<DocumentSymbol> = reward::outline(text)
        .into_iter()
        .map(|s| DocumentSymbol {
            name: s.name,
            detail: Some(s.kind.to_string()),
            kind: match s.kind {
                "fn" => SymbolKind::FUNCTION,
                "param" => SymbolKind::CONSTANT,
                "type" => SymbolKind::STRUCT,
                "input field" => SymbolKind::FIELD,
                "test" => SymbolKind::EVENT,
                _ => SymbolKind::VARIABLE,
            },
            tags: None,
            deprecated: None,
            range: Range {
                start: position_of_offset(text, s.item_start),
                end: position_of_offset(text, s.item_end),
            },
            selection_range: Range {
                start: position_of_offset(text, s.start),
                end: position_of_offset(text, s.end),
            },
            children: None,
        })
        .collect();
    serde_json::to_value(DocumentSymbolResponse::Nested(list)).map_err(|e| e.to_string())
}
