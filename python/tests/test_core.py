"""The core API: compile, score, breakdown, errors, layouts, threads, pickling — checked
against `reward score` on the same rows."""

import concurrent.futures
import json
import math
import pickle

import numpy as np
import pytest

import reward
from conftest import EXAMPLES, example_specs, read_rows


@pytest.mark.parametrize("spec", example_specs(), ids=lambda p: p.stem)
@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_records_identical_to_cli(spec, engine, cli):
    """Each example's rows give the records `reward score` prints, byte for byte."""
    status, expected, stderr = cli("score", spec, spec.with_suffix(".jsonl"), "--engine", engine)
    assert status in (0, 2), stderr
    r = reward.compile(spec, engine=engine)
    with open(spec.with_suffix(".jsonl"), encoding="utf-8") as f:
        text = f.read()
    assert r.score_jsonl(text) == expected
    got = r.score_json(read_rows(spec))
    for g, e in zip(got, expected, strict=True):
        if '"error"' in e and '"term"' not in e:
            # A row that does not fit the schema: same field, message in Python's words.
            assert json.loads(g)["error"].get("field") == json.loads(e)["error"].get("field")
        else:
            assert g == e


@pytest.mark.parametrize("spec", example_specs(), ids=lambda p: p.stem)
def test_scores_match_records(spec):
    r = reward.compile(spec)
    rows = read_rows(spec)
    scores = r.score(rows)
    assert scores.dtype == np.float64 and scores.shape == (len(rows),)
    for s, record in zip(scores, r.score_json(rows)):
        rec = json.loads(record)
        if "error" in rec:
            assert math.isnan(s)
        else:
            want = rec["score"]  # a number, a bool, null (none) or "NaN"/"inf"/"-inf"
            want = math.nan if want is None else float(want)
            assert s == want or (math.isnan(s) and math.isnan(want))


def test_engines_agree_bit_for_bit():
    for spec in example_specs():
        rows = read_rows(spec)
        a = reward.compile(spec, engine="jit").score(rows)
        b = reward.compile(spec, engine="interp").score(rows)
        assert a.tobytes() == b.tobytes(), spec.name


R1 = EXAMPLES / "r1_zero.reward"
GOOD = "<think>\n2+2\n</think>\n<answer>\n4\n</answer>"


def test_layouts_give_the_same_scores():
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    r = reward.compile(R1)
    rows = read_rows(R1)
    expected = r.score(rows)
    columns = {k: [row.get(k) for row in rows] for k in r.input_schema}
    table = pa.Table.from_pylist(rows)
    for layout in (columns, table, table.to_batches()[0], pd.DataFrame(rows), tuple(rows)):
        assert r.score(layout).tobytes() == expected.tobytes(), type(layout)


def test_breakdown_columns():
    r = reward.compile(R1)
    out = r.breakdown([{"completion": GOOD, "solution": "4"}, {"completion": 5, "solution": "4"}])
    assert list(out) == ["score", *r.terms, "error"]
    assert out["score"][0] == 3.0 and math.isnan(out["score"][1])
    assert out["correct"] == [True, None]
    assert out["error"][0] is None
    assert "row" not in out["error"][1] and "completion" in out["error"][1]


@pytest.mark.parametrize(
    "row, field",
    [
        ({"completion": 3, "solution": "4"}, "completion"),
        ({"completion": None, "solution": "4"}, "completion"),
        ({"completion": float("nan"), "solution": "4"}, "completion"),
        ({"solution": "4"}, "completion"),
        ({"completion": GOOD, "solution": ["4"]}, "solution"),
        ({"completion": GOOD, "solution": "4", "problem_id": 7}, "problem_id"),
        ({"completion": b"bytes", "solution": "4"}, "completion"),
    ],
)
def test_bad_rows_are_row_errors(row, field):
    r = reward.compile(R1)
    rows = [{"completion": GOOD, "solution": "4"}, row, {"completion": GOOD, "solution": "4"}]
    scores = r.score(rows)
    assert scores[0] == 3.0 and scores[2] == 3.0 and math.isnan(scores[1])
    err = r.errors(rows)[1]
    assert err["row"] == 1 and err["field"] == field
    with pytest.raises(reward.RowError) as info:
        r.score(rows, strict=True)
    assert info.value.row == 1 and info.value.field == field
    assert isinstance(info.value, ValueError)


