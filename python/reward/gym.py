"""Gymnasium: rewards from a spec's reward machines and LTLf formulas, one step at a time.

``RewardWrapper(env, spec, labeler)`` runs the spec's online monitor beside the environment:
after each ``env.step``, ``labeler(obs, action, reward, terminated, truncated, info)`` returns
the step record the spec's traces are made of (a dict with the step's fields, e.g.
``{"labels": "a"}`` or ``{"at_goal": True, "collided": False}``); the monitor advances every
machine and formula on it, and the wrapper returns the step's reward from the spec::

    env = reward.gym.RewardWrapper(gym.make("MyGrid-v0"), "office.reward",
                                   labeler=lambda obs, *_: {"labels": label_of(obs)})

``info["reward"]`` carries the step's reward per stream, each stream's state, each formula's
verdict (``satisfied``/``violated``/``undecided``) and ``done``. ``mode="add"`` adds the spec's
reward to the environment's instead of replacing it; ``terminate_on_done=True`` ends the
episode when every machine and formula has finished.

As in the reward-machines code, the machine is visible to the agent when it needs to be:
``cross_product=True`` makes the observation ``{"obs": <env observation>, "rm": <state index
per stream>}`` (a ``Dict`` space with a ``MultiDiscrete`` part), and
``counterfactuals(record)`` gives, for every stream and every state it could be in, where the
step would take it and its reward — the experiences of counterfactual reward-machine learning
(CRM). ``state_names(stream)`` and ``potentials(stream)`` expose the states and the shaping
potential.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, SupportsFloat, Tuple

import gymnasium
import numpy as np
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
        cross_product: bool = False,
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
            cross_product=cross_product,
        )
        gymnasium.Wrapper.__init__(self, env)
        self.reward_spec = spec if isinstance(spec, Reward) else _compile(spec, params=params)
        self.monitor = self.reward_spec.monitor()
        self.streams = self.monitor.streams()
        self.formulas = self.monitor.formulas()
        self.labeler = labeler
        self.mode = mode
        self.terminate_on_done = terminate_on_done
        self.cross_product = cross_product
        self._names = [self.monitor.state_names(k) for k in range(len(self.streams))]
        if cross_product:
            if not self.streams:
                raise ValueError("cross_product needs a reward machine or a rewarded formula")
            self.observation_space = gymnasium.spaces.Dict(
                {
                    "obs": env.observation_space,
                    "rm": gymnasium.spaces.MultiDiscrete([len(n) for n in self._names]),
                }
            )

    def state_names(self, stream: int = 0) -> List[str]:
        """The states of reward stream ``stream`` (a machine's own names)."""
        return list(self._names[stream])

    def potentials(self, stream: int = 0) -> List[float]:
        """The shaping potential per state of ``stream`` (empty when it is not shaped)."""
        return self.monitor.potentials(stream)

    def counterfactuals(self, record: Any) -> Dict[str, List[Tuple[int, int, float, bool]]]:
        """Per stream, ``(state, next_state, reward, ended)`` for every state the stream could
        be in, on this step record; the monitor does not move."""
        return {
            name: [
                (q, *self.monitor.transition(k, q, record)) for q in range(len(self._names[k]))
            ]
            for k, name in enumerate(self.streams)
        }

    def _observe(self, obs: Any, states: List[int]) -> Any:
        if not self.cross_product:
            return obs
        return {"obs": obs, "rm": np.asarray(states, dtype=np.int64)}

    @property
    def step_type(self) -> Optional[str]:
        """The type of the step records the labeler must return."""
        return self.monitor.step_type()

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.monitor.reset()
        states = self.monitor.states()
        info = dict(info)
        info["reward"] = {
            "rewards": {s: 0.0 for s in self.streams},
            "states": {s: self._names[k][states[k]] for k, s in enumerate(self.streams)},
            "verdicts": {f: "undecided" for f in self.formulas},
            "done": False,
        }
        return self._observe(obs, states), info


    def step(self, action: Any) -> Tuple[Any, SupportsFloat, bool, bool, Dict[str, Any]]:
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        record = self.labeler(obs, action, env_reward, terminated, truncated, info)
        total, rewards, verdicts, done, states = self.monitor.step(record)
        info = dict(info)
        info["reward"] = {
            "rewards": dict(zip(self.streams, rewards)),
            "states": {s: self._names[k][states[k]] for k, s in enumerate(self.streams)},
            "verdicts": dict(zip(self.formulas, verdicts)),
            "done": done,
        }
        reward = total + float(env_reward) if self.mode == "add" else total
        if self.terminate_on_done and done:
            terminated = True
        return self._observe(obs, states), float(reward), terminated, truncated, info
