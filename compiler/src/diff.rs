//! `reward diff`: how an edit of a spec changes the scores of the same rows — which rows move
//! and by how much, which terms explain it, and whose rank within their group changes — so a
//! reward edit is reviewed like a code edit.

use std::collections::HashMap;

use crate::api::Spec;

/// What one version of a spec gave a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Score(f64),
    /// The row error's message.
    Error(String),
}

impl Outcome {
    fn score(&self) -> Option<f64> {
        match self {
            Outcome::Score(s) => Some(*s),
            Outcome::Error(_) => None,
        }
    }
}

/// A term whose value differs between the two versions (`None`: the version has no such term
/// or the row failed there).
#[derive(Clone, Debug, PartialEq)]
pub struct TermChange {
    pub name: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

impl TermChange {
    /// New minus old, when both are numbers (booleans count as 0/1).
    pub fn delta(&self) -> Option<f64> {
        Some(number(self.new.as_ref()?)? - number(self.old.as_ref()?)?)
    }
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => v.as_f64(),
    }
}

/// One input row under both versions.
#[derive(Clone, Debug)]
pub struct RowDiff {
    /// 1-based line number of the row in the input.
    pub line: u64,
    /// The row's group (the group column's value as JSON text), when a group column is given.
    pub group: Option<String>,
    pub old: Outcome,
    pub new: Outcome,
    /// Terms whose values differ, in the new version's order, then terms only the old one has
    /// (none when either version failed on the row).
    pub terms: Vec<TermChange>,
    /// Rank of the row's score within its group (1 = best; equal scores share a rank), under
    /// each version; `None` without groups or when the row failed.
    pub old_rank: Option<usize>,
    pub new_rank: Option<usize>,
}

impl RowDiff {
    /// New score minus old, when both versions scored the row.
    pub fn delta(&self) -> Option<f64> {
        Some(self.new.score()? - self.old.score()?)
    }

    /// Whether anything the row's record shows changed: the score (bit for bit), a term, or
    /// whether it failed.
    pub fn changed(&self) -> bool {
        let outcome_changed = match (&self.old, &self.new) {
            (Outcome::Score(a), Outcome::Score(b)) => a.to_bits() != b.to_bits(),
            (a, b) => a != b,
        };
        outcome_changed || !self.terms.is_empty()
    }
}

/// Every row of the input under both versions.
#[derive(Clone, Debug)]
pub struct Diff {
    pub rows: Vec<RowDiff>,
}

/// How many rows of a term changed, and its mean change over them.
#[derive(Clone, Debug, PartialEq)]
pub struct TermSummary {
    pub name: String,
    pub rows: usize,
    pub mean_delta: Option<f64>,
}

impl Diff {
    /// The rows whose score, terms or failure changed.
    pub fn changed(&self) -> impl Iterator<Item = &RowDiff> {
        self.rows.iter().filter(|r| r.changed())
    }

    /// Per term, the rows where it changed and the mean of its numeric changes, most rows
    /// first.
    pub fn terms(&self) -> Vec<TermSummary> {
        let mut order: Vec<String> = Vec::new();
        let mut stats: HashMap<String, (usize, f64, usize)> = HashMap::new();
        for change in self.rows.iter().flat_map(|r| &r.terms) {
            let entry = stats.entry(change.name.clone()).or_insert_with(|| {
                order.push(change.name.clone());
                (0, 0.0, 0)
            });
            entry.0 += 1;
            if let Some(d) = change.delta() {
                entry.1 += d;
                entry.2 += 1;
            }
        }
        let mut out: Vec<TermSummary> = order
            .into_iter()
            .map(|name| {
                let (rows, sum, numeric) = stats[&name];
                TermSummary {
                    name,
                    rows,
                    mean_delta: (numeric > 0).then(|| sum / numeric as f64),
                }
            })
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse(t.rows));
        out
    }

    /// The score changes of the rows both versions scored, in `bins` equal bins between the
    /// smallest and the largest change: `(low, high, count)`. Rows whose score did not move
    /// are left out.
    pub fn histogram(&self, bins: usize) -> Vec<(f64, f64, usize)> {
        let deltas: Vec<f64> = self
            .rows
            .iter()
            .filter_map(RowDiff::delta)
            .filter(|d| *d != 0.0 && d.is_finite())
            .collect();
        let (Some(lo), Some(hi)) = (
            deltas.iter().copied().reduce(f64::min),
            deltas.iter().copied().reduce(f64::max),
        ) else {
            return Vec::new();
        };
        let bins = if lo == hi { 1 } else { bins.max(1) };
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0usize; bins];
        for d in deltas {
            let i = if width == 0.0 {
                0
            } else {
                (((d - lo) / width) as usize).min(bins - 1)
            };
            counts[i] += 1;
        }
        counts
            .into_iter()
            .enumerate()
            .map(|(i, n)| (lo + width * i as f64, lo + width * (i + 1) as f64, n))
            .collect()
    }

    /// The rows whose rank within their group changed.
    pub fn rank_changes(&self) -> impl Iterator<Item = &RowDiff> {
        self.rows
            .iter()
            .filter(|r| r.group.is_some() && r.old_rank != r.new_rank)
    }
}

