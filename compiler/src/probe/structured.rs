//! Attacks on structured golds — boxes, coordinates, actions, JSON — which the answer attacks
//! cannot rewrite. They start from a real row's own completion that the spec pays (with
//! `--rows`, or a test's `given`) and edit its structure: coordinates moved off by a fifth, a
//! different action type with the same coordinates, a key written twice with a wrong and the
//! right value (in both orders), and the answer listed beside a far-off copy of itself.

use regex::Regex;
use serde_json::Value as Json;

use super::{is_structured, Companions, Finding, ProbeReport, Scorer};
use reward_runtime::native::final_answer;

/// Action names a wrong action type is taken from.
const ACTIONS: &[&str] = &[
    "click",
    "scroll",
    "type",
    "long_press",
    "swipe",
    "navigate_back",
];

const FAR_OFF: &str = "coordinates off by a fifth";
const BESIDE_A_COPY: &str = "the answer beside a far-off copy of it";

fn has_nonzero_number(text: &str) -> bool {
    Regex::new(r"\d+(\.\d+)?").is_ok_and(|re| {
        re.find_iter(text)
            .any(|m| m.as_str().parse::<f64>().is_ok_and(|x| x != 0.0))
    })
}

/// A row with a structured gold and a completion the spec pays more than an empty one.
struct Seed<'a> {
    row: &'a serde_json::Map<String, Json>,
    gold: String,
    completion: String,
    reference: f64,
    floor: f64,
}

/// Runs the structured attacks and adds their findings; returns how many rows were attacked.
pub(super) fn attacks(
    scorer: &Scorer<'_>,
    rows: &[Json],
    options: &super::ProbeOptions,
    report: &mut ProbeReport,
) -> usize {
    if options.gold.is_empty() {
        return 0;
    }
    let seeds = seeds(scorer, rows, options);
    if seeds.is_empty() {
        return 0;
    }
    let mut found: Vec<Finding> = Vec::new();
    let mut count = 0;
    for seed in &seeds {
        // In a `group by` spec: beside the completion the spec pays and the empty one.
        scorer.set_companions(Companions::Given(seed.completion.clone(), String::new()));
        let mut list = edits(&seed.completion);
        // A gold without a nonzero number (a scroll, an app to open) has no coordinates to
        // miss: moving the completion's numbers is no attack on it.
        if !has_nonzero_number(&seed.gold) {
            list.retain(|(_, attack, _)| *attack != FAR_OFF && *attack != BESIDE_A_COPY);
        }
        count = count.max(list.len());
        let margin = options
            .margin
            .unwrap_or(((seed.reference - seed.floor) / 2.0).max(0.0));
        for (family, attack, completions) in list {
            // Every completion of the attack must be paid; the first is the one shown.
            let mut scored = Vec::new();
            for c in &completions {
                match scorer.score(seed.row, c) {
                    Ok(r) => scored.push(r),
                    Err(e) => report.errors.push((attack.to_string(), e)),
                }
            }
            if scored.len() < completions.len()
                || scored.iter().any(|(s, _)| *s < seed.reference - margin)
            {
                continue;
            }
            let (score, terms) = scored.swap_remove(0);
            let completion = completions.into_iter().next().unwrap_or_default();
            let terms: Vec<String> = terms
                .into_iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(n, _)| n)
                .collect();
            match found.iter_mut().find(|f| f.attack == attack) {
                Some(f) => {
                    f.hits += 1;
                    f.severe |= score >= seed.reference;
                    if completion.len() < f.completion.len() {
                        (f.completion, f.gold, f.score, f.reference) =
                            (completion, seed.gold.clone(), score, seed.reference);
                    }
                }
                None => found.push(Finding {
                    family,
                    attack,
                    completion,
                    gold: seed.gold.clone(),
                    score,
                    reference: seed.reference,
                    hits: 1,
                    rows: seeds.len(),
                    terms,
                    severe: score >= seed.reference,
                }),
            }
        }
    }
    report.attacks += count;
    report.rows = report.rows.max(seeds.len());
    report
        .findings
        .extend(found.into_iter().filter(|f| f.hits >= 2.min(seeds.len())));
    seeds.len()
}

