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
    let failures = if test.expects.is_empty() {
        Ok(String::new())
    } else {
        expect_failures(spec, test)
    };
    match failures {
        Ok(mut failures) => {
            failures.push_str(&probe_failures(spec, test));
            if failures.is_empty() {
                report.passed += 1;
                let _ = writeln!(report.output, "ok   {:?}", test.name);
            } else {
                report.failed += 1;
                let _ = writeln!(report.output, "FAIL {:?}", test.name);
                report.output.push_str(&failures);
            }
        }
        Err(message) => {
            report.failed += 1;
            let _ = writeln!(report.output, "FAIL {:?}: {message}", test.name);
        }
    }
}

/// The failing `expect` lines of a test, each with the values it mentions; `Err` when the
/// rollout cannot be built or scored.
fn expect_failures(spec: &Spec, test: &Test) -> Result<String, String> {
    let interp = spec.interpreter();
    let program = &spec.program;
    let input = interp
        .eval_body(&test.given, &Value::None, &[])
        .map_err(|e| {
            format!(
                "its `given` input cannot be built: {} (at {})",
                e.message,
                spec.locate(&e)
            )
        })?;
    // A test's rollout is a group of one.
    let mut rows = vec![interp.eval_row(&input)];
    crate::grouping::run_groups(program, &interp, std::slice::from_ref(&input), &mut rows);
    let values = rows.pop().expect("one row").map_err(|e| {
        let term = e.term.map_or(String::new(), |t| {
            let name = reward_runtime::output::reported_term(&program.terms[t].name);
            format!(" while computing `{name}`")
        });
        format!(
            "the rollout could not be scored{term}: {} (at {})",
            e.message,
            spec.locate(&e)
        )
    })?;
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
        write_expected(&mut failures, spec, expect.span);
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
    Ok(failures)
}

/// The first line of a failed expectation: its text and where it is.
fn write_expected(out: &mut String, spec: &Spec, span: crate::diag::Span) {
    let (line, col) = spec.sources.line_col(span);
    let _ = writeln!(
        out,
        "  expected: {}    ({}:{line}:{col})",
        spec.sources.snippet(span),
        spec.sources.name(span.file)
    );
}

/// The failing `expect probe` lines of a test. The probe's rows are the `given` records of the
/// spec's tests (real golds and formats); with fewer than two distinct golds among them, the
/// probe's made-up rows. A spec with no completion or gold column to attack (a machine over
/// labels, a trajectory) is read for the static findings only, as `reward probe` reads it: then
/// `expect probe == safe` states those, and a line naming an attack family fails saying why.
fn probe_failures(spec: &Spec, test: &Test) -> String {
    if test.probes.is_empty() {
        return String::new();
    }
    let rows = given_rows(spec);
    let statics = crate::lint::findings(&spec.program, &spec.sources, &rows, false);
    let options = crate::probe::ProbeOptions::for_schema(spec.input_type(), None, None);
    let attackable = options.is_ok();
    let report = options.and_then(|o| {
        // Made-up golds (42, 17) only stand in for tests without golds, not for structured
        // ones (a box, an action) that a number cannot replace.
        let structured = rows.iter().any(|r| {
            r.get(&o.gold).and_then(|g| g.as_str()).is_some_and(|g| {
                crate::probe::is_structured(reward_runtime::native::final_answer(g).trim())
            })
        });
        crate::probe::probe_compiled(spec, &rows, &o).or_else(|e| {
            if structured {
                Err(e)
            } else {
                crate::probe::probe_compiled(spec, &[], &o)
            }
        })
    });
    let mut out = String::new();
    for p in &test.probes {
        let wanted = |name: &str| p.family.as_deref().is_none_or(|f| f == name);
        let mut found: Vec<String> = statics
            .iter()
            .filter(|f| wanted(f.kind))
            .map(|f| {
                format!(
                    "{} at {}:{}:{}: {}\n        `{}`",
                    f.kind, f.file, f.line, f.column, f.message, f.snippet
                )
            })
            .collect();
        let is_static = p
            .family
            .as_deref()
            .is_some_and(|f| crate::lint::KINDS.contains(&f));
        let mut problem = None;
        if p.family.as_deref() == Some("constant-term") {
            problem = Some(
                "a constant term shows on real rows only: run `reward probe SPEC --rows FILE`"
                    .to_string(),
            );
        }
        // Nothing to attack: the whole probe is its static findings, as in `reward probe`.
        let nothing_to_attack = p.family.is_none() && !attackable;
        if !is_static && !nothing_to_attack {
            match &report {
                // Nothing to attack on these rows: a line about an attack family cannot hold.
                Ok(r) if r.skipped.is_some() => problem = r.skipped.clone(),
                Ok(r) => found.extend(r.findings.iter().filter(|f| wanted(f.family)).map(|f| {
                    format!(
                        "{}: {} — scores {} against a correct answer's {} on {}/{} golds{}\n        minimal completion (gold {:?}): {:?}",
                        f.family,
                        f.attack,
                        f.score,
                        f.reference,
                        f.hits,
                        f.rows,
                        if f.terms.is_empty() { String::new() } else { format!(", paid by {}", f.terms.join(", ")) },
                        f.gold,
                        f.completion
                    )
                })),
                Err(e) => problem = Some(e.clone()),
            }
        }
        if problem.is_none() && found.is_empty() == p.safe {
            continue;
        }
        write_expected(&mut out, spec, p.span);
        match problem {
            Some(e) => {
                let _ = writeln!(out, "      cannot probe: {e}");
            }
            None if p.safe => {
                for f in found {
                    let _ = writeln!(out, "      found {f}");
                }
            }
            None => {
                let _ = writeln!(out, "      nothing found");
            }
        }
    }
    out
}

