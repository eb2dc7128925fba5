//! `reward probe SPEC`: the report of [`reward::probe`] for a person (text) or for CI
//! (`--json`, `--fail-on`).

use std::fmt::Write as _;
use std::io::BufRead;
use std::process::ExitCode;

use reward::{ProbeOptions, ProbeReport, Spec};

pub struct Args<'a> {
    pub rows: Option<&'a str>,
    pub gold: Option<&'a str>,
    pub completion: Option<&'a str>,
    pub margin: Option<f64>,
    pub max_rows: usize,
    pub json: bool,
    /// `severe` (an attack at or above a correct answer) or `any`.
    pub fail_on: Option<&'a str>,
}

pub fn run(spec: &Spec, args: &Args<'_>) -> ExitCode {
    let rows = match args.rows.map(read_rows).transpose() {
        Ok(rows) => rows.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let statics = spec.static_findings_with_rows(&rows);
    let options = match ProbeOptions::for_spec(spec, args.completion, args.gold) {
        Ok(o) => ProbeOptions {
            margin: args.margin,
            max_rows: args.max_rows,
            ..o
        },
        // Nothing to attack (no completion or gold column: a machine over labels, say), but
        // the spec's own text can still be read for risks.
        Err(why) if args.completion.is_none() && args.gold.is_none() => {
            let report = ProbeReport {
                format: "none",
                rows: 0,
                attacks: 0,
                findings: Vec::new(),
                errors: Vec::new(),
                skipped: Some(why),
            };
            return write_report(&report, None, &statics, args);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::EXIT_USAGE);
        }
    };
    let report = match reward::probe(spec, &rows, &options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    write_report(&report, Some(&options), &statics, args)
}

/// Prints the report (text, or JSON with `--json`) and gives the exit status `--fail-on`
/// asks for. `options` is `None` when there was nothing to attack.
fn write_report(
    report: &ProbeReport,
    options: Option<&ProbeOptions>,
    statics: &[reward::StaticFinding],
    args: &Args<'_>,
) -> ExitCode {
    crate::write_out(&if args.json {
        json_report(report, statics)
    } else {
        let head = match (&report.skipped, options) {
            (Some(why), _) => format!("no attacks: {why}\n"),
            (None, Some(options)) => text_report(report, options),
            (None, None) => String::new(),
        };
        head + &static_report(statics)
    });
    let failing = match args.fail_on {
        Some("any") => !report.findings.is_empty() || !statics.is_empty(),
        Some(_) => report.findings.iter().any(|f| f.severe),
        None => false,
    };
    exit_code(failing)
}

fn exit_code(failing: bool) -> ExitCode {
    if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_rows(path: &str) -> Result<Vec<serde_json::Value>, String> {
    let reader = crate::open_input(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let mut rows = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(|e| format!("cannot read `{path}`: {e}"))?;
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
            rows.push(value);
        }
        if rows.len() >= 10_000 {
            break;
        }
    }
    Ok(rows)
}

fn preview(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(117).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

fn text_report(report: &ProbeReport, options: &ProbeOptions) -> String {
    let mut out = String::new();
    let golds = if options.gold.is_empty() {
        "no gold column: forged grader text against the judge columns".to_string()
    } else {
        format!("golds from `{}`", options.gold)
    };
    let _ = writeln!(
        out,
        "{} attacks on {} rows (column `{}`, {golds}), wrapped in the format the spec pays best for a correct answer: {}",
        report.attacks, report.rows, options.completion, report.format
    );
    if report.findings.is_empty() {
        let _ = writeln!(out, "no attack scores close to a correct answer");
    }
    let malformed = |f: &&reward::Finding| f.family == "malformed";
    let groups: [(&str, Vec<_>); 3] = [
        (
            "SEVERE: these score as much as a correct answer or more",
            report.findings.iter().filter(|f| f.severe).collect(),
        ),
        (
            "WARNING: these score close to a correct answer",
            report
                .findings
                .iter()
                .filter(|f| !f.severe && !malformed(f))
                .collect(),
        ),
        (
            "MALFORMED: a correct answer in a broken format is paid as if well-formed \
             (not severe: the answer is right, but the format check misses the broken shell)",
            report.findings.iter().filter(malformed).collect(),
        ),
    ];
    for (heading, group) in groups {
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{heading}");
        for f in group {
            let _ = writeln!(
                out,
                "- {}: {} — {} on {}/{} golds; gold {:?}: {} vs correct {}{}\n    {}",
                f.family,
                f.attack,
                match (f.severe, f.family) {
                    (true, _) => "hit",
                    (false, "malformed") => "accepted",
                    _ => "near",
                },
                f.hits,
                f.rows,
                f.gold,
                f.score,
                f.reference,
                if f.terms.is_empty() {
                    String::new()
                } else {
                    format!(" (paid by {})", f.terms.join(", "))
                },
                preview(&f.completion)
            );
        }
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\nattacks the spec could not score (row errors):");
        for (attack, message) in &report.errors {
            let _ = writeln!(out, "- {attack}: {}", preview(message));
        }
    }
    out
}

fn static_report(statics: &[reward::StaticFinding]) -> String {
    let mut out = String::new();
    if !statics.is_empty() {
        let _ = writeln!(out, "\nin the spec's text:");
    }
    for f in statics {
        let _ = writeln!(
            out,
            "- {}:{}:{}: {} ({})\n    `{}`\n    help: {}",
            f.file,
            f.line,
            f.column,
            f.message,
            f.kind,
            preview(&f.snippet),
            f.help
        );
    }
    out
}

fn json_report(report: &ProbeReport, statics: &[reward::StaticFinding]) -> String {
    use serde_json::json;
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "family": f.family, "attack": f.attack, "severe": f.severe,
                "hits": f.hits, "rows": f.rows, "gold": f.gold,
                "completion": f.completion, "score": f.score, "reference": f.reference,
                "terms": f.terms,
            })
        })
        .collect();
    let report = json!({
        "format": report.format,
        "rows": report.rows,
        "attacks": report.attacks,
        "skipped": report.skipped,
        "findings": findings,
        "errors": report.errors.iter().map(|(a, m)| json!({"attack": a, "error": m})).collect::<Vec<_>>(),
        "static": statics.iter().map(|f| json!({
            "kind": f.kind, "message": f.message, "file": f.file, "line": f.line,
            "column": f.column, "text": f.snippet, "help": f.help,
        })).collect::<Vec<_>>(),
    });
    format!("{report}\n")
}
