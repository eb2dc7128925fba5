//! The fast path of row decoding: one pass over the line's bytes, guided by the schema, that
//! builds the row's [`Value`] directly — no serde state machine, no intermediate strings for
//! keys, short texts held inline (`value::Text`), each list and record allocated once.
//!
//! It is a pure accelerator. It returns a value only for a line it has checked completely: a
//! syntactically valid JSON object whose schema columns all have the right types, no schema
//! column given twice, and nothing this scanner does not fully handle (integers beyond 64 bits,
//! ints written as floats, `NaN`, lone surrogates, nesting deeper than serde_json's limit).
//! Anything else — every error and every unusual shape — returns `None`, and the caller decodes
//! the line again with serde (`super::parse`), which alone defines messages and precedence. So
//! the two paths cannot disagree on an error, and on an accepted line both build the same value;
//! the tests below compare them on every shape, and the `rows` fuzz target on random lines.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use crate::ty::{Field, Ty};
use crate::value::{Column, Columns, Store, TextsBuilder, Value};
use std::sync::Arc;

/// Nesting beyond which the scanner defers to serde (whose recursion limit is 128).
const MAX_DEPTH: usize = 100;

/// 10^0 … 10^22, every one exactly a double.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The row of `line`, or `None` when the serde path must decide (see the module docs).
pub(super) fn row(line: &str, schema: &Ty) -> Option<Value> {
    SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.try_borrow_mut().ok()?;
        let mut s = Scanner {
            s: line,
            b: line.as_bytes(),
            i: 0,
            scratch,
        };
        s.ws();
        let value = s.record(schema.strip_optional(), 0)?;
        s.ws();
        (s.i == s.b.len()).then_some(value)
    })
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers reused from row to row: the elements of lists being read (a stack shared by nested
/// lists) and unescaped text.
#[derive(Default)]
struct Scratch {
    items: Vec<Value>,
    /// UTF-8 once [`unescape_into`] has succeeded ([`unescaped`]).
    text: Vec<u8>,
    texts: TextsBuilder,
}

struct Scanner<'a> {
    /// The line, as text (to slice tokens without validating them again) and as bytes.
    s: &'a str,
    b: &'a [u8],
    i: usize,
    scratch: &'a mut Scratch,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// Consumes `c` (after whitespace) or fails.
    fn expect(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A value of type `ty` (whitespace before it already skipped).
    fn value(&mut self, ty: &Ty, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return matches!(ty, Ty::Optional(_)).then_some(Value::None);
        }
        match ty.strip_optional() {
            Ty::Bool => match self.peek()? {
                b't' => self.literal(b"true").map(|()| Value::Bool(true)),
                b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
                _ => None,
            },
            Ty::Int => self.number(true),
            Ty::Float => self.number(false),
            Ty::Text => {
                let value = self.string_value()?;
                Some(value)
            }
            list @ Ty::List(elem) => match (list.columnar_fields(), &**elem) {
                (Some(fields), _) => self.columns(fields, depth),
                (None, Ty::Text) => self.texts(),
                (None, _) => self.list(elem, depth),
            },
            Ty::Record(_) => self.record(ty.strip_optional(), depth),
            _ => None,
        }
    }

    fn list(&mut self, elem: &Ty, depth: usize) -> Option<Value> {
        if self.peek()? != b'[' {
            return None;
        }
        self.i += 1;
        let start = self.scratch.items.len();
        let items = self.list_items(elem, depth);
        let list = items.map(|()| Value::List(self.scratch.items.drain(start..).collect()));
        self.scratch.items.truncate(start);
        list
    }

    /// A list of records of scalars, read into one array per field ([`Value::Columns`]): no
    /// allocation per record and no value per field. An optional field also gets whether each
    /// row holds it (`null`, or left out).
    fn columns(&mut self, fields: &[Field], depth: usize) -> Option<Value> {
        // Each field's bit in a mask of the fields given (the schema's own limit is far above).
        if self.peek()? != b'[' || depth + 2 > MAX_DEPTH || fields.len() > 64 {
            return None;
        }
        self.i += 1;
        let mut arrays: Vec<Column> = fields
            .iter()
            .map(|f| match f.ty.strip_optional() {
                Ty::Bool => Column::Bool(Vec::new()),
                Ty::Int => Column::Int(Vec::new().into()),
                _ => Column::Float(Vec::new().into()),
            })
            .collect();
        let mut present: Vec<Option<Vec<bool>>> = fields
            .iter()
            .map(|f| matches!(f.ty, Ty::Optional(_)).then(Vec::new))
            .collect();
        let mut len = 0;
        // `"name"` of each field, for the plain objects most files hold.
        let keys: Vec<Vec<u8>> = fields
            .iter()
            .map(|f| format!("\"{}\"", f.name).into_bytes())
            .filter(|k| !k[1..k.len() - 1].contains(&b'\\'))
            .collect();
        let compact = keys.len() == fields.len();
        // The rows of a list are mostly of one shape: after a row that is not plain (an
        // optional field left out, say), the next few go straight to the general path.
        let mut general_for = 0usize;
        self.items(b']', |s| {
            let start = s.i;
            let plain = compact && general_for == 0;
            if !(plain && s.compact_row(&keys, &mut arrays, &mut present).is_some()) {
                if plain {
                    // Read again by the general path, from the object's start.
                    s.i = start;
                    arrays.iter_mut().for_each(|a| a.truncate(len));
                    present.iter_mut().flatten().for_each(|p| p.truncate(len));
                    general_for = 16;
                }
                general_for = general_for.saturating_sub(1);
                s.column_row(fields, &mut arrays, &mut present, depth + 1)?;
            }
            len += 1;
            Some(())
        })?;
        Some(Value::Columns(Arc::new(Columns::with_present(
            len, arrays, present,
        ))))
    }

    /// [`Self::column_row`] of an object written as `{"a": 1, "b": true}` (spaces or not):
    /// every field once, in the schema's order, no other key, no escape in a key (`keys` are
    /// the fields' `"name"`). `None` for any other object, with values of it possibly pushed.
    #[inline]
    fn compact_row(
        &mut self,
        keys: &[Vec<u8>],
        arrays: &mut [Column],
        present: &mut [Option<Vec<bool>>],
    ) -> Option<()> {
        let b = self.b;
        let mut sep = b'{';
        for ((key, array), present) in keys.iter().zip(arrays.iter_mut()).zip(present) {
            self.expect(sep)?;
            self.ws();
            let end = self.i + key.len();
            if !b.get(self.i..end)?.iter().eq(key.iter()) {
                return None;
            }
            self.i = end;
            self.expect(b':')?;
            self.ws();
            self.column_value(array, present.as_mut())?;
            sep = b',';
        }
        self.expect(b'}')
    }

    /// The value at `i` pushed onto its field's array (a bool, int or float of its type); for
    /// an optional field (`present` given), also whether it is there: a `null` is a
    /// placeholder in the array.
    // Always in line: the plain-object loop is a tenth slower with it called.
    #[inline(always)]
    fn column_value(&mut self, array: &mut Column, present: Option<&mut Vec<bool>>) -> Option<()> {
        if let Some(present) = present {
            let there = self.peek()? != b'n';
            present.push(there);
            if !there {
                self.literal(b"null")?;
                push_placeholder(array);
                return Some(());
            }
        }
        match array {
            Column::Bool(a) => match self.peek()? {
                b't' => self.literal(b"true").map(|()| a.push(true)),
                b'f' => self.literal(b"false").map(|()| a.push(false)),
                _ => None,
            },
            // The scanner's arrays are its own (never shared).
            Column::Int(Store::Owned(a)) => match self.number(true)? {
                Value::Int(i) => {
                    a.push(i);
                    Some(())
                }
                _ => None,
            },
            Column::Float(Store::Owned(a)) => {
                a.push(self.float()?);
                Some(())
            }
            _ => None,
        }
    }

    /// One object of a [`Self::columns`] list, each field's value pushed onto its array. Every
    /// field must be given once, but an optional one may be left out (a missing or repeated
    /// one: serde decides); other keys are skipped. A failure leaves the arrays uneven, but then
    /// the whole line goes to serde.
    fn column_row(
        &mut self,
        fields: &[Field],
        arrays: &mut [Column],
        present: &mut [Option<Vec<bool>>],
        depth: usize,
    ) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        let mut given = 0u64;
        self.items(b'}', |s| {
            // Keys come in the schema's order in nearly every file: try the next one first.
            let next = given.trailing_ones() as usize;
            let index = s.key_from(fields, next)?;
            s.expect(b':')?;
            s.ws();
            let Some(k) = index else {
                return s.skip(depth + 1);
            };
            if given & (1 << k) != 0 {
                return None;
            }
            given |= 1 << k;
            s.column_value(&mut arrays[k], present[k].as_mut())
        })?;
        for (k, (array, present)) in arrays.iter_mut().zip(present).enumerate() {
            if given & (1 << k) == 0 {
                // Left out: only an optional field may be.
                present.as_mut()?.push(false);
                push_placeholder(array);
            }
        }
        Some(())
    }

    fn list_items(&mut self, elem: &Ty, depth: usize) -> Option<()> {
        self.items(b']', |s| {
            let item = s.value(elem, depth + 1)?;
            s.scratch.items.push(item);
            Some(())
        })
    }

    /// The items of an array or object up to `close`, its opening bracket consumed: `item`
    /// reads one (whitespace before it skipped), and a `,` or the close follows each.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        self.ws();
        item(self)?;
        self.items_after(close, item)
    }

    /// [`Self::items`] after an item: a `,` and the next item, until the close.
    fn items_after(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        loop {
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
            self.ws();
            item(self)?;
        }
    }

    /// An object read against a record type: fields in schema order, other keys skipped.
    fn record(&mut self, ty: &Ty, depth: usize) -> Option<Value> {
        let Ty::Record(fields) = ty else {
            return None;
        };
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        let start = self.scratch.items.len();
        let read = self.record_fields(fields, depth);
        let record = read.and_then(|()| {
            let slots = &mut self.scratch.items[start..];
            for (field, slot) in fields.iter().zip(slots.iter_mut()) {
                // A missing column: only an optional one may be left out.
                if matches!(slot, Value::Regex(u32::MAX)) {
                    if !matches!(field.ty, Ty::Optional(_)) {
                        return None;
                    }
                    *slot = Value::None;
                }
            }
            Some(Value::Record(self.scratch.items.drain(start..).collect()))
        });
        self.scratch.items.truncate(start);
        record
    }

    /// Fills `scratch.items[start..start + fields.len()]`; a slot not yet given holds the
    /// placeholder `Regex(u32::MAX)` (no input column is ever a regex).
    fn record_fields(&mut self, fields: &[Field], depth: usize) -> Option<()> {
        let start = self.scratch.items.len();
        self.scratch
            .items
            .resize(start + fields.len(), Value::Regex(u32::MAX));
        self.items(b'}', |s| {
            let index = s.key(fields)?;
            s.expect(b':')?;
            s.ws();
            match index {
                Some(k) => {
                    if !matches!(s.scratch.items[start + k], Value::Regex(u32::MAX)) {
                        return None; // a repeated column: serde's rules decide
                    }
                    let value = s.value(&fields[k].ty, depth + 1)?;
                    s.scratch.items[start + k] = value;
                    Some(())
                }
                None => s.skip(depth + 1),
            }
        })
    }

    /// A key: the index of its field, `Some(None)` for a column the schema does not read.
    fn key(&mut self, fields: &[Field]) -> Option<Option<usize>> {
        self.key_from(fields, 0)
    }

    /// [`Self::key`], comparing with field `first` before the others.
    fn key_from(&mut self, fields: &[Field], first: usize) -> Option<Option<usize>> {
        if self.peek()? != b'"' {
            return None;
        }
        let (start, end, escaped) = self.string_span()?;
        if escaped {
            self.scratch.text.clear();
            unescape_into(self.b, start, &mut self.scratch.text)?;
            let key = unescaped(&self.scratch.text);
            return Some(fields.iter().position(|f| *f.name == *key));
        }
        let raw = &self.b[start..end];
        if fields.get(first).is_some_and(|f| f.name.as_bytes() == raw) {
            return Some(Some(first));
        }
        Some(fields.iter().position(|f| f.name.as_bytes() == raw))
    }

    /// A list of texts into one buffer ([`Column::Text`]): no value per text.
    fn texts(&mut self) -> Option<Value> {
        if self.peek()? != b'[' {
            return None;
        }
        self.i += 1;
        // Taken out (a builder with nothing made is left) and put back with its table.
        let mut texts = std::mem::take(&mut self.scratch.texts);
        let item = |s: &mut Self, texts: &mut TextsBuilder| match s.plain_string() {
            Some((start, end)) => {
                texts.push(&s.s[start..end]);
                Some(())
            }
            None => s.string_with(|t| texts.push(t)),
        };
        match self.compact_texts(&mut texts) {
            ListAt::Start => self.items(b']', |s| item(s, &mut texts))?,
            ListAt::Item => {
                item(self, &mut texts)?;
                self.items_after(b']', |s| item(s, &mut texts))?;
            }
            ListAt::AfterItem => self.items_after(b']', |s| item(s, &mut texts))?,
            ListAt::End => {}
        }
        let list = Value::array(Column::Text(texts.finish()));
        self.scratch.texts = texts;
        Some(list)
    }

    /// The items of a list of texts written compactly (`"a","","bc"`: no space, no escape)
    /// from `i`, right after the `[`, 64 bytes of the line at a time: one pass over a block
    /// finds its quotes and the bytes a string cannot hold as they are, and the items follow
    /// from the quotes' positions, with no branch on each item's length (labels of several
    /// lengths alternate, and a byte loop's exit is mispredicted on every other one). It stops
    /// where the line is not that shape, or has less than a block left, and says where;
    /// the general reader goes on from there.
    #[cfg(target_arch = "x86_64")]
    fn compact_texts(&mut self, texts: &mut TextsBuilder) -> ListAt {
        let mut at = ListAt::Start;
        while let Some(block) = self.b.get(self.i..self.i + 64) {
            if block[0] != b'"' {
                return at;
            }
            let (quotes, special) = quotes_and_specials_64(block);
            if self.compact_run(block, (quotes, special), texts) {
                at = ListAt::Item;
                continue;
            }
            let base = self.i;
            // Quotes alternate: each item is an opening quote at `open`, its closing one, then
            // a `,` and the next item's quote, or the `]`.
            let (mut q, mut open) = (quotes, 0);
            loop {
                if q.trailing_zeros() != open {
                    return at;
                }
                q &= q - 1;
                let close = q.trailing_zeros();
                q &= q.wrapping_sub(1);
                // The byte after the closing quote must be in the block (else the next block
                // starts at this item), and the string holds no escape or control character.
                if close >= 63 && open > 0 {
                    break;
                }
                if close >= 63 || special & ((1u64 << close) - (2u64 << open)) != 0 {
                    return at;
                }
                let (start, end) = (base + open as usize + 1, base + close as usize);
                let text = || &self.s[start..end];
                match self.b.get(start..start + 16) {
                    Some(wide) => texts.push_short(wide, end - start, text),
                    None => texts.push(text()),
                }
                self.i = end + 1;
                at = ListAt::AfterItem;
                match (block[close as usize + 1], self.b.get(end + 2)) {
                    (b']', _) => {
                        self.i = end + 2;
                        return ListAt::End;
                    }
                    (b',', Some(b'"')) => {
                        self.i = end + 2;
                        at = ListAt::Item;
                        open = close + 2;
                        if open >= 64 {
                            break;
                        }
                    }
                    _ => return at,
                }
            }
        }
        at
    }

    /// The items at the start of a block of [`Self::compact_texts`] (the 64 bytes at `i`, an
    /// opening quote first) that hold no escape or control character and are each followed by
    /// `,"` within the block, found from the block's masks at once: the loop over them only
    /// cuts and pushes. Moves `i` to the next item's opening quote; `false` when there is no
    /// such item (the next is the list's last, crosses the block's end, or is not plain), for
    /// the item by item reader.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn compact_run(
        &mut self,
        block: &[u8],
        (quotes, special): (u64, u64),
        texts: &mut TextsBuilder,
    ) -> bool {
        let base = self.i;
        // Every text's first 16 bytes are in the line.
        if self.b.len() < base + 64 + 16 {
            return false;
        }
        let commas = bytes_64(block, b',');
        // Bit k: byte k is in a string (its opening quote included), the block starting at one.
        let inside = prefix_xor(quotes);
        let closes = quotes & !inside;
        let chained = closes & (commas >> 1) & (quotes >> 2);
        let first_stop = ((closes & !chained) | (special & inside)).trailing_zeros();
        let mut run = chained & u64::MAX.checked_shr(64 - first_stop).unwrap_or(0);
        if run == 0 {
            return false;
        }
        let last = 63 - run.leading_zeros() as usize;
        // Entries of labels met before, counted in a register until the run is done.
        let mut known = [0u8; 32];
        let mut n = 0;
        let mut start = 1;
        while run != 0 {
            let close = run.trailing_zeros() as usize;
            run &= run - 1;
            let (from, to) = (base + start, base + close);
            let wide = &self.b[from..from + 16];
            match texts.known(wide, to - from) {
                Some(id) => {
                    known[n % 32] = id;
                    n += 1;
                }
                None => {
                    texts.push_known(&known[..n]);
                    n = 0;
                    texts.push_short(wide, to - from, || &self.s[from..to]);
                }
            }
            start = close + 3;
        }
        texts.push_known(&known[..n]);
        self.i = base + last + 2;
        true
    }

    /// [`Self::compact_texts`] without SSE2: the general reader reads the list.
    #[cfg(not(target_arch = "x86_64"))]
    fn compact_texts(&mut self, _texts: &mut TextsBuilder) -> ListAt {
        ListAt::Start
    }

    /// The bytes between the quotes of the string at `i` when it has no escape (and moves
    /// past it); `None`, without moving, for anything else. Both ends sit next to a quote, so
    /// they are character boundaries of the line.
    #[inline]
    fn plain_string(&mut self) -> Option<(usize, usize)> {
        let b = self.b;
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        // Labels are a letter or two: their first bytes one at a time, the rest 16 at a time.
        let mut j = start;
        while j < start + 8 {
            match *b.get(j)? {
                b'"' => {
                    self.i = j + 1;
                    return Some((start, j));
                }
                c if c == b'\\' || c < 0x20 => return None,
                _ => j += 1,
            }
        }
        let k = j + find_special(b.get(j..)?)?;
        if b[k] != b'"' {
            return None;
        }
        self.i = k + 1;
        Some((start, k))
    }

    /// A string as a text value.
    fn string_value(&mut self) -> Option<Value> {
        self.string_with(Value::text)
    }

    /// What `f` makes of the string at `i` (unescaped).
    fn string_with<R>(&mut self, f: impl FnOnce(&str) -> R) -> Option<R> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let k = start + find_special(self.b.get(start..)?)?;
        if self.b[k] == b'"' {
            // No escapes: the text is a slice of the line. (`k` sits next to a quote, so it
            // is a character boundary.)
            self.i = k + 1;
            return Some(f(&self.s[start..k]));
        }
        let out = &mut self.scratch.text;
        out.clear();
        out.extend_from_slice(&self.b[start..k]);
        self.i = unescape_into(self.b, k, out)? + 1;
        Some(f(unescaped(out)))
    }

    /// The bytes between the quotes of the string at `i` (which is `"`), and whether it has
    /// escapes; moves past the closing quote. Fails on a raw control character.
    fn string_span(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            j += find_special(self.b.get(j..)?)?;
            match self.b[j] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    // Skip the escaped character (validated when unescaped).
                    j += 2;
                }
                _ => return None,
            }
        }
        self.i = j + 1;
        Some((start, j, escaped))
    }

    /// A JSON number read as a float: [`Self::number`], with the usual short decimals (`-12.5`,
    /// `0.0923`) read in line.
    #[inline]
    fn float(&mut self) -> Option<f64> {
        let d = decimal(self.b, self.i)?;
        // The fast path of `number` (Clinger's), when nothing unusual follows; else `number`.
        let plain = d.fraction_digits > 0
            && d.digits <= 15
            && !self
                .b
                .get(d.end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.');
        if !plain {
            return match self.number(false)? {
                Value::Float(x) => Some(x),
                _ => None,
            };
        }
        self.i = d.end;
        let x = d.mantissa as f64 / POWERS_OF_TEN[d.fraction_digits];
        Some(if d.negative { -x } else { x })
    }

    /// A JSON number read as an int (`as_int`: integer literals in 64 bits only) or a float.
    fn number(&mut self, as_int: bool) -> Option<Value> {
        let start = self.i;
        let b = self.b;
        let Decimal {
            negative,
            mantissa,
            digits,
            fraction_digits,
            int_end,
            end: mut j,
        } = decimal(b, start)?;
        let mut exponent = false;
        if let Some(b'e' | b'E') = b.get(j) {
            exponent = true;
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let from = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == from {
                return None;
            }
        }
        // A number runs into whatever follows only in invalid JSON (`12abc`): serde decides.
        if b.get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
        {
            return None;
        }
        self.i = j;
        // ASCII from `start` to `j`, so both are character boundaries.
        let token = &self.s[start..j];
        if j == int_end {
            // An integer literal; beyond i64 serde reads it as u64 or a float: serde decides.
            let i: i64 = token.parse().ok()?;
            return Some(match (as_int, i) {
                (true, _) => Value::Int(i),
                // serde_json reads `-0` as the float -0.0 (every other integer as an integer).
                (false, 0) if negative => Value::Float(-0.0),
                (false, _) => Value::Float(i as f64),
            });
        }
        if as_int {
            return None; // an int written as a float: serde's rules decide
        }
        // Clinger's fast path: at most 15 digits and 22 decimals make the mantissa and the
        // power of ten exact doubles, and one IEEE division rounds their quotient correctly.
        if !exponent && digits <= 15 && fraction_digits <= 22 {
            let x = mantissa as f64 / POWERS_OF_TEN[fraction_digits];
            return Some(Value::Float(if negative { -x } else { x }));
        }
        let x: f64 = token.parse().ok()?;
        // Out of range is a serde error; an underflow to zero keeps its sign in both, but
        // let serde have the last word on such rare literals.
        (x.is_finite() && (x != 0.0 || token.bytes().all(|c| !matches!(c, b'1'..=b'9'))))
            .then_some(Value::Float(x))
    }

    /// Skips a value of a column the schema does not read, checking its syntax.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                let (start, _, escaped) = self.string_span()?;
                if escaped {
                    // Checks the escapes.
                    self.scratch.text.clear();
                    unescape_into(self.b, start, &mut self.scratch.text)?;
                }
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'[' => {
                self.i += 1;
                self.items(b']', |s| s.skip(depth + 1))
            }
            b'{' => {
                self.i += 1;
                self.items(b'}', |s| {
                    s.key(&[])?;
                    s.expect(b':')?;
                    s.ws();
                    s.skip(depth + 1)
                })
            }
            _ => self.number(false).map(|_| ()),
        }
    }
}

