#!/usr/bin/env python3
"""Regenerate protocol/vectors/: golden frames (NAME.bin) and their descriptions (NAME.json).

Valid vectors are encoded with meow_client.wire and described with wire.describe. Malformed
vectors start from a valid frame, break one thing, and (unless the checksum is the thing broken)
re-seal the header's length and CRC so the decoder reaches the broken field. Each malformed
description names the error code a decoder must raise, and the field where the codec names one.

Usage: python3 protocol/python/tools/make_vectors.py  (deterministic: same bytes every run)
"""

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from meow_client import wire as w

HERE = Path(__file__).resolve()

OUT = HERE.parents[2] / "vectors"


def f32(rng, shape, low=-3.0, high=3.0):
    return rng.uniform(low, high, shape).astype(np.float32)


def hopper_spaces():
    obs = w.Space((11,), np.full(11, -w.FLT_MAX, np.float32), np.full(11, w.FLT_MAX, np.float32))
    return obs, w.Space.box((3,), -1.0, 1.0)


def transitions(rng, n=4, d_o=11, d_a=3):
    done = np.zeros(n, np.uint8)
    if n:
        done[-1] = w.TERMINATED
    if n > 2:
        done[1] = w.TRUNCATED
    return w.Transitions(
        actor_id=7, run_id=0x9E3779B97F4A7C15, seq=41, policy_version=12,
        episode_ids=np.array([1000 + i // 2 for i in range(n)], np.uint64),
        step_indices=np.arange(n, dtype=np.uint32),
        observations=f32(rng, (n, d_o)), next_observations=f32(rng, (n, d_o)),
        actions=f32(rng, (n, d_a), -1.0, 1.0), rewards=f32(rng, n, -1.0, 4.0), done_flags=done)


def valid_frames(rng):
    obs_space, act_space = hopper_spaces()
    hello = w.Hello(w.Role.ACTOR, (1, 0), (1, 0), w.CAP_VALUE_ESTIMATES, 7, 0x0123456789ABCDEF,
                    "meow-actor", "0.1.0", b"s3cret", "Hopper-v4", obs_space, act_space)
    sim_hello = w.Hello(w.Role.SIMULATOR, (1, 0), (1, 3), 0, 0, 42, "meow_client", "0.1.0", b"",
                        "", w.Space((2, 3), f32(rng, 6, -2, -1), f32(rng, 6, 1, 2)), w.Space.box((1,), -2.0, 2.0))
    welcome = w.Welcome((1, 0), w.CAP_VALUE_ESTIMATES, 0xFEEDFACECAFEBEEF, 3, 5000, 256, 4096, 100, 1 << 20,
                        1000, 5000, 16 << 20, "Hopper-v4", "hopper")
    blob = np.arange(24, dtype=np.float32).tobytes()
    tensors = [w.TensorEntry("policy.flow.0.weight", w.DType.FLOAT32, (2, 3), 0),
               w.TensorEntry("policy.flow.0.bias", w.DType.FLOAT32, (3,), 24),
               w.TensorEntry("policy.scale", w.DType.FLOAT32, (), 36),
               w.TensorEntry("policy.empty", w.DType.FLOAT64, (0, 4), 40)]
    seeds = np.array([11, w.NO_SEED, 13], np.uint64)
    frames = {
        "hello_actor": w.Frame(hello, request_id=1),
        "hello_simulator": w.Frame(sim_hello, request_id=2),
        "welcome": w.Frame(welcome, request_id=1),
        "refused_version": w.Frame(w.Refused(w.ErrorCode.UNSUPPORTED_VERSION, 0, (1, 0), (1, 0),
                                             "this learner speaks protocol 1.0 only"), request_id=1),
        "refused_full": w.Frame(w.Refused(w.ErrorCode.FULL, 2500, (1, 0), (1, 0), "64 actors connected"),
                                request_id=9),
        "goodbye": w.Frame(w.Goodbye(w.GoodbyeReason.SHUTTING_DOWN, "SIGTERM"), request_id=77),
        "ack": w.Frame(w.Ack(w.MessageType.EPISODE_STATS), request_id=78),
        "error_try_later": w.Frame(w.Error(w.ErrorCode.TRY_LATER, w.MessageType.TRANSITIONS, 250,
                                           "replay insertion is ahead of the update rate"), request_id=5),
        "error_non_finite": w.Frame(w.Error(w.ErrorCode.NON_FINITE, w.MessageType.TRANSITIONS, 0,
                                            "transitions.rewards[3] is not finite"), request_id=6),
        "heartbeat": w.Frame(w.Heartbeat(7, 12, 0x0123456789ABCDEF, 3, 1_000_000, 1234, 3900, 3899, 0),
                             request_id=100),
        "heartbeat_reply": w.Frame(w.HeartbeatReply(0xFEEDFACECAFEBEEF, 4, 250_000, 1_000_000),
                                   request_id=100),
        "transitions_hopper": w.Frame(transitions(rng), request_id=42),
        "transitions_empty": w.Frame(transitions(rng, n=0), request_id=43),
        "transitions_ack_accepted": w.Frame(w.TransitionsAck(41, 12, 0, w.TransitionsStatus.ACCEPTED), 42),
        "transitions_ack_try_later": w.Frame(w.TransitionsAck(41, 12, 500, w.TransitionsStatus.TRY_LATER), 42),
        "episode_stats": w.Frame(w.EpisodeStats(7, 0x0123456789ABCDEF, np.array([1000, 1001, 1002], np.uint64),
                                                seeds, np.array([3123.5, -12.25, 1e6]),
                                                np.array([12.5, 0.0, 3600.0]), np.array([1000, 17, 1], np.uint32)),
                                 request_id=50),
        "weights_request": w.Frame(w.WeightsRequest(3, 0, 0, True), request_id=60),
        "weights_request_chunk": w.Frame(w.WeightsRequest(3, 5, 1, False), request_id=61),
        "weights_chunk0": w.Frame(w.Weights(5, len(blob) + 8, 0, 0, 2, tensors, blob[:64]), request_id=60),
        "weights_chunk1": w.Frame(w.Weights(5, len(blob) + 8, 64, 1, 2, [], blob[64:] + bytes(8)), request_id=61),
        "weights_unchanged": w.Frame(w.Weights(5, 0, 0, 0, 0, [], b""), request_id=62),
        "action_request": w.Frame(w.ActionRequest(
            False, True, 3, np.array([5, 5, 6], np.uint64), f32(rng, (3, 11)),
            np.array([1.5, 0.0, 0.0], np.float32),
            np.array([w.ActionEvent.END, w.ActionEvent.START, w.ActionEvent.STEP], np.uint8),
            np.array([w.TRUNCATED, 0, 0], np.uint8)), request_id=70),
        "action_reply": w.Frame(w.ActionReply(12, np.concatenate([np.zeros((1, 3), np.float32),
                                                                  f32(rng, (2, 3), -1, 1)]),
                                              np.array([0.0, 51.25, -3.5], np.float32)), request_id=70),
        "action_reply_deterministic": w.Frame(w.ActionReply(12, np.array([[1.0, -1.0, 0.0]], np.float32)),
                                              request_id=71),
        # A newer peer: minor 3, an ignorable flag bit and two extension records a 1.0 reader keeps.
        "hello_minor3_extensions": w.Frame(hello, request_id=3, flags=1 << 16, minor=3,
                                           extensions=[(0x0001, b"\x01\x02\x03"), (0x7F00, b"")]),
        "transitions_extension": w.Frame(transitions(rng, n=2), request_id=44, minor=1,
                                         extensions=[(0x0042, bytes(range(16)))]),
        # Evaluation scheduled by the learner (section 5.15): the reply assigns seeds 0 and 1,
        # a later request starts episode 9 as the evaluation episode of seed 0 (acting row 1).
        "action_reply_evaluate": w.Frame(w.ActionReply(13, np.array([[0.25, -0.5]], np.float32)),
                                         request_id=80, extensions=[w.encode_evaluate([0, 1])]),
        "action_request_evaluation_starts": w.Frame(w.ActionRequest(
            False, False, 2, np.array([8, 9], np.uint64), np.array([[0.5] * 5, [-1.0] * 5], np.float32),
            np.array([-2.0, 0.0], np.float32), np.array([w.ActionEvent.END, w.ActionEvent.START], np.uint8),
            np.array([w.TERMINATED, 0], np.uint8)), request_id=81,
            extensions=[w.encode_evaluation_starts([9], [0])]),
    }
    return frames


def reseal(frame: bytearray) -> bytes:
    """Recompute payload_length and checksum after a deliberate corruption."""
    struct.pack_into("<I", frame, 16, len(frame) - w.HEADER_SIZE)
    crc = zlib.crc32(bytes(frame[w.HEADER_SIZE:]), zlib.crc32(bytes(frame[:20])))
    struct.pack_into("<I", frame, 20, crc)
    return bytes(frame)


def malformed_frames(valid):
    """name -> (bytes, expected error dict, what was broken)."""
    t = bytearray(valid["transitions_hopper"])
    n, d_o, d_a = 4, 11, 3
    body = w.HEADER_SIZE + 40
    obs_at = body + 8 * n + 4 * n
    next_at = obs_at + 4 * n * d_o
    act_at = next_at + 4 * n * d_o
    reward_at = act_at + 4 * n * d_a
    done_at = reward_at + 4 * n
    out = {}

    def add(name, data, code, what, field=None, index=None):
        error = {"code": code}
        if field is not None:
            error["field"] = field
        if index is not None:
            error["index"] = index
        out[name] = (bytes(data), error, what)

    add("bad_truncated_header", t[:10], "TRUNCATED", "10 bytes: less than a header")
    add("bad_truncated_payload", t[:-5], "TRUNCATED", "last 5 bytes of a TRANSITIONS frame missing")
    m = bytearray(t)
    m[0:4] = b"MEOX"
    add("bad_magic", m, "BAD_MAGIC", "magic MEOX")
    m = bytearray(t)
    m[4] = 2
    add("bad_major_version", reseal(m), "UNSUPPORTED_VERSION", "major 2, checksum valid")
    m = bytearray(t[:w.HEADER_SIZE])
    struct.pack_into("<I", m, 16, 0xFFFFFFF0)
    add("bad_length_over_limit", m, "LENGTH_OVER_LIMIT", "header claims a 4 GiB payload",
        field="header.payload_length")
    m = bytearray(t)
    struct.pack_into("<I", m, w.HEADER_SIZE + 4, 0x80000000)
    add("bad_transitions_count", reseal(m), "LENGTH_OVER_LIMIT", "TRANSITIONS count 2^31",
        field="transitions.count")
    m = bytearray(t)
    struct.pack_into("<I", m, w.HEADER_SIZE + 32, 1 << 30)
    add("bad_obs_dim", reseal(m), "LENGTH_OVER_LIMIT", "obs_dim 2^30", field="transitions.obs_dim")
    m = bytearray(t)
    struct.pack_into("<f", m, reward_at + 4 * 2, float("nan"))
    add("bad_nan_reward", reseal(m), "NON_FINITE", "rewards[2] is NaN", field="transitions.rewards", index=2)
    m = bytearray(t)
    struct.pack_into("<f", m, next_at + 4 * 13, float("-inf"))
    add("bad_inf_next_observation", reseal(m), "NON_FINITE", "next_observations[13] is -inf",
        field="transitions.next_observations", index=13)
    m = bytearray(t)
    struct.pack_into("<f", m, act_at + 4 * 5, 1.5)
    add("bad_action_out_of_range", reseal(m), "INVALID_VALUE", "actions[5] is 1.5",
        field="transitions.actions", index=5)
    m = bytearray(t)
    m[done_at + 1] = 4
    add("bad_done_flags", reseal(m), "INVALID_VALUE", "done_flags[1] has bit 2 set",
        field="transitions.done_flags", index=1)
    m = bytearray(t)
    m[obs_at] ^= 0x01
    add("bad_checksum", m, "BAD_CHECKSUM", "one observation bit flipped, checksum not updated")
    m = bytearray(t)
    struct.pack_into("<H", m, 6, 0x0013)
    add("bad_unknown_type", reseal(m), "UNKNOWN_MESSAGE_TYPE", "message type 0x0013")
    m = bytearray(t)
    struct.pack_into("<I", m, 8, 1 << 3)
    add("bad_must_understand_flag", reseal(m), "INVALID_VALUE", "must-understand flag bit 3",
        field="header.flags")
    m = bytearray(t) + b"\x00\x00"
    add("bad_trailing_bytes", m, "MALFORMED", "2 bytes after the payload the header announces",
        field="header.payload_length")
    m = bytearray(t) + b"\x05\x00\x09\x00"
    add("bad_extension_tail", reseal(m), "MALFORMED", "extension record whose header is cut short",
        field="transitions.extensions")

    h = bytearray(valid["hello_actor"])
    low_at = w.HEADER_SIZE + 21 + (2 + 10) + (2 + 5) + (2 + 6) + (2 + 9) + 2 + 4
    struct.pack_into("<f", h, low_at + 4 * 3, float("nan"))
    add("bad_nan_space_bound", reseal(h), "NON_FINITE", "observation_space.low[3] is NaN",
        field="hello.observation_space.low", index=3)
    h = bytearray(valid["hello_actor"])
    h[w.HEADER_SIZE] = 9
    add("bad_role", reseal(h), "INVALID_VALUE", "role 9", field="hello.role")
    h = bytearray(valid["hello_actor"])
    h[w.HEADER_SIZE + 23] = 0xFF
    add("bad_utf8", reseal(h), "MALFORMED", "client_name byte 0xFF", field="hello.client_name")

    wt = bytearray(valid["weights_chunk0"])
    # The first tensor entry's offset (after name, dtype, rank, two dims) pushed past the blob.
    off_at = w.HEADER_SIZE + 36 + 2 + len("policy.flow.0.weight") + 2 + 8
    struct.pack_into("<Q", wt, off_at, 1 << 20)
    add("bad_tensor_outside_blob", reseal(wt), "MALFORMED", "tensor 0 offset 1 MiB in a 104-byte blob",
        field="weights.tensors")

    # Order (PROTOCOL.md 2.1 step 9): a TRANSITIONS body one byte short is TRUNCATED before any
    # column is read, even though observations[0] is NaN.
    m = bytearray(t)
    struct.pack_into("<f", m, obs_at, float("nan"))
    add("bad_transitions_short_body", reseal(m[:-1]), "TRUNCATED",
        "observations[0] is NaN and the body is one byte short: the size is checked first")
    # chunk_index >= chunk_count is MALFORMED right after chunk_count, before the data is read
    # (here the data are also cut short).
    wc = bytearray(valid["weights_chunk1"])
    struct.pack_into("<I", wc, w.HEADER_SIZE + 24, 2)
    add("bad_chunk_index", reseal(wc[:-4]), "MALFORMED", "chunk_index 2 of chunk_count 2, data cut short",
        field="weights.chunk_index")
    return out


def main():
    rng = np.random.default_rng(20240513)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.bin"):
        old.unlink()
    for old in OUT.glob("*.json"):
        old.unlink()
    frames = valid_frames(rng)
    encoded = {}
    for name, frame in frames.items():
        data = w.encode(frame)
        assert w.encode(w.decode(data)) == data, name
        encoded[name] = data
        (OUT / f"{name}.bin").write_bytes(data)
        (OUT / f"{name}.json").write_text(json.dumps(w.describe(frame), indent=1) + "\n")
    for name, (data, error, what) in malformed_frames(encoded).items():
        try:
            w.decode(data)
            raise SystemExit(f"{name}: decoded, expected {error['code']}")
        except w.WireError as e:
            assert e.code.name == error["code"], (name, e)
            assert e.field == error.get("field", e.field), (name, e.field)
            assert e.index == error.get("index", e.index), (name, e.index)
        (OUT / f"{name}.bin").write_bytes(data)
        (OUT / f"{name}.json").write_text(json.dumps({"error": error, "broken": what}, indent=1) + "\n")
    print(f"wrote {len(encoded)} valid and {len(malformed_frames(encoded))} malformed vectors to {OUT}")


if __name__ == "__main__":
    main()