/// Up to 8 rows with distinct structured golds, each with its best-paid completion.
fn seeds<'a>(
    scorer: &Scorer<'_>,
    rows: &'a [Json],
    options: &super::ProbeOptions,
) -> Vec<Seed<'a>> {
    let mut seeds: Vec<Seed<'a>> = Vec::new();
    for row in rows {
        let Some(object) = row.as_object() else {
            continue;
        };
        let (Some(gold), Some(completion)) = (
            object.get(&options.gold).and_then(Json::as_str),
            object.get(&options.completion).and_then(Json::as_str),
        ) else {
            continue;
        };
        let gold = final_answer(gold).trim().to_string();
        if !is_structured(&gold) {
            continue;
        }
        scorer.set_companions(Companions::Given(completion.to_string(), String::new()));
        let (Ok((reference, _)), Ok((floor, _))) =
            (scorer.score(object, completion), scorer.score(object, ""))
        else {
            continue;
        };
        if reference <= floor {
            continue;
        }
        let full = seeds.len() >= 8;
        match seeds.iter_mut().find(|s| s.gold == gold) {
            Some(s) if reference > s.reference => {
                (s.row, s.completion, s.reference, s.floor) =
                    (object, completion.to_string(), reference, floor);
            }
            Some(_) => {}
            None if !full => seeds.push(Seed {
                row: object,
                gold,
                completion: completion.to_string(),
                reference,
                floor,
            }),
            None => {}
        }
    }
    seeds
}

/// The edits of a paid completion: (family, attack, completions), each different from it; an
/// attack hits when every one of its completions is paid.
fn edits(completion: &str) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let mut out = Vec::new();
    let far = scale_numbers(completion);
    if far != completion {
        out.push(("near miss", FAR_OFF, vec![far]));
    }
    if let Some(((start, end), quote, key, value)) = action_pair(completion) {
        let other = ACTIONS
            .iter()
            .find(|a| **a != value)
            .copied()
            .unwrap_or("click");
        let pair = |v: &str| format!("{quote}{key}{quote}: {quote}{v}{quote}");
        let replaced =
            |with: String| format!("{}{with}{}", &completion[..start], &completion[end..]);
        out.push((
            "near miss",
            "a different action type, same coordinates",
            vec![replaced(pair(other))],
        ));
        // One order alone is the parser taking the first or the last; both orders paid is a
        // hedge: the policy writes two values and is paid whichever is right.
        out.push((
            "hedging",
            "a key twice, with a wrong and the right value (both orders paid)",
            vec![
                replaced(format!("{}, {}", pair(other), pair(&value))),
                replaced(format!("{}, {}", pair(&value), pair(other))),
            ],
        ));
    }
    // The first object (or bracketed list) of the answer beside a far-off copy of itself.
    let first = Regex::new(r"\{[^{}]*\}|\[[^\[\]]*\]")
        .ok()
        .and_then(|re| re.find(completion).map(|m| (m.start(), m.end())));
    if let Some((start, end)) = first {
        let item = &completion[start..end];
        let copy = scale_numbers(item);
        if copy != item {
            out.push((
                "shotgun",
                BESIDE_A_COPY,
                vec![format!(
                    "{}{copy}, {item}{}",
                    &completion[..start],
                    &completion[end..]
                )],
            ));
        }
    }
    out
}

/// Every number times 1.2, plus 1 (integers stay integers).
fn scale_numbers(text: &str) -> String {
    let Ok(re) = Regex::new(r"-?\d+(\.\d+)?") else {
        return text.to_string();
    };
    re.replace_all(text, |c: &regex::Captures<'_>| {
        let s = &c[0];
        match (s.contains('.'), s.parse::<f64>()) {
            (false, Ok(x)) if x.abs() < 1e15 => format!("{}", (x * 1.2) as i64 + 1),
            (true, Ok(x)) => format!("{:.3}", x * 1.2 + 1.0),
            _ => s.to_string(),
        }
    })
    .into_owned()
}

/// The first `'action': 'x'` (or `"type": "x"`…) pair: its byte range, quote, key and value.
fn action_pair(text: &str) -> Option<((usize, usize), char, String, String)> {
    let re = Regex::new(
        r#"(['"])(action|action_type|type|name|tool|function)['"]\s*:\s*['"]([A-Za-z_]+)['"]"#,
    )
    .ok()?;
    let c = re.captures(text)?;
    let m = c.get(0)?;
    let quote = c[1].chars().next()?;
    Some((
        (m.start(), m.end()),
        quote,
        c[2].to_string(),
        c[3].to_string(),
    ))
}
