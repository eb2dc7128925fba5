//! Run-time values. Cheap to clone: short texts are held inline, longer texts, lists and
//! records are reference-counted.

use std::fmt;
use std::sync::{Arc, OnceLock};

#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The absent value of an optional (`none`, a JSON `null` or a missing optional column).
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Text),
    /// Index into the program's table of compiled regular expressions.
    Regex(u32),
    List(Arc<[Value]>),
    /// Fields in the order of the record type.
    Record(Arc<[Value]>),
    /// A list of records of bools, ints and floats held as one array per field (how decoders
    /// hand over a trace), a list of bools, ints or floats held as one array (how compiled
    /// loops collect them), or a list of texts held as one buffer (decoded labels): a step
    /// costs no allocation, and compiled loops and the runtime's step loops read flat arrays.
    /// It means exactly the `List` of its rows, which [`Value::as_list`] builds on first use
    /// for code that reads the list generically.
    Columns(Arc<Columns>),
}

// Compiled code steps through arrays of values, and a trace holds one per step: a text held
// inline must not make every value bigger than the reference-counted variants already are.
const _: () = assert!(std::mem::size_of::<Value>() == 24);

/// Longest text held inline in a [`Value`], in bytes.
pub const INLINE_TEXT_BYTES: usize = 22;

/// A text value. Up to [`INLINE_TEXT_BYTES`] bytes it is held in the value itself: the labels,
/// letters, tags and short answers of a trace then cost no allocation and no reference count
/// each (a trace of a million labels would otherwise touch a shared counter a million times).
/// Longer texts are reference-counted. Either way it reads as a `str`.
#[derive(Clone)]
pub struct Text(TextRepr);

#[derive(Clone)]
enum TextRepr {
    /// Invariant: `bytes[..len]` is UTF-8.
    Inline {
        len: u8,
        bytes: [u8; INLINE_TEXT_BYTES],
    },
    Shared(Arc<str>),
}

impl Text {
    pub fn new(s: &str) -> Text {
        if s.len() <= INLINE_TEXT_BYTES {
            let mut bytes = [0u8; INLINE_TEXT_BYTES];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text(TextRepr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Text(TextRepr::Shared(Arc::from(s)))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            TextRepr::Inline { len, bytes } => {
                // SAFETY: `bytes[..len]` was copied from a `str` in `new`, whole.
                unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) }
            }
            TextRepr::Shared(s) => s,
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        // (`Arc<str>` copies a `String` anyway: its counts go before the bytes.)
        Text::new(&s)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(Text::new(s))
    }

