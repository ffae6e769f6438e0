"""Helpers shared by the simulator benchmarks (simulator_latency.py, simulator_throughput.py)."""

import json
import socket
from pathlib import Path


def free_url() -> str:
    """A loopback URL on a port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def report(results: dict, path) -> int:
    """Prints the figures as JSON (and writes them to `path` when given); the exit status."""
    text = json.dumps(results, indent=2)
    print(text)
    if path:
        Path(path).write_text(text)
    return 0
