//! Arrow record batches to rows of the reward runtime: the table's buffers read where they
//! are, without a value per record of a trace (a list of records of scalars becomes one array
//! per field, a list of texts one buffer). The Python package reads pyarrow data through it
//! (the Arrow C stream interface) and `reward score` its Parquet input. Values follow the JSON
//! rules of decoding (`int` takes integral floats up to 2^53, `float` any number, a null is
//! `none` in an optional column and an error elsewhere), so a row reads as the same row would
//! from JSON Lines.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_buffer::{ArrowNativeType, ScalarBuffer};
use arrow_schema::DataType;
use reward_runtime::decode::{describe_ty, missing_field};
use reward_runtime::value::{Column, Columns, Shared, Store, Texts, TextsBuilder};
use reward_runtime::{Ty, Value};

/// Why a value does not fit its type, and where in the row it is (`steps[3].x`; empty for the
/// row itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub message: String,
}

impl Mismatch {
    pub fn new(message: String) -> Mismatch {
        Mismatch {
            path: String::new(),
            message,
        }
    }

    /// A required field of type `ty` that is not there.
    pub fn missing(ty: &Ty) -> Mismatch {
        Mismatch::new(missing_field(ty))
    }

    /// The same mismatch inside the field `name` of a record.
    pub fn in_field(mut self, name: &str) -> Mismatch {
        self.path = if self.path.is_empty() || self.path.starts_with('[') {
            format!("{name}{}", self.path)
        } else {
            format!("{name}.{}", self.path)
        };
        self
    }

    /// The same mismatch inside item `index` of a list.
    pub fn in_element(mut self, index: usize) -> Mismatch {
        self.path = if self.path.is_empty() || self.path.starts_with('[') {
            format!("[{index}]{}", self.path)
        } else {
            format!("[{index}].{}", self.path)
        };
        self
    }
}

/// How many rows of `batch` to convert and score at a time: about 256 KiB of its Arrow
/// buffers (the values made from them are a few times larger and stay in the caches; a
/// trajectory of ten thousand records is a slice of its own), and at least `workers` rows, so
/// that every worker gets one. Bigger slices cost page faults: the allocator hands the freed
/// memory of a large slice back to the system, and the next slice faults it in again.
pub fn rows_per_slice(batch: &RecordBatch, workers: usize) -> usize {
    rows_in_bytes(batch, 256 << 10, workers)
}

/// How many rows of `batch` hold about `bytes` of its Arrow buffers (the batch's size shared
/// evenly among its rows), at least `least` of them.
pub fn rows_in_bytes(batch: &RecordBatch, bytes: usize, least: usize) -> usize {
    let size = batch.get_array_memory_size().max(1);
    let rows = batch.num_rows();
    let least = least.max(1);
    (rows.saturating_mul(bytes) / size).clamp(least, rows.max(least))
}

/// Each row of the batches as a record of `schema` (or why it does not fit), in order.
pub fn rows(batches: &[RecordBatch], schema: &Ty) -> Vec<Result<Value, Mismatch>> {
    let Ty::Record(fields) = schema else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for batch in batches {
        if let Some(records) = batch_fast(batch, schema) {
            out.extend(records.into_iter().map(Ok));
            continue;
        }
        let columns: Vec<Option<&dyn Array>> = fields
            .iter()
            .map(|f| batch.column_by_name(&f.name).map(|c| c.as_ref()))
            .collect();
        for i in 0..batch.num_rows() {
            let mut items = Vec::with_capacity(fields.len());
            let mut failed = None;
            for (f, col) in fields.iter().zip(&columns) {
                let v = match col {
                    Some(col) => value(*col, i, &f.ty),
                    None if f.ty.is_optional() => Ok(Value::None),
                    None => Err(Mismatch::missing(&f.ty)),
                };
                match v {
                    Ok(v) => items.push(v),
                    Err(m) => {
                        failed = Some(m.in_field(&f.name));
                        break;
                    }
                }
            }
            out.push(match failed {
                Some(m) => Err(m),
                None => Ok(Value::Record(items.into())),
            });
        }
    }
    out
}

/// The rows of a batch converted a column at a time (each column, and each list's flat child
/// array, in one pass; texts shared, each row's list one slice of its column), or `None` when
/// any value anywhere in the batch does not fit its type — then the row-by-row path above,
/// which alone defines the messages, reads the batch. Both build the same values.
fn batch_fast(batch: &RecordBatch, schema: &Ty) -> Option<Vec<Value>> {
    records(schema, batch.num_rows(), |name| batch.column_by_name(name))
}

