//! The in-process Rust API on a JSON Lines file of rollouts: rows decoded once (timed apart),
//! then `Spec::score_batch` on all of them, median of 7 runs. The baseline the Python
//! package's overhead is measured against (bench/run_python.sh).
//! Usage: cargo run --release -p reward-compiler --example api_bench -- SPEC ROWS THREADS

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, spec, rows, threads] = args.as_slice() else {
        return Err("usage: api_bench SPEC ROWS.jsonl THREADS".into());
    };
    let options = reward::Options::default().threads(threads.parse()?);
    let spec = reward::compile(reward::Source::file(spec), &options)?;
    let text = std::fs::read_to_string(rows)?;
    let t = Instant::now();
    let rows: Vec<reward::Row> = text
        .lines()
        .map(|l| spec.row_from_json(l))
        .collect::<Result<_, _>>()?;
    let decode = t.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let scored = spec.score_batch(&rows);
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(scored.len(), rows.len());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "rust API: {} rows, decode {:.1} ms, score_batch median {:.1} ms = {:.2} us/row",
        rows.len(),
        decode * 1e3,
        median * 1e3,
        median / rows.len() as f64 * 1e6
    );
    Ok(())
}
