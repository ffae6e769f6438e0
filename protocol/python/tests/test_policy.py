"""meow_client.Policy on hand-made policy files: the safetensors reader, the shapes it infers,
the flow's invariants, and the errors for files it cannot use. (Agreement with the Swift
implementation on a trained policy is Tests/system/test_policy_inference.py.)"""

import json
import math
import struct

import numpy as np
import pytest

from meow_client import Policy, PolicyFileError
from meow_client.policy import read_safetensors

DS, D, FLOW, SHIFT = 3, 2, 8, 5


def mlp(rng, prefix, sizes, layer_norm):
    tensors = {}
    for k in range(len(sizes) - 1):
        p = f"{prefix}.layer{k}"
        tensors[f"{p}.weight"] = rng.normal(0, 0.5, (sizes[k + 1], sizes[k]))
        tensors[f"{p}.bias"] = rng.normal(0, 0.1, sizes[k + 1])
        if k < len(sizes) - 2:
            if layer_norm:
                tensors[f"{p}.norm.gamma"] = 1 + rng.normal(0, 0.1, sizes[k + 1])
                tensors[f"{p}.norm.beta"] = rng.normal(0, 0.1, sizes[k + 1])
            tensors[f"{p}.swish.beta"] = 1 + rng.normal(0, 0.1, sizes[k + 1])
    return tensors


def policy_tensors(seed=0, heads=2, layers=4):
    rng = np.random.default_rng(seed)
    tensors = mlp(rng, "log_sigma_net", [DS, FLOW, FLOW, D], False)
    for k in range(layers):
        tensors.update(mlp(rng, f"coupling{k + 1}", [D + DS, FLOW, FLOW, D], True))
    for j in range(heads):
        tensors.update(mlp(rng, f"reward_shift{j + 1}", [DS, SHIFT, SHIFT, 1], False))
    return {k: v.astype(np.float32) for k, v in tensors.items()}


def metadata(**changes):
    m = {"format": "meow-policy", "format_version": "1", "observation_dimension": str(DS),
         "action_dimension": str(D), "alpha": "0.2", "log_sigma_min": "-5.0", "log_sigma_max": "-0.3",
         "coupling_layers": "4", "reward_shift_heads": "2"}
    m.update(changes)
    return m