def test_a_row_that_is_not_a_dict_is_an_error_for_that_row():
    r = reward.compile(R1)
    scores = r.score([{"completion": GOOD, "solution": "4"}, "not a row", 3, None])
    assert scores[0] == 3.0 and all(math.isnan(s) for s in scores[1:])


def test_unusable_containers_raise_type_error():
    r = reward.compile(R1)
    for bad in ("text", 3, None, object()):
        with pytest.raises(TypeError):
            r.score(bad)
    with pytest.raises(ValueError):
        r.score({"completion": [GOOD, GOOD], "solution": ["4"]})


def test_a_missing_optional_column_is_none_and_a_missing_required_one_an_error():
    r = reward.compile(R1)
    assert r.score({"completion": [GOOD], "solution": ["4"]})[0] == 3.0
    errors = r.errors({"completion": [GOOD, GOOD]})
    assert [e["field"] for e in errors] == ["solution", "solution"]


def test_numbers_follow_the_json_rules():
    r = reward.compile(
        "input { n: int, x: float, b: bool }\nscore = n + x + (if b then 1 else 0)"
    )
    assert r.score([{"n": 2, "x": 0.5, "b": True}])[0] == 3.5
    assert r.score([{"n": 2.0, "x": 1, "b": False}])[0] == 3.0  # integral float → int; int → float
    assert r.score([{"n": np.int64(2), "x": np.float32(0.5), "b": True}])[0] == 3.5
    errors = r.errors([{"n": 2.5, "x": 0, "b": True}, {"n": True, "x": 0, "b": True},
                       {"n": 1, "x": 0, "b": 1}, {"n": 2**70, "x": 0, "b": True}])
    assert [e["field"] for e in errors] == ["n", "n", "b", "n"]


def test_runtime_errors_name_the_term():
    r = reward.compile("input { xs: list[int], i: int }\nlet picked = xs[i]\nscore = picked")
    err = r.errors([{"xs": [1, 2], "i": 5}])[0]
    assert err["term"] == "picked" and err["at"].startswith("<spec>:2:")


NESTED = (
    "input { completion: text, n: int }\n"
    "let ws = [for i in range(n): completion]\n"
    "let big = [for a in ws: [for b in ws: a]]\n"
    "score = len(big)\n"
)


@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_a_rollout_over_its_memory_budget_is_a_row_error(engine):
    # 300 x 300 values hold over 1 MiB; 30 x 30 do not. The process carries on either way.
    r = reward.compile(NESTED, engine=engine, max_row_bytes=1 << 20)
    rows = [{"completion": "x", "n": 300}, {"completion": "x", "n": 30}]
    scores = r.score(rows)
    assert math.isnan(scores[0]) and scores[1] == 30.0
    err = r.errors(rows)[0]
    assert err["term"] == "big" and "more than 1 MiB of values" in err["message"]
    # The default budget (512 MiB) lets the 300 x 300 rollout through, and a pickled copy
    # keeps its own budget.
    assert reward.compile(NESTED, engine=engine).score(rows[:1])[0] == 300.0
    assert math.isnan(pickle.loads(pickle.dumps(r)).score(rows[:1])[0])
    with pytest.raises(reward.CompileError):
        reward.compile(NESTED, max_row_bytes=0)


def test_compile_error_lists_every_diagnostic(cli, tmp_path):
    text = "input { completion: text }\nlet a = lenn(completion)\nscore = a + undefined_thing\n"
    path = tmp_path / "bad.reward"
    path.write_text(text)
    with pytest.raises(reward.CompileError) as info:
        reward.compile(str(path))
    err = info.value
    assert [d.code for d in err.diagnostics] == ["E0002", "E0002"]
    assert [(d.line, d.column) for d in err.diagnostics] == [(2, 9), (3, 13)]
    assert err.diagnostics[0].help == "did you mean `len`?"
    status, _, stderr = cli("check", path)
    assert status == 1
    assert str(err) == stderr.replace(str(path), str(path))
    assert isinstance(err, ValueError)


def test_a_missing_file_is_a_compile_error():
    with pytest.raises(reward.CompileError) as info:
        reward.compile("/nonexistent/spec.reward")
    assert info.value.diagnostics[0].code is None


