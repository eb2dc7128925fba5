//! Diagnostics: every mistake the compiler reports, with a stable code, the exact span, a message
//! in the user's terms and a help line. Rendered with ariadne as plain text (no colour), so the
//! output is stable enough to snapshot.

use std::fmt;
use std::ops::Range;

use ariadne::{Config, IndexType, Label, Report, ReportKind};

/// Identifies a source file within a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The files of one compilation: the root spec, the files it imports and the stdlib modules used.
#[derive(Default, Debug)]
pub struct SourceMap {
    files: Vec<(String, String)>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push((name.into(), text.into()));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn name(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].0
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].1
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| FileId(i as u32))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let text = self.text(span.file);
        let upto = &text[..(span.start as usize).min(text.len())];
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    pub fn snippet(&self, span: Span) -> &str {
        let text = self.text(span.file);
        text.get(span.range()).unwrap_or("")
    }
}

/// Stable diagnostic codes. Never renumber: users search for them and tests name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// Syntax error.
    E0001,
    /// Unknown name.
    E0002,
    /// Type mismatch.
    E0003,
    /// A name defined twice.
    E0004,
    /// Unknown type name.
    E0005,
    /// Unknown field of a record.
    E0006,
    /// Wrong number of arguments.
    E0007,
    /// Invalid regular expression.
    E0008,
    /// Regex feature not supported by linear-time matching (backreferences, look-around).
    E0009,
    /// Unknown regex flag.
    E0010,
    /// Number literal out of range.
    E0011,
    /// Recursive function or definition cycle.
    E0012,
    /// Param default is not a constant.
    E0013,
    /// Missing or duplicate `score`.
    E0014,
    /// Missing or duplicate `input` block.
    E0015,
    /// Optional value used where a value is required.
    E0016,
    /// Comparisons cannot be chained.
    E0017,
    /// Aggregate used on something that is not a list.
    E0018,
    /// Rubric problems (unknown option, invalid normalisation, bad clip range).
    E0019,
    /// Import problems (unknown module, unknown item, unreadable file, import cycle).
    E0020,
    /// Input or schema problems (reserved or duplicate field names).
    E0021,
    /// Test block problems (unknown input field in `given`, missing required field, bad param).
    E0022,
    /// Nesting too deep / program too large.
    E0023,
    /// Invalid string escape.
    E0024,
    /// Value of a kind that cannot be compared or used here (e.g. comparing regexes).
    E0025,
    /// Functions cannot read the rollout or the terms.
    E0026,
    /// A comprehension used outside an aggregate call.
    E0027,
    /// Construct not available in this position (e.g. a term that refers to itself).
    E0028,
    /// Division or modulo by a constant zero, or another error found while folding constants.
    E0029,
    /// Invalid `--param` override.
    E0030,
    /// Temporal problem: an `ltl` formula (trace, past over future, automaton too large) or a
    /// `shape` item.
    E0031,
    /// Unknown probe family in `expect probe <family> == safe`.
    E0032,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// Text under the primary span.
    pub label: String,
    pub help: Option<String>,
    /// Secondary spans, e.g. the first definition of a duplicated name.
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.notes.push((span, text.into()));
        self
    }
}

