"""TRL GRPOTrainer with a reward spec: the spec's score trains the model, every term is logged
as rewards/<term>/mean. Run as a smoke test without TRL: `python examples/python/trl_grpo.py`."""

import pathlib

import reward.trl

SPEC = pathlib.Path(__file__).parents[1] / "r1_zero.reward"

# The dataset's gold column is `solution`, as the spec's input block names it.
funcs, weights = reward.trl.reward_funcs(str(SPEC))

try:  # the real thing, when TRL and torch are installed
    from trl import GRPOConfig, GRPOTrainer  # noqa: F401

    print("use: GRPOTrainer(model=..., reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...))")
except ImportError:
    pass

# The call GRPOTrainer makes for each function on a batch:
completions = ["<think>\n2+2\n</think>\n<answer>\n4\n</answer>", "<answer>5</answer>"]
for f, w in zip(funcs, weights):
    print(f"{f.__name__:>10} (weight {w}):", f(prompts=["p1", "p2"], completions=completions, solution=["4", "4"]))
