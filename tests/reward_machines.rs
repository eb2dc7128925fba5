//! Reward machines imported from the reward-machines text format (the office and craft machines
//! of Toro Icarte et al., in tests/fixtures/reward_machines) against a reference implementation
//! of that format's semantics written here from its description, on random label sequences, on
//! both engines, in both import modes: per-step rewards, totals and the step at which the
//! machine ends.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reward::{Engine, RowError, Spec, Value};

#[path = "common/specs.rs"]
mod specs;

#[path = "common/traces.rs"]
mod traces;
use specs::compile_named;
use traces::{engines_agree, float_rows, optional_rows, xyb_rows, OPTIONAL_STEPS};

#[path = "common/random_formulas.rs"]
#[allow(dead_code)]
mod random_formulas;
use random_formulas::xorshift;

/// A machine file as the reference reads it (written here from the format's description, apart
/// from the importer): the initial state, the terminal states and the edges in file order.
struct RewardMachineFile {
    initial: i64,
    terminals: Vec<i64>,
    edges: Vec<Edge>,
}

struct Edge {
    from: i64,
    to: i64,
    guard: String,
    reward: f64,
}

/// Reads a well-formed machine file: `u` / `[t, …]` / `(u,v,'guard',ConstantRewardFunction(c))`
/// lines, `#` starting a comment.
fn parse(text: &str) -> RewardMachineFile {
    let mut lines = text
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty());
    let initial = lines.next().unwrap().parse().unwrap();
    let terminals = lines.next().unwrap();
    let terminals = terminals[1..terminals.len() - 1]
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let edges = lines
        .map(|line| {
            let parts: Vec<&str> = line[1..line.len() - 1].splitn(4, ',').collect();
            let reward = parts[3].trim();
            Edge {
                from: parts[0].trim().parse().unwrap(),
                to: parts[1].trim().parse().unwrap(),
                guard: parts[2].trim().trim_matches('\'').to_string(),
                reward: reward["ConstantRewardFunction(".len()..reward.len() - 1]
                    .trim()
                    .parse()
                    .unwrap(),
            }
        })
        .collect();
    RewardMachineFile {
        initial,
        terminals,
        edges,
    }
}

/// The spec `reward import-rm` makes of a machine file.
fn to_spec(text: &str, name: &str, compat: bool) -> String {
    reward::import_reward_machine(text, name, compat).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn machine_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/reward_machines");
    let mut files = Vec::new();
    for world in ["office", "craft"] {
        for entry in std::fs::read_dir(root.join(world)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 14, "4 office and 10 craft machines");
    files
}

fn holds(guard: &str, label: &str) -> bool {
    guard.eq_ignore_ascii_case("true")
        || guard.split('|').any(|conj| {
            conj.split('&').all(|lit| match lit.strip_prefix('!') {
                Some(p) => !label.contains(p),
                None => label.contains(lit),
            })
        })
}

/// The format's semantics: the first edge in file order whose guard holds; no match ends the
/// machine with reward 0 — or, with `compat`, pays the reward of the state's edge into a terminal
/// state (the original code's behaviour); entering a terminal state ends the machine.
fn reference(rm: &RewardMachineFile, labels: &[String], compat: bool) -> (Vec<f64>, Option<usize>) {
    let mut state = rm.initial;
    let mut done = None;
    let mut rewards = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        if done.is_some() {
            rewards.push(0.0);
            continue;
        }
        match rm
            .edges
            .iter()
            .find(|e| e.from == state && holds(&e.guard, label))
        {
            Some(e) => {
                rewards.push(e.reward);
                state = e.to;
                if rm.terminals.contains(&e.to) {
                    done = Some(i);
                }
            }
            None => {
                let paid = if compat {
                    rm.edges
                        .iter()
                        .find(|e| e.from == state && rm.terminals.contains(&e.to))
                        .map_or(0.0, |e| e.reward)
                } else {
                    0.0
                };
                rewards.push(paid);
                done = Some(i);
            }
        }
    }
    (rewards, done)
}

