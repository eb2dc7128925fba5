//! A stable text form of the IR, one line per definition, expressions as s-expressions.
//! Snapshot tests read it, so its format changes only on purpose.

use std::fmt::Write;

use reward_runtime::value::format_float;
use reward_runtime::{Ty, Value};

use super::*;
use crate::builtins::BUILTINS;

pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    if let Some(input) = &p.input {
        let _ = writeln!(out, "input {input}");
    }
    for param in &p.params {
        let _ = writeln!(
            out,
            "param {}: {} = {}{}",
            param.name,
            param.ty,
            print_value(&param.value),
            if param.overridden {
                "  (overridden)"
            } else {
                ""
            }
        );
    }
    for (i, r) in p.regexes.iter().enumerate() {
        let _ = writeln!(out, "regex #{i} = /{}/{}", r.pattern, r.flags);
    }
    for f in &p.functions {
        let params: Vec<String> = f
            .params
            .iter()
            .enumerate()
            .map(|(i, (n, t))| format!("%{i} {n}: {t}"))
            .collect();
        let _ = writeln!(
            out,
            "fn {}({}) -> {} = {}",
            f.name,
            params.join(", "),
            f.ret,
            expr(p, &f.body.expr)
        );
    }
    for id in &p.eval_order {
        let t = &p.terms[*id];
        let hidden = if t.in_breakdown { "" } else { " (hidden)" };
        let _ = writeln!(
            out,
            "{} ${id} {:?}: {}{hidden} = {}",
            t.kind.keyword(),
            t.name,
            t.ty,
            expr(p, &t.body.expr)
        );
    }
    if let Some(score) = p.score {
        let _ = writeln!(out, "score = ${score}");
    }
    out
}

fn print_value(v: &Value) -> String {
    match v {
        Value::Float(x) => format_float(*x),
        other => other.to_string(),
    }
}

fn expr(p: &Program, e: &Expr) -> String {
    let mut s = String::new();
    write_expr(&p.functions, e, &mut s);
    s
}

/// An expression that calls no function of the spec, in the same text form (for unit tests of
/// lowering).
#[cfg(test)]
pub fn print_expr(e: &Expr) -> String {
    let mut s = String::new();
    write_expr(&[], e, &mut s);
    s
}

fn write_expr(p: &[Function], e: &Expr, out: &mut String) {
    let list = |head: &str, args: &[&Expr], out: &mut String| {
        out.push('(');
        out.push_str(head);
        for a in args {
            out.push(' ');
            write_expr(p, a, out);
        }
        out.push(')');
    };
    match &e.kind {
        ExprKind::Const(v) => out.push_str(&print_value(v)),
        ExprKind::Input => out.push_str("input"),
        ExprKind::Term(id) => {
            let _ = write!(out, "${id}");
        }
        ExprKind::Local(id) => {
            let _ = write!(out, "%{id}");
        }
        ExprKind::Field(r, idx) => {
            write_expr(p, r, out);
            let name = match r.ty.strip_optional() {
                Ty::Record(fields) => fields
                    .get(*idx)
                    .map_or("?".to_string(), |f| f.name.to_string()),
                _ => "?".into(),
            };
            let _ = write!(out, ".{name}");
        }
        ExprKind::Index(l, i) => list("index", &[l, i], out),
        ExprKind::Not(a) => list("not", &[a], out),
        ExprKind::Neg(k, a) => list(&format!("neg.{}", num(*k)), &[a], out),
        ExprKind::Arith(op, k, a, b) => {
            let name = match op {
                ArithOp::Add => "add",
                ArithOp::Sub => "sub",
                ArithOp::Mul => "mul",
                ArithOp::Div => "div",
                ArithOp::Rem => "rem",
            };
            list(&format!("{name}.{}", num(*k)), &[a, b], out)
        }
        ExprKind::Concat(a, b) => list("concat", &[a, b], out),
        ExprKind::Compare(op, a, b) => {
            let name = match op {
                CmpOp::Eq => "eq",
                CmpOp::Ne => "ne",
                CmpOp::Lt => "lt",
                CmpOp::Le => "le",
                CmpOp::Gt => "gt",
                CmpOp::Ge => "ge",
            };
            list(name, &[a, b], out)
        }
        ExprKind::And(a, b) => list("and", &[a, b], out),
        ExprKind::Or(a, b) => list("or", &[a, b], out),
        ExprKind::If(c, a, b) => list("if", &[c, a, b], out),
        ExprKind::Coalesce(a, b) => list("coalesce", &[a, b], out),
        ExprKind::ToFloat(a) => list("float", &[a], out),
        ExprKind::Some(a) => list("some", &[a], out),
        ExprKind::TextContains { haystack, needle } => {
            list("text-contains", &[haystack, needle], out)
        }
        ExprKind::ListContains { list: l, item } => list("list-contains", &[l, item], out),
        ExprKind::Match(t, re) => list(&format!("match #{re}"), &[t], out),
        ExprKind::Call(b, args) => {
            let refs: Vec<&Expr> = args.iter().collect();
            list(&format!("call {}", BUILTINS[*b].name), &refs, out)
        }
        ExprKind::CallFn(f, args) => {
            let refs: Vec<&Expr> = args.iter().collect();
            list(&format!("fn {}", p[*f].name), &refs, out)
        }
        ExprKind::Aggregate(a) => {
            let _ = write!(out, "({} %{} in ", a.kind.name(), a.var);
            write_expr(p, &a.iter, out);
            if let Some(f) = &a.filter {
                out.push_str(" if ");
                write_expr(p, f, out);
            }
            if let Some(b) = &a.body {
                out.push_str(" : ");
                write_expr(p, b, out);
            }
            out.push(')');
        }
        ExprKind::List(items) => {
            let refs: Vec<&Expr> = items.iter().collect();
            list("list", &refs, out)
        }
        ExprKind::Record(items) => {
            let refs: Vec<&Expr> = items.iter().collect();
            list("record", &refs, out)
        }
        ExprKind::CheckUnit { value, criterion } => {
            list(&format!("check-unit {criterion:?}"), &[value], out)
        }
        // Printed as what it means.
        ExprKind::Ltl(l) => write_expr(p, &l.reference(e.span), out),
        ExprKind::Machine(m) => write_expr(p, &m.reference(e.span), out),
    }
}

fn num(k: NumKind) -> &'static str {
    match k {
        NumKind::Int => "i",
        NumKind::Float => "f",
    }
}
