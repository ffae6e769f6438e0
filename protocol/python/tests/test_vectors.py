"""The golden vectors: valid frames decode to their description and re-encode byte for byte;
malformed frames raise the expected error code (and field and index, where given)."""

import json
from pathlib import Path

import pytest

from meow_client import wire

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
NAMES = sorted(p.stem for p in VECTORS.glob("*.bin"))
VALID = [n for n in NAMES if not n.startswith("bad_")]
MALFORMED = [n for n in NAMES if n.startswith("bad_")]


def load(name):
    return (VECTORS / f"{name}.bin").read_bytes(), json.loads((VECTORS / f"{name}.json").read_text())


def test_vectors_exist():
    assert len(VALID) >= 20 and len(MALFORMED) >= 10
    covered = {load(n)[1]["type"] for n in VALID}
    assert covered == {t.name for t in wire.MessageType}


@pytest.mark.parametrize("name", VALID)
def test_valid_vector(name):
    data, description = load(name)
    frame = wire.decode(data)
    assert json.loads(json.dumps(wire.describe(frame))) == description
    assert wire.encode(frame) == data


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_vector(name):
    data, description = load(name)
    expected = description["error"]
    with pytest.raises(wire.WireError) as caught:
        wire.decode(data)
    assert caught.value.code.name == expected["code"]
    if "field" in expected:
        assert caught.value.field == expected["field"]
    if "index" in expected:
        assert caught.value.index == expected["index"]


@pytest.mark.parametrize("name", VALID)
def test_every_strict_prefix_is_truncated(name):
    data, _ = load(name)
    for length in range(len(data)):
        with pytest.raises(wire.WireError) as caught:
            wire.decode(data[:length])
        assert caught.value.code == wire.ErrorCode.TRUNCATED, length
