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

use crate::arena::Arena;
use crate::builtins::EvalContext;
use crate::semantics::{self, ArithOp, CmpOp};
use crate::value::Column;
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
    regexes: *const crate::native::pattern::Pattern,
    regex_count: usize,
    pub message: String,
    arena: Arena,
    lists: Vec<Vec<Value>>,
    /// The lists of scalars being collected ([`rt_collect_scalars`]), innermost last.
    collecting: Vec<Column>,
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
        regexes: &[crate::native::pattern::Pattern],
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
            arena: Arena::default(),
            lists: Vec::new(),
            collecting: Vec::new(),
        }
    }

    fn regexes(&self) -> &[crate::native::pattern::Pattern] {
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

    /// Stores `v` in the row's arena. Every value compiled code makes goes through here, so this
    /// is where the memory budget is watched: over it, the operation budget is emptied, and the
    /// next loop iteration or call stops the row with the memory error (see
    /// [`rt_budget_exhausted`]).
    fn alloc(&mut self, v: Value) -> *const Value {
        let p = self.arena.push(v);
        if crate::meter::over() {
            self.budget = 0;
        }
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
    let Some(items) = unsafe { val(list) }.list_items() else {
        return &NONE;
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
        v @ (Value::List(_) | Value::Columns(_)) => v.list_len() as i64,
        _ => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_list_get(list: *const Value, i: i64) -> *const Value {
    match unsafe { val(list) }.list_items() {
        Some(items) => items.get(i as usize).map_or(&NONE, |v| v),
        None => &NONE,
    }
}

/// The address of the first row's value of field `field` of a list of records of scalars held
/// as [`Value::Columns`], for a loop that reads only such fields of its element: compiled code
/// then steps through the array (8 bytes per int or float, 1 per bool) for as many rows as the
/// list has. Null for a list held as values, which the loop reads an element at a time.
#[no_mangle]
pub unsafe extern "C" fn rt_column(list: *const Value, field: u64) -> *const u8 {
    match unsafe { val(list) } {
        Value::Columns(c) if c.items().is_none() => c
            .fields()
            .get(field as usize)
            .map_or(std::ptr::null(), Column::as_ptr),
        _ => std::ptr::null(),
    }
}

/// The address of the first of the bools (bytes, 0 or 1) that say which rows of a list held as
/// columns hold its optional field `field` ([`crate::value::Columns::present`]); null when the
/// list is held as values or every row holds the field.
#[no_mangle]
pub unsafe extern "C" fn rt_column_present(list: *const Value, field: u64) -> *const u8 {
    match unsafe { val(list) } {
        Value::Columns(c) if c.items().is_none() => c
            .present(field as usize)
            .map_or(std::ptr::null(), |p| p.as_ptr().cast()),
        _ => std::ptr::null(),
    }
}

/// The address of the first item of a list of bools, ints or floats held as one array, for a
/// loop that steps through it as [`rt_column`] steps through a field; null for a list held as
/// values.
#[no_mangle]
pub unsafe extern "C" fn rt_items(list: *const Value) -> *const u8 {
    unsafe { val(list) }
        .scalar_items()
        .map_or(std::ptr::null(), Column::as_ptr)
}

/// Which array of a list [`rt_step_array`] gives: the items of a list of scalars, or the
/// values or the presence of field `field` of a list of records.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayOf {
    Items = 0,
    Field = 1,
    Present = 2,
}

impl ArrayOf {
    fn of(which: u32) -> ArrayOf {
        match which {
            0 => ArrayOf::Items,
            1 => ArrayOf::Field,
            _ => ArrayOf::Present,
        }
    }
}

/// The array a compiled loop steps through for its element, never null: the list's own when
/// it is held as columns ([`rt_column`], [`rt_column_present`], [`rt_items`]), else one made
/// from its values (`kind`: [`ScalarKind`] of the items or of the field, a row that leaves an
/// optional field out holding 0 there) and kept in the row's arena. So a loop is compiled once,
/// over arrays, whichever way the row holds its list; a list held as values pays one pass to
/// copy what the loop reads, as the loop itself would have read it.
#[no_mangle]
pub unsafe extern "C" fn rt_step_array(
    ctx: *mut RowCtx,
    list: *const Value,
    which: u32,
    field: u64,
    kind: u32,
) -> *const u8 {
    let ctx = unsafe { &mut *ctx };
    let value = unsafe { val(list) };
    let which = ArrayOf::of(which);
    let in_place = match which {
        ArrayOf::Items => unsafe { rt_items(list) },
        ArrayOf::Field => unsafe { rt_column(list, field) },
        ArrayOf::Present => unsafe { rt_column_present(list, field) },
    };
    if !in_place.is_null() {
        return in_place;
    }
    let rows = value.list_items().unwrap_or(&[]);
    let read = |v: &Value| match which {
        ArrayOf::Items => v as *const Value,
        ArrayOf::Field | ArrayOf::Present => unsafe { rt_field(v, field) },
    };
    let array = match (which, ScalarKind::of(kind)) {
        (ArrayOf::Present, _) => Column::Bool(
            rows.iter()
                .map(|v| unsafe { rt_is_none(read(v)) } == 0)
                .collect(),
        ),
        (_, ScalarKind::Bool) => Column::Bool(
            rows.iter()
                .map(|v| unsafe { rt_unbox_bool(read(v)) } != 0)
                .collect(),
        ),
        (_, ScalarKind::Int) => {
            let ints: Vec<i64> = rows
                .iter()
                .map(|v| unsafe { rt_unbox_i64(read(v)) })
                .collect();
            Column::Int(ints.into())
        }
        (_, ScalarKind::Float) => {
            let floats: Vec<f64> = rows
                .iter()
                .map(|v| unsafe { rt_unbox_f64(read(v)) })
                .collect();
            Column::Float(floats.into())
        }
    };
    let held = ctx.alloc(Value::array(array));
    unsafe { val(held) }
        .scalar_items()
        .map_or(std::ptr::null(), Column::as_ptr)
}

/// Starts a list of bools, ints or floats (`kind`: [`ScalarKind`]) that a loop of at most
/// `capacity` iterations collects: compiled code stores the items in the returned array
/// itself and hands their count to [`rt_collect_scalars_finish`]. Such lists nest as the loops
/// do.
#[no_mangle]
pub unsafe extern "C" fn rt_collect_scalars(ctx: *mut RowCtx, kind: u32, capacity: i64) -> *mut u8 {
    let ctx = unsafe { &mut *ctx };
    let n = usize::try_from(capacity).unwrap_or(0);
    // Room, not values: compiled code writes every item it counts, so zeroing the array
    // first would only write it twice (a tenth of a long trace's time in process).
    let mut items = match ScalarKind::of(kind) {
        ScalarKind::Bool => Column::Bool(Vec::with_capacity(n)),
        ScalarKind::Int => Column::Int(Vec::with_capacity(n).into()),
        ScalarKind::Float => Column::Float(Vec::with_capacity(n).into()),
    };
    let p = items.as_mut_ptr();
    ctx.collecting.push(items);
    if crate::meter::over() {
        ctx.budget = 0;
    }
    p
}

/// The list of the first `count` items stored since the matching [`rt_collect_scalars`].
#[no_mangle]
pub unsafe extern "C" fn rt_collect_scalars_finish(ctx: *mut RowCtx, count: i64) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    let mut items = ctx
        .collecting
        .pop()
        .unwrap_or(Column::Float(Vec::new().into()));
    // SAFETY: compiled code stored items `0..count` at the address `rt_collect_scalars`
    // returned, one after the other and within the capacity it asked for.
    unsafe { items.set_written(usize::try_from(count).unwrap_or(0)) };
    ctx.alloc(Value::array(items))
}

/// The record of a machine's (or an automaton's) run that compiled code ran in its own loop
/// (see [`crate::machine::StepTable`]): `names` is the table's state names, `rewards` and
/// `taken` the lists it collected, `ended` the step it ended at (-1: none) and `state` the
/// number of the state it is in.
#[no_mangle]
pub unsafe extern "C" fn rt_machine_record(
    ctx: *mut RowCtx,
    names: *const Value,
    total: f64,
    rewards: *const Value,
    taken: *const Value,
    ended: i64,
    state: i64,
) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    guarded(ctx, 0, &NONE as *const Value, |ctx| {
        let names = unsafe { val(names) }.as_list();
        let name = usize::try_from(state)
            .ok()
            .and_then(|q| names.get(q))
            .map_or("?", Value::as_text);
        let record = crate::machine::run_record(
            total,
            unsafe { val(rewards) }.clone(),
            usize::try_from(ended).ok(),
            name,
            unsafe { val(taken) }.clone(),
        );
        ctx.alloc(record)
    })
}

