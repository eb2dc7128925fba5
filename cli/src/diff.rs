//! `reward diff OLD NEW ROWS`: the report of [`reward::diff`] for a person (text) or for CI
//! (`--json`).

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use reward::{Diff, Outcome, RowDiff, Spec};

pub struct Args<'a> {
    pub old: &'a Path,
    pub new: &'a Path,
    pub rows: &'a str,
    pub group: Option<&'a str>,
    pub json: bool,
    pub top: usize,
}

/// Exit status 0 when no row changed, 1 when some did (as `diff` does), and the usual statuses
/// for a spec that does not compile or an unreadable input.
pub fn run(args: &Args<'_>, old: &Spec, new: &Spec) -> ExitCode {
    let lines = match read_lines(args.rows) {
        Ok(lines) => lines,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.rows);
            return ExitCode::from(1);
        }
    };
    let diff = reward::diff(old, new, &lines, args.group);
    let report = if args.json {
        json_report(&diff, args)
    } else {
        text_report(&diff, args)
    };
    crate::write_out(&report);
    if diff.changed().next().is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_lines(input: &str) -> std::io::Result<Vec<(u64, String)>> {
    let mut reader = crate::open_input(input)?;
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        if !text.trim().is_empty() {
            lines.push((n, text.to_string()));
        }
    }
    Ok(lines)
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Score(s) => format!("{s}"),
        Outcome::Error(m) => format!("error ({m})"),
    }
}

fn show_value(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or("—".to_string(), |v| v.to_string())
}

fn text_report(diff: &Diff, args: &Args<'_>) -> String {
    let mut out = String::new();
    let changed: Vec<&RowDiff> = diff.changed().collect();
    let moved: Vec<f64> = changed
        .iter()
        .filter_map(|r| r.delta())
        .filter(|d| *d != 0.0)
        .collect();
    let newly_failing = changed
        .iter()
        .filter(|r| matches!((&r.old, &r.new), (Outcome::Score(_), Outcome::Error(_))))
        .count();
    let newly_scoring = changed
        .iter()
        .filter(|r| matches!((&r.old, &r.new), (Outcome::Error(_), Outcome::Score(_))))
        .count();
    let _ = writeln!(
        out,
        "{} → {}: {} rows, {} changed, {} changed score{}",
        args.old.display(),
        args.new.display(),
        diff.rows.len(),
        changed.len(),
        moved.len(),
        if moved.is_empty() {
            String::new()
        } else {
            format!(
                " (mean {:+.4}, from {:+.4} to {:+.4})",
                moved.iter().sum::<f64>() / moved.len() as f64,
                moved.iter().copied().fold(f64::INFINITY, f64::min),
                moved.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            )
        }
    );
    if newly_failing + newly_scoring > 0 {
        let _ = writeln!(
            out,
            "{newly_failing} rows fail only with the new spec, {newly_scoring} only with the old one"
        );
    }
    let histogram = diff.histogram(10);
    if !histogram.is_empty() {
        let widest = histogram.iter().map(|b| b.2).max().unwrap_or(1).max(1);
        let _ = writeln!(out, "\nscore change    rows");
        for (lo, hi, n) in histogram {
            let bar = "█".repeat((n * 40).div_ceil(widest));
            let _ = writeln!(out, "[{lo:+.3}, {hi:+.3}]  {n:>6}  {bar}");
        }
    }
    let terms = diff.terms();
    if !terms.is_empty() {
        let _ = writeln!(out, "\nterm                       rows   mean change");
        for t in &terms {
            let mean = t.mean_delta.map_or("—".to_string(), |d| format!("{d:+.4}"));
            let _ = writeln!(out, "{:<24} {:>6}   {mean}", t.name, t.rows);
        }
    }
    let mut largest: Vec<&&RowDiff> = changed.iter().collect();
    largest.sort_by(|a, b| {
        let key = |r: &RowDiff| r.delta().map_or(f64::INFINITY, f64::abs);
        key(b).total_cmp(&key(a)).then(a.line.cmp(&b.line))
    });
    if !largest.is_empty() {
        let _ = writeln!(out, "\nlargest changes");
        for r in largest.iter().take(args.top) {
            let terms: Vec<String> = r
                .terms
                .iter()
                .map(|t| format!("{} {} → {}", t.name, show_value(&t.old), show_value(&t.new)))
                .collect();
            let _ = writeln!(
                out,
                "line {}: {} → {}{}",
                r.line,
                show(&r.old),
                show(&r.new),
                if terms.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", terms.join(", "))
                }
            );
        }
    }
    if let Some(column) = args.group {
        let ranks: Vec<&RowDiff> = diff.rank_changes().collect();
        let _ = writeln!(
            out,
            "\n{} rows change rank within their `{column}` group",
            ranks.len()
        );
        for r in ranks.iter().take(args.top) {
            let rank = |k: Option<usize>| k.map_or("—".to_string(), |k| k.to_string());
            let _ = writeln!(
                out,
                "line {} ({column} {}): rank {} → {}",
                r.line,
                r.group.as_deref().unwrap_or(""),
                rank(r.old_rank),
                rank(r.new_rank)
            );
        }
    }
    out
}

fn json_report(diff: &Diff, args: &Args<'_>) -> String {
    use serde_json::json;
    let outcome = |o: &Outcome| match o {
        Outcome::Score(s) => json!({ "score": reward::value_to_json(&reward::Value::Float(*s)) }),
        Outcome::Error(m) => json!({ "error": m }),
    };
    let rows: Vec<serde_json::Value> = diff
        .changed()
        .map(|r| {
            json!({
                "line": r.line,
                "group": r.group,
                "old": outcome(&r.old),
                "new": outcome(&r.new),
                "delta": r.delta(),
                "terms": r.terms.iter().map(|t| json!({"name": t.name, "old": t.old, "new": t.new, "delta": t.delta()})).collect::<Vec<_>>(),
                "old_rank": r.old_rank,
                "new_rank": r.new_rank,
            })
        })
        .collect();
    let report = json!({
        "old": args.old.display().to_string(),
        "new": args.new.display().to_string(),
        "rows": diff.rows.len(),
        "changed": rows.len(),
        "rank_changes": diff.rank_changes().count(),
        "terms": diff.terms().iter().map(|t| json!({"name": t.name, "rows": t.rows, "mean_delta": t.mean_delta})).collect::<Vec<_>>(),
        "histogram": diff.histogram(10).iter().map(|(lo, hi, n)| json!({"low": lo, "high": hi, "rows": n})).collect::<Vec<_>>(),
        "changed_rows": rows,
    });
    format!("{report}\n")
}