fn compile(text: &str) -> Spec {
    compile_named("imported.reward", text)
        .unwrap_or_else(|d| panic!("imported spec does not compile:\n{d}\n{text}"))
}

/// Every term of a row.
fn eval_row(spec: &Spec, row: &Value) -> Result<Vec<Value>, RowError> {
    spec.evaluate(&spec.row(row.clone()).expect("a row of the schema"))
}

fn term(spec: &Spec, name: &str) -> usize {
    spec.all_terms()
        .iter()
        .position(|t| t.name == name)
        .unwrap_or_else(|| panic!("no term {name}"))
}

/// (per-step rewards, done step) of the machine `rm` on one row.
fn run(spec: &Spec, labels: &[String]) -> (Vec<f64>, Option<usize>, f64) {
    let row =
        Value::Record(vec![Value::List(labels.iter().map(|l| Value::text(l)).collect())].into());
    let values = eval_row(spec, &row).unwrap_or_else(|e| panic!("row error: {}", e.message));
    let run_id = term(spec, "rm#run");
    let total_id = term(spec, "rm");
    let Value::Record(r) = &values[run_id] else {
        panic!("run is a record")
    };
    let rewards = r[1].as_list().iter().map(Value::as_f64).collect();
    let done = match &r[2] {
        Value::Int(i) => Some(*i as usize),
        _ => None,
    };
    (rewards, done, values[total_id].as_f64())
}

