//! Parquet in and out of `reward score`, on the same driver as JSON Lines. A Parquet input is
//! read batch by batch (only the columns the spec reads); its rows are made straight from the
//! Arrow arrays (`reward_arrow`, as the Python package makes them), a slice of a batch per
//! chunk of the driver ([`ParquetRows`]). Where the driver needs lines (`group by` specs,
//! `--keep`), the batches are handed over as JSON lines ([`ParquetLines`]). Either way the rows,
//! the errors and their accounting are those of the same data as JSON Lines. A Parquet output
//! turns each output record into a row of typed columns (`score`, one per term of the
//! breakdown, `error` and `error_field`).

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use reward::{Spec, Ty, Value};

/// Whether a path names a Parquet file (by its extension).
pub fn is_parquet(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The rows of a Parquet file as JSON Lines, produced a record batch at a time.
pub struct ParquetLines {
    batches: ParquetRecordBatchReader,
    buf: Vec<u8>,
    pos: usize,
}

/// Opens a Parquet file as JSON Lines (see [`batches`]).
pub fn open(path: &str, spec: &Spec) -> Result<ParquetLines, String> {
    Ok(ParquetLines {
        batches: batches(path, spec, TextColumns::AsStored)?,
        buf: Vec::new(),
        pos: 0,
    })
}

/// The rows of a Parquet file as values of a spec's input, in chunks for
/// [`reward_runtime::driver::run_items`]: a slice of a record batch at a time, of about the
/// driver's chunk size in Arrow buffers (a batch of long traces is hundreds of MB).
pub struct ParquetRows {
    batches: ParquetRecordBatchReader,
    schema: Ty,
    batch: Option<RecordBatch>,
    /// The first row of `batch` not yet handed out, and its number in the file (from 1).
    start: usize,
    number: u64,
    chunk_bytes: usize,
}

/// Opens a Parquet file as rows of `spec`'s input, in chunks of about `chunk_bytes`.
pub fn rows(path: &str, spec: &Spec, chunk_bytes: usize) -> Result<ParquetRows, String> {
    Ok(ParquetRows {
        batches: batches(path, spec, TextColumns::LabelsAsDictionaries)?,
        schema: spec.input_schema().clone(),
        batch: None,
        start: 0,
        number: 1,
        chunk_bytes: chunk_bytes.max(1),
    })
}

/// A row made from the file, or why its values do not fit the input.
pub type ParquetRow = Result<Value, reward_arrow::Mismatch>;

impl ParquetRows {
    /// The next rows, each with its number; empty at the end of the file.
    pub fn next_chunk(&mut self) -> io::Result<Vec<(u64, ParquetRow)>> {
        loop {
            let batch = match &self.batch {
                Some(batch) if self.start < batch.num_rows() => batch,
                _ => match self.batches.next() {
                    Some(batch) => {
                        self.batch = Some(batch.map_err(io::Error::other)?);
                        self.start = 0;
                        continue;
                    }
                    None => return Ok(Vec::new()),
                },
            };
            let rest = batch.num_rows() - self.start;
            let len = reward_arrow::rows_in_bytes(batch, self.chunk_bytes, 1).min(rest);
            let slice = batch.slice(self.start, len);
            self.start += len;
            let first = self.number;
            self.number += len as u64;
            let mut rows = reward_arrow::rows(std::slice::from_ref(&slice), &self.schema);
            if rows.len() != len {
                // Not a record input (the checker allows none): still one output per row.
                let missing = reward_arrow::Mismatch::new("internal error: row not read".into());
                rows = vec![Err(missing); len];
            }
            return Ok((first..).zip(rows).collect());
        }
    }
}

/// How [`batches`] reads the strings of a list of texts.
#[derive(Clone, Copy, PartialEq)]
enum TextColumns {
    AsStored,
    /// As dictionaries (each distinct text once, and its number per item), the way Parquet
    /// writers store a column of few distinct texts: a trace's labels are then never made
    /// into one string each, and become symbols for the runtime at the cost of a lookup.
    LabelsAsDictionaries,
}

/// The record batches of a Parquet file, with only the top-level columns the spec's input
/// names.
fn batches(
    path: &str,
    spec: &Spec,
    texts: TextColumns,
) -> Result<ParquetRecordBatchReader, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut metadata =
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| e.to_string())?;
    let fields: &[reward_runtime::ty::Field] = match spec.input_schema() {
        Ty::Record(fields) => fields,
        _ => &[],
    };
    if texts == TextColumns::LabelsAsDictionaries {
        let schema = labels_as_dictionaries(metadata.schema(), fields);
        if schema != **metadata.schema() {
            // The footer read above, with the schema that reads labels as dictionaries.
            let options = ArrowReaderOptions::new().with_schema(Arc::new(schema));
            metadata = ArrowReaderMetadata::try_new(metadata.metadata().clone(), options)
                .map_err(|e| e.to_string())?;
        }
    }
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
    let wanted: Vec<&str> = fields.iter().map(|f| &*f.name).collect();
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    builder
        .with_projection(mask)
        .with_batch_size(1024)
        .build()
        .map_err(|e| e.to_string())
}

