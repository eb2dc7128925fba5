"""The trainer integrations, called the way each trainer calls them (TRL's GRPOTrainer,
verl's reward managers, OpenRLHF's remote reward file), against `reward score`."""

import json
import math

import numpy as np
import pytest

import reward
import reward.openrlhf
import reward.trl
import reward.verl
from conftest import EXAMPLES, read_rows

R1 = EXAMPLES / "r1_zero.reward"


def cli_records(cli, spec, rows, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, lines, stderr = cli("score", spec, path)
    assert status in (0, 2), stderr
    return [json.loads(line) for line in lines]


def cli_scores(records):
    return [math.nan if "error" in r else float(r["score"]) for r in records]


def trl_call(funcs, rows, conversational=False):
    """What GRPOTrainer._calculate_rewards does: every function on the same batch, keyword
    arguments only, dataset columns passed through."""
    prompts = [r.get("problem_id") or "p" for r in rows]
    completions = [r["completion"] for r in rows]
    if conversational:
        prompts = [[{"role": "user", "content": p}] for p in prompts]
        completions = [[{"role": "assistant", "content": c}] for c in completions]
    columns = {"solution": [r["solution"] for r in rows]}
    return [
        f(
            prompts=prompts,
            completions=completions,
            completion_ids=[[1, 2, 3]] * len(rows),
            trainer_state=None,
            log_extra=None,
            log_metric=None,
            **columns,
        )
        for f in funcs
    ]


@pytest.mark.parametrize("conversational", [False, True])
def test_trl_reward_funcs(cli, tmp_path, conversational):
    rows = read_rows(R1)
    funcs, weights = reward.trl.reward_funcs(str(R1))
    r = reward.compile(R1)
    assert [f.__name__ for f in funcs] == ["r1_zero", *r.terms]
    assert weights == [1.0] + [0.0] * len(r.terms)
    results = trl_call(funcs, rows, conversational)
    assert all(len(x) == len(rows) for x in results)
    expected = cli_records(cli, R1, rows, tmp_path)
    # TRL's total: the weighted sum of the functions' values.
    for i, record in enumerate(expected):
        total = sum(w * v for w, v in zip(weights, (res[i] for res in results)) if v is not None)
        assert total == float(record["score"])
        for term, res in zip(r.terms, results[1:]):
            assert res[i] == float(record["terms"][term])


def test_trl_bad_rows_give_none_and_one_evaluation_per_batch(monkeypatch):
    funcs, _ = reward.trl.reward_funcs(str(R1))
    calls = []
    original = reward.Reward.breakdown

    def counting(self, rows, strict=False):
        calls.append(1)
        return original(self, rows, strict)

    monkeypatch.setattr(reward.Reward, "breakdown", counting)
    prompts = ["a", "b"]
    completions = ["<think>\nx\n</think>\n<answer>\n4\n</answer>", None]
    results = [f(prompts=prompts, completions=completions, solution=["4", "4"]) for f in funcs]
    assert len(calls) == 1
    assert results[0][0] == 3.0 and all(res[1] is None for res in results)
    # The next batch is a new evaluation.
    funcs[0](prompts=list(prompts), completions=list(completions), solution=["4", "4"])
    assert len(calls) == 2


def test_trl_weights_and_errors():
    funcs, weights = reward.trl.reward_funcs(
        str(R1), terms=["correct", "format"], weights={"correct": 2.0}, include_total=False
    )
    assert [f.__name__ for f in funcs] == ["correct", "format"] and weights == [2.0, 0.0]
    with pytest.raises(ValueError):
        reward.trl.reward_funcs(str(R1), terms=["no_such_term"])
    single = reward.trl.reward_func(str(R1), columns={"solution": "gold"})
    out = single(prompts=["p"], completions=["<think>\nx\n</think>\n<answer>\n4\n</answer>"], gold=["4"])
    assert out == [3.0]


def test_verl_compute_score(cli, tmp_path):
    rows = read_rows(R1)
    expected = cli_records(cli, R1, rows, tmp_path)
    r = reward.compile(R1)
    keys = None
    for row, record in zip(rows, expected):
        # NaiveRewardManager: keyword call with reward_kwargs from the config.
        out = reward.verl.compute_score(
            data_source="openai/gsm8k",
            solution_str=row["completion"],
            ground_truth=row["solution"],
            extra_info={"problem_id": row.get("problem_id"), "index": 0},
            spec=str(R1),
        )
        keys = keys or list(out)
        assert list(out) == keys == ["score", *r.terms, "reward_error"]
        assert out["score"] == float(record["score"]) and out["reward_error"] == 0.0
        for term in r.terms:
            assert out[term] == float(record["terms"][term])
    bad = reward.verl.compute_score("x", None, "4", spec=str(R1))
    assert list(bad) == keys and bad["score"] == 0.0 and bad["reward_error"] == 1.0
    batch = reward.verl.compute_score_batch(
        ["d"] * len(rows), [r["completion"] for r in rows], [r["solution"] for r in rows],
        spec=str(R1),
    )
    assert [b["score"] for b in batch] == cli_scores(expected)
    bound = reward.verl.make_compute_score(str(R1))
    assert bound("d", rows[0]["completion"], rows[0]["solution"])["score"] == float(expected[0]["score"])


def test_verl_spec_from_environment(monkeypatch):
    monkeypatch.setenv("REWARD_SPEC", str(R1))
    out = reward.verl.compute_score("d", "<think>\nx\n</think>\n<answer>\n4\n</answer>", "4")
    assert out["score"] == 3.0


def test_openrlhf_reward_func(cli, tmp_path):
    rows = read_rows(R1)
    expected = cli_records(cli, R1, rows, tmp_path)
    f = reward.openrlhf.make_reward_func(str(R1), columns={"solution": "labels"})
    prompts = [f"Question {i}: " for i in range(len(rows))]
    queries = [p + r["completion"] for p, r in zip(prompts, rows)]
    out = f(queries, prompts, [r["solution"] for r in rows])
    assert set(out) == {"rewards", "scores", "extra_logs"}
    rewards = np.asarray(out["rewards"])
    assert rewards.tolist() == pytest.approx(cli_scores(expected))
    r = reward.compile(R1)
    assert set(out["extra_logs"]) == {*r.terms, "reward_error"}
    assert np.asarray(out["extra_logs"]["reward_error"]).sum() == 0


def test_datasets_style_batched_map():
    """`datasets.Dataset.map(fn, batched=True)` hands a dict of columns and takes one back."""
    r = reward.compile(R1)
    rows = read_rows(R1)
    batch = {k: [row.get(k) for row in rows] for k in ("completion", "solution", "problem_id")}
    out = r.breakdown(batch)
    assert all(len(v) == len(rows) for v in out.values())
    assert out["score"].tolist() == r.score(rows).tolist()
