//! The Cranelift JIT: lowers the IR to native code.
//!
//! Booleans (`i8` 0/1), ints (`i64`) and floats (`f64`) live in registers and their arithmetic,
//! comparisons, branches and loops are native instructions. Every other value (text, lists,
//! records, optionals, regexes) is a pointer to a runtime [`Value`], handled by the helpers of
//! `reward_runtime::abi`, which share their meaning with the interpreter. Anything that can fail
//! sets the row context's failure flag; compiled code checks it and returns, so generated code
//! never traps.

use std::collections::HashMap;

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, FuncRef, Inst, InstBuilder, MemFlagsData, Signature, StackSlotData,
    StackSlotKind, Type, Value as CValue,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use reward_runtime::abi::{self, AbiType, FloatFn, Helper, RowCtx, ScalarKind};
use reward_runtime::builtins::BUILTINS;
use reward_runtime::{Ty, Value};

use crate::backend::Backend;
use crate::diag::Span;
use crate::interp::RuntimeError;
use crate::ir::*;
use crate::loop_shape::{self, StepArray};

mod ltl;
mod machine;
mod steps;

type TermFn = unsafe extern "C" fn(*mut RowCtx) -> u32;

/// A program compiled to native code. Owns its code memory and frees it on drop; shares only
/// function pointers and immutable data across threads.
pub struct JitProgram {
    module: Option<JITModule>,
    /// Term functions in evaluation order.
    order: Vec<(TermId, TermFn)>,
    /// The group stage's term functions, in order.
    group_order: Vec<(TermId, TermFn)>,
    n_terms: usize,
    sites: Vec<Span>,
    regexes: Vec<reward_runtime::native::pattern::Pattern>,
    /// Constants the code reads through the row context.
    constants: Vec<Value>,
    max_row_bytes: u64,
}

// SAFETY: after finalisation the module is only touched again by `Drop`; the code and the
// constants it points to are immutable, and every row gets its own `RowCtx`.
unsafe impl Sync for JitProgram {}
unsafe impl Send for JitProgram {}

impl Drop for JitProgram {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function pointer escapes `self`, which is being dropped.
            unsafe { module.free_memory() };
        }
    }
}

impl Backend for JitProgram {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn eval_row(&self, input: &Value) -> Result<Vec<Value>, RuntimeError> {
        let mut terms = vec![Value::None; self.n_terms];
        self.run_terms(input, &mut terms, &self.order)?;
        Ok(terms)
    }

    fn eval_group_terms(&self, input: &Value, terms: &mut [Value]) -> Result<(), RuntimeError> {
        self.run_terms(input, terms, &self.group_order)
    }
}

impl JitProgram {
    fn run_terms(
        &self,
        input: &Value,
        terms: &mut [Value],
        order: &[(TermId, TermFn)],
    ) -> Result<(), RuntimeError> {
        let _row = reward_runtime::meter::begin_row(self.max_row_bytes);
        let mut ctx = RowCtx::new(input, terms, &self.constants, &self.regexes);
        for &(id, f) in order {
            // SAFETY: `f` was compiled for this program; `ctx` points at live data.
            let status = unsafe { f(&mut ctx) };
            if status != 0 || ctx.failed != 0 {
                return Err(RuntimeError {
                    message: std::mem::take(&mut ctx.message),
                    span: self
                        .sites
                        .get(ctx.site as usize)
                        .copied()
                        .unwrap_or_default(),
                    term: Some(id),
                });
            }
        }
        drop(ctx);
        Ok(())
    }
}

/// How a value of a type is held in compiled code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Repr {
    Bool,
    Int,
    Float,
    Ptr,
}

fn repr(ty: &Ty) -> Repr {
    match ty {
        Ty::Bool => Repr::Bool,
        Ty::Int => Repr::Int,
        Ty::Float => Repr::Float,
        _ => Repr::Ptr,
    }
}

fn clif(r: Repr) -> Type {
    match r {
        Repr::Bool => types::I8,
        Repr::Int | Repr::Ptr => types::I64,
        Repr::Float => types::F64,
    }
}

/// Compile errors of the JIT are internal (the IR is already checked).
#[derive(Debug)]
pub struct JitError(pub String);

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal JIT error: {}", self.0)
    }
}

fn err(e: impl std::fmt::Display) -> JitError {
    JitError(e.to_string())
}

/// The Cranelift type of a helper's parameter or result.
fn clif_type(t: AbiType) -> Type {
    match t {
        AbiType::I8 => types::I8,
        AbiType::I32 => types::I32,
        AbiType::I64 => types::I64,
        AbiType::F64 => types::F64,
    }
}

/// Compiles a checked program to native code.
pub fn compile(program: &Program) -> Result<JitProgram, JitError> {
    compile_inner(program, None)
}

/// Compiles and also returns the Cranelift IR of every function (for bug reports and for
/// differential tests, which print it on a mismatch).
pub fn compile_with_clif(program: &Program) -> Result<(JitProgram, String), JitError> {
    let mut clif = String::new();
    let jit = compile_inner(program, Some(&mut clif))?;
    Ok((jit, clif))
}

fn compile_inner(program: &Program, clif: Option<&mut String>) -> Result<JitProgram, JitError> {
    let isa = native_isa(CodeFor::Jit)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    // Register every helper from the runtime's own table, so that no import can be missing.
    for (name, ptr) in abi::symbols() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let loop_isa = native_isa(CodeFor::JitLoops)?;
    let built = build(&mut module, program, Linkage::Local, Some(&*loop_isa), clif)?;
    let term_ids = built.terms;
    module.finalize_definitions().map_err(err)?;
    let in_group = |id: TermId| {
        program
            .group
            .as_ref()
            .is_some_and(|g| g.order.contains(&id))
    };
    let (group_order, order): (Vec<_>, Vec<_>) = term_ids
        .into_iter()
        .map(|(id, fid)| {
            let ptr = module.get_finalized_function(fid);
            // SAFETY: compiled with the signature `TermFn` describes.
            let f: TermFn = unsafe { std::mem::transmute::<*const u8, TermFn>(ptr) };
            (id, f)
        })
        .partition(|&(id, _)| in_group(id));
    Ok(JitProgram {
        module: Some(module),
        order,
        group_order,
        n_terms: program.terms.len(),
        sites: built.sites,
        regexes: program.regexes.iter().map(|r| r.regex.clone()).collect(),
        constants: built.constants,
        max_row_bytes: program.max_row_bytes,
    })
}

/// Defines a function, compiled for `isa` when given (else for the module's); a failure (a bug
/// in this module) carries the verifier's report and the function's CLIF.
fn define(
    module: &mut impl Module,
    id: FuncId,
    ctx: &mut cranelift_codegen::Context,
    isa: Option<&dyn TargetIsa>,
) -> Result<(), JitError> {
    let defined = match isa {
        None => module.define_function(id, ctx),
        Some(isa) => define_for(module, id, ctx, isa),
    };
    defined.map_err(|e| {
        let detail = match &e {
            cranelift_module::ModuleError::Compilation(
                cranelift_codegen::CodegenError::Verifier(errors),
            ) => cranelift_codegen::print_errors::pretty_verifier_error(
                &ctx.func,
                None,
                errors.clone(),
            ),
            other => format!("{other:?}\n{}", ctx.func.display()),
        };
        JitError(detail)
    })
}

/// [`Module::define_function`], with the code compiled for `isa`.
#[allow(clippy::result_large_err)] // `Module::define_function`'s own error type
fn define_for(
    module: &mut impl Module,
    id: FuncId,
    ctx: &mut cranelift_codegen::Context,
    isa: &dyn TargetIsa,
) -> cranelift_module::ModuleResult<()> {
    let mut plane = cranelift_codegen::control::ControlPlane::default();
    ctx.compile(isa, &mut plane)
        .map_err(|e| cranelift_module::ModuleError::Compilation(e.inner))?;
    let Some(code) = ctx.compiled_code() else {
        let missing = cranelift_codegen::CodegenError::Unsupported("no compiled code".into());
        return Err(cranelift_module::ModuleError::Compilation(missing));
    };
    let relocs: Vec<_> = code
        .buffer
        .relocs()
        .iter()
        .map(|r| cranelift_module::ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    let alignment = u64::from(code.buffer.alignment).max(isa.function_alignment().minimum.into());
    module.define_function_bytes(id, alignment, code.code_buffer(), &relocs)
}

/// Where compiled code goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeFor {
    /// This process's memory: compiled at every start, while a user waits.
    Jit,
    /// As `Jit`, for a function with a loop over arrays (the step loop of a trace): its
    /// registers allocated across the loop's blocks, which costs compile time but keeps the
    /// loop's values out of memory.
    JitLoops,
    /// A shared library (position-independent): compiled once, then loaded many times.
    SharedLibrary,
}

/// The host's instruction set.
pub(crate) fn native_isa(code_for: CodeFor) -> Result<std::sync::Arc<dyn TargetIsa>, JitError> {
    let library = code_for == CodeFor::SharedLibrary;
    let mut flags = settings::builder();
    flags
        .set("is_pic", if library { "true" } else { "false" })
        .map_err(err)?;
    // Compiled terms mostly call runtime helpers, so Cranelift's optimisations buy little
    // speed here and cost much of the JIT's time: the e-graph pass (`opt_level` "speed") a
    // fifth of it, the backtracking register allocator a third more than the single-pass one,
    // for no difference in scoring time on W1, W5, W6 or bench/steps.reward (bench/README.md,
    // "Compile latency"). A library is compiled once and run many times: it gets both.
    let (opt_level, regalloc) = match code_for {
        CodeFor::Jit => ("none", "single_pass"),
        CodeFor::JitLoops => ("none", "backtracking"),
        CodeFor::SharedLibrary => ("speed", "backtracking"),
    };
    flags.set("opt_level", opt_level).map_err(err)?;
    flags.set("regalloc_algorithm", regalloc).map_err(err)?;
    // A frame larger than a page (a term with many call sites) must touch each page on the way
    // down, so that running out of stack hits the guard page (a reported stack overflow) and
    // never jumps past it into other memory.
    flags.set("enable_probestack", "true").map_err(err)?;
    flags.set("probestack_strategy", "inline").map_err(err)?;
    // Cranelift's IR verifier re-checks every function it is given (a tenth of compile time):
    // on in debug builds, where every test runs it, off in release builds (as wasmtime does).
    flags
        .set(
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )
        .map_err(err)?;
    cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)
}