/// Scores `lines` (`(line number, JSON text)`) with both versions and compares them row by
/// row; with `group_column`, also the rank of each row's score among the rows that share its
/// value of that column.
pub fn diff(old: &Spec, new: &Spec, lines: &[(u64, String)], group_column: Option<&str>) -> Diff {
    let parse = |outputs: Vec<crate::api::LineOutput>| -> Vec<Record> {
        outputs.iter().map(|o| Record::parse(&o.json)).collect()
    };
    let before = parse(old.score_lines(lines, false));
    let after = parse(new.score_lines(lines, false));
    let mut rows: Vec<RowDiff> = lines
        .iter()
        .zip(before.into_iter().zip(after))
        .map(|((line, text), (a, b))| RowDiff {
            line: *line,
            group: group_column.and_then(|c| group_of(text, c)),
            // A failed row has no terms to compare: the failure is the change.
            terms: match (&a.outcome, &b.outcome) {
                (Outcome::Score(_), Outcome::Score(_)) => term_changes(&a.terms, &b.terms),
                _ => Vec::new(),
            },
            old: a.outcome,
            new: b.outcome,
            old_rank: None,
            new_rank: None,
        })
        .collect();
    if group_column.is_some() {
        rank(&mut rows, |r| r.old.score(), |r, k| r.old_rank = k);
        rank(&mut rows, |r| r.new.score(), |r, k| r.new_rank = k);
    }
    Diff { rows }
}

/// One output record of `reward score`, read back.
struct Record {
    outcome: Outcome,
    terms: Vec<(String, serde_json::Value)>,
}

impl Record {
    fn parse(json: &str) -> Record {
        let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        if let Some(error) = value.get("error") {
            let message = error
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("error")
                .to_string();
            return Record {
                outcome: Outcome::Error(message),
                terms: Vec::new(),
            };
        }
        let score = value.get("score").and_then(number).unwrap_or(f64::NAN);
        let terms = value
            .get("terms")
            .and_then(|t| t.as_object())
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Record {
            outcome: Outcome::Score(score),
            terms,
        }
    }
}

fn term_changes(
    old: &[(String, serde_json::Value)],
    new: &[(String, serde_json::Value)],
) -> Vec<TermChange> {
    let find = |terms: &[(String, serde_json::Value)], name: &str| {
        terms
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out: Vec<TermChange> = new
        .iter()
        .filter_map(|(name, value)| {
            let before = find(old, name);
            (before.as_ref() != Some(value)).then(|| TermChange {
                name: name.clone(),
                old: before,
                new: Some(value.clone()),
            })
        })
        .collect();
    out.extend(
        old.iter()
            .filter(|(name, _)| find(new, name).is_none())
            .map(|(name, value)| TermChange {
                name: name.clone(),
                old: Some(value.clone()),
                new: None,
            }),
    );
    out
}

fn group_of(line: &str, column: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get(column).map(|v| v.to_string())
}

/// Competition ranking ("1224") of the scores within each group, best first; a failed row has
/// no rank and takes no place.
fn rank(
    rows: &mut [RowDiff],
    score: impl Fn(&RowDiff) -> Option<f64>,
    set: impl Fn(&mut RowDiff, Option<usize>),
) {
    let mut groups: HashMap<String, Vec<f64>> = HashMap::new();
    for r in rows.iter() {
        if let (Some(g), Some(s)) = (&r.group, score(r)) {
            groups.entry(g.clone()).or_default().push(s);
        }
    }
    // Sorted best first, a row's rank is one more than the scores above it: a binary search,
    // so one huge group costs n log n, not n².
    for scores in groups.values_mut() {
        scores.sort_by(|a, b| b.total_cmp(a));
    }
    for r in rows.iter_mut() {
        let place = match (&r.group, score(r)) {
            (Some(g), Some(s)) => Some(1 + groups[g].partition_point(|&o| o.total_cmp(&s).is_gt())),
            _ => None,
        };
        set(r, place);
    }
}
