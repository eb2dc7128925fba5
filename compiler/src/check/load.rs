//! Loads the root file and everything it imports: user files (relative to the importing file)
//! and the standard library modules (embedded in the binary).

// Ordered maps: every list of names in a message comes out the same on every run.
use std::collections::BTreeMap as HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::stdlib;
use crate::syntax::ast::{ItemKind, Module, UseDecl};
use crate::syntax::parse_module;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    Root,
    User,
    Std(String),
}

pub struct LoadedModule {
    pub ast: Module,
    pub kind: ModuleKind,
    /// For each `use` item of this module (by item index), the module it resolved to.
    pub imports: HashMap<usize, usize>,
}

pub struct Loaded {
    pub sources: SourceMap,
    pub modules: Vec<LoadedModule>,
    pub diags: Vec<Diagnostic>,
}

/// Where the root source comes from: a path on disk, or text with a display name (tests, stdin).
pub struct RootSource {
    pub name: String,
    pub text: String,
    pub dir: PathBuf,
}

pub fn load(root: RootSource) -> Loaded {
    let mut loader = Loader {
        sources: SourceMap::default(),
        modules: Vec::new(),
        diags: Vec::new(),
        by_key: HashMap::new(),
        loading: Vec::new(),
    };
    // Editors on Windows start files with a byte-order mark; it is not part of the program.
    let text = root
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&root.text)
        .to_string();
    let file = loader.sources.add(root.name.clone(), text);
    loader.add_module(file, ModuleKind::Root, root.dir, root.name);
    Loaded {
        sources: loader.sources,
        modules: loader.modules,
        diags: loader.diags,
    }
}

struct Loader {
    sources: SourceMap,
    modules: Vec<LoadedModule>,
    diags: Vec<Diagnostic>,
    by_key: HashMap<String, usize>,
    loading: Vec<String>,
}

impl Loader {
    fn add_module(&mut self, file: FileId, kind: ModuleKind, dir: PathBuf, key: String) -> usize {
        let (ast, mut diags) = parse_module(file, self.sources.text(file));
        self.diags.append(&mut diags);
        let idx = self.modules.len();
        self.by_key.insert(key.clone(), idx);
        self.loading.push(key);
        let uses: Vec<(usize, UseDecl, Span)> = ast
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match &item.kind {
                ItemKind::Use(u) => Some((i, u.clone(), item.span)),
                _ => None,
            })
            .collect();
        self.modules.push(LoadedModule {
            ast,
            kind,
            imports: HashMap::new(),
        });
        for (item_idx, decl, span) in uses {
            if let Some(target) = self.resolve_use(&decl, span, &dir) {
                self.modules[idx].imports.insert(item_idx, target);
            }
        }
        self.loading.pop();
        idx
    }

    fn resolve_use(&mut self, decl: &UseDecl, span: Span, dir: &Path) -> Option<usize> {
        match decl {
            UseDecl::Std { path, .. } => {
                let first = &path[0];
                if first.name != "std" {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0020,
                            first.span,
                            format!("unknown module root `{}`", first.name),
                        )
                        .help("standard modules are imported with `use std::…`; user files with `use \"./file.reward\"`"),
                    );
                    return None;
                }
                let Some(module) = path.get(1) else {
                    self.diags.push(
                        Diagnostic::new(Code::E0020, span, "`use std` needs a module name").help(
                            format!(
                                "modules: {}",
                                stdlib::MODULES
                                    .iter()
                                    .map(|m| format!("std::{}", m.name))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    );
                    return None;
                };
                let key = format!("std::{}", module.name);
                if let Some(&idx) = self.by_key.get(&key) {
                    return Some(idx);
                }
                let Some(m) = stdlib::find(&module.name) else {
                    let names: Vec<&str> = stdlib::MODULES.iter().map(|m| m.name).collect();
                    let mut d = Diagnostic::new(
                        Code::E0020,
                        module.span,
                        format!("there is no standard module `std::{}`", module.name),
                    )
                    .label("unknown module");
                    d = match crate::diag::closest(&module.name, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `std::{s}`?")),
                        None => d.help(format!(
                            "modules: {}",
                            names
                                .iter()
                                .map(|n| format!("std::{n}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    self.diags.push(d);
                    return None;
                };
                let file = self
                    .sources
                    .add(format!("<stdlib>/{}.reward", m.name), m.source);
                Some(self.add_module(file, ModuleKind::Std(key.clone()), PathBuf::new(), key))
            }
            UseDecl::File { path, span } => {
                let full = normalize(&dir.join(path));
                let key = full
                    .canonicalize()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| full.display().to_string());
                if self.loading.contains(&key) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0020,
                            *span,
                            format!("import cycle: `{path}` is already being imported"),
                        )
                        .help("move the shared functions into a file that both can import"),
                    );
                    return None;
                }
                if let Some(&idx) = self.by_key.get(&key) {
                    return Some(idx);
                }
                let text = match read_source(&full) {
                    Ok(t) => t,
                    Err(SourceError::NotUtf8(at)) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::E0020,
                                *span,
                                format!("`{path}` is not valid UTF-8 (at byte {at})"),
                            )
                            .help("save the file as UTF-8"),
                        );
                        return None;
                    }
                    Err(SourceError::Unreadable(e)) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::E0020,
                                *span,
                                format!("cannot read `{}`: {e}", full.display()),
                            )
                            .label("imported here")
                            .help("paths are relative to the file that imports them"),
                        );
                        return None;
                    }
                };
                let text = text
                    .strip_prefix('\u{feff}')
                    .map(str::to_string)
                    .unwrap_or(text);
                let file = self.sources.add(full.display().to_string(), text);
                let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
                Some(self.add_module(file, ModuleKind::User, dir, key))
            }
        }
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (for stable, readable names).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Largest spec or imported file read, in bytes: a spec is text written by people.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Why a source file could not be read.
pub enum SourceError {
    /// The operating system's reason, or why the file is refused.
    Unreadable(String),
    /// The byte offset of the first invalid UTF-8 sequence.
    NotUtf8(usize),
}

/// Reads a spec or an imported file: only a regular file of at most [`MAX_SOURCE_BYTES`], in
/// UTF-8. A device such as `/dev/zero` or `/dev/urandom` would otherwise be read until memory
/// runs out, or forever.
pub fn read_source(path: &Path) -> Result<String, SourceError> {
    use std::io::Read;
    let unreadable = |e: &dyn std::fmt::Display| SourceError::Unreadable(e.to_string());
    let meta = std::fs::metadata(path).map_err(|e| unreadable(&e))?;
    if !meta.is_file() {
        return Err(unreadable(&"not a regular file"));
    }
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(&e))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(unreadable(&format_args!(
            "larger than {} MiB, the most a spec file may be",
            MAX_SOURCE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8(e.utf8_error().valid_up_to()))
}
