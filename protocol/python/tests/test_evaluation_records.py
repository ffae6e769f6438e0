"""The evaluation records of PROTOCOL.md section 5.15: extension records of ACTION_REPLY and ACTION_REQUEST."""

import struct

import pytest

from meow_client import wire


def test_evaluate_round_trips():
    tag, value = wire.encode_evaluate([0, 1])
    assert tag == wire.EVALUATE_TAG and value == struct.pack("<IQQ", 2, 0, 1)
    assert wire.decode_evaluate([(tag, value)]) == [0, 1]
    assert wire.decode_evaluate([(0x42, b"\x01")]) is None


def test_evaluation_starts_round_trip():
    record = wire.encode_evaluation_starts([9, 12], [0, 3])
    assert record[1] == struct.pack("<IQQQQ", 2, 9, 12, 0, 3)
    assert wire.decode_evaluation_starts([record]) == ([9, 12], [0, 3])


@pytest.mark.parametrize("value, code", [
    (b"", wire.ErrorCode.MALFORMED),
    (b"\x01\x00", wire.ErrorCode.MALFORMED),
    (struct.pack("<IQ", 2, 0), wire.ErrorCode.MALFORMED),
    (struct.pack("<IQ", 1, 0) + b"\x00", wire.ErrorCode.MALFORMED),
    (struct.pack("<I", 0), wire.ErrorCode.INVALID_VALUE),
    (struct.pack("<IQ", 1, wire.NO_SEED), wire.ErrorCode.INVALID_VALUE),
    (struct.pack("<I", 5000), wire.ErrorCode.LENGTH_OVER_LIMIT),
])
def test_a_broken_evaluate_record_is_refused(value, code):
    with pytest.raises(wire.WireError) as caught:
        wire.decode_evaluate([(wire.EVALUATE_TAG, value)])
    assert caught.value.code == code
    assert caught.value.field.startswith("action_reply.extensions.evaluate")


def test_an_episode_named_twice_is_malformed():
    with pytest.raises(wire.WireError) as caught:
        wire.decode_evaluation_starts([(wire.EVALUATION_STARTS_TAG, struct.pack("<IQQQQ", 2, 7, 7, 0, 1))])
    assert caught.value.code == wire.ErrorCode.MALFORMED
    with pytest.raises(wire.WireError):
        wire.encode_evaluation_starts([1], [0, 1])


def test_a_record_twice_is_malformed():
    record = wire.encode_evaluate([0])
    with pytest.raises(wire.WireError) as caught:
        wire.decode_evaluate([record, record])
    assert caught.value.code == wire.ErrorCode.MALFORMED
