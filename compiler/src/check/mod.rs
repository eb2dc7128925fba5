//! Name resolution and type checking, elaborating the AST into the typed IR. Every error of every
//! loaded file is collected; an expression that fails gets type `Ty::Error`, which is compatible
//! with everything, so one mistake produces one diagnostic.

mod expr;
mod group;
pub mod load;
mod ltl;
mod machine;
mod regexes;
mod rubric;

// Ordered maps: every list of names in a message comes out the same on every run.
use std::collections::BTreeMap as HashMap;

use reward_runtime::ty::Field;
use reward_runtime::{Ty, Value};

use crate::builtins::{self, BuiltinId};
use crate::diag::{closest, Code, Diagnostic, SourceMap, Span};
use crate::ir::{self, Body, Program, TermId, TermKind};
use crate::syntax::ast::{self, ItemKind, TypeExprKind, UseDecl};
use load::{Loaded, ModuleKind};

pub(crate) use expr::signature as builtin_signature;
pub use load::RootSource;
pub(crate) use machine::machine_result_type;

/// Longest chain of user-function calls accepted.
const MAX_CALL_DEPTH: usize = 64;
/// Most IR operations one call of a user function may expand to.
const MAX_EXPANDED_OPS: u64 = 1_000_000;

/// The result of compiling a root file: the program, or every diagnostic.
pub struct Compilation {
    pub sources: SourceMap,
    pub result: Result<Program, Vec<Diagnostic>>,
}

/// Compiles a spec. `overrides` are `--param name=value` pairs, applied to the root file's params.
pub fn compile(root: RootSource, overrides: &[(String, String)]) -> Compilation {
    let loaded = load::load(root);
    let Loaded {
        mut sources,
        modules,
        diags,
    } = loaded;
    let override_file = if overrides.is_empty() {
        None
    } else {
        let text: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Some(sources.add("<command line --param>", text.join("\n")))
    };
    let mut checker = Checker {
        modules: &modules,
        diags,
        scopes: Vec::new(),
        fns: Vec::new(),
        fn_calls: Vec::new(),
        terms: Vec::new(),
        term_names: HashMap::new(),
        lowered: Vec::new(),
        input: None,
        input_span: None,
        params: Vec::new(),
        regexes: Vec::new(),
        eval_order: Vec::new(),
        tests: Vec::new(),
        defining_type: None,
        props: PropState::default(),
        machines: Default::default(),
        formulas: Default::default(),
        shapes: HashMap::new(),
        group: None,
    };
    checker.run(overrides, override_file);
    let Checker {
        diags,
        fns,
        terms,
        params,
        regexes,
        eval_order,
        input,
        tests,
        group,
        lowered,
        ..
    } = checker;
    if !diags.is_empty() {
        return Compilation {
            sources,
            result: Err(diags),
        };
    }
    let (eval_order, group) = group::finish(group, &terms, eval_order);
    let mut terms = terms;
    if terms.iter().any(|t| t.kind == TermKind::GroupScore) {
        // The final score is the group's; the row's own is still a term, out of the breakdown.
        for t in terms.iter_mut().filter(|t| t.kind == TermKind::Score) {
            t.in_breakdown = false;
        }
    }
    let score = terms
        .iter()
        .position(|t| t.kind == TermKind::GroupScore)
        .or_else(|| terms.iter().position(|t| t.kind == TermKind::Score));
    let mut program = Program {
        input,
        params,
        terms: terms
            .into_iter()
            .map(|t| ir::Term {
                name: t.name,
                kind: t.kind,
                ty: t.ty,
                body: t.body.expect("checked terms have bodies"),
                in_breakdown: t.in_breakdown,
                span: t.span,
            })
            .collect(),
        eval_order,
        score,
        functions: fns.into_iter().map(|f| f.ir).collect(),
        regexes,
        tests,
        group,
        lowered,
        max_row_bytes: reward_runtime::meter::DEFAULT_MAX_ROW_BYTES,
    };
    let fold_errors = ir::fold::fold_program(&mut program);
    if !fold_errors.is_empty() {
        return Compilation {
            sources,
            result: Err(fold_errors),
        };
    }
    Compilation {
        sources,
        result: Ok(program),
    }
}

#[derive(Clone, Debug)]
enum Callable {
    Builtins(Vec<BuiltinId>),
    Fn(usize),
}

/// What one module can see.
#[derive(Default)]
struct Scope {
    types: HashMap<String, Ty>,
    callables: HashMap<String, Callable>,
    /// Param name → index into `Checker::params`.
    params: HashMap<String, usize>,
    /// Names defined at top level, for duplicate detection: name → span of the definition.
    defined: HashMap<String, Span>,
    /// Names already reported as un-importable: later uses stay silent.
    silenced: std::collections::BTreeSet<String>,
}

struct FnSlot {
    module: usize,
    item: usize,
    ir: ir::Function,
    checked: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TermState {
    Unchecked,
    InProgress,
    Done,
}

struct TermSlot {
    name: String,
    kind: TermKind,
    ty: Ty,
    body: Option<Body>,
    in_breakdown: bool,
    span: Span,
    state: TermState,
    /// Where a reference closed a cycle (for the error).
    use_site: Option<Span>,
    /// Where the definition lives in the root module's AST.
    source: TermSource,
}

#[derive(Clone, Copy)]
enum TermSource {
    Item(usize),
    /// A machine's run record, and its total reward (which reads the run).
    MachineRun(usize),
    /// Per-step rewards (reading the raw run), and the final run record.
    MachineRewards {
        item: usize,
        raw: TermId,
    },
    MachineFinal {
        raw: TermId,
        rewards: TermId,
    },
    MachineTotal(TermId),
    /// An `ltl` item's truth, or (with `reward on accept`) its automaton's run record.
    LtlSat(usize),
    LtlRun(usize),
    /// The key of the `group by` item.
    GroupKey(usize),
    /// Item `index` of the `group by` item `item`.
    GroupItem {
        item: usize,
        index: usize,
    },
    /// A term whose body the checker built directly (group aggregates and their sources).
    Built,
    Rubric(usize),
    Criterion {
        item: usize,
        index: usize,
    },
    Tag {
        item: usize,
        tag: usize,
    },
}

/// The `prop` items of the root file.
#[derive(Default)]
pub(crate) struct PropState {
    /// Name → item index.
    items: HashMap<String, usize>,
    /// Props being expanded (a prop that reads itself is an error).
    expanding: Vec<String>,
}

pub(crate) struct Checker<'m> {
    modules: &'m [load::LoadedModule],
    diags: Vec<Diagnostic>,
    scopes: Vec<Scope>,
    fns: Vec<FnSlot>,
    /// Call edges between user functions (caller, callee, span of the call).
    fn_calls: Vec<(usize, usize, Span)>,
    terms: Vec<TermSlot>,
    term_names: HashMap<String, TermId>,
    /// What machines and formulas were lowered to (see [`ir::Lowered`]).
    lowered: Vec<ir::Lowered>,
    input: Option<Ty>,
    input_span: Option<Span>,
    params: Vec<ir::Param>,
    regexes: Vec<ir::RegexDef>,
    eval_order: Vec<TermId>,
    tests: Vec<ir::Test>,
    /// The `type` alias being resolved, to explain a recursive use.
    defining_type: Option<String>,
    /// What the checker keeps per construct: step propositions, machines, formulas, shapes and
    /// the `group by` block.
    props: PropState,
    machines: machine::MachineState,
    formulas: ltl::FormulaState,
    /// `shape` items of the root file (of machines and formulas): target name → item index.
    shapes: HashMap<String, usize>,
    /// The `group by` block: its key term and aggregates.
    group: Option<group::GroupState>,
}