/// Which user functions a term can call, directly or through other functions.
fn reachable_functions(program: &Program) -> Vec<bool> {
    let mut reachable = vec![false; program.functions.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mark = |e: &crate::ir::Expr, stack: &mut Vec<usize>| {
        crate::interp::visit(e, &mut |x| {
            if let crate::ir::ExprKind::CallFn(id, _) = x.kind {
                stack.push(id);
            }
        });
    };
    let group = program.group.iter().flat_map(|g| g.order.iter());
    for &id in program.eval_order.iter().chain(group) {
        mark(&program.terms[id].body.expr, &mut stack);
    }
    while let Some(f) = stack.pop() {
        if !std::mem::replace(&mut reachable[f], true) {
            mark(&program.functions[f].body.expr, &mut stack);
        }
    }
    reachable
}

/// What [`build`] produced: the term functions in evaluation order, and the tables compiled
/// code refers to by index.
pub(crate) struct Built {
    pub terms: Vec<(TermId, FuncId)>,
    pub sites: Vec<Span>,
    pub constants: Vec<Value>,
}

/// Declares and defines every function of the program in `module` (a JIT or an object file).
/// Term functions get `term_linkage` and the names `term{id}`.
pub(crate) fn build<M: Module>(
    module: &mut M,
    program: &Program,
    term_linkage: Linkage,
    loop_isa: Option<&dyn TargetIsa>,
    mut clif: Option<&mut String>,
) -> Result<Built, JitError> {
    let mut helpers = HashMap::new();
    for &helper in Helper::ALL {
        let mut sig = module.make_signature();
        let params = helper.params().iter().map(|t| AbiParam::new(clif_type(*t)));
        sig.params.extend(params);
        sig.returns
            .extend(helper.returns().map(|t| AbiParam::new(clif_type(t))));
        let id = module
            .declare_function(helper.name(), Linkage::Import, &sig)
            .map_err(err)?;
        helpers.insert(helper, id);
    }
    let mut cg = Codegen {
        program,
        helpers,
        fn_ids: Vec::new(),
        sites: Vec::new(),
        constants: Vec::new(),
        array_loops: false,
    };
    // Only the functions the terms can call are compiled: a `use std::…` brings a whole module,
    // and compiling what no term calls would only cost time.
    let reachable = reachable_functions(program);
    // Declare user functions first: terms and other functions call them.
    for (i, f) in program.functions.iter().enumerate() {
        if !reachable[i] {
            cg.fn_ids.push(None);
            continue;
        }
        let sig = fn_signature(module, f);
        let id = module
            .declare_function(&format!("reward_fn{i}_{}", f.name), Linkage::Local, &sig)
            .map_err(err)?;
        cg.fn_ids.push(Some(id));
    }
    let mut fbc = FunctionBuilderContext::new();
    let mut ctx = module.make_context();
    for (i, f) in program.functions.iter().enumerate() {
        let Some(fid) = cg.fn_ids[i] else {
            continue;
        };
        ctx.func.signature = fn_signature(module, f);
        cg.lower_body(
            module,
            &mut ctx.func,
            &mut fbc,
            &f.body,
            Target::Function(&f.params, &f.ret),
        )?;
        if let Some(out) = clif.as_deref_mut() {
            out.push_str(&format!("; fn {}\n{}\n", f.name, ctx.func.display()));
        }
        define(module, fid, &mut ctx, loop_isa.filter(|_| cg.array_loops))?;
        module.clear_context(&mut ctx);
    }
    let mut terms = Vec::new();
    let group_order = program.group.iter().flat_map(|g| g.order.iter());
    for &id in program.eval_order.iter().chain(group_order) {
        let term = &program.terms[id];
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I32));
        let fid = module
            .declare_function(&format!("reward_term{id}"), term_linkage, &sig)
            .map_err(err)?;
        ctx.func.signature = sig;
        cg.lower_body(
            module,
            &mut ctx.func,
            &mut fbc,
            &term.body,
            Target::Term(id, &term.ty),
        )?;
        if let Some(out) = clif.as_deref_mut() {
            out.push_str(&format!("; term {:?}\n{}\n", term.name, ctx.func.display()));
        }
        define(module, fid, &mut ctx, loop_isa.filter(|_| cg.array_loops))?;
        module.clear_context(&mut ctx);
        terms.push((id, fid));
    }
    Ok(Built {
        terms,
        sites: cg.sites,
        constants: cg.constants,
    })
}

fn fn_signature(module: &impl Module, f: &Function) -> Signature {
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(types::I64));
    for (_, ty) in &f.params {
        sig.params.push(AbiParam::new(clif(repr(ty))));
    }
    sig.returns.push(AbiParam::new(clif(repr(&f.ret))));
    sig
}

enum Target<'a> {
    Term(TermId, &'a Ty),
    Function(&'a [(String, Ty)], &'a Ty),
}

struct Codegen<'p> {
    program: &'p Program,
    helpers: HashMap<Helper, FuncId>,
    /// Per user function, its id if it is compiled (reachable from a term).
    fn_ids: Vec<Option<FuncId>>,
    sites: Vec<Span>,
    constants: Vec<Value>,
    /// Whether the body being lowered has a loop that reads arrays in place.
    array_loops: bool,
}

impl Codegen<'_> {
    fn lower_body<M: Module>(
        &mut self,
        module: &mut M,
        func: &mut cranelift_codegen::ir::Function,
        fbc: &mut FunctionBuilderContext,
        body: &Body,
        target: Target,
    ) -> Result<(), JitError> {
        self.array_loops = false;
        let mut b = FunctionBuilder::new(func, fbc);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        // In the layout from the start: loop-invariant values are put there as they are met.
        b.ensure_inserted_block();
        let params = b.block_params(entry).to_vec();
        let error_block = b.create_block();
        let mut lw = Lower {
            cg: self,
            module,
            b,
            ctx: params[0],
            refs: HashMap::new(),
            fn_refs: HashMap::new(),
            locals: HashMap::new(),
            columns: HashMap::new(),
            error_block,
            entry,
            hoisted_last: None,
            invariants: HashMap::new(),
            hoisted: HashMap::new(),
        };
        if let Target::Function(fparams, _) = &target {
            for (i, (_, ty)) in fparams.iter().enumerate() {
                let r = repr(ty);
                let var = lw.b.declare_var(clif(r));
                lw.b.def_var(var, params[i + 1]);
                lw.locals.insert(i as LocalId, (var, r));
            }
        }
        let v = lw.expr(&body.expr)?;
        match target {
            Target::Term(id, ty) => {
                let id_v = lw.b.ins().iconst(types::I64, id as i64);
                let ctx = lw.ctx;
                let setter = match repr(ty) {
                    Repr::Bool => Helper::rt_set_bool,
                    Repr::Int => Helper::rt_set_i64,
                    Repr::Float => Helper::rt_set_f64,
                    Repr::Ptr => Helper::rt_set_value,
                };
                lw.call(setter, &[ctx, id_v, v]);
                let ok = lw.b.ins().iconst(types::I32, 0);
                lw.b.ins().return_(&[ok]);
                lw.b.switch_to_block(error_block);
                let bad = lw.b.ins().iconst(types::I32, 1);
                lw.b.ins().return_(&[bad]);
            }
            Target::Function(_, ret) => {
                lw.b.ins().return_(&[v]);
                lw.b.switch_to_block(error_block);
                let zero = lw.zero(repr(ret));
                lw.b.ins().return_(&[zero]);
            }
        }
        lw.b.seal_all_blocks();
        let config = lw.module.target_config();
        lw.b.finalize(config);
        Ok(())
    }
}

struct Lower<'c, 'p, 'm, 'f, M: Module> {
    cg: &'c mut Codegen<'p>,
    module: &'m mut M,
    b: FunctionBuilder<'f>,
    ctx: CValue,
    refs: HashMap<Helper, FuncRef>,
    fn_refs: HashMap<FnId, FuncRef>,
    locals: HashMap<LocalId, (Variable, Repr)>,
    /// The loops stepping through columns (by their element's local): see [`ColumnLoop`].
    columns: HashMap<LocalId, ColumnLoop>,
    error_block: Block,
    /// The function's first block, where [`Lower::invariant`] computes what every read of a
    /// loop-invariant list shares, after `hoisted_last` (the last instruction put there).
    entry: Block,
    hoisted_last: Option<Inst>,
    invariants: HashMap<Invariant, CValue>,
    /// Float constants made before a loop, by their bits, for the loop's body to use instead of
    /// making them again at every step (see [`Lower::float_const`]).
    hoisted: HashMap<u64, CValue>,
}

/// A loop over a list of records of scalars that reads only fields of its element
/// ([`loop_shape::column_reads`]): `element.field` is a load from that field's array at the
/// loop's index, and no record is ever looked at.
struct ColumnLoop {
    index: Variable,
    /// Each array read, with the address of its first row's value ([`Lower::loop_array`]).
    arrays: Vec<(StepArray, CValue)>,
    /// The arrays' values at the current step, when the loop's body read them all at its start
    /// (see [`Lower::read_step`]).
    at_step: Vec<(StepArray, CValue)>,
}

/// A value that is the same wherever a function reads it (the pure helpers' results on the
/// row's input and earlier terms), computed once at the function's start
/// ([`Lower::invariant`]) however many reads share it: a trace read by index in a loop, or in
/// several places, costs its lookups once.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Invariant {
    Input,
    Term(TermId),
    Field(Box<Invariant>, usize),
    Len(Box<Invariant>),
    /// [`Lower::step_array`] of a list.
    Array(Box<Invariant>, StepArray),
}