/// Where [`Scanner::compact_texts`] stopped in a list.
enum ListAt {
    /// Nothing read: `i` is right after the `[`.
    Start,
    /// Items and their `,` read: `i` is at the next item's opening quote.
    Item,
    /// Items read: `i` is right after the last one's closing quote.
    AfterItem,
    /// The whole list, `]` included.
    End,
}

/// The quotes of 64 bytes, and the bytes a string cannot hold as they are, as masks: bit k for
/// byte k ([`classify_16`]).
#[cfg(target_arch = "x86_64")]
fn quotes_and_specials_64(block: &[u8]) -> (u64, u64) {
    let (mut quotes, mut special) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let (q, s) = classify_16(chunk);
        quotes |= u64::from(q) << (16 * k);
        special |= u64::from(s) << (16 * k);
    }
    (quotes, special)
}

/// The bytes of 64 equal to `b`, as a mask (bit k for byte k), with SSE2.
#[cfg(target_arch = "x86_64")]
fn bytes_64(block: &[u8], b: u8) -> u64 {
    use std::arch::x86_64::*;
    assert_eq!(block.len(), 64);
    let mut mask = 0u64;
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in the x86-64 baseline; the load reads the 16 bytes of `chunk`
        // and needs no alignment.
        let m = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u16
        };
        mask |= u64::from(m) << (16 * k);
    }
    mask
}

