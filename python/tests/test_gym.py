"""The Gymnasium wrapper: per-step rewards from a spec's machine, equal to `reward score
--steps` on the same trace, and an environment that passes Gymnasium's own checker."""

import json

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reward
import reward.gym
from conftest import EXAMPLES

OFFICE = EXAMPLES / "office_delivery.reward"


class Corridor(gymnasium.Env):
    """Cells 0..4: coffee at 1, a decoration at 3, the office at 4. Actions: 0 left, 1 right."""

    metadata = {"render_modes": []}
    EVENTS = {1: "f", 3: "n", 4: "g"}

    def __init__(self):
        self.observation_space = gymnasium.spaces.Discrete(5)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.pos = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = 0
        return self.pos, {}

    def step(self, action):
        self.pos = int(np.clip(self.pos + (1 if action == 1 else -1), 0, 4))
        return self.pos, 0.0, self.pos == 4, False, {}


def label(obs, *_):
    return Corridor.EVENTS.get(int(obs), "")


def test_episode_rewards_equal_the_steps_stream(cli, tmp_path):
    env = reward.gym.RewardWrapper(Corridor(), str(OFFICE), labeler=label)
    obs, info = env.reset(seed=0)
    assert info["reward"]["done"] is False and env.step_type == "text"
    events, rewards = [], []
    for action in [1, 1, 0, 1, 1, 1]:
        obs, r, terminated, truncated, info = env.step(action)
        events.append(label(obs))
        rewards.append(r)
        if terminated:
            break
    path = tmp_path / "trace.jsonl"
    path.write_text(json.dumps({"events": events}) + "\n")
    status, lines, stderr = cli("score", OFFICE, path, "--steps")
    assert status == 0, stderr
    assert rewards == json.loads(lines[0])["steps"]["deliver"]
    assert sum(rewards) == -1.0  # the corridor passes the decoration before the office
    assert info["reward"]["done"] is True


def test_check_env_passes():
    env = reward.gym.RewardWrapper(Corridor(), str(OFFICE), labeler=label, terminate_on_done=True)
    check_env(env, skip_render_check=True)


def test_add_mode_and_bad_labels():
    env = reward.gym.RewardWrapper(Corridor(), str(OFFICE), labeler=lambda *_: 3, mode="add")
    env.reset()
    with pytest.raises(ValueError, match="expected text"):
        env.step(1)
    with pytest.raises(ValueError):
        reward.gym.RewardWrapper(Corridor(), str(OFFICE), labeler=label, mode="sum")


def test_a_spec_without_machines_cannot_wrap():
    spec = reward.compile("input { completion: text }\nscore = len(completion)")
    env = reward.gym.RewardWrapper(Corridor(), spec, labeler=label)
    env.reset()
    _, r, *_ = env.step(1)
    assert r == 0.0


def test_cross_product_observation_and_states():
    env = reward.gym.RewardWrapper(
        Corridor(), str(OFFICE), labeler=label, cross_product=True, terminate_on_done=True
    )
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=0)
    names = env.state_names()
    assert set(names) == {"fetch", "carry", "delivered", "broken"}
    assert names[obs["rm"][0]] == "fetch" and info["reward"]["states"] == {"deliver": "fetch"}
    obs, r, *_ , info = env.step(1)  # onto the coffee
    assert names[obs["rm"][0]] == "carry" and info["reward"]["states"] == {"deliver": "carry"}
    assert obs["obs"] == 1


def test_counterfactuals_cover_every_state_without_moving():
    env = reward.gym.RewardWrapper(Corridor(), str(OFFICE), labeler=label)
    env.reset()
    names = env.state_names()
    cf = env.counterfactuals("g")  # the office
    by_state = {names[q]: (names[nxt], r, ended) for q, nxt, r, ended in cf["deliver"]}
    assert by_state["carry"] == ("delivered", 1.0, True)
    assert by_state["fetch"] == ("fetch", 0.0, False)
    # The monitor did not move: the next real step still starts from `fetch`.
    _, r, *_ , info = env.step(1)
    assert info["reward"]["states"] == {"deliver": "carry"}
    assert env.potentials() == []
    with pytest.raises(ValueError):
        env.monitor.transition(0, 99, "g")