impl Invariant {
    /// The invariant `e` (a list, record or other boxed value) is, if any.
    fn of(e: &Expr) -> Option<Invariant> {
        if repr(&e.ty) != Repr::Ptr {
            return None;
        }
        match &e.kind {
            ExprKind::Input => Some(Invariant::Input),
            ExprKind::Term(id) => Some(Invariant::Term(*id)),
            ExprKind::Field(rec, f) => Some(Invariant::Field(Box::new(Invariant::of(rec)?), *f)),
            _ => None,
        }
    }
}

/// A list and an index evaluated for `list[index].f` ([`Lower::index_columns`]): the index's
/// position (from the start), the addresses of the arrays read, and where `list[index]` is.
struct IndexedColumns {
    list: CValue,
    index: CValue,
    position: CValue,
    bases: Vec<CValue>,
    span: Span,
}

/// The helper that gives the address of array `array` of a list held as columns (null for a
/// list held as values), and the field it takes after the list, if any.
fn array_helper(array: StepArray) -> (Helper, Option<usize>) {
    match array {
        StepArray::Items => (Helper::rt_items, None),
        StepArray::Field(f) => (Helper::rt_column, Some(f)),
        StepArray::Present(f) => (Helper::rt_column_present, Some(f)),
    }
}

/// `list[index].f` where `list` is a list of records of scalars (held as columns by the
/// readers), or `list[index]` of a list of bools, ints or floats (held as one array): the
/// element `list[index]` and the array that holds what `e` reads of it.
fn indexed_array(e: &Expr) -> Option<(&Expr, StepArray)> {
    match &e.kind {
        ExprKind::Field(rec, f) => match &rec.kind {
            ExprKind::Index(list, _) => {
                list.ty.columnar_fields()?;
                Some((rec, StepArray::Field(*f)))
            }
            _ => None,
        },
        ExprKind::Index(list, _) => match &list.ty {
            Ty::List(elem) if matches!(**elem, Ty::Bool | Ty::Int | Ty::Float) => {
                Some((e, StepArray::Items))
            }
            _ => None,
        },
        _ => None,
    }
}

impl<M: Module> Lower<'_, '_, '_, '_, M> {
    fn helper_ref(&mut self, helper: Helper) -> FuncRef {
        *self.refs.entry(helper).or_insert_with(|| {
            let id = self.cg.helpers[&helper];
            self.module.declare_func_in_func(id, self.b.func)
        })
    }

    fn call(&mut self, helper: Helper, args: &[CValue]) -> Option<CValue> {
        let fref = self.helper_ref(helper);
        let inst = self.b.ins().call(fref, args);
        self.b.inst_results(inst).first().copied()
    }

    /// The value of `what`, computed at the function's start the first time it is asked for.
    fn invariant(&mut self, what: &Invariant) -> CValue {
        if let Some(&v) = self.invariants.get(what) {
            return v;
        }
        let ctx = self.ctx;
        let v = match what {
            Invariant::Input => self.hoisted_call(Helper::rt_input, &[ctx], &[]),
            Invariant::Term(id) => self.hoisted_call(Helper::rt_term, &[ctx], &[*id as i64]),
            Invariant::Field(rec, f) => {
                let r = self.invariant(rec);
                self.hoisted_call(Helper::rt_field, &[r], &[*f as i64])
            }
            Invariant::Len(list) => {
                let l = self.invariant(list);
                self.hoisted_call(Helper::rt_list_len, &[l], &[])
            }
            Invariant::Array(list, array) => {
                let l = self.invariant(list);
                let (helper, field) = array_helper(*array);
                let field: Vec<i64> = field.map(|f| f as i64).into_iter().collect();
                self.hoisted_call(helper, &[l], &field)
            }
        };
        self.invariants.insert(what.clone(), v);
        v
    }

    /// A call of a pure helper at the function's start, with `args` and then the i64
    /// constants `consts`.
    fn hoisted_call(&mut self, helper: Helper, args: &[CValue], consts: &[i64]) -> CValue {
        let fref = self.helper_ref(helper);
        let mut cur = FuncCursor::new(self.b.func);
        match self.hoisted_last {
            Some(last) => cur.goto_after_inst(last),
            None => cur.goto_first_insertion_point(self.entry),
        }
        let mut all = args.to_vec();
        all.extend(consts.iter().map(|&c| cur.ins().iconst(types::I64, c)));
        let inst = cur.ins().call(fref, &all);
        let result = cur.func.dfg.first_result(inst);
        self.hoisted_last = Some(inst);
        result
    }

    fn call1(&mut self, helper: Helper, args: &[CValue]) -> CValue {
        self.call(helper, args).expect("helper returns a value")
    }

    fn site(&mut self, span: Span) -> CValue {
        self.cg.sites.push(span);
        let id = (self.cg.sites.len() - 1) as i64;
        self.b.ins().iconst(types::I32, id)
    }

