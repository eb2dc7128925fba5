//! The batch driver: streams JSON Lines in, scores rows in parallel, writes one output line per
//! input line, in input order.
//!
//! Design, and why:
//! - **Bounded memory.** Input is read in chunks of at most [`DriverOptions::chunk_rows`] lines
//!   and about [`DriverOptions::chunk_bytes`] bytes, each chunk's lines in one buffer; at most
//!   two chunks more than there are workers are read and not yet written, so memory does not
//!   grow with the input, and their buffers are reused.
//! - **Each worker reads what it scores.** A worker takes the reader in turn, reads the next
//!   chunk, lets the reader go and scores that chunk while the other workers read and score
//!   theirs; the calling thread only writes the chunks in order. A chunk is then scored on the
//!   core whose cache it was just read into (scoring a chunk read on another core cost a tenth
//!   more time), and no reading thread competes with the workers for the cores. The first
//!   chunks are small, so that every worker starts early.
//! - **Deterministic.** Rows are scored with an indexed parallel iterator and collected in order,
//!   so output is byte-identical for any thread count and chunk size.
//! - **One line out per line in.** Lines that cannot even be handed to the scorer (invalid UTF-8,
//!   blank, over the size limit) and rows whose scorer panicked become error records
//!   ([`error_json`]) instead of being dropped, so output line N always belongs to input line N.

use std::io::{self, BufRead, Write};
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

/// How [`run`] reads, schedules and reports.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// Worker threads; `None` means one per core.
    pub threads: Option<usize>,
    /// Show a spinner with the row count and rate on stderr (never stdout).
    pub progress: bool,
    /// Lines per chunk: the unit of parallel work and of buffering. Values below 1 act as 1.
    pub chunk_rows: usize,
    /// Bytes per chunk: a chunk ends early once its lines reach this size, so that long rows
    /// (trajectories of hundreds of KB) do not multiply the memory by `chunk_rows`.
    pub chunk_bytes: usize,
    /// Longest accepted line in bytes (without its line terminator). Longer lines become error
    /// rows and are skipped without being buffered whole.
    pub max_line_bytes: usize,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            threads: None,
            progress: false,
            chunk_rows: 4096,
            // Small, so that the chunks' buffers stay in memory already mapped (each new page
            // is a fault, a few microseconds here) and the last chunk's scoring alone is short:
            // a 265 MB file of long completions scores 1.2x faster on one thread than with
            // 4 MiB chunks, which had halved the time of the 32 MiB ones on small files.
            chunk_bytes: 1 << 20,
            max_line_bytes: 256 * 1024 * 1024,
        }
    }
}

impl DriverOptions {
    /// The bytes a run reads per chunk, at least one.
    pub fn bytes_per_chunk(&self) -> usize {
        self.chunk_bytes.max(1)
    }

    /// How many chunks may be read and not yet written: one being scored by each worker, and
    /// two more, so that a worker that finishes while the oldest chunk is still being scored
    /// goes on with the next.
    fn chunks_in_flight(&self) -> usize {
        worker_threads(self) + 2
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input lines, hence also output lines.
    pub rows: u64,
    /// Output lines that are error records.
    pub errors: u64,
}

/// The output for one row, produced by the scorer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOutput {
    /// One JSON value, without a trailing newline. It must not contain a raw newline (JSON
    /// serializers never emit one), or the one-line-per-row contract breaks.
    pub json: String,
    /// Whether this row is an error record; counted in [`Summary::errors`].
    pub is_error: bool,
}

impl RowOutput {
    /// A successfully scored row.
    pub fn ok(json: String) -> Self {
        RowOutput {
            json,
            is_error: false,
        }
    }

    /// An error record, built with [`error_json`].
    pub fn error(line: u64, message: &str, field: Option<&str>) -> Self {
        RowOutput {
            json: error_json(line, message, field),
            is_error: true,
        }
    }
}

/// The error record every tool writes for a row that could not be scored:
/// `{"error":{"line":N,"message":"...","field":"path"}}`, with `field` omitted when `None`.
/// Built with serde_json so that quotes, control characters and newlines in messages are escaped.
pub fn error_json(line: u64, message: &str, field: Option<&str>) -> String {
    let mut inner = serde_json::Map::new();
    inner.insert("line".into(), line.into());
    inner.insert("message".into(), message.into());
    if let Some(field) = field {
        inner.insert("field".into(), field.into());
    }
    let mut outer = serde_json::Map::new();
    outer.insert("error".into(), serde_json::Value::Object(inner));
    serde_json::Value::Object(outer).to_string()
}

/// Stack size of each scoring thread.
const WORKER_STACK_BYTES: usize = 64 << 20;

