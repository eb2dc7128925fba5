//! The row's arena: every value compiled code makes lives here until the row ends or the loop
//! iteration that made it rolls back. Compiled code holds plain pointers to these values, so
//! they must never move: the arena is a list of fixed-capacity chunks that are never grown.
//! Chunks are kept from row to row on each thread, so a steady state allocates nothing for
//! the arena itself (a boxed value per allocation cost a `malloc` and a `free` each).

use std::cell::RefCell;

use crate::Value;

/// Values per chunk.
const CHUNK: usize = 256;
/// Empty chunks a thread keeps for its next rows.
const POOL: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
pub(crate) struct Arena {
    /// Chunks `0 .. len / CHUNK` are full; chunk `len / CHUNK` (if any) holds the rest; later
    /// chunks are empty, kept for reuse.
    chunks: Vec<Vec<Value>>,
    len: usize,
}

impl Arena {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `v`; the address stays valid until [`Arena::truncate`] drops it or the arena
    /// is dropped.
    pub(crate) fn push(&mut self, v: Value) -> *const Value {
        let c = self.len / CHUNK;
        if c == self.chunks.len() {
            let spare = SPARE.try_with(|s| s.borrow_mut().pop()).ok().flatten();
            self.chunks
                .push(spare.unwrap_or_else(|| Vec::with_capacity(CHUNK)));
        }
        let chunk = &mut self.chunks[c];
        debug_assert!(chunk.len() < chunk.capacity());
        // Below capacity, so the chunk's buffer (and every address in it) stays where it is.
        chunk.push(v);
        self.len += 1;
        &chunk[chunk.len() - 1]
    }

    /// Drops every value stored after the first `mark`.
    pub(crate) fn truncate(&mut self, mark: usize) {
        if mark >= self.len {
            return;
        }
        // Chunks past the one holding the last value are empty already.
        let (first, last) = (mark / CHUNK, (self.len - 1) / CHUNK);
        for (c, chunk) in self.chunks[first..=last].iter_mut().enumerate() {
            chunk.truncate(if c == 0 { mark % CHUNK } else { 0 });
        }
        self.len = mark;
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        self.truncate(0);
        let chunks = std::mem::take(&mut self.chunks);
        // During thread teardown the pool may be gone: the chunks are then simply freed.
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            let room = POOL.saturating_sub(s.len());
            s.extend(chunks.into_iter().take(room));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_stay_put_and_truncate_drops_exactly_the_tail() {
        let mut arena = Arena::default();
        let ptrs: Vec<*const Value> = (0..1000).map(|i| arena.push(Value::Int(i))).collect();
        for (i, p) in ptrs.iter().enumerate() {
            // SAFETY: the arena still holds all 1000 values.
            assert_eq!(unsafe { &**p }.as_int(), i as i64);
        }
        arena.truncate(300);
        assert_eq!(arena.len(), 300);
        assert_eq!(unsafe { &*ptrs[299] }.as_int(), 299);
        let again = arena.push(Value::Int(-1));
        assert_eq!(unsafe { &*again }.as_int(), -1);
        assert_eq!(unsafe { &*ptrs[0] }.as_int(), 0);
        arena.truncate(0);
        assert_eq!(arena.len(), 0);
        arena.truncate(5); // beyond the end: nothing to drop
        assert_eq!(arena.len(), 0);
    }

    #[test]
    fn chunks_are_reused_by_the_next_arena() {
        let mut first = Arena::default();
        let p = first.push(Value::Int(1));
        drop(first);
        let mut second = Arena::default();
        let q = second.push(Value::Int(2));
        assert_eq!(p, q, "the second row reuses the first row's chunk");
    }
}