    /// After a helper that can fail: leave through the error block if it did.
    fn check_failed(&mut self) {
        let failed = self.b.ins().load(
            types::I32,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_FAILED,
        );
        let cont = self.b.create_block();
        self.b.ins().brif(failed, self.error_block, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Spends one unit of the row's operation budget (loop iteration or function call).
    fn charge(&mut self, span: Span) {
        let left = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_BUDGET,
        );
        let exhausted = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(left, cont, &[], exhausted, &[]);
        self.b.switch_to_block(exhausted);
        self.budget_exhausted(span);
        self.b.switch_to_block(cont);
        let next = self.b.ins().iadd_imm_s(left, -1);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), next, self.ctx, abi::OFFSET_BUDGET);
    }

    /// Fails the row for want of budget at `span` (ends the current block).
    fn budget_exhausted(&mut self, span: Span) {
        let site = self.site(span);
        let ctx = self.ctx;
        self.call(Helper::rt_budget_exhausted, &[ctx, site]);
        self.b.ins().jump(self.error_block, &[]);
    }

    /// Spends the budget of the iterations from `index`'s value to `len` at once, or all
    /// that is left when it is less; returns where the paid iterations end.
    fn charge_iterations(&mut self, index: Variable, len: CValue) -> CValue {
        let left = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_BUDGET,
        );
        let i = self.b.use_var(index);
        let zero = self.b.ins().iconst(types::I64, 0);
        let rest = self.b.ins().isub(len, i);
        let rest = self.b.ins().smax(rest, zero);
        let paid = self.b.ins().smin(rest, left);
        let after = self.b.ins().isub(left, paid);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), after, self.ctx, abi::OFFSET_BUDGET);
        self.b.ins().iadd(i, paid)
    }

    fn zero(&mut self, r: Repr) -> CValue {
        match r {
            Repr::Bool => self.b.ins().iconst(types::I8, 0),
            Repr::Int | Repr::Ptr => self.b.ins().iconst(types::I64, 0),
            Repr::Float => self.b.ins().f64const(0.0),
        }
    }

    /// The address of a constant of the program: `ctx.consts + index`. (Not an absolute
    /// address: the same code is written to relocatable objects for shared libraries.)
    fn constant_ptr(&mut self, v: &Value) -> CValue {
        let found =
            self.cg.constants.iter().position(|c| {
                c.identical(v) && std::mem::discriminant(c) == std::mem::discriminant(v)
            });
        let index = match found {
            Some(i) => i,
            None => {
                self.cg.constants.push(v.clone());
                self.cg.constants.len() - 1
            }
        };
        let base = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            self.ctx,
            abi::OFFSET_CONSTS,
        );
        self.b
            .ins()
            .iadd_imm_s(base, (index * abi::VALUE_SIZE) as i64)
    }

    fn boxed(&mut self, v: CValue, ty: &Ty) -> CValue {
        let ctx = self.ctx;
        match repr(ty) {
            Repr::Bool => self.call1(Helper::rt_box_bool, &[ctx, v]),
            Repr::Int => self.call1(Helper::rt_box_i64, &[ctx, v]),
            Repr::Float => self.call1(Helper::rt_box_f64, &[ctx, v]),
            Repr::Ptr => v,
        }
    }

    fn unboxed(&mut self, p: CValue, ty: &Ty) -> CValue {
        match repr(ty) {
            Repr::Bool => self.call1(Helper::rt_unbox_bool, &[p]),
            Repr::Int => self.call1(Helper::rt_unbox_i64, &[p]),
            Repr::Float => self.call1(Helper::rt_unbox_f64, &[p]),
            Repr::Ptr => p,
        }
    }

    /// An array of boxed values on the stack, for helpers that take `(*const *const Value, n)`.
    fn pointer_array(&mut self, ptrs: &[CValue]) -> CValue {
        let slot = self.pointer_slot(ptrs.len());
        for (i, p) in ptrs.iter().enumerate() {
            self.b
                .ins()
                .stack_store(types::I64, *p, slot, (i * 8) as i32);
        }
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    /// [`Self::pointer_array`] of `n` items computed in order by `item`, each stored as soon as
    /// it is made. Held in a register until the last was made, an item would be live across
    /// the loops that make the later ones (a formula's atom arrays, a trace each), and the
    /// register allocator reloads such a value from its spill slot and stores it back on
    /// every iteration: a round trip through memory that bounds the loop.
    fn pointer_array_of(
        &mut self,
        n: usize,
        mut item: impl FnMut(&mut Self, usize) -> Result<CValue, JitError>,
    ) -> Result<CValue, JitError> {
        let slot = self.pointer_slot(n);
        for i in 0..n {
            let p = item(self, i)?;
            self.b
                .ins()
                .stack_store(types::I64, p, slot, (i * 8) as i32);
        }
        Ok(self.b.ins().stack_addr(types::I64, slot, 0))
    }

    fn pointer_slot(&mut self, n: usize) -> cranelift_codegen::ir::StackSlot {
        let size = (n.max(1) * 8) as u32;
        self.b
            .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3))
    }

    fn float_of(&mut self, v: CValue, from: &Ty) -> CValue {
        match repr(from) {
            Repr::Float => v,
            Repr::Int => self.b.ins().fcvt_from_sint(types::F64, v),
            Repr::Bool => {
                let wide = self.b.ins().uextend(types::I64, v);
                self.b.ins().fcvt_from_sint(types::F64, wide)
            }
            Repr::Ptr => self.call1(Helper::rt_unbox_f64, &[v]),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<CValue, JitError> {
        let r = repr(&e.ty);
        if let Some(what) = Invariant::of(e) {
            return Ok(self.invariant(&what));
        }
        Ok(match &e.kind {
            ExprKind::Const(v) => match (r, v) {
                (Repr::Bool, Value::Bool(x)) => self.b.ins().iconst(types::I8, i64::from(*x)),
                (Repr::Int, Value::Int(x)) => self.b.ins().iconst(types::I64, *x),
                (Repr::Float, v) => self.float_const(v.as_f64()),
                _ => self.constant_ptr(v),
            },
            ExprKind::Input => {
                let ctx = self.ctx;
                self.call1(Helper::rt_input, &[ctx])
            }
            ExprKind::Term(id) => {
                let ctx = self.ctx;
                let idv = self.b.ins().iconst(types::I64, *id as i64);
                let p = self.call1(Helper::rt_term, &[ctx, idv]);
                self.unboxed(p, &e.ty)
            }
            // The step of a loop over a list of scalars held as one array (`step_arrays`).
            ExprKind::Local(_) if self.reads_items(e) => {
                self.column_load(e, StepArray::Items, &e.ty)
            }
            ExprKind::Local(id) => {
                let (var, _) = *self
                    .locals
                    .get(id)
                    .ok_or_else(|| JitError(format!("unbound local %{id}")))?;
                self.b.use_var(var)
            }
            ExprKind::Field(..) | ExprKind::Index(..) => self.access(e)?,
            ExprKind::Not(a) => {
                let v = self.expr(a)?;
                self.b.ins().icmp_imm_s(IntCC::Equal, v, 0)
            }
            ExprKind::Neg(..) | ExprKind::Arith(..) => self.arith(e)?,
            ExprKind::Concat(a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                let ctx = self.ctx;
                let site = self.site(e.span);
                let p = self.call1(Helper::rt_concat, &[ctx, x, y, site]);
                self.check_failed();
                p
            }
            ExprKind::Compare(op, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                self.compare(*op, x, y, &a.ty)
            }
            ExprKind::And(a, b) => self.short_circuit(a, b, true)?,
            ExprKind::Or(a, b) => self.short_circuit(a, b, false)?,
            ExprKind::If(c, a, b) => self.if_else(c, a, b, &e.ty)?,
            ExprKind::Coalesce(a, b) => self.coalesce(a, b, &e.ty)?,
            ExprKind::ToFloat(a) => {
                let v = self.expr(a)?;
                if r == Repr::Ptr {
                    let ctx = self.ctx;
                    self.call1(Helper::rt_to_float_opt, &[ctx, v])
                } else {
                    self.float_of(v, &a.ty)
                }
            }
            ExprKind::Some(a) => {
                let v = self.expr(a)?;
                self.boxed(v, &a.ty)
            }
            ExprKind::TextContains { .. } | ExprKind::ListContains { .. } | ExprKind::Match(..) => {
                self.test(e)?
            }
            ExprKind::Call(id, args) => self.builtin(*id, args, e)?,
            ExprKind::CallFn(id, args) => self.call_fn(*id, args, e)?,
            ExprKind::Aggregate(agg) => self.aggregate(agg, e)?,
            ExprKind::List(items) | ExprKind::Record(items) => self.construct(items, e)?,
            ExprKind::Ltl(l) => self.ltl(l, e)?,
            ExprKind::Machine(m) => self.machine(m, e)?,
            ExprKind::CheckUnit { value, criterion } => {
                let v = self.expr(value)?;
                let x = self.float_of(v, &value.ty);
                let name = self.constant_ptr(&Value::text(criterion));
                let site = self.site(e.span);
                let ctx = self.ctx;
                let out = self.call1(Helper::rt_check_unit, &[ctx, x, name, site]);
                self.check_failed();
                out
            }
        })
    }

    /// `rec.field` and `list[index]`.
    fn access(&mut self, e: &Expr) -> Result<CValue, JitError> {
        Ok(match &e.kind {
            ExprKind::Field(rec, idx) if self.column_of(rec).is_some() => {
                self.column_load(rec, StepArray::Field(*idx), &e.ty)
            }
            ExprKind::Field(..) | ExprKind::Index(..)
                if repr(&e.ty) != Repr::Ptr && indexed_array(e).is_some() =>
            {
                self.indexed_scalar(e)?
            }
            ExprKind::Field(rec, idx) => {
                let p = self.expr(rec)?;
                self.field_of(p, *idx, repr(&e.ty))
            }
            ExprKind::Index(list, index) => {
                let l = self.expr(list)?;
                let i = self.expr(index)?;
                let site = self.site(e.span);
                let ctx = self.ctx;
                let p = self.call1(Helper::rt_index, &[ctx, l, i, site]);
                self.check_failed();
                self.unboxed(p, &e.ty)
            }
            _ => unreachable!("not an access"),
        })
    }

    /// Whether `e` is the element of a [`ColumnLoop`] over a list of scalars.
    fn reads_items(&self, e: &Expr) -> bool {
        self.column_of(e)
            .is_some_and(|cl| cl.arrays.iter().any(|(a, _)| *a == StepArray::Items))
    }

    fn column_of(&self, rec: &Expr) -> Option<&ColumnLoop> {
        match rec.kind {
            ExprKind::Local(v) => self.columns.get(&v),
            _ => None,
        }
    }

    /// Array `array` of the element of a [`ColumnLoop`], as a value of type `ty`: a load at the
    /// loop's index.
    fn column_load(&mut self, rec: &Expr, array: StepArray, ty: &Ty) -> CValue {
        let cl = self.column_of(rec).expect("a column loop");
        if let Some(&(_, v)) = cl.at_step.iter().find(|(a, _)| *a == array) {
            return v;
        }
        let read = cl.arrays.iter().find(|(a, _)| *a == array);
        let base = read.expect("a read array").1;
        let i = self.b.use_var(cl.index);
        self.load_item(base, i, repr(ty))
    }

    /// Whether the optional value at `p` is present.
    fn is_present(&mut self, p: CValue) -> CValue {
        let none = self.call1(Helper::rt_is_none, &[p]);
        self.b.ins().icmp_imm_s(IntCC::Equal, none, 0)
    }

    /// The address of the first row's value of array `array` of `list` (null when the list is
    /// held as values, or, for [`StepArray::Present`], when every row holds the field).
    fn step_array(&mut self, list: CValue, array: StepArray) -> CValue {
        let (helper, field) = array_helper(array);
        let mut args = vec![list];
        args.extend(field.map(|f| self.b.ins().iconst(types::I64, f as i64)));
        self.call1(helper, &args)
    }

    /// The address of the first row's value of array `array` of `list`, whose items are of
    /// type `elem` ([`abi::rt_step_array`]): the list's own array when it is held as columns,
    /// else one copied from its values. Never null.
    fn loop_array(&mut self, list: CValue, array: StepArray, elem: &Ty) -> CValue {
        let (which, field, ty) = match (array, elem) {
            (StepArray::Items, ty) => (abi::ArrayOf::Items, 0, ty),
            (StepArray::Field(f), Ty::Record(fields)) => {
                (abi::ArrayOf::Field, f, fields[f].ty.strip_optional())
            }
            (StepArray::Present(f), _) => (abi::ArrayOf::Present, f, &Ty::Bool),
            (StepArray::Field(_), other) => unreachable!("a field of {other}"),
        };
        let kind = scalar_kind(ty).expect("an array of bools, ints or floats");
        let which = self.b.ins().iconst(types::I32, which as i64);
        let field = self.b.ins().iconst(types::I64, field as i64);
        let kind = self.b.ins().iconst(types::I32, kind as i64);
        let ctx = self.ctx;
        self.call1(Helper::rt_step_array, &[ctx, list, which, field, kind])
    }

    /// `list`'s value, its length and [`Lower::step_array`] of each of `arrays`: for a list
    /// the function reads the same everywhere, computed once at its start.
    fn list_arrays(
        &mut self,
        list: &Expr,
        arrays: &[StepArray],
    ) -> Result<(CValue, CValue, Vec<CValue>), JitError> {
        if let Some(what) = Invariant::of(list) {
            let l = self.invariant(&what);
            let len = self.invariant(&Invariant::Len(Box::new(what.clone())));
            let bases = arrays
                .iter()
                .map(|&a| self.invariant(&Invariant::Array(Box::new(what.clone()), a)))
                .collect();
            return Ok((l, len, bases));
        }
        let l = self.expr(list)?;
        let len = self.call1(Helper::rt_list_len, &[l]);
        let bases = arrays.iter().map(|&a| self.step_array(l, a)).collect();
        Ok((l, len, bases))
    }

    /// Field `idx` of the record at `p`, as a value of representation `r`.
    fn field_of(&mut self, p: CValue, idx: usize, r: Repr) -> CValue {
        let i = self.b.ins().iconst(types::I64, idx as i64);
        let helper = match r {
            Repr::Float => Helper::rt_field_f64,
            Repr::Int => Helper::rt_field_i64,
            Repr::Bool => Helper::rt_field_bool,
            Repr::Ptr => Helper::rt_field,
        };
        self.call1(helper, &[p, i])
    }

    /// Item `i` of an array of bools, ints or floats.
    fn load_item(&mut self, base: CValue, i: CValue, r: Repr) -> CValue {
        let (t, addr) = self.scalar_at(base, i, r);
        self.b.ins().load(t, MemFlagsData::trusted(), addr, 0)
    }

    /// Stores `v` as item `i` of an array of bools, ints or floats.
    fn store_item(&mut self, base: CValue, i: CValue, r: Repr, v: CValue) {
        let (_, addr) = self.scalar_at(base, i, r);
        self.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
    }

    /// The address of item `i` of an array of bools (1 byte each), ints or floats (8 bytes),
    /// with the type to load or store there.
    fn scalar_at(&mut self, base: CValue, i: CValue, r: Repr) -> (Type, CValue) {
        let (t, offset) = match r {
            Repr::Bool => (types::I8, i),
            r => (clif(r), self.b.ins().ishl_imm_u(i, 3)),
        };
        (t, self.b.ins().iadd(base, offset))
    }

    /// Negation and the four operations with remainder, on ints (checked) or floats.
    fn arith(&mut self, e: &Expr) -> Result<CValue, JitError> {
        Ok(match &e.kind {
            ExprKind::Neg(NumKind::Int, a) => {
                let v = self.expr(a)?;
                let site = self.site(e.span);
                let ctx = self.ctx;
                let out = self.call1(Helper::rt_neg_int, &[ctx, v, site]);
                self.check_failed();
                out
            }
            ExprKind::Neg(NumKind::Float, a) => {
                let v = self.expr(a)?;
                let v = self.float_of(v, &a.ty);
                self.b.ins().fneg(v)
            }
            ExprKind::Arith(op, NumKind::Int, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                self.int_arith(*op, x, y, e.span)
            }
            ExprKind::Arith(op, NumKind::Float, a, b) => {
                let x = self.expr(a)?;
                let x = self.float_of(x, &a.ty);
                let y = self.expr(b)?;
                let y = self.float_of(y, &b.ty);
                match op {
                    ArithOp::Add => self.b.ins().fadd(x, y),
                    ArithOp::Sub => self.b.ins().fsub(x, y),
                    ArithOp::Mul => self.b.ins().fmul(x, y),
                    ArithOp::Div => self.b.ins().fdiv(x, y),
                    ArithOp::Rem => self.call1(Helper::rt_float_rem, &[x, y]),
                }
            }
            _ => unreachable!("not arithmetic"),
        })
    }

    /// `a and b` (`is_and`) or `a or b`: `b` is evaluated only when `a` does not decide.
    fn short_circuit(&mut self, a: &Expr, b: &Expr, is_and: bool) -> Result<CValue, JitError> {
        let x = self.expr(a)?;
        if loop_shape::cheap_and_total(b) {
            let y = self.expr(b)?;
            return Ok(if is_and {
                self.b.ins().band(x, y)
            } else {
                self.b.ins().bor(x, y)
            });
        }
        let rhs = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I8);
        if is_and {
            self.b.ins().brif(x, rhs, &[], done, &[x.into()]);
        } else {
            self.b.ins().brif(x, done, &[x.into()], rhs, &[]);
        }
        self.b.switch_to_block(rhs);
        let y = self.expr(b)?;
        self.b.ins().jump(done, &[y.into()]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `select`, as a conditional move also for floats: Cranelift lowers a float `select` on
    /// x86 to a branch, which a condition that changes from step to step mispredicts.
    fn select_without_branch(&mut self, c: CValue, x: CValue, y: CValue) -> CValue {
        if self.b.func.dfg.value_type(x) != types::F64 {
            return self.b.ins().select(c, x, y);
        }
        let bits = |lw: &mut Self, v| lw.b.ins().bitcast(types::I64, MemFlagsData::new(), v);
        let (xi, yi) = (bits(self, x), bits(self, y));
        let picked = self.b.ins().select(c, xi, yi);
        self.b
            .ins()
            .bitcast(types::F64, MemFlagsData::new(), picked)
    }

    /// `if c then a else b`, of type `ty`.
    fn if_else(&mut self, c: &Expr, a: &Expr, b: &Expr, ty: &Ty) -> Result<CValue, JitError> {
        let cv = self.expr(c)?;
        if loop_shape::cheap_and_total(a) && loop_shape::cheap_and_total(b) {
            let x = self.expr(a)?;
            let x = self.coerce_repr(x, &a.ty, ty);
            let y = self.expr(b)?;
            let y = self.coerce_repr(y, &b.ty, ty);
            return Ok(self.select_without_branch(cv, x, y));
        }
        let then_b = self.b.create_block();
        let else_b = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, clif(repr(ty)));
        self.b.ins().brif(cv, then_b, &[], else_b, &[]);
        self.b.switch_to_block(then_b);
        let x = self.expr(a)?;
        let x = self.coerce_repr(x, &a.ty, ty);
        self.b.ins().jump(done, &[x.into()]);
        self.b.switch_to_block(else_b);
        let y = self.expr(b)?;
        let y = self.coerce_repr(y, &b.ty, ty);
        self.b.ins().jump(done, &[y.into()]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `is_some(a)` or `is_none(a)` of an optional value: whether the row holds the field, for
    /// an optional field of a loop's element read in place; else a test of the value, never
    /// boxed. `None` for any other call.
    fn presence(&mut self, e: &Expr) -> Result<Option<CValue>, JitError> {
        let Some((a, some)) = loop_shape::presence_call(e) else {
            return Ok(None);
        };
        let present = match self.optional_in_place(a) {
            Some((rec, f)) => self.column_load(rec, StepArray::Present(f), &Ty::Bool),
            None => {
                let p = self.expr(a)?;
                self.is_present(p)
            }
        };
        Ok(Some(if some {
            present
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, present, 0)
        }))
    }

    /// An optional field of the element of a [`ColumnLoop`]: the element and the field.
    fn optional_in_place<'e>(&self, a: &'e Expr) -> Option<(&'e Expr, usize)> {
        let (_, f) = loop_shape::optional_field(a)?;
        let ExprKind::Field(rec, _) = &a.kind else {
            return None;
        };
        self.column_of(rec).is_some().then_some((&**rec, f))
    }

    /// An optional field read in place ([`Lower::optional_in_place`]) as a value of type `ty`:
    /// whether the row holds it, and its value (a placeholder, harmless to load, where the row
    /// leaves it out).
    fn optional_field_in_place(
        &mut self,
        (rec, f): (&Expr, usize),
        a: &Expr,
        ty: &Ty,
    ) -> (CValue, CValue) {
        let present = self.column_load(rec, StepArray::Present(f), &Ty::Bool);
        let inner = a.ty.strip_optional();
        let value = self.column_load(rec, StepArray::Field(f), inner);
        (present, self.coerce_repr(value, inner, ty))
    }

    /// `a ?? b`, of type `ty`: `b` is evaluated only when `a` is none. For an optional field
    /// read in place with a cheap `b`, both are computed and one selected, without a branch.
    fn coalesce(&mut self, a: &Expr, b: &Expr, ty: &Ty) -> Result<CValue, JitError> {
        let in_place = self.optional_in_place(a);
        if let Some(field) = in_place.filter(|_| loop_shape::cheap_and_total(b)) {
            let (present, value) = self.optional_field_in_place(field, a, ty);
            let d = self.expr(b)?;
            let d = self.coerce_repr(d, &b.ty, ty);
            return Ok(self.b.ins().select(present, value, d));
        }
        let none_b = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, clif(repr(ty)));
        let indexed = indexed_array(a).filter(|(_, array)| matches!(array, StepArray::Field(_)));
        match (
            in_place,
            indexed.filter(|_| loop_shape::optional_field_ty(&a.ty)),
        ) {
            (Some(field), _) => {
                let (present, value) = self.optional_field_in_place(field, a, ty);
                self.b
                    .ins()
                    .brif(present, done, &[value.into()], none_b, &[]);
            }
            (None, Some(read)) => self.indexed_optional(read, a, ty, none_b, done)?,
            (None, None) => {
                let p = self.expr(a)?;
                self.unboxed_or(p, ty, none_b, done);
            }
        }
        self.b.switch_to_block(none_b);
        let d = self.expr(b)?;
        let d = self.coerce_repr(d, &b.ty, ty);
        self.b.ins().jump(done, &[d.into()]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// Jumps to `done` with the value at `p` (of type `ty`) if it is present, else to `none`.
    fn unboxed_or(&mut self, p: CValue, ty: &Ty, none: Block, done: Block) {
        let is_none = self.call1(Helper::rt_is_none, &[p]);
        let some_b = self.b.create_block();
        self.b.ins().brif(is_none, none, &[], some_b, &[]);
        self.b.switch_to_block(some_b);
        let inner = self.unboxed(p, ty);
        self.b.ins().jump(done, &[inner.into()]);
    }

    /// `list[index].f` (a bool, int or float field of a list of records) or `list[index]` (of a
    /// list of bools, ints or floats), [`indexed_array`]: a load from the array when the list
    /// is held as columns or as one array (no value is made), else the value the list holds
    /// (with the index's error when out of range).
    fn indexed_scalar(&mut self, e: &Expr) -> Result<CValue, JitError> {
        let (element, array) = indexed_array(e).expect("an indexed scalar");
        let r = repr(&e.ty);
        let (fast, slow, done) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.append_block_param(done, clif(r));
        let at = self.index_columns(element, &[array], fast, slow)?;
        self.b.switch_to_block(fast);
        let v = self.load_item(at.bases[0], at.position, r);
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(slow);
        let p = self.indexed_record(&at);
        let v = match array {
            StepArray::Field(f) => self.field_of(p, f, r),
            _ => self.unboxed(p, &e.ty),
        };
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `list[index].f ?? …` of an optional bool, int or float field ([`indexed_array`]): jumps
    /// to `done` with the field's value (of type `ty`), read from its arrays when the list is
    /// held as columns, or to `none` where the row leaves it out.
    fn indexed_optional(
        &mut self,
        (element, f): (&Expr, StepArray),
        a: &Expr,
        ty: &Ty,
        none: Block,
        done: Block,
    ) -> Result<(), JitError> {
        let StepArray::Field(f) = f else {
            unreachable!("a field")
        };
        let (fast, slow) = (self.b.create_block(), self.b.create_block());
        let arrays = [StepArray::Field(f), StepArray::Present(f)];
        let at = self.index_columns(element, &arrays, fast, slow)?;
        self.b.switch_to_block(fast);
        let inner = a.ty.strip_optional();
        let present = self.load_item(at.bases[1], at.position, Repr::Bool);
        let v = self.load_item(at.bases[0], at.position, repr(inner));
        let v = self.coerce_repr(v, inner, ty);
        self.b.ins().brif(present, done, &[v.into()], none, &[]);
        self.b.switch_to_block(slow);
        let record = self.indexed_record(&at);
        let p = self.field_of(record, f, Repr::Ptr);
        self.unboxed_or(p, ty, none, done);
        Ok(())
    }

    /// Evaluates the list and the index of `element` (`list[index]`), then branches to `fast`
    /// when the list is held as columns with every array in `arrays` and the index (negative
    /// from the end) is in range, else to `slow`.
    fn index_columns(
        &mut self,
        element: &Expr,
        arrays: &[StepArray],
        fast: Block,
        slow: Block,
    ) -> Result<IndexedColumns, JitError> {
        let ExprKind::Index(list, index) = &element.kind else {
            unreachable!("an index")
        };
        let (l, len, bases) = self.list_arrays(list, arrays)?;
        let i = self.expr(index)?;
        let from_end = self.b.ins().iadd(i, len);
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, i, 0);
        let position = self.b.ins().select(negative, from_end, i);
        let mut fits = self.b.ins().icmp(IntCC::UnsignedLessThan, position, len);
        for &base in &bases {
            let there = self.b.ins().icmp_imm_u(IntCC::NotEqual, base, 0);
            fits = self.b.ins().band(fits, there);
        }
        self.b.ins().brif(fits, fast, &[], slow, &[]);
        Ok(IndexedColumns {
            list: l,
            index: i,
            position,
            bases,
            span: element.span,
        })
    }

    /// The record `list[index]` of [`Lower::index_columns`]'s slow path (its error when the
    /// index is out of range).
    fn indexed_record(&mut self, at: &IndexedColumns) -> CValue {
        let site = self.site(at.span);
        let ctx = self.ctx;
        let p = self.call1(Helper::rt_index, &[ctx, at.list, at.index, site]);
        self.check_failed();
        p
    }

    /// Containment in a text or a list, and regex matches.
    fn test(&mut self, e: &Expr) -> Result<CValue, JitError> {
        Ok(match &e.kind {
            ExprKind::TextContains { haystack, needle } => {
                let h = self.expr(haystack)?;
                let n = self.expr(needle)?;
                self.call1(Helper::rt_text_contains, &[h, n])
            }
            ExprKind::ListContains { list, item } => {
                let l = self.expr(list)?;
                let x = self.expr(item)?;
                let x = self.boxed(x, &item.ty);
                self.call1(Helper::rt_list_contains, &[l, x])
            }
            ExprKind::Match(t, re) => {
                let tv = self.expr(t)?;
                let ctx = self.ctx;
                let rev = self.b.ins().iconst(types::I32, i64::from(*re));
                self.call1(Helper::rt_match, &[ctx, rev, tv])
            }
            _ => unreachable!("not a test"),
        })
    }

    /// A call of the program's function `id`, compiled on its own.
    fn call_fn(&mut self, id: FnId, args: &[Expr], e: &Expr) -> Result<CValue, JitError> {
        self.charge(e.span);
        let mut vals = vec![self.ctx];
        for (a, (_, pty)) in args.iter().zip(&self.cg.program.functions[id].params) {
            let v = self.expr(a)?;
            vals.push(self.coerce_repr(v, &a.ty, pty));
        }
        let fref = match self.fn_refs.get(&id) {
            Some(f) => *f,
            None => {
                let fid = self.cg.fn_ids[id].ok_or_else(|| {
                    JitError(format!("internal error: function {id} was not compiled"))
                })?;
                let f = self.module.declare_func_in_func(fid, self.b.func);
                self.fn_refs.insert(id, f);
                f
            }
        };
        let inst = self.b.ins().call(fref, &vals);
        let out = self.b.inst_results(inst)[0];
        self.check_failed();
        let ret = self.cg.program.functions[id].ret.clone();
        Ok(self.coerce_repr(out, &ret, &e.ty))
    }

    /// A list or record literal (`e`) of `items`.
    fn construct(&mut self, items: &[Expr], e: &Expr) -> Result<CValue, JitError> {
        let arr = self.pointer_array_of(items.len(), |cg, k| {
            let v = cg.expr(&items[k])?;
            Ok(cg.boxed(v, &items[k].ty))
        })?;
        let n = self.b.ins().iconst(types::I64, items.len() as i64);
        let ctx = self.ctx;
        let helper = if matches!(e.kind, ExprKind::List(_)) {
            Helper::rt_make_list
        } else {
            Helper::rt_make_record
        };
        Ok(self.call1(helper, &[ctx, arr, n]))
    }

    /// Converts between the representations of two types the checker made compatible
    /// (int → float, a scalar into an optional, an optional's value out).
    fn coerce_repr(&mut self, v: CValue, from: &Ty, to: &Ty) -> CValue {
        match (repr(from), repr(to)) {
            (a, b) if a == b => v,
            (Repr::Int | Repr::Bool, Repr::Float) => self.float_of(v, from),
            (_, Repr::Ptr) => self.boxed(v, from),
            (Repr::Ptr, _) => self.unboxed(v, to),
            _ => v,
        }
    }

    /// Cranelift's `fmin` with the language's result for NaN: the runtime's canonical NaN (the
    /// instruction would pass an operand's NaN through, with its sign and payload).
    fn fmin(&mut self, x: CValue, y: CValue) -> CValue {
        let m = self.b.ins().fmin(x, y);
        self.canonical_nan(m)
    }

    fn fmax(&mut self, x: CValue, y: CValue) -> CValue {
        let m = self.b.ins().fmax(x, y);
        self.canonical_nan(m)
    }

    /// The float `x`: made before the loop being compiled when it hoisted `x`, else here.
    fn float_const(&mut self, x: f64) -> CValue {
        match self.hoisted.get(&x.to_bits()) {
            Some(&v) => v,
            None => self.b.ins().f64const(x),
        }
    }

    fn canonical_nan(&mut self, v: CValue) -> CValue {
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, v, v);
        let nan = self.float_const(f64::NAN);
        self.b.ins().select(is_nan, nan, v)
    }

    fn int_arith(&mut self, op: ArithOp, x: CValue, y: CValue, span: Span) -> CValue {
        // Overflow and division by zero are row errors with the interpreter's messages: the
        // helper computes the result and, when it fails, the message.
        let (result, overflow) = match op {
            ArithOp::Add => self.b.ins().sadd_overflow(x, y),
            ArithOp::Sub => self.b.ins().ssub_overflow(x, y),
            ArithOp::Mul => self.b.ins().smul_overflow(x, y),
            _ => {
                let site = self.site(span);
                let ctx = self.ctx;
                let code = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(abi::arith_code(op)));
                let out = self.call1(Helper::rt_int_arith, &[ctx, code, x, y, site]);
                self.check_failed();
                return out;
            }
        };
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I64);
        self.b
            .ins()
            .brif(overflow, slow, &[], done, &[result.into()]);
        self.b.switch_to_block(slow);
        let site = self.site(span);
        let ctx = self.ctx;
        let code = self
            .b
            .ins()
            .iconst(types::I32, i64::from(abi::arith_code(op)));
        self.call(Helper::rt_int_arith, &[ctx, code, x, y, site]);
        self.b.ins().jump(self.error_block, &[]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    fn compare(&mut self, op: CmpOp, x: CValue, y: CValue, ty: &Ty) -> CValue {
        match repr(ty) {
            Repr::Float => {
                let cc = match op {
                    CmpOp::Eq => FloatCC::Equal,
                    CmpOp::Ne => FloatCC::NotEqual,
                    CmpOp::Lt => FloatCC::LessThan,
                    CmpOp::Le => FloatCC::LessThanOrEqual,
                    CmpOp::Gt => FloatCC::GreaterThan,
                    CmpOp::Ge => FloatCC::GreaterThanOrEqual,
                };
                self.b.ins().fcmp(cc, x, y)
            }
            Repr::Int | Repr::Bool => {
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
                };
                self.b.ins().icmp(cc, x, y)
            }
            Repr::Ptr => {
                let code = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(abi::cmp_code(op)));
                self.call1(Helper::rt_compare, &[code, x, y])
            }
        }
    }

    fn builtin(&mut self, id: usize, args: &[Expr], e: &Expr) -> Result<CValue, JitError> {
        if let Some(v) = self.presence(e)? {
            return Ok(v);
        }
        let name = BUILTINS[id].name;
        let all_float = args.iter().all(|a| a.ty == Ty::Float) && e.ty == Ty::Float;
        // Numeric builtins become instructions (or direct calls) when the types are plain
        // floats; everything else goes through the builtins table.
        if all_float {
            if let Some(op) = FloatOp::of(name, args.len()) {
                let mut v = Vec::new();
                for a in args {
                    v.push(self.expr(a)?);
                }
                return Ok(self.float_op(op, &v));
            }
        }
        let mut v = Vec::new();
        for a in args {
            v.push(self.expr(a)?);
        }
        self.builtin_generic(id, args, &v, e)
    }

    fn float_op(&mut self, op: FloatOp, v: &[CValue]) -> CValue {
        match (op, v) {
            (FloatOp::Abs, [x]) => self.b.ins().fabs(*x),
            (FloatOp::Min, [x, y]) => self.fmin(*x, *y),
            (FloatOp::Max, [x, y]) => self.fmax(*x, *y),
            (FloatOp::Clip, [x, lo, hi]) => {
                let m = self.fmax(*x, *lo);
                self.fmin(m, *hi)
            }
            (FloatOp::Floor, [x]) => self.b.ins().floor(*x),
            (FloatOp::Ceil, [x]) => self.b.ins().ceil(*x),
            (FloatOp::Round, [x]) => self.b.ins().nearest(*x),
            (FloatOp::Trunc, [x]) => self.b.ins().trunc(*x),
            (FloatOp::Sqrt, [x]) => self.b.ins().sqrt(*x),
            (FloatOp::Call(f), [x]) => {
                let kind = self.b.ins().iconst(types::I32, f as i64);
                self.call1(Helper::rt_f64_fn, &[kind, *x])
            }
            (FloatOp::Pow, [x, y]) => self.call1(Helper::rt_pow, &[*x, *y]),
            _ => unreachable!("FloatOp::of checked the arity"),
        }
    }

    fn builtin_generic(
        &mut self,
        id: usize,
        args: &[Expr],
        vals: &[CValue],
        e: &Expr,
    ) -> Result<CValue, JitError> {
        let mut ptrs = Vec::with_capacity(vals.len());
        for (v, a) in vals.iter().zip(args) {
            ptrs.push(self.boxed(*v, &a.ty));
        }
        let arr = self.pointer_array(&ptrs);
        let n = self.b.ins().iconst(types::I64, vals.len() as i64);
        let idv = self.b.ins().iconst(types::I64, id as i64);
        let site = self.site(e.span);
        let ctx = self.ctx;
        let p = self.call1(Helper::rt_call_builtin, &[ctx, idv, arr, n, site]);
        self.check_failed();
        Ok(self.unboxed(p, &e.ty))
    }

    fn aggregate(&mut self, agg: &Aggregate, e: &Expr) -> Result<CValue, JitError> {
        let (list, len, _) = self.list_arrays(&agg.iter, &[])?;
        let elem_ty = match &agg.iter.ty {
            Ty::List(t) => (**t).clone(),
            other => return Err(JitError(format!("aggregate over {other}"))),
        };
        let er = repr(&elem_ty);
        let var = self.b.declare_var(clif(er));
        let zero_elem = self.zero(er);
        self.b.def_var(var, zero_elem);
        self.locals.insert(agg.var, (var, er));
        let fold = self.fold_start(agg, len);
        // A loop that reads only bool, int and float fields of its element, or whose element is
        // a bool, int or float, steps through arrays (a list held as values is copied into
        // them first): one copy of the loop, no value looked at per step.
        if let Some(reads) = loop_shape::column_reads(agg) {
            let arrays = reads
                .iter()
                .map(|&a| (a, self.loop_array(list, a, &elem_ty)))
                .collect();
            self.columns.insert(
                agg.var,
                ColumnLoop {
                    index: fold.index,
                    arrays,
                    at_step: Vec::new(),
                },
            );
        }
        let items =
            scalar_kind(&elem_ty).map(|_| self.loop_array(list, StepArray::Items, &elem_ty));
        if items.is_some() || self.columns.contains_key(&agg.var) {
            self.cg.array_loops = true;
        }

        // Values boxed during an iteration are dead at its end (the language is pure, and the
        // accumulators hold scalars or copies), so the row's arena is rolled back each time —
        // except for a `min`/`max` over texts, whose accumulator may point at such a value.
        // Every iteration then starts with the arena as the loop found it: one mark serves all.
        // A loop that boxes nothing has nothing to roll back.
        let boxes = !agg
            .filter
            .iter()
            .chain(&agg.body)
            .all(loop_shape::boxes_nothing);
        let reclaim =
            boxes && !(matches!(agg.kind, AggKind::Min | AggKind::Max) && fold.repr == Repr::Ptr);
        if reclaim {
            let ctx = self.ctx;
            let m = self.call1(Helper::rt_arena_mark, &[ctx]);
            self.b.def_var(fold.mark, m);
        }
        let exit = self.b.create_block();
        let parts = LoopParts {
            list,
            len,
            var,
            elem_ty: &elem_ty,
            fold: &fold,
            reclaim,
            leaf: !boxes,
        };
        self.aggregate_loop(agg, e, &parts, items, exit)?;
        self.b.switch_to_block(exit);
        self.locals.remove(&agg.var);
        self.columns.remove(&agg.var);
        Ok(self.fold_finish(&fold))
    }

    /// An aggregate's loop, from the index's current value to the list's end, leaving to
    /// `exit`. `items`: the list's array of scalars, for a list of scalars.
    fn aggregate_loop(
        &mut self,
        agg: &Aggregate,
        e: &Expr,
        parts: &LoopParts,
        items: Option<CValue>,
        exit: Block,
    ) -> Result<(), JitError> {
        let (fold, list) = (parts.fold, parts.list);
        // A loop that runs to its end and whose iterations spend nothing else pays for them all
        // at once: it runs as many as the budget allows, then fails where the charge per
        // iteration would have (no other charge, exit or allocation, which could run over the
        // memory budget and empty the operation budget, comes between).
        let prepaid = parts.leaf && fold.runs_to_the_end_in_place();
        let limit = if prepaid {
            self.charge_iterations(fold.index, parts.len)
        } else {
            parts.len
        };
        let header = self.b.create_block();
        let body = self.b.create_block();
        let next = self.b.create_block();
        let done = if prepaid { self.b.create_block() } else { exit };
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let i = self.b.use_var(fold.index);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, limit);
        self.b.ins().brif(more, body, &[], done, &[]);
        if prepaid {
            self.b.switch_to_block(done);
            let ran_out = self.b.ins().icmp(IntCC::SignedLessThan, i, parts.len);
            let exhausted = self.b.create_block();
            self.b.ins().brif(ran_out, exhausted, &[], exit, &[]);
            self.b.switch_to_block(exhausted);
            self.budget_exhausted(e.span);
        }

        self.b.switch_to_block(body);
        if !prepaid {
            self.charge(e.span);
        }
        if !self.columns.contains_key(&agg.var) {
            let i = self.b.use_var(fold.index);
            let er = repr(parts.elem_ty);
            let elem = match items {
                Some(base) => self.load_item(base, i, er),
                None => {
                    let p = self.call1(Helper::rt_list_get, &[list, i]);
                    self.unboxed(p, parts.elem_ty)
                }
            };
            self.b.def_var(parts.var, elem);
        }
        if let Some(filter) = &agg.filter {
            let c = self.expr(filter)?;
            let pass = self.b.create_block();
            self.b.ins().brif(c, pass, &[], next, &[]);
            self.b.switch_to_block(pass);
        }
        let v = match &agg.body {
            Some(b) => self.expr(b)?,
            None => self.b.use_var(parts.var),
        };
        self.fold_step(fold, v, exit, e.span);
        self.b.ins().jump(next, &[]);
        self.b.switch_to_block(next);
        if parts.reclaim {
            let ctx = self.ctx;
            let m = self.b.use_var(fold.mark);
            self.call(Helper::rt_arena_release, &[ctx, m]);
        }
        let i = self.b.use_var(fold.index);
        let i1 = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(fold.index, i1);
        self.b.ins().jump(header, &[]);
        Ok(())
    }

    /// Declares and initialises the variables of an aggregate's loop.
    fn fold_start(&mut self, agg: &Aggregate, len: CValue) -> Fold {
        let folded = agg.elem.clone();
        let fr = repr(&folded);
        let int_folded = folded == Ty::Int;
        let acc = self.b.declare_var(match agg.kind {
            AggKind::Sum | AggKind::Product if int_folded => types::I64,
            AggKind::Sum | AggKind::Product | AggKind::Mean => types::F64,
            AggKind::Min | AggKind::Max => clif(fr),
            AggKind::Argmax => clif(fr),
            AggKind::Count => types::I64,
            AggKind::Any | AggKind::All => types::I8,
            AggKind::Collect => types::I64,
        });
        let count = self.b.declare_var(types::I64);
        let found = self.b.declare_var(types::I8);
        let best_index = self.b.declare_var(types::I64);
        let init = match agg.kind {
            AggKind::Sum if int_folded => self.b.ins().iconst(types::I64, 0),
            AggKind::Product if int_folded => self.b.ins().iconst(types::I64, 1),
            AggKind::Sum | AggKind::Mean => self.b.ins().f64const(0.0),
            AggKind::Product => self.b.ins().f64const(1.0),
            AggKind::Min | AggKind::Max | AggKind::Argmax => self.zero(fr),
            AggKind::Count => self.b.ins().iconst(types::I64, 0),
            AggKind::Any => self.b.ins().iconst(types::I8, 0),
            AggKind::All => self.b.ins().iconst(types::I8, 1),
            AggKind::Collect => match scalar_kind(&folded) {
                // At most one item per iteration: the array is stored into in place.
                Some(kind) => {
                    let (ctx, k) = (self.ctx, self.b.ins().iconst(types::I32, kind as i64));
                    self.call1(Helper::rt_collect_scalars, &[ctx, k, len])
                }
                None => {
                    let ctx = self.ctx;
                    self.call1(Helper::rt_collect_new, &[ctx])
                }
            },
        };
        self.b.def_var(acc, init);
        let zero64 = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(count, zero64);
        self.b.def_var(best_index, zero64);
        let zero8 = self.b.ins().iconst(types::I8, 0);
        self.b.def_var(found, zero8);

        let index = self.b.declare_var(types::I64);
        self.b.def_var(index, zero64);
        let mark = self.b.declare_var(types::I64);
        self.b.def_var(mark, zero64);
        Fold {
            kind: agg.kind,
            folded,
            repr: fr,
            acc,
            count,
            found,
            best_index,
            index,
            mark,
        }
    }

    /// Folds one value `v` into the accumulators (`any`/`all` leave for `exit` once decided).
    fn fold_step(&mut self, fold: &Fold, v: CValue, exit: Block, span: Span) {
        let acc = fold.acc;
        match fold.kind {
            AggKind::Sum | AggKind::Product if fold.folded == Ty::Int => {
                let a = self.b.use_var(acc);
                let site = self.site(span);
                let ctx = self.ctx;
                let helper = if fold.kind == AggKind::Sum {
                    Helper::rt_int_sum
                } else {
                    Helper::rt_int_product
                };
                let out = self.call1(helper, &[ctx, a, v, site]);
                self.check_failed();
                self.b.def_var(acc, out);
            }
            AggKind::Sum | AggKind::Product | AggKind::Mean => {
                let x = self.float_of(v, &fold.folded);
                let a = self.b.use_var(acc);
                let out = if fold.kind == AggKind::Product {
                    self.b.ins().fmul(a, x)
                } else {
                    self.b.ins().fadd(a, x)
                };
                self.b.def_var(acc, out);
                let c = self.b.use_var(fold.count);
                let c1 = self.b.ins().iadd_imm_s(c, 1);
                self.b.def_var(fold.count, c1);
            }
            AggKind::Min | AggKind::Max => self.fold_min_max(fold, v),
            AggKind::Argmax => self.fold_argmax(fold, v),
            AggKind::Count => {
                let c = self.b.use_var(acc);
                let inc = if fold.folded == Ty::Bool {
                    self.b.ins().uextend(types::I64, v)
                } else {
                    self.b.ins().iconst(types::I64, 1)
                };
                let out = self.b.ins().iadd(c, inc);
                self.b.def_var(acc, out);
            }
            AggKind::Any | AggKind::All => {
                // Decided: leave the loop with the answer.
                let decided = if fold.kind == AggKind::Any {
                    v
                } else {
                    self.b.ins().icmp_imm_s(IntCC::Equal, v, 0)
                };
                let answer = self
                    .b
                    .ins()
                    .iconst(types::I8, i64::from(fold.kind == AggKind::Any));
                let keep = self.b.create_block();
                let stop = self.b.create_block();
                self.b.ins().brif(decided, stop, &[], keep, &[]);
                self.b.switch_to_block(stop);
                self.b.def_var(acc, answer);
                self.b.ins().jump(exit, &[]);
                self.b.switch_to_block(keep);
            }
            AggKind::Collect if scalar_kind(&fold.folded).is_some() => {
                let (base, c) = (self.b.use_var(acc), self.b.use_var(fold.count));
                self.store_item(base, c, fold.repr, v);
                let c1 = self.b.ins().iadd_imm_s(c, 1);
                self.b.def_var(fold.count, c1);
            }
            AggKind::Collect => {
                let h = self.b.use_var(acc);
                let ctx = self.ctx;
                self.call(Helper::rt_collect_push, &[ctx, h, v]);
            }
        }
    }

    fn fold_min_max(&mut self, fold: &Fold, v: CValue) {
        let max = fold.kind == AggKind::Max;
        let f = self.b.use_var(fold.found);
        let a = self.b.use_var(fold.acc);
        let combined = match fold.repr {
            Repr::Float => {
                if max {
                    self.fmax(a, v)
                } else {
                    self.fmin(a, v)
                }
            }
            Repr::Int => {
                if max {
                    self.b.ins().smax(a, v)
                } else {
                    self.b.ins().smin(a, v)
                }
            }
            _ => {
                // Before the first element there is no best text to compare with.
                let best = self.b.ins().select(f, a, v);
                let m = self.b.ins().iconst(types::I8, i64::from(max));
                self.call1(Helper::rt_minmax_text, &[m, best, v])
            }
        };
        // The first element starts the fold.
        let out = self.b.ins().select(f, combined, v);
        self.b.def_var(fold.acc, out);
        let one = self.b.ins().iconst(types::I8, 1);
        self.b.def_var(fold.found, one);
    }

    fn fold_argmax(&mut self, fold: &Fold, v: CValue) {
        let f = self.b.use_var(fold.found);
        let a = self.b.use_var(fold.acc);
        let (better, candidate) = match fold.repr {
            Repr::Float => {
                let gt = self.b.ins().fcmp(FloatCC::GreaterThan, v, a);
                let not_nan = self.b.ins().fcmp(FloatCC::Ordered, v, v);
                (gt, not_nan)
            }
            _ => {
                let gt = self.b.ins().icmp(IntCC::SignedGreaterThan, v, a);
                let yes = self.b.ins().iconst(types::I8, 1);
                (gt, yes)
            }
        };
        // take = candidate and (not found or better)
        let not_found = self.b.ins().icmp_imm_s(IntCC::Equal, f, 0);
        let either = self.b.ins().bor(not_found, better);
        let take = self.b.ins().band(candidate, either);
        let new_acc = self.b.ins().select(take, v, a);
        self.b.def_var(fold.acc, new_acc);
        let i = self.b.use_var(fold.index);
        let bi = self.b.use_var(fold.best_index);
        let new_bi = self.b.ins().select(take, i, bi);
        self.b.def_var(fold.best_index, new_bi);
        let new_found = self.b.ins().bor(f, take);
        self.b.def_var(fold.found, new_found);
    }

    /// The aggregate's value after the loop.
    fn fold_finish(&mut self, fold: &Fold) -> CValue {
        let a = self.b.use_var(fold.acc);
        let ctx = self.ctx;
        match fold.kind {
            AggKind::Sum | AggKind::Product | AggKind::Count | AggKind::Any | AggKind::All => a,
            AggKind::Mean => {
                let c = self.b.use_var(fold.count);
                let n = self.b.ins().fcvt_from_uint(types::F64, c);
                let mean = self.b.ins().fdiv(a, n);
                let boxed = self.call1(Helper::rt_box_f64, &[ctx, mean]);
                let none = self.call1(Helper::rt_none, &[]);
                let empty = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.b.ins().select(empty, none, boxed)
            }
            AggKind::Min | AggKind::Max | AggKind::Argmax => {
                let value = if fold.kind == AggKind::Argmax {
                    let bi = self.b.use_var(fold.best_index);
                    self.call1(Helper::rt_box_i64, &[ctx, bi])
                } else {
                    self.boxed(a, &fold.folded)
                };
                let f = self.b.use_var(fold.found);
                let none = self.call1(Helper::rt_none, &[]);
                self.b.ins().select(f, value, none)
            }
            AggKind::Collect if scalar_kind(&fold.folded).is_some() => {
                let c = self.b.use_var(fold.count);
                self.call1(Helper::rt_collect_scalars_finish, &[ctx, c])
            }
            AggKind::Collect => self.call1(Helper::rt_collect_finish, &[ctx, a]),
        }
    }
}