/// Bit k of the result: the parity of the bits 0..=k of `x` (of quotes: whether byte k is in
/// a string, counting its opening quote).
#[cfg(target_arch = "x86_64")]
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The value held in an optional field's array for a row that leaves the field out: never
/// read as the row's value ([`Columns::present`] says it is none).
fn push_placeholder(array: &mut Column) {
    match array {
        Column::Bool(a) => a.push(false),
        Column::Int(Store::Owned(a)) => a.push(0),
        Column::Float(Store::Owned(a)) => a.push(0.0),
        _ => {}
    }
}

/// The first byte of `b` that ends a plain run inside a JSON string: `"`, `\` or a raw
/// control character (below 0x20, which JSON forbids there). One pass finds all three: long
/// completions are broken into short runs by their `\n` escapes, and a separate scan for
/// control characters read every byte twice.
fn find_special(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    while at + 16 <= b.len() {
        if let Some(k) = special_in_16(&b[at..at + 16]) {
            return Some(at + k);
        }
        at += 16;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|k| at + k)
}

/// [`find_special`] on exactly 16 bytes.
#[cfg(target_arch = "x86_64")]
fn special_in_16(chunk: &[u8]) -> Option<usize> {
    let (quotes, special) = classify_16(chunk);
    let mask = quotes | special;
    (mask != 0).then(|| mask.trailing_zeros() as usize)
}

