//! Matrices as values: `pmatrix`, `bmatrix`, `Bmatrix`, `vmatrix`, `Vmatrix`, `matrix` and
//! `array` environments (rows split at `\\`, cells at `&`), optionally inside `\left[ … \right]`
//! or parentheses, and sums, differences and products of them (`A + B`, `A B`, `A \cdot B`),
//! computed cell by cell. Two matrices are equal when they have the same shape and every cell
//! is equal as an expression.

use super::forms::{exprs_equal, parse_expr, Answer};
use super::{tokenize, Ex};

const ENVIRONMENTS: &[&str] = &[
    "pmatrix",
    "bmatrix",
    "Bmatrix",
    "vmatrix",
    "Vmatrix",
    "matrix",
    "array",
    "smallmatrix",
];

type Matrix = Vec<Vec<Ex>>;

/// At most this many matrices in one answer (products nest expressions).
const MAX_MATRICES: usize = 8;

/// The matrix `s` writes, if it is one (or a sum or product of some).
pub(super) fn parse(s: &str) -> Option<Answer> {
    if !s.contains("\\begin") {
        return None;
    }
    let mut t: String = s
        .replace("\\left", "")
        .replace("\\right", "")
        .replace(['$', '\n'], " ");
    t = t.trim().to_string();
    let mut rest = t.as_str();
    let mut acc: Option<Matrix> = None;
    let mut op = '+';
    let mut count = 0;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("\\begin{") {
            count += 1;
            if count > MAX_MATRICES {
                return None;
            }
            let (m, after) = environment(r)?;
            acc = Some(match acc {
                None => m,
                Some(a) => combine(a, m, op)?,
            });
            op = '*';
            rest = after;
            continue;
        }
        let (next, after) = if let Some(r) = rest.strip_prefix("\\cdot") {
            ('*', r)
        } else if let Some(r) = rest.strip_prefix("\\times") {
            ('*', r)
        } else {
            let c = rest.chars().next()?;
            match c {
                '+' | '-' | '*' => (c, &rest[1..]),
                // Wrapping brackets and trailing punctuation.
                '(' | ')' | '[' | ']' | '.' | ',' => (op, &rest[1..]),
                _ => return None,
            }
        };
        op = next;
        rest = after;
    }
    acc.map(Answer::Matrix)
}

/// After `\begin{`: the environment's matrix and the text after its `\end{…}`.
fn environment(r: &str) -> Option<(Matrix, &str)> {
    let close = r.find('}')?;
    let name = &r[..close];
    if !ENVIRONMENTS.contains(&name) {
        return None;
    }
    let mut body = &r[close + 1..];
    if name == "array" {
        // The column specification.
        let b = body.trim_start();
        if let Some(spec) = b.strip_prefix('{') {
            body = &spec[spec.find('}')? + 1..];
        }
    }
    let end_tag = format!("\\end{{{name}}}");
    let end = body.find(&end_tag)?;
    let rows = cells(&body[..end])?;
    Some((rows, &body[end + end_tag.len()..]))
}

fn cells(body: &str) -> Option<Matrix> {
    let mut rows = Vec::new();
    for row in body.split("\\\\") {
        if row.trim().is_empty() {
            continue;
        }
        let mut cells = Vec::new();
        for cell in row.split('&') {
            cells.push(parse_expr(&tokenize(cell)?)?);
        }
        rows.push(cells);
    }
    let width = rows.first()?.len();
    rows.iter().all(|r| r.len() == width).then_some(rows)
}

fn combine(a: Matrix, b: Matrix, op: char) -> Option<Matrix> {
    match op {
        '+' | '-' => {
            let sign = if op == '+' { 1 } else { -1 };
            if a.len() != b.len() || a[0].len() != b[0].len() {
                return None;
            }
            Some(
                a.into_iter()
                    .zip(b)
                    .map(|(ra, rb)| {
                        ra.into_iter()
                            .zip(rb)
                            .map(|(x, y)| Ex::Add(Box::new(x), Box::new(y), sign))
                            .collect()
                    })
                    .collect(),
            )
        }
        _ => {
            let (n, k, m) = (a.len(), a[0].len(), b.first()?.len());
            if b.len() != k {
                return None;
            }
            let cell = |i: usize, j: usize| {
                (0..k)
                    .map(|t| Ex::Mul(Box::new(a[i][t].clone()), Box::new(b[t][j].clone())))
                    .reduce(|x, y| Ex::Add(Box::new(x), Box::new(y), 1))
            };
            (0..n)
                .map(|i| (0..m).map(|j| cell(i, j)).collect::<Option<Vec<_>>>())
                .collect()
        }
    }
}

pub(super) fn equal(a: &Matrix, b: &Matrix) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(ra, rb)| {
            ra.len() == rb.len() && ra.iter().zip(rb).all(|(x, y)| exprs_equal(x, y))
        })
}