    pub fn as_bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            other => unreachable_type("bool", other),
        }
    }

    pub fn as_int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            other => unreachable_type("int", other),
        }
    }

    /// A number where a float is expected: ints and bools convert (bool as 0/1).
    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Float(x) => *x,
            Value::Int(i) => *i as f64,
            Value::Bool(b) => f64::from(u8::from(*b)),
            other => unreachable_type("number", other),
        }
    }

    pub fn as_text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            other => unreachable_type("text", other),
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            Value::Columns(c) => c.rows(),
            other => unreachable_type("list", other),
        }
    }

    /// The items of a list of bools, ints or floats held as one array, if it is.
    pub fn scalar_items(&self) -> Option<&Column> {
        match self {
            Value::Columns(c) => c.items(),
            _ => None,
        }
    }

    /// The list of `items`' values, held as that one array (or buffer of texts).
    pub fn array(items: Column) -> Value {
        Value::Columns(Arc::new(Columns::scalars(items)))
    }

    /// The items of a list of numbers or bools, read in place however the list is held.
    pub fn scalars(&self) -> Scalars<'_> {
        match self.scalar_items() {
            Some(Column::Bool(v)) => Scalars::Bools(v),
            Some(Column::Int(v)) => Scalars::Ints(v),
            Some(Column::Float(v)) => Scalars::Floats(v),
            Some(Column::Text(_)) | None => Scalars::Values(self.as_list()),
        }
    }

    /// The number of items of a list, without making the rows of [`Value::Columns`].
    pub fn list_len(&self) -> usize {
        match self {
            Value::Columns(c) => c.len(),
            other => other.as_list().len(),
        }
    }

    /// The items of a list, whichever way it is held; `None` for any other value.
    pub fn list_items(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            Value::Columns(c) => Some(c.rows()),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// Structural equality with the language's meaning: NaN equals NaN, whatever its sign and
    /// payload, which no operation of the language tells apart and the output writes as `NaN`
    /// (so that results can be compared across backends: which NaN an addition of two NaNs
    /// gives depends on the order of its operands in the machine code); ints never equal floats
    /// (the checker unifies numeric types before comparing).
    pub fn same(&self, other: &Value) -> bool {
        self.equal_with(other, |a, b| {
            a.to_bits() == b.to_bits() || a == b || (a.is_nan() && b.is_nan())
        })
    }

    /// [`Value::same`], except that floats are equal only when their bits are (`-0.0` is not
    /// `0.0`): one value can stand for the other anywhere, as a shared constant does.
    pub fn identical(&self, other: &Value) -> bool {
        self.equal_with(other, |a, b| a.to_bits() == b.to_bits())
    }

    fn equal_with(&self, other: &Value, floats: fn(f64, f64) -> bool) -> bool {
        let items = |a: &[Value], b: &[Value]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equal_with(y, floats))
        };
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => floats(*a, *b),
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Regex(a), Value::Regex(b)) => a == b,
            (Value::List(_) | Value::Columns(_), Value::List(_) | Value::Columns(_)) => {
                items(self.as_list(), other.as_list())
            }
            (Value::Record(a), Value::Record(b)) => items(a, b),
            _ => false,
        }
    }
}

/// The items of a list of numbers or bools ([`Value::scalars`]): its array when it is held as
/// one, else its values.
#[derive(Clone, Copy, Debug)]
pub enum Scalars<'a> {
    Bools(&'a [bool]),
    Ints(&'a [i64]),
    Floats(&'a [f64]),
    Values(&'a [Value]),
}

impl Scalars<'_> {
    pub fn len(&self) -> usize {
        match self {
            Scalars::Bools(v) => v.len(),
            Scalars::Ints(v) => v.len(),
            Scalars::Floats(v) => v.len(),
            Scalars::Values(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `i` (which exists) as a float, as [`Value::as_f64`] reads it.
    pub fn f64(&self, i: usize) -> f64 {
        match self {
            Scalars::Bools(v) => f64::from(u8::from(v[i])),
            Scalars::Ints(v) => v[i] as f64,
            Scalars::Floats(v) => v[i],
            Scalars::Values(v) => v[i].as_f64(),
        }
    }

    /// Item `i` (which exists) of a list of ints.
    pub fn int(&self, i: usize) -> i64 {
        match self {
            Scalars::Ints(v) => v[i],
            Scalars::Values(v) => v[i].as_int(),
            other => unreachable_type("int", &Value::Float(other.f64(i))),
        }
    }
}

/// The arrays of a [`Value::Columns`]: one per field of the record type, in its order, each as
/// long as the list; or, for a list of scalars or texts, the one array (or buffer) of its
/// items.
pub struct Columns {
    len: usize,
    fields: Box<[Column]>,
    /// Per field of an optional type, which rows hold a value (the others are none, and their
    /// slot in the field's array holds a placeholder); `None` for a field every row gives.
    present: Box<[Option<Vec<bool>>]>,
    /// A list of scalars: its items are the values of the one array, not records.
    scalars: bool,
    rows: OnceLock<Arc<[Value]>>,
}

/// One field of every row of a [`Columns`]. A bool is one byte (0 or 1), which compiled code
/// reads as such; texts are one buffer (compiled code never steps through them: they have no
/// array address).
#[derive(Debug)]
pub enum Column {
    Bool(Vec<bool>),
    Int(Store<i64>),
    Float(Store<f64>),
    Text(Texts),
}

/// The numbers of a [`Column`]: an array of its own, or one read where another owner keeps it
/// (an Arrow array's buffer, which a trace's columns are slices of): no copy per row.
pub enum Store<T: 'static> {
    Owned(Vec<T>),
    Shared(Shared<T>),
}

/// `len` values at `ptr`, kept alive and unchanged by `owner` for as long as this is.
pub struct Shared<T> {
    /// Held for what dropping it releases.
    _owner: Arc<dyn std::any::Any + Send + Sync>,
    ptr: *const T,
    len: usize,
}

// SAFETY: the values are never written through `ptr`, and `owner` (which keeps them) is itself
// `Send + Sync`: sharing or sending a `Shared` is sharing or sending `&[T]` and `owner`.
unsafe impl<T: Sync> Send for Shared<T> {}
unsafe impl<T: Sync> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The values `ptr[..len]`.
    ///
    /// # Safety
    /// `ptr` must point to `len` initialized, aligned values that `owner` keeps alive, at the
    /// same place and unchanged, until it is dropped.
    pub unsafe fn new(
        owner: Arc<dyn std::any::Any + Send + Sync>,
        ptr: *const T,
        len: usize,
    ) -> Self {
        Shared {
            _owner: owner,
            ptr,
            len,
        }
    }

    fn as_slice(&self) -> &[T] {
        // SAFETY: `new`'s contract: `len` values at `ptr`, kept by `owner`, which lives as long
        // as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Copy> Store<T> {
    /// The array, made its own first if it was shared, for writing.
    pub fn owned(&mut self) -> &mut Vec<T> {
        if let Store::Shared(s) = self {
            *self = Store::Owned(s.as_slice().to_vec());
        }
        match self {
            Store::Owned(v) => v,
            Store::Shared(_) => unreachable!("made owned above"),
        }
    }
}

impl<T> std::ops::Deref for Store<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Store::Owned(v) => v,
            Store::Shared(s) => s.as_slice(),
        }
    }
}

impl<T> FromIterator<T> for Store<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Store::Owned(items.into_iter().collect())
    }
}