def test_params_and_metadata():
    r = reward.compile(R1, params={"format_weight": 0.0, "strict_format": True})
    assert r.params["format_weight"] == 0.0 and r.params["strict_format"] is True
    assert r.input_schema == {"completion": "text", "solution": "text", "problem_id": "text?"}
    assert r.score([{"completion": GOOD, "solution": "4"}])[0] == 2.0
    assert not r.test().ok  # the spec's tests expect the default params
    assert reward.compile(R1).test().ok and reward.compile(R1).test().passed > 0
    kinds = {t["name"]: t["kind"] for t in r.all_terms}
    assert kinds["correct"] == "rule"
    with pytest.raises(reward.CompileError):
        reward.compile(R1, params={"format_weight": "heavy"})
    with pytest.raises(ValueError):
        reward.compile(R1, engine="gpu")


def test_threads_share_one_reward():
    r = reward.compile(R1)
    rows = read_rows(R1) * 50
    expected = r.score(rows).tobytes()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: r.score(rows).tobytes(), range(32)))
    assert all(x == expected for x in results)


def test_pickle_recompiles():
    r = reward.compile(R1, params={"format_weight": 0.5}, engine="interp")
    clone = pickle.loads(pickle.dumps(r))
    rows = read_rows(R1)
    assert clone.engine == "interp" and clone.params == r.params
    assert clone.score(rows).tobytes() == r.score(rows).tobytes()


def test_group_terms_over_the_batch():
    spec = """
input { prompt_id: text, completion: text }
let length = len(completion)
score = length
group by prompt_id {
    let centred = score - mean(score)
    score = centred
}
"""
    r = reward.compile(spec)
    assert r.has_groups
    rows = [{"prompt_id": "a", "completion": "xx"}, {"prompt_id": "a", "completion": "xxxx"},
            {"prompt_id": "b", "completion": "x"}]
    assert list(r.score(rows)) == [-1.0, 1.0, 0.0]


def test_hostile_rows_do_not_hurt_the_process():
    r = reward.compile(R1)
    huge = "<think>" + "x" * 5_000_000
    deep = []
    for _ in range(10_000):
        deep = [deep]
    rows = [{"completion": huge, "solution": "4"}, {"completion": GOOD, "solution": deep},
            {"completion": "\ud800", "solution": "4"}]
    scores = r.score(rows)
    assert scores.shape == (3,)
    assert math.isnan(scores[1]) and math.isnan(scores[2])


def test_a_dict_of_pandas_series_is_read_by_position():
    pd = pytest.importorskip("pandas")
    r = reward.compile(R1)
    rows = read_rows(R1)
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=3)
    expected = r.score([rows[i] for i in df.index])
    got = r.score({"completion": df["completion"], "solution": df["solution"]})
    assert got.tobytes() == expected.tobytes()


def test_one_row_as_a_dict_of_strings_is_refused():
    r = reward.compile(R1)
    with pytest.raises(TypeError, match="pass a list"):
        r.score({"completion": GOOD, "solution": "4"})


def test_errors_survive_pickling():
    with pytest.raises(reward.CompileError) as info:
        reward.compile("input { completion: text }\nscore = lenn(completion)")
    clone = pickle.loads(pickle.dumps(info.value))
    assert str(clone) == str(info.value) and clone.diagnostics[0].code == "E0002"
    r = reward.compile(R1)
    with pytest.raises(reward.RowError) as row_info:
        r.score([{"completion": 3, "solution": "4"}], strict=True)
    row_clone = pickle.loads(pickle.dumps(row_info.value))
    assert (row_clone.row, row_clone.field) == (0, "completion")


def test_spec_files_are_read_as_the_cli_reads_them(tmp_path, cli):
    crlf = tmp_path / "crlf.reward"
    crlf.write_bytes(b'input { completion: text }\r\nscore = len(completion)\r\n')
    assert reward.compile(str(crlf)).score([{"completion": "abc"}])[0] == 3.0
    bad = tmp_path / "latin1.reward"
    bad.write_bytes(b"input { completion: text }\n// caf\xe9\nscore = 1\n")
    with pytest.raises(reward.CompileError) as info:
        reward.compile(str(bad))
    assert "UTF-8" in str(info.value) and info.value.diagnostics[0].code is None
    status, _, stderr = cli("check", bad)
    assert status == 1 and "UTF-8" in stderr


def test_a_term_named_error_keeps_its_column():
    r = reward.compile("input { completion: text }\nrule error = len(completion) > 3\nscore = error")
    out = r.breakdown([{"completion": "abcd"}, {"completion": 5}])
    assert r.error_column == "row_error"
    assert out["error"] == [True, None]
    assert out["row_error"][0] is None and "completion" in out["row_error"][1]