/// The quotes of exactly 16 bytes, and the bytes a string cannot hold as they are (`\`, and
/// control characters, below 0x20), as masks (bit k for byte k), with SSE2 (part of every
/// x86-64 processor).
#[cfg(target_arch = "x86_64")]
fn classify_16(chunk: &[u8]) -> (u16, u16) {
    use std::arch::x86_64::*;
    assert_eq!(chunk.len(), 16);
    // SAFETY: SSE2 is in the x86-64 baseline; the load reads the 16 bytes of `chunk` (checked
    // above) and needs no alignment.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let escape = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // c < 0x20 (unsigned) exactly when max(c, 0x20) != c.
        let at_least_space = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x20)), v);
        let control = _mm_andnot_si128(at_least_space, _mm_set1_epi8(-1));
        (
            _mm_movemask_epi8(quote) as u16,
            _mm_movemask_epi8(_mm_or_si128(escape, control)) as u16,
        )
    }
}

/// Reads the digits at `*j` into `mantissa` (wrapping past 19 digits) and returns how many.
/// The sign and digits of the JSON number at `start`, up to its exponent (if any).
struct Decimal {
    negative: bool,
    /// All its digits as an integer (exact while there are at most 19).
    mantissa: u64,
    /// How many: the integer part's (a lone `0` counts one) and the fraction's.
    digits: usize,
    fraction_digits: usize,
    /// Where the integer part ends, and where the fraction (or the integer part) ends.
    int_end: usize,
    end: usize,
}

