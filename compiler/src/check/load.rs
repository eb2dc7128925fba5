//! Loads the root file and everything it imports: user files (relative to the importing file)
//! and the standard library modules (embedded in the binary).

// Ordered maps: every list of names in a message comes out the same on every run.
use std::collections::BTreeMap as HashMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::stdlib;
use crate::syntax::ast::{ItemKind, Module, UseDecl};
use crate::syntax::{item_starts, parse_items_at, parse_module};

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
        deferred: HashMap::new(),
    };
    // Editors on Windows start files with a byte-order mark; it is not part of the program.
    let text = root
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&root.text)
        .to_string();
    let file = loader.sources.add(root.name.clone(), text);
    loader.add_module(file, ModuleKind::Root, root.dir, root.name);
    loader.finish_std_modules();
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
    /// The standard modules (by index) whose functions and types are not parsed yet.
    deferred: HashMap<usize, Deferred>,
}

struct Deferred {
    file: FileId,
    /// The names the module's importers asked for; `None` once one imports it whole.
    wanted: Option<BTreeSet<String>>,
}

/// The words of an item's text: the names it can refer to, over-approximated (words in its
/// strings and trailing comments count too). Lines that are comments are skipped: the next
/// item's documentation comes before its keyword, so it would count for this item.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| !w.is_empty())
}

