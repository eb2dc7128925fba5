//! What compiled (JIT or shared-library) reward code calls: the per-row context and the helper
//! functions for everything that is not plain arithmetic on numbers and booleans.
//!
//! Compiled code holds non-scalar values (text, lists, records, optionals) as pointers to
//! [`Value`]s that live at least as long as the row: in the input, in the term table, in the
//! program's constants, or in the row's arena. Helpers never panic across the C boundary:
//! failures set `failed`, `site` and the message in the context, and compiled code returns.
//!
//! # Safety
//! Every `unsafe extern "C"` function here is called by compiled code (or a C caller) with
//! pointers it got from this module, from the program's constants or from live caller memory of
//! the stated length; that is the whole contract.
#![allow(clippy::missing_safety_doc)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::builtins::EvalContext;
use crate::semantics::{self, ArithOp, CmpOp};
use crate::Value;

/// The state of one row being scored. The first fields have fixed offsets that compiled code
/// reads and writes directly.
#[repr(C)]
pub struct RowCtx {
    /// Loop iterations and function calls left (offset 0).
    pub budget: u64,
    /// Non-zero once something failed (offset 8).
    pub failed: u32,
    /// The site (an index into the program's table of spans) of the failure (offset 12).
    pub site: u32,
    /// The program's constants (offset 16): compiled code addresses them by index.
    pub consts: *const Value,
    pub input: *const Value,
    pub terms: *mut Value,
    regexes: *const regex::Regex,
    regex_count: usize,
    pub message: String,
    /// Boxed so that the addresses handed to compiled code stay put as the arena grows.
    #[allow(clippy::vec_box)]
    arena: Vec<Box<Value>>,
    lists: Vec<Vec<Value>>,
}

pub const OFFSET_BUDGET: i32 = 0;
pub const OFFSET_FAILED: i32 = 8;
pub const OFFSET_CONSTS: i32 = 16;
/// Stride of the constants array.
pub const VALUE_SIZE: usize = std::mem::size_of::<Value>();

static NONE: Value = Value::None;

impl RowCtx {
    /// `terms` must have one slot per term; `regexes` are the program's compiled regexes.
    pub fn new(
        input: &Value,
        terms: &mut [Value],
        consts: &[Value],
        regexes: &[regex::Regex],
    ) -> RowCtx {
        RowCtx {
            budget: semantics::OPERATION_BUDGET,
            failed: 0,
            site: 0,
            consts: consts.as_ptr(),
            input,
            terms: terms.as_mut_ptr(),
            regexes: regexes.as_ptr(),
            regex_count: regexes.len(),
            message: String::new(),
            arena: Vec::new(),
            lists: Vec::new(),
        }
    }

    fn regexes(&self) -> &[regex::Regex] {
        // SAFETY: set from a live slice in `new`, which outlives the row.
        unsafe { std::slice::from_raw_parts(self.regexes, self.regex_count) }
    }

    fn fail(&mut self, site: u32, message: String) {
        if self.failed == 0 {
            self.failed = 1;
            self.site = site;
            self.message = message;
        }
    }

    fn alloc(&mut self, v: Value) -> *const Value {
        let b = Box::new(v);
        let p: *const Value = &*b;
        self.arena.push(b);
        p
    }
}

/// Dereferences a value pointer handed out by this module or by the program's constants.
///
/// # Safety
/// `p` points to a live `Value` for the duration of the row.
unsafe fn val<'a>(p: *const Value) -> &'a Value {
    unsafe { &*p }
}

fn guarded<T>(ctx: &mut RowCtx, site: u32, fallback: T, f: impl FnOnce(&mut RowCtx) -> T) -> T {
    match catch_unwind(AssertUnwindSafe(|| f(ctx))) {
        Ok(v) => v,
        Err(_) => {
            ctx.fail(site, "internal error in a compiled helper".into());
            fallback
        }
    }
}

// ---------------------------------------------------------------- access