/// The `given` records of the spec's tests, as JSON rows.
fn given_rows(spec: &Spec) -> Vec<serde_json::Value> {
    let interp = spec.interpreter();
    let ty = spec.input_type();
    spec.program
        .tests
        .iter()
        .filter(|t| !t.expects.is_empty())
        .filter_map(|t| interp.eval_body(&t.given, &Value::None, &[]).ok())
        .map(|v| value_json(&v, ty))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{compile, Options, Source};

    const HEADER: &str = "use std::text::{extract_tag}\nuse std::math::{math_equal}\n\
                          input { completion: text, solution: text }\n\
                          let block = extract_tag(completion, \"answer\") ?? \"\"\n\
                          rule format = completion ~ /^<think>\\n.*?\\n<\\/think>\\n<answer>\\n[^<]*\\n<\\/answer>$/s\n";

    fn run(body: &str) -> crate::TestReport {
        compile(Source::text(format!("{HEADER}{body}")), &Options::default())
            .unwrap_or_else(|d| panic!("{d}"))
            .run_tests()
    }

    #[test]
    fn probe_expectations_name_the_finding_and_its_minimal_completion() {
        let report = run("rule accuracy = format and contains(block, solution)\nscore = accuracy\n\
             test \"holes\" {\n    expect probe near-miss == safe\n    expect probe containment == safe\n}\n");
        assert_eq!((report.passed, report.failed), (0, 1), "{}", report.output);
        let out = &report.output;
        for part in [
            "expected: probe near-miss == safe    (<spec>:9:12)",
            "found near miss: gold with a digit appended — scores 1 against a correct answer's 1 on 2/2 golds, paid by accuracy",
            "minimal completion (gold \"42\"): \"<think>\\nLet me work through it.\\n</think>\\n<answer>\\n420\\n</answer>\"",
            "expected: probe containment == safe    (<spec>:10:12)",
            "found containment at <spec>:6:28",
        ] {
            assert!(out.contains(part), "{part:?} not in\n{out}");
        }
    }

    #[test]
    fn a_sound_spec_is_safe_and_a_kept_hole_is_stated() {
        let sound = run("rule correct = format and math_equal(block, solution)\nscore = correct\n\
             test \"right\" {\n    given { completion: \"<think>\\nx\\n</think>\\n<answer>\\n4\\n</answer>\", solution: \"4\" }\n    expect score == 1.0\n}\n\
             test \"no hole\" {\n    expect probe == safe\n}\n");
        assert_eq!((sound.passed, sound.failed), (2, 0), "{}", sound.output);
        // `!= safe`: a finding kept on purpose; it fails once the hole is gone.
        let kept = "rule accuracy = format and contains(block, solution)\nscore = accuracy\n\
                    test \"kept\" {\n    expect probe shotgun != safe\n    expect probe containment != safe\n}\n";
        let report = run(kept);
        assert_eq!((report.passed, report.failed), (1, 0), "{}", report.output);
        let report = run(&kept.replace("contains(block, solution)", "math_equal(block, solution)"));
        assert_eq!((report.passed, report.failed), (0, 1), "{}", report.output);
        assert!(report.output.contains("nothing found"), "{}", report.output);
    }

    #[test]
    fn a_spec_with_nothing_to_attack_states_its_static_findings() {
        let machine = |note: &str| {
            compile(
                Source::text(format!(
                    "input {{ steps: list[text], note: text }}\n\
                     prop a = \"a\" in step\n\
                     machine m over steps (otherwise: stay) {{\n    start s\n    s -> t when a reward 1\n    terminal t\n}}\n\
                     rule noted = note ~ /{note}/\n\
                     score = m + (if noted then 1.0 else 0.0)\n\
                     test \"probe\" {{\n    expect probe == safe\n}}\n\
                     test \"an attack family\" {{\n    expect probe hedging == safe\n}}\n"
                )),
                &Options::default(),
            )
            .unwrap_or_else(|d| panic!("{d}"))
            .run_tests()
        };
        // Both ends anchored: the whole probe, its static findings, holds.
        let sound = machine("^done$");
        assert_eq!((sound.passed, sound.failed), (1, 1), "{}", sound.output);
        // A line that names an attack family cannot hold where nothing is attacked.
        assert!(
            sound
                .output
                .contains("cannot probe: which column holds the completion?"),
            "{}",
            sound.output
        );
        // Anchored at one end: `expect probe == safe` fails and names the finding.
        let open = machine("^done");
        assert_eq!((open.passed, open.failed), (0, 2), "{}", open.output);
        assert!(
            open.output.contains("found one-end-anchor at <spec>:8:14"),
            "{}",
            open.output
        );
    }

    #[test]
    fn a_spec_the_probe_cannot_attack_fails_with_the_reason() {
        let report = compile(
            Source::text(
                "input { completion: text, prompt: text }\nscore = len(completion)\n\
                 test \"t\" {\n    expect probe hedging == safe\n    expect probe pays-on-empty == safe\n    expect probe constant-term == safe\n}\n",
            ),
            &Options::default(),
        )
        .unwrap()
        .run_tests();
        assert_eq!(report.failed, 1, "{}", report.output);
        assert!(
            report
                .output
                .contains("cannot probe: which column holds the gold?"),
            "{}",
            report.output
        );
        // The static kinds need no attack: that line holds.
        assert!(
            !report.output.contains("pays-on-empty =="),
            "{}",
            report.output
        );
        // A constant term needs real rows, not the tests' chosen ones.
        assert!(
            report
                .output
                .contains("cannot probe: a constant term shows on real rows only"),
            "{}",
            report.output
        );
    }
}