/// [`Decimal`] of the number at `start`; `None` when it does not start with a digit (after an
/// optional `-`) or has a `.` without a digit after it.
#[inline]
fn decimal(b: &[u8], start: usize) -> Option<Decimal> {
    let negative = b.get(start) == Some(&b'-');
    let mut j = start + usize::from(negative);
    let mut mantissa: u64 = 0;
    let int_digits = match b.get(j)? {
        b'0' => {
            j += 1;
            1
        }
        b'1'..=b'9' => digit_run(b, &mut j, &mut mantissa),
        _ => return None,
    };
    let int_end = j;
    let mut fraction_digits = 0;
    if b.get(j) == Some(&b'.') {
        j += 1;
        fraction_digits = digit_run(b, &mut j, &mut mantissa);
        if fraction_digits == 0 {
            return None;
        }
    }
    Some(Decimal {
        negative,
        mantissa,
        digits: int_digits + fraction_digits,
        fraction_digits,
        int_end,
        end: j,
    })
}

fn digit_run(b: &[u8], j: &mut usize, mantissa: &mut u64) -> usize {
    let from = *j;
    while let Some(d) = b.get(*j).filter(|c| c.is_ascii_digit()) {
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        *j += 1;
    }
    *j - from
}

/// Appends to `out` the rest of the body of the JSON string from `at` in `b` (a line), its
/// escapes resolved, and returns the index of its closing quote; `None` for a raw control
/// character, an invalid escape or a lone surrogate (serde decides those), or an unterminated
/// string. `out` then holds UTF-8 when it did before ([`unescaped`]): the line is UTF-8, its
/// plain runs are cut only next to ASCII bytes, and escapes append whole characters.
fn unescape_into(b: &[u8], mut at: usize, out: &mut Vec<u8>) -> Option<usize> {
    // Unescaping never lengthens a text, so the rest of the line, and a block's slack for the
    // whole blocks copied, is all the room this needs: no check for room per block.
    out.reserve(b.len().saturating_sub(at) + PLAIN_BLOCK);
    let len = out.len();
    let room = out.spare_capacity_mut();
    let mut written = 0;
    let end = loop {
        let k = copy_plain(b, at, room, &mut written)?;
        if b[k] == b'"' {
            break k;
        }
        if b[k] != b'\\' {
            return None;
        }
        // `\n` first: completions have one a line.
        if b.get(k + 1) == Some(&b'n') {
            room[written].write(b'\n');
            written += 1;
            at = k + 2;
            continue;
        }
        let (c, used) = escape(b.get(k + 1..)?)?;
        for &byte in c.encode_utf8(&mut [0; 4]).as_bytes() {
            room[written].write(byte);
            written += 1;
        }
        at = k + 1 + used;
    };
    // SAFETY: the first `written` bytes of the spare capacity were written above.
    unsafe { out.set_len(len + written) };
    Some(end)
}

/// The text [`unescape_into`] left in `out`.
fn unescaped(out: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(out).is_ok());
    // SAFETY: `out` is only ever filled by `unescape_into` from a line's text (after a clear
    // or a plain run of that text), which keeps it UTF-8 whenever it succeeds; callers read it
    // only then.
    unsafe { std::str::from_utf8_unchecked(out) }
}

/// Bytes [`copy_plain`] copies per step.
const PLAIN_BLOCK: usize = 32;

/// Writes to `room` from `*written` on (counting them there) the bytes of `b` from `at` up to
/// the first one that ends a plain run of a string (`"`, `\` or a control character), and
/// returns that byte's index; `None` when the line ends first. `room` needs a block's slack.
///
/// Whole blocks are copied and then only their plain prefix is kept: completions are broken
/// into runs of about a hundred bytes by their `\n` escapes, and a search then a `memcpy` call
/// per run cost more than the run itself.
fn copy_plain(
    b: &[u8],
    mut at: usize,
    room: &mut [MaybeUninit<u8>],
    written: &mut usize,
) -> Option<usize> {
    // Counted in a local, not through `written`, so that the loop keeps it in a register.
    let mut w = *written;
    while let Some(block) = b.get(at..at + PLAIN_BLOCK) {
        let mask = copy_block(block.try_into().ok()?, &mut room[w..w + PLAIN_BLOCK]);
        if mask != 0 {
            let plain = mask.trailing_zeros() as usize;
            *written = w + plain;
            return Some(at + plain);
        }
        w += PLAIN_BLOCK;
        at += PLAIN_BLOCK;
    }
    // The last bytes of the line, padded with quotes: a quote found in the padding means the
    // string is not closed.
    let rest = b.get(at..)?;
    let mut padded = [b'"'; PLAIN_BLOCK];
    padded[..rest.len()].copy_from_slice(rest);
    let plain = copy_block(&padded, &mut room[w..w + PLAIN_BLOCK]).trailing_zeros() as usize;
    *written = w + plain;
    let end = at + plain;
    (end < b.len()).then_some(end)
}