impl<T> From<Vec<T>> for Store<T> {
    fn from(v: Vec<T>) -> Self {
        Store::Owned(v)
    }
}

impl<T: fmt::Debug> fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Texts one after the other in one buffer: a trace's labels without a value each. A trace of
/// few distinct short texts (labels from an alphabet) is held as symbols instead
/// ([`TextsBuilder`]): the buffer holds each distinct text once, and each text is a byte, the
/// number of its entry there — a step's label is then one byte, and what a reader computes
/// per label it can compute once per entry ([`Texts::symbols`]).
#[derive(Debug, Default)]
pub struct Texts {
    bytes: String,
    /// Where each text (or, with `ids`, each entry) ends in `bytes` (it starts where the one
    /// before ends).
    ends: Vec<usize>,
    /// Symbols: text `i` is entry `ids[i]`.
    ids: Option<Vec<u8>>,
}

impl Texts {
    #[inline]
    pub fn push(&mut self, s: &str) {
        if self.ids.is_some() {
            self.expand();
        }
        if s.len() <= 4 && s.is_ascii() {
            // A label of a letter or two: a call to copy a few bytes would cost more.
            s.bytes().for_each(|b| self.bytes.push(char::from(b)));
        } else {
            self.bytes.push_str(s);
        }
        self.ends.push(self.bytes.len());
    }

