"""A tiny Gymnasium environment whose episodes end both ways, for the bridge's autoreset tests.

Each episode draws a budget in [2, 6] at reset and terminates when its step count reaches it;
``max_episode_steps=5`` truncates the episodes that drew 6. The observation is (steps taken,
budget, last action) and the reward the action itself, so a test can check from the learner's
side alone where each episode ended, that the first row of an episode is a reset and that the
actions reached the environment rescaled.
"""

from typing import Any, Dict, Optional, Tuple

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "meow-test/Countdown-v0"
MAX_STEPS = 5
ACTION_BOUND = 3.0


class Countdown(gymnasium.Env[np.ndarray, np.ndarray]):
    def __init__(self) -> None:
        self.observation_space = spaces.Box(-10.0, 10.0, (3,), np.float32)
        self.action_space = spaces.Box(-ACTION_BOUND, ACTION_BOUND, (1,), np.float32)
        self._steps = 0
        self._budget = 0

    def _obs(self, action: float) -> np.ndarray:
        return np.array([self._steps, self._budget, action], np.float32)

    def reset(self, *, seed: Optional[int] = None,
              options: Optional[Dict[str, Any]] = None) -> Tuple[np.ndarray, Dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        self._budget = int(self.np_random.integers(2, MAX_STEPS + 2))
        return self._obs(0.0), {}

    def step(self, action: np.ndarray) -> Tuple[np.ndarray, float, bool, bool, Dict[str, Any]]:
        self._steps += 1
        a = float(np.asarray(action).reshape(-1)[0])
        return self._obs(a), a, self._steps >= self._budget, False, {}


def budget_for_seed(seed: int) -> int:
    """The budget an episode reset with ``seed`` draws."""
    env = Countdown()
    obs, _ = env.reset(seed=seed)
    return int(obs[1])


if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point=Countdown, max_episode_steps=MAX_STEPS)
