"""Reads a learner's write-ahead log (docs/checkpoints.md, "Write-ahead log") for the tests."""

import struct
from pathlib import Path

MARKED_BATCH, SIMULATOR_BATCH, MARK = 1, 2, 3


def records(run_dir: Path):
    """Every whole record as (kind, ordinal, actor, run, seq, count), oldest first."""
    result = []
    for segment in sorted((run_dir / "wal").glob("segment-*.wal")):
        data = segment.read_bytes()
        offset = 0
        while offset + 8 <= len(data):
            length, _crc = struct.unpack_from("<II", data, offset)
            body = data[offset + 8:offset + 8 + length]
            if len(body) < length:
                break
            kind, ordinal = struct.unpack_from("<BQ", body, 0)
            if kind == MARK:
                actor, run, seq = struct.unpack_from("<IQQ", body, 9)
                count = 0
            else:
                actor, run, seq, _version, _obs, _act, count = struct.unpack_from("<IQQQIII", body, 9)
            result.append((kind, ordinal, actor, run, seq, count))
            offset += 8 + length
    return result


def acknowledged_marks(run_dir: Path):
    """(actor, run, seq) of every actor batch the log holds (stored or dropped as stale)."""
    return [(actor, run, seq) for kind, _, actor, run, seq, _ in records(run_dir) if kind in (MARKED_BATCH, MARK)]


if __name__ == "__main__":
    # `wal.py RUN_DIR`: one line per actor batch the log holds, `actor run seq count status`
    # (status `stored`, or `stale` for a batch acknowledged but dropped), for shell scripts.
    import sys

    for kind, _, actor, run, seq, count in records(Path(sys.argv[1])):
        if kind in (MARKED_BATCH, MARK):
            print(actor, run, seq, count, "stored" if kind == MARKED_BATCH else "stale")