    /// The texts of `bytes` that end at `ends` (each the one before's end or more, the last
    /// `bytes.len()`), or `None` when that does not cut UTF-8 into whole texts.
    pub fn from_parts(bytes: &[u8], ends: Vec<usize>) -> Option<Texts> {
        let bytes = std::str::from_utf8(bytes).ok()?;
        // In ASCII every end is between two characters.
        let whole = ends.windows(2).all(|w| w[0] <= w[1])
            && ends.last().map_or(bytes.is_empty(), |&e| e == bytes.len())
            && (bytes.is_ascii() || ends.iter().all(|&e| bytes.is_char_boundary(e)));
        whole.then(|| Texts {
            bytes: bytes.to_string(),
            ends,
            ids: None,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.as_ref().map_or(self.ends.len(), Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the texts are held as symbols: each text's entry, and the number of entries
    /// ([`Texts::entry`]).
    pub fn symbols(&self) -> Option<(&[u8], usize)> {
        Some((self.ids.as_deref()?, self.ends.len()))
    }

    /// Entry `j` (which exists) of texts held as symbols ([`Texts::symbols`]).
    pub fn entry(&self, j: usize) -> &str {
        let (start, end) = self.entry_span(j);
        &self.bytes[start..end]
    }

    #[inline]
    fn entry_span(&self, j: usize) -> (usize, usize) {
        let start = if j == 0 { 0 } else { self.ends[j - 1] };
        (start, self.ends[j])
    }

    /// Where text `i` (which exists) starts and ends in the buffer.
    #[inline]
    fn span(&self, i: usize) -> (usize, usize) {
        match &self.ids {
            Some(ids) => self.entry_span(usize::from(ids[i])),
            None => self.entry_span(i),
        }
    }

    /// Holds symbols as one text after the other (for a text that cannot be a symbol).
    #[cold]
    fn expand(&mut self) {
        let Some(ids) = self.ids.take() else { return };
        let entries = std::mem::take(self);
        for &id in &ids {
            self.push(entries.entry(usize::from(id)));
        }
    }

    /// Text `i` (which exists).
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        let (start, end) = self.span(i);
        &self.bytes[start..end]
    }

    /// Text `i` (which exists) as a number, its bytes little-endian, with its length, when it
    /// has at most 8 bytes: an exact key for the text, read with one load.
    #[inline]
    pub fn word(&self, i: usize) -> Option<(u64, usize)> {
        let (start, end) = self.span(i);
        let len = end - start;
        if len > 8 {
            return None;
        }
        let bytes = self.bytes.as_bytes();
        let word = match bytes.get(start..start + 8).map(<[u8; 8]>::try_from) {
            Some(Ok(eight)) => u64::from_le_bytes(eight),
            _ => bytes[start..end]
                .iter()
                .rev()
                .fold(0, |w, &b| w << 8 | u64::from(b)),
        };
        let mask = u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0);
        Some((word & mask, len))
    }

    pub fn truncate(&mut self, n: usize) {
        if let Some(ids) = &mut self.ids {
            ids.truncate(n);
            return;
        }
        self.ends.truncate(n);
        self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
    }
}

/// Builds [`Texts`] as symbols while they are short (at most 16 bytes) and few (at most
/// [`TextsBuilder::MAX_ENTRIES`] distinct ones), as a trace's labels are, else one after the
/// other. Kept by a decoder across lists: its table is cleared, not made again, for each.
pub struct TextsBuilder {
    /// While `symbols`: the entries (each distinct text once); else the texts.
    texts: Texts,
    symbols: bool,
    /// Each text's entry, while `symbols`.
    ids: Vec<u8>,
    /// Open addressing from a text's bytes (a number, little-endian) and length to its entry:
    /// `(bytes, length + 1, entry)`, length 0 for a free slot. Made on first use (a builder
    /// is cheap to make and to drop).
    slots: Vec<(u128, u8, u8)>,
    /// The slots taken, to free when the list is done.
    taken: Vec<u8>,
    /// The entry of each text of at most one byte (`""` first, then by its byte), 255 for
    /// none yet: labels of one letter are most of many traces, and this is one load.
    tiny: Vec<u8>,
}

impl Default for TextsBuilder {
    fn default() -> TextsBuilder {
        TextsBuilder {
            texts: Texts::default(),
            symbols: true,
            ids: Vec::new(),
            slots: Vec::new(),
            taken: Vec::new(),
            tiny: Vec::new(),
        }
    }
}

impl TextsBuilder {
    const SLOTS: usize = 256;
    /// Three quarters of the slots, so that a probe ends soon; within a byte.
    pub const MAX_ENTRIES: usize = 192;

    #[inline]
    pub fn push(&mut self, s: &str) {
        match short_text_key(s) {
            Some(key) if self.symbols => self.intern(key, || s),
            _ => self.push_plain(s),
        }
    }

    /// Pushes `text()`, of `len` bytes, the first bytes of `wide` (16 bytes or more): a short
    /// text is looked up by those bytes, and made a text only the first time it is met.
    #[inline(always)]
    pub fn push_short<'t>(&mut self, wide: &[u8], len: usize, text: impl FnOnce() -> &'t str) {
        match self.known(wide, len) {
            Some(id) => self.ids.push(id),
            None => self.push_new(wide, len, text()),
        }
    }

    /// [`TextsBuilder::push_short`] of a text not met before in this list, or not a symbol.
    #[cold]
    #[inline(never)]
    fn push_new(&mut self, wide: &[u8], len: usize, text: &str) {
        match wide.get(..16) {
            Some(sixteen) if len <= 16 && self.symbols => {
                self.intern((TextsBuilder::key_of(sixteen, len), len), || text);
            }
            _ => self.push_plain(text),
        }
    }

    /// The entry of a text of `len` bytes, the first of `wide` (16 bytes or more), met before
    /// in this list; `None` for a new one, or when the texts are not held as symbols. A
    /// decoder's loop collects such entries itself and hands them over with
    /// [`TextsBuilder::push_known`], keeping their count in a register.
    #[inline(always)]
    pub fn known(&self, wide: &[u8], len: usize) -> Option<u8> {
        if !self.symbols {
            return None;
        }
        if len <= 1 {
            // `""` at 0, a one-byte text after it; no branch on which.
            let at = (1 + usize::from(wide[0])) * len;
            return self.tiny.get(at).copied().filter(|&id| id != u8::MAX);
        }
        let sixteen = wide.get(..16).filter(|_| len <= 16)?;
        self.probe(TextsBuilder::key_of(sixteen, len), len).ok()
    }

    /// The entry of the text of `len` bytes keyed `key`, or the free slot where it goes (the
    /// table is never full: at most three quarters of it is taken).
    #[inline(always)]
    fn probe(&self, key: u128, len: usize) -> Result<u8, usize> {
        let tag = len as u8 + 1;
        let mut slot = TextsBuilder::slot_of(key, len);
        while let Some(&(k, t, id)) = self.slots.get(slot) {
            if t == tag && k == key {
                return Ok(id);
            }
            if t == 0 {
                break;
            }
            slot = (slot + 1) % TextsBuilder::SLOTS;
        }
        Err(slot)
    }

    /// The entry of the last text pushed, while the texts are held as symbols.
    pub fn last_entry(&self) -> Option<u8> {
        self.ids.last().copied().filter(|_| self.symbols)
    }

    /// Whether the texts pushed since the last [`TextsBuilder::finish`] are held as symbols.
    pub fn is_symbols(&self) -> bool {
        self.symbols
    }

    /// Pushes the texts of entries `ids`, each given by [`TextsBuilder::known`] since the last
    /// other push.
    #[inline]
    pub fn push_known(&mut self, ids: &[u8]) {
        debug_assert!(
            self.symbols || ids.is_empty(),
            "entries of texts not held as symbols"
        );
        self.ids.extend_from_slice(ids);
    }

    /// The bytes of a text of `len` bytes (at most 16), the first of `sixteen`, as a number.
    #[inline(always)]
    fn key_of(sixteen: &[u8], len: usize) -> u128 {
        let word = u128::from_le_bytes(sixteen.try_into().expect("16 bytes"));
        word & u128::MAX.checked_shr(128 - 8 * len as u32).unwrap_or(0)
    }

    #[inline(always)]
    fn slot_of(key: u128, len: usize) -> usize {
        let mixed = ((key as u64) ^ ((key >> 64) as u64).rotate_left(29) ^ len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 56) as usize
    }

    #[inline(always)]
    fn intern<'t>(&mut self, (key, len): (u128, usize), text: impl FnOnce() -> &'t str) {
        match self.probe(key, len) {
            Ok(id) => self.ids.push(id),
            Err(slot) => self.add((key, len), slot, text()),
        }
    }