def test_numpy_booleans_and_numbers():
    r = reward.compile("input { b: bool, n: int, x: float }\nscore = (if b then 1 else 0) + n + x")
    cols = {"b": np.array([True, False]), "n": np.array([1, 2]), "x": np.array([0.5, 0.25])}
    assert r.score(cols).tolist() == [2.5, 2.25]
    assert r.score([{"b": np.bool_(True), "n": np.int32(1), "x": np.float64(1)}])[0] == 3.0


def _score_in_child(r, rows):
    return r.score(rows).tolist()


def test_scoring_after_fork_does_not_hang():
    import multiprocessing

    r = reward.compile(R1)
    rows = read_rows(R1)
    expected = r.score(rows).tolist()  # the parent's worker threads exist now
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = [pool.apply_async(_score_in_child, (r, rows)) for _ in range(2)]
        assert all(res.get(timeout=120) == expected for res in results)


def test_arrow_tables_read_in_place_match_python_rows():
    """pyarrow data goes through the Arrow C stream interface: every Arrow type a column can
    arrive in gives the scores (and errors) of the same rows as Python objects."""
    pa = pytest.importorskip("pyarrow")
    r = reward.compile(
        "input { s: text, n: int, x: float, b: bool, o: text?, steps: list[{dx: float, tag: text}] }\n"
        "score = len(s) + n + x + (if b then 1 else 0) + (if o == none then 0 else 1)"
        " + sum(for st in steps: st.dx) + count(for st in steps if st.tag == \"a\")"
    )
    rows = [
        {"s": "ab", "n": 2, "x": 0.5, "b": True, "o": None, "steps": [{"dx": 1.0, "tag": "a"}]},
        {"s": "", "n": 3, "x": 2.0, "b": False, "o": "k", "steps": []},
    ]
    expected = r.score(rows)
    steps_type = pa.list_(pa.struct([("dx", pa.float64()), ("tag", pa.string())]))
    for text_type in (pa.string(), pa.large_string(), pa.string_view()):
        for int_type in (pa.int64(), pa.int8(), pa.uint32(), pa.float64()):
            table = pa.table(
                {
                    "s": pa.array([row["s"] for row in rows], text_type),
                    "n": pa.array([row["n"] for row in rows], int_type),
                    "x": pa.array([row["x"] for row in rows], pa.float32()),
                    "b": [row["b"] for row in rows],
                    "o": pa.array([row["o"] for row in rows], text_type),
                    "steps": pa.array([row["steps"] for row in rows], steps_type),
                    "ignored": [1, 2],
                }
            )
            assert r.score(table).tolist() == expected.tolist(), (text_type, int_type)
    bad = pa.table(
        {
            "s": ["a", None, "c", "d"],
            "n": [1.0, 1.0, 1.5, 1.0],
            "x": [0.0, 0.0, 0.0, 0.0],
            "b": [True, True, True, True],
            "steps": pa.array([[], [], [], [{"dx": None, "tag": "a"}]], steps_type),
        }
    )
    errors = r.errors(bad)
    assert errors[0] is None
    assert [e["field"] for e in errors[1:]] == ["s", "n", "steps[0].dx"]


def test_arrow_columns_read_at_once_match_python_rows_in_every_layout():
    """A batch is read a column at a time (lists through their flat child array): sliced
    tables, several batches, large and fixed-size lists, nulls in optional elements and
    records must give the values of the same rows as Python objects."""
    pa = pytest.importorskip("pyarrow")
    r = reward.compile(
        "input { labels: list[text], xs: list[float?], p: {a: int, t: text}?, q: list[int] }\n"
        "score = len(labels) * 1000 + sum(for x in xs: x ?? 0.5) * 10"
        " + (p ?? {a: 100, t: \"none\"}).a + len((p ?? {a: 100, t: \"none\"}).t)"
        " + sum(for k in q: k) * 0.001"
    )
    rows = [
        {"labels": ["", "a", "bc", "a long label past eight bytes"], "xs": [1.0, None],
         "p": {"a": 3, "t": "é"}, "q": [1, 2]},
        {"labels": [], "xs": [], "p": None, "q": [3, 4]},
        {"labels": ["a", "a", "a"], "xs": [None, 2.5, -0.0], "p": {"a": -1, "t": ""}, "q": [5, 6]},
    ] * 7
    expected = r.score(rows).tolist()
    p_type = pa.struct([("a", pa.int64()), ("t", pa.string())])
    for list_of in (pa.list_, pa.large_list):
        table = pa.table(
            {
                "labels": pa.array([row["labels"] for row in rows], list_of(pa.string())),
                "xs": pa.array([row["xs"] for row in rows], list_of(pa.float64())),
                "p": pa.array([row["p"] for row in rows], p_type),
                "q": pa.array([row["q"] for row in rows], pa.list_(pa.int32(), 2)),
            }
        )
        assert r.score(table).tolist() == expected
        # Slices and several batches keep their offsets.
        assert r.score(table.slice(4, 10)).tolist() == expected[4:14]
        batches = pa.Table.from_batches(table.to_batches(max_chunksize=5))
        assert r.score(batches).tolist() == expected


