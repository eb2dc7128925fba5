//! Parquet in and out of `reward score`, on the same driver as JSON Lines: a Parquet input is
//! read batch by batch (only the columns the spec reads) and handed to the driver as JSON
//! lines, so rows, errors and their accounting are exactly those of the same data as JSON
//! Lines; a Parquet output turns each output record into a row of typed columns (`score`, one
//! per term of the breakdown, `error` and `error_field`).

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use reward::{Spec, Ty};

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

/// Opens a Parquet file, reading only the top-level columns the spec's input names.
pub fn open(path: &str, spec: &Spec) -> Result<ParquetLines, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
    let wanted: Vec<&str> = match spec.input_schema() {
        Ty::Record(fields) => fields.iter().map(|f| &*f.name).collect(),
        _ => Vec::new(),
    };
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let batches = builder
        .with_projection(mask)
        .with_batch_size(1024)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(ParquetLines {
        batches,
        buf: Vec::new(),
        pos: 0,
    })
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