    /// A text not met before in this list, whose key's free slot is `slot`.
    #[cold]
    #[inline(never)]
    fn add(&mut self, (key, len): (u128, usize), slot: usize, text: &str) {
        if self.slots.is_empty() {
            self.slots = vec![(0, 0, 0); TextsBuilder::SLOTS];
            return self.intern((key, len), || text);
        }
        let id = self.texts.ends.len();
        if id >= TextsBuilder::MAX_ENTRIES {
            return self.push_plain(text); // too many distinct texts
        }
        self.slots[slot] = (key, len as u8 + 1, id as u8);
        self.taken.push(slot as u8);
        if len <= 1 {
            if self.tiny.is_empty() {
                self.tiny = vec![u8::MAX; 257];
            }
            self.tiny[if len == 0 { 0 } else { 1 + key as usize }] = id as u8;
        }
        self.ids.push(id as u8);
        self.texts.push(text);
    }

    /// Pushes `text` one after the other, as every text from here on: a text that is not a
    /// symbol (too long, or one too many).
    #[cold]
    #[inline(never)]
    fn push_plain(&mut self, text: &str) {
        if self.symbols {
            self.texts.ids = Some(std::mem::take(&mut self.ids));
            self.texts.expand();
            self.symbols = false;
        }
        self.texts.push(text);
    }

