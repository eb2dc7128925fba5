"""verl: point `reward.custom_reward_function.path` at this file and `name` at
`compute_score`. Every sample returns the same keys: score, each term, reward_error."""

import pathlib

import reward.verl

SPEC = pathlib.Path(__file__).parents[1] / "verl_gsm8k.reward"

compute_score = reward.verl.make_compute_score(str(SPEC))

if __name__ == "__main__":
    print(compute_score("openai/gsm8k", "Let me think... #### 72", "72"))