/// `n` records of the record type `ty`, each field converted a column at a time from the
/// column of its name (`none` for a missing optional field), or `None` when a value does not
/// fit.
fn records<'a>(
    ty: &Ty,
    n: usize,
    by_name: impl Fn(&str) -> Option<&'a arrow_array::ArrayRef>,
) -> Option<Vec<Value>> {
    let Ty::Record(fields) = ty else {
        return None;
    };
    let mut columns = Vec::with_capacity(fields.len());
    for f in fields.iter() {
        columns.push(match by_name(&f.name) {
            Some(col) => column(col.as_ref(), &f.ty)?,
            None if f.ty.is_optional() => vec![Value::None; n],
            None => return None,
        });
    }
    Some(zip_records(columns, n))
}

/// Row `i` of the result is the record of every column's value `i`.
fn zip_records(columns: Vec<Vec<Value>>, n: usize) -> Vec<Value> {
    let mut iters: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
    (0..n)
        .map(|_| {
            Value::Record(
                iters
                    .iter_mut()
                    .map(|c| c.next().unwrap_or_default())
                    .collect(),
            )
        })
        .collect()
}

/// Every element of `array` as a value of type `ty`, or `None` if one does not fit.
fn column(array: &dyn Array, ty: &Ty) -> Option<Vec<Value>> {
    let n = array.len();
    if array.null_count() > 0 && !ty.is_optional() {
        return None;
    }
    let mut out: Vec<Value> = match ty.strip_optional() {
        Ty::Bool => {
            let DataType::Boolean = array.data_type() else {
                return None;
            };
            let a = array.as_boolean();
            (0..n).map(|i| Value::Bool(a.value(i))).collect()
        }
        Ty::Int | Ty::Float => (0..n)
            .map(|i| {
                if array.is_null(i) {
                    return Some(Value::None);
                }
                let x = number(array, i)?;
                match ty.strip_optional() {
                    Ty::Int => x.int().map(Value::Int),
                    _ => x.float().map(Value::Float),
                }
            })
            .collect::<Option<_>>()?,
        Ty::Text => {
            let at = text_reader(array)?;
            (0..n)
                .map(|i| match array.is_null(i) {
                    true => Value::None,
                    false => Value::text(at(i)),
                })
                .collect()
        }
        Ty::List(elem) => {
            let (child, bounds): (&dyn Array, Vec<(usize, usize)>) = match array.data_type() {
                DataType::List(_) => {
                    let l = array.as_list::<i32>();
                    (l.values().as_ref(), spans(l.value_offsets()))
                }
                DataType::LargeList(_) => {
                    let l = array.as_list::<i64>();
                    (l.values().as_ref(), spans(l.value_offsets()))
                }
                DataType::FixedSizeList(_, size) => {
                    let l = array.as_fixed_size_list();
                    let size = usize::try_from(*size).ok()?;
                    let spans = (0..n)
                        .map(|i| {
                            let a = l.value_offset_at(i);
                            (a, a.saturating_add(size))
                        })
                        .collect();
                    (l.values().as_ref(), spans)
                }
                _ => return None,
            };
            // A sliced list column (a slice of a table, a batch of a bigger one) still holds
            // its whole child array: only the part its lists use is converted.
            let lo = bounds.iter().map(|b| b.0).min().unwrap_or(0);
            let hi = bounds.iter().map(|b| b.1).max().unwrap_or(0);
            if lo > hi || hi > child.len() {
                return None;
            }
            let used = child.slice(lo, hi - lo);
            let bounds: Vec<_> = bounds
                .iter()
                .map(|&(a, b)| (a - lo, b.saturating_sub(lo)))
                .collect();
            match columnar(used.as_ref(), ty.strip_optional(), &bounds) {
                Some(out) => out,
                None => lists(column(used.as_ref(), elem)?, &bounds)?,
            }
        }
        Ty::Record(_) => {
            let DataType::Struct(_) = array.data_type() else {
                return None;
            };
            let s = array.as_struct();
            records(ty.strip_optional(), n, |name| s.column_by_name(name))?
        }
        _ => return None,
    };
    // Null entries are `none` (the type is optional, checked above), whatever lies beneath.
    if array.null_count() > 0 {
        for (i, v) in out.iter_mut().enumerate() {
            if array.is_null(i) {
                *v = Value::None;
            }
        }
    }
    Some(out)
}