def test_arrow_traces_of_scalar_records_match_python_rows():
    """A list of records of bools, ints and floats is read from the struct's child arrays as
    one array per field: every integer and float width, sliced tables and several batches must
    give the scores of the same rows as Python objects, and a null inside a step or a missing
    field is still an error naming the place."""
    pa = pytest.importorskip("pyarrow")
    r = reward.compile(
        "input { steps: list[{x: float, n: int, hit: bool}] }\n"
        "score = sum(for s in steps if s.hit: s.x * float(s.n)) + float(len(steps)) * 1000.0"
        " + (max(for s in steps: s.x) ?? -1.0)"
    )
    rows = [
        {"steps": [{"x": 1.5, "n": 2, "hit": True}, {"x": -0.25, "n": 3, "hit": False}]},
        {"steps": []},
        {"steps": [{"x": 2.0, "n": -7, "hit": True}] * 5},
    ] * 7
    expected = r.score(rows).tolist()
    for x_type, n_type in ((pa.float64(), pa.int64()), (pa.float32(), pa.int32()),
                           (pa.int16(), pa.uint8())):
        step = pa.struct([("n", n_type), ("hit", pa.bool_()), ("x", x_type)])
        if n_type == pa.uint8():
            data = [{"steps": [dict(s, n=abs(s["n"])) for s in row["steps"]]} for row in rows]
            exp = r.score(data).tolist()
        else:
            data, exp = rows, expected
        if x_type == pa.int16():
            data = [{"steps": [dict(s, x=int(s["x"])) for s in row["steps"]]} for row in data]
            exp = r.score(data).tolist()
        table = pa.table({"steps": pa.array([row["steps"] for row in data], pa.list_(step))})
        assert r.score(table).tolist() == exp
        assert r.score(table.slice(4, 10)).tolist() == exp[4:14]
        batches = pa.Table.from_batches(table.to_batches(max_chunksize=5))
        assert r.score(batches).tolist() == exp
    step = pa.struct([("x", pa.float64()), ("n", pa.int64()), ("hit", pa.bool_())])
    bad = [{"steps": [{"x": 1.0, "n": 1, "hit": True}, {"x": None, "n": 1, "hit": True}]}]
    errors = r.errors(pa.table({"steps": pa.array([row["steps"] for row in bad], pa.list_(step))}))
    assert errors[0]["field"] == "steps[1].x"
    short = pa.struct([("x", pa.float64()), ("n", pa.int64())])
    errors = r.errors(pa.table({"steps": pa.array([[{"x": 1.0, "n": 1}]], pa.list_(short))}))
    assert errors[0]["field"] == "steps[0].hit"


def assert_engines_agree_on_arrow(jit, interp, table, pa, start, chunk):
    """The JIT's scores equal the interpreter's bit for bit, and so do the row errors, on
    `table` whole, a slice of 30 rows from `start`, and in batches of `chunk` rows."""
    batched = pa.Table.from_batches(table.to_batches(max_chunksize=chunk))
    for t in (table, table.slice(start, 30), batched):
        got, want = jit.score(t), interp.score(t)
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
        assert jit.errors(t) == interp.errors(t)