/// The kind of array a list of values of type `ty` is held in, for bools, ints and floats.
fn scalar_kind(ty: &Ty) -> Option<ScalarKind> {
    match ty {
        Ty::Bool => Some(ScalarKind::Bool),
        Ty::Int => Some(ScalarKind::Int),
        Ty::Float => Some(ScalarKind::Float),
        _ => None,
    }
}

/// The float builtins compiled to instructions or a direct helper call on plain floats:
/// nothing boxed, no call through the builtins table.
#[derive(Clone, Copy)]
pub(crate) enum FloatOp {
    Abs,
    Min,
    Max,
    Clip,
    Floor,
    Ceil,
    Round,
    Trunc,
    Sqrt,
    Pow,
    Call(FloatFn),
}

impl FloatOp {
    pub(crate) fn of(name: &str, arity: usize) -> Option<FloatOp> {
        Some(match (name, arity) {
            ("abs", 1) => FloatOp::Abs,
            ("min", 2) => FloatOp::Min,
            ("max", 2) => FloatOp::Max,
            ("clip", 3) => FloatOp::Clip,
            ("floor", 1) => FloatOp::Floor,
            ("ceil", 1) => FloatOp::Ceil,
            ("round", 1) => FloatOp::Round,
            ("trunc", 1) => FloatOp::Trunc,
            ("sqrt", 1) => FloatOp::Sqrt,
            ("pow", 2) => FloatOp::Pow,
            ("exp", 1) => FloatOp::Call(FloatFn::Exp),
            ("log", 1) => FloatOp::Call(FloatFn::Ln),
            ("log2", 1) => FloatOp::Call(FloatFn::Log2),
            ("log10", 1) => FloatOp::Call(FloatFn::Log10),
            ("sin", 1) => FloatOp::Call(FloatFn::Sin),
            ("cos", 1) => FloatOp::Call(FloatFn::Cos),
            ("tanh", 1) => FloatOp::Call(FloatFn::Tanh),
            ("sigmoid", 1) => FloatOp::Call(FloatFn::Sigmoid),
            _ => return None,
        })
    }
}