/// Lists of records of scalars ([`Ty::columnar_fields`]) as [`Value::Columns`], each field's
/// array taken from the struct's child arrays: no value per record; lists of scalars and of
/// texts as one array each. `None` when the child is
/// not a struct of such arrays without nulls; the generic path then reads it or says why not.
fn columnar(child: &dyn Array, list_ty: &Ty, bounds: &[(usize, usize)]) -> Option<Vec<Value>> {
    if let Ty::List(elem) = list_ty {
        match **elem {
            Ty::Text => return text_lists(child, bounds),
            // Lists of scalars: each row's items one array ([`scalar_column`]), which compiled
            // loops read in place.
            Ty::Bool | Ty::Int | Ty::Float => {
                return bounds
                    .iter()
                    .map(|&(a, b)| Some(Value::array(scalar_column(child, elem, a, b)?)))
                    .collect();
            }
            _ => {}
        }
    }
    let fields = list_ty.columnar_fields()?;
    let DataType::Struct(_) = child.data_type() else {
        return None;
    };
    if child.null_count() > 0 {
        return None;
    }
    let s = child.as_struct();
    let arrays = fields
        .iter()
        .map(|f| Some((s.column_by_name(&f.name)?.as_ref(), &f.ty)))
        .collect::<Option<Vec<_>>>()?;
    // Each row's values straight from the field's Arrow array: numbers shared in place,
    // bools unpacked; an optional field's nulls become which rows hold it.
    bounds
        .iter()
        .map(|&(a, b)| {
            let (rows, present) = arrays
                .iter()
                .map(|&(array, ty)| match ty {
                    Ty::Optional(inner) => Some((
                        scalar_column_with_nulls(array, inner, a, b)?,
                        Some((a..b).map(|i| array.is_valid(i)).collect()),
                    )),
                    _ => Some((scalar_column(array, ty, a, b)?, None)),
                })
                .collect::<Option<(Vec<_>, Vec<_>)>>()?;
            Some(Value::Columns(Arc::new(Columns::with_present(
                b - a,
                rows,
                present,
            ))))
        })
        .collect()
}

/// Lists of texts, each as one buffer of its texts ([`Column::Text`]): no value per text.
/// `None` when the child is not a string array without nulls.
fn text_lists(child: &dyn Array, bounds: &[(usize, usize)]) -> Option<Vec<Value>> {
    if child.null_count() > 0 {
        return None;
    }
    let n = child.len();
    match child.data_type() {
        DataType::Utf8 => texts_by_offsets(child.as_string::<i32>(), bounds),
        DataType::LargeUtf8 => texts_by_offsets(child.as_string::<i64>(), bounds),
        DataType::Dictionary(..) => texts_by_keys(child, bounds),
        _ => texts_by_span(n, bounds, text_reader(child)?),
    }
}

/// [`text_lists`] of an offsets-and-bytes string array: each list as symbols while its texts
/// are short and few, as a trace's labels are ([`TextsBuilder`], looked up by the bytes where
/// Arrow keeps them), else its bytes copied at once.
fn texts_by_offsets<O: arrow_array::OffsetSizeTrait>(
    a: &arrow_array::GenericStringArray<O>,
    bounds: &[(usize, usize)],
) -> Option<Vec<Value>> {
    let offsets = a.value_offsets();
    let data = a.value_data();
    let mut builder = TextsBuilder::default();
    bounds
        .iter()
        .map(|&(lo, hi)| {
            let (start, end) = (offsets.get(lo)?.as_usize(), offsets.get(hi)?.as_usize());
            let texts = match symbols(a, (offsets, data), (lo, hi), &mut builder) {
                Some(symbols) => symbols,
                None => {
                    let ends = offsets.get(lo + 1..=hi).unwrap_or_default();
                    let ends = ends.iter().map(|e| e.as_usize().saturating_sub(start));
                    Texts::from_parts(data.get(start..end)?, ends.collect())?
                }
            };
            Some(Value::array(Column::Text(texts)))
        })
        .collect()
}

