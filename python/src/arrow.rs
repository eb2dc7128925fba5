//! pyarrow data through the Arrow C stream interface (`__arrow_c_stream__`): the record
//! batches of the object, read where they are; `reward_arrow` makes the rows.

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

pub use reward_arrow::{rows, rows_per_slice};

/// The record batches of an object that exports `__arrow_c_stream__` (a pyarrow Table,
/// RecordBatch or RecordBatchReader, a polars DataFrame, …).
pub fn batches(obj: &Bound<'_, PyAny>) -> PyResult<Vec<RecordBatch>> {
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let ptr = capsule
        .pointer_checked(Some(c"arrow_array_stream"))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: the capsule holds a valid stream, which `from_raw` moves out (leaving a released
    // one for the capsule's destructor), as the C stream interface's PyCapsule protocol says.
    let reader = unsafe { RecordBatchStreamReader::from_raw(ptr.as_ptr()) }
        .map_err(|e| PyValueError::new_err(format!("cannot read the Arrow stream: {e}")))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("cannot read the Arrow stream: {e}")))
}