/// Reads JSON Lines from `input`, calls `score(line_number, line_text)` (1-based line numbers,
/// text without its line terminator) for each line, in parallel within a chunk, and writes
/// exactly one output line per input line, in input order. `score` is not called for lines that
/// are invalid UTF-8, blank or over [`DriverOptions::max_line_bytes`]; those get an error record.
///
/// A panic in `score` is caught and turned into an error record for that row ("internal error
/// while scoring this row: ..."); the default panic hook still prints it to stderr. (Panics
/// cannot be caught when built with `panic = "abort"`.)
///
/// On a read error, the rows read before it are still scored and written, then the error is
/// returned. Write errors (e.g. a closed pipe) are returned as soon as they happen.
pub fn run<R: BufRead + Send, W: Write, F>(
    mut input: R,
    output: W,
    opts: &DriverOptions,
    score: F,
) -> io::Result<Summary>
where
    F: Fn(u64, &str) -> RowOutput + Sync,
{
    let mut reader = LineReader::new(&mut input, opts.max_line_bytes, opts.chunks_in_flight());
    let (rows, bytes) = (opts.chunk_rows.max(1), opts.bytes_per_chunk());
    run_items(
        || reader.read_chunk(rows, bytes),
        output,
        opts,
        |number, content| match content.text() {
            Ok(text) => score(number, text),
            Err(message) => RowOutput::error(number, &message, None),
        },
    )
}