/// Texts `lo..hi` of `a` as symbols, or `None` when one of them is not a symbol (too long, or
/// one distinct text too many): the builder is then left for the next list.
fn symbols<O: arrow_array::OffsetSizeTrait>(
    a: &arrow_array::GenericStringArray<O>,
    (offsets, data): (&[O], &[u8]),
    (lo, hi): (usize, usize),
    builder: &mut TextsBuilder,
) -> Option<Texts> {
    let ends = offsets.get(lo..=hi)?;
    // Entries of labels met before, handed over 64 at a time.
    let mut known = [0u8; 64];
    let mut n = 0;
    for (k, w) in ends.windows(2).enumerate() {
        let (from, to) = (w[0].as_usize(), w[1].as_usize());
        let wide = data.get(from..from + 16);
        if let Some(id) = wide.and_then(|wide| builder.known(wide, to.saturating_sub(from))) {
            known[n] = id;
            n += 1;
            if n == known.len() {
                builder.push_known(&known);
                n = 0;
            }
            continue;
        }
        builder.push_known(&known[..n]);
        n = 0;
        match wide {
            Some(wide) => builder.push_short(wide, to - from, || a.value(lo + k)),
            None => builder.push(a.value(lo + k)),
        }
        if !builder.is_symbols() {
            builder.finish();
            return None;
        }
    }
    builder.push_known(&known[..n]);
    Some(builder.finish())
}

/// [`text_lists`] of a dictionary of texts (as Parquet readers give a dictionary-encoded
/// column): as symbols, each dictionary text looked up once per list, while they are short and
/// few.
fn texts_by_keys(child: &dyn Array, bounds: &[(usize, usize)]) -> Option<Vec<Value>> {
    let d = child.as_any_dictionary_opt()?;
    let text = text_reader(d.values().as_ref())?;
    if d.values().is_empty() {
        return texts_by_span(child.len(), bounds, text_reader(child)?);
    }
    let keys = d.normalized_keys();
    let mut builder = TextsBuilder::default();
    // Each dictionary text's entry in the list being built (`u8::MAX`: not met yet).
    let mut entries = vec![u8::MAX; d.values().len()];
    let mut met: Vec<usize> = Vec::new();
    bounds
        .iter()
        .map(|&(a, b)| {
            for &key in keys.get(a..b)? {
                match entries[key] {
                    u8::MAX => {
                        builder.push(text(key));
                        match builder.last_entry() {
                            Some(entry) => {
                                entries[key] = entry;
                                met.push(key);
                            }
                            // No longer symbols: every text from here on is pushed as it is.
                            None => met.drain(..).for_each(|key| entries[key] = u8::MAX),
                        }
                    }
                    entry => builder.push_known(&[entry]),
                }
            }
            for key in met.drain(..) {
                entries[key] = u8::MAX;
            }
            Some(Value::array(Column::Text(builder.finish())))
        })
        .collect()
}

/// [`text_lists`] of any other array of texts ([`text_reader`]), as symbols while they are short
/// and few.
fn texts_by_span<'a>(
    n: usize,
    bounds: &[(usize, usize)],
    at: impl Fn(usize) -> &'a str,
) -> Option<Vec<Value>> {
    let mut builder = TextsBuilder::default();
    bounds
        .iter()
        .map(|&(a, b)| {
            if a > b || b > n {
                return None;
            }
            for i in a..b {
                builder.push(at(i));
            }
            Some(Value::array(Column::Text(builder.finish())))
        })
        .collect()
}

/// Values `from..to` of a field of bools, ints or floats without nulls, as one array, by the
/// rules of [`column`].
fn scalar_column(array: &dyn Array, ty: &Ty, from: usize, to: usize) -> Option<Column> {
    if array.null_count() > 0 {
        return None;
    }
    scalar_column_with_nulls(array, ty, from, to)
}

/// [`scalar_column`] of an array that may hold nulls: a null's slot holds a placeholder (what
/// Arrow's buffer holds there, or 0), for an optional field whose nulls are kept apart.
fn scalar_column_with_nulls(array: &dyn Array, ty: &Ty, from: usize, to: usize) -> Option<Column> {
    if from > to || to > array.len() {
        return None;
    }
    let at = |i: usize| match array.is_null(i) {
        true => Some(Number::Int(0)),
        false => number(array, i),
    };
    Some(match (ty, array.data_type()) {
        (Ty::Bool, DataType::Boolean) => Column::Bool(bools(array.as_boolean(), from, to)),
        (Ty::Float, DataType::Float64) => Column::Float(shared(
            array.as_primitive::<Float64Type>().values(),
            from,
            to,
        )),
        (Ty::Int, DataType::Int64) => {
            Column::Int(shared(array.as_primitive::<Int64Type>().values(), from, to))
        }
        (Ty::Float, _) => Column::Float((from..to).map(|i| at(i)?.float()).collect::<Option<_>>()?),
        (Ty::Int, _) => Column::Int((from..to).map(|i| at(i)?.int()).collect::<Option<_>>()?),
        _ => return None,
    })
}

