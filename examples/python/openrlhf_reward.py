"""OpenRLHF: pass this file as `--reward.remote_url examples/python/openrlhf_reward.py`."""

import pathlib

import reward.openrlhf

SPEC = pathlib.Path(__file__).parents[1] / "r1_zero.reward"

reward_func = reward.openrlhf.make_reward_func(str(SPEC), columns={"solution": "labels"})

if __name__ == "__main__":
    prompt = "What is 2+2? "
    out = reward_func([prompt + "<think>\n2+2\n</think>\n<answer>\n4\n</answer>"], [prompt], ["4"])
    print(out["rewards"], {k: v for k, v in out["extra_logs"].items()})