/// Copies a block of [`copy_plain`] into `to` (as long) and returns [`specials_32`] of it.
#[inline(always)]
fn copy_block(block: &[u8; PLAIN_BLOCK], to: &mut [MaybeUninit<u8>]) -> u32 {
    for (slot, &byte) in to.iter_mut().zip(block) {
        slot.write(byte);
    }
    specials_32(block)
}

/// The bytes of 32 that end a plain run of a string (`"`, `\`, control characters), as a mask:
/// bit k for byte k.
fn specials_32(block: &[u8; PLAIN_BLOCK]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        let (q0, s0) = classify_16(&block[..16]);
        let (q1, s1) = classify_16(&block[16..]);
        u32::from(q0 | s0) | (u32::from(q1 | s1) << 16)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block.iter().enumerate().fold(0, |mask, (k, &c)| {
            mask | (u32::from(c == b'"' || c == b'\\' || c < 0x20) << k)
        })
    }
}

/// The character of the escape after a backslash, and how many bytes it used.
fn escape(rest: &[u8]) -> Option<(char, usize)> {
    let c = match *rest.first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(rest.get(1..5)?)?;
            if !(0xD800..0xE000).contains(&high) {
                return Some((char::from_u32(high)?, 5));
            }
            // A surrogate pair `\uD83D\uDE00`; anything else with a surrogate goes to serde.
            if high >= 0xDC00 || rest.get(5..7)? != b"\\u" {
                return None;
            }
            let low = hex4(rest.get(7..11)?)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return Some((char::from_u32(c)?, 11));
        }
        _ => return None,
    };
    Some((c, 1))
}