/// Renders diagnostics as plain text, in the order of their position in the sources.
pub fn render(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    let mut cache = ariadne::sources(
        sources
            .files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone())),
    );
    let mut out = Vec::new();
    for d in sorted.iter().take(MAX_RENDERED) {
        render_one(sources, &mut cache, d, &mut out);
    }
    if sorted.len() > MAX_RENDERED {
        out.extend_from_slice(
            format!(
                "… and {} more problems not shown\n",
                sorted.len() - MAX_RENDERED
            )
            .as_bytes(),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each diagnostic rendered alone, as [`render`] renders a list of one (the sources are read
/// once for all of them).
pub fn render_each(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut cache = ariadne::sources(
        sources
            .files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone())),
    );
    diagnostics
        .iter()
        .map(|d| {
            let mut out = Vec::new();
            render_one(sources, &mut cache, d, &mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect()
}

/// Past this many, more diagnostics only bury the first ones (which usually cause the rest).
pub const MAX_RENDERED: usize = 200;
/// Messages and labels longer than this (in bytes) are cut in the middle.
const MAX_MESSAGE: usize = 300;

fn shorten(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_string();
    }
    let head: String = text.chars().take(140).collect();
    let tail: String = text
        .chars()
        .rev()
        .take(140)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head} … {tail}")
}

/// Source lines longer than this are not echoed: the report would be megabytes of one line.
const MAX_ECHOED_LINE: usize = 2000;

fn render_one(
    sources: &SourceMap,
    cache: &mut impl ariadne::Cache<String>,
    d: &Diagnostic,
    out: &mut Vec<u8>,
) {
    // A message that quotes a huge name (a 100,000-character identifier) is cut, not echoed.
    let shortened;
    let d = if d.message.len() > MAX_MESSAGE || d.label.len() > MAX_MESSAGE {
        shortened = Diagnostic {
            message: shorten(&d.message),
            label: shorten(&d.label),
            ..d.clone()
        };
        &shortened
    } else {
        d
    };
    if line_len(sources, d.span) > MAX_ECHOED_LINE
        || d.notes
            .iter()
            .any(|(s, _)| line_len(sources, *s) > MAX_ECHOED_LINE)
    {
        render_compact(sources, d, out);
        return;
    }
    let name = |s: Span| sources.name(s.file).to_string();
    let config = Config::default()
        .with_color(false)
        .with_index_type(IndexType::Byte);
    let label = if d.label.is_empty() {
        d.message.clone()
    } else {
        d.label.clone()
    };
    let mut report = Report::build(ReportKind::Error, (name(d.span), d.span.range()))
        .with_config(config)
        .with_code(d.code)
        .with_message(&d.message)
        .with_label(Label::new((name(d.span), d.span.range())).with_message(label));
    for (span, text) in &d.notes {
        report = report.with_label(Label::new((name(*span), span.range())).with_message(text));
    }
    if let Some(help) = &d.help {
        report = report.with_help(help);
    }
    if report.finish().write(&mut *cache, &mut *out).is_err() {
        // Rendering can only fail on an inconsistent source map; fall back to a plain line so
        // that the diagnostic is never lost.
        let (line, col) = sources.line_col(d.span);
        out.extend_from_slice(
            format!(
                "[{}] Error: {} at {}:{line}:{col}\n",
                d.code,
                d.message,
                name(d.span)
            )
            .as_bytes(),
        );
    }
}

/// Suggests the candidate closest to `name`, if one is close enough to be a plausible typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // One- and two-letter names are within one edit of each other: any guess would be noise.
    // Very long names are not typos, and comparing them would cost O(n²).
    if name.chars().count() < 3 || name.len() > 64 {
        return None;
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name || c.len() > 64 {
            continue;
        }
        // Names whose lengths differ a lot are never typos of each other: skip the costly measures.
        if c.len().abs_diff(name.len()) > name.len().div_ceil(2).max(2) {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close = score > 0.8 || strsim::levenshtein(name, c) <= name.len().div_ceil(3).max(1);
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

fn line_len(sources: &SourceMap, span: Span) -> usize {
    let text = sources.text(span.file);
    let at = (span.start as usize).min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    end - start
}

/// The same information without echoing the source line.
fn render_compact(sources: &SourceMap, d: &Diagnostic, out: &mut Vec<u8>) {
    let (line, col) = sources.line_col(d.span);
    let mut text = format!(
        "[{}] Error: {}\n   at {}:{line}:{col} (the line is too long to show)\n",
        d.code,
        d.message,
        sources.name(d.span.file)
    );
    for (span, note) in &d.notes {
        let (l, c) = sources.line_col(*span);
        text.push_str(&format!(
            "   note at {}:{l}:{c}: {note}\n",
            sources.name(span.file)
        ));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("   Help: {help}\n"));
    }
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rendered_alone_is_rendered_as_a_list_of_one() {
        let mut sources = SourceMap::default();
        let file = sources.add("x.reward", "let a = 1\nlet b = c\n");
        let d = |start: usize| {
            Diagnostic::new(
                Code::E0002,
                Span::new(file, start, start + 1),
                "unknown name",
            )
        };
        let diags = [d(18), d(4)];
        let each: Vec<String> = diags
            .iter()
            .map(|x| render(&sources, std::slice::from_ref(x)))
            .collect();
        assert_eq!(render_each(&sources, &diags), each);
    }
}