/// Per step, the name in `names` of the state a loop over the steps went to: `states` is the
/// `taken` list the loop collected from a table whose transitions report their target's number
/// ([`crate::ltl::Automaton::verdict_table`]: an automaton's verdicts).
#[no_mangle]
pub unsafe extern "C" fn rt_state_names(
    ctx: *mut RowCtx,
    names: *const Value,
    states: *const Value,
) -> *const Value {
    let ctx = unsafe { &mut *ctx };
    guarded(ctx, 0, &NONE as *const Value, |ctx| {
        let names = unsafe { val(names) }.as_list();
        let name = |q: i64| {
            usize::try_from(q)
                .ok()
                .and_then(|q| names.get(q))
                .cloned()
                .unwrap_or_else(|| Value::text("?"))
        };
        let out = match unsafe { val(states) }.scalar_items() {
            Some(Column::Int(states)) => states.iter().map(|&q| name(q)).collect(),
            _ => Vec::new(),
        };
        ctx.alloc(Value::List(out.into()))
    })
}

/// The kinds of [`rt_collect_scalars`]'s lists, as compiled code passes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    Bool = 0,
    Int = 1,
    Float = 2,
}

impl ScalarKind {
    fn of(kind: u32) -> ScalarKind {
        match kind {
            0 => ScalarKind::Bool,
            1 => ScalarKind::Int,
            _ => ScalarKind::Float,
        }
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
    let message = if crate::meter::over() {
        crate::meter::error()
    } else {
        semantics::budget_error()
    };
    unsafe { &mut *ctx }.fail(site, message);
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
    match unsafe { val(list) }.list_items() {
        Some(items) => i8::from(items.iter().any(|v| semantics::compare(CmpOp::Eq, v, item))),
        None => 0,
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
        let result = crate::builtins::call_builtin(id as usize, &vals, &EvalContext { regexes });
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
/// the very one the interpreter computes; compiled code passes the discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFn {
    Exp,
    Ln,
    Log2,
    Log10,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
}

impl FloatFn {
    const ALL: [FloatFn; 8] = [
        FloatFn::Exp,
        FloatFn::Ln,
        FloatFn::Log2,
        FloatFn::Log10,
        FloatFn::Sin,
        FloatFn::Cos,
        FloatFn::Tanh,
        FloatFn::Sigmoid,
    ];

    pub fn apply(self, x: f64) -> f64 {
        match self {
            FloatFn::Exp => x.exp(),
            FloatFn::Ln => x.ln(),
            FloatFn::Log2 => x.log2(),
            FloatFn::Log10 => x.log10(),
            FloatFn::Sin => x.sin(),
            FloatFn::Cos => x.cos(),
            FloatFn::Tanh => x.tanh(),
            FloatFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn rt_f64_fn(kind: u32, x: f64) -> f64 {
    FloatFn::ALL
        .get(kind as usize)
        .map_or(f64::NAN, |f| f.apply(x))
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
    unsafe { collect(ctx, handle, v) }
}

/// Appends `v` to the list being built under `handle`.
///
/// # Safety
/// `ctx` is the live row context.
unsafe fn collect(ctx: *mut RowCtx, handle: u64, v: Value) {
    let ctx = unsafe { &mut *ctx };
    if let Some(list) = ctx.lists.get_mut(handle as usize) {
        list.push(v);
    }
    if crate::meter::over() {
        ctx.budget = 0;
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

/// The machine type of a helper's parameter or result, as compiled code passes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbiType {
    I8,
    I32,
    I64,
    F64,
}

/// The [`AbiType`] of each Rust type a helper takes or returns.
pub trait Abi {
    const TYPE: AbiType;
}

impl Abi for i8 {
    const TYPE: AbiType = AbiType::I8;
}
impl Abi for u32 {
    const TYPE: AbiType = AbiType::I32;
}
impl Abi for i64 {
    const TYPE: AbiType = AbiType::I64;
}
impl Abi for u64 {
    const TYPE: AbiType = AbiType::I64;
}
impl Abi for f64 {
    const TYPE: AbiType = AbiType::F64;
}
impl<T> Abi for *const T {
    const TYPE: AbiType = AbiType::I64;
}
impl<T> Abi for *mut T {
    const TYPE: AbiType = AbiType::I64;
}

/// Declares the helpers once: from the list below come the [`Helper`] enum the code generators
/// name them by, their symbols and their signatures. Each entry is checked against the
/// function itself (a function-pointer coercion), so a signature that does not match is a
/// compile error, not undefined behaviour.
macro_rules! helpers {
    ($( $name:ident ( $($arg:ty),* ) $(-> $ret:ty)? ; )*) => {
        /// Every runtime helper compiled code calls.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Helper {
            $($name),*
        }

        impl Helper {
            pub const ALL: &'static [Helper] = &[$(Helper::$name),*];

            /// The symbol compiled code imports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Helper::$name => stringify!($name)),*
                }
            }

            /// The function's address, for a JIT.
            pub fn address(self) -> *const u8 {
                match self {
                    $(Helper::$name => {
                        let f: unsafe extern "C" fn($($arg),*) $(-> $ret)? = $name;
                        f as *const u8
                    }),*
                }
            }

            pub fn params(self) -> &'static [AbiType] {
                match self {
                    $(Helper::$name => &[$(<$arg as Abi>::TYPE),*]),*
                }
            }

            pub fn returns(self) -> Option<AbiType> {
                match self {
                    $(Helper::$name => helpers!(@ret $($ret)?)),*
                }
            }
        }
    };
    (@ret) => { None };
    (@ret $ret:ty) => { Some(<$ret as Abi>::TYPE) };
}

helpers! {
    rt_input(*mut RowCtx) -> *const Value;
    rt_term(*mut RowCtx, u64) -> *const Value;
    rt_field(*const Value, u64) -> *const Value;
    rt_field_f64(*const Value, u64) -> f64;
    rt_field_i64(*const Value, u64) -> i64;
    rt_field_bool(*const Value, u64) -> i8;
    rt_index(*mut RowCtx, *const Value, i64, u32) -> *const Value;
    rt_list_len(*const Value) -> i64;
    rt_list_get(*const Value, i64) -> *const Value;
    rt_column(*const Value, u64) -> *const u8;
    rt_column_present(*const Value, u64) -> *const u8;
    rt_items(*const Value) -> *const u8;
    rt_step_array(*mut RowCtx, *const Value, u32, u64, u32) -> *const u8;
    rt_collect_scalars(*mut RowCtx, u32, i64) -> *mut u8;
    rt_collect_scalars_finish(*mut RowCtx, i64) -> *const Value;
    rt_machine_record(*mut RowCtx, *const Value, f64, *const Value, *const Value, i64, i64) -> *const Value;
    rt_state_names(*mut RowCtx, *const Value, *const Value) -> *const Value;
    rt_is_none(*const Value) -> i8;
    rt_none() -> *const Value;
    rt_unbox_f64(*const Value) -> f64;
    rt_unbox_i64(*const Value) -> i64;
    rt_unbox_bool(*const Value) -> i8;
    rt_box_f64(*mut RowCtx, f64) -> *const Value;
    rt_box_i64(*mut RowCtx, i64) -> *const Value;
    rt_box_bool(*mut RowCtx, i8) -> *const Value;
    rt_to_float_opt(*mut RowCtx, *const Value) -> *const Value;
    rt_set_f64(*mut RowCtx, u64, f64);
    rt_set_i64(*mut RowCtx, u64, i64);
    rt_set_bool(*mut RowCtx, u64, i8);
    rt_set_value(*mut RowCtx, u64, *const Value);
    rt_int_arith(*mut RowCtx, u32, i64, i64, u32) -> i64;
    rt_neg_int(*mut RowCtx, i64, u32) -> i64;
    rt_int_sum(*mut RowCtx, i64, i64, u32) -> i64;
    rt_int_product(*mut RowCtx, i64, i64, u32) -> i64;
    rt_float_rem(f64, f64) -> f64;
    rt_budget_exhausted(*mut RowCtx, u32);
    rt_compare(u32, *const Value, *const Value) -> i8;
    rt_concat(*mut RowCtx, *const Value, *const Value, u32) -> *const Value;
    rt_text_contains(*const Value, *const Value) -> i8;
    rt_list_contains(*const Value, *const Value) -> i8;
    rt_match(*mut RowCtx, u32, *const Value) -> i8;
    rt_call_builtin(*mut RowCtx, u64, *const *const Value, u64, u32) -> *const Value;
    rt_f64_fn(u32, f64) -> f64;
    rt_pow(f64, f64) -> f64;
    rt_make_list(*mut RowCtx, *const *const Value, u64) -> *const Value;
    rt_make_record(*mut RowCtx, *const *const Value, u64) -> *const Value;
    rt_collect_new(*mut RowCtx) -> u64;
    rt_collect_push(*mut RowCtx, u64, *const Value);
    rt_collect_finish(*mut RowCtx, u64) -> *const Value;
    rt_minmax_text(i8, *const Value, *const Value) -> *const Value;
    rt_check_unit(*mut RowCtx, f64, *const Value, u32) -> f64;
    rt_arena_mark(*mut RowCtx) -> i64;
    rt_arena_release(*mut RowCtx, i64);
}

/// Every helper with its symbol name, for registration with a JIT or a linker.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    Helper::ALL
        .iter()
        .map(|h| (h.name(), h.address()))
        .collect()
}

/// Identifies this runtime's calling convention: compiled code calls builtins by their position
/// in [`BUILTINS`](crate::builtins::BUILTINS) and helpers by name, and lays values out as this build does. A shared library
/// records the fingerprint of the runtime it was compiled for; a library linked with a different
/// runtime refuses to score instead of silently calling the wrong builtin.
pub fn fingerprint() -> u64 {
    // FNV-1a over everything the compiled code depends on.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(env!("CARGO_PKG_VERSION").as_bytes());
    eat(&(std::mem::size_of::<crate::Value>() as u64).to_le_bytes());
    for b in crate::builtins::BUILTINS {
        eat(b.name.as_bytes());
        eat(b.module.unwrap_or("").as_bytes());
        eat(&[b.params.len() as u8]);
    }
    // Helpers by name and signature: a library built against another signature is refused.
    for &helper in Helper::ALL {
        eat(helper.name().as_bytes());
        for t in helper.params().iter().chain(helper.returns().as_ref()) {
            eat(format!("{t:?}").as_bytes());
        }
    }
    h
}