    /// The texts pushed since the last call; the builder starts afresh.
    pub fn finish(&mut self) -> Texts {
        for &slot in &self.taken {
            let (key, tag, _) = self.slots[usize::from(slot)];
            if tag <= 2 {
                self.tiny[if tag == 1 { 0 } else { 1 + key as usize }] = u8::MAX;
            }
            self.slots[usize::from(slot)] = (0, 0, 0);
        }
        self.taken.clear();
        let mut texts = std::mem::take(&mut self.texts);
        if self.symbols {
            texts.ids = Some(std::mem::take(&mut self.ids));
        }
        self.ids.clear();
        self.symbols = true;
        texts
    }
}

/// A text of at most 16 bytes as a number (its bytes little-endian), with its length: an
/// exact key for it.
#[inline]
pub fn short_text_key(s: &str) -> Option<(u128, usize)> {
    let b = s.as_bytes();
    if b.len() > 16 {
        return None;
    }
    // Byte by byte: labels are a byte or two, and a copy of a variable length is a call.
    let key = b
        .iter()
        .enumerate()
        .fold(0u128, |k, (i, &x)| k | u128::from(x) << (8 * i));
    Some((key, b.len()))
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Bool(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of row `i` (which exists).
    pub fn get(&self, i: usize) -> Value {
        match self {
            Column::Bool(v) => Value::Bool(v[i]),
            Column::Int(v) => Value::Int(v[i]),
            Column::Float(v) => Value::Float(v[i]),
            Column::Text(v) => Value::text(v.get(i)),
        }
    }

    /// Keeps the first `n` values.
    pub fn truncate(&mut self, n: usize) {
        match self {
            Column::Bool(v) => v.truncate(n),
            Column::Int(v) => v.owned().truncate(n),
            Column::Float(v) => v.owned().truncate(n),
            Column::Text(v) => v.truncate(n),
        }
    }

    /// Takes the first `n` values (at most the capacity) as written, for an array that compiled
    /// code filled in place through [`Column::as_mut_ptr`]; texts are left as they are.
    ///
    /// # Safety
    /// Values `0..n` must have been written, each a valid value of the array's type.
    pub unsafe fn set_written(&mut self, n: usize) {
        // SAFETY: the caller wrote the first `n` values; capped at the capacity, the length
        // never covers memory the array does not own.
        unsafe {
            match self {
                Column::Bool(v) => written(v, n),
                Column::Int(v) => written(v.owned(), n),
                Column::Float(v) => written(v.owned(), n),
                Column::Text(_) => {}
            }
        }
    }

    /// [`Column::as_ptr`], for writing (up to the capacity, see [`Column::set_written`]).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            Column::Bool(v) => v.as_mut_ptr().cast(),
            Column::Int(v) => v.owned().as_mut_ptr().cast(),
            Column::Float(v) => v.owned().as_mut_ptr().cast(),
            Column::Text(_) => std::ptr::null_mut(),
        }
    }

    /// The address of the first row's value, for compiled code that steps through the array
    /// (null for texts).
    pub fn as_ptr(&self) -> *const u8 {
        match self {
            Column::Bool(v) => v.as_ptr().cast(),
            Column::Int(v) => v.as_ptr().cast(),
            Column::Float(v) => v.as_ptr().cast(),
            Column::Text(_) => std::ptr::null(),
        }
    }
}

