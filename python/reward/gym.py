"""Gymnasium: rewards from a spec's reward machines and LTLf formulas, one step at a time.

``RewardWrapper(env, spec, labeler)`` runs the spec's online monitor beside the environment:
after each ``env.step``, ``labeler(obs, action, reward, terminated, truncated, info)`` returns
the step record the spec's traces are made of (a dict with the step's fields, e.g.
``{"labels": "a"}`` or ``{"at_goal": True, "collided": False}``); the monitor advances every
machine and formula on it, and the wrapper returns the step's reward from the spec::

    env = reward.gym.RewardWrapper(gym.make("MyGrid-v0"), "office.reward",
                                   labeler=lambda obs, *_: {"labels": label_of(obs)})

``info["reward"]`` carries the step's reward per stream, each formula's verdict
(``satisfied``/``violated``/``undecided``) and ``done``. ``mode="add"`` adds the spec's reward
to the environment's instead of replacing it; ``terminate_on_done=True`` ends the episode
when every machine and formula has finished.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, SupportsFloat, Tuple

import gymnasium
from gymnasium.utils import RecordConstructorArgs

from . import Reward, compile as _compile

__all__ = ["RewardWrapper"]

Labeler = Callable[..., Mapping[str, Any]]


class RewardWrapper(gymnasium.Wrapper, RecordConstructorArgs):
    """Replaces (or adds to) the environment's reward with the spec's per-step reward."""

    def __init__(
        self,
        env: gymnasium.Env,
        spec: "str | Reward",
        labeler: Labeler,
        params: Optional[Mapping[str, Any]] = None,
        mode: str = "replace",
        terminate_on_done: bool = False,
    ):
        if mode not in ("replace", "add"):
            raise ValueError(f"mode must be 'replace' or 'add', not {mode!r}")
        RecordConstructorArgs.__init__(
            self,
            spec=spec if isinstance(spec, str) else spec.source,
            labeler=labeler,
            params=params,
            mode=mode,
            terminate_on_done=terminate_on_done,
        )
        gymnasium.Wrapper.__init__(self, env)
        self.reward_spec = spec if isinstance(spec, Reward) else _compile(spec, params=params)
        self.monitor = self.reward_spec.monitor()
        self.streams = self.monitor.streams()
        self.formulas = self.monitor.formulas()
        self.labeler = labeler
        self.mode = mode
        self.terminate_on_done = terminate_on_done

    @property
    def step_type(self) -> Optional[str]:
        """The type of the step records the labeler must return."""
        return self.monitor.step_type()

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.monitor.reset()
        info = dict(info)
        info["reward"] = {
            "rewards": {s: 0.0 for s in self.streams},
            "verdicts": {f: "undecided" for f in self.formulas},
            "done": False,
        }
        return obs, info

    def step(self, action: Any) -> Tuple[Any, SupportsFloat, bool, bool, Dict[str, Any]]:
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        record = self.labeler(obs, action, env_reward, terminated, truncated, info)
        total, rewards, verdicts, done = self.monitor.step(record)
        info = dict(info)
        info["reward"] = {
            "rewards": dict(zip(self.streams, rewards)),
            "verdicts": dict(zip(self.formulas, verdicts)),
            "done": done,
        }
        reward = total + float(env_reward) if self.mode == "add" else total
        if self.terminate_on_done and done:
            terminated = True
        return obs, float(reward), terminated, truncated, info