/// Values `from..to` (within the buffer) of a buffer of numbers, read where Arrow keeps them:
/// the store holds the buffer (a reference count), so the values live as long as it does.
fn shared<T: ArrowNativeType + Send + Sync>(
    values: &ScalarBuffer<T>,
    from: usize,
    to: usize,
) -> Store<T> {
    let slice = &values[from..to];
    let owner: Arc<dyn std::any::Any + Send + Sync> = Arc::new(values.clone());
    // SAFETY: `slice` is in the buffer `owner` holds; an Arrow buffer is immutable and does not
    // move while a reference to it is alive.
    Store::Shared(unsafe { Shared::new(owner, slice.as_ptr(), slice.len()) })
}

/// Values `from..to` of a boolean array, unpacked a byte of bits (eight values) at a time.
fn bools(array: &arrow_array::BooleanArray, from: usize, to: usize) -> Vec<bool> {
    const BYTE: [[bool; 8]; 256] = {
        let mut table = [[false; 8]; 256];
        let mut byte = 0;
        while byte < 256 {
            let mut bit = 0;
            while bit < 8 {
                table[byte][bit] = (byte >> bit) & 1 == 1;
                bit += 1;
            }
            byte += 1;
        }
        table
    };
    let bits = array.values().slice(from, to - from);
    let chunks = bits.bit_chunks();
    let mut out = Vec::with_capacity(to - from);
    for word in chunks.iter() {
        for byte in word.to_le_bytes() {
            out.extend_from_slice(&BYTE[usize::from(byte)]);
        }
    }
    let rest = chunks.remainder_bits();
    out.extend((0..chunks.remainder_len()).map(|k| (rest >> k) & 1 == 1));
    out
}

/// The lists of a list column from its child's values: moved out in order when the lists
/// follow one another in the child (the usual layout), cloned by span otherwise.
fn lists(items: Vec<Value>, bounds: &[(usize, usize)]) -> Option<Vec<Value>> {
    let in_order = bounds.windows(2).all(|w| w[0].1 == w[1].0)
        && bounds.iter().all(|&(a, b)| a <= b && b <= items.len());
    if !in_order {
        return bounds
            .iter()
            .map(|&(a, b)| Some(Value::List(items.get(a..b)?.into())))
            .collect();
    }
    let mut rest = items.into_iter().skip(bounds.first().map_or(0, |b| b.0));
    Some(
        bounds
            .iter()
            .map(|&(a, b)| Value::List(rest.by_ref().take(b - a).collect()))
            .collect(),
    )
}

/// A reader of an array's texts, by index.
type TextAt<'a> = Box<dyn Fn(usize) -> &'a str + 'a>;

/// Reads text `i` of a string array, or of a dictionary of strings (as Parquet readers give a
/// dictionary-encoded column); `None` for any other array.
fn text_reader<'a>(array: &'a dyn Array) -> Option<TextAt<'a>> {
    Some(match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(|i| a.value(i))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(|i| a.value(i))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(|i| a.value(i))
        }
        DataType::Dictionary(_, values) if !matches!(**values, DataType::Dictionary(..)) => {
            let d = array.as_any_dictionary_opt()?;
            if d.values().null_count() > 0 {
                return None; // a null text in the dictionary itself: not read here
            }
            let values = text_reader(d.values().as_ref())?;
            if d.values().is_empty() {
                // No text to name: only an array of nulls (or none) has no values.
                let nulls: TextAt<'a> = Box::new(|_| "");
                return (array.len() == array.null_count()).then_some(nulls);
            }
            let keys = d.normalized_keys();
            Box::new(move |i| values(keys[i]))
        }
        _ => return None,
    })
}

/// Each list's `[start, end)` in its child array, from the offsets.
fn spans<O: Copy + TryInto<usize>>(offsets: &[O]) -> Vec<(usize, usize)> {
    offsets
        .windows(2)
        .map(|w| {
            let a = w[0].try_into().unwrap_or(usize::MAX);
            let b = w[1].try_into().unwrap_or(usize::MAX);
            (a, b)
        })
        .collect()
}