impl Fold {
    /// Whether every step of this fold runs (none leaves the loop early, as `any` and `all`
    /// do) and allocates nothing (it keeps scalars, or stores into an array made before the
    /// loop).
    fn runs_to_the_end_in_place(&self) -> bool {
        match self.kind {
            AggKind::Any | AggKind::All => false,
            AggKind::Collect => scalar_kind(&self.folded).is_some(),
            AggKind::Min | AggKind::Max => self.repr != Repr::Ptr,
            AggKind::Sum | AggKind::Product | AggKind::Mean | AggKind::Count | AggKind::Argmax => {
                true
            }
        }
    }
}

/// What both copies of an aggregate's loop share ([`Lower::aggregate_loop`]).
struct LoopParts<'a> {
    list: CValue,
    len: CValue,
    /// The element's variable (unused by a loop over columns).
    var: Variable,
    elem_ty: &'a Ty,
    fold: &'a Fold,
    /// Whether each iteration rolls the row's arena back.
    reclaim: bool,
    /// Whether the filter and body spend no operation budget (they call no user function and
    /// run no loop: see [`loop_shape::boxes_nothing`]).
    leaf: bool,
}

/// The variables of an aggregate's loop.
struct Fold {
    kind: AggKind,
    /// The type of the folded values (the body's, or the element's).
    folded: Ty,
    repr: Repr,
    acc: Variable,
    /// Values folded (`mean`).
    count: Variable,
    /// Whether `acc` holds a value yet (`min`, `max`, `argmax`).
    found: Variable,
    best_index: Variable,
    /// The element's index in the list.
    index: Variable,
    /// The row arena's mark at the start of the iteration.
    mark: Variable,
}