/// The imported spec of `rm` gives the format's rewards and done step on random label traces,
/// on both engines.
fn matches_the_format_semantics(text: &str, name: &str, cases: u32) {
    let rm = &parse(text);
    let letters: Vec<char> = ('a'..='n').collect();
    for compat in [false, true] {
        let interp = compile(&to_spec(text, name, compat));
        let jit = interp.with_engine(Engine::Jit).unwrap();
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let label = proptest::collection::vec(proptest::sample::select(letters.clone()), 0..3)
            .prop_map(|cs| cs.into_iter().collect::<String>());
        runner
            .run(&proptest::collection::vec(label, 0..25), |labels| {
                let expected = reference(rm, &labels, compat);
                for spec in [&interp, &jit] {
                    let (rewards, done, total) = run(spec, &labels);
                    let at = format!(
                        "{name} compat={compat} {} on {labels:?}",
                        spec.engine().name()
                    );
                    prop_assert_eq!(&rewards, &expected.0, "{}", at);
                    prop_assert_eq!(done, expected.1, "{}", at);
                    prop_assert_eq!(total, expected.0.iter().sum::<f64>());
                }
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn imported_machines_match_the_format_semantics_on_both_engines() {
    for file in machine_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        matches_the_format_semantics(&text, &file.display().to_string(), 96);
    }
}

/// A machine in the format with `states` states, each with `per_state` edges to random states
/// under random guards over `a`..`f` (so guards overlap: first match wins), random rewards.
fn random_machine_file(seed: u64, states: usize, per_state: usize) -> String {
    let mut x = seed | 1;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut text = format!("0 # random machine {seed}\n[{}]\n", states - 1);
    for u in 0..states - 1 {
        for _ in 0..per_state {
            let to = next(states);
            let guard: Vec<String> = (0..1 + next(2))
                .map(|_| {
                    let letter = (b'a' + next(6) as u8) as char;
                    if next(3) == 0 {
                        format!("!{letter}")
                    } else {
                        letter.to_string()
                    }
                })
                .collect();
            text.push_str(&format!(
                "({u},{to},'{}',ConstantRewardFunction({}))\n",
                guard.join("&"),
                next(5)
            ));
        }
    }
    text
}

/// Machines far over 64 edges (each step's guards take several ints): a 27-state, 78-edge
/// machine and a 60-state, 236-edge one follow the format's semantics exactly.
#[test]
fn machines_of_hundreds_of_edges_match_the_format_semantics() {
    for (seed, states, per_state) in [(7, 27, 3), (11, 60, 4), (13, 101, 3)] {
        let text = random_machine_file(seed, states, per_state);
        let rm = parse(&text);
        assert!(rm.edges.len() > 64, "{} edges", rm.edges.len());
        let spec = reward::import_reward_machine(&text, "random.txt", false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            spec.contains("order: first"),
            "overlapping guards: first match"
        );
        matches_the_format_semantics(&text, &format!("random {states}x{per_state}"), 48);
    }
}

#[test]
fn office_t1_compat_pays_the_terminal_reward_on_an_unmatched_step() {
    let file = machine_files()
        .into_iter()
        .find(|f| f.ends_with("office/t1.txt"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    // Coffee, then a decoration while holding it: no edge of state 1 matches.
    let labels = vec!["f".to_string(), "n".to_string()];
    let default = compile(&to_spec(&text, "t1", false));
    let compat = compile(&to_spec(&text, "t1", true));
    assert_eq!(run(&default, &labels), (vec![0.0, 0.0], Some(1), 0.0));
    assert_eq!(run(&compat, &labels), (vec![0.0, 1.0], Some(1), 1.0));
}

#[test]
fn overlapping_guards_need_first_match_order() {
    // Craft t5 has overlapping guards (`f` and `a` in state 0): without `order: first` the
    // compiler must refuse, with a counter-example.
    let file = machine_files()
        .into_iter()
        .find(|f| f.ends_with("craft/t5.txt"))
        .unwrap();
    let file = std::fs::read_to_string(&file).unwrap();
    let text =
        to_spec(&file, "t5", false).replace("(order: first, otherwise: end)", "(otherwise: end)");
    let err = compile_named("t5.reward", &text)
        .err()
        .expect("overlap is an error");
    assert!(
        err.contains("E0019")
            && err.contains("can both be taken")
            && err.contains("a = true")
            && err.contains("f = true"),
        "{err}"
    );
}

#[test]
fn malformed_machine_files_are_errors_naming_the_line() {
    for (text, needle) in [
        ("", "empty file"),
        ("x\n[1]\n", "line 1"),
        ("0\n1\n", "line 2"),
        ("0\n[1]\n(0,1,'a',RewardFunction)\n", "line 3"),
        (
            "0\n[1]\n(0,1,'a+b',ConstantRewardFunction(1))\n",
            "unsupported guard",
        ),
    ] {
        let err = reward::import_reward_machine(text, "malformed.txt", false)
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn rewards_computed_from_the_step_are_evaluated_only_for_the_taken_edge() {
    let spec = compile(
        r#"
input { steps: list[{x: float, goal: bool, bonus: list[float]}] }
prop at_goal = step.goal
machine reach over steps (otherwise: stay) {
    start s0
    s0 -> s0   when not at_goal reward -0.01 * step.x
    s0 -> done when at_goal     reward 10.0 - step.x + step.bonus[0]
    terminal done
}
score = reach
"#,
    );
    let jit = spec.with_engine(Engine::Jit).unwrap();
    let row = |steps: &str| {
        spec.row_from_json(&format!("{{\"steps\": {steps}}}"))
            .unwrap()
    };
    let total = term(&spec, "reach");
    // After the machine ends, the goal edge's reward (which would index an empty list) is
    // not computed.
    let ended = row(
        r#"[{"x": 1, "goal": false, "bonus": []}, {"x": 2, "goal": true, "bonus": [0.5]}, {"x": 3, "goal": true, "bonus": []}]"#,
    );
    for engine in [&spec, &jit] {
        let values = engine.evaluate(&ended).unwrap();
        let name = engine.engine().name();
        assert_eq!(values[total].as_f64(), -0.01 + 8.5, "{name}");
        // On the taken edge, an error in the reward is the row's error.
        let failing = row(r#"[{"x": 1, "goal": true, "bonus": []}]"#);
        let e = engine.evaluate(&failing).unwrap_err();
        assert_eq!(
            e.message, "index 0 is out of range for a list of 0 elements",
            "{name}"
        );
    }
}

#[test]
fn machines_over_a_list_of_floats_run_in_one_loop_equal_the_interpreter_bit_for_bit() {
    // The step is a float of a list held as one array, which the loop reads in place.
    let atoms: Vec<String> = [
        "step > 0.0",
        "step <= 1.5",
        "step == 0.0",
        "abs(step) >= 2.0",
        "step - 1.0 < 0.5",
    ]
    .map(String::from)
    .to_vec();
    let mut rng = xorshift(0xf10a_7ed5);
    let mut rows = 0;
    for _ in 0..120 {
        let machine = random_record_machine(&mut rng, &atoms);
        let src = format!("input {{ steps: list[float] }}\n{machine}score = m\n");
        let spec = compile(&src);
        let jit = spec.with_engine(Engine::Jit).expect("the JIT compiles");
        let run = term(&spec, "m#run");
        for _ in 0..4 {
            let n = (rng() % 30) as usize;
            let xs: Vec<f64> = (0..n)
                .map(|_| match rng() % 10 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => f64::NEG_INFINITY,
                    r => (r % 41) as f64 / 4.0 - 3.0 + (rng() % 9) as f64 / 2.0 - 2.0,
                })
                .collect();
            let rows_of = float_rows(&xs);
            let terms = [(run, "m#run".to_string())];
            engines_agree(&spec, &jit, (&rows_of.0, &rows_of.1), &terms, || {
                format!("{src}\nxs {xs:?}")
            })
            .ok();
            rows += 1;
        }
    }
    assert_eq!(rows, 120 * 4);
}

/// A random machine over `steps: list[{x: float, y: float, b: bool}]` with `order: first`:
/// guards of one to three atoms drawn from `atoms`, rewards with both zeros, any policy for
/// unmatched steps, and sometimes shaped.
fn random_record_machine(rng: &mut impl FnMut() -> u64, atoms: &[String]) -> String {
    let states = 2 + (rng() % 4) as usize;
    let otherwise = ["stay", "end", "error"][(rng() % 3) as usize];
    let rewards = ["-1.0", "-0.25", "0.0", "-0.0", "0.5", "1.0", "2.5"];
    let mut src =
        format!("machine m over steps (order: first, otherwise: {otherwise}) {{\n    start s0\n");
    for from in 0..states {
        // Each state has an edge to the next (every state is entered), then random ones.
        for e in 0..1 + (rng() % 3) {
            let mut guard = atoms[(rng() as usize) % atoms.len()].clone();
            for _ in 0..(rng() % 3) {
                let other = &atoms[(rng() as usize) % atoms.len()];
                guard = match rng() % 3 {
                    0 => format!("({guard}) and ({other})"),
                    1 => format!("({guard}) or not ({other})"),
                    _ => format!("not ({guard}) and ({other})"),
                };
            }
            let to = if e == 0 {
                (from + 1) % states
            } else {
                (rng() as usize) % states
            };
            let reward = rewards[(rng() as usize) % rewards.len()];
            match rng() % 6 {
                0 => src.push_str(&format!("    s{from} -> s{to} reward {reward}\n")),
                _ => src.push_str(&format!(
                    "    s{from} -> s{to} when {guard} reward {reward}\n"
                )),
            }
        }
    }
    let terminal = (rng() as usize) % (states + 1);
    if terminal > 0 && terminal < states {
        src.push_str(&format!("    terminal s{terminal}\n"));
    }
    src.push_str("}\n");
    if rng().is_multiple_of(3) {
        src.push_str("shape m potential(gamma: 0.9)\n");
    }
    src
}

#[test]
fn machines_over_records_compiled_to_one_loop_equal_the_interpreter_bit_for_bit() {
    let few: Vec<String> = [
        "step.x > 0.0",
        "step.y <= step.x",
        "step.b",
        "step.x == step.y",
        "step.x - step.y >= 0.5",
    ]
    .map(String::from)
    .to_vec();
    // More than a table of valuations holds: the guards' bits are the edges' own.
    let many: Vec<String> = (0..16)
        .map(|k| format!("step.x > {}.5 or step.y < -{k}.25", k as i64 - 8))
        .collect();
    let mut rng = xorshift(0x05ee_d0f7_ab1e);
    let (mut rows, mut failed) = (0, 0);
    for round in 0..240 {
        let atoms = if round % 4 == 3 { &many } else { &few };
        let machine = random_record_machine(&mut rng, atoms);
        let src = format!(
            "input {{ steps: list[{{x: float, y: float, b: bool}}] }}\n{machine}score = m\n"
        );
        let spec = compile(&src);
        let jit = spec.with_engine(Engine::Jit).expect("the JIT compiles");
        let run = term(&spec, "m#run");
        for _ in 0..5 {
            let n = (rng() % 30) as usize;
            let float = |r: u64| match r % 10 {
                0 => f64::NAN,
                1 => -0.0,
                2 => f64::INFINITY,
                _ => (r % 41) as f64 / 4.0 - 5.0,
            };
            let xs: Vec<f64> = (0..n).map(|_| float(rng())).collect();
            let ys: Vec<f64> = (0..n).map(|_| float(rng())).collect();
            let bs: Vec<bool> = (0..n).map(|_| rng().is_multiple_of(3)).collect();
            let (as_columns, as_values) = xyb_rows(&xs, &ys, &bs);
            let terms = [(run, "m#run".to_string())];
            let want = engines_agree(&spec, &jit, (&as_columns, &as_values), &terms, || {
                format!("{src}\nx {xs:?}\ny {ys:?}\nb {bs:?}")
            });
            rows += 1;
            failed += usize::from(want.is_err());
        }
    }
    assert_eq!(rows, 240 * 5);
    // Some rows end in the error of `otherwise: error`, most do not.
    assert!(
        failed > 20 && failed < rows / 2,
        "{failed} of {rows} rows failed"
    );
}

#[test]
fn machines_over_optional_fields_compiled_to_one_loop_equal_the_interpreter_bit_for_bit() {
    // Guards reading optional fields of the step with a default or a presence test: the loop
    // reads the field's array and which rows hold it in place.
    let atoms: Vec<String> = [
        "step.b ?? false",
        "(step.y ?? step.x) > 0.0",
        "is_some(step.k) and step.x > 0.0",
        "is_none(step.y)",
        "(step.k ?? -1) >= 2",
    ]
    .map(String::from)
    .to_vec();
    let mut rng = xorshift(0x0b7e_d5a1);
    let (mut rows, mut failed) = (0, 0);
    for _ in 0..120 {
        let machine = random_record_machine(&mut rng, &atoms);
        let src = format!("input {{ steps: {OPTIONAL_STEPS} }}\n{machine}score = m\n");
        let spec = compile(&src);
        let jit = spec.with_engine(Engine::Jit).expect("the JIT compiles");
        let run = term(&spec, "m#run");
        for _ in 0..4 {
            let n = (rng() % 30) as usize;
            let mut held = || !rng().is_multiple_of(3);
            let xs: Vec<f64> = (0..n)
                .map(|i| [-1.5, 0.0, -0.0, 2.0, f64::NAN][i % 5])
                .collect();
            let bs: Vec<Option<bool>> = (0..n).map(|i| held().then_some(i % 2 == 0)).collect();
            let ks: Vec<Option<i64>> = (0..n).map(|i| held().then_some(i as i64 % 4)).collect();
            let ys: Vec<Option<f64>> = xs.iter().map(|&x| held().then_some(1.0 - x)).collect();
            let (as_columns, as_values) = optional_rows(&xs, &bs, &ks, &ys);
            let terms = [(run, "m#run".to_string())];
            let want = engines_agree(&spec, &jit, (&as_columns, &as_values), &terms, || {
                format!("{src}\nx {xs:?}\nb {bs:?}\nk {ks:?}\ny {ys:?}")
            });
            rows += 1;
            failed += usize::from(want.is_err());
        }
    }
    assert_eq!(rows, 120 * 4);
    assert!(failed < rows / 2, "{failed} of {rows} rows failed");
}
