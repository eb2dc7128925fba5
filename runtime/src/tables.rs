//! Decoded tables, remembered per thread. A machine or formula reaches the runtime as a
//! constant record (its table), and every row's call would otherwise decode it again into the
//! structures its step loop needs — on short traces that cost more than the steps.
//!
//! The memo is keyed by the identity of the table's allocation: a program's constants live as
//! long as the program, and each entry holds a reference to its table, so an address cannot be
//! reused by another table while its entry exists. A table built afresh on each row (never the
//! case for the compiler's tables) simply misses. The memo holds a bounded number of entries.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::Value;

/// Entries per thread: a spec has a handful of machines and formulas.
const CAPACITY: usize = 32;

type Entry = (Arc<[Value]>, TypeId, Rc<dyn Any>);

thread_local! {
    static MEMO: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// `decode(table)`, computed once per thread and table (and per decoded type).
pub fn decoded<T: 'static>(
    table: &Value,
    decode: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<Rc<T>, String> {
    let Value::Record(key) = table else {
        return decode(table).map(Rc::new);
    };
    let kind = TypeId::of::<T>();
    let hit = MEMO.with(|memo| {
        memo.borrow()
            .iter()
            .find(|(k, t, _)| Arc::ptr_eq(k, key) && *t == kind)
            .map(|(_, _, v)| v.clone())
    });
    if let Some(value) = hit.and_then(|v| v.downcast::<T>().ok()) {
        return Ok(value);
    }
    let value = Rc::new(decode(table)?);
    MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        if memo.len() == CAPACITY {
            memo.remove(0);
        }
        memo.push((key.clone(), kind, value.clone() as Rc<dyn Any>));
    });
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_per_table_and_type() {
        let table = Value::Record(Arc::from(vec![Value::Int(7)]));
        let mut calls = 0;
        for _ in 0..3 {
            let v = decoded(&table, |t| {
                calls += 1;
                Ok(t.clone())
            })
            .unwrap();
            assert!(v.same(&table));
        }
        assert_eq!(calls, 1);
        // An equal table elsewhere in memory is another table; another type another entry.
        let other = Value::Record(Arc::from(vec![Value::Int(7)]));
        let n = decoded(&other, |_| Ok(1u8)).unwrap();
        let m = decoded(&table, |_| Ok(2u8)).unwrap();
        assert_eq!((*n, *m), (1, 2));
        // Errors are not remembered.
        let bad = Value::Record(Arc::from(vec![]));
        assert!(decoded::<u16>(&bad, |_| Err("no".into())).is_err());
        assert_eq!(*decoded::<u16>(&bad, |_| Ok(3)).unwrap(), 3);
    }

    #[test]
    fn stays_bounded() {
        let tables: Vec<Value> = (0..CAPACITY as i64 * 3)
            .map(|i| Value::Record(Arc::from(vec![Value::Int(i)])))
            .collect();
        for t in &tables {
            decoded(t, |_| Ok(0i64)).unwrap();
        }
        assert_eq!(MEMO.with(|m| m.borrow().len()), CAPACITY);
    }
}