/// [`run`] over rows that are not lines of text (record batches of a Parquet file, say):
/// `next_chunk` gives the next rows in input order, each with its 1-based number, and an empty
/// chunk at the end; `score(number, row)` makes each row's output. The pipeline, the order,
/// the caught panics and the memory bound (the caller's chunks) are those of [`run`]:
/// `next_chunk` is called by the workers in turn, never two at once.
pub fn run_items<T, W, N, F>(
    next_chunk: N,
    mut output: W,
    opts: &DriverOptions,
    score: F,
) -> io::Result<Summary>
where
    T: Send,
    W: Write,
    N: FnMut() -> io::Result<Vec<(u64, T)>> + Send,
    F: Fn(u64, T) -> RowOutput + Sync,
{
    let pool = worker_pool(opts)?;
    let progress = Progress::new(opts.progress);
    let score = &score;
    let mut summary = Summary::default();
    let mut out_buf = Vec::new();

    // A chunk's number in the input, and its rows' outputs (or the panic that stopped them).
    type Scored = (u64, thread::Result<Vec<RowOutput>>);
    let source = Mutex::new(Source {
        next_chunk,
        number: 0,
        ended: false,
        error: None,
    });
    // Room for one more chunk to be read: taken by a worker before it reads, given back by
    // the writer once it has written a chunk.
    let (room, rooms) = mpsc::sync_channel::<()>(opts.chunks_in_flight());
    for _ in 0..opts.chunks_in_flight() {
        let _ = room.send(());
    }
    let rooms = Mutex::new(rooms);
    pool.in_place_scope(|scope| -> io::Result<()> {
        // Owned here, so that when the writer stops early (a write error) the workers waiting
        // for room see it gone and stop too.
        let room = room;
        let (done, scored) = mpsc::channel::<Scored>();
        for _ in 0..worker_threads(opts) {
            let (source, rooms, done) = (&source, &rooms, done.clone());
            scope.spawn(move |_| {
                while let Some((number, chunk)) = next_to_score(source, rooms) {
                    let rows = panic::catch_unwind(AssertUnwindSafe(|| score_chunk(chunk, score)));
                    // The receiver is gone only when the run already failed.
                    if done.send((number, rows)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        // Chunks scored ahead of the next one to write.
        let mut ahead = std::collections::BTreeMap::new();
        let mut next = 0;
        for (number, rows) in scored {
            ahead.insert(number, rows);
            while let Some(rows) = ahead.remove(&next) {
                let Ok(rows) = rows else {
                    return Err(io::Error::other(
                        "internal error: the scoring thread panicked",
                    ));
                };
                out_buf.clear();
                for row in &rows {
                    out_buf.extend_from_slice(row.json.as_bytes());
                    out_buf.push(b'\n');
                    summary.errors += u64::from(row.is_error);
                }
                summary.rows += rows.len() as u64;
                output.write_all(&out_buf)?;
                progress.advance(rows.len() as u64);
                next += 1;
                let _ = room.send(());
            }
        }
        Ok(())
    })?;
    // Every chunk read before a read error is written above; then the error is returned.
    let source = source.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(error) = source.error {
        return Err(error);
    }
    output.flush()?;
    Ok(summary)
}

/// The reader of a run, shared by its workers.
struct Source<N> {
    next_chunk: N,
    /// The number of the next chunk read.
    number: u64,
    ended: bool,
    error: Option<io::Error>,
}

/// The next chunk for a worker to score, with its number, once there is room for it; `None`
/// at the end of the input, after a read error, or when the run failed (the writer gave up).
fn next_to_score<T, N>(
    source: &Mutex<Source<N>>,
    rooms: &Mutex<mpsc::Receiver<()>>,
) -> Option<(u64, Vec<(u64, T)>)>
where
    N: FnMut() -> io::Result<Vec<(u64, T)>>,
{
    // A worker that panicked while reading poisoned the lock; the others stop.
    let mut source = source.lock().ok()?;
    if source.ended {
        return None;
    }
    rooms.lock().ok()?.recv().ok()?;
    match (source.next_chunk)() {
        Ok(chunk) if !chunk.is_empty() => {
            let number = source.number;
            source.number += 1;
            Some((number, chunk))
        }
        Ok(_) => {
            source.ended = true;
            None
        }
        Err(error) => {
            source.ended = true;
            source.error = Some(error);
            None
        }
    }
}

/// Like [`run`], for specs whose rows must be seen together (`group by`). Lines are read and
/// passed through `first(line_number, text)` chunk by chunk, in parallel, as they arrive; it
/// returns what the row must keep for the group stage (or the row's error record), and the
/// line itself is dropped, so memory holds what `first` keeps, not the input. Then `finish`
/// receives every kept row in input order and returns one output per row, in that order.
pub fn run_all<R, W, T, F, G>(
    mut input: R,
    mut output: W,
    opts: &DriverOptions,
    first: F,
    finish: G,
) -> io::Result<Summary>
where
    R: BufRead,
    W: Write,
    T: Send,
    F: Fn(u64, &str) -> Result<T, RowOutput> + Sync,
    G: FnOnce(Vec<(u64, T)>) -> Vec<RowOutput> + Send,
{
    let pool = worker_pool(opts)?;
    let mut reader = LineReader::new(&mut input, opts.max_line_bytes, opts.chunks_in_flight());
    // Per line: the index of its kept row, or its error record.
    let mut slots: Vec<Result<usize, RowOutput>> = Vec::new();
    let mut kept: Vec<(u64, T)> = Vec::new();
    let mut read_error = None;
    loop {
        let chunk = match reader.read_chunk(opts.chunk_rows.max(1), opts.bytes_per_chunk()) {
            Ok(chunk) if chunk.is_empty() => break,
            Ok(chunk) => chunk,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        let firsts: Vec<Result<(u64, T), RowOutput>> = pool.install(|| {
            chunk
                .into_par_iter()
                .map(|line| first_stage(line, &first))
                .collect()
        });
        for f in firsts {
            slots.push(match f {
                Ok(row) => {
                    kept.push(row);
                    Ok(kept.len() - 1)
                }
                Err(out) => Err(out),
            });
        }
    }
    let numbers: Vec<u64> = kept.iter().map(|(n, _)| *n).collect();
    let finished = pool.install(|| panic::catch_unwind(AssertUnwindSafe(|| finish(kept))));
    let mut scored: Vec<Option<RowOutput>> = match finished {
        Ok(rows) if rows.len() == numbers.len() => rows.into_iter().map(Some).collect(),
        Ok(_) => {
            return Err(io::Error::other(
                "internal error: the scorer did not return one output per row",
            ))
        }
        Err(payload) => numbers
            .iter()
            .map(|n| Some(panicked(*n, payload.as_ref())))
            .collect(),
    };
    let mut summary = Summary::default();
    let mut out_buf = Vec::new();
    for slot in slots {
        let row = match slot {
            Ok(i) => scored[i]
                .take()
                .unwrap_or_else(|| RowOutput::error(0, "internal error", None)),
            Err(row) => row,
        };
        out_buf.extend_from_slice(row.json.as_bytes());
        out_buf.push(b'\n');
        summary.errors += u64::from(row.is_error);
        summary.rows += 1;
        if out_buf.len() >= 1 << 20 {
            output.write_all(&out_buf)?;
            out_buf.clear();
        }
    }
    output.write_all(&out_buf)?;
    output.flush()?;
    match read_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// The first stage of one line of [`run_all`]: what it keeps, or its error record.
fn first_stage<T, F>((number, content): (u64, Content), first: &F) -> Result<(u64, T), RowOutput>
where
    F: Fn(u64, &str) -> Result<T, RowOutput> + Sync,
{
    match content.text() {
        Ok(text) => match panic::catch_unwind(AssertUnwindSafe(|| first(number, text))) {
            Ok(Ok(kept)) => Ok((number, kept)),
            Ok(Err(out)) => Err(out),
            Err(payload) => Err(panicked(number, payload.as_ref())),
        },
        Err(message) => Err(RowOutput::error(number, &message, None)),
    }
}

/// The scoring threads of a run. Always a pool of our own: its workers get a large stack, so
/// that no spec the compiler accepts can overflow it while scoring.
fn worker_pool(opts: &DriverOptions) -> io::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(worker_threads(opts))
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("reward-worker-{i}"))
        .build()
        .map_err(|e| io::Error::other(format!("cannot start worker threads: {e}")))
}

/// How many scoring threads a run has: as asked, else one per core.
fn worker_threads(opts: &DriverOptions) -> usize {
    opts.threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Scores one chunk's rows, in order, on the worker that read it.
fn score_chunk<T, F>(chunk: Vec<(u64, T)>, score: &F) -> Vec<RowOutput>
where
    F: Fn(u64, T) -> RowOutput + Sync,
{
    chunk
        .into_iter()
        .map(|(number, row)| score_row(number, row, score))
        .collect()
}

fn score_row<T, F>(number: u64, row: T, score: &F) -> RowOutput
where
    F: Fn(u64, T) -> RowOutput + Sync,
{
    match panic::catch_unwind(AssertUnwindSafe(|| score(number, row))) {
        Ok(out) => out,
        Err(payload) => panicked(number, payload.as_ref()),
    }
}

/// The error record of row `number`, whose scorer panicked with `payload`.
fn panicked(number: u64, payload: &(dyn std::any::Any + Send)) -> RowOutput {
    RowOutput::error(
        number,
        &format!(
            "internal error while scoring this row: {}",
            panic_message(payload)
        ),
        None,
    )
}

/// The text of a panic payload: `panic!` produces a `&str` or a `String`; anything else is rare.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// One input line: where it is in its chunk, or why it is not handed to the scorer.
enum Content {
    Line {
        chunk: Arc<Vec<u8>>,
        bytes: Range<usize>,
    },
    /// Why the line is not handed to the scorer.
    Rejected(String),
}

impl Content {
    /// The line's text, or why it is not a row (a blank line, or one that is not UTF-8). Each
    /// line is checked by the worker that scores it, not by the reader, which every worker
    /// waits for.
    fn text(&self) -> Result<&str, String> {
        let bytes = match self {
            Content::Line { chunk, bytes } => &chunk[bytes.clone()],
            Content::Rejected(message) => return Err(message.clone()),
        };
        // The SIMD check first (several times faster on long lines); std's, for the offset.
        let text = simdutf8::basic::from_utf8(bytes)
            .or_else(|_| std::str::from_utf8(bytes))
            .map_err(|e| {
                format!(
                    "line is not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                )
            })?;
        if text
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Err("empty line: expected a JSON object".to_string());
        }
        Ok(text)
    }
}

/// The first chunk's bytes: small, so that scoring starts soon after the run does; each next
/// chunk may be twice the last, up to the run's chunk size.
const FIRST_CHUNK_BYTES: usize = 256 << 10;

/// The least a read asks for. The CLI's `BufReader` holds no more than this, so that reads go
/// from the file straight into a chunk's buffer.
pub const READ_BLOCK_BYTES: usize = 64 << 10;

/// Splits the input into lines with a size limit, without ever buffering more than the limit.
///
/// The input is read straight into one buffer per chunk, and a chunk's lines are ranges of it;
/// only what was read past its last line is copied, to the start of the next chunk's buffer.
/// A buffer is reused once the chunk that held it is scored, so that a steady run allocates
/// nothing per line and faults in no new pages. (A fresh `String` per line cost a third of a
/// one-thread run in malloc, free and page faults; a copy of every line out of the reader's
/// buffer, a pass over the input on the thread that every worker waits for.) A buffer's
/// length is all of it, written once when it is made, so that reads need not clear it.
struct LineReader<'r, R> {
    input: &'r mut R,
    max_line_bytes: usize,
    next_line: u64,
    /// The buffers of the chunks read last, the latest last; one is reused when nothing else
    /// holds it.
    buffers: Vec<Arc<Vec<u8>>>,
    /// How many chunks the run keeps alive at most (read and not yet written), hence
    /// buffers.
    kept_buffers: usize,
    /// What the latest buffer holds past its chunk's last line: the next lines, the last one
    /// perhaps unfinished.
    carried: Range<usize>,
    /// The next chunk's byte budget, before the caller's limit.
    ramp: usize,
    input_state: InputState,
}

/// Whether the input may have more to read.
enum InputState {
    Open,
    Ended,
    /// A read failed: the lines read whole before it are still rows, then the error is
    /// returned.
    Failed(io::Error),
}

impl<'r, R: BufRead> LineReader<'r, R> {
    fn new(input: &'r mut R, max_line_bytes: usize, kept_buffers: usize) -> Self {
        LineReader {
            input,
            max_line_bytes,
            next_line: 1,
            buffers: Vec::new(),
            kept_buffers,
            carried: 0..0,
            ramp: FIRST_CHUNK_BYTES,
            input_state: InputState::Open,
        }
    }

    /// Up to `rows` lines of together about `max_bytes` at most; empty at end of input.
    fn read_chunk(&mut self, rows: usize, max_bytes: usize) -> io::Result<Vec<(u64, Content)>> {
        let max_bytes = max_bytes.min(self.ramp);
        self.ramp = self.ramp.saturating_mul(2);
        let (mut buf, mut filled) = self.start_buffer(max_bytes);
        let mut lines = Vec::with_capacity(rows.min(4096));
        // Where the next line starts, and how far from there no newline was found.
        let (mut start, mut searched) = (0, 0);
        while lines.len() < rows && start < max_bytes {
            if let Some(at) = memchr::memchr(b'\n', &buf[searched..filled]) {
                let end = searched + at;
                lines.push(self.line(&buf, start..end));
                (start, searched) = (end + 1, end + 1);
                continue;
            }
            match self.input_state {
                InputState::Open => {}
                InputState::Ended => {
                    // A last line without a newline.
                    if start < filled {
                        lines.push(self.line(&buf, start..filled));
                        start = filled;
                    }
                    break;
                }
                InputState::Failed(_) => break,
            }
            if start > 0 && filled >= max_bytes {
                // The chunk is full: its unfinished last line starts the next one.
                break;
            }
            if filled - start > self.max_line_bytes.saturating_add(1) {
                lines.push(self.skip_line(&mut buf, start, &mut filled));
                searched = start;
            } else {
                searched = filled;
                let wanted = max_bytes.saturating_sub(filled).max(READ_BLOCK_BYTES);
                self.read(&mut buf, &mut filled, wanted);
            }
        }
        if lines.is_empty() {
            if let Some(error) = self.take_error() {
                // Nothing read here is carried: the input ends with its error.
                self.carried = 0..0;
                return Err(error);
            }
        }
        self.carried = start..filled;
        let chunk = Arc::new(buf);
        self.buffers.push(Arc::clone(&chunk));
        Ok(lines
            .into_iter()
            .map(|(number, line)| {
                let content = match line {
                    Ok(bytes) => Content::Line {
                        chunk: Arc::clone(&chunk),
                        bytes,
                    },
                    Err(message) => Content::Rejected(message),
                };
                (number, content)
            })
            .collect())
    }

    /// The next chunk's buffer and how much of it holds input: what the last chunk read past
    /// its lines, copied to the start of a buffer that nothing holds any more (its rows are
    /// scored), else of a new one.
    fn start_buffer(&mut self, max_bytes: usize) -> (Vec<u8>, usize) {
        let size = max_bytes + READ_BLOCK_BYTES;
        // Not the latest buffer, which holds what is carried.
        let latest = self.buffers.len().saturating_sub(1);
        let free = self.buffers[..latest]
            .iter_mut()
            .position(|b| Arc::get_mut(b).is_some());
        let reused = free.and_then(|i| Arc::try_unwrap(self.buffers.remove(i)).ok());
        if self.buffers.len() > self.kept_buffers {
            self.buffers.remove(0);
        }
        let mut buf = match reused {
            // A buffer an over-long line grew is not kept at that size.
            Some(buf) if buf.len() <= 2 * size => buf,
            _ => vec![0; size],
        };
        let carried = match self.buffers.last() {
            Some(last) => &last[self.carried.clone()],
            None => &[],
        };
        // (`read` makes room for what it reads.)
        if buf.len() < carried.len() {
            buf.resize(carried.len(), 0);
        }
        buf[..carried.len()].copy_from_slice(carried);
        (buf, carried.len())
    }

    /// Reads once into `buf[*filled..]`, up to `wanted` bytes (the buffer grows when it has
    /// less room), and records the end of the input or an error in [`InputState`]. A request
    /// at least as large as a `BufReader`'s buffer bypasses it.
    fn read(&mut self, buf: &mut Vec<u8>, filled: &mut usize, wanted: usize) {
        let end = *filled + wanted;
        if buf.len() < end {
            buf.resize(end, 0);
        }
        let read = loop {
            match self.input.read(&mut buf[*filled..end]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                read => break read,
            }
        };
        match read {
            Ok(0) => self.input_state = InputState::Ended,
            Ok(read) => *filled += read,
            Err(error) => self.input_state = InputState::Failed(error),
        }
    }

    /// Line number and place of the line in `buf[bytes]` (without its `\n`), or why it is
    /// rejected.
    fn line(&mut self, buf: &[u8], bytes: Range<usize>) -> (u64, Result<Range<usize>, String>) {
        let number = self.next_line;
        self.next_line += 1;
        let (mut start, mut end) = (bytes.start, bytes.end);
        if buf[start..end].ends_with(b"\r") {
            end -= 1;
        }
        if end - start > self.max_line_bytes {
            return (number, Err(self.over_limit(end - start)));
        }
        // A UTF-8 byte order mark, which some Windows tools write, is not part of the data.
        if number == 1 && buf[start..end].starts_with(b"\xEF\xBB\xBF") {
            start += 3;
        }
        (number, Ok(start..end))
    }

    /// Reads and drops the rest of the over-long line whose first bytes are
    /// `buf[start..*filled]`, piece by piece (it is never held whole), and leaves in
    /// `buf[start..*filled]` what follows it.
    fn skip_line(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
        filled: &mut usize,
    ) -> (u64, Result<Range<usize>, String>) {
        let mut len = *filled - start;
        let mut last_byte = buf[..*filled].last().copied();
        *filled = start;
        while let InputState::Open = self.input_state {
            self.read(buf, filled, READ_BLOCK_BYTES);
            let piece = &buf[start..*filled];
            if let Some(at) = memchr::memchr(b'\n', piece) {
                len += at;
                if at > 0 {
                    last_byte = Some(piece[at - 1]);
                }
                buf.copy_within(start + at + 1..*filled, start);
                *filled -= at + 1;
                break;
            }
            len += piece.len();
            last_byte = piece.last().copied().or(last_byte);
            *filled = start;
        }
        let number = self.next_line;
        self.next_line += 1;
        let len = len - usize::from(last_byte == Some(b'\r'));
        (number, Err(self.over_limit(len)))
    }

    /// The error of a failed read, once; the input then counts as ended.
    fn take_error(&mut self) -> Option<io::Error> {
        match std::mem::replace(&mut self.input_state, InputState::Ended) {
            InputState::Failed(error) => Some(error),
            state => {
                self.input_state = state;
                None
            }
        }
    }

    fn over_limit(&self, len: usize) -> String {
        format!(
            "line is {len} bytes, over the limit of {}",
            self.max_line_bytes
        )
    }
}

/// The optional progress spinner. Cleared when dropped, so it also disappears on early returns.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(enabled: bool) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        // The template is a constant; should it ever fail to parse, keep the default style
        // rather than fail the run.
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {human_pos} rows  {per_sec}  {elapsed}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn advance(&self, rows: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(rows);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Echoes the line number and text back as JSON; rows whose text is "bad" are errors.
    fn echo(line: u64, text: &str) -> RowOutput {
        if text == "bad" {
            RowOutput::error(line, "bad row", Some("x"))
        } else {
            RowOutput::ok(serde_json::json!({ "line": line, "text": text }).to_string())
        }
    }

    fn run_bytes(input: &[u8], opts: &DriverOptions) -> (String, Summary) {
        let mut out = Vec::new();
        let summary = run(Cursor::new(input), &mut out, opts, echo).expect("run failed");
        (String::from_utf8(out).expect("output is UTF-8"), summary)
    }

    fn lines(out: &str) -> Vec<serde_json::Value> {
        out.lines()
            .map(|l| serde_json::from_str(l).expect("output line is JSON"))
            .collect()
    }

    #[test]
    fn order_is_preserved_for_any_thread_count() {
        let input: String = (1..=10).map(|i| format!("row{i}\n")).collect();
        let mut outputs = Vec::new();
        for threads in [1, 4] {
            let opts = DriverOptions {
                threads: Some(threads),
                chunk_rows: 3,
                ..DriverOptions::default()
            };
            let mut out = Vec::new();
            // A scorer whose speed varies per row, so unordered collection would show.
            let summary = run(Cursor::new(input.as_bytes()), &mut out, &opts, |n, t| {
                std::thread::sleep(Duration::from_millis((10 - n) * 2));
                echo(n, t)
            })
            .unwrap();
            assert_eq!(
                summary,
                Summary {
                    rows: 10,
                    errors: 0
                }
            );
            outputs.push(String::from_utf8(out).unwrap());
        }
        assert_eq!(outputs[0], outputs[1]);
        let parsed = lines(&outputs[0]);
        assert_eq!(parsed.len(), 10);
        for (i, row) in parsed.iter().enumerate() {
            assert_eq!(row["line"], (i + 1) as u64);
            assert_eq!(row["text"], format!("row{}", i + 1));
        }
        // The global pool gives the same bytes too.
        let (global, _) = run_bytes(
            input.as_bytes(),
            &DriverOptions {
                chunk_rows: 3,
                ..DriverOptions::default()
            },
        );
        assert_eq!(global, outputs[0]);
    }

    #[test]
    fn invalid_utf8_blank_crlf_and_missing_final_newline() {
        let input = b"a\r\n\xff\xfe\n \t \n\nbad\nlast";
        let (out, summary) = run_bytes(input, &DriverOptions::default());
        assert_eq!(
            out,
            concat!(
                r#"{"line":1,"text":"a"}"#,
                "\n",
                r#"{"error":{"line":2,"message":"line is not valid UTF-8 (invalid byte at offset 0)"}}"#,
                "\n",
                r#"{"error":{"line":3,"message":"empty line: expected a JSON object"}}"#,
                "\n",
                r#"{"error":{"line":4,"message":"empty line: expected a JSON object"}}"#,
                "\n",
                r#"{"error":{"line":5,"message":"bad row","field":"x"}}"#,
                "\n",
                r#"{"line":6,"text":"last"}"#,
                "\n",
            )
        );
        assert_eq!(summary, Summary { rows: 6, errors: 4 });
    }

    #[test]
    fn utf8_offset_points_at_the_bad_byte() {
        let (out, _) = run_bytes(
            "é!\u{1F600}"
                .as_bytes()
                .iter()
                .chain(b"\xC3(")
                .copied()
                .collect::<Vec<_>>()
                .as_slice(),
            &DriverOptions::default(),
        );
        assert!(out.contains("invalid byte at offset 7"), "{out}");
    }

    #[test]
    fn empty_input_gives_no_rows_and_final_newline_adds_none() {
        let (out, summary) = run_bytes(b"", &DriverOptions::default());
        assert_eq!((out.as_str(), summary), ("", Summary::default()));
        let (out, summary) = run_bytes(b"x\n", &DriverOptions::default());
        assert_eq!(out.lines().count(), 1);
        assert_eq!(summary.rows, 1);
    }

    #[test]
    fn panicking_scorer_becomes_an_error_row() {
        let input = b"ok\nboom\nok\n";
        let mut out = Vec::new();
        let summary = run(
            Cursor::new(&input[..]),
            &mut out,
            &DriverOptions {
                threads: Some(2),
                ..DriverOptions::default()
            },
            |n, t| {
                if t == "boom" {
                    panic!("index {} out of range", 9);
                }
                echo(n, t)
            },
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            r#"{"error":{"line":2,"message":"internal error while scoring this row: index 9 out of range"}}"#
        );
        assert_eq!(summary, Summary { rows: 3, errors: 1 });
    }

    #[test]
    fn over_long_lines_are_skipped_in_pieces() {
        let long = "y".repeat(100);
        let input = format!("short\n{long}\n{long}\r\nexact\nend");
        // A tiny read buffer proves the long line is consumed across many `fill_buf` calls.
        let reader = io::BufReader::with_capacity(7, Cursor::new(input.into_bytes()));
        let opts = DriverOptions {
            max_line_bytes: 5,
            chunk_rows: 2,
            ..DriverOptions::default()
        };
        let mut out = Vec::new();
        let summary = run(reader, &mut out, &opts, echo).unwrap();
        let out = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0], r#"{"line":1,"text":"short"}"#);
        assert_eq!(
            rows[1],
            r#"{"error":{"line":2,"message":"line is 100 bytes, over the limit of 5"}}"#
        );
        assert_eq!(
            rows[2],
            r#"{"error":{"line":3,"message":"line is 100 bytes, over the limit of 5"}}"#
        );
        assert_eq!(rows[3], r#"{"line":4,"text":"exact"}"#);
        assert_eq!(rows[4], r#"{"line":5,"text":"end"}"#);
        assert_eq!(summary, Summary { rows: 5, errors: 2 });
    }

    /// What each line of `input` must give, found line by line the simple way.
    fn expected_rows(input: &[u8], max_line_bytes: usize) -> Vec<String> {
        let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        if input.ends_with(b"\n") {
            lines.pop();
        }
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let n = i as u64 + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > max_line_bytes {
                    let message = format!(
                        "line is {} bytes, over the limit of {max_line_bytes}",
                        line.len()
                    );
                    return error_json(n, &message, None);
                }
                match std::str::from_utf8(line) {
                    Err(_) => error_json(n, "not UTF-8", None),
                    Ok(t) if t.trim().is_empty() => error_json(n, "blank", None),
                    Ok(t) => echo(n, t).json,
                }
            })
            .collect()
    }

    #[test]
    fn lines_read_into_reused_chunk_buffers_are_each_lines_own_bytes() {
        // Lines of every length around the chunk size, so that chunks end mid-way through
        // the buffers they reuse; some over the limit, some not UTF-8, some blank, a few
        // longer than a read (skipped across reads, or read whole under a larger limit).
        let mut input = Vec::new();
        let mut state = 7u64;
        for i in 0..3000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 33) as usize % 700;
            let fill = b'a' + (i % 26) as u8;
            match (i % 97, i % 701) {
                (0, _) => input.extend_from_slice(b"\xff\xfe"),
                (1, _) => input.extend_from_slice(b" \t"),
                (_, 2) => input.extend(std::iter::repeat_n(fill, 150_000 + len)),
                (_, 3) => input.extend(std::iter::repeat_n(fill, READ_BLOCK_BYTES + len)),
                _ => input.extend(std::iter::repeat_n(fill, len)),
            }
            input.extend_from_slice(if i % 5 == 0 { b"\r\n" } else { b"\n" });
        }
        for (threads, chunk_bytes, chunk_rows, limit) in [
            (1, 1000, 4096, 600),
            (2, 4096, 7, 600),
            (1, 1 << 20, 1, 600),
            (2, 1 << 20, 4096, 100_000),
        ] {
            let opts = DriverOptions {
                threads: Some(threads),
                chunk_bytes,
                chunk_rows,
                max_line_bytes: limit,
                ..DriverOptions::default()
            };
            let (out, summary) = run_bytes(&input, &opts);
            let got: Vec<&str> = out.lines().collect();
            let want = expected_rows(&input, limit);
            assert_eq!(summary.rows, 3000);
            assert_eq!(got.len(), want.len());
            for (n, (g, w)) in got.iter().zip(&want).enumerate() {
                // The error messages differ in wording; the row's kind and text must not.
                if w.starts_with("{\"error\"") && !w.contains("over the limit") {
                    assert!(g.starts_with("{\"error\""), "line {}: {g}", n + 1);
                } else {
                    assert_eq!(
                        g,
                        w,
                        "line {} (threads {threads}, chunk {chunk_bytes})",
                        n + 1
                    );
                }
            }
        }
    }

    #[test]
    fn line_at_the_limit_with_crlf_is_accepted() {
        let opts = DriverOptions {
            max_line_bytes: 3,
            ..DriverOptions::default()
        };
        let (out, summary) = run_bytes(b"abc\r\nabcd\r\n", &opts);
        assert_eq!(summary, Summary { rows: 2, errors: 1 });
        assert!(out.starts_with(r#"{"line":1,"text":"abc"}"#), "{out}");
        assert!(
            out.contains("line is 4 bytes, over the limit of 3"),
            "{out}"
        );
    }

    #[test]
    fn leading_bom_is_stripped() {
        let (out, _) = run_bytes(b"\xEF\xBB\xBF{}\n", &DriverOptions::default());
        assert_eq!(out, "{\"line\":1,\"text\":\"{}\"}\n");
    }

    #[test]
    fn error_json_escapes_and_omits_missing_field() {
        assert_eq!(
            error_json(3, "bad \"quote\"\nand\ttab \\", Some("a.b[0]")),
            r#"{"error":{"line":3,"message":"bad \"quote\"\nand\ttab \\","field":"a.b[0]"}}"#
        );
        assert_eq!(
            error_json(1, "x", None),
            r#"{"error":{"line":1,"message":"x"}}"#
        );
        let parsed: serde_json::Value =
            serde_json::from_str(&error_json(7, "\u{0}\u{1F600}", None)).unwrap();
        assert_eq!(parsed["error"]["message"], "\u{0}\u{1F600}");
    }

    #[test]
    fn write_errors_stop_every_worker_and_are_returned() {
        // Many small chunks, few in flight: when the output fails, workers waiting for room
        // to read must stop (not wait for a writer that is gone), whatever the thread count.
        struct FailAfter(usize);
        impl Write for FailAfter {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
                }
                self.0 -= 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let input: String = (0..5000).map(|i| format!("row {i}\n")).collect();
        for (threads, writes) in [(1, 0), (2, 3), (4, 1)] {
            let opts = DriverOptions {
                threads: Some(threads),
                chunk_rows: 10,
                ..DriverOptions::default()
            };
            let err = run(
                Cursor::new(input.as_bytes()),
                FailAfter(writes),
                &opts,
                echo,
            )
            .expect_err("the output failed");
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "threads {threads}");
        }
    }

    #[test]
    fn read_errors_are_returned_after_earlier_rows_are_written() {
        struct FailAfter(Cursor<Vec<u8>>, bool);
        impl io::Read for FailAfter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                if n == 0 && !self.1 {
                    self.1 = true;
                    return Err(io::Error::other("disk on fire"));
                }
                Ok(n)
            }
        }
        let reader = io::BufReader::new(FailAfter(Cursor::new(b"a\nb\n".to_vec()), false));
        let mut out = Vec::new();
        let opts = DriverOptions {
            chunk_rows: 1,
            ..DriverOptions::default()
        };
        let err = run(reader, &mut out, &opts, echo).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn progress_does_not_touch_stdout_or_output() {
        let opts = DriverOptions {
            progress: true,
            ..DriverOptions::default()
        };
        let (out, summary) = run_bytes(b"a\nb\n", &opts);
        assert_eq!(summary.rows, 2);
        assert_eq!(out.lines().count(), 2);
    }
}