fn hex4(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ty::Field;

    fn rec(fields: Vec<(&str, Ty)>) -> Ty {
        Ty::record(
            fields
                .into_iter()
                .map(|(n, ty)| Field { name: n.into(), ty })
                .collect(),
        )
    }

    /// Bit-for-bit equality (`Value::same` equates 0.0 and -0.0).
    fn identical(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Record(x), Value::Record(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| identical(p, q))
            }
            (Value::List(_) | Value::Columns(_), Value::List(_) | Value::Columns(_)) => {
                let (x, y) = (a.as_list(), b.as_list());
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| identical(p, q))
            }
            _ => a.same(b),
        }
    }

    /// The scanner either defers or agrees with serde, bit for bit.
    fn agree(line: &str, schema: &Ty) -> bool {
        let slow = super::super::parse(line, schema);
        match row(line, schema) {
            Some(fast) => {
                let slow = slow.unwrap_or_else(|e| panic!("{line}: serde rejects: {e}"));
                let slow = slow.unwrap_or_else(|e| panic!("{line}: serde type error: {e}"));
                assert!(identical(&fast, &slow), "{line}: {fast:?} vs {slow:?}");
                true
            }
            None => false,
        }
    }

    fn schema() -> Ty {
        rec(vec![
            ("labels", Ty::list(Ty::Text)),
            ("n", Ty::Int),
            ("x", Ty::Float),
            ("ok", Ty::optional(Ty::Bool)),
            (
                "steps",
                Ty::list(rec(vec![("x", Ty::Float), ("c", Ty::Bool)])),
            ),
            ("s", Ty::optional(Ty::Text)),
        ])
    }

    #[test]
    fn accepts_plain_rows_and_agrees_with_serde() {
        let s = schema();
        let accepted = [
            r#"{"labels":["","a","bc",""],"n":3,"x":2.5,"ok":true,"steps":[{"x":1,"c":false}],"s":"hi"}"#,
            r#" { "n" : -0 , "x" : -0.0 , "labels" : [ ] , "steps" : [ ] , "extra" : {"a":[1,2,{"b":null}],"c":"\u00e9"} } "#,
            r#"{"labels":["\u00e9\n\"q\"","\ud83d\ude00","x\/y"],"n":9223372036854775807,"x":1e-7,"steps":[],"s":null,"ok":null}"#,
            r#"{"labels":[],"n":0,"x":12345678901234567,"steps":[{"c":true,"x":3.25e2,"z":[true,false,null]}]}"#,
            r#"{"labels":["a long label here, longer than eight bytes"],"n":1,"x":0.1,"steps":[],"ignored":-1.5E+3}"#,
        ];
        for line in accepted {
            assert!(agree(line, &s), "deferred: {line}");
        }
    }

    #[test]
    fn defers_every_error_and_unusual_shape() {
        let s = schema();
        let deferred = [
            r#"{"labels":[],"n":1,"x":1.0}"#,                  // steps missing
            r#"{"labels":[],"n":1.0,"x":1.0,"steps":[]}"#,     // int written as float
            r#"{"labels":[],"n":1,"x":1,"steps":[],"n":2}"#,   // repeated column
            r#"{"labels":[],"n":1,"x":1,"steps":[]} x"#,       // trailing garbage
            r#"{"labels":[],"n":1,"x":1e999,"steps":[]}"#,     // out of range
            r#"{"labels":[],"n":1,"x":1,"steps":[],"y":NaN}"#, // NaN
            r#"{"labels":["\ud83d"],"n":1,"x":1,"steps":[]}"#, // lone surrogate
            r#"{"labels":["a	b"],"n":1,"x":1,"steps":[]}"#,    // raw tab in a string
            r#"{"labels":[1],"n":1,"x":1,"steps":[]}"#,        // type error
            r#"{"labels":[],"n":18446744073709551615,"x":1,"steps":[]}"#, // beyond i64
            r#"{"labels":[],"n":01,"x":1,"steps":[]}"#,        // leading zero
            r#"{"labels":[],"n":1,"x":1.,"steps":[]}"#,        // bad number
            r#"{"labels":[,],"n":1,"x":1,"steps":[]}"#,
            r#"{"labels":[],"n":1,"x":1,"steps":[],}"#,
            r#"{"labels":[],"n":1,"x":1,"steps":[],"ok":null,"e":"\x"}"#,
            r#"["labels"]"#,
            r#"{"labels":[],"n":1,"x":1e-400,"steps":[]}"#, // underflow
        ];
        for line in deferred {
            assert!(!agree(line, &s), "accepted: {line}");
        }
        // Deeply nested unread columns go to serde, which skips them.
        let deep = format!(
            r#"{{"labels":[],"n":1,"x":1,"steps":[],"d":{}{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        assert!(!agree(&deep, &s));
    }

    /// A float field of a plain step object (read in line by `Scanner::float`) is the value
    /// serde reads, or the line is deferred, for numbers of every shape.
    #[test]
    fn step_floats_read_in_line_agree_with_serde() {
        let s = schema();
        let numbers = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "7",
            "-12.5",
            "0.0923",
            "2.0487",
            "1.5e3",
            "1E-2",
            "-0.5e+1",
            "123456789012345.5",
            "1234567890123456.5",
            "0.1234567890123456789",
            "9007199254740993",
            "1.7976931348623157e308",
            "1e400",
            "5e-324",
            "1.",
            ".5",
            "01.5",
            "1.5x",
            "-",
            "1.2.3",
            "00",
            "1e",
            "2.50000000000000000000001",
            "1234567.0",
        ];
        for x in numbers {
            for steps in [
                format!(r#"[{{"x":{x},"c":true}}]"#),
                format!(r#"[{{"x":1,"c":false}},{{"x": {x}, "c": true}}]"#),
            ] {
                let line = format!(r#"{{"labels":[],"n":1,"x":1,"steps":{steps}}}"#);
                let serde_reads = matches!(super::super::parse(&line, &s), Ok(Ok(_)));
                // Accepted only with serde's value (`agree` compares), deferred otherwise.
                assert!(agree(&line, &s) || !serde_reads || x.len() > 15, "{line}");
            }
        }
    }

    #[test]
    fn lists_of_scalar_records_become_columns_or_defer() {
        let s = schema();
        let head = r#"{"labels":[],"n":1,"x":1,"steps":"#;
        let accepted = [
            r#"[{"x":1,"c":false},{"c":true,"x":-2.5e-3,"z":{"k":[1]}},{"x":0.1,"c":false}]"#,
            r#"[ { "x" : 7 , "c" : true } ]"#,
            r#"[{"x": 1, "c": false}, {"x": 2.5, "c": true}]"#,
            // Read by the plain-object path up to where it stops, then again by the general one.
            r#"[{"x":1,"c":false},{"x":2,"c":true,"z":[3]},{"x":4,"c":false}]"#,
            r#"[{"x":1,"c":false},{"x":2,"z":0,"c":true}]"#,
            r#"[{"x":1,"c":false},{"x":2,"c":true ,"z":"}"}]"#,
            "[]",
        ];
        for steps in accepted {
            let line = format!("{head}{steps}}}");
            assert!(agree(&line, &s), "deferred: {line}");
            let Some(Value::Record(row)) = row(&line, &s) else {
                panic!("a record")
            };
            let Value::Columns(c) = &row[4] else {
                panic!("steps as columns: {:?}", row[4])
            };
            assert_eq!(c.len(), row[4].as_list().len());
        }
        // A list of texts is one buffer of texts.
        let line = r#"{"labels":["","a","b\u00e9c","a long label past twenty-two bytes"],"n":1,"x":1,"steps":[]}"#;
        assert!(agree(line, &s));
        let Some(Value::Record(row)) = row(line, &s) else {
            panic!("a record")
        };
        assert!(matches!(row[0].scalar_items(), Some(Column::Text(t)) if t.len() == 4));
        let deferred = [
            r#"[{"x":1}]"#,                             // c missing
            r#"[{"x":1,"c":true,"x":2}]"#,              // x repeated
            r#"[null]"#,                                // not a record
            r#"[{"x":null,"c":true}]"#,                 // null field
            r#"[{"x":1,"c":1}]"#,                       // type error
            r#"[{"x":1,"c":true},{"x":"1","c":true}]"#, // type error in a later row
            r#"[{"x":1,"c":true},]"#,                   // trailing comma
            r#"[{"x":1,"c":true,"c":false}]"#,          // c repeated after the plain object
            r#"[{"x":1,"c":tru}]"#,                     // invalid literal
        ];
        for steps in deferred {
            let line = format!("{head}{steps}}}");
            assert!(!agree(&line, &s), "accepted: {line}");
        }
    }

    #[test]
    fn optional_fields_of_scalar_records_become_columns_with_presence_or_defer() {
        let s = rec(vec![(
            "steps",
            Ty::list(rec(vec![
                ("x", Ty::Float),
                ("b", Ty::optional(Ty::Bool)),
                ("k", Ty::optional(Ty::Int)),
                ("y", Ty::optional(Ty::Float)),
            ])),
        )]);
        let accepted = [
            // Every shape of a row holding a field or not: null, left out, out of order, among
            // other keys, by the plain-object path and the general one.
            r#"[{"x":1,"b":true,"k":3,"y":0.5},{"x":2,"b":null,"k":null,"y":null},{"x":3}]"#,
            r#"[{"x":1,"b":false,"k":-7,"y":-0.0},{"k":2,"x":4},{"y":1e300,"z":[null],"x":0}]"#,
            r#"[{"x":1,"b":null,"k":0,"y":2},{"b":false,"x":2,"k":null}]"#,
            r#"[{"x":5},{"x":6},{"x":7,"b":true}]"#,
            "[]",
        ];
        // Long lists where plain rows and others alternate in runs: after a row that is not
        // plain, a few go straight to the general path, then the plain one is tried again.
        let long: Vec<String> = [7, 20, 40]
            .iter()
            .map(|&every| {
                let rows: Vec<String> = (0..100)
                    .map(|i| match i % every {
                        0 => format!(r#"{{"x":{i},"k":{i}}}"#),
                        _ => format!(r#"{{"x":{i},"b":true,"k":null,"y":{i}.5}}"#),
                    })
                    .collect();
                format!("[{}]", rows.join(","))
            })
            .collect();
        for steps in accepted
            .iter()
            .copied()
            .chain(long.iter().map(String::as_str))
        {
            let line = format!(r#"{{"steps":{steps}}}"#);
            assert!(agree(&line, &s), "deferred: {line}");
            let Some(Value::Record(row)) = row(&line, &s) else {
                panic!("a record")
            };
            let Value::Columns(c) = &row[0] else {
                panic!("steps as columns: {:?}", row[0])
            };
            // Which rows hold each optional field is its own column; the required one has none.
            assert!(c.present(0).is_none(), "{line}");
            for f in 1..4 {
                let present = c.present(f).expect("an optional field's presence");
                let held: Vec<bool> = c
                    .rows()
                    .iter()
                    .map(|r| matches!(r, Value::Record(r) if !r[f].is_none()))
                    .collect();
                assert_eq!(present, held.as_slice(), "{line}: field {f}");
            }
        }
        let deferred = [
            r#"[{"b":true}]"#,                // x (required) missing
            r#"[{"x":null}]"#,                // null for a required field
            r#"[{"x":1,"k":1.5}]"#,           // an int written as a float
            r#"[{"x":1,"b":1}]"#,             // type error in an optional field
            r#"[{"x":1,"b":true,"b":null}]"#, // b repeated
            r#"[{"x":1,"b":nul}]"#,           // invalid literal
        ];
        for steps in deferred {
            let line = format!(r#"{{"steps":{steps}}}"#);
            assert!(!agree(&line, &s), "accepted: {line}");
        }
    }

    #[test]
    fn random_numbers_agree_with_serde_bit_for_bit() {
        let schema = rec(vec![("x", Ty::Float), ("n", Ty::optional(Ty::Int))]);
        let mut next = crate::test_rng(0x2545_F491_4F6C_DD1Du64);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut num = String::new();
            if next(2) == 0 {
                num.push('-');
            }
            let digits = 1 + next(20);
            for k in 0..digits {
                let d = if k == 0 && digits > 1 {
                    1 + next(9)
                } else {
                    next(10)
                };
                num.push(char::from(b'0' + d as u8));
            }
            if next(2) == 0 {
                num.push('.');
                for _ in 0..1 + next(18) {
                    num.push(char::from(b'0' + next(10) as u8));
                }
            }
            if next(3) == 0 {
                num.push_str(["e", "E", "e-", "e+"][next(4)]);
                num.push_str(&next(330).to_string());
            }
            let line = format!(
                r#"{{"x": {num}, "n": {}}}"#,
                if next(2) == 0 { &num } else { "null" }
            );
            accepted += usize::from(agree(&line, &schema));
        }
        assert!(accepted > 5_000, "only {accepted} lines took the fast path");
    }

    /// Lists of texts long enough for the 64-byte blocks of `Scanner::compact_texts`, written
    /// compactly or not, with escapes, long and non-ASCII items, spaces, empty items and broken
    /// separators anywhere: accepted exactly when plain (and then equal to serde's), deferred
    /// otherwise.
    #[test]
    fn long_lists_of_texts_agree_with_serde_whatever_their_shape() {
        let s = schema();
        let mut next = crate::test_rng(0x9E37_79B9_7F4A_7C15u64);
        let plain = [
            "\"\"",
            "\"a\"",
            "\"bc\"",
            "\"é\"",
            "\"a label of twenty bytes\"",
            "\"ü€ at 16 bytes\"",
        ];
        let unusual = ["\"x\\ny\"", "\"\\u00e9\"", "\"\\\"\""];
        let broken = ["\"a", "\"a\tb\"", "a", "\"\\x\""];
        let (mut accepted, mut rounds) = (0, 0);
        for _ in 0..3000 {
            let n = next(60);
            let mut items = Vec::new();
            let mut expect_plain = true;
            let mut separators = Vec::new();
            for _ in 0..n {
                let pick = next(1000);
                items.push(if pick < 985 {
                    plain[next(plain.len())]
                } else if pick < 995 {
                    unusual[next(unusual.len())]
                } else {
                    expect_plain = false;
                    broken[next(broken.len())]
                });
                separators.push(match next(200) {
                    0 => ", ",
                    1 => " ,",
                    2 => ",,",
                    _ => ",",
                });
            }
            let mut list = String::from("[");
            for (k, item) in items.iter().enumerate() {
                list.push_str(item);
                if k + 1 < n {
                    list.push_str(separators[k]);
                    expect_plain &= separators[k] != ",,";
                }
            }
            if n > 0 && next(40) == 0 {
                list.push(',');
                expect_plain = false;
            }
            list.push(']');
            let line = format!(r#"{{"labels":{list},"n":1,"x":1,"steps":[]}}"#);
            let ok = agree(&line, &s);
            assert!(
                ok || !expect_plain || items.iter().any(|i| unusual.contains(i)),
                "deferred: {line}"
            );
            if !expect_plain {
                assert!(!ok, "accepted: {line}");
            }
            accepted += usize::from(ok);
            rounds += 1;
        }
        assert!(accepted > rounds / 2, "{accepted} of {rounds} accepted");
    }

    #[test]
    fn strings_with_escapes_anywhere_read_as_serde_reads_them() {
        // Texts of every length around the copy's blocks, escapes at every offset, keys with
        // escapes (read and skipped), and the strings serde rejects: the scanner must give
        // serde's text or defer, and defer on every string serde rejects.
        let s = schema();
        let mut next = crate::test_rng(0x2545_F491_4F6C_DD1D);
        let pieces = [
            "a",
            "bcdefgh",
            "é",
            "€",
            "😀",
            " ",
            "\\n",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\r",
            "\\t",
            "\\u00e9",
            "\\u20AC",
            "\\ud83d\\ude00",
            "\\u0000",
        ];
        let broken = [
            "\\x", "\\ud83dx", "x\\ude00", "\\u12x", "\t", "\u{1}", "\\q",
        ];
        let (mut accepted, mut rejected) = (0, 0);
        for round in 0..4000 {
            let mut text = String::new();
            let mut valid = true;
            for _ in 0..next(90) {
                if next(300) == 0 {
                    text.push_str(broken[next(broken.len())]);
                    valid = false;
                } else {
                    text.push_str(pieces[next(pieces.len())]);
                }
            }
            let key = if round % 7 == 0 { "\\u0073" } else { "s" };
            let other = if round % 5 == 0 {
                r#","t\u0031":"a\nb""#
            } else {
                ""
            };
            let line =
                format!(r#"{{"{key}":"{text}","labels":[],"n":1,"x":1.5,"steps":[]{other}}}"#);
            let ok = agree(&line, &s);
            if !valid {
                assert!(!ok, "accepted: {line}");
            }
            accepted += usize::from(ok);
            rejected += usize::from(!valid);
            // The line cut short inside the string is never accepted.
            let cut = format!(r#"{{"labels":[],"n":1,"x":1.5,"steps":[],"s":"{text}"#);
            assert!(row(&cut, &s).is_none(), "accepted: {cut}");
        }
        assert!(accepted > 3000, "{accepted} of 4000 accepted");
        assert!(rejected > 100, "{rejected} broken");
    }

    #[test]
    fn quotes_escapes_and_control_characters_are_found_first_anywhere() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789é ~\u{7f}".repeat(2);
        assert_eq!(find_special(text.as_bytes()), None);
        for at in 0..text.len() {
            for special in [b'"', b'\\', 0x00, 0x0a, 0x1f] {
                let mut t = text.as_bytes().to_vec();
                t[at] = special;
                // A second one later must not be found instead.
                let last = t.len() - 1;
                t[last] = b'"';
                assert_eq!(find_special(&t), Some(at), "{special:#x} at {at}");
            }
        }
    }
}
