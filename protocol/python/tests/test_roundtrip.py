"""Random round trips of every message, versioning rules, and encode-side validation."""

import struct
import zlib

import numpy as np
import pytest

from meow_client import wire

ROUNDS = 60


def text(rng, n=20):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_. é猫"
    return "".join(rng.choice(list(alphabet), size=int(rng.integers(0, n + 1))))


def u(rng, bits):
    return int(rng.integers(0, 1 << bits, dtype=np.uint64)) if bits < 64 else int(rng.integers(0, 2**63)) * 2 + 1


def f32(rng, shape, lo=-5.0, hi=5.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def space(rng, max_elements):
    shape = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(0, 3))))
    n = int(np.prod(shape)) if shape else 1
    n = min(n, max_elements)
    low = f32(rng, n, -10, 0)
    return wire.Space(shape if int(np.prod(shape or (1,))) == n else (n,), low, low + f32(rng, n, 0, 10))


def random_messages(rng):
    n, d_o, d_a = int(rng.integers(0, 20)), int(rng.integers(1, 15)), int(rng.integers(1, 6))
    rows = int(rng.integers(0, 8))
    blob = int(rng.integers(64, 300))
    tensors = [wire.TensorEntry(text(rng), int(rng.integers(1, 8)),
                                tuple(int(rng.integers(0, 3)) for _ in range(int(rng.integers(0, 4)))),
                                int(rng.integers(0, blob - 63))) for _ in range(int(rng.integers(0, 5)))]
    start = int(rng.integers(0, blob + 1))
    return [
        wire.Hello(int(rng.integers(1, 4)), (1, 0), (1, int(rng.integers(0, 9))), u(rng, 32), u(rng, 32), u(rng, 64),
                   text(rng), text(rng, 8), bytes(rng.integers(0, 256, int(rng.integers(0, 30)), dtype=np.uint8)),
                   text(rng), space(rng, 64), space(rng, 8)),
        wire.Welcome((1, 0), u(rng, 32), u(rng, 64), u(rng, 64), *[u(rng, 32) for _ in range(8)], text(rng), text(rng)),
        wire.Refused(int(rng.integers(1, 20)), u(rng, 32), (1, 0), (1, 2), text(rng, 100)),
        wire.Goodbye(int(rng.integers(0, 4)), text(rng)),
        wire.Ack(int(rng.choice([int(t) for t in wire.MessageType]))),
        wire.Error(int(rng.integers(1, 20)), u(rng, 16), u(rng, 32), text(rng, 200)),
        wire.Heartbeat(u(rng, 32), u(rng, 32), *[u(rng, 64) for _ in range(7)]),
        wire.HeartbeatReply(*[u(rng, 64) for _ in range(4)]),
        wire.Transitions(u(rng, 32), u(rng, 64), u(rng, 64), u(rng, 64),
                         rng.integers(0, 2**63, n, dtype=np.uint64), rng.integers(0, 2**32, n, dtype=np.uint32),
                         f32(rng, (n, d_o)), f32(rng, (n, d_o)), f32(rng, (n, d_a), -1, 1), f32(rng, n, -100, 100),
                         rng.integers(0, 4, n, dtype=np.uint8)),
        wire.TransitionsAck(u(rng, 64), u(rng, 64), u(rng, 32), int(rng.integers(0, 3))),
        wire.EpisodeStats(u(rng, 32), u(rng, 64), rng.integers(0, 2**63, rows, dtype=np.uint64),
                          rng.integers(0, 2**63, rows, dtype=np.uint64), rng.uniform(-1e4, 1e4, rows),
                          rng.uniform(0, 1e3, rows), rng.integers(0, 2**32, rows, dtype=np.uint32)),
        wire.WeightsRequest(u(rng, 64), u(rng, 64), u(rng, 32), bool(rng.integers(0, 2))),
        wire.Weights(u(rng, 64), blob, start, 0, int(rng.integers(1, 5)), tensors,
                     bytes(rng.integers(0, 256, int(rng.integers(0, blob - start + 1)), dtype=np.uint8))),
        wire.Weights(u(rng, 64), 0, 0, 0, 0, [], b""),
        wire.ActionRequest(bool(rng.integers(0, 2)), bool(rng.integers(0, 2)), d_a,
                           rng.integers(0, 2**63, rows, dtype=np.uint64), f32(rng, (rows, d_o)), f32(rng, rows),
                           rng.integers(0, 3, rows, dtype=np.uint8), rng.integers(0, 4, rows, dtype=np.uint8)),
        wire.ActionReply(u(rng, 64), f32(rng, (rows, d_a), -1, 1), f32(rng, rows) if rng.integers(0, 2) else None),
    ]


