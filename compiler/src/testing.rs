//! `reward test`: runs the test blocks of a spec and reports failures with the values of every
//! term and input field the failing expectation mentions.

use std::fmt::Write;

use reward_runtime::Value;

use crate::diag::FileId;
use crate::ir::{Mention, Test};
use crate::scoring::{compile_source, show_value, value_json, Spec};

pub struct TestReport {
    pub passed: usize,
    pub failed: usize,
    pub output: String,
}

pub fn run_tests(spec: &Spec) -> TestReport {
    let mut report = TestReport {
        passed: 0,
        failed: 0,
        output: String::new(),
    };
    for test in &spec.program.tests {
        if test.params.is_empty() {
            run_one(spec, test, &mut report);
            continue;
        }
        // Params are folded into the program, so a test that sets them runs on a spec compiled
        // with its values.
        let overrides = param_overrides(spec, test);
        let root = FileId(0);
        match compile_source(
            spec.sources.name(root),
            spec.sources.text(root),
            &spec.root_dir,
            &overrides,
        ) {
            Ok(variant) => match variant.program.tests.iter().find(|t| t.name == test.name) {
                Some(t) => run_one(&variant, t, &mut report),
                None => {
                    report.failed += 1;
                    let _ = writeln!(
                        report.output,
                        "FAIL {:?}: not found after recompiling with its params",
                        test.name
                    );
                }
            },
            Err(diags) => {
                report.failed += 1;
                let _ = writeln!(
                    report.output,
                    "FAIL {:?}: the spec does not compile with this test's params:\n{diags}",
                    test.name
                );
            }
        }
    }
    report
}

/// The `--param` overrides that compile `spec` the way `test` sets its params.
pub fn param_overrides(spec: &Spec, test: &Test) -> Vec<(String, String)> {
    test.params
        .iter()
        .map(|(name, value)| {
            let ty = spec
                .program
                .params
                .iter()
                .find(|p| p.name == *name)
                .map_or(reward_runtime::Ty::Error, |p| p.ty.clone());
            (name.clone(), value_json(value, &ty).to_string())
        })
        .collect()
}

fn run_one(spec: &Spec, test: &Test, report: &mut TestReport) {
    let interp = spec.interpreter();
    let program = &spec.program;
    {
        let input = match interp.eval_body(&test.given, &Value::None, &[]) {
            Ok(v) => v,
            Err(e) => {
                report.failed += 1;
                let _ = writeln!(
                    report.output,
                    "FAIL {:?}: its `given` input cannot be built: {} (at {})",
                    test.name,
                    e.message,
                    spec.locate(&e)
                );
                return;
            }
        };
        // A test's rollout is a group of one.
        let mut rows = vec![interp.eval_row(&input)];
        crate::grouping::run_groups(program, &interp, std::slice::from_ref(&input), &mut rows);
        let values = match rows.pop().expect("one row") {
            Ok(v) => v,
            Err(e) => {
                report.failed += 1;
                let term = e.term.map_or(String::new(), |t| {
                    format!(" while computing `{}`", program.terms[t].name)
                });
                let _ = writeln!(
                    report.output,
                    "FAIL {:?}: the rollout could not be scored{term}: {} (at {})",
                    test.name,
                    e.message,
                    spec.locate(&e)
                );
                return;
            }
        };
        let mut failures = String::new();
        for expect in &test.expects {
            let ok = match interp.eval_body(&expect.body, &input, &values) {
                Ok(Value::Bool(true)) => true,
                Ok(_) => false,
                Err(e) => {
                    let _ = writeln!(
                        failures,
                        "  error in expectation at {}: {}",
                        spec.locate(&e),
                        e.message
                    );
                    continue;
                }
            };
            if ok {
                continue;
            }
            let (line, col) = spec.sources.line_col(expect.span);
            let _ = writeln!(
                failures,
                "  expected: {}    ({}:{line}:{col})",
                spec.sources.snippet(expect.span),
                spec.sources.name(expect.span.file)
            );
            for m in &expect.mentions {
                let (name, shown) = match m {
                    Mention::Term(id) => {
                        let t = &program.terms[*id];
                        (t.name.clone(), show_value(&values[*id], &t.ty))
                    }
                    Mention::Input(name, idx) => {
                        let v = match &input {
                            Value::Record(fields) => fields[*idx].clone(),
                            _ => Value::None,
                        };
                        let ty = program
                            .input
                            .as_ref()
                            .and_then(|t| t.field_index(name).map(|(_, ty)| ty.clone()));
                        (
                            name.clone(),
                            ty.map_or(v.to_string(), |ty| show_value(&v, &ty)),
                        )
                    }
                };
                let _ = writeln!(failures, "      {name} = {shown}");
            }
        }
        if failures.is_empty() {
            report.passed += 1;
            let _ = writeln!(report.output, "ok   {:?}", test.name);
        } else {
            report.failed += 1;
            let _ = writeln!(report.output, "FAIL {:?}", test.name);
            report.output.push_str(&failures);
        }
    }
}