/// [`Column::set_written`] of one array.
///
/// # Safety
/// As there: values `0..n` (within the capacity) were written.
unsafe fn written<T>(v: &mut Vec<T>, n: usize) {
    // SAFETY: the caller's.
    unsafe { v.set_len(n.min(v.capacity())) }
}

impl Columns {
    /// The list of `len` rows whose fields are `fields`. Panics unless every array has `len`
    /// values (a decoder's bug).
    pub fn new(len: usize, fields: Vec<Column>) -> Columns {
        let present = fields.iter().map(|_| None).collect();
        Columns::with_present(len, fields, present)
    }

    /// [`Columns::new`] with fields that rows may leave out: `present[f]`, when given, says
    /// which rows hold field `f` (see [`Columns::present`]). Panics unless every array has
    /// `len` values (a decoder's bug).
    pub fn with_present(
        len: usize,
        fields: Vec<Column>,
        present: Vec<Option<Vec<bool>>>,
    ) -> Columns {
        assert!(
            fields.iter().all(|c| c.len() == len)
                && present.len() == fields.len()
                && present.iter().flatten().all(|p| p.len() == len),
            "internal error: columns of unequal lengths"
        );
        Columns {
            len,
            fields: fields.into(),
            present: present.into(),
            scalars: false,
            rows: OnceLock::new(),
        }
    }

    /// The list of the values of `items`.
    pub fn scalars(items: Column) -> Columns {
        Columns {
            len: items.len(),
            fields: vec![items].into(),
            present: vec![None].into(),
            scalars: true,
            rows: OnceLock::new(),
        }
    }

    /// The array of a list of scalars; `None` for a list of records.
    pub fn items(&self) -> Option<&Column> {
        self.scalars.then(|| &self.fields[0])
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn fields(&self) -> &[Column] {
        &self.fields
    }

    /// Which rows hold field `f`, one bool (a byte, 0 or 1) per row, for a field of an
    /// optional type; `None` when every row holds it.
    pub fn present(&self, f: usize) -> Option<&[bool]> {
        self.present.get(f)?.as_deref()
    }

    /// The rows as records, built on first use.
    pub fn rows(&self) -> &[Value] {
        self.rows.get_or_init(|| {
            if let Some(items) = self.items() {
                return (0..self.len).map(|i| items.get(i)).collect();
            }
            let field = |f: usize, i: usize| match self.present(f) {
                Some(present) if !present[i] => Value::None,
                _ => self.fields[f].get(i),
            };
            (0..self.len)
                .map(|i| Value::Record((0..self.fields.len()).map(|f| field(f, i)).collect()))
                .collect()
        })
    }
}

impl fmt::Debug for Columns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Columns")
            .field("len", &self.len)
            .field("scalars", &self.scalars)
            .field("fields", &self.fields)
            .field("present", &self.present)
            .finish()
    }
}

/// Largest text a rollout may build, in bytes (input texts may be larger). A spec that doubles
/// a text in a loop of calls fails the row with a clear error long before memory runs out.
pub const MAX_BUILT_TEXT_BYTES: usize = 64 << 20;

/// Fails when a text of `bytes` bytes would exceed [`MAX_BUILT_TEXT_BYTES`]; called before
/// the text is built, so the allocation never happens.
pub fn check_built_text(bytes: usize) -> Result<(), String> {
    if bytes > MAX_BUILT_TEXT_BYTES {
        return Err(format!(
            "the text would be {:.1} MiB, more than the {} MiB a rollout may build",
            bytes as f64 / 1_048_576.0,
            MAX_BUILT_TEXT_BYTES >> 20
        ));
    }
    Ok(())
}