def test_every_message_type_is_covered():
    rng = np.random.default_rng(1)
    assert {wire.MESSAGE_TYPES[type(m)] for m in random_messages(rng)} == set(wire.MessageType)


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_random_round_trip(seed):
    rng = np.random.default_rng(seed)
    for message in random_messages(rng):
        frame = wire.Frame(message, request_id=u(rng, 32), flags=int(rng.integers(0, 4)) << 16)
        data = wire.encode(frame)
        decoded = wire.decode(data)
        assert wire.describe(decoded) == wire.describe(frame)
        assert wire.encode(decoded) == data
        for length in range(0, len(data), max(1, len(data) // 17)):
            with pytest.raises(wire.WireError) as caught:
                wire.decode(data[:length])
            assert caught.value.code == wire.ErrorCode.TRUNCATED


# ------------------------------------------------------------------------------------------
# Versioning (section 9)
# ------------------------------------------------------------------------------------------


def ack_frame(**kw):
    return wire.Frame(wire.Ack(wire.MessageType.GOODBYE), **kw)


def test_unknown_extensions_and_higher_minor_are_ignored_and_kept():
    rng = np.random.default_rng(5)
    for message in random_messages(rng):
        records = [(0x0101, bytes(range(9))), (0xFFFF, b"")]
        frame = wire.Frame(message, minor=9, flags=1 << 20, extensions=records)
        decoded = wire.decode(wire.encode(frame))
        assert decoded.extensions == records and decoded.minor == 9
        assert wire.describe(wire.Frame(decoded.message)) == wire.describe(wire.Frame(message))


def test_another_major_is_refused():
    data = bytearray(wire.encode(ack_frame()))
    data[4] = 2
    with pytest.raises(wire.WireError) as caught:
        wire.decode(bytes(data))
    assert caught.value.code == wire.ErrorCode.UNSUPPORTED_VERSION


def test_must_understand_flags_are_refused():
    with pytest.raises(wire.WireError) as caught:
        wire.encode(ack_frame(flags=1))
    assert caught.value.code == wire.ErrorCode.INVALID_VALUE and caught.value.field == "header.flags"


def test_checksum_is_zlib_crc32_over_header_and_payload():
    data = wire.encode(ack_frame(request_id=3))
    (crc,) = struct.unpack_from("<I", data, 20)
    assert crc == zlib.crc32(data[24:], zlib.crc32(data[:20]))
    assert zlib.crc32(b"123456789") == 0xCBF43926


# ------------------------------------------------------------------------------------------
# Limits and values
# ------------------------------------------------------------------------------------------


def hopper_batch(n=8):
    rng = np.random.default_rng(0)
    return wire.Transitions(1, 2, 3, 4, np.arange(n, dtype=np.uint64), np.arange(n, dtype=np.uint32),
                            f32(rng, (n, 11)), f32(rng, (n, 11)), f32(rng, (n, 3), -1, 1), f32(rng, n),
                            np.zeros(n, np.uint8))


def test_encoding_a_nan_names_the_field():
    batch = hopper_batch()
    batch.rewards[5] = np.nan
    with pytest.raises(wire.WireError) as caught:
        wire.encode(wire.Frame(batch))
    assert (caught.value.code, caught.value.field, caught.value.index) == (
        wire.ErrorCode.NON_FINITE, "transitions.rewards", 5)


def test_encoding_an_action_outside_the_unit_interval_is_refused():
    batch = hopper_batch()
    batch.actions[2, 1] = 1.01
    with pytest.raises(wire.WireError) as caught:
        wire.encode(wire.Frame(batch))
    assert (caught.value.code, caught.value.index) == (wire.ErrorCode.INVALID_VALUE, 7)


def test_limits_are_configurable():
    data = wire.encode(wire.Frame(hopper_batch(8)))
    with pytest.raises(wire.WireError) as caught:
        wire.decode(data, wire.Limits(max_transitions_per_batch=7))
    assert caught.value.code == wire.ErrorCode.LENGTH_OVER_LIMIT and caught.value.field == "transitions.count"
    assert wire.decode(data, wire.Limits(max_transitions_per_batch=8)).message.rewards.shape == (8,)


def test_gigabyte_claim_is_refused_before_reading():
    header = bytearray(wire.encode(ack_frame())[:24])
    struct.pack_into("<I", header, 16, 0xFFFFFFFF)
    with pytest.raises(wire.WireError) as caught:
        wire.decode(bytes(header))
    assert caught.value.code == wire.ErrorCode.LENGTH_OVER_LIMIT