/// `schema` with the strings of each column the spec reads as a list of texts read as a
/// dictionary of them ([`TextColumns::LabelsAsDictionaries`]).
fn labels_as_dictionaries(schema: &Schema, fields: &[reward_runtime::ty::Field]) -> Schema {
    let labels = |name: &str| {
        fields.iter().any(|f| {
            f.name.as_ref() == name
                && matches!(f.ty.strip_optional(), Ty::List(item) if matches!(item.as_ref(), Ty::Text))
        })
    };
    let dictionary = |item: &Field| match item.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 => Some(Arc::new(
            item.as_ref().clone().with_data_type(DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(item.data_type().clone()),
            )),
        )),
        _ => None,
    };
    let columns: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let list = match f.data_type() {
                DataType::List(item) if labels(f.name()) => dictionary(item).map(DataType::List),
                DataType::LargeList(item) if labels(f.name()) => {
                    dictionary(item).map(DataType::LargeList)
                }
                _ => None,
            };
            match list {
                Some(ty) => f.as_ref().clone().with_data_type(ty),
                None => f.as_ref().clone(),
            }
        })
        .collect();
    Schema::new_with_metadata(columns, schema.metadata().clone())
}

impl Read for ParquetLines {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ParquetLines {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.buf.len() {
            let Some(batch) = self.batches.next() else {
                return Ok(&[]);
            };
            let batch = batch.map_err(io::Error::other)?;
            self.buf.clear();
            self.pos = 0;
            // Nulls written out, as `null` (not left out): a null in a required column is
            // then reported as the same JSON would be.
            let mut writer = arrow_json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow_json::writer::LineDelimited>(&mut self.buf);
            writer.write(&batch).map_err(io::Error::other)?;
            writer.finish().map_err(io::Error::other)?;
            if batch.num_rows() > 0 && self.buf.is_empty() {
                // A batch of rows with no column the spec reads: one empty object per row.
                self.buf = b"{}\n".repeat(batch.num_rows());
            }
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

/// The column a breakdown term becomes.
enum Column {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Text(StringBuilder),
}

impl Column {
    fn for_type(ty: &Ty) -> (Column, DataType) {
        match ty.strip_optional() {
            Ty::Bool => (Column::Bool(BooleanBuilder::new()), DataType::Boolean),
            Ty::Int => (Column::Int(Int64Builder::new()), DataType::Int64),
            Ty::Float => (Column::Float(Float64Builder::new()), DataType::Float64),
            _ => (Column::Text(StringBuilder::new()), DataType::Utf8),
        }
    }

    fn push(&mut self, v: Option<&serde_json::Value>) {
        let v = v.filter(|v| !v.is_null());
        match self {
            Column::Bool(b) => b.append_option(v.and_then(serde_json::Value::as_bool)),
            Column::Int(b) => b.append_option(v.and_then(serde_json::Value::as_i64)),
            Column::Float(b) => b.append_option(v.map(number)),
            Column::Text(b) => b.append_option(v.map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Int(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
            Column::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// A number of an output record: JSON numbers and bools, and the strings the output uses for
/// non-finite floats.
fn number(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Bool(b) => f64::from(u8::from(*b)),
        serde_json::Value::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => f64::NAN,
        },
        other => other.as_f64().unwrap_or(f64::NAN),
    }
}

/// Receives the driver's output records and writes them as Parquet rows.
pub struct ParquetOut {
    writer: Option<ArrowWriter<File>>,
    schema: Arc<Schema>,
    terms: Vec<String>,
    score: Float64Builder,
    columns: Vec<Column>,
    error: StringBuilder,
    error_field: StringBuilder,
    rows: usize,
    pending: Vec<u8>,
}

/// Rows per written batch.
const BATCH_ROWS: usize = 8192;

impl ParquetOut {
    pub fn create(path: &Path, spec: &Spec) -> Result<ParquetOut, String> {
        let types: Vec<(String, Ty)> = spec.terms().into_iter().map(|t| (t.name, t.ty)).collect();
        let mut fields = vec![Field::new("score", DataType::Float64, true)];
        let mut columns = Vec::new();
        let mut terms = Vec::new();
        for name in spec.breakdown() {
            let ty = types
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Ty::Float, |(_, t)| t.clone());
            let (column, data_type) = Column::for_type(&ty);
            fields.push(Field::new(name, data_type, true));
            columns.push(column);
            terms.push(name.to_string());
        }
        fields.push(Field::new("error", DataType::Utf8, true));
        fields.push(Field::new("error_field", DataType::Utf8, true));
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|e| e.to_string())?;
        let writer = ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| e.to_string())?;
        Ok(ParquetOut {
            writer: Some(writer),
            schema,
            terms,
            score: Float64Builder::new(),
            columns,
            error: StringBuilder::new(),
            error_field: StringBuilder::new(),
            rows: 0,
            pending: Vec::new(),
        })
    }