def test_machines_and_formulas_over_arrow_traces_equal_the_interpreter():
    """A machine and formulas over a trace of records of scalars run in loops over the Arrow
    arrays (compiler/src/jit/machine.rs, jit/ltl.rs): their scores equal the interpreter's bit
    for bit on whole, sliced and batched tables, and a step no edge matches is the same row
    error."""
    pa = pytest.importorskip("pyarrow")
    src = (
        "input { steps: list[{x: float, y: float, hit: bool}] }\n"
        "prop half = step.x > 5.0 and step.y > 5.0\n"
        "machine nav over steps (order: first, otherwise: stay) {\n"
        "  start out\n  out -> crashed when step.hit reward -1.0\n"
        "  out -> mid when half reward 0.5\n  mid -> out when not half reward -0.25\n"
        "  mid -> home when step.x > 9.0 reward 1.0\n  terminal home, crashed\n}\n"
        "shape nav potential(gamma: 0.9)\n"
        "machine strict over steps (order: first, otherwise: error) {\n"
        "  start low\n  low -> high when step.x > 1.0 reward 0.125\n"
        "  high -> high reward -0.0\n}\n"
        "ltl safe = always(not step.hit) and eventually(half)\n"
        "score = nav + strict + robustness(safe)\n"
    )
    jit, interp = reward.compile(src), reward.compile(src, engine="interp")
    rng = np.random.default_rng(12)
    rows = []
    for k in range(40):
        n = int(rng.integers(1, 60))
        xs = rng.choice([-0.0, 0.5, 2.0, 6.0, 9.5, np.nan], n)
        ys = rng.choice([-1.0, 0.0, 6.0, 7.5, np.inf], n)
        hits = rng.random(n) < 0.05
        xs[0] = 2.0 if k % 5 else 0.5  # every fifth trace: `strict` has no edge at step 0
        rows.append([{"x": float(x), "y": float(y), "hit": bool(h)}
                     for x, y, h in zip(xs, ys, hits)])
    step = pa.struct([("x", pa.float64()), ("y", pa.float64()), ("hit", pa.bool_())])
    table = pa.table({"steps": pa.array(rows, pa.list_(step))})
    assert_engines_agree_on_arrow(jit, interp, table, pa, start=3, chunk=7)
    errors = jit.errors(table)
    assert [e is not None for e in errors] == [k % 5 == 0 for k in range(40)]
    assert "machine `strict`: no edge of state `low` matches step 0" in errors[0]["message"]


def test_machines_and_formulas_over_arrow_lists_of_scalars_equal_the_interpreter():
    """Traces that are Arrow lists of doubles, bools and int64s: the loops read the step from
    the list's child array in place (compiler/src/jit/steps.rs, `loop_arrays`). Truth,
    robustness, a bounded until, a rewarded formula, its verdicts and a machine equal the
    interpreter's bit for bit on whole, sliced and batched tables, nulls inside a list included
    (a row error on both engines)."""
    pa = pytest.importorskip("pyarrow")
    src = (
        "input { xs: list[float], hits: list[bool], levels: list[int] }\n"
        "ltl up over xs = eventually(step > 1.0) and always(step > -5.0)\n"
        "ltl paced over xs = (step > -1.0) until[0, 4] (step >= 2.0)\n"
        "ltl paid over hits = eventually(step and next(not step)) reward on accept 1.0\n"
        "shape paid potential(gamma: 0.9)\n"
        "machine climb over levels (order: first, otherwise: stay) {\n"
        "  start low\n  low -> high when step > 2 reward 1.0\n"
        "  high -> low when step < 0 reward -0.5\n}\n"
        "let v = count(for s in verdicts(paid) if s == \"satisfied\")\n"
        "score = robustness(up) + paid + climb + float(v) + (if sat(paced) then 0.25 else 0.0)\n"
    )
    jit, interp = reward.compile(src), reward.compile(src, engine="interp")
    rng = np.random.default_rng(31)
    xs, hits, levels = [], [], []
    for k in range(50):
        n = int(rng.integers(1, 40))
        x = [float(v) for v in rng.choice([-0.0, 0.0, 0.5, 2.0, -6.0, 3.5, np.nan, np.inf], n)]
        xs.append(x if k % 11 else x[:-1] + [None])  # a null inside the list: a row error
        hits.append([bool(h) for h in rng.random(n) < 0.3])
        levels.append([int(v) for v in rng.choice([-3, 0, 1, 3, 2**62], n)])
    table = pa.table({
        "xs": pa.array(xs, pa.list_(pa.float64())),
        "hits": pa.array(hits, pa.list_(pa.bool_())),
        "levels": pa.array(levels, pa.list_(pa.int64())),
    })
    assert_engines_agree_on_arrow(jit, interp, table, pa, start=5, chunk=6)
    errors = jit.errors(table)
    assert [e is not None for e in errors] == [k % 11 == 0 for k in range(50)]