/// Largest magnitude of an integral float read as an int (as JSON decoding does).
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Element `i` of `array` as a value of type `ty`.
fn value(array: &dyn Array, i: usize, ty: &Ty) -> Result<Value, Mismatch> {
    if array.is_null(i) {
        return if ty.is_optional() {
            Ok(Value::None)
        } else {
            Err(Mismatch::new(format!(
                "expected {}, found null",
                describe_ty(ty)
            )))
        };
    }
    let found = || {
        Mismatch::new(format!(
            "expected {}, found a value of Arrow type {}",
            describe_ty(ty),
            array.data_type()
        ))
    };
    match ty.strip_optional() {
        Ty::Bool => match array.data_type() {
            DataType::Boolean => Ok(Value::Bool(array.as_boolean().value(i))),
            _ => Err(found()),
        },
        Ty::Int => match number(array, i) {
            Some(Number::Int(n)) => Ok(Value::Int(n)),
            Some(Number::Float(x)) if x.fract() == 0.0 && x.abs() <= MAX_EXACT_INT => {
                Ok(Value::Int(x as i64))
            }
            Some(Number::Float(x)) => Err(Mismatch::new(format!("expected int, found {x}"))),
            Some(Number::TooBig) => Err(Mismatch::new(
                "expected int, found a number outside the 64-bit range".into(),
            )),
            None => Err(found()),
        },
        Ty::Float => match number(array, i) {
            Some(Number::Int(n)) => Ok(Value::Float(n as f64)),
            Some(Number::Float(x)) => Ok(Value::Float(x)),
            Some(Number::TooBig) => Ok(Value::Float(
                array.as_primitive::<UInt64Type>().value(i) as f64
            )),
            None => Err(found()),
        },
        Ty::Text => match array.data_type() {
            DataType::Utf8 => Ok(Value::text(array.as_string::<i32>().value(i))),
            DataType::LargeUtf8 => Ok(Value::text(array.as_string::<i64>().value(i))),
            DataType::Utf8View => Ok(Value::text(array.as_string_view().value(i))),
            // A dictionary of texts: the text its key names.
            DataType::Dictionary(..) => {
                let d = array.as_any_dictionary_opt().ok_or_else(found)?;
                let key = match number(d.keys(), i) {
                    Some(Number::Int(k)) => usize::try_from(k).ok(),
                    _ => None,
                };
                match key.filter(|&k| k < d.values().len()) {
                    Some(k) => value(d.values().as_ref(), k, ty),
                    None => Err(found()),
                }
            }
            _ => Err(found()),
        },
        Ty::List(elem) => {
            let items = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(i),
                DataType::LargeList(_) => array.as_list::<i64>().value(i),
                DataType::FixedSizeList(..) => array.as_fixed_size_list().value(i),
                _ => return Err(found()),
            };
            let mut out = Vec::with_capacity(items.len());
            for k in 0..items.len() {
                out.push(value(items.as_ref(), k, elem).map_err(|m| m.in_element(k))?);
            }
            Ok(Value::List(Arc::from(out)))
        }
        Ty::Record(fields) => {
            let DataType::Struct(_) = array.data_type() else {
                return Err(found());
            };
            let s = array.as_struct();
            let mut items = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                let v = match s.column_by_name(&f.name) {
                    Some(col) => value(col.as_ref(), i, &f.ty),
                    None if f.ty.is_optional() => Ok(Value::None),
                    None => Err(Mismatch::missing(&f.ty)),
                };
                items.push(v.map_err(|m| m.in_field(&f.name))?);
            }
            Ok(Value::Record(items.into()))
        }
        _ => Err(found()),
    }
}

enum Number {
    Int(i64),
    Float(f64),
    /// A `u64` beyond `i64::MAX`.
    TooBig,
}

impl Number {
    /// The number as an `int` column reads it a column at a time: integers only (integral
    /// floats read as ints are left to the row-by-row path, which decides them).
    fn int(self) -> Option<i64> {
        match self {
            Number::Int(k) => Some(k),
            _ => None,
        }
    }

    /// The number as a `float` column reads it a column at a time (a huge unsigned int is left
    /// to the row-by-row path).
    fn float(self) -> Option<f64> {
        match self {
            Number::Int(k) => Some(k as f64),
            Number::Float(x) => Some(x),
            Number::TooBig => None,
        }
    }
}