/// Where an expression is checked: which module's names it sees and whether it may read the
/// rollout and the terms (only the root file's terms and tests may).
pub(crate) struct Ctx {
    module: usize,
    allow_terms: bool,
    /// The function being checked, for call-graph edges.
    in_fn: Option<usize>,
    locals: Vec<(String, ir::LocalId, Ty)>,
    next_local: u32,
    /// Terms read while checking (for test failure reports).
    mentions: Vec<ir::Mention>,
    /// What is being checked when terms are not allowed, for messages: "a function body", …
    place: &'static str,
    /// Checking a term of a `group by` block: aggregates of one per-row value are over the group.
    in_group: bool,
    /// Group terms are readable (in the group block and in test expectations).
    after_groups: bool,
}

impl Ctx {
    fn new(module: usize, allow_terms: bool) -> Ctx {
        Ctx {
            module,
            allow_terms,
            in_fn: None,
            locals: Vec::new(),
            next_local: 0,
            mentions: Vec::new(),
            place: "here",
            in_group: false,
            after_groups: false,
        }
    }

    fn fresh_local(&mut self) -> ir::LocalId {
        let id = self.next_local;
        self.next_local += 1;
        id
    }
}

impl<'m> Checker<'m> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Whether the code being checked is a standard-library module's.
    fn in_stdlib(&self, cx: &Ctx) -> bool {
        matches!(self.modules[cx.module].kind, ModuleKind::Std(_))
    }

    fn run(&mut self, overrides: &[(String, String)], override_file: Option<crate::diag::FileId>) {
        self.scopes = (0..self.modules.len()).map(|_| Scope::default()).collect();
        // Pass 1: types of every module, in load order (imports come after their importer,
        // so resolve aliases lazily per module, imported modules' types first).
        let order = self.dependency_order();
        for &m in &order {
            self.declare_types_and_fns(m);
        }
        for &m in &order {
            self.import_names(m);
        }
        // The root's columns and term names first, so that functions and params that try to
        // read them get a precise error rather than "unknown name".
        self.declare_root();
        for &m in &order {
            self.check_params(m, if m == 0 { overrides } else { &[] }, override_file);
        }
        self.check_fn_bodies();
        self.check_root();
    }

    /// Modules ordered so that a module comes after every module it imports.
    fn dependency_order(&self) -> Vec<usize> {
        fn visit(
            m: usize,
            modules: &[load::LoadedModule],
            seen: &mut Vec<bool>,
            out: &mut Vec<usize>,
        ) {
            if seen[m] {
                return;
            }
            seen[m] = true;
            let mut deps: Vec<usize> = modules[m].imports.values().copied().collect();
            deps.sort_unstable();
            for d in deps {
                visit(d, modules, seen, out);
            }
            out.push(m);
        }
        let mut seen = vec![false; self.modules.len()];
        let mut out = Vec::new();
        for m in 0..self.modules.len() {
            visit(m, self.modules, &mut seen, &mut out);
        }
        out
    }

    fn define(&mut self, module: usize, name: &ast::Ident, what: &str) -> bool {
        if let Some(first) = self.scopes[module].defined.get(&name.name).copied() {
            self.error(
                Diagnostic::new(
                    Code::E0004,
                    name.span,
                    format!("`{}` is defined more than once", name.name),
                )
                .label(format!("{what} `{}` defined again here", name.name))
                .note(first, "first defined here")
                .help("rename one of them; every name in a file must be unique"),
            );
            return false;
        }
        self.scopes[module]
            .defined
            .insert(name.name.clone(), name.span);
        true
    }

    fn declare_types_and_fns(&mut self, m: usize) {
        let module = &self.modules[m];
        // Prelude builtins are visible everywhere.
        for (i, b) in builtins::BUILTINS.iter().enumerate() {
            if b.module.is_none() {
                match self.scopes[m]
                    .callables
                    .entry(b.name.to_string())
                    .or_insert_with(|| Callable::Builtins(Vec::new()))
                {
                    Callable::Builtins(v) => v.push(i),
                    Callable::Fn(_) => {}
                }
            }
        }
        // A stdlib module sees its own native builtins.
        if let ModuleKind::Std(name) = &module.kind {
            for (i, b) in builtins::BUILTINS.iter().enumerate() {
                if b.module == Some(name.as_str()) {
                    match self.scopes[m]
                        .callables
                        .entry(b.name.to_string())
                        .or_insert_with(|| Callable::Builtins(Vec::new()))
                    {
                        Callable::Builtins(v) => v.push(i),
                        Callable::Fn(_) => {}
                    }
                }
            }
        }
        for item in &module.ast.items {
            if let ItemKind::Type { name, ty } = &item.kind {
                if self.define(m, name, "type") {
                    self.defining_type = Some(name.name.clone());
                    let resolved = self.resolve_type(m, ty);
                    self.defining_type = None;
                    self.scopes[m].types.insert(name.name.clone(), resolved);
                }
            }
        }
        for (i, item) in module.ast.items.iter().enumerate() {
            if let ItemKind::Fn(f) = &item.kind {
                if !self.define(m, &f.name, "function") {
                    continue;
                }
                let params: Vec<(String, Ty)> = f
                    .params
                    .iter()
                    .map(|p| (p.name.name.clone(), self.resolve_type(m, &p.ty)))
                    .collect();
                let ret = self.resolve_type(m, &f.ret);
                let id = self.fns.len();
                self.fns.push(FnSlot {
                    module: m,
                    item: i,
                    ir: ir::Function {
                        name: f.name.name.clone(),
                        params,
                        ret,
                        body: Body {
                            expr: ir::Expr::constant(Value::None, Ty::Error, f.name.span),
                            locals: 0,
                        },
                        span: f.name.span,
                    },
                    checked: false,
                });
                self.scopes[m]
                    .callables
                    .insert(f.name.name.clone(), Callable::Fn(id));
            }
        }
    }

    fn import_names(&mut self, m: usize) {
        let module = &self.modules[m];
        for (item_idx, item) in module.ast.items.iter().enumerate() {
            let ItemKind::Use(decl) = &item.kind else {
                continue;
            };
            let Some(&target) = module.imports.get(&item_idx) else {
                continue;
            };
            let exported = self.exports(target);
            match decl {
                UseDecl::File { .. } => {
                    for (name, c) in exported.callables {
                        self.scopes[m].callables.insert(name, c);
                    }
                    for (name, t) in exported.types {
                        self.scopes[m].types.insert(name, t);
                    }
                }
                UseDecl::Std { path, items } => {
                    let module_name = path.get(1).map_or("", |i| i.name.as_str());
                    let mut wanted: Vec<&ast::Ident> = path.iter().skip(2).collect();
                    if let Some(items) = items {
                        wanted.extend(items.iter());
                    }
                    if wanted.len() > 1 && items.is_none() {
                        let extra = wanted[1];
                        self.error(
                            Diagnostic::new(
                                Code::E0020,
                                extra.span,
                                "module paths are one level deep: `use std::module::{item, …}`",
                            )
                            .help(format!(
                                "write `use std::{module_name}::{{{}}}`",
                                wanted[0].name
                            )),
                        );
                        continue;
                    }
                    if wanted.is_empty() {
                        for (name, c) in exported.callables {
                            self.scopes[m].callables.insert(name, c);
                        }
                        for (name, t) in exported.types {
                            self.scopes[m].types.insert(name, t);
                        }
                        continue;
                    }
                    for want in wanted {
                        if let Some(c) = exported.callables.iter().find(|(n, _)| *n == want.name) {
                            self.scopes[m]
                                .callables
                                .insert(want.name.clone(), c.1.clone());
                        } else if let Some(t) = exported.types.iter().find(|(n, _)| *n == want.name)
                        {
                            self.scopes[m].types.insert(want.name.clone(), t.1.clone());
                        } else {
                            let names: Vec<&str> =
                                exported.callables.iter().map(|(n, _)| n.as_str()).collect();
                            let elsewhere = crate::stdlib::MODULES
                                .iter()
                                .map(|m| format!("std::{}", m.name))
                                .find(|module| {
                                    builtins::module_exports(module).any(|n| n == want.name)
                                });
                            self.scopes[m].silenced.insert(want.name.clone());
                            let help = match (elsewhere, closest(&want.name, names.iter().copied()))
                            {
                                (Some(module), _) => format!(
                                    "`{}` is in `{module}`: write `use {module}::{{{}}}`",
                                    want.name, want.name
                                ),
                                (None, Some(s)) => format!("did you mean `{s}`?"),
                                (None, None) => {
                                    format!("`std::{module_name}` exports: {}", names.join(", "))
                                }
                            };
                            self.error(
                                Diagnostic::new(
                                    Code::E0020,
                                    want.span,
                                    format!("`std::{module_name}` has no item `{}`", want.name),
                                )
                                .label("not exported by this module")
                                .help(help),
                            );
                        }
                    }
                }
            }
        }
    }

    /// What a module makes importable: its functions and types, plus (for stdlib modules) its
    /// native builtins.
    fn exports(&self, m: usize) -> Exports {
        let mut callables: Vec<(String, Callable)> = Vec::new();
        if let ModuleKind::Std(name) = &self.modules[m].kind {
            for (i, b) in builtins::BUILTINS.iter().enumerate() {
                if b.module == Some(name.as_str()) {
                    match callables.iter_mut().find(|(n, _)| n == b.name) {
                        Some((_, Callable::Builtins(v))) => v.push(i),
                        _ => callables.push((b.name.to_string(), Callable::Builtins(vec![i]))),
                    }
                }
            }
        }
        for (id, f) in self.fns.iter().enumerate() {
            if f.module == m {
                callables.push((f.ir.name.clone(), Callable::Fn(id)));
            }
        }
        let mut types = Vec::new();
        for item in &self.modules[m].ast.items {
            if let ItemKind::Type { name, .. } = &item.kind {
                if let Some(t) = self.scopes[m].types.get(&name.name) {
                    types.push((name.name.clone(), t.clone()));
                }
            }
        }
        Exports { callables, types }
    }

    pub(crate) fn resolve_type(&mut self, m: usize, t: &ast::TypeExpr) -> Ty {
        match &t.kind {
            TypeExprKind::Named(name) => match name.name.as_str() {
                "bool" => Ty::Bool,
                "int" => Ty::Int,
                "float" => Ty::Float,
                "text" => Ty::Text,
                "regex" => Ty::Regex,
                other => {
                    if let Some(ty) = self.scopes[m].types.get(other) {
                        return ty.clone();
                    }
                    if self.defining_type.as_deref() == Some(other) {
                        self.error(
                            Diagnostic::new(Code::E0005, name.span, format!("type `{other}` refers to itself"))
                                .label("recursive use")
                                .help("recursive types are not supported: every value must have a bounded size"),
                        );
                        return Ty::Error;
                    }
                    let mut candidates: Vec<String> =
                        ["bool", "int", "float", "text", "list", "regex"]
                            .iter()
                            .map(|s| s.to_string())
                            .collect();
                    candidates.extend(self.scopes[m].types.keys().cloned());
                    let help = match (other, closest(other, candidates.iter().map(String::as_str))) {
                        ("string" | "str" | "String", _) => "text values have type `text`".to_string(),
                        ("number" | "f64" | "double", _) => "numbers are `int` or `float`".to_string(),
                        ("boolean", _) => "write `bool`".to_string(),
                        (_, Some(s)) => format!("did you mean `{s}`?"),
                        _ => "types are bool, int, float, text, list[T], {field: T, …}, T? and names declared with `type`".to_string(),
                    };
                    self.error(
                        Diagnostic::new(Code::E0005, name.span, format!("unknown type `{other}`"))
                            .label("not a type")
                            .help(help),
                    );
                    Ty::Error
                }
            },
            TypeExprKind::List(elem) => Ty::list(self.resolve_type(m, elem)),
            TypeExprKind::Record(fields) => {
                let mut out: Vec<Field> = Vec::new();
                for f in fields {
                    if out.iter().any(|o| *o.name == *f.name.name) {
                        self.error(
                            Diagnostic::new(
                                Code::E0021,
                                f.name.span,
                                format!("field `{}` is declared twice", f.name.name),
                            )
                            .help("remove one of the declarations"),
                        );
                        continue;
                    }
                    let ty = self.resolve_type(m, &f.ty);
                    out.push(Field {
                        name: f.name.name.as_str().into(),
                        ty,
                    });
                }
                Ty::record(out)
            }
            TypeExprKind::Optional(inner) => {
                let inner_ty = self.resolve_type(m, inner);
                if inner_ty.is_optional() {
                    self.error(
                        Diagnostic::new(Code::E0005, t.span, "a type cannot be optional twice")
                            .help("`T??` means the same as `T?`: remove one `?`"),
                    );
                }
                Ty::optional(inner_ty)
            }
        }
    }

    fn check_params(
        &mut self,
        m: usize,
        overrides: &[(String, String)],
        override_file: Option<crate::diag::FileId>,
    ) {
        let items = &self.modules[m].ast.items;
        let mut used_overrides = vec![false; overrides.len()];
        for item in items {
            let ItemKind::Param { name, ty, value } = &item.kind else {
                continue;
            };
            if !self.define(m, name, "param") {
                continue;
            }
            let ty = self.resolve_type(m, ty);
            let mut cx = Ctx::new(m, false);
            cx.place = "a param's value";
            let errors_before = self.diags.len();
            let expr = self.check_expected_as(
                &mut cx,
                value,
                &ty,
                &format!("param `{}` (declared `{ty}`)", name.name),
            );
            let mut folded = Value::None;
            // Evaluate only what checked cleanly: an error anywhere inside leaves holes.
            if expr.ty != Ty::Error && self.diags.len() == errors_before {
                match crate::interp::eval_const(&expr, &self.regex_table()) {
                    Ok(v) => folded = v,
                    Err(e) => self.error(
                        Diagnostic::new(Code::E0013, value.span, format!("param `{}` must have a constant value: {e}", name.name))
                            .help("a param's default may use literals, earlier params and builtin functions, not the rollout"),
                    ),
                }
            }
            let mut overridden = false;
            // Repeated flags: the last one wins, as on most command lines.
            if let Some(pos) = overrides.iter().rposition(|(k, _)| *k == name.name) {
                for (used, (k, _)) in used_overrides.iter_mut().zip(overrides) {
                    *used |= *k == name.name;
                }
                overridden = true;
                match parse_override(&overrides[pos].1, &ty) {
                    Ok(v) => folded = v,
                    Err(msg) => {
                        let span = override_span(overrides, pos, override_file);
                        self.error(
                            Diagnostic::new(
                                Code::E0030,
                                span,
                                format!("invalid value for param `{}`: {msg}", name.name),
                            )
                            .help(format!("`{}` has type `{ty}`", name.name)),
                        );
                    }
                }
            }
            let idx = self.params.len();
            self.params.push(ir::Param {
                name: name.name.clone(),
                ty,
                value: folded,
                overridden,
            });
            self.scopes[m].params.insert(name.name.clone(), idx);
        }
        for (pos, used) in used_overrides.iter().enumerate() {
            if !used {
                let names: Vec<&str> = self.scopes[m].params.keys().map(String::as_str).collect();
                let key = &overrides[pos].0;
                let help = match closest(key, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => "this spec declares no params".to_string(),
                    None => format!("params of this spec: {}", names.join(", ")),
                };
                let span = override_span(overrides, pos, override_file);
                self.error(
                    Diagnostic::new(
                        Code::E0030,
                        span,
                        format!("`--param {key}`: this spec has no param `{key}`"),
                    )
                    .help(help),
                );
            }
        }
    }

    fn regex_table(&self) -> Vec<reward_runtime::native::pattern::Pattern> {
        self.regexes.iter().map(|r| r.regex.clone()).collect()
    }

    fn check_fn_bodies(&mut self) {
        for id in 0..self.fns.len() {
            let (m, item) = (self.fns[id].module, self.fns[id].item);
            let ItemKind::Fn(decl) = &self.modules[m].ast.items[item].kind else {
                continue;
            };
            let mut cx = Ctx::new(m, false);
            cx.in_fn = Some(id);
            cx.place = "a function body";
            for (name, ty) in self.fns[id].ir.params.clone() {
                let local = cx.fresh_local();
                cx.locals.push((name, local, ty));
            }
            let ret = self.fns[id].ir.ret.clone();
            let what = format!("the body of `{}` (declared `-> {ret}`)", decl.name.name);
            let body = self.check_expected_as(&mut cx, &decl.body, &ret, &what);
            self.fns[id].ir.body = Body {
                expr: body,
                locals: cx.next_local,
            };
            self.fns[id].checked = true;
        }
        self.check_recursion();
    }

    /// User functions must not call themselves, directly or through others: every reward must
    /// finish in bounded time.
    fn check_recursion(&mut self) {
        let n = self.fns.len();
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut calls: Vec<Vec<(usize, Span)>> = vec![Vec::new(); n];
        for &(caller, callee, span) in &self.fn_calls {
            calls[caller].push((callee, span));
        }
        fn dfs(
            f: usize,
            calls: &[Vec<(usize, Span)>],
            state: &mut [u8],
            path: &mut Vec<(usize, Span)>,
            found: &mut Vec<Vec<(usize, Span)>>,
        ) {
            state[f] = 1;
            for &(callee, span) in &calls[f] {
                path.push((callee, span));
                match state[callee] {
                    0 => dfs(callee, calls, state, path, found),
                    1 => found.push(path.clone()),
                    _ => {}
                }
                path.pop();
            }
            state[f] = 2;
        }
        let mut found = Vec::new();
        for f in 0..n {
            if state[f] == 0 {
                dfs(f, &calls, &mut state, &mut Vec::new(), &mut found);
            }
        }
        let recursive = !found.is_empty();
        for cycle in found {
            let (callee, span) = *cycle.last().expect("a cycle has a call");
            let name = self.fns[callee].ir.name.clone();
            self.error(
                Diagnostic::new(Code::E0012, span, format!("function `{name}` is recursive"))
                    .label("this call closes the cycle")
                    .help("functions cannot call themselves, directly or through other functions, so that every reward finishes; use an aggregate over a list instead"),
            );
        }
        if !recursive {
            self.check_call_costs();
        }
    }

    /// Without recursion every call finishes, but a chain of functions that each call the next
    /// twice doubles its work at every step, and a very long chain exhausts the stack. Both are
    /// bounded here, statically: the depth of call chains and the number of IR operations a
    /// call of each function expands to.
    fn check_call_costs(&mut self) {
        let n = self.fns.len();
        let mut depth = vec![0usize; n];
        let mut cost = vec![0u64; n];
        // Callees before callers (Kahn's algorithm on the call graph, which is acyclic here).
        let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(caller, callee, _) in &self.fn_calls {
            callees[caller].push(callee);
            callers[callee].push(caller);
        }
        let mut waiting: Vec<usize> = callees.iter().map(Vec::len).collect();
        let mut order: Vec<usize> = (0..n).filter(|&f| waiting[f] == 0).collect();
        let mut next = 0;
        while next < order.len() {
            let f = order[next];
            next += 1;
            for &caller in &callers[f] {
                waiting[caller] -= 1;
                if waiting[caller] == 0 {
                    order.push(caller);
                }
            }
        }
        let mut over = vec![false; n];
        for &f in &order {
            let mut nodes = 0u64;
            crate::interp::visit(&self.fns[f].ir.body.expr, &mut |_| nodes += 1);
            let mut c = nodes;
            let mut d = 1;
            let mut callee_over = false;
            for &callee in &callees[f] {
                c = c.saturating_add(cost[callee]);
                d = d.max(depth[callee] + 1);
                callee_over |= over[callee];
            }
            cost[f] = c;
            depth[f] = d;
            over[f] = callee_over || c > MAX_EXPANDED_OPS || d > MAX_CALL_DEPTH;
            if over[f] && !callee_over {
                let name = self.fns[f].ir.name.clone();
                let (message, help) = if d > MAX_CALL_DEPTH {
                    (format!("`{name}` starts a chain of {d} nested function calls (the limit is {MAX_CALL_DEPTH})"), "shorten the chain: combine functions, or compute intermediate values with `let` terms".to_string())
                } else {
                    (format!("a call of `{name}` expands to more than {MAX_EXPANDED_OPS} operations"), "functions that call others several times multiply their work; call the inner function once and pass its result on".to_string())
                };
                self.error(
                    Diagnostic::new(Code::E0023, self.fns[f].ir.span, message)
                        .label("defined here")
                        .help(help),
                );
            }
        }
    }

    /// The root file: input, terms, score, rubrics, tests.
    fn declare_root(&mut self) {
        self.declare_input();
        // Declare terms so they can be referenced in any order.
        let items = &self.modules[0].ast.items;
        for (i, item) in items.iter().enumerate() {
            match &item.kind {
                ItemKind::Let { name, .. } | ItemKind::Rule { name, .. } => {
                    let kind = if matches!(item.kind, ItemKind::Let { .. }) {
                        TermKind::Let
                    } else {
                        TermKind::Rule
                    };
                    if self.define(0, name, kind.keyword()) {
                        self.add_term(name.name.clone(), kind, name.span, TermSource::Item(i));
                    }
                }
                ItemKind::Score { keyword, .. } => self.declare_score(i, *keyword),
                ItemKind::Prop { name, .. } if self.define(0, name, "prop") => {
                    self.props.items.insert(name.name.clone(), i);
                }
                ItemKind::Machine(m) => self.declare_machine(i, m),
                ItemKind::Ltl(d) => self.declare_ltl(i, d),
                ItemKind::Group { .. } => self.declare_group(i),
                ItemKind::Shape(s) => self.declare_shape(i, s),
                ItemKind::Rubric(r) => self.declare_rubric(i, r),
                _ => {}
            }
        }
        self.require_input_and_score();
    }

    /// The input schema, from the root file's `input` block.
    fn declare_input(&mut self) {
        let items = &self.modules[0].ast.items;
        let mut out: Vec<Field> = Vec::new();
        for item in items {
            if let ItemKind::Input(fields) = &item.kind {
                // The `input` keyword: a whole-block span would render as a long multi-line arrow.
                let keyword = Span {
                    end: item.span.start + 5,
                    ..item.span
                };
                if let Some(first) = self.input_span {
                    self.error(
                        Diagnostic::new(Code::E0015, keyword, "a spec has one `input` block")
                            .note(first, "first `input` block here")
                            .help("declare every column of the rollout in a single `input { … }` block"),
                    );
                } else {
                    self.input_span = Some(keyword);
                }
                // The columns of a second block are still declared, so that their uses do not
                // cascade into more errors.
                for f in fields {
                    if !self.define(0, &f.name, "input field") {
                        continue;
                    }
                    let ty = self.resolve_type(0, &f.ty);
                    out.push(Field {
                        name: f.name.name.as_str().into(),
                        ty,
                    });
                }
            }
        }
        if self.input_span.is_some() {
            self.input = Some(Ty::record(out));
        }
    }

    /// The `score` of item `i`; a second one is reported and left out.
    fn declare_score(&mut self, i: usize, keyword: Span) {
        if let Some(&prev) = self.term_names.get("score") {
            let first = self.terms[prev].span;
            self.error(
                Diagnostic::new(Code::E0014, keyword, "`score` is defined more than once")
                    .note(first, "first defined here")
                    .help("a spec has exactly one `score`; combine the parts in one expression"),
            );
            return;
        }
        self.add_term(
            "score".into(),
            TermKind::Score,
            keyword,
            TermSource::Item(i),
        );
    }

    /// The `shape` item `i`; a second one for the same target is reported and left out.
    fn declare_shape(&mut self, i: usize, s: &ast::ShapeDecl) {
        if let Some(&first) = self.shapes.get(&s.target.name) {
            let first = self.modules[0].ast.items[first].span;
            self.error(
                Diagnostic::new(
                    Code::E0004,
                    s.target.span,
                    format!("`{}` is shaped twice", s.target.name),
                )
                .note(first, "first shaped here")
                .help("keep one `shape` item per machine"),
            );
            return;
        }
        self.shapes.insert(s.target.name.clone(), i);
    }

    /// A spec with terms reads an `input` block, and one with an `input` block has a `score`.
    fn require_input_and_score(&mut self) {
        let has_terms = !self.terms.is_empty();
        if self.input.is_none() && has_terms {
            self.error(
                Diagnostic::new(
                    Code::E0015,
                    self.terms[0].span,
                    "this spec has terms but no `input` block",
                )
                .help("declare the rollout's columns: `input { completion: text, answer: text }`"),
            );
            self.input = Some(Ty::record(Vec::new()));
        }
        // After a syntax error the missing item is most likely the broken one: say nothing more.
        let score_broken = self.modules[0]
            .ast
            .broken_names
            .iter()
            .any(|n| n == "score")
            || self.diags.iter().any(|d| d.code == Code::E0001);
        if self.input.is_some() && !self.term_names.contains_key("score") && !score_broken {
            let span = self.input_span.unwrap_or_default();
            self.error(
                Diagnostic::new(Code::E0014, span, "this spec has no `score`")
                    .label("the rollout is declared here, but nothing says how to score it")
                    .help("add `score = …`, the reward for one rollout"),
            );
        }
    }

    /// The root file's terms and tests.
    fn check_root(&mut self) {
        for id in 0..self.terms.len() {
            self.check_term(id);
        }
        self.check_tests();
    }

    /// A machine's terms: its run over the trace, per-step rewards, run record and total.
    fn declare_machine(&mut self, i: usize, m: &ast::Machine) {
        if !self.define(0, &m.name, "machine") {
            return;
        }
        let raw = self.terms.len();
        self.add_term(
            format!("{}#raw", m.name.name),
            TermKind::Let,
            m.name.span,
            TermSource::MachineRun(i),
        );
        let rewards = self.terms.len();
        self.add_term(
            format!("{}#rewards", m.name.name),
            TermKind::Let,
            m.name.span,
            TermSource::MachineRewards { item: i, raw },
        );
        let run = self.terms.len();
        self.add_term(
            format!("{}#run", m.name.name),
            TermKind::Let,
            m.name.span,
            TermSource::MachineFinal { raw, rewards },
        );
        let total = self.terms.len();
        self.add_term(
            m.name.name.clone(),
            TermKind::Machine,
            m.name.span,
            TermSource::MachineTotal(run),
        );
        self.lowered.push(ir::Lowered {
            name: m.name.name.clone(),
            kind: ir::LoweredKind::Machine {
                raw,
                rewards,
                run,
                total,
            },
        });
    }

    /// A formula's terms: its run and total when it is rewarded, its truth otherwise.
    fn declare_ltl(&mut self, i: usize, d: &ast::LtlDecl) {
        if !self.define(0, &d.name, "ltl") {
            return;
        }
        self.formulas.items.insert(d.name.name.clone(), i);
        if d.reward.is_some() {
            let run = self.terms.len();
            self.add_term(
                format!("{}#run", d.name.name),
                TermKind::Let,
                d.name.span,
                TermSource::LtlRun(i),
            );
            let total = self.terms.len();
            self.add_term(
                d.name.name.clone(),
                TermKind::Machine,
                d.name.span,
                TermSource::MachineTotal(run),
            );
            self.lowered.push(ir::Lowered {
                name: d.name.name.clone(),
                kind: ir::LoweredKind::RewardedFormula { run, total },
            });
        } else {
            let sat = self.terms.len();
            self.add_term(
                d.name.name.clone(),
                TermKind::Ltl,
                d.name.span,
                TermSource::LtlSat(i),
            );
            self.lowered.push(ir::Lowered {
                name: d.name.name.clone(),
                kind: ir::LoweredKind::Formula { sat },
            });
        }
    }

    fn add_term(&mut self, name: String, kind: TermKind, span: Span, source: TermSource) {
        let id = self.terms.len();
        let in_breakdown = !name.starts_with('_');
        self.term_names.insert(name.clone(), id);
        self.terms.push(TermSlot {
            name,
            kind,
            ty: Ty::Error,
            body: None,
            in_breakdown,
            span,
            state: TermState::Unchecked,
            use_site: None,
            source,
        });
    }

    /// Checks a term (once) and returns its type. Terms may be defined in any order; a cycle is
    /// an error.
    /// Like [`check_term`], remembering where the term is read, to point a cycle error there.
    pub(crate) fn check_term_used_at(&mut self, id: TermId, at: Span) -> Ty {
        if self.terms[id].state == TermState::InProgress {
            self.terms[id].use_site = Some(at);
        }
        self.check_term(id)
    }

    pub(crate) fn check_term(&mut self, id: TermId) -> Ty {
        match self.terms[id].state {
            TermState::Done => return self.terms[id].ty.clone(),
            TermState::InProgress => return self.report_term_cycle(id),
            TermState::Unchecked => {}
        }
        self.terms[id].state = TermState::InProgress;
        let mut cx = Ctx::new(0, true);
        let expr = self.term_expr(&mut cx, id);
        let ty = expr.ty.clone();
        let t = &mut self.terms[id];
        if t.state == TermState::InProgress {
            t.state = TermState::Done;
            t.ty = ty.clone();
            t.in_breakdown &= matches!(ty.strip_optional(), Ty::Bool | Ty::Int | Ty::Float);
            t.body = Some(Body {
                expr,
                locals: cx.next_local,
            });
            self.eval_order.push(id);
        }
        self.terms[id].ty.clone()
    }

    /// Term `id` is read while it is being checked: reported at the read, the term an error.
    fn report_term_cycle(&mut self, id: TermId) -> Ty {
        let name = self.terms[id].name.clone();
        let span = self.terms[id].use_site.unwrap_or(self.terms[id].span);
        let column = self
            .input
            .as_ref()
            .is_some_and(|t| t.field_index(&name).is_some());
        let help = if column {
            format!("here `{name}` means the {} itself; the input column `{name}` is read as `input.{name}`", self.terms[id].kind.keyword())
        } else {
            "terms are computed once per rollout; break the cycle".to_string()
        };
        self.error(
            Diagnostic::new(Code::E0012, span, format!("`{name}` depends on itself"))
                .label("this reads the value being defined, directly or through other terms")
                .note(self.terms[id].span, "defined here")
                .help(help),
        );
        self.terms[id].ty = Ty::Error;
        Ty::Error
    }

    /// The IR of term `id`, from its source.
    fn term_expr(&mut self, cx: &mut Ctx, id: TermId) -> ir::Expr {
        let items = &self.modules[0].ast.items;
        match self.terms[id].source {
            TermSource::Item(i) => self.item_term(cx, id, &items[i].kind),
            TermSource::MachineRun(i) => {
                let ItemKind::Machine(m) = &items[i].kind else {
                    unreachable!()
                };
                self.machine_run(cx, m)
            }
            TermSource::GroupKey(i) => self.group_key(cx, i),
            TermSource::GroupItem { item, index } => {
                cx.in_group = true;
                cx.after_groups = true;
                self.group_item(cx, item, index)
            }
            TermSource::Built => unreachable!("built terms are checked when built"),
            TermSource::LtlSat(i) => {
                let span = self.terms[id].span;
                self.ltl_use(cx, i, ltl::LtlUse::Sat, span)
            }
            TermSource::LtlRun(i) => {
                let span = self.terms[id].span;
                self.ltl_use(cx, i, ltl::LtlUse::Run, span)
            }
            TermSource::MachineRewards { item, raw } => {
                let ItemKind::Machine(m) = &items[item].kind else {
                    unreachable!()
                };
                self.machine_rewards_term(cx, m, raw)
            }
            TermSource::MachineFinal { raw, rewards } => self.machine_final_term(cx, raw, rewards),
            TermSource::MachineTotal(run) => {
                let ty = self.check_term(run);
                let span = self.terms[run].span;
                if ty == Ty::Error {
                    return ir::Expr::constant(Value::None, Ty::Error, span);
                }
                let run_expr = ir::Expr::new(ir::ExprKind::Term(run), ty, span);
                ir::Expr::new(ir::ExprKind::Field(Box::new(run_expr), 0), Ty::Float, span)
            }
            TermSource::Rubric(i) => {
                let ItemKind::Rubric(r) = &items[i].kind else {
                    unreachable!()
                };
                self.rubric_value(r)
            }
            TermSource::Criterion { item, index } => {
                let ItemKind::Rubric(r) = &items[item].kind else {
                    unreachable!()
                };
                self.criterion_term(cx, &r.criteria[index])
            }
            TermSource::Tag { item, tag } => {
                let ItemKind::Rubric(r) = &items[item].kind else {
                    unreachable!()
                };
                self.tag_total(r, tag)
            }
        }
    }

    /// A `let`, `rule` or `score` item's value.
    fn item_term(&mut self, cx: &mut Ctx, id: TermId, item: &ItemKind) -> ir::Expr {
        match item {
            ItemKind::Let { value, ty, .. } => match ty {
                Some(t) => {
                    let t = self.resolve_type(0, t);
                    let what = format!("`{}` (declared `{t}`)", self.terms[id].name);
                    self.check_expected_as(cx, value, &t, &what)
                }
                None => self.check_expr(cx, value),
            },
            ItemKind::Rule { name, value } => {
                let e = self.check_expr(cx, value);
                if e.ty != Ty::Bool && e.ty != Ty::Error {
                    self.error(
                        Diagnostic::new(
                            Code::E0003,
                            value.span,
                            format!("rule `{}` must be a bool, but this is {}", name.name, e.ty),
                        )
                        .label(format!("this is {}", e.ty))
                        .help(
                            "a rule names a check that passes or fails; use `let` for other values",
                        ),
                    );
                }
                e
            }
            ItemKind::Score { value, .. } => {
                let e = self.check_expr(cx, value);
                self.coerce_score(e)
            }
            _ => unreachable!("term sources point at term items"),
        }
    }

    /// The per-step rewards of machine `m`'s run (term `raw`).
    fn machine_rewards_term(&mut self, cx: &mut Ctx, m: &ast::Machine, raw: TermId) -> ir::Expr {
        let ty = self.check_term(raw);
        let span = self.terms[raw].span;
        if ty == Ty::Error {
            return ir::Expr::constant(Value::None, Ty::Error, span);
        }
        let raw_expr = ir::Expr::new(ir::ExprKind::Term(raw), ty, span);
        match self.machine_rewards(cx, &m.name.name, raw_expr.clone()) {
            Some(rewards) => {
                self.machines.recomputed.insert(raw);
                rewards
            }
            None => ir::Expr::new(
                ir::ExprKind::Field(Box::new(raw_expr), 1),
                Ty::list(Ty::Float),
                span,
            ),
        }
    }

    /// The run's record (term `raw`) with the per-step rewards (term `rewards`) and their sum
    /// recomputed — unless the rewards are the run's own, whose total the run already holds
    /// (summed in the same order from 0.0, so the same float).
    fn machine_final_term(&mut self, cx: &mut Ctx, raw: TermId, rewards: TermId) -> ir::Expr {
        let raw_ty = self.check_term(raw);
        let rewards_ty = self.check_term(rewards);
        let span = self.terms[raw].span;
        if raw_ty == Ty::Error || rewards_ty == Ty::Error {
            return ir::Expr::constant(Value::None, Ty::Error, span);
        }
        let raw_expr = ir::Expr::new(ir::ExprKind::Term(raw), raw_ty.clone(), span);
        let list = ir::Expr::new(ir::ExprKind::Term(rewards), rewards_ty, span);
        let field = |k: usize, ty: Ty| {
            ir::Expr::new(ir::ExprKind::Field(Box::new(raw_expr.clone()), k), ty, span)
        };
        let total = if self.machines.recomputed.contains(&raw) {
            ir::Expr::new(
                ir::ExprKind::Aggregate(Box::new(ir::Aggregate {
                    kind: ir::AggKind::Sum,
                    var: cx.fresh_local(),
                    iter: list.clone(),
                    filter: None,
                    body: None,
                    elem: Ty::Float,
                })),
                Ty::Float,
                span,
            )
        } else {
            field(0, Ty::Float)
        };
        ir::Expr::new(
            ir::ExprKind::Record(vec![
                total,
                list,
                field(2, Ty::optional(Ty::Int)),
                field(3, Ty::Text),
                field(4, Ty::list(Ty::Int)),
            ]),
            raw_ty,
            span,
        )
    }

    fn coerce_score(&mut self, e: ir::Expr) -> ir::Expr {
        let span = e.span;
        match e.ty.strip_optional() {
            Ty::Float | Ty::Error => e,
            Ty::Int | Ty::Bool => {
                // On an optional the present value converts and none stays none.
                let ty = if e.ty.is_optional() {
                    Ty::optional(Ty::Float)
                } else {
                    Ty::Float
                };
                ir::Expr::new(ir::ExprKind::ToFloat(Box::new(e)), ty, span)
            }
            other => {
                let other = other.clone();
                self.error(
                    Diagnostic::new(Code::E0003, span, format!("`score` must be a number, but this is {}", e.ty))
                        .label(format!("this is {other}"))
                        .help("the score is a float (or float? when it can be missing); bools count as 0 or 1"),
                );
                ir::Expr::new(e.kind, Ty::Error, span)
            }
        }
    }

    fn check_tests(&mut self) {
        let items = &self.modules[0].ast.items;
        let mut tests = Vec::new();
        let mut names: Vec<(String, Span)> = Vec::new();
        for item in items {
            let ItemKind::Test(t) = &item.kind else {
                continue;
            };
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == t.name) {
                let first = *first;
                self.error(
                    Diagnostic::new(
                        Code::E0022,
                        t.name_span,
                        format!("two tests are named {:?}", t.name),
                    )
                    .note(first, "first test with this name")
                    .help("give each test its own name so failures can be told apart"),
                );
            }
            names.push((t.name.clone(), t.name_span));
            let mut params = Vec::new();
            for (pname, value) in &t.params {
                let Some(&idx) = self.scopes[0].params.get(&pname.name) else {
                    let names: Vec<&str> =
                        self.scopes[0].params.keys().map(String::as_str).collect();
                    let help = match closest(&pname.name, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if names.is_empty() => "this spec declares no params".to_string(),
                        None => format!("params of this spec: {}", names.join(", ")),
                    };
                    self.error(
                        Diagnostic::new(
                            Code::E0022,
                            pname.span,
                            format!("this spec has no param `{}`", pname.name),
                        )
                        .label("unknown param")
                        .help(help),
                    );
                    continue;
                };
                let ty = self.params[idx].ty.clone();
                let mut cx = Ctx::new(0, false);
                cx.place = "a test's param";
                let errors_before = self.diags.len();
                let expr = self.check_expected_as(
                    &mut cx,
                    value,
                    &ty,
                    &format!("param `{}` (declared `{ty}`)", pname.name),
                );
                if expr.ty == Ty::Error || self.diags.len() != errors_before {
                    continue;
                }
                match crate::interp::eval_const(&expr, &self.regex_table()) {
                    Ok(v) => params.push((pname.name.clone(), v)),
                    Err(e) => self.error(
                        Diagnostic::new(
                            Code::E0022,
                            value.span,
                            format!("a test's param must be a constant: {e}"),
                        )
                        .help("write the value literally"),
                    ),
                }
            }
            let probes = self.probe_expects(&t.probes);
            // A test of probe expectations only needs no `given`.
            if t.expects.is_empty() && t.given.is_none() {
                tests.push(ir::Test {
                    params,
                    name: t.name.clone(),
                    span: t.name_span,
                    given: Body {
                        expr: crate::ir::Expr::constant(Value::None, Ty::Error, t.name_span),
                        locals: 0,
                    },
                    expects: Vec::new(),
                    probes,
                });
                continue;
            }
            // A library file (no `input`) can still test its functions, without `given`.
            let input_ty = match (&self.input, &t.given) {
                (Some(ty), _) => ty.clone(),
                (None, None) => Ty::record(Vec::new()),
                (None, Some(g)) => {
                    self.error(
                        Diagnostic::new(
                            Code::E0022,
                            g.span,
                            "`given` needs an `input` block to say what a rollout is",
                        )
                        .help("add `input { … }`, or test functions directly: `expect f(1) == 2`"),
                    );
                    continue;
                }
            };
            let mut cx = Ctx::new(0, false);
            cx.place = "a test's `given`";
            let given = match &t.given {
                Some(g) => self.check_expected(&mut cx, g, &input_ty),
                None => {
                    let empty = ast::Expr {
                        kind: ast::ExprKind::Record(Vec::new()),
                        span: t.name_span,
                    };
                    self.check_expected(&mut cx, &empty, &input_ty)
                }
            };
            let given = Body {
                expr: given,
                locals: cx.next_local,
            };
            let mut expects = Vec::new();
            for e in &t.expects {
                let mut cx = Ctx::new(0, true);
                cx.after_groups = true;
                let expr = self.check_expr(&mut cx, e);
                if expr.ty != Ty::Bool && expr.ty != Ty::Error {
                    self.error(
                        Diagnostic::new(Code::E0022, e.span, format!("`expect` needs a bool, but this is {}", expr.ty))
                            .label(format!("this is {}", expr.ty))
                            .help("write a comparison, e.g. `expect score == 1.0` or `expect approx(score, 0.8)`"),
                    );
                }
                let mut mentions = std::mem::take(&mut cx.mentions);
                mentions.dedup();
                expects.push(ir::Expect {
                    body: Body {
                        expr,
                        locals: cx.next_local,
                    },
                    span: e.span,
                    mentions,
                });
            }
            tests.push(ir::Test {
                params,
                name: t.name.clone(),
                span: t.name_span,
                given,
                expects,
                probes,
            });
        }
        self.tests = tests;
    }

    /// `expect probe [family] == safe` lines, with each family checked against the attack
    /// families of `reward probe` and the kinds of its static findings.
    fn probe_expects(&mut self, probes: &[ast::ProbeExpect]) -> Vec<ir::ProbeExpect> {
        let mut out = Vec::new();
        for p in probes {
            let family = match &p.family {
                None => None,
                Some((name, span)) => match crate::probe::family_named(name) {
                    Some(f) => Some(f.to_string()),
                    None => {
                        let names = crate::probe::family_keywords();
                        let help = match closest(name, names.iter().map(String::as_str)) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => format!("the families are {}", names.join(", ")),
                        };
                        self.error(
                            Diagnostic::new(
                                Code::E0032,
                                *span,
                                format!("`reward probe` has no attack family or finding `{name}`"),
                            )
                            .label("unknown probe family")
                            .help(help),
                        );
                        continue;
                    }
                },
            };
            out.push(ir::ProbeExpect {
                family,
                safe: p.safe,
                span: p.span,
            });
        }
        out
    }
}

struct Exports {
    callables: Vec<(String, Callable)>,
    types: Vec<(String, Ty)>,
}

fn override_span(
    overrides: &[(String, String)],
    pos: usize,
    file: Option<crate::diag::FileId>,
) -> Span {
    let start: usize = overrides[..pos]
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum();
    let (k, v) = &overrides[pos];
    Span::new(
        file.unwrap_or_default(),
        start,
        start + k.len() + 1 + v.len(),
    )
}

/// Parses a `--param` value for a param of type `ty`: plain text for `text`, otherwise JSON
/// (so `0.5`, `true`, `[1, 2]` and `"quoted"` all work).
pub fn parse_override(raw: &str, ty: &Ty) -> Result<Value, String> {
    if *ty.strip_optional() == Ty::Text {
        if let Ok(serde_json::Value::String(s)) = serde_json::from_str::<serde_json::Value>(raw) {
            return Ok(Value::text(&s));
        }
        return Ok(Value::text(raw));
    }
    let json: serde_json::Value =
        serde_json::from_str(raw.trim()).map_err(|_| format!("`{raw}` is not a valid {ty}"))?;
    reward_runtime::decode::decode_json(&json, ty).map_err(|e| e.to_string())
}
