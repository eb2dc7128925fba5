//! `reward import-rm`: converts the text format of the reward-machines code (Toro Icarte et al.)
//! into a `.reward` spec. The format, one item a line: the initial state; the list of terminal
//! states; then edges `(u1,u2,'guard',ConstantRewardFunction(c))`, where a guard is a disjunction
//! (`|`) of conjunctions (`&`) of single-letter propositions, possibly negated (`!`).
//!
//! Meaning (that code's documented one): on each step the first edge of the current state, in
//! file order, whose guard holds is taken and its reward paid; if none holds the machine ends
//! with reward 0; entering a terminal state ends it. The spec's input is
//! `{ labels: list[text] }`, each element the letters true at that step.
//!
//! `compat_original` reproduces the code's one departure from that: it gives "entered a terminal
//! state" and "no edge matched" the same state id and looks rewards up by (state, target), so in
//! a state with an edge into a terminal state a label that matches no edge pays that edge's
//! reward. The import adds, to each such state, a last catch-all edge into that terminal state.

use std::fmt::Write;

pub struct ImportedEdge {
    pub from: i64,
    pub to: i64,
    pub guard: String,
    pub reward: f64,
}

pub struct RewardMachineFile {
    pub initial: i64,
    pub terminals: Vec<i64>,
    pub edges: Vec<ImportedEdge>,
}

/// Parses the text format; errors name the line.
pub fn parse(text: &str) -> Result<RewardMachineFile, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty());
    let (n, first) = lines
        .next()
        .ok_or("empty file: expected the initial state on the first line")?;
    let initial = first.parse::<i64>().map_err(|_| {
        format!("line {n}: expected the initial state (an integer), found `{first}`")
    })?;
    let (n, second) = lines
        .next()
        .ok_or("expected the list of terminal states on the second line")?;
    let inner = second
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| {
            format!("line {n}: expected the terminal states as `[2]` or `[2, 5]`, found `{second}`")
        })?;
    let terminals = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| format!("line {n}: `{s}` is not a state number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut edges = Vec::new();
    for (n, line) in lines {
        let body = line
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| {
                format!("line {n}: expected an edge `(u1,u2,'guard',ConstantRewardFunction(c))`")
            })?;
        let q1 = body
            .find('\'')
            .ok_or_else(|| format!("line {n}: the guard must be quoted with '"))?;
        let q2 = body[q1 + 1..]
            .find('\'')
            .map(|i| q1 + 1 + i)
            .ok_or_else(|| format!("line {n}: unclosed guard quote"))?;
        let states: Vec<&str> = body[..q1]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let [from, to] = states.as_slice() else {
            return Err(format!("line {n}: expected two states before the guard"));
        };
        let from = from
            .parse::<i64>()
            .map_err(|_| format!("line {n}: `{from}` is not a state number"))?;
        let to = to
            .parse::<i64>()
            .map_err(|_| format!("line {n}: `{to}` is not a state number"))?;
        let guard = body[q1 + 1..q2].to_string();
        let rest = body[q2 + 1..].trim().trim_start_matches(',').trim();
        let reward = rest
            .strip_prefix("ConstantRewardFunction(")
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| format!("line {n}: only ConstantRewardFunction(c) rewards can be imported, found `{rest}`"))?
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("line {n}: the reward is not a number"))?;
        if !guard
            .chars()
            .all(|c| c.is_ascii_alphabetic() || "&|!".contains(c))
        {
            return Err(format!(
                "line {n}: unsupported guard `{guard}` (expected letters combined with & | !)"
            ));
        }
        edges.push(ImportedEdge {
            from,
            to,
            guard,
            reward,
        });
    }
    Ok(RewardMachineFile {
        initial,
        terminals,
        edges,
    })
}

/// The guard in the language: `a&!n|c` → `(a and not n) or c`; `True` → always.
fn guard_expr(guard: &str) -> Option<String> {
    if guard.is_empty() || guard.eq_ignore_ascii_case("true") {
        return None;
    }
    let disjuncts: Vec<String> = guard
        .split('|')
        .map(|conj| {
            let lits: Vec<String> = conj
                .split('&')
                .map(|lit| match lit.strip_prefix('!') {
                    Some(p) => format!("not {p}"),
                    None => lit.to_string(),
                })
                .collect();
            lits.join(" and ")
        })
        .collect();
    Some(if disjuncts.len() == 1 {
        disjuncts[0].clone()
    } else {
        disjuncts
            .iter()
            .map(|d| format!("({d})"))
            .collect::<Vec<_>>()
            .join(" or ")
    })
}

fn number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The spec text for a parsed machine file.
pub fn to_spec(rm: &RewardMachineFile, source_name: &str, compat_original: bool) -> String {
    let mut letters: Vec<char> = rm
        .edges
        .iter()
        .filter(|e| !e.guard.eq_ignore_ascii_case("true"))
        .flat_map(|e| e.guard.chars())
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    letters.sort_unstable();
    letters.dedup();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! Reward machine imported from {source_name} by `reward import-rm`{}.",
        if compat_original {
            " --compat original"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "//! The first edge (in file order) whose guard holds is taken; when none holds the machine ends");
    let _ = writeln!(out, "//! with reward 0; entering a terminal state ends it.");
    if compat_original {
        let _ = writeln!(out, "//! Compat: as the original code, a label matching no edge in a state with an edge into a");
        let _ = writeln!(
            out,
            "//! terminal state pays that edge's reward (the catch-all edges marked below)."
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "input {{");
    let _ = writeln!(out, "    labels: list[text]   // per step, the letters of the propositions that hold (\"\" for none)");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    for l in &letters {
        let _ = writeln!(out, "prop {l} = \"{l}\" in step");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "machine rm over labels (order: first, otherwise: end) {{"
    );
    let _ = writeln!(out, "    start u{}", rm.initial);
    let mut catch_all_added: Vec<i64> = Vec::new();
    for e in &rm.edges {
        let guard = guard_expr(&e.guard).map_or(String::new(), |g| format!(" when {g}"));
        let reward = if e.reward == 0.0 {
            String::new()
        } else {
            format!(" reward {}", number(e.reward))
        };
        let _ = writeln!(out, "    u{} -> u{}{guard}{reward}", e.from, e.to);
        if compat_original {
            // After the last edge of this state, the catch-all of the original code.
            let last_of_state = !rm
                .edges
                .iter()
                .skip_while(|x| !std::ptr::eq(*x, e))
                .skip(1)
                .any(|x| x.from == e.from);
            if last_of_state && !catch_all_added.contains(&e.from) {
                if let Some(t) = rm
                    .edges
                    .iter()
                    .find(|x| x.from == e.from && rm.terminals.contains(&x.to))
                {
                    let reward = if t.reward == 0.0 {
                        String::new()
                    } else {
                        format!(" reward {}", number(t.reward))
                    };
                    let _ = writeln!(
                        out,
                        "    u{} -> u{}{reward}   // compat: no edge matched",
                        e.from, t.to
                    );
                    catch_all_added.push(e.from);
                }
            }
        }
    }
    let terminals: Vec<String> = rm.terminals.iter().map(|t| format!("u{t}")).collect();
    if !terminals.is_empty() {
        let _ = writeln!(out, "    terminal {}", terminals.join(", "));
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(out, "score = rm");
    out
}