fn number(array: &dyn Array, i: usize) -> Option<Number> {
    Some(match array.data_type() {
        DataType::Int8 => Number::Int(array.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Number::Int(array.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Number::Int(array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Number::Int(array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Number::Int(array.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => Number::Int(array.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => Number::Int(array.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(i);
            i64::try_from(v).map_or(Number::TooBig, Number::Int)
        }
        DataType::Float16 => Number::Float(array.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => Number::Float(array.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => Number::Float(array.as_primitive::<Float64Type>().value(i)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{
        BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StructBuilder,
    };
    use arrow_schema::{Field, Fields, Schema};
    use reward_runtime::ty::Field as TyField;

    /// A batch of one column `steps: list<struct<x: double, n: int64>>`, row `r` of `r + 1`
    /// steps with x = r + k/10 and n = 10r + k.
    fn batch(rows: usize) -> RecordBatch {
        let fields = Fields::from(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("n", DataType::Int64, false),
        ]);
        let step = StructBuilder::new(
            fields.clone(),
            vec![
                Box::new(Float64Builder::new()),
                Box::new(Int64Builder::new()),
            ],
        );
        let mut list = ListBuilder::new(step);
        for r in 0..rows {
            let s = list.values();
            for k in 0..=r {
                let x = r as f64 + k as f64 / 10.0;
                s.field_builder::<Float64Builder>(0)
                    .unwrap()
                    .append_value(x);
                s.field_builder::<Int64Builder>(1)
                    .unwrap()
                    .append_value((10 * r + k) as i64);
                s.append(true);
            }
            list.append(true);
        }
        let array = list.finish();
        let schema = Schema::new(vec![Field::new("steps", array.data_type().clone(), false)]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(array)]).unwrap()
    }

    #[test]
    fn label_lists_read_back_as_written_held_as_symbols_while_short_and_few() {
        use arrow_array::builder::{StringBuilder, StringDictionaryBuilder};
        // Rows of labels: few short ones (symbols), one longer than 16 bytes among them, more
        // distinct ones than a byte numbers, and texts at the buffer's very end.
        let wanted: Vec<Vec<String>> = (0..60)
            .map(|r| {
                (0..(r * 7) % 300)
                    .map(|k| match r % 4 {
                        0 | 1 => ["", "a", "bc", "é", "x\0"][(k * 3 + r) % 5].to_string(),
                        2 if k == 5 => "a label of more than sixteen bytes".to_string(),
                        2 => ["", "a"][k % 2].to_string(),
                        _ => format!("l{k}"),
                    })
                    .collect()
            })
            .collect();
        // As strings, and as a dictionary of them (as Parquet readers give them).
        let mut list = ListBuilder::new(StringBuilder::new());
        let mut dictionary = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
        for row in &wanted {
            for label in row {
                list.values().append_value(label);
                dictionary.values().append_value(label);
            }
            list.append(true);
            dictionary.append(true);
        }
        let ty = Ty::Record(Arc::from(vec![TyField {
            name: "labels".into(),
            ty: Ty::list(Ty::Text),
        }]));
        let got = [list.finish(), dictionary.finish()]
            .into_iter()
            .flat_map(|array| {
                let schema =
                    Schema::new(vec![Field::new("labels", array.data_type().clone(), false)]);
                let whole = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(array)]).unwrap();
                rows(&[whole.slice(3, 57)], &ty)
            });
        for (i, row) in got.enumerate() {
            let i = i % 57;
            let want = &wanted[i + 3];
            let Ok(Value::Record(fields)) = row else {
                panic!("row {i}: {row:?}")
            };
            let Some(Column::Text(texts)) = fields[0].scalar_items() else {
                panic!("row {i}: {:?}", fields[0])
            };
            let read: Vec<&str> = (0..texts.len()).map(|k| texts.get(k)).collect();
            assert_eq!(read, *want, "row {i}");
            let mut distinct = want.clone();
            distinct.sort();
            distinct.dedup();
            let few_and_short = distinct.len() <= TextsBuilder::MAX_ENTRIES
                && distinct.iter().all(|t| t.len() <= 16);
            assert_eq!(texts.symbols().is_some(), few_and_short, "row {i}");
        }
    }

    #[test]
    fn numbers_read_in_place_outlive_the_batch_and_its_slices() {
        let field = |name: &str, ty| TyField {
            name: name.into(),
            ty,
        };
        let step = Ty::Record(Arc::from(vec![field("x", Ty::Float), field("n", Ty::Int)]));
        let schema = Ty::Record(Arc::from(vec![field("steps", Ty::list(step))]));
        let rows = {
            let whole = batch(40);
            // A slice, as the Python package and the CLI read a batch.
            let slice = whole.slice(5, 30);
            rows(std::slice::from_ref(&slice), &schema)
        };
        assert_eq!(rows.len(), 30);
        for (i, row) in rows.iter().enumerate() {
            let r = i + 5;
            let Ok(Value::Record(fields)) = row else {
                panic!("row {i}: {row:?}")
            };
            let Value::Columns(steps) = &fields[0] else {
                panic!("row {i} not read a column at a time: {:?}", fields[0])
            };
            assert_eq!(steps.len(), r + 1);
            let [Column::Float(x), Column::Int(n)] = steps.fields() else {
                panic!("row {i}: {:?}", steps.fields())
            };
            assert!(matches!(x, Store::Shared(_)) && matches!(n, Store::Shared(_)));
            for k in 0..=r {
                let want_x = r as f64 + k as f64 / 10.0;
                assert_eq!(x[k].to_bits(), want_x.to_bits(), "row {i} step {k}");
                assert_eq!(n[k], (10 * r + k) as i64, "row {i} step {k}");
            }
        }
    }

    #[test]
    fn optional_fields_keep_which_rows_hold_them_apart_from_their_values() {
        // `steps: list<struct<x: double, b: bool, k: int32>>` with nulls in `b` and `k`, read
        // against `list[{x: float, b: bool?, k: int?}]`: row r has r + 1 steps, step j's `b`
        // null when j % 3 == 0 and `k` (converted from int32) null when j % 2 == 1.
        let fields = Fields::from(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("b", DataType::Boolean, true),
            Field::new("k", DataType::Int32, true),
        ]);
        let step = StructBuilder::new(
            fields,
            vec![
                Box::new(Float64Builder::new()),
                Box::new(BooleanBuilder::new()),
                Box::new(Int32Builder::new()),
            ],
        );
        let mut list = ListBuilder::new(step);
        for r in 0..12usize {
            let s = list.values();
            for j in 0..=r {
                let x = s.field_builder::<Float64Builder>(0).unwrap();
                x.append_value(j as f64 - 0.5);
                let b = s.field_builder::<BooleanBuilder>(1).unwrap();
                b.append_option((j % 3 != 0).then_some(j % 2 == 0));
                let k = s.field_builder::<Int32Builder>(2).unwrap();
                k.append_option((j % 2 == 0).then_some(j as i32 * 7 - r as i32));
                s.append(true);
            }
            list.append(true);
        }
        let array = list.finish();
        let arrow_schema = Schema::new(vec![Field::new("steps", array.data_type().clone(), false)]);
        let batch = RecordBatch::try_new(Arc::new(arrow_schema), vec![Arc::new(array)]).unwrap();
        let field = |name: &str, ty| TyField {
            name: name.into(),
            ty,
        };
        let step_ty = Ty::Record(Arc::from(vec![
            field("x", Ty::Float),
            field("b", Ty::optional(Ty::Bool)),
            field("k", Ty::optional(Ty::Int)),
        ]));
        let schema = Ty::Record(Arc::from(vec![field("steps", Ty::list(step_ty))]));
        let rows = rows(std::slice::from_ref(&batch.slice(3, 8)), &schema);
        for (i, row) in rows.iter().enumerate() {
            let r = i + 3;
            let Ok(Value::Record(fields)) = row else {
                panic!("row {i}: {row:?}")
            };
            let Value::Columns(steps) = &fields[0] else {
                panic!("row {i} not read a column at a time: {:?}", fields[0])
            };
            assert!(steps.present(0).is_none());
            let want_b: Vec<bool> = (0..=r).map(|j| j % 3 != 0).collect();
            let want_k: Vec<bool> = (0..=r).map(|j| j % 2 == 0).collect();
            assert_eq!(steps.present(1), Some(want_b.as_slice()), "row {i}");
            assert_eq!(steps.present(2), Some(want_k.as_slice()), "row {i}");
            for (j, step) in steps.rows().iter().enumerate() {
                let want = Value::Record(Arc::from(vec![
                    Value::Float(j as f64 - 0.5),
                    match j % 3 {
                        0 => Value::None,
                        _ => Value::Bool(j % 2 == 0),
                    },
                    match j % 2 {
                        0 => Value::Int(j as i64 * 7 - r as i64),
                        _ => Value::None,
                    },
                ]));
                assert!(step.same(&want), "row {i} step {j}: {step:?}");
            }
        }
    }
}
