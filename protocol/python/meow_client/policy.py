"""A trained MEow policy in numpy alone: ``Policy.load("runs/x/policy.safetensors")``.

The file is the safetensors file that ``meow train`` and ``meow-learner`` write (8-byte
little-endian header length, a JSON header, then the raw tensors); it is parsed here without
torch or the ``safetensors`` package. Everything the flow needs comes from the file: the
dimensions, alpha, the log-sigma bounds and the number of couplings and reward-shift heads
from its metadata, the hidden widths and depths from its tensor shapes.

The math is docs/algorithm.md's (sections 2 and 3), in float64:

- ``act``: ``z0 = sigma(s) * eps`` (stochastic) or ``z0 = 0`` (deterministic, section 3.5), then
  the additive couplings ``z <- z + (1 - m_k) * t_k([m_k * z ; s])`` for k = 1..K, then ``tanh``.
- ``v``: ``V(s) = alpha [sum log sigma(s) + (d/2) log 2 pi + b_j(s)]`` in closed form (section 3.2).
- ``q``: ``Q(s, a) = alpha [-1/2 sum (u0 / sigma)^2 - sum log(1 - a^2 + eps32) + b_j(s)]`` from
  the flow's density direction (section 3.1), with the action clamped to +-(1 - 1e-5) first.

With two reward-shift heads, ``q`` and ``v`` are the minimum over the heads, as the learner's
V(s) in ACTION_REPLY is.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from .errors import MeowError

#: The format this module reads (``MEowAgent.policyFormat`` and ``policyFormatVersion`` in Swift).
POLICY_FORMAT = "meow-policy"
POLICY_FORMAT_VERSION = "1"

_MAX_HEADER = 16 << 20  # as Swift's Safetensors.maximumHeaderLength: a forged length allocates nothing
_DTYPES: Dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_LAYER_NORM_EPSILON = 1e-5
_TANH_EPSILON = float(np.finfo(np.float32).eps)  # inside log(1 - a^2 + eps), section 2.5
_ACTION_CLAMP = 1 - 1e-5

PathLike = Union[str, "os.PathLike[str]"]


class PolicyFileError(MeowError):
    """The file is not a meow policy this module reads; the message names the file and what is wrong."""


def read_safetensors(path: PathLike) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Every tensor of a safetensors file (float32/float64, as float64 arrays) and its metadata.

    Lengths and offsets are checked against the file before anything is allocated.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PolicyFileError(f"cannot read policy {name}: {e.strerror or e}") from None
    if len(data) < 8:
        raise PolicyFileError(f"policy {name} is {len(data)} bytes, too short for a safetensors header")
    (length,) = struct.unpack_from("<Q", data, 0)
    if length > _MAX_HEADER or 8 + length > len(data):
        raise PolicyFileError(f"policy {name} claims a {length}-byte header, but the file has {len(data) - 8} "
                              f"bytes after the length (limit {_MAX_HEADER})")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PolicyFileError(f"policy {name} has a header that is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise PolicyFileError(f"policy {name} has a header that is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise PolicyFileError(f"policy {name} has __metadata__ that is not a map of strings")
    body = memoryview(data)[8 + length:]
    tensors: Dict[str, np.ndarray] = {}
    for tensor_name, entry in header.items():
        if not isinstance(entry, dict):
            raise PolicyFileError(f"policy {name} has an entry {tensor_name!r} that is not an object")
        dtype = _DTYPES.get(entry.get("dtype", ""))
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if dtype is None:
            raise PolicyFileError(f"policy {name} stores {tensor_name} as {entry.get('dtype')!r}; "
                                  f"only F32 and F64 are read")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) for o in offsets)):
            raise PolicyFileError(f"policy {name} has an entry {tensor_name} without a valid shape and data_offsets")
        begin, end = offsets
        count = math.prod(shape)
        if not 0 <= begin <= end <= len(body) or end - begin != count * dtype.itemsize:
            raise PolicyFileError(f"policy {name} has data_offsets [{begin}, {end}] for {tensor_name} of shape "
                                  f"{shape}, which do not fit its {len(body)} data bytes")
        values = np.frombuffer(body[begin:end], dtype=dtype, count=count)
        tensors[tensor_name] = values.astype(np.float64).reshape(shape)
    return tensors, dict(metadata)


@dataclass(frozen=True)
class _MLP:
    """Hidden layers Linear -> [LayerNorm] -> Swish, then a final Linear (docs/algorithm.md section 2.7)."""

    hidden: Tuple[Tuple[np.ndarray, np.ndarray, Optional[np.ndarray], Optional[np.ndarray], np.ndarray], ...]
    output: Tuple[np.ndarray, np.ndarray]

    @classmethod
    def take(cls, tensors: Dict[str, np.ndarray], prefix: str, path: str) -> "_MLP":
        def get(key: str) -> np.ndarray:
            try:
                return tensors.pop(key)
            except KeyError:
                raise PolicyFileError(f"policy {path} lacks tensor {key}") from None

        depth = 0
        while f"{prefix}.layer{depth}.weight" in tensors:
            depth += 1
        if depth == 0:
            raise PolicyFileError(f"policy {path} lacks tensor {prefix}.layer0.weight")
        hidden = []
        for k in range(depth - 1):
            p = f"{prefix}.layer{k}"
            norm = f"{p}.norm.gamma" in tensors
            hidden.append((get(f"{p}.weight"), get(f"{p}.bias"), get(f"{p}.norm.gamma") if norm else None,
                           get(f"{p}.norm.beta") if norm else None, get(f"{p}.swish.beta")))
        last = f"{prefix}.layer{depth - 1}"
        mlp = cls(tuple(hidden), (get(f"{last}.weight"), get(f"{last}.bias")))
        width = mlp.input_width
        for k, (w, b, gamma, beta, swish) in enumerate((*mlp.hidden, (*mlp.output, None, None, None))):
            if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],) or any(
                    t is not None and t.shape != (w.shape[0],) for t in (gamma, beta, swish)):
                raise PolicyFileError(f"policy {path} has layer {prefix}.layer{k} with weight {list(w.shape)} "
                                      f"that does not follow a layer of width {width}")
            width = w.shape[0]
        return mlp

    @property
    def input_width(self) -> int:
        first = self.hidden[0][0] if self.hidden else self.output[0]
        return int(first.shape[1])

    @property
    def output_width(self) -> int:
        return int(self.output[0].shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = x
        for weight, bias, gamma, beta, swish in self.hidden:
            h = h @ weight.T + bias
            if gamma is not None and beta is not None:
                mean = h.mean(axis=-1, keepdims=True)
                var = np.square(h - mean).mean(axis=-1, keepdims=True)  # biased, as LayerNorm's
                h = (h - mean) / np.sqrt(var + _LAYER_NORM_EPSILON) * gamma + beta
            h = h * _sigmoid(swish * h)
        weight, bias = self.output
        out: np.ndarray = h @ weight.T + bias
        return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # NOTE: the two-branch form, so that exp never overflows for large |x|.
    e = np.exp(-np.abs(x))
    out: np.ndarray = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out


class Policy:
    """A MEow policy loaded from a ``policy.safetensors`` file; numpy inference, no training.

    Observations are ``(ds,)`` for one or ``(n, ds)`` for a batch; actions are normalised to
    [-1, 1] (``meow_client.rescale_action`` maps them onto an environment's bounds).
    """

    def __init__(self, tensors: Dict[str, np.ndarray], metadata: Dict[str, str], path: str = "<memory>"):
        self.path = path
        self.metadata = dict(metadata)
        # A file without format_version is version 1, as the Swift reader has it.
        found = {"format": metadata.get("format"),
                 "format_version": metadata.get("format_version", POLICY_FORMAT_VERSION)}
        for key, expected in (("format", POLICY_FORMAT), ("format_version", POLICY_FORMAT_VERSION)):
            if found[key] != expected:
                raise PolicyFileError(f"policy {path} has metadata {key} {found[key]!r}, expected "
                                      f"{expected!r} (is it a meow policy.safetensors?)")

        def number(key: str, kind: type) -> float:
            try:
                return float(kind(metadata[key]))
            except (KeyError, ValueError):
                raise PolicyFileError(f"policy {path} has metadata {key} {metadata.get(key)!r}, "
                                      f"expected a number") from None

        self.observation_dim = int(number("observation_dimension", int))
        self.action_dim = int(number("action_dimension", int))
        # Swift keeps these as Float: rounded the same way, the numbers are the learner's.
        self.alpha = float(np.float32(number("alpha", float)))
        self.log_sigma_min = float(np.float32(number("log_sigma_min", float)))
        self.log_sigma_max = float(np.float32(number("log_sigma_max", float)))
        layers, heads = int(number("coupling_layers", int)), int(number("reward_shift_heads", int))
        if self.observation_dim < 1 or self.action_dim < 1 or layers < 0 or heads not in (0, 1, 2):
            raise PolicyFileError(f"policy {path} has metadata out of range: observation_dimension "
                                  f"{self.observation_dim}, action_dimension {self.action_dim}, coupling_layers "
                                  f"{layers}, reward_shift_heads {heads}")
        remaining = dict(tensors)
        ds, d = self.observation_dim, self.action_dim
        self._log_sigma_net = _MLP.take(remaining, "log_sigma_net", path)
        self._couplings = [_MLP.take(remaining, f"coupling{k + 1}", path) for k in range(layers)]
        self._shifts = [_MLP.take(remaining, f"reward_shift{j + 1}", path) for j in range(heads)]
        widths = ([("log_sigma_net", self._log_sigma_net, (ds, d))]
                    + [(f"coupling{k + 1}", c, (d + ds, d)) for k, c in enumerate(self._couplings)]
                    + [(f"reward_shift{j + 1}", b, (ds, 1)) for j, b in enumerate(self._shifts)])
        for prefix, net, (n_in, n_out) in widths:
            if (net.input_width, net.output_width) != (n_in, n_out):
                raise PolicyFileError(f"policy {path} has {prefix} mapping {net.input_width} to {net.output_width} "
                                      f"values; its metadata says {n_in} to {n_out}")
        if remaining:
            raise PolicyFileError(f"policy {path} has tensor {sorted(remaining)[0]}, which this flow does not")
        # docs/algorithm.md section 2.2: m_i = 1 for even i; couplings alternate m and 1 - m.
        m = (np.arange(d) % 2 == 0).astype(np.float64)
        self._conditioning = [m if k % 2 == 0 else 1 - m for k in range(layers)]
        self._shifted = [1 - c for c in self._conditioning]

    @classmethod
    def load(cls, path: PathLike) -> "Policy":
        """Read a policy file written by ``meow train`` or ``meow-learner``."""
        tensors, metadata = read_safetensors(path)
        return cls(tensors, metadata, os.fspath(path))

    @property
    def reward_shift_heads(self) -> int:
        return len(self._shifts)

    @property
    def coupling_layers(self) -> int:
        return len(self._couplings)

    def __repr__(self) -> str:
        return (f"Policy({self.path!r}, observation_dim={self.observation_dim}, action_dim={self.action_dim}, "
                f"coupling_layers={self.coupling_layers}, reward_shift_heads={self.reward_shift_heads}, "
                f"alpha={self.alpha:g})")

    # MARK: the public calls

    def act(self, obs: npt.ArrayLike, deterministic: bool = True,
            rng: Optional[np.random.Generator] = None) -> np.ndarray:
        """The action in [-1, 1]: ``(d,)`` for one observation, ``(n, d)`` for ``(n, ds)``.

        Deterministic: the flow applied to the zero latent. Stochastic: ``z0 = sigma(s) * eps``
        with ``eps ~ N(0, I)`` from ``rng`` (default: a fresh ``np.random.default_rng()``).
        """
        s, single = self._states(obs)
        if deterministic:
            z = np.zeros((len(s), self.action_dim))
        else:
            generator = rng if rng is not None else np.random.default_rng()
            z = np.exp(self._log_sigma(s)) * generator.standard_normal((len(s), self.action_dim))
        for k in range(len(self._couplings)):
            z = z + self._shift(k, z, s)
        a = np.clip(np.tanh(z), -1.0, 1.0)
        return a[0] if single else a

    def v(self, obs: npt.ArrayLike) -> Union[float, np.ndarray]:
        """Soft value V(s) (the minimum over the reward-shift heads): a float, or ``(n,)``."""
        s, single = self._states(obs)
        bracket = self._log_sigma(s).sum(axis=1) + 0.5 * self.action_dim * math.log(2 * math.pi)
        return self._finish(bracket, s, single)

    def q(self, obs: npt.ArrayLike, action: npt.ArrayLike) -> Union[float, np.ndarray]:
        """Soft Q(s, a) of a normalised action (the minimum over the heads): a float, or ``(n,)``."""
        s, single = self._states(obs)
        a = np.asarray(action, dtype=np.float64).reshape(len(s), -1)
        if a.shape[1] != self.action_dim:
            raise ValueError(f"action has {a.shape[1]} values per row; the policy's actions have {self.action_dim}")
        a = np.clip(a, -_ACTION_CLAMP, _ACTION_CLAMP)
        tanh_term = -np.log(1.0 - np.square(a) + _TANH_EPSILON).sum(axis=1)
        u = np.arctanh(a)
        for k in reversed(range(len(self._couplings))):
            u = u - self._shift(k, u, s)  # the exact inverse of the coupling
        # NOTE: u0 * exp(-log sigma) straight from log sigma, not a division by sigma (as the learner).
        standardised = u * np.exp(-self._log_sigma(s))
        kernel = -0.5 * np.square(standardised).sum(axis=1) + tanh_term
        return self._finish(kernel, s, single)

    # MARK: pieces

    def _states(self, obs: npt.ArrayLike) -> Tuple[np.ndarray, bool]:
        s = np.asarray(obs, dtype=np.float64)
        single = s.ndim == 1
        s = s.reshape(1, -1) if single else s
        if s.ndim != 2 or s.shape[1] != self.observation_dim:
            raise ValueError(f"observations have shape {np.shape(obs)}; the policy takes ({self.observation_dim},) "
                             f"or (n, {self.observation_dim})")
        return s, single

    def _log_sigma(self, s: np.ndarray) -> np.ndarray:
        half = 0.5 * (self.log_sigma_max - self.log_sigma_min)
        out: np.ndarray = self.log_sigma_min + half * (np.tanh(self._log_sigma_net(s)) + 1.0)
        return out

    def _shift(self, k: int, z: np.ndarray, s: np.ndarray) -> np.ndarray:
        t = self._couplings[k](np.concatenate([z * self._conditioning[k], s], axis=1))
        out: np.ndarray = t * self._shifted[k]
        return out

    def _finish(self, bracket: np.ndarray, s: np.ndarray, single: bool) -> Union[float, np.ndarray]:
        """alpha * (bracket + b_j(s)), the minimum over the heads (b = 0 without heads)."""
        heads: List[np.ndarray] = [bracket + b(s)[:, 0] for b in self._shifts] or [bracket]
        values = self.alpha * np.min(np.stack(heads), axis=0)
        return float(values[0]) if single else values