def write(path, tensors, meta):
    """A safetensors file laid out as Swift's Safetensors.encode lays it out."""
    header, offset, body = {"__metadata__": meta}, 0, b""
    for name, value in tensors.items():
        data = np.ascontiguousarray(value, "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        body += data
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    return path


@pytest.fixture
def policy_file(tmp_path):
    return write(tmp_path / "policy.safetensors", policy_tensors(), metadata())


# MARK: reading


def test_the_reader_returns_every_tensor_and_the_metadata(policy_file):
    tensors, meta = read_safetensors(policy_file)
    expected = policy_tensors()
    assert sorted(tensors) == sorted(expected) and meta == metadata()
    for name, value in expected.items():
        np.testing.assert_array_equal(tensors[name], value.astype(np.float64))


def test_dimensions_and_widths_come_from_the_file(tmp_path):
    policy = Policy.load(write(tmp_path / "p.safetensors", policy_tensors(heads=1, layers=2),
                               metadata(reward_shift_heads="1", coupling_layers="2", alpha="0.05")))
    shape = (policy.observation_dim, policy.action_dim, policy.coupling_layers, policy.reward_shift_heads)
    assert shape == (DS, D, 2, 1)
    assert policy.alpha == pytest.approx(0.05, rel=1e-7)
    assert policy.act(np.zeros(DS)).shape == (D,)


# MARK: the flow


def test_actions_are_in_bounds_and_the_deterministic_one_is_the_zero_latent(policy_file):
    policy = Policy.load(policy_file)
    obs = np.random.default_rng(1).normal(0, 1, (32, DS))
    mean = policy.act(obs)
    assert mean.shape == (32, D) and np.all(np.abs(mean) <= 1)
    np.testing.assert_array_equal(mean, policy.act(obs, deterministic=True))
    a = policy.act(obs, deterministic=False, rng=np.random.default_rng(4))
    b = policy.act(obs, deterministic=False, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, mean)


def test_q_minus_v_is_alpha_log_pi_and_integrates_to_one(tmp_path):
    # One head, so Q - V = alpha log pi exactly (docs/algorithm.md section 3.4); with d = 2 the
    # density exp((Q - V) / alpha) over the square [-1, 1]^2 must integrate to about 1 (the tail
    # clamped at +-(1 - 1e-5) is negligible with these sigmas).
    policy = Policy.load(write(tmp_path / "p.safetensors", policy_tensors(heads=1),
                               metadata(reward_shift_heads="1", log_sigma_min="-1.5", log_sigma_max="-0.5")))
    s = np.array([0.3, -0.2, 0.5])
    n = 401
    grid = np.linspace(-1 + 1e-6, 1 - 1e-6, n)
    a = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(-1, 2)
    states = np.repeat(s[None], len(a), axis=0)
    density = np.exp((policy.q(states, a) - policy.v(s)) / policy.alpha)
    cell = (grid[1] - grid[0]) ** 2
    assert density.sum() * cell == pytest.approx(1.0, abs=0.02)
    # The deterministic action sits where the density is high: above the square's mean density.
    assert math.exp((policy.q(s, policy.act(s)) - policy.v(s)) / policy.alpha) > 0.25


def test_two_heads_take_the_minimum(tmp_path):
    tensors = policy_tensors()
    one = Policy(dict(tensors), metadata(), "two")
    tensors["reward_shift2.layer2.bias"] = tensors["reward_shift2.layer2.bias"] + 100  # head 2 far above
    high = Policy(dict(tensors), metadata(), "high")
    obs = np.random.default_rng(2).normal(0, 1, (5, DS))
    only_first = Policy({k: v for k, v in policy_tensors().items() if not k.startswith("reward_shift2")},
                        metadata(reward_shift_heads="1"), "one")
    np.testing.assert_allclose(high.v(obs), only_first.v(obs), rtol=1e-12)
    assert np.all(one.v(obs) <= only_first.v(obs) + 1e-12)


# MARK: errors


@pytest.mark.parametrize("data, message", [
    (b"\x01\x02", "too short for a safetensors header"),
    (struct.pack("<Q", 1 << 40) + b"{}", "claims a 1099511627776-byte header"),
    (struct.pack("<Q", 4) + b"nope", "header that is not JSON"),
    (struct.pack("<Q", 2) + b"[]", "header that is not a JSON object"),
])
def test_broken_files_are_refused_naming_the_file(tmp_path, data, message):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(data)
    with pytest.raises(PolicyFileError, match=message) as caught:
        Policy.load(path)
    assert str(path) in str(caught.value)


def test_offsets_outside_the_data_are_refused(tmp_path):
    header = json.dumps({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(PolicyFileError, match=r"data_offsets \[0, 16\] for x"):
        read_safetensors(path)


def test_a_file_without_a_format_version_is_version_1_and_a_newer_one_is_refused_by_name():
    # As the Swift reader has it (docs/checkpoints.md): no format_version means 1.
    older = metadata()
    del older["format_version"]
    assert Policy(policy_tensors(), older, "p").observation_dim == DS
    with pytest.raises(PolicyFileError, match="policy p has metadata format_version '2', expected '1'"):
        Policy(policy_tensors(), metadata(format_version="2"), "p")


def test_metadata_and_tensors_must_fit_the_flow(tmp_path):
    with pytest.raises(PolicyFileError, match="metadata format 'other'"):
        Policy(policy_tensors(), metadata(format="other"), "p")
    with pytest.raises(PolicyFileError, match="metadata observation_dimension 'x'"):
        Policy(policy_tensors(), metadata(observation_dimension="x"), "p")
    with pytest.raises(PolicyFileError, match="log_sigma_net mapping 3 to 2 values; its metadata says 4 to 2"):
        Policy(policy_tensors(), metadata(observation_dimension="4"), "p")
    missing = policy_tensors()
    del missing["coupling2.layer1.swish.beta"]
    with pytest.raises(PolicyFileError, match="lacks tensor coupling2.layer1.swish.beta"):
        Policy(missing, metadata(), "p")
    with pytest.raises(PolicyFileError, match="has tensor coupling4.layer0.bias, which this flow does not"):
        Policy(policy_tensors(), metadata(coupling_layers="3"), "p")
    with pytest.raises(ValueError, match=r"the policy takes \(3,\) or \(n, 3\)"):
        Policy(policy_tensors(), metadata(), "p").act(np.zeros(4))