impl Loader {
    fn add_module(&mut self, file: FileId, kind: ModuleKind, dir: PathBuf, key: String) -> usize {
        let text = self.sources.text(file);
        // A standard module's functions, types and tests are parsed once the whole program
        // says which are used (`finish_std_modules`); its other items (its imports) now.
        let (ast, mut diags) = match kind {
            ModuleKind::Std(_) => {
                let starts: Vec<usize> = item_starts(text)
                    .into_iter()
                    .filter(|i| !is_deferred(i.keyword))
                    .map(|i| i.start)
                    .collect();
                parse_items_at(file, text, &starts)
            }
            _ => parse_module(file, text),
        };
        self.diags.append(&mut diags);
        let idx = self.modules.len();
        if let ModuleKind::Std(_) = kind {
            let wanted = Some(BTreeSet::new());
            self.deferred.insert(idx, Deferred { file, wanted });
        }
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
            UseDecl::Std { path, items } => {
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
                let names: Vec<String> = path[2..]
                    .iter()
                    .chain(items.iter().flatten())
                    .map(|i| i.name.clone())
                    .collect();
                if let Some(&idx) = self.by_key.get(&key) {
                    // A standard module imports itself to see its natives when it is the root
                    // (its tests); as an import it sees them anyway, and its items too.
                    if self.loading.last() != Some(&key) {
                        self.want(idx, names);
                    }
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
                let idx = self.add_module(file, ModuleKind::Std(key.clone()), PathBuf::new(), key);
                self.want(idx, names);
                Some(idx)
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

/// The items of a standard module parsed only when used: those that define a name (every
/// other item of such a module is an import, parsed up front).
fn is_deferred(keyword: &str) -> bool {
    matches!(keyword, "fn" | "type" | "test")
}

impl Loader {
    /// Records that standard module `idx` is imported for `names` (none: the whole module).
    fn want(&mut self, idx: usize, names: Vec<String>) {
        let Some(deferred) = self.deferred.get_mut(&idx) else {
            return;
        };
        match (deferred.wanted.as_mut(), names.is_empty()) {
            (Some(set), false) => set.extend(names),
            _ => deferred.wanted = None,
        }
    }

    /// Parses the functions and types of each standard module that its importers' names reach,
    /// directly or through other items (the rest would only be checked, then never run); all
    /// of them when one imports the module whole or names something that is not an item of it
    /// (so that the checker's error lists every item).
    fn finish_std_modules(&mut self) {
        for (idx, Deferred { file, wanted }) in std::mem::take(&mut self.deferred) {
            let module = &mut self.modules[idx];
            let ModuleKind::Std(key) = &module.kind else {
                continue;
            };
            let text = self.sources.text(file);
            let items = item_starts(text);
            let starts = wanted
                .and_then(|names| used_items(key, text, &items, names))
                .unwrap_or_else(|| {
                    let deferred = items.iter().filter(|i| is_deferred(i.keyword));
                    deferred.map(|i| i.start).collect()
                });
            let (more, mut diags) = parse_items_at(file, text, &starts);
            self.diags.append(&mut diags);
            // Back in source order, with the imports renumbered to their items' new places.
            let by_start: HashMap<u32, usize> = module
                .imports
                .iter()
                .map(|(&i, &target)| (module.ast.items[i].span.start, target))
                .collect();
            module.ast.items.extend(more.items);
            module.ast.items.sort_by_key(|i| i.span.start);
            module.imports = (module.ast.items.iter().enumerate())
                .filter_map(|(i, item)| by_start.get(&item.span.start).map(|&t| (i, t)))
                .collect();
        }
    }
}

/// The starts of the functions and types of a standard module that `names` reach; `None` when a
/// name is neither one of them nor a native builtin of the module.
fn used_items(
    key: &str,
    text: &str,
    items: &[crate::syntax::ItemStart<'_>],
    names: BTreeSet<String>,
) -> Option<Vec<usize>> {
    let defined: HashMap<&str, usize> = (items.iter().enumerate())
        .filter(|(_, i)| !i.name.is_empty())
        .map(|(n, i)| (i.name, n))
        .collect();
    let native = |name: &str| {
        crate::builtins::BUILTINS
            .iter()
            .any(|b| b.module == Some(key) && b.name == name)
    };
    let mut used = vec![false; items.len()];
    let mut stack = Vec::new();
    for name in &names {
        match defined.get(name.as_str()) {
            Some(&n) => stack.push(n),
            None if native(name) => {}
            None => return None,
        }
    }
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut used[n], true) {
            continue;
        }
        let end = items.get(n + 1).map_or(text.len(), |i| i.start);
        let body = &text[items[n].start + items[n].keyword.len()..end];
        stack.extend(words(body).filter_map(|w| defined.get(w).copied()));
    }
    let starts = items.iter().zip(&used).filter(|(_, &u)| u);
    Some(starts.map(|(i, _)| i.start).collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The outline the loader relies on finds every item of every standard module where the
    /// parser does, with its name, and parsing the items at those starts alone builds the same
    /// items.
    #[test]
    fn standard_modules_parse_item_by_item() {
        for m in stdlib::MODULES {
            let file = FileId(0);
            let (full, diags) = parse_module(file, m.source);
            assert!(diags.is_empty(), "std::{}", m.name);
            let starts = item_starts(m.source);
            let found: Vec<usize> = starts.iter().map(|i| i.start).collect();
            let parsed: Vec<usize> = full.items.iter().map(|i| i.span.start as usize).collect();
            assert_eq!(found, parsed, "std::{}", m.name);
            for (start, item) in starts.iter().zip(&full.items) {
                let name = match &item.kind {
                    ItemKind::Fn(f) => f.name.name.as_str(),
                    ItemKind::Type { name, .. } => name.name.as_str(),
                    _ => "",
                };
                assert_eq!(start.name, name, "std::{}", m.name);
            }
            let (alone, diags) = parse_items_at(file, m.source, &found);
            assert!(diags.is_empty(), "std::{}", m.name);
            assert_eq!(format!("{:?}", alone.items), format!("{:?}", full.items));
        }
    }

    fn used(module: &str, names: &[&str]) -> Option<Vec<&'static str>> {
        let m = stdlib::find(module).expect("a standard module");
        let items = item_starts(m.source);
        let names = names.iter().map(|n| n.to_string()).collect();
        let starts = used_items(&format!("std::{module}"), m.source, &items, names)?;
        let named = items.iter().filter(|i| starts.contains(&i.start));
        Some(named.map(|i| i.name).collect())
    }

    #[test]
    fn a_used_function_brings_what_it_calls_and_no_test() {
        let items = used("instructions", &["number_words"]).expect("all are items");
        assert_eq!(
            items,
            ["ifeval_relation", "ifeval_word_count", "number_words"]
        );
        // A native builtin of the module needs no item; an unknown name needs them all.
        assert_eq!(used("text", &["is_json"]), Some(vec![]));
        assert_eq!(used("instructions", &["number_word"]), None);
    }

    #[test]
    fn an_import_parses_the_items_it_reaches() {
        let root = RootSource {
            name: "t.reward".into(),
            text: "use std::math::{math_equal}\nuse std::shaping::{brier_score}\n".into(),
            dir: PathBuf::new(),
        };
        let loaded = load(root);
        assert!(loaded.diags.is_empty());
        let items = |key: &str| {
            let kind = ModuleKind::Std(key.into());
            let m = loaded.modules.iter().find(|m| m.kind == kind);
            let kinds = m.expect("loaded").ast.items.iter().map(|i| match &i.kind {
                ItemKind::Use(_) => "use".to_string(),
                ItemKind::Fn(f) => f.name.name.clone(),
                _ => "other".to_string(),
            });
            kinds.collect::<Vec<_>>()
        };
        // `math_equal` is native: only the module's import of itself (for its natives when it is
        // the root) is parsed.
        assert_eq!(items("std::math"), ["use"]);
        assert_eq!(items("std::shaping"), ["brier_score"]);
    }

    /// Every function of every standard module checks when it is the only item imported: what
    /// it refers to is parsed with it.
    #[test]
    fn each_standard_function_imported_alone_checks() {
        for m in stdlib::MODULES {
            for item in item_starts(m.source).iter().filter(|i| i.keyword == "fn") {
                let root = RootSource {
                    name: "t.reward".into(),
                    text: format!("use std::{}::{{{}}}\n", m.name, item.name),
                    dir: PathBuf::new(),
                };
                let compiled = crate::check::compile(root, &[]);
                assert!(
                    compiled.result.is_ok(),
                    "std::{}::{}: {:?}",
                    m.name,
                    item.name,
                    compiled.result.err()
                );
            }
        }
    }
}
