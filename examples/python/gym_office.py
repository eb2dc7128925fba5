"""Gymnasium: the office-delivery reward machine as the reward of a small corridor world."""

import pathlib

import gymnasium
import numpy as np

import reward.gym

SPEC = pathlib.Path(__file__).parents[1] / "office_delivery.reward"


class Corridor(gymnasium.Env):
    """Cells 0..4: coffee at 1, the office at 4. Actions: 0 left, 1 right."""

    EVENTS = {1: "f", 4: "g"}

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
        return self.pos, 0.0, False, False, {}


env = reward.gym.RewardWrapper(
    Corridor(), str(SPEC), labeler=lambda obs, *_: Corridor.EVENTS.get(obs, ""), terminate_on_done=True
)
obs, info = env.reset(seed=0)
for t in range(10):
    obs, r, terminated, truncated, info = env.step(1)
    print(t, obs, r, info["reward"])
    if terminated:
        break