#[no_mangle]
pub unsafe extern "C" fn rt_input(ctx: *mut RowCtx) -> *const Value {
    unsafe { (*ctx).input }
}

#[no_mangle]
pub unsafe extern "C" fn rt_term(ctx: *mut RowCtx, id: u64) -> *const Value {
    unsafe { (*ctx).terms.add(id as usize) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_field(p: *const Value, idx: u64) -> *const Value {
    match unsafe { val(p) } {
        Value::Record(fields) => fields.get(idx as usize).map_or(&NONE, |f| f),
        _ => &NONE,
    }
}

/// A float field of a record in one call (the hot path of trace rewards).
#[no_mangle]
pub unsafe extern "C" fn rt_field_f64(p: *const Value, idx: u64) -> f64 {
    unsafe { rt_unbox_f64(rt_field(p, idx)) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_field_i64(p: *const Value, idx: u64) -> i64 {
    unsafe { rt_unbox_i64(rt_field(p, idx)) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_field_bool(p: *const Value, idx: u64) -> i8 {
    unsafe { rt_unbox_bool(rt_field(p, idx)) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_index(
    ctx: *mut RowCtx,
    list: *const Value,
    i: i64,
    site: u32,
) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    let items = match unsafe { val(list) } {
        Value::List(items) => items,
        _ => return &NONE,
    };
    match semantics::list_index(items, i) {
        Ok(v) => v,
        Err(m) => {
            ctx.fail(site, m);
            &NONE
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_list_len(list: *const Value) -> i64 {
    match unsafe { val(list) } {
        Value::List(items) => items.len() as i64,
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_list_get(list: *const Value, i: i64) -> *const Value {
    match unsafe { val(list) } {
        Value::List(items) => items.get(i as usize).map_or(&NONE, |v| v),
        _ => &NONE,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_is_none(p: *const Value) -> i8 {
    i8::from(unsafe { val(p) }.is_none())
}

#[no_mangle]
pub unsafe extern "C" fn rt_none() -> *const Value {
    &NONE
}

// ---------------------------------------------------------------- boxing

#[no_mangle]
pub unsafe extern "C" fn rt_unbox_f64(p: *const Value) -> f64 {
    match unsafe { val(p) } {
        Value::Float(x) => *x,
        Value::Int(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => f64::NAN,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_unbox_i64(p: *const Value) -> i64 {
    match unsafe { val(p) } {
        Value::Int(i) => *i,
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_unbox_bool(p: *const Value) -> i8 {
    match unsafe { val(p) } {
        Value::Bool(b) => i8::from(*b),
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_box_f64(ctx: *mut RowCtx, x: f64) -> *const Value {
    unsafe { &mut *ctx }.alloc(Value::Float(x))
}

#[no_mangle]
pub unsafe extern "C" fn rt_box_i64(ctx: *mut RowCtx, x: i64) -> *const Value {
    unsafe { &mut *ctx }.alloc(Value::Int(x))
}

#[no_mangle]
pub unsafe extern "C" fn rt_box_bool(ctx: *mut RowCtx, b: i8) -> *const Value {
    unsafe { &mut *ctx }.alloc(Value::Bool(b != 0))
}

/// int/bool → float on an optional value (none stays none).
#[no_mangle]
pub unsafe extern "C" fn rt_to_float_opt(ctx: *mut RowCtx, p: *const Value) -> *const Value {
    match unsafe { val(p) } {
        Value::None => &NONE,
        v => {
            let x = v.as_f64();
            unsafe { &mut *ctx }.alloc(Value::Float(x))
        }
    }
}

// ---------------------------------------------------------------- term results

#[no_mangle]
pub unsafe extern "C" fn rt_set_f64(ctx: *mut RowCtx, id: u64, x: f64) {
    unsafe { *(*ctx).terms.add(id as usize) = Value::Float(x) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_set_i64(ctx: *mut RowCtx, id: u64, x: i64) {
    unsafe { *(*ctx).terms.add(id as usize) = Value::Int(x) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_set_bool(ctx: *mut RowCtx, id: u64, b: i8) {
    unsafe { *(*ctx).terms.add(id as usize) = Value::Bool(b != 0) }
}

#[no_mangle]
pub unsafe extern "C" fn rt_set_value(ctx: *mut RowCtx, id: u64, p: *const Value) {
    unsafe {
        let v = val(p).clone();
        *(*ctx).terms.add(id as usize) = v;
    }
}

// ---------------------------------------------------------------- operations

fn arith_op(op: u32) -> ArithOp {
    match op {
        0 => ArithOp::Add,
        1 => ArithOp::Sub,
        2 => ArithOp::Mul,
        3 => ArithOp::Div,
        _ => ArithOp::Rem,
    }
}

pub fn arith_code(op: ArithOp) -> u32 {
    match op {
        ArithOp::Add => 0,
        ArithOp::Sub => 1,
        ArithOp::Mul => 2,
        ArithOp::Div => 3,
        ArithOp::Rem => 4,
    }
}

fn cmp_op(op: u32) -> CmpOp {
    match op {
        0 => CmpOp::Eq,
        1 => CmpOp::Ne,
        2 => CmpOp::Lt,
        3 => CmpOp::Le,
        4 => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

pub fn cmp_code(op: CmpOp) -> u32 {
    match op {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_int_arith(ctx: *mut RowCtx, op: u32, x: i64, y: i64, site: u32) -> i64 {
    match semantics::int_arith(arith_op(op), x, y) {
        Ok(v) => v,
        Err(m) => {
            unsafe { &mut *ctx }.fail(site, m);
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_neg_int(ctx: *mut RowCtx, x: i64, site: u32) -> i64 {
    match semantics::neg_int(x) {
        Ok(v) => v,
        Err(m) => {
            unsafe { &mut *ctx }.fail(site, m);
            0
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_int_sum(ctx: *mut RowCtx, acc: i64, x: i64, site: u32) -> i64 {
    semantics::int_sum(acc, x).unwrap_or_else(|m| {
        unsafe { &mut *ctx }.fail(site, m);
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn rt_int_product(ctx: *mut RowCtx, acc: i64, x: i64, site: u32) -> i64 {
    semantics::int_product(acc, x).unwrap_or_else(|m| {
        unsafe { &mut *ctx }.fail(site, m);
        0
    })
}

#[no_mangle]
pub unsafe extern "C" fn rt_float_rem(x: f64, y: f64) -> f64 {
    semantics::float_arith(ArithOp::Rem, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn rt_budget_exhausted(ctx: *mut RowCtx, site: u32) {
    unsafe { &mut *ctx }.fail(site, semantics::budget_error());
}

#[no_mangle]
pub unsafe extern "C" fn rt_compare(op: u32, a: *const Value, b: *const Value) -> i8 {
    i8::from(semantics::compare(cmp_op(op), unsafe { val(a) }, unsafe {
        val(b)
    }))
}

#[no_mangle]
pub unsafe extern "C" fn rt_concat(
    ctx: *mut RowCtx,
    a: *const Value,
    b: *const Value,
    site: u32,
) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    match semantics::concat(unsafe { val(a) }, unsafe { val(b) }) {
        Ok(v) => ctx.alloc(v),
        Err(m) => {
            ctx.fail(site, m);
            &NONE
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_text_contains(haystack: *const Value, needle: *const Value) -> i8 {
    match (unsafe { val(haystack) }, unsafe { val(needle) }) {
        (Value::Text(h), Value::Text(n)) => i8::from(crate::native::search::contains(h, n)),
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_list_contains(list: *const Value, item: *const Value) -> i8 {
    let item = unsafe { val(item) };
    match unsafe { val(list) } {
        Value::List(items) => {
            i8::from(items.iter().any(|v| semantics::compare(CmpOp::Eq, v, item)))
        }
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_match(ctx: *mut RowCtx, re: u32, text: *const Value) -> i8 {
    let ctx = unsafe { &*ctx };
    match (ctx.regexes().get(re as usize), unsafe { val(text) }) {
        (Some(r), Value::Text(t)) => i8::from(r.is_match(t)),
        _ => 0,
    }
}

/// Calls builtin `id` on `n` boxed arguments; null on failure (the context says why).
#[no_mangle]
pub unsafe extern "C" fn rt_call_builtin(
    ctx: *mut RowCtx,
    id: u64,
    args: *const *const Value,
    n: u64,
    site: u32,
) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    guarded(ctx, site, &NONE as *const Value, |ctx| {
        let ptrs = unsafe { std::slice::from_raw_parts(args, n as usize) };
        let vals: Vec<Value> = ptrs.iter().map(|p| unsafe { val(*p) }.clone()).collect();
        let regexes = ctx.regexes();
        let result = semantics::call_builtin(id as usize, &vals, &EvalContext { regexes });
        match result {
            Ok(v) => ctx.alloc(v),
            Err(m) => {
                ctx.fail(site, m);
                &NONE
            }
        }
    })
}

/// Unary float functions that compiled code calls rather than inlines, so that the result is
/// the very one the interpreter computes.
#[no_mangle]
pub unsafe extern "C" fn rt_f64_fn(kind: u32, x: f64) -> f64 {
    match kind {
        0 => x.exp(),
        1 => x.ln(),
        2 => x.log2(),
        3 => x.log10(),
        4 => x.sin(),
        5 => x.cos(),
        6 => x.tanh(),
        7 => 1.0 / (1.0 + (-x).exp()),
        _ => f64::NAN,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[no_mangle]
pub unsafe extern "C" fn rt_make_list(
    ctx: *mut RowCtx,
    items: *const *const Value,
    n: u64,
) -> *const Value {
    let ptrs = unsafe { std::slice::from_raw_parts(items, n as usize) };
    let v = Value::List(ptrs.iter().map(|p| unsafe { val(*p) }.clone()).collect());
    unsafe { &mut *ctx }.alloc(v)
}

#[no_mangle]
pub unsafe extern "C" fn rt_make_record(
    ctx: *mut RowCtx,
    items: *const *const Value,
    n: u64,
) -> *const Value {
    let ptrs = unsafe { std::slice::from_raw_parts(items, n as usize) };
    let v = Value::Record(ptrs.iter().map(|p| unsafe { val(*p) }.clone()).collect());
    unsafe { &mut *ctx }.alloc(v)
}

/// A list being built by a comprehension: returns a handle.
#[no_mangle]
pub unsafe extern "C" fn rt_collect_new(ctx: *mut RowCtx) -> u64 {
    let ctx = unsafe { &mut *ctx };
    ctx.lists.push(Vec::new());
    (ctx.lists.len() - 1) as u64
}

#[no_mangle]
pub unsafe extern "C" fn rt_collect_push(ctx: *mut RowCtx, handle: u64, p: *const Value) {
    let v = unsafe { val(p) }.clone();
    if let Some(list) = unsafe { &mut *ctx }.lists.get_mut(handle as usize) {
        list.push(v);
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_collect_finish(ctx: *mut RowCtx, handle: u64) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    let items = ctx
        .lists
        .get_mut(handle as usize)
        .map(std::mem::take)
        .unwrap_or_default();
    // Comprehensions nest, so lists finish in reverse order of creation.
    ctx.lists.truncate(handle as usize);
    ctx.alloc(Value::List(items.into()))
}

/// `min`/`max` fold step over texts: the kept value (the first of equals).
#[no_mangle]
pub unsafe extern "C" fn rt_minmax_text(
    max: i8,
    best: *const Value,
    x: *const Value,
) -> *const Value {
    match (unsafe { val(best) }, unsafe { val(x) }) {
        (Value::Text(b), Value::Text(v)) => {
            let keep_best = if max != 0 { b >= v } else { b <= v };
            if keep_best {
                best
            } else {
                x
            }
        }
        _ => best,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_check_unit(
    ctx: *mut RowCtx,
    x: f64,
    criterion: *const Value,
    site: u32,
) -> f64 {
    let name = match unsafe { val(criterion) } {
        Value::Text(t) => t.to_string(),
        _ => String::new(),
    };
    semantics::check_unit(&name, x).unwrap_or_else(|m| {
        unsafe { &mut *ctx }.fail(site, m);
        0.0
    })
}

/// The current size of the row's arena, to roll back to at the end of a loop iteration.
#[no_mangle]
pub unsafe extern "C" fn rt_arena_mark(ctx: *mut RowCtx) -> i64 {
    unsafe { &*ctx }.arena.len() as i64
}

/// Frees every value boxed since `mark` (compiled code holds no pointer to them any more).
#[no_mangle]
pub unsafe extern "C" fn rt_arena_release(ctx: *mut RowCtx, mark: i64) {
    let ctx = unsafe { &mut *ctx };
    ctx.arena
        .truncate(usize::try_from(mark).unwrap_or(usize::MAX));
}

/// Every helper with its symbol name, for registration with a JIT or a linker.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("rt_input", rt_input as *const u8),
        ("rt_term", rt_term as *const u8),
        ("rt_field", rt_field as *const u8),
        ("rt_field_f64", rt_field_f64 as *const u8),
        ("rt_field_i64", rt_field_i64 as *const u8),
        ("rt_field_bool", rt_field_bool as *const u8),
        ("rt_index", rt_index as *const u8),
        ("rt_list_len", rt_list_len as *const u8),
        ("rt_list_get", rt_list_get as *const u8),
        ("rt_is_none", rt_is_none as *const u8),
        ("rt_none", rt_none as *const u8),
        ("rt_unbox_f64", rt_unbox_f64 as *const u8),
        ("rt_unbox_i64", rt_unbox_i64 as *const u8),
        ("rt_unbox_bool", rt_unbox_bool as *const u8),
        ("rt_box_f64", rt_box_f64 as *const u8),
        ("rt_box_i64", rt_box_i64 as *const u8),
        ("rt_box_bool", rt_box_bool as *const u8),
        ("rt_to_float_opt", rt_to_float_opt as *const u8),
        ("rt_set_f64", rt_set_f64 as *const u8),
        ("rt_set_i64", rt_set_i64 as *const u8),
        ("rt_set_bool", rt_set_bool as *const u8),
        ("rt_set_value", rt_set_value as *const u8),
        ("rt_int_arith", rt_int_arith as *const u8),
        ("rt_neg_int", rt_neg_int as *const u8),
        ("rt_int_sum", rt_int_sum as *const u8),
        ("rt_int_product", rt_int_product as *const u8),
        ("rt_float_rem", rt_float_rem as *const u8),
        ("rt_budget_exhausted", rt_budget_exhausted as *const u8),
        ("rt_compare", rt_compare as *const u8),
        ("rt_concat", rt_concat as *const u8),
        ("rt_text_contains", rt_text_contains as *const u8),
        ("rt_list_contains", rt_list_contains as *const u8),
        ("rt_match", rt_match as *const u8),
        ("rt_call_builtin", rt_call_builtin as *const u8),
        ("rt_f64_fn", rt_f64_fn as *const u8),
        ("rt_pow", rt_pow as *const u8),
        ("rt_make_list", rt_make_list as *const u8),
        ("rt_make_record", rt_make_record as *const u8),
        ("rt_collect_new", rt_collect_new as *const u8),
        ("rt_collect_push", rt_collect_push as *const u8),
        ("rt_collect_finish", rt_collect_finish as *const u8),
        ("rt_minmax_text", rt_minmax_text as *const u8),
        ("rt_check_unit", rt_check_unit as *const u8),
        ("rt_arena_mark", rt_arena_mark as *const u8),
        ("rt_arena_release", rt_arena_release as *const u8),
    ]
}