def test_optional_fields_of_arrow_traces_are_read_in_place_and_equal_the_interpreter():
    """A trace of records with optional fields (Arrow nulls, and an int32 field read by
    conversion): the loops read which rows hold each field and the field's values in place
    (compiler/src/loop_shape.rs, `element_arrays`). A formula, a rewarded formula, a machine and
    comprehensions reading them with `??`, `is_some` and `is_none` equal the interpreter's bit for
    bit on whole, sliced and batched tables."""
    pa = pytest.importorskip("pyarrow")
    src = (
        "input { steps: list[{speed: float, ttc: bool?, comfort: int?, limit: float?}] }\n"
        "prop fast = step.speed > (step.limit ?? 6.0)\n"
        "ltl careful = always((step.ttc ?? false) implies not fast) reward on accept 1.0\n"
        "ltl limited = eventually(is_some(step.limit) and step.speed > 0.0)\n"
        "machine comfort over steps (order: first, otherwise: stay) {\n"
        "  start calm\n  calm -> jerky when (step.comfort ?? 0) > 2 reward -0.5\n"
        "  jerky -> calm when is_none(step.comfort) reward 0.25\n}\n"
        "let over = sum(for s in steps if is_some(s.limit): max(0.0, s.speed - (s.limit ?? 0.0)))\n"
        "let factors = sum(for s in steps: 1.0 - 0.5 * (clip(s.comfort ?? 0, 0, 6) / 6.0))\n"
        "score = careful + robustness(limited) + comfort - over + factors\n"
    )
    jit, interp = reward.compile(src), reward.compile(src, engine="interp")
    rng = np.random.default_rng(47)
    rows = []
    for _ in range(60):
        n = int(rng.integers(1, 40))
        held = lambda: rng.random(n) < 0.7  # noqa: E731
        speed = rng.choice([-0.0, 0.0, 1.5, 5.0, 7.25, 12.0], n)
        ttc, comfort, limit = held(), held(), held()
        rows.append([{
            "speed": float(speed[i]),
            "ttc": bool(rng.random() < 0.4) if ttc[i] else None,
            "comfort": int(rng.integers(-2, 9)) if comfort[i] else None,
            "limit": float(rng.choice([-0.0, 3.0, 6.5, 10.0])) if limit[i] else None,
        } for i in range(n)])
    step = pa.struct([
        ("speed", pa.float64()), ("ttc", pa.bool_()), ("comfort", pa.int32()),
        ("limit", pa.float64()),
    ])
    table = pa.table({"steps": pa.array(rows, pa.list_(step))})
    assert table.column("steps").combine_chunks().values.field("limit").null_count > 0
    assert_engines_agree_on_arrow(jit, interp, table, pa, start=7, chunk=9)
    assert jit.errors(table) == [None] * len(rows)


def test_large_arrow_tables_scored_a_slice_at_a_time_match_python_rows():
    """A table of more than a few hundred KiB is converted and scored a slice of rows at a
    time; each slice reads only its part of the list columns' child arrays. Rows at every
    slice boundary, and a bad row inside a slice, keep their place."""
    pa = pytest.importorskip("pyarrow")
    r = reward.compile(
        "input { labels: list[text], k: int }\n"
        "score = len(labels) * 1000 + k + sum(for l in labels: len(l))"
    )
    rows = [{"labels": ["ab"[: i % 3]] * (50 + i % 7) + [str(i)], "k": i} for i in range(3000)]
    expected = r.score(rows).tolist()
    table = pa.table(
        {
            "labels": pa.array([row["labels"] for row in rows], pa.list_(pa.string())),
            "k": pa.array([row["k"] for row in rows], pa.int64()),
        }
    )
    assert table.nbytes > 512 << 10
    assert r.score(table).tolist() == expected
    assert r.score(table.slice(1234, 1500)).tolist() == expected[1234:2734]
    rows[2001]["k"] = None
    errors = r.errors(pa.Table.from_pylist(rows, schema=table.schema))
    assert (errors[2001]["row"], errors[2001]["field"]) == (2001, "k")
    assert [e is None for e in errors].count(False) == 1
    scores = r.score(pa.Table.from_pylist(rows, schema=table.schema))
    assert scores[2000] == expected[2000] and list(scores[2002:]) == expected[2002:]
