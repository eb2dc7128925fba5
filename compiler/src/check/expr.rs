//! Type checking of expressions, elaborating them into IR.

use reward_runtime::ty::Field;
use reward_runtime::{Ty, Value};

use super::{Callable, Checker, Ctx};
use crate::builtins::{self, BuiltinId, P, R};
use crate::diag::{closest, Code, Diagnostic, Span};
use crate::ir::{self, AggKind, ArithOp, CmpOp, Expr, ExprKind, NumKind};
use crate::syntax::ast::{self, BinaryOp, UnaryOp};

fn err(span: Span) -> Expr {
    Expr::constant(Value::None, Ty::Error, span)
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// The common type of two branches or elements, if there is one.
pub(crate) fn unify(a: &Ty, b: &Ty) -> Option<Ty> {
    match (a, b) {
        (Ty::Error, t) | (t, Ty::Error) => Some(t.clone()),
        (x, y) if x == y => Some(x.clone()),
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Some(Ty::Float),
        (Ty::NoneLit, t) | (t, Ty::NoneLit) => Some(Ty::optional(t.clone())),
        (Ty::Optional(x), y) | (y, Ty::Optional(x)) => {
            unify(x, y.strip_optional()).map(Ty::optional)
        }
        (Ty::List(x), Ty::List(y)) => unify(x, y).filter(|u| u == &**x && u == &**y).map(Ty::list),
        _ => None,
    }
}

impl Checker<'_> {
    /// Converts `e` to type `target` where the language allows it implicitly (int → float,
    /// T → T?, none → T?), or reports a mismatch.
    pub(crate) fn coerce(&mut self, e: Expr, target: &Ty, what: &str) -> Expr {
        if let Some(c) = try_coerce(e.clone(), target) {
            return c;
        }
        let help = if e.ty.is_optional() && !target.is_optional() {
            "this value can be none; give a default with `?? value`".to_string()
        } else if e.ty == Ty::Bool && target.is_numeric() {
            "bools count as 0/1 only in arithmetic; write `if b then 1.0 else 0.0` or `float(b)`"
                .to_string()
        } else if e.ty == Ty::Float && *target == Ty::Int {
            "convert with `int(x)` (truncates) or `int(round(x))`".to_string()
        } else {
            format!("expected {target}")
        };
        let code = if e.ty.is_optional() && !target.is_optional() {
            Code::E0016
        } else {
            Code::E0003
        };
        self.error(
            Diagnostic::new(
                code,
                e.span,
                format!("{what} must be {target}, but this is {}", e.ty),
            )
            .label(format!("this is {}", e.ty))
            .help(help),
        );
        err(e.span)
    }

    /// A number where a float is needed (rubric criteria, arithmetic on bools).
    pub(crate) fn float_for(&mut self, e: Expr, _src: &ast::Expr, what: &str) -> Expr {
        match &e.ty {
            Ty::Float | Ty::Error => e,
            Ty::Int | Ty::Bool => {
                let span = e.span;
                Expr::new(ExprKind::ToFloat(boxed(e)), Ty::Float, span)
            }
            _ => self.coerce(e, &Ty::Float, what),
        }
    }

    pub(crate) fn check_expected(&mut self, cx: &mut Ctx, e: &ast::Expr, expected: &Ty) -> Expr {
        self.check_expected_as(cx, e, expected, "this value")
    }

    /// Checks `e` against a known type; `what` names the value in messages ("param `w`", …).
    pub(crate) fn check_expected_as(
        &mut self,
        cx: &mut Ctx,
        e: &ast::Expr,
        expected: &Ty,
        what: &str,
    ) -> Expr {
        match (&e.kind, expected.strip_optional()) {
            (ast::ExprKind::Record(fields), Ty::Record(decl)) => {
                let decl = decl.clone();
                let mut values: Vec<Option<Expr>> = vec![None; decl.len()];
                for (name, value) in fields {
                    match decl.iter().position(|f| *f.name == *name.name) {
                        Some(i) => {
                            if values[i].is_some() {
                                self.error(
                                    Diagnostic::new(
                                        Code::E0022,
                                        name.span,
                                        format!("field `{}` is given twice", name.name),
                                    )
                                    .help("remove one of them"),
                                );
                                continue;
                            }
                            let v = self.check_expected_as(
                                cx,
                                value,
                                &decl[i].ty,
                                &format!("field `{}`", name.name),
                            );
                            values[i] = Some(v);
                        }
                        None => {
                            let names: Vec<&str> = decl.iter().map(|f| &*f.name).collect();
                            let help = match closest(&name.name, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("the fields are: {}", names.join(", ")),
                            };
                            self.error(
                                Diagnostic::new(
                                    Code::E0022,
                                    name.span,
                                    format!("unknown field `{}`", name.name),
                                )
                                .label("not declared")
                                .help(help),
                            );
                            self.check_expr(cx, value);
                        }
                    }
                }
                let mut out = Vec::new();
                let mut missing = Vec::new();
                // A missing field that an unknown field was a typo of is already reported.
                let unknown: Vec<&str> = fields
                    .iter()
                    .filter(|(n, _)| !decl.iter().any(|f| *f.name == *n.name))
                    .map(|(n, _)| n.name.as_str())
                    .collect();
                for (f, v) in decl.iter().zip(values) {
                    match v {
                        Some(v) => out.push(v),
                        None if f.ty.is_optional() => {
                            out.push(Expr::constant(Value::None, f.ty.clone(), e.span))
                        }
                        None => {
                            if closest(&f.name, unknown.iter().copied()).is_none() {
                                missing.push(format!("`{}: {}`", f.name, f.ty));
                            }
                            out.push(err(e.span));
                        }
                    }
                }
                if !missing.is_empty() {
                    self.error(
                        Diagnostic::new(Code::E0022, e.span, format!("missing required field{} {}", if missing.len() > 1 { "s" } else { "" }, missing.join(", ")))
                            .help("give every field that is not optional (optional fields end in `?` and default to none)"),
                    );
                }
                Expr::new(ExprKind::Record(out), Ty::Record(decl), e.span)
            }
            (ast::ExprKind::List(items), Ty::List(elem)) => {
                let elem = (**elem).clone();
                let out: Vec<Expr> = items
                    .iter()
                    .map(|i| self.check_expected_as(cx, i, &elem, "a list element"))
                    .collect();
                Expr::new(ExprKind::List(out), Ty::list(elem), e.span)
            }
            (ast::ExprKind::Paren(inner), _) => self.check_expected_as(cx, inner, expected, what),
            _ => {
                let got = self.check_expr(cx, e);
                self.coerce(got, expected, what)
            }
        }
    }

    pub(crate) fn check_expr(&mut self, cx: &mut Ctx, e: &ast::Expr) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Int(i) => Expr::constant(Value::Int(*i), Ty::Int, span),
            ast::ExprKind::Float(x) => Expr::constant(Value::Float(*x), Ty::Float, span),
            ast::ExprKind::Text(s) => Expr::constant(Value::text(s), Ty::Text, span),
            ast::ExprKind::Bool(b) => Expr::constant(Value::Bool(*b), Ty::Bool, span),
            ast::ExprKind::None => Expr::constant(Value::None, Ty::NoneLit, span),
            ast::ExprKind::Regex { pattern, flags } => {
                match self.regex_literal(pattern, flags, span, self.in_stdlib(cx)) {
                    Some(id) => Expr::constant(Value::Regex(id), Ty::Regex, span),
                    None => err(span),
                }
            }
            ast::ExprKind::Error => err(span),
            ast::ExprKind::Paren(inner) => self.check_expr(cx, inner),
            ast::ExprKind::Name(id) => self.check_name(cx, id),
            ast::ExprKind::Field(base, name) => self.check_field(cx, base, name, span),
            ast::ExprKind::Index(base, index) => self.check_index(cx, base, index, span),
            ast::ExprKind::Unary(op, operand) => self.unary(cx, *op, operand, span),
            ast::ExprKind::Binary(op, l, r) => self.binary(cx, *op, l, r, span),
            ast::ExprKind::If(c, a, b) => self.check_if(cx, c, a, b, span),
            ast::ExprKind::List(items) => self.list_literal(cx, items, span),
            ast::ExprKind::Record(fields) => self.record_literal(cx, fields, span),
            ast::ExprKind::Call { callee, args } => self.call(cx, callee, args, span),
            ast::ExprKind::Aggregate { callee, comp } => {
                self.aggregate_comprehension(cx, callee, comp, span)
            }
        }
    }

    /// `base.name`: a rubric's tag, a machine's run record's field, or a record's field.
    fn check_field(
        &mut self,
        cx: &mut Ctx,
        base: &ast::Expr,
        name: &ast::Ident,
        span: Span,
    ) -> Expr {
        if let Some(r) = self.rubric_named(cx, base) {
            return self.rubric_part(
                cx,
                &r,
                &format!("{r}#{}", name.name),
                name.span,
                span,
                "tag",
            );
        }
        // `deliver.rewards`: a machine's (or rewarded formula's) run record.
        if let ast::ExprKind::Name(id) = &base.kind {
            let machine = self
                .term_names
                .get(&id.name)
                .copied()
                .filter(|&t| cx.allow_terms && self.terms[t].kind == ir::TermKind::Machine)
                .filter(|_| !cx.locals.iter().any(|(n, _, _)| *n == id.name));
            if let Some(total) = machine {
                // The run record is the term just before the total.
                let run = total - 1;
                let ty = self.check_term_used_at(run, id.span);
                cx.mentions.push(ir::Mention::Term(total));
                let b = Expr::new(ExprKind::Term(run), ty, base.span);
                return self.field(b, name, span);
            }
        }
        let b = self.check_expr(cx, base);
        self.field(b, name, span)
    }

    /// `base[index]`: a rubric's criterion, or an element of a list.
    fn check_index(
        &mut self,
        cx: &mut Ctx,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
    ) -> Expr {
        if let (Some(r), ast::ExprKind::Text(desc)) = (self.rubric_named(cx, base), &index.kind) {
            return self.rubric_part(
                cx,
                &r,
                &format!("{r}/{desc}"),
                index.span,
                span,
                "criterion",
            );
        }
        let b = self.check_expr(cx, base);
        let i = self.check_expr(cx, index);
        self.index(b, i, span)
    }

    fn unary(&mut self, cx: &mut Ctx, op: UnaryOp, operand: &ast::Expr, span: Span) -> Expr {
        let a = self.check_expr(cx, operand);
        match op {
            UnaryOp::Not => {
                let a = self.coerce_bool(a, "the operand of `not`");
                Expr::new(ExprKind::Not(boxed(a)), Ty::Bool, span)
            }
            UnaryOp::Neg => match a.ty {
                Ty::Int => Expr::new(ExprKind::Neg(NumKind::Int, boxed(a)), Ty::Int, span),
                Ty::Float | Ty::Bool => {
                    let a = self.float_for(a, operand, "");
                    Expr::new(ExprKind::Neg(NumKind::Float, boxed(a)), Ty::Float, span)
                }
                Ty::Error => err(span),
                _ => {
                    self.operand_error(&a, "`-`", "a number");
                    err(span)
                }
            },
        }
    }

    /// `if c then a else b`: the branches unify to one type.
    fn check_if(
        &mut self,
        cx: &mut Ctx,
        c: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
    ) -> Expr {
        let c = self.check_expr(cx, c);
        let c = self.coerce_bool(c, "an `if` condition");
        let a = self.check_expr(cx, a);
        let b = self.check_expr(cx, b);
        match unify(&a.ty, &b.ty) {
            Some(ty) => {
                let a = try_coerce(a.clone(), &ty).unwrap_or(a);
                let b = try_coerce(b.clone(), &ty).unwrap_or(b);
                Expr::new(ExprKind::If(boxed(c), boxed(a), boxed(b)), ty, span)
            }
            None => {
                self.error(
                    Diagnostic::new(Code::E0003, b.span, format!("the branches of this `if` have different types: {} and {}", a.ty, b.ty))
                        .label(format!("this is {}", b.ty))
                        .note(a.span, format!("this is {}", a.ty))
                        .help("both branches must give the same type (ints and floats mix; none makes the result optional)"),
                );
                err(span)
            }
        }
    }

    /// `[a, b, ...]`: the elements unify to one type.
    fn list_literal(&mut self, cx: &mut Ctx, items: &[ast::Expr], span: Span) -> Expr {
        let checked: Vec<Expr> = items.iter().map(|i| self.check_expr(cx, i)).collect();
        let Some(first) = checked.first() else {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    span,
                    "the type of an empty list cannot be inferred here",
                )
                .help("give the list a type: `let xs: list[text] = []`"),
            );
            return err(span);
        };
        let mut ty = first.ty.clone();
        for item in &checked[1..] {
            match unify(&ty, &item.ty) {
                Some(t) => ty = t,
                None => {
                    self.error(
                        Diagnostic::new(Code::E0003, item.span, format!("list elements must have one type: this is {}, earlier ones are {ty}", item.ty))
                            .label(format!("this is {}", item.ty))
                            .help("every element of a list has the same type"),
                    );
                    return err(span);
                }
            }
        }
        let out = checked
            .into_iter()
            .map(|i| try_coerce(i.clone(), &ty).unwrap_or(i))
            .collect();
        Expr::new(ExprKind::List(out), Ty::list(ty), span)
    }

    /// `{name: value, ...}`; a field given twice is reported and left out.
    fn record_literal(
        &mut self,
        cx: &mut Ctx,
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
    ) -> Expr {
        let mut decl = Vec::new();
        let mut out = Vec::new();
        for (name, value) in fields {
            if decl.iter().any(|f: &Field| *f.name == *name.name) {
                self.error(
                    Diagnostic::new(
                        Code::E0022,
                        name.span,
                        format!("field `{}` is given twice", name.name),
                    )
                    .help("remove one of them"),
                );
                continue;
            }
            let v = self.check_expr(cx, value);
            decl.push(Field {
                name: name.name.as_str().into(),
                ty: v.ty.clone(),
            });
            out.push(v);
        }
        Expr::new(ExprKind::Record(out), Ty::record(decl), span)
    }

    /// `base` names a rubric (in a place that may read terms): its name.
    fn rubric_named(&self, cx: &Ctx, base: &ast::Expr) -> Option<String> {
        let ast::ExprKind::Name(id) = &base.kind else {
            return None;
        };
        let local = cx.locals.iter().any(|(n, _, _)| *n == id.name);
        let term = self.term_names.get(&id.name)?;
        (cx.allow_terms && !local && self.terms[*term].kind == ir::TermKind::Rubric)
            .then(|| id.name.clone())
    }

    /// `rubric.tag` (a tag total) or `rubric["criterion"]` (a criterion's value).
    fn rubric_part(
        &mut self,
        cx: &mut Ctx,
        rubric: &str,
        key: &str,
        at: Span,
        span: Span,
        what: &str,
    ) -> Expr {
        if let Some(&term) = self.term_names.get(key) {
            let ty = self.check_term_used_at(term, span);
            cx.mentions.push(ir::Mention::Term(term));
            return Expr::new(ExprKind::Term(term), ty, span);
        }
        let sep = if what == "tag" { '#' } else { '/' };
        let prefix = format!("{rubric}{sep}");
        let known: Vec<String> = self
            .term_names
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(str::to_string)
            .collect();
        let wanted = &key[prefix.len()..];
        let help = match closest(wanted, known.iter().map(String::as_str)) {
            Some(s) if what == "tag" => format!("did you mean `{rubric}.{s}`?"),
            Some(s) => format!("did you mean `{rubric}[{s:?}]`?"),
            None if known.is_empty() && what == "tag" => format!(
                "rubric `{rubric}` has no tags; criteria are read as `{rubric}[\"description\"]`"
            ),
            None => format!("its {what}s: {}", known.join(", ")),
        };
        self.error(
            Diagnostic::new(
                Code::E0006,
                at,
                format!("rubric `{rubric}` has no {what} {wanted:?}"),
            )
            .label(format!("unknown {what}"))
            .help(help),
        );
        err(span)
    }

    fn coerce_bool(&mut self, e: Expr, what: &str) -> Expr {
        match e.ty {
            Ty::Bool | Ty::Error => e,
            _ => {
                let help = if e.ty.is_optional() {
                    "this value can be none; write `x ?? false`".to_string()
                } else if e.ty.is_numeric() {
                    "compare the number explicitly, e.g. `x > 0`".to_string()
                } else if e.ty == Ty::Text {
                    "test the text explicitly, e.g. `s != \"\"` or `s ~ /pattern/`".to_string()
                } else {
                    "conditions are bools".to_string()
                };
                let code = if e.ty.is_optional() {
                    Code::E0016
                } else {
                    Code::E0003
                };
                self.error(
                    Diagnostic::new(
                        code,
                        e.span,
                        format!("{what} must be a bool, but this is {}", e.ty),
                    )
                    .label(format!("this is {}", e.ty))
                    .help(help),
                );
                err(e.span)
            }
        }
    }

    fn operand_error(&mut self, e: &Expr, op: &str, expected: &str) {
        let (code, help) = if e.ty.is_optional() {
            (
                Code::E0016,
                "this value can be none; give a default with `?? value` first".to_string(),
            )
        } else {
            (Code::E0003, format!("{op} takes {expected}"))
        };
        self.error(
            Diagnostic::new(code, e.span, format!("{op} cannot be applied to {}", e.ty))
                .label(format!("this is {}", e.ty))
                .help(help),
        );
    }

    /// `sat(φ)`, `robustness(φ)`, `verdicts(φ)` of an `ltl` name; `None` when the name is not an
    /// `ltl` and the call is an ordinary one.
    fn ltl_call(
        &mut self,
        cx: &mut Ctx,
        what: super::ltl::LtlUse,
        callee: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let arg = match args {
            [a] => a,
            _ if self.formulas.items.is_empty() => return None,
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::E0007,
                        span,
                        format!("`{}` takes one `ltl` name", callee.name),
                    )
                    .help(format!("e.g. `{}(safe_delivery)`", callee.name)),
                );
                return Some(err(span));
            }
        };
        let ast::ExprKind::Name(id) = &arg.kind else {
            if self.formulas.items.is_empty() {
                return None;
            }
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    arg.span,
                    format!("`{}` takes the name of an `ltl` formula", callee.name),
                )
                .help("declare the formula with `ltl name = …` and pass its name"),
            );
            return Some(err(span));
        };
        let Some(&item) = self.formulas.items.get(&id.name) else {
            let help = match closest(&id.name, self.formulas.items.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare the formula with `ltl name = …` and pass its name".into(),
            };
            self.error(
                Diagnostic::new(
                    Code::E0002,
                    id.span,
                    format!("no `ltl` formula named `{}`", id.name),
                )
                .help(help),
            );
            return Some(err(span));
        };
        if !cx.allow_terms {
            self.error(
                Diagnostic::new(
                    Code::E0026,
                    span,
                    format!("a formula cannot be read in {}", cx.place),
                )
                .help("use it in a term"),
            );
            return Some(err(span));
        }
        // The truth of a formula without rewards is its term: computed once per rollout.
        if what == super::ltl::LtlUse::Sat {
            if let Some(&term) = self.term_names.get(&id.name) {
                if self.terms[term].kind == ir::TermKind::Ltl {
                    let ty = self.check_term_used_at(term, id.span);
                    cx.mentions.push(ir::Mention::Term(term));
                    return Some(Expr::new(ExprKind::Term(term), ty, span));
                }
            }
        }
        Some(self.ltl_use(cx, item, what, span))
    }

    fn check_name(&mut self, cx: &mut Ctx, id: &ast::Ident) -> Expr {
        let span = id.span;
        if let Some((_, local, ty)) = cx.locals.iter().rev().find(|(n, _, _)| *n == id.name) {
            return Expr::new(ExprKind::Local(*local), ty.clone(), span);
        }
        if let Some(&item) = self.props.items.get(&id.name) {
            return self.expand_prop(cx, id, item);
        }
        // `input` is the whole rollout: `input.type` reads a column whose name is a keyword.
        if id.name == "input" {
            return self.whole_input(cx, span);
        }
        if cx.allow_terms {
            if let Some(e) = self.term_or_column(cx, id) {
                return e;
            }
        }
        if let Some(&p) = self.scopes[cx.module].params.get(&id.name) {
            let param = &self.params[p];
            return Expr::constant(param.value.clone(), param.ty.clone(), span);
        }
        if self.modules[cx.module].ast.broken_names.contains(&id.name) {
            return err(span);
        }
        let d = self
            .unreadable_here(cx, id)
            .or_else(|| self.function_not_value(cx, id))
            .unwrap_or_else(|| self.unknown_name(cx, id));
        self.error(d);
        err(span)
    }

    /// A prop is a per-step proposition: inside a step context it stands for its expression
    /// (item `item`).
    fn expand_prop(&mut self, cx: &mut Ctx, id: &ast::Ident, item: usize) -> Expr {
        let span = id.span;
        if !cx.locals.iter().any(|(n, _, _)| n == "step") {
            self.error(
                Diagnostic::new(Code::E0028, span, format!("prop `{}` is a per-step proposition", id.name))
                    .label("used outside a step")
                    .help("use props in the guards of a machine, where `step` is the current element of the trace"),
            );
            return err(span);
        }
        if self.props.expanding.contains(&id.name) {
            self.error(
                Diagnostic::new(
                    Code::E0012,
                    span,
                    format!("prop `{}` depends on itself", id.name),
                )
                .help("break the cycle"),
            );
            return err(span);
        }
        let ast::ItemKind::Prop { value, .. } = &self.modules[0].ast.items[item].kind else {
            return err(span);
        };
        self.props.expanding.push(id.name.clone());
        let e = self.check_expr(cx, value);
        self.props.expanding.pop();
        e
    }

    /// `input`: the whole rollout, where it can be read.
    fn whole_input(&mut self, cx: &Ctx, span: Span) -> Expr {
        match (&self.input, cx.allow_terms) {
            (Some(ty), true) => Expr::new(ExprKind::Input, ty.clone(), span),
            (Some(_), false) => {
                self.error(
                    Diagnostic::new(
                        Code::E0026,
                        span,
                        format!("the rollout cannot be read in {}", cx.place),
                    )
                    .help("pass the columns you need as arguments"),
                );
                err(span)
            }
            (None, _) => {
                self.error(
                    Diagnostic::new(
                        Code::E0015,
                        span,
                        "`input` is used, but this file has no `input` block",
                    )
                    .help("declare the rollout's columns: `input { completion: text }`"),
                );
                err(span)
            }
        }
    }

    /// A term or an input column named `id` (in a place that may read them).
    fn term_or_column(&mut self, cx: &mut Ctx, id: &ast::Ident) -> Option<Expr> {
        let span = id.span;
        // In test expectations, `score` is the final score (the group's, if any); inside the
        // group block it is the row's own.
        let group_score = (id.name == "score" && cx.after_groups && !cx.in_group)
            .then(|| self.term_names.get("score#group").copied())
            .flatten();
        if let Some(term) = group_score.or_else(|| self.term_names.get(&id.name).copied()) {
            if !self.check_group_read(cx, term, span) {
                return Some(err(span));
            }
            let ty = self.check_term_used_at(term, span);
            cx.mentions.push(ir::Mention::Term(term));
            return Some(Expr::new(ExprKind::Term(term), ty, span));
        }
        let input = self.input.as_ref()?;
        let (idx, ty) = input.field_index(&id.name)?;
        let ty = ty.clone();
        let input = input.clone();
        cx.mentions.push(ir::Mention::Input(id.name.clone(), idx));
        let base = Expr::new(ExprKind::Input, input, span);
        Some(Expr::new(ExprKind::Field(boxed(base), idx), ty, span))
    }

    /// `id` is a term or an input column, in a place that cannot read them.
    fn unreadable_here(&self, cx: &Ctx, id: &ast::Ident) -> Option<Diagnostic> {
        let in_root_scope = cx.module == 0;
        let is_term_or_input = self.term_names.contains_key(&id.name)
            || self
                .input
                .as_ref()
                .is_some_and(|t| t.field_index(&id.name).is_some());
        if !(in_root_scope && is_term_or_input && !cx.allow_terms) {
            return None;
        }
        let what = if self.term_names.contains_key(&id.name) {
            "a term"
        } else {
            "an input column"
        };
        let (code, help) = match cx.place {
            "a param's value" => (Code::E0013, "params are fixed before any rollout is read; compute the value with `let` instead"),
            "a function body" => (Code::E0026, "a function sees only its arguments, params and other functions: pass the value as an argument"),
            _ => (Code::E0022, "a test's `given` is the rollout itself: write the value literally"),
        };
        Some(
            Diagnostic::new(
                code,
                id.span,
                format!("`{}` is {what}: it cannot be read in {}", id.name, cx.place),
            )
            .label(what.to_string())
            .help(help),
        )
    }

    /// `id` names a function, used as a value.
    fn function_not_value(&self, cx: &Ctx, id: &ast::Ident) -> Option<Diagnostic> {
        let is_function = self.scopes[cx.module].callables.contains_key(&id.name)
            || AggKind::from_name(&id.name).is_some();
        is_function.then(|| {
            Diagnostic::new(
                Code::E0003,
                id.span,
                format!("`{}` is a function, not a value", id.name),
            )
            .help(format!("call it: `{}(…)`", id.name))
        })
    }

    /// `id` names nothing: suggest what was probably meant.
    fn unknown_name(&self, cx: &Ctx, id: &ast::Ident) -> Diagnostic {
        let python = match id.name.as_str() {
            "True" => Some("true"),
            "False" => Some("false"),
            "None" | "null" | "nil" => Some("none"),
            _ => None,
        };
        // A term of an imported file: say why it is not visible.
        let imported_term = self.modules.iter().enumerate().any(|(m, module)| {
            m != cx.module
                && module.ast.items.iter().any(|item| {
                    matches!(&item.kind, ast::ItemKind::Let { name, .. } | ast::ItemKind::Rule { name, .. } if name.name == id.name)
                })
        });
        // Past the number of reports shown, suggestions would only cost time.
        let shown = self.diags.len() < crate::diag::MAX_RENDERED;
        let candidates = self.visible_names(cx);
        let suggestion = if shown {
            closest(&id.name, candidates.iter().map(String::as_str))
        } else {
            None
        };
        let help = match suggestion {
            _ if python.is_some() => format!("write `{}`", python.unwrap_or_default()),
            _ if imported_term => format!("`{}` is defined in an imported file, but only its `fn` and `type` items are imported; move the logic into a function there and call it", id.name),
            Some(s) => format!("did you mean `{s}`?"),
            None if cx.allow_terms => {
                "names come from the `input` block, `let`, `rule`, `rubric` and `param`".to_string()
            }
            None => "only arguments and params are visible here".to_string(),
        };
        Diagnostic::new(Code::E0002, id.span, format!("unknown name `{}`", id.name))
            .label("not defined")
            .help(help)
    }

    /// The names a typo may have meant: locals, then terms and input columns where they can
    /// be read, then params.
    fn visible_names(&self, cx: &Ctx) -> Vec<String> {
        let mut candidates: Vec<String> = cx.locals.iter().map(|(n, _, _)| n.clone()).collect();
        if cx.allow_terms {
            // Criteria, tag totals and `score` itself are never what a typo meant.
            candidates.extend(
                self.term_names
                    .keys()
                    .filter(|k| !k.contains(['/', '#']) && *k != "score")
                    .cloned(),
            );
            if let Some(Ty::Record(fields)) = &self.input {
                candidates.extend(fields.iter().map(|f| f.name.to_string()));
            }
        }
        candidates.extend(self.scopes[cx.module].params.keys().cloned());
        candidates
    }

    fn field(&mut self, base: Expr, name: &ast::Ident, span: Span) -> Expr {
        match &base.ty {
            Ty::Error => err(span),
            Ty::Record(_) => match base.ty.field_index(&name.name) {
                Some((idx, ty)) => {
                    let ty = ty.clone();
                    Expr::new(ExprKind::Field(boxed(base), idx), ty, span)
                }
                None => {
                    let Ty::Record(fields) = &base.ty else {
                        unreachable!()
                    };
                    let names: Vec<&str> = fields.iter().map(|f| &*f.name).collect();
                    let help = match closest(&name.name, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its fields are: {}", names.join(", ")),
                    };
                    self.error(
                        Diagnostic::new(
                            Code::E0006,
                            name.span,
                            format!("no field `{}` on {}", name.name, base.ty),
                        )
                        .label("unknown field")
                        .help(help),
                    );
                    err(span)
                }
            },
            Ty::Optional(inner) if matches!(**inner, Ty::Record(_)) => {
                self.error(
                    Diagnostic::new(Code::E0016, base.span, format!("cannot read `.{}` of an optional record", name.name))
                        .label(format!("this is {}", base.ty))
                        .help(format!("the record can be none; write `(x ?? default).{}` or test it with `is_some(x)`", name.name)),
                );
                err(span)
            }
            other => {
                let other = other.clone();
                let help = match name.name.as_str() {
                    "length" | "len" | "size" | "count" => "use `len(x)`".to_string(),
                    "strip" => "there are no methods: write `trim(x)`".to_string(),
                    m if builtins::BUILTINS.iter().any(|b| b.name == m) => {
                        format!("there are no methods: write `{m}(x)`")
                    }
                    _ => "only records have fields".to_string(),
                };
                self.error(
                    Diagnostic::new(
                        Code::E0006,
                        name.span,
                        format!("`.{}` needs a record, but this is {other}", name.name),
                    )
                    .label(format!("this is {other}"))
                    .help(help),
                );
                err(span)
            }
        }
    }

    fn index(&mut self, base: Expr, index: Expr, span: Span) -> Expr {
        let index = self.coerce(index, &Ty::Int, "a list index");
        match &base.ty {
            Ty::Error => err(span),
            Ty::List(elem) => {
                let elem = (**elem).clone();
                Expr::new(ExprKind::Index(boxed(base), boxed(index)), elem, span)
            }
            Ty::Text => {
                self.error(
                    Diagnostic::new(Code::E0003, base.span, "text cannot be indexed").help(
                        "use `slice(s, i, i + 1)` for one character, or `words(s)[i]` for a word",
                    ),
                );
                err(span)
            }
            _ => {
                self.operand_error(&base, "indexing", "a list");
                err(span)
            }
        }
    }

    fn binary(
        &mut self,
        cx: &mut Ctx,
        op: BinaryOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> Expr {
        let a = self.check_expr(cx, l);
        if op == BinaryOp::Match {
            return self.regex_match(cx, a, r, span);
        }
        let b = self.right_operand(cx, op, &a, r);
        if a.ty == Ty::Error || b.ty == Ty::Error {
            return err(span);
        }
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let what = format!("an operand of `{}`", op.symbol());
                let a = self.coerce_bool(a, &what);
                let b = self.coerce_bool(b, &what);
                let kind = if op == BinaryOp::And {
                    ExprKind::And(boxed(a), boxed(b))
                } else {
                    ExprKind::Or(boxed(a), boxed(b))
                };
                Expr::new(kind, Ty::Bool, span)
            }
            BinaryOp::Coalesce => self.check_coalesce(a, b, span),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                if op == BinaryOp::Add {
                    match (&a.ty, &b.ty) {
                        (Ty::Text, Ty::Text) => {
                            return Expr::new(ExprKind::Concat(boxed(a), boxed(b)), Ty::Text, span)
                        }
                        (Ty::List(x), Ty::List(y)) if x == y => {
                            let ty = a.ty.clone();
                            return Expr::new(ExprKind::Concat(boxed(a), boxed(b)), ty, span);
                        }
                        _ => {}
                    }
                }
                self.arithmetic(op, a, b, l, r, span)
            }
            BinaryOp::Eq | BinaryOp::Ne => self.equality(op, a, b, span),
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.ordering(op, a, b, span)
            }
            BinaryOp::In | BinaryOp::NotIn => self.membership(op, a, b, span),
            BinaryOp::Match => unreachable!("handled above"),
        }
    }

    /// The right operand `r` of `a op r`: a literal whose type cannot be inferred alone takes
    /// it from the left side.
    fn right_operand(&mut self, cx: &mut Ctx, op: BinaryOp, a: &Expr, r: &ast::Expr) -> Expr {
        match (&op, &a.ty, &r.kind) {
            // The default of `??` has the optional's type: `xs ?? []` is a `list[text]` when
            // `xs` is a `list[text]?`.
            (
                BinaryOp::Coalesce,
                Ty::Optional(inner),
                ast::ExprKind::List(_) | ast::ExprKind::Record(_),
            ) => {
                let inner = (**inner).clone();
                self.check_expected_as(cx, r, &inner, "the default of `??`")
            }
            // A list literal takes its type from the other side: `xs + []`, `xs == []`.
            (BinaryOp::Add | BinaryOp::Eq | BinaryOp::Ne, Ty::List(_), ast::ExprKind::List(_)) => {
                let ty = a.ty.clone();
                self.check_expected_as(cx, r, &ty, &format!("the right side of `{}`", op.symbol()))
            }
            (BinaryOp::In | BinaryOp::NotIn, item, ast::ExprKind::List(items))
                if items.is_empty() && *item != Ty::Error =>
            {
                let ty = Ty::list(item.clone());
                self.check_expected_as(cx, r, &ty, "the list of `in`")
            }
            _ => self.check_expr(cx, r),
        }
    }

    /// `a ?? b`: `a` is optional, and `b` has its value's type.
    fn check_coalesce(&mut self, a: Expr, b: Expr, span: Span) -> Expr {
        if !a.ty.is_optional() {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    a.span,
                    format!("the left side of `??` is never none (it is {})", a.ty),
                )
                .label("always has a value")
                .help("remove `?? …`: the default can never be used"),
            );
            return err(span);
        }
        let inner = a.ty.strip_optional().clone();
        let Some(ty) = unify(&inner, &b.ty) else {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    b.span,
                    format!("the default of `??` must be {inner}, but this is {}", b.ty),
                )
                .label(format!("this is {}", b.ty))
                .note(a.span, format!("this is {}", a.ty))
                .help("the default replaces a missing value, so it has the value's type"),
            );
            return err(span);
        };
        let a = try_coerce(a.clone(), &Ty::optional(ty.clone())).unwrap_or(a);
        let b = try_coerce(b.clone(), &ty).unwrap_or(b);
        Expr::new(ExprKind::Coalesce(boxed(a), boxed(b)), ty, span)
    }

    /// `a == b`, `a != b`: the sides unify to one type (regexes excepted).
    fn equality(&mut self, op: BinaryOp, a: Expr, b: Expr, span: Span) -> Expr {
        let cmp = if op == BinaryOp::Eq {
            CmpOp::Eq
        } else {
            CmpOp::Ne
        };
        let comparable = |t: &Ty| !matches!(t.strip_optional(), Ty::Regex);
        if !comparable(&a.ty) || !comparable(&b.ty) {
            self.error(
                Diagnostic::new(Code::E0025, span, "regexes cannot be compared")
                    .help("compare the texts they match instead"),
            );
            return err(span);
        }
        if let Some(ty) = unify(&a.ty, &b.ty) {
            let a = try_coerce(a.clone(), &ty).unwrap_or(a);
            let b = try_coerce(b.clone(), &ty).unwrap_or(b);
            return Expr::new(ExprKind::Compare(cmp, boxed(a), boxed(b)), Ty::Bool, span);
        }
        let help =
            if (a.ty == Ty::Bool && b.ty.is_numeric()) || (b.ty == Ty::Bool && a.ty.is_numeric()) {
                "compare bools with `true`/`false`, or convert with `float(b)`".to_string()
            } else if a.ty == Ty::Text || b.ty == Ty::Text {
                "convert explicitly: `parse_float(s)` for text → number".to_string()
            } else {
                "both sides of a comparison must have the same type".to_string()
            };
        self.error(
            Diagnostic::new(
                Code::E0003,
                span,
                format!("cannot compare {} with {}", a.ty, b.ty),
            )
            .label(format!("{} {} {}", a.ty, op.symbol(), b.ty))
            .help(help),
        );
        err(span)
    }

    /// `<`, `<=`, `>`, `>=`: two numbers or two texts.
    fn ordering(&mut self, op: BinaryOp, a: Expr, b: Expr, span: Span) -> Expr {
        let cmp = match op {
            BinaryOp::Lt => CmpOp::Lt,
            BinaryOp::Le => CmpOp::Le,
            BinaryOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let ordered = |t: &Ty| matches!(t, Ty::Int | Ty::Float | Ty::Text);
        if let Some(ty) = unify(&a.ty, &b.ty).filter(|t| ordered(t)) {
            let a = try_coerce(a.clone(), &ty).unwrap_or(a);
            let b = try_coerce(b.clone(), &ty).unwrap_or(b);
            return Expr::new(ExprKind::Compare(cmp, boxed(a), boxed(b)), Ty::Bool, span);
        }
        let bad = if ordered(&a.ty) { &b } else { &a };
        let (code, help) = if bad.ty.is_optional() {
            (
                Code::E0016,
                "this value can be none; give a default with `?? value` first".to_string(),
            )
        } else {
            (
                Code::E0003,
                "`<`, `<=`, `>`, `>=` compare two numbers or two texts".to_string(),
            )
        };
        self.error(
            Diagnostic::new(code, span, format!("cannot order {} and {}", a.ty, b.ty))
                .label(format!("{} {} {}", a.ty, op.symbol(), b.ty))
                .help(help),
        );
        err(span)
    }

    /// `a in b`, `a not in b`: a substring (text in text) or an element (T in list[T]).
    fn membership(&mut self, op: BinaryOp, a: Expr, b: Expr, span: Span) -> Expr {
        let test = match (&a.ty, &b.ty) {
            (Ty::Text, Ty::Text) => Some(ExprKind::TextContains {
                haystack: boxed(b.clone()),
                needle: boxed(a.clone()),
            }),
            (item, Ty::List(elem)) => match unify(item, elem) {
                Some(u) if u == **elem => {
                    let a = try_coerce(a.clone(), elem).unwrap_or(a.clone());
                    Some(ExprKind::ListContains {
                        list: boxed(b.clone()),
                        item: boxed(a),
                    })
                }
                _ => None,
            },
            _ => None,
        };
        let Some(kind) = test else {
            self.error(
                Diagnostic::new(
                    Code::E0003,
                    span,
                    format!("`{}` cannot test {} against {}", op.symbol(), a.ty, b.ty),
                )
                .label(format!("{} {} {}", a.ty, op.symbol(), b.ty))
                .help("`in` tests a substring (text in text) or an element (T in list[T])"),
            );
            return err(span);
        };
        let e = Expr::new(kind, Ty::Bool, span);
        if op == BinaryOp::NotIn {
            Expr::new(ExprKind::Not(boxed(e)), Ty::Bool, span)
        } else {
            e
        }
    }

    fn arithmetic(
        &mut self,
        op: BinaryOp,
        a: Expr,
        b: Expr,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> Expr {
        let numeric = |t: &Ty| matches!(t, Ty::Int | Ty::Float | Ty::Bool);
        if !numeric(&a.ty) || !numeric(&b.ty) {
            let bad = if numeric(&a.ty) { &b } else { &a };
            let extra = if op == BinaryOp::Add && (a.ty == Ty::Text || b.ty == Ty::Text) {
                "; `+` joins two texts, but not text and a number"
            } else {
                ""
            };
            let (code, help) = if bad.ty.is_optional() {
                (
                    Code::E0016,
                    "this value can be none; give a default with `?? value` first".to_string(),
                )
            } else {
                (
                    Code::E0003,
                    format!(
                        "`{}` takes numbers (bools count as 0/1){extra}",
                        op.symbol()
                    ),
                )
            };
            self.error(
                Diagnostic::new(
                    code,
                    bad.span,
                    format!(
                        "`{}` cannot be applied to {} and {}",
                        op.symbol(),
                        a.ty,
                        b.ty
                    ),
                )
                .label(format!("this is {}", bad.ty))
                .help(help),
            );
            return err(span);
        }
        let arith = match op {
            BinaryOp::Add => ArithOp::Add,
            BinaryOp::Sub => ArithOp::Sub,
            BinaryOp::Mul => ArithOp::Mul,
            BinaryOp::Div => ArithOp::Div,
            _ => ArithOp::Rem,
        };
        // `/` is true division (as in Python 3): always float.
        if a.ty == Ty::Int && b.ty == Ty::Int && arith != ArithOp::Div {
            return Expr::new(
                ExprKind::Arith(arith, NumKind::Int, boxed(a), boxed(b)),
                Ty::Int,
                span,
            );
        }
        let a = self.float_for(a, l, "");
        let b = self.float_for(b, r, "");
        Expr::new(
            ExprKind::Arith(arith, NumKind::Float, boxed(a), boxed(b)),
            Ty::Float,
            span,
        )
    }

    fn regex_match(&mut self, cx: &mut Ctx, text: Expr, r: &ast::Expr, span: Span) -> Expr {
        let text_ok = match &text.ty {
            Ty::Text | Ty::Error => true,
            _ => {
                self.operand_error(&text, "`~`", "a text on the left and a regex on the right");
                false
            }
        };
        if let ast::ExprKind::Regex { pattern, flags } = &r.kind {
            let id = self.regex_literal(pattern, flags, r.span, self.in_stdlib(cx));
            return match (id, text_ok) {
                (Some(id), true) => Expr::new(ExprKind::Match(boxed(text), id), Ty::Bool, span),
                _ => err(span),
            };
        }
        let re = self.check_expr(cx, r);
        match (&re.ty, text_ok) {
            (Ty::Regex, true) => {
                let id = builtins::id::MATCHES;
                Expr::new(ExprKind::Call(id, vec![text, re]), Ty::Bool, span)
            }
            (Ty::Error, _) | (_, false) => err(span),
            (Ty::Text, true) => {
                self.error(
                    Diagnostic::new(Code::E0003, re.span, "the right side of `~` must be a regex literal, not text")
                        .label("this is text")
                        .help("write the pattern between slashes: `s ~ /pattern/flags`; to test for a substring use `needle in s`"),
                );
                err(span)
            }
            _ => {
                self.operand_error(&re, "`~`", "a regex on the right, written `/pattern/flags`");
                err(span)
            }
        }
    }

    fn call(&mut self, cx: &mut Ctx, callee: &ast::Ident, args: &[ast::Expr], span: Span) -> Expr {
        let name = callee.name.as_str();
        if let Some(what) = super::ltl::LtlUse::from_call(name) {
            if let Some(e) = self.ltl_call(cx, what, callee, args, span) {
                return e;
            }
        }
        // A user function's parameter types are known up front: check record and list literal
        // arguments against them (so `{x: 0}` can be a `{x: float}`).
        let target = self.scopes[cx.module].callables.get(name).cloned();
        if let (Some(Callable::Fn(id)), None) = (&target, AggKind::from_name(name)) {
            let params = self.fns[*id].ir.params.clone();
            if params.len() == args.len() {
                let checked: Vec<Expr> = args
                    .iter()
                    .zip(&params)
                    .map(|(a, (pname, ty))| {
                        self.check_expected_as(
                            cx,
                            a,
                            ty,
                            &format!("argument `{pname}` of `{name}`"),
                        )
                    })
                    .collect();
                if checked.iter().any(|a| a.ty == Ty::Error) {
                    return err(span);
                }
                return self.call_fn(cx, *id, callee, checked, span);
            }
        }
        let checked: Vec<Expr> = args.iter().map(|a| self.check_expr(cx, a)).collect();
        if checked.iter().any(|a| a.ty == Ty::Error) {
            return err(span);
        }
        // Inside a group block, an aggregate of one per-row value is over the group's rows.
        if let (true, Some(kind), [one]) = (
            cx.in_group,
            ir::GroupAggKind::from_name(name),
            checked.as_slice(),
        ) {
            if !matches!(one.ty, Ty::List(_)) {
                let source = one.clone();
                return self.group_aggregate(cx, kind, name, source, span);
            }
        }
        if let Some(kind) = AggKind::from_name(name) {
            // `min(a, b)`/`max(a, b)` are builtins; one list argument makes any aggregate.
            if checked.len() == 1
                && (matches!(checked[0].ty, Ty::List(_)) || !matches!(name, "min" | "max"))
            {
                let list = checked.into_iter().next().expect("one argument");
                return self.aggregate(cx, kind, callee, list, None, None, None, span);
            }
            if !matches!(name, "min" | "max") {
                self.error(
                    Diagnostic::new(
                        Code::E0007,
                        span,
                        format!(
                            "`{name}` takes one list, or a comprehension `{name}(for x in xs: …)`"
                        ),
                    )
                    .help(format!("write `{name}(for x in xs: f(x))` or `{name}(xs)`")),
                );
                return err(span);
            }
        }
        match self.scopes[cx.module].callables.get(name).cloned() {
            Some(Callable::Fn(id)) => self.call_fn(cx, id, callee, checked, span),
            Some(Callable::Builtins(ids)) => self.call_builtin(&ids, callee, checked, span),
            None if self.modules[cx.module]
                .ast
                .broken_names
                .iter()
                .any(|n| n == name)
                || self.scopes[cx.module].silenced.contains(name) =>
            {
                err(span)
            }
            None if cx.module == 0
                && (self.term_names.contains_key(name)
                    || self
                        .input
                        .as_ref()
                        .is_some_and(|t| t.field_index(name).is_some())) =>
            {
                let what = match self.term_names.get(name).map(|&t| self.terms[t].kind) {
                    Some(k) => format!("a {}", k.keyword()),
                    None => "an input column".to_string(),
                };
                self.error(
                    Diagnostic::new(
                        Code::E0003,
                        callee.span,
                        format!("`{name}` is {what}, not a function"),
                    )
                    .label("called here")
                    .help(format!("use its value without parentheses: `{name}`")),
                );
                err(span)
            }
            None => {
                let mut help = None;
                for m in crate::stdlib::MODULES {
                    let module = format!("std::{}", m.name);
                    if builtins::module_exports(&module).any(|n| n == name)
                        || std_fn_exists(m.source, name)
                    {
                        help = Some(format!(
                            "`{name}` is in `{module}`: add `use {module}::{{{name}}}`"
                        ));
                        break;
                    }
                }
                let help = help.unwrap_or_else(|| {
                    let mut names: Vec<&str> = self.scopes[cx.module]
                        .callables
                        .keys()
                        .map(String::as_str)
                        .collect();
                    names.extend([
                        "sum", "product", "mean", "min", "max", "count", "any", "all", "argmax",
                    ]);
                    match closest(name, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "define it with `fn`, or import it with `use std::…`".to_string(),
                    }
                });
                self.error(
                    Diagnostic::new(
                        Code::E0002,
                        callee.span,
                        format!("unknown function `{name}`"),
                    )
                    .label("not defined")
                    .help(help),
                );
                err(span)
            }
        }
    }

    fn call_fn(
        &mut self,
        cx: &mut Ctx,
        id: usize,
        callee: &ast::Ident,
        args: Vec<Expr>,
        span: Span,
    ) -> Expr {
        let params = self.fns[id].ir.params.clone();
        let ret = self.fns[id].ir.ret.clone();
        if let Some(caller) = cx.in_fn {
            self.fn_calls.push((caller, id, callee.span));
        }
        if args.len() != params.len() {
            let sig: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            self.error(
                Diagnostic::new(
                    Code::E0007,
                    span,
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        callee.name,
                        params.len(),
                        plural(params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .help(format!("`fn {}({}) -> {ret}`", callee.name, sig.join(", "))),
            );
            return err(span);
        }
        let mut out = Vec::new();
        for (a, (pname, pty)) in args.into_iter().zip(params) {
            out.push(self.coerce(a, &pty, &format!("argument `{pname}` of `{}`", callee.name)));
        }
        Expr::new(ExprKind::CallFn(id, out), ret, span)
    }

    fn call_builtin(
        &mut self,
        ids: &[BuiltinId],
        callee: &ast::Ident,
        args: Vec<Expr>,
        span: Span,
    ) -> Expr {
        for &id in ids {
            if let Some((args, ret)) = match_builtin(id, &args) {
                return Expr::new(ExprKind::Call(id, args), ret, span);
            }
        }
        let sigs: Vec<String> = ids.iter().map(|&i| signature(i)).collect();
        let arities: Vec<usize> = ids
            .iter()
            .map(|&i| builtins::BUILTINS[i].params.len())
            .collect();
        if !arities.contains(&args.len()) {
            let n = arities[0];
            self.error(
                Diagnostic::new(
                    Code::E0007,
                    span,
                    format!(
                        "`{}` takes {n} argument{}, but {} {} given",
                        callee.name,
                        plural(n),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .help(sigs.join("; ")),
            );
        } else if let ([id], Some(bad)) = (
            ids,
            args.iter()
                .enumerate()
                .find(|(i, a)| !param_accepts(builtins::BUILTINS[ids[0]].params[*i], &a.ty)),
        ) {
            // One signature: point at the argument that does not fit.
            let (i, a) = bad;
            let expected = param_name(builtins::BUILTINS[*id].params[i]);
            let code = if a.ty.is_optional() {
                Code::E0016
            } else {
                Code::E0003
            };
            let help = if a.ty.is_optional() {
                format!(
                    "this value can be none; give it a default with `?? value`. Signature: {}",
                    sigs[0]
                )
            } else {
                format!("the signature is {}", sigs[0])
            };
            self.error(
                Diagnostic::new(
                    code,
                    a.span,
                    format!(
                        "argument {} of `{}` must be {expected}, but this is {}",
                        i + 1,
                        callee.name,
                        a.ty
                    ),
                )
                .label(format!("this is {}", a.ty))
                .help(help),
            );
        } else {
            let got: Vec<String> = args.iter().map(|a| a.ty.to_string()).collect();
            let any_optional = args.iter().any(|a| a.ty.is_optional());
            let mut d = Diagnostic::new(
                if any_optional {
                    Code::E0016
                } else {
                    Code::E0003
                },
                span,
                format!(
                    "`{}` cannot be called with ({})",
                    callee.name,
                    got.join(", ")
                ),
            )
            .help(if any_optional {
                format!(
                    "an argument can be none; give it a default with `?? value`. Signature: {}",
                    sigs.join("; ")
                )
            } else {
                format!("expected {}", sigs.join("; "))
            });
            for a in &args {
                d = d.note(a.span, format!("this is {}", a.ty));
            }
            self.error(d);
        }
        err(span)
    }

    fn aggregate_comprehension(
        &mut self,
        cx: &mut Ctx,
        callee: &ast::Ident,
        comp: &ast::Comprehension,
        span: Span,
    ) -> Expr {
        let Some(kind) = AggKind::from_name(&callee.name) else {
            self.error(
                Diagnostic::new(Code::E0027, callee.span, format!("`{}` cannot take a comprehension", callee.name))
                    .label("not an aggregate")
                    .help("comprehensions `for x in xs: …` go inside sum, product, mean, min, max, count, any, all or argmax"),
            );
            return err(span);
        };
        let iter = self.check_expr(cx, &comp.iter);
        self.aggregate(
            cx,
            kind,
            callee,
            iter,
            Some(&comp.var),
            comp.filter.as_ref(),
            comp.body.as_ref(),
            span,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate(
        &mut self,
        cx: &mut Ctx,
        kind: AggKind,
        callee: &ast::Ident,
        iter: Expr,
        var: Option<&ast::Ident>,
        filter: Option<&ast::Expr>,
        body: Option<&ast::Expr>,
        span: Span,
    ) -> Expr {
        let elem = match &iter.ty {
            Ty::List(e) => (**e).clone(),
            Ty::Error => return err(span),
            other => {
                let other = other.clone();
                let help = match other {
                    Ty::Text => {
                        "iterate over `words(s)`, `lines(s)` or `find_all(s, /re/)`".to_string()
                    }
                    _ if other.is_optional() => {
                        "this list can be none; write `xs ?? []`".to_string()
                    }
                    _ => "aggregates fold a list".to_string(),
                };
                self.error(
                    Diagnostic::new(
                        Code::E0018,
                        iter.span,
                        format!("`{}` needs a list, but this is {other}", callee.name),
                    )
                    .label(format!("this is {other}"))
                    .help(help),
                );
                return err(span);
            }
        };
        let local = cx.fresh_local();
        let var_name = var.map_or_else(|| "_".to_string(), |v| v.name.clone());
        cx.locals.push((var_name, local, elem.clone()));
        let filter = filter.map(|f| {
            let e = self.check_expr(cx, f);
            self.coerce_bool(e, "a comprehension filter")
        });
        let body = body.map(|b| self.check_expr(cx, b));
        cx.locals.pop();
        let folded = body.as_ref().map_or(elem, |b| b.ty.clone());
        if folded == Ty::Error {
            return err(span);
        }
        let ty = match kind {
            AggKind::Sum | AggKind::Product => match folded {
                Ty::Int => Ty::Int,
                Ty::Float | Ty::Bool => Ty::Float,
                _ => {
                    return self.aggregate_elem_error(
                        callee,
                        &folded,
                        "numbers",
                        body.as_ref().map_or(iter.span, |b| b.span),
                    )
                }
            },
            AggKind::Mean => match folded {
                Ty::Int | Ty::Float | Ty::Bool => Ty::optional(Ty::Float),
                _ => {
                    return self.aggregate_elem_error(
                        callee,
                        &folded,
                        "numbers",
                        body.as_ref().map_or(iter.span, |b| b.span),
                    )
                }
            },
            AggKind::Min | AggKind::Max => match folded {
                Ty::Int | Ty::Float | Ty::Text => Ty::optional(folded.clone()),
                _ => {
                    return self.aggregate_elem_error(
                        callee,
                        &folded,
                        "numbers or texts",
                        body.as_ref().map_or(iter.span, |b| b.span),
                    )
                }
            },
            AggKind::Argmax => match folded {
                Ty::Int | Ty::Float => Ty::optional(Ty::Int),
                _ => {
                    return self.aggregate_elem_error(
                        callee,
                        &folded,
                        "numbers",
                        body.as_ref().map_or(iter.span, |b| b.span),
                    )
                }
            },
            AggKind::Count => Ty::Int,
            AggKind::Collect => Ty::list(folded.clone()),
            AggKind::Any | AggKind::All => match folded {
                Ty::Bool => Ty::Bool,
                _ => {
                    return self.aggregate_elem_error(
                        callee,
                        &folded,
                        "bools",
                        body.as_ref().map_or(iter.span, |b| b.span),
                    )
                }
            },
        };
        Expr::new(
            ExprKind::Aggregate(Box::new(ir::Aggregate {
                kind,
                var: local,
                iter,
                filter,
                body,
                elem: folded,
            })),
            ty,
            span,
        )
    }

    fn aggregate_elem_error(
        &mut self,
        callee: &ast::Ident,
        got: &Ty,
        expected: &str,
        span: Span,
    ) -> Expr {
        let help = if got.is_optional() {
            "the elements can be none; give a default inside: `for x in xs: f(x) ?? 0`".to_string()
        } else {
            format!("`{}` folds {expected}", callee.name)
        };
        self.error(
            Diagnostic::new(
                if got.is_optional() {
                    Code::E0016
                } else {
                    Code::E0018
                },
                span,
                format!("`{}` cannot fold values of type {got}", callee.name),
            )
            .label(format!("this is {got}"))
            .help(help),
        );
        err(span)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn std_fn_exists(source: &str, name: &str) -> bool {
    source.lines().any(|l| {
        l.trim_start()
            .strip_prefix("fn ")
            .is_some_and(|rest| rest.starts_with(name) && rest[name.len()..].starts_with('('))
    })
}

/// Implicit conversions: int → float, T → T?, none → T?, and `Error` to anything.
pub(crate) fn try_coerce(e: Expr, target: &Ty) -> Option<Expr> {
    if e.ty == *target || e.ty == Ty::Error || *target == Ty::Error {
        return Some(e);
    }
    let span = e.span;
    match (&e.ty, target) {
        (Ty::Int, Ty::Float) => Some(Expr::new(ExprKind::ToFloat(Box::new(e)), Ty::Float, span)),
        (Ty::NoneLit, Ty::Optional(_)) => Some(Expr::new(e.kind, target.clone(), span)),
        (Ty::Optional(inner), Ty::Optional(t)) if **inner == Ty::Int && **t == Ty::Float => Some(
            Expr::new(ExprKind::ToFloat(Box::new(e)), target.clone(), span),
        ),
        (t, Ty::Optional(inner)) if !t.is_optional() => {
            let c = try_coerce(e, inner)?;
            Some(Expr::new(ExprKind::Some(Box::new(c)), target.clone(), span))
        }
        _ => None,
    }
}

/// Whether a value of type `ty` can be passed for a parameter (with the implicit conversions).
fn param_accepts(p: P, ty: &Ty) -> bool {
    match p {
        P::Bool => *ty == Ty::Bool,
        P::Int => *ty == Ty::Int,
        P::Float | P::Num => matches!(ty, Ty::Int | Ty::Float | Ty::Bool),
        P::Text => *ty == Ty::Text,
        P::Regex => *ty == Ty::Regex,
        P::List => matches!(ty, Ty::List(_)),
        P::ListText => *ty == Ty::list(Ty::Text),
        P::ListFloat => matches!(ty, Ty::List(e) if matches!(**e, Ty::Float | Ty::Int)),
        P::Points => *ty == Ty::list(Ty::list(Ty::Float)),
        P::Opt => ty.is_optional(),
    }
}

fn param_name(p: P) -> &'static str {
    match p {
        P::Bool => "bool",
        P::Int => "int",
        P::Float => "float",
        P::Num => "a number",
        P::Text => "text",
        P::Regex => "a regex (`/pattern/`)",
        P::List => "a list",
        P::ListText => "list[text]",
        P::ListFloat => "list[float]",
        P::Points => "list[list[float]]",
        P::Opt => "an optional value",
    }
}

/// A builtin's signature as diagnostics (and hovers) write it: `len(text|list[T]) -> int`.
pub(crate) fn signature(id: BuiltinId) -> String {
    let b = &builtins::BUILTINS[id];
    let params: Vec<&str> = b
        .params
        .iter()
        .map(|p| match p {
            P::Bool => "bool",
            P::Int => "int",
            P::Float => "float",
            P::Num => "int|float",
            P::Text => "text",
            P::Regex => "regex",
            P::List => "list[T]",
            P::ListText => "list[text]",
            P::ListFloat => "list[float]",
            P::Points => "list[list[float]]",
            P::Opt => "T?",
        })
        .collect();
    let ret = match b.ret {
        R::Bool => "bool",
        R::Int => "int",
        R::Float => "float",
        R::Text => "text",
        R::OptText => "text?",
        R::OptInt => "int?",
        R::OptFloat => "float?",
        R::ListText => "list[text]",
        R::ListInt => "list[int]",
        R::Num => "int|float",
        R::OptElem => "T?",
        R::SameList => "list[T]",
        R::MachineRun => "{total: float, rewards: list[float], done: int?, state: text}",
    };
    format!("`{}({}) -> {ret}`", b.name, params.join(", "))
}

/// Matches arguments against one builtin signature, inserting coercions; `None` if they do not fit.
fn match_builtin(id: BuiltinId, args: &[Expr]) -> Option<(Vec<Expr>, Ty)> {
    let b = &builtins::BUILTINS[id];
    if b.params.len() != args.len() {
        return None;
    }
    let mut elem: Option<Ty> = None;
    let any_float_num = b
        .params
        .iter()
        .zip(args)
        .any(|(p, a)| *p == P::Num && matches!(a.ty, Ty::Float | Ty::Bool));
    let mut out = Vec::new();
    for (p, a) in b.params.iter().zip(args) {
        let a = a.clone();
        let converted = match p {
            P::Bool => (a.ty == Ty::Bool).then_some(a),
            P::Int => (a.ty == Ty::Int).then_some(a),
            P::Text => (a.ty == Ty::Text).then_some(a),
            P::Regex => (a.ty == Ty::Regex).then_some(a),
            P::ListText => (a.ty == Ty::list(Ty::Text)).then_some(a),
            P::ListFloat => {
                matches!(&a.ty, Ty::List(e) if matches!(**e, Ty::Float | Ty::Int)).then_some(a)
            }
            P::Points => (a.ty == Ty::list(Ty::list(Ty::Float))).then_some(a),
            P::Float | P::Num if matches!(a.ty, Ty::Float) => Some(a),
            P::Float => matches!(a.ty, Ty::Int | Ty::Bool).then(|| {
                let span = a.span;
                Expr::new(ExprKind::ToFloat(Box::new(a)), Ty::Float, span)
            }),
            P::Num => match a.ty {
                Ty::Int if !any_float_num => Some(a),
                Ty::Int | Ty::Bool => {
                    let span = a.span;
                    Some(Expr::new(ExprKind::ToFloat(Box::new(a)), Ty::Float, span))
                }
                _ => None,
            },
            P::List => match &a.ty {
                Ty::List(e) => {
                    elem = Some((**e).clone());
                    Some(a)
                }
                _ => None,
            },
            P::Opt => a.ty.is_optional().then_some(a),
        };
        out.push(converted?);
    }
    let ret = match b.ret {
        R::Bool => Ty::Bool,
        R::Int => Ty::Int,
        R::Float => Ty::Float,
        R::Text => Ty::Text,
        R::OptText => Ty::optional(Ty::Text),
        R::OptInt => Ty::optional(Ty::Int),
        R::OptFloat => Ty::optional(Ty::Float),
        R::ListText => Ty::list(Ty::Text),
        R::ListInt => Ty::list(Ty::Int),
        R::Num => {
            if any_float_num {
                Ty::Float
            } else {
                Ty::Int
            }
        }
        R::OptElem => Ty::optional(elem.unwrap_or(Ty::Error)),
        R::SameList => Ty::list(elem.unwrap_or(Ty::Error)),
        R::MachineRun => crate::check::machine_result_type(),
    };
    Some((out, ret))
}