/// The checker guarantees types; reaching this is a compiler bug, reported loudly.
#[cold]
fn unreachable_type(expected: &str, got: &Value) -> ! {
    panic!("internal error: expected a {expected} value, found {got:?}")
}

/// Formats a float the way outputs do: shortest round-trip form, with `NaN`, `inf`, `-inf`.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        // Shortest round-trip form, as in the JSON output: 0.1, 3.0, 1e300.
        serde_json::Number::from_f64(x).map_or_else(|| format!("{x}"), |n| n.to_string())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Regex(i) => write!(f, "<regex #{i}>"),
            Value::List(_) | Value::Columns(_) => {
                let items = self.as_list();
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Record(fields) => {
                f.write_str("{")?;
                for (i, item) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_built_as_symbols_read_back_as_pushed_and_stay_symbols_only_while_few_and_short() {
        let mut next = crate::test_rng(0x2545_F491_4F6C_DD1D);
        let alphabet: Vec<String> = ["", "a", "b", "ab", "é", "\0", "x\0", "abcdefghijklmnop"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..300).map(|i| format!("l{i}")))
            .chain(["seventeen bytes!!".to_string(), "ü".repeat(9)])
            .collect();
        let mut builder = TextsBuilder::default();
        for round in 0..400 {
            // Few letters, many (past the entries a byte can number), or long texts mixed in.
            let letters = [3, 8, 40, 250, alphabet.len()][round % 5];
            let n = next(if round % 7 == 0 { 2000 } else { 60 });
            let texts: Vec<&str> = (0..n).map(|_| alphabet[next(letters)].as_str()).collect();
            for t in &texts {
                // Read from a line as the decoder reads it: 16 bytes from its start, when the
                // line has them.
                let line = format!("{t}\",\"0123456789abcdef");
                match (next(2), line.as_bytes().get(..16)) {
                    (0, Some(wide)) => builder.push_short(wide, t.len(), || t),
                    _ => builder.push(t),
                }
            }
            let built = builder.finish();
            assert_eq!(built.len(), n, "round {round}");
            for (i, t) in texts.iter().enumerate() {
                assert_eq!(built.get(i), *t, "round {round}, text {i}");
            }
            let mut distinct = texts.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let few_and_short = distinct.len() <= TextsBuilder::MAX_ENTRIES
                && distinct.iter().all(|t| t.len() <= 16);
            assert_eq!(built.symbols().is_some(), few_and_short, "round {round}");
            if let Some((ids, entries)) = built.symbols() {
                assert_eq!(entries, distinct.len(), "round {round}: each text once");
                assert!(ids.iter().all(|&id| usize::from(id) < entries));
            }
        }
    }

    #[test]
    fn a_short_text_as_a_word_is_its_bytes_little_endian() {
        let all = [
            "",
            "a",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "é",
            "x\0",
            "\0",
            "12345678",
            "z",
        ];
        // Every text at every place, the last ones without 8 bytes after their start.
        let mut texts = Texts::default();
        for t in all {
            texts.push(t);
        }
        for (i, t) in all.iter().enumerate() {
            let want = (t.len() <= 8).then(|| {
                let word = t.bytes().rev().fold(0u64, |w, b| w << 8 | u64::from(b));
                (word, t.len())
            });
            assert_eq!(texts.word(i), want, "{t:?}");
        }
    }

    #[test]
    fn texts_read_back_whole_inline_or_shared() {
        let long = "x".repeat(INLINE_TEXT_BYTES + 1);
        let edge = "é".repeat(INLINE_TEXT_BYTES / 2);
        for s in ["", "a", "a\0", "abcdefghi", "é", &edge, &long] {
            let v = Value::text(s);
            assert_eq!(v.as_text(), s);
            assert!(v.same(&Value::text(s)));
            let Value::Text(t) = &v else { panic!("text") };
            assert_eq!(
                matches!(t.0, TextRepr::Inline { .. }),
                s.len() <= INLINE_TEXT_BYTES
            );
        }
        assert!(Text::new("ab") < Text::new("abc") && Text::new(&long) > Text::new("x"));
    }
}
