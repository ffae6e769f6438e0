#!/usr/bin/env python3
"""ACTION_REQUEST round trips through a real meow-learner, next to a raw nng round trip.

Both are measured in the same run, on loopback TCP, from one pynng REQ socket:

- ``raw``: a pynng REP echo server in a separate process answers the same bytes back (the floor
  any nng request/reply pays);
- ``learner``: a release ``meow-learner --env hopper`` (Hopper's sizes: 11 observation and 3 action
  elements) answers ACTION_REQUEST with its inference policy, at batch 1 and batch 64 (rows per
  request). The policy is a trained one (version > 0): the script first streams warm-up steps so
  the learner makes some updates.

Frames are encoded before the timer starts; the timer covers send and receive only. Stochastic
STEP rows also hand transitions to the learner (which keeps training: that is the realistic case);
deterministic rows measure protocol plus inference alone. The learner runs with one update per 256
inserted transitions and a rate-limiter buffer large enough that requests never wait for training,
so the figures are the endpoint's, not the rate limiter's pacing. The learner's own receive-to-send
latency (its stats file) is printed too.

    python benchmarks/simulator_latency.py --bin .build/release --requests 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pynng

from meow_client import wire
from simbench_support import free_url, report  # beside this script, so on sys.path when it runs

ROOT = Path(__file__).resolve().parents[1]

OBS, ACT = 11, 3
ECHO = """
import sys, pynng
with pynng.Rep0(listen=sys.argv[1], recv_max_size=0) as s:
    print("ready", flush=True)
    while True:
        s.send(s.recv_msg().bytes)
"""



def quantiles(samples):
    a = np.array(samples) * 1e6
    return {"p50_us": float(np.percentile(a, 50)), "p99_us": float(np.percentile(a, 99)), "n": len(a)}


class Peer:
    """One REQ socket speaking frames; ``timed`` measures send + receive of pre-encoded bytes."""

    def __init__(self, url: str):
        self.sock = pynng.Req0(recv_timeout=30000, send_timeout=30000)
        self.sock.dial(url, block=False)
        self.request_id = 0

    def frame(self, message) -> bytes:
        self.request_id += 1
        return wire.encode(wire.Frame(message, request_id=self.request_id))

    def timed(self, data: bytes):
        began = time.perf_counter()
        self.sock.send(data)
        raw = self.sock.recv_msg().bytes
        return time.perf_counter() - began, raw

    def call(self, message):
        _, raw = self.timed(self.frame(message))
        reply = wire.decode(raw).message
        if isinstance(reply, (wire.Error, wire.Refused)):
            raise RuntimeError(f"learner answered {reply}")
        return reply


def hello():
    obs = wire.Space((OBS,), np.full(OBS, -wire.FLT_MAX, np.float32), np.full(OBS, wire.FLT_MAX, np.float32))
    act = wire.Space((ACT,), np.full(ACT, -1, np.float32), np.full(ACT, 1, np.float32))
    return wire.Hello(role=wire.Role.SIMULATOR, min_version=(1, 0), max_version=(wire.MAJOR, wire.MINOR),
                      capabilities=0, actor_id=0, run_id=12345, client_name="bench", client_version="0",
                      auth_token=b"", env_id="Hopper-v4", observation_space=obs, action_space=act)


def request(ids, event, rng, deterministic=False):
    n = len(ids)
    return wire.ActionRequest(
        deterministic=deterministic, want_values=False, action_dim=ACT, episode_ids=np.array(ids, np.uint64),
        observations=rng.standard_normal((n, OBS)).astype(np.float32),
        prev_rewards=np.ones(n, np.float32) if event == wire.ActionEvent.STEP else np.zeros(n, np.float32),
        events=np.full(n, int(event), np.uint8), prev_done_flags=np.zeros(n, np.uint8))


def measure(peer: Peer, raw: Peer, batch: int, count: int, rng, deterministic: bool, first_id: int):
    """Learner and raw round trips of the same size, interleaved in blocks of 100 so that both see
    the same machine load."""
    ids = list(range(first_id, first_id + batch))
    peer.call(request(ids, wire.ActionEvent.START, rng))
    learner, echo = [], []
    while len(learner) < count:
        for _ in range(100):
            data = peer.frame(request(ids, wire.ActionEvent.STEP, rng, deterministic))
            elapsed, reply = peer.timed(data)
            if not isinstance(wire.decode(reply).message, wire.ActionReply):
                raise RuntimeError(f"learner answered {wire.decode(reply).message}")
            learner.append(elapsed)
        payload = bytes(len(data))
        echo.extend(raw.timed(payload)[0] for _ in range(100))
    return quantiles(learner), quantiles(echo), len(data)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(ROOT / ".build" / "release"), help="directory with meow-learner")
    p.add_argument("--requests", type=int, default=2000, help="timed round trips per case")
    p.add_argument("--warmup-steps", type=int, default=3000, help="steps streamed before timing (trains the policy)")
    p.add_argument("--json", default=None, help="write the figures here")
    args = p.parse_args()
    rng = np.random.default_rng(0)

    echo_url = free_url()
    echo = subprocess.Popen([sys.executable, "-c", ECHO, echo_url], stdout=subprocess.PIPE, text=True)
    echo.stdout.readline()
    run_dir = Path(tempfile.mkdtemp(prefix="meow-latency-"))
    url = free_url()
    learner = subprocess.Popen(
        [str(Path(args.bin) / "meow-learner"), "--env", "hopper", "--listen", url, "--run-dir", str(run_dir),
         "--learning-starts", "256", "--batch-size", "256", "--samples-per-insert", "1",
         "--error-buffer", "100000000", "--eval-every", "0", "--quiet"], stdout=open(run_dir / "learner.log", "w"), stderr=subprocess.STDOUT)
    results = {}
    try:
        peer = Peer(url)
        peer.call(hello())
        # Warm-up: stream stochastic steps of 64 episodes until the learner has updated.
        ids = list(range(1, 65))
        peer.call(request(ids, wire.ActionEvent.START, rng))
        version = 0
        for _ in range(max(1, args.warmup_steps // 64)):
            version = peer.call(request(ids, wire.ActionEvent.STEP, rng)).policy_version
        for _ in range(200):
            if version > 0:
                break
            time.sleep(0.05)
            version = peer.call(request(ids, wire.ActionEvent.STEP, rng)).policy_version
        results["policy_version_at_start"] = version
        raw = Peer(echo_url)
        for batch in (1, 64):
            for deterministic in (False, True):
                key = f"batch{batch}_{'deterministic' if deterministic else 'stochastic'}"
                mine, echo_figures, size = measure(peer, raw, batch, args.requests, rng, deterministic,
                                                   first_id=1000 * batch + (500 if deterministic else 0))
                results[key] = {"learner": mine, "raw_nng": echo_figures, "request_bytes": size}
        raw.sock.close()
        time.sleep(1.2)
        stats = json.loads((run_dir / "learner-stats.json").read_text())
        sims = stats["simulators"]
        results["learner_side"] = {k: sims[k] for k in ("latency_p50_ms", "latency_p99_ms", "requests",
                                                          "inference_calls", "inference_rows", "policy_version")}
        results["learner_updates"] = stats["updates"]
        peer.sock.close()
    finally:
        learner.terminate()
        echo.terminate()
        learner.wait(10)
        echo.wait(10)
    return report(results, args.json)


if __name__ == "__main__":
    sys.exit(main())