    fn record(&mut self, line: &[u8]) -> io::Result<()> {
        let record: serde_json::Value = serde_json::from_slice(line).map_err(io::Error::other)?;
        if let Some(err) = record.get("error") {
            self.score.append_null();
            for c in &mut self.columns {
                c.push(None);
            }
            self.error
                .append_option(err.get("message").and_then(|m| m.as_str()));
            self.error_field
                .append_option(err.get("field").and_then(|m| m.as_str()));
        } else {
            let score = record.get("score").filter(|v| !v.is_null());
            self.score.append_option(score.map(number));
            for (c, name) in self.columns.iter_mut().zip(&self.terms) {
                c.push(record.get("terms").and_then(|t| t.get(name)));
            }
            self.error.append_null();
            self.error_field.append_null();
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(self.score.finish())];
        arrays.extend(self.columns.iter_mut().map(Column::finish));
        arrays.push(Arc::new(self.error.finish()));
        arrays.push(Arc::new(self.error_field.finish()));
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(io::Error::other)?;
        if let Some(w) = &mut self.writer {
            w.write(&batch).map_err(io::Error::other)?;
        }
        self.rows = 0;
        Ok(())
    }

    /// Writes what is left and the file's footer.
    pub fn finish(mut self) -> Result<(), String> {
        self.write_batch().map_err(|e| e.to_string())?;
        match self.writer.take() {
            Some(w) => w.close().map(|_| ()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

impl Write for ParquetOut {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = memchr_newline(&self.pending[start..]) {
            let line = self.pending[start..start + end].to_vec();
            self.record(&line)?;
            start += end + 1;
        }
        self.pending.drain(..start);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, StringArray};

    #[test]
    fn rows_come_in_chunks_of_the_size_asked_numbered_across_batches() {
        let path = std::env::temp_dir().join(format!("reward-rows-{}.parquet", std::process::id()));
        let n = 2500; // three record batches of the reader (1024 rows each)
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let xs = Float64Array::from_iter_values((0..n).map(f64::from));
        let names = StringArray::from_iter((0..n).map(|i| (i % 7 != 0).then(|| format!("r{i}"))));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(xs), Arc::new(names)])
            .expect("a batch");
        let mut w = ArrowWriter::try_new(File::create(&path).expect("a file"), schema, None)
            .expect("a writer");
        w.write(&batch).expect("written");
        w.close().expect("closed");
        let spec = reward::compile(
            reward::Source::text("input {\n    x: float\n    name: text?\n}\nscore = x\n"),
            &reward::Options::default(),
        )
        .expect("compiles");
        let path = path.to_string_lossy().into_owned();
        for chunk_bytes in [1, 700, 1 << 30] {
            let mut rows = super::rows(&path, &spec, chunk_bytes).expect("opens");
            let mut seen = Vec::new();
            loop {
                let chunk = rows.next_chunk().expect("reads");
                if chunk.is_empty() {
                    break;
                }
                if chunk_bytes == 1 {
                    assert_eq!(chunk.len(), 1);
                }
                seen.extend(chunk);
            }
            assert_eq!(seen.len(), n as usize);
            for (i, (number, row)) in seen.into_iter().enumerate() {
                assert_eq!(number, i as u64 + 1);
                let Ok(Value::Record(fields)) = row else {
                    panic!("row {i} not read: {row:?}");
                };
                assert!(matches!(fields[0], Value::Float(x) if x == i as f64));
                assert_eq!(fields[1].is_none(), i % 7 == 0, "row {i}");
            }
        }
        let _ = std::fs::remove_file(&path);
    }
}
