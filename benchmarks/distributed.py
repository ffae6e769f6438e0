#!/usr/bin/env python3
"""Distributed benchmarks, driving real meow-learner / meow-actor / meow processes.

    python3 benchmarks/distributed.py [--bin .build/release] [--quick]

1. Learner ingest rate (transitions/s) with 1, 4 and 16 peers sending Hopper-sized batches
   (obs 11, action 3, 256 transitions) while the learner trains, next to its update rate.
   Peers are Python processes (one frame encoded per batch); the learner runs with
   --samples-per-insert 1 (ingest bound by the limiter at 256 x the update rate) and 0.05
   (ingest bound by the handlers and the peers; the learner updates once per 5120
   transitions). With the default ratio (= batch size) ingest equals the update rate by design.
2. Weights pull latency (whole policy, all chunks, one REQ at a time), p50 and p99, for the
   Hopper (11/3) and Humanoid (376/17) policies.
3. End-to-end env steps/s: `meow train --actors 2` next to the single-process `meow train`,
   same budget (Pendulum).

    python3 benchmarks/distributed.py --wal-baseline DIR [--bin .build/release]

The cost of the write-ahead log alone: ingest at 16 peers (samples-per-insert 0.05, so the
handlers and the log bound it, not the limiter) with the learner in --bin next to a learner
built without the log (DIR/meow-learner), alternating, in one run.

    python3 benchmarks/distributed.py --serving [--rounds 3]

The learner pinned to core 0 (`taskset -c 0`) trains at samples-per-insert 1 while 16 peers pinned
to core 1 send it Hopper-sized TRANSITIONS; its update rate is set beside its solo rate, `meow-bench
meow`'s Hopper update pinned to the same core, in the same run (alternating, `--rounds` times).
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pynng

from meow_client import wire

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def box(n, bound=10.0):
    return wire.Space((n,), np.full(n, -bound, np.float32), np.full(n, bound, np.float32))


def hello(actor_id, run_id, obs, act, act_bound=1.0):
    """The task's real spaces (unbounded observations): the learner compares bounds too."""
    return wire.Hello(role=wire.Role.ACTOR, min_version=(1, 0), max_version=(1, 0), capabilities=0,
                      actor_id=actor_id, run_id=run_id, client_name="bench", client_version="0", auth_token=b"",
                      env_id="", observation_space=box(obs, wire.FLT_MAX), action_space=box(act, act_bound))


def request(sock, message, request_id=1):
    sock.send(wire.encode(wire.Frame(message, request_id=request_id)))
    return wire.decode(sock.recv_msg().bytes).message


def start_learner(bin_dir, env, run_dir, *extra, prefix=()):
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    cmd = [*prefix, str(bin_dir / "meow-learner"), "--listen", url, "--env", env, "--run-dir", run_dir, "--quiet",
           *extra]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process, url


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


# MARK: - 1. Ingest

def peer_loop(url, actor_id, seconds, batch, obs, act, result, cpus=None):
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    run_id = random.getrandbits(63)
    sock = pynng.Req0(dial=url, recv_timeout=10000, send_timeout=10000)
    while not isinstance(request(sock, hello(actor_id, run_id, obs, act)), wire.Welcome):
        time.sleep(0.2)
    rng = np.random.default_rng(actor_id)
    columns = dict(
        episode_ids=np.zeros(batch, np.uint64), step_indices=np.arange(batch, dtype=np.uint32),
        observations=rng.uniform(-1, 1, (batch, obs)).astype(np.float32),
        next_observations=rng.uniform(-1, 1, (batch, obs)).astype(np.float32),
        actions=rng.uniform(-1, 1, (batch, act)).astype(np.float32),
        rewards=rng.uniform(-1, 1, batch).astype(np.float32), done_flags=np.zeros(batch, np.uint8))
    def frame(seq):
        return wire.encode(wire.Frame(wire.Transitions(actor_id=actor_id, run_id=run_id, seq=seq, policy_version=0,
                                                       **columns), request_id=seq + 1))
    accepted = tried = 0
    seq = 0
    encoded = frame(0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.send(encoded)
        reply = wire.decode(sock.recv_msg().bytes).message
        tried += 1
        if isinstance(reply, wire.TransitionsAck) and reply.status != wire.TransitionsStatus.TRY_LATER:
            accepted += batch
            seq += 1
            encoded = frame(seq)
        elif isinstance(reply, wire.TransitionsAck):
            time.sleep(reply.retry_after_ms / 1000)
    sock.close()
    result.put((accepted, tried))


def ingest(bin_dir, peers, seconds, samples_per_insert, learner_cpus=None, peer_cpus=None):
    prefix = ("taskset", "-c", ",".join(map(str, sorted(learner_cpus)))) if learner_cpus else ()
    with tempfile.TemporaryDirectory() as run_dir:
        learner, url = start_learner(bin_dir, "hopper", run_dir, "--samples-per-insert", str(samples_per_insert), "--min-replay", "1000",
                                     "--buffer-size", "1000000", "--max-batch", "256", "--steps", "100000000", "--eval-every", "0",
                                     prefix=prefix)
        result = mp.Queue()
        procs = [mp.Process(target=peer_loop, args=(url, i, seconds, 256, 11, 3, result, peer_cpus))
                 for i in range(peers)]
        start = time.monotonic()
        for p in procs:
            p.start()
        totals = [result.get(timeout=seconds + 120) for _ in procs]
        elapsed = time.monotonic() - start
        for p in procs:
            p.join()
        stats = json.loads((Path(run_dir) / "learner-stats.json").read_text())
        stop(learner)
    transitions = sum(t[0] for t in totals)
    ingest.last_stats = stats
    return transitions / elapsed, stats["updates"] / stats["elapsed_seconds"], stats["updates"]


# MARK: - 2. Weights

def weights_latency(bin_dir, env, obs, act, act_bound, pulls):
    with tempfile.TemporaryDirectory() as run_dir:
        learner, url = start_learner(bin_dir, env, run_dir, "--buffer-size", "10000")
        sock = pynng.Req0(dial=url, recv_timeout=10000, send_timeout=10000)
        while not isinstance(request(sock, hello(1, 7, obs, act, act_bound)), wire.Welcome):
            time.sleep(0.2)
        times = []
        size = 0
        for i in range(pulls + 5):
            t0 = time.perf_counter()
            first = request(sock, wire.WeightsRequest(held_version=0, fetch_version=0, chunk_index=0, only_if_newer=False))
            while isinstance(first, wire.Error):  # the agent is being built
                time.sleep(0.1)
                t0 = time.perf_counter()
                first = request(sock, wire.WeightsRequest(held_version=0, fetch_version=0, chunk_index=0,
                                                          only_if_newer=False))
            for index in range(1, first.chunk_count):
                request(sock, wire.WeightsRequest(held_version=0, fetch_version=first.version, chunk_index=index,
                                                  only_if_newer=False))
            if i >= 5:
                times.append(time.perf_counter() - t0)
            size = first.total_bytes
        sock.close()
        stop(learner)
    times = np.array(times) * 1000
    return size, float(np.percentile(times, 50)), float(np.percentile(times, 99))


def single_process_update_rate(bin_dir, cpus=None):
    """Updates/s of one Hopper-sized update at batch 256 on one thread (meow-bench meow's median)."""
    prefix = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    out = subprocess.run([*prefix, str(bin_dir / "meow-bench"), "meow", "--cases", "Hopper", "--repeats", "5",
                          "--actions", "100"], check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("Hopper update"))
    return 1e6 / float(line.split()[4])


# MARK: - 3. End to end

def end_to_end(bin_dir, steps, actors):
    with tempfile.TemporaryDirectory() as run_dir:
        cmd = [str(bin_dir / "meow"), "train", "--env", "pendulum", "--run-dir", run_dir + "/r", "--steps", str(steps),
               "--learning-starts", "1000", "--eval-every", "0", "--quiet"]
        if actors:
            cmd += ["--actors", str(actors)]
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return steps / (time.monotonic() - t0)


def wal_cost(bin_dir, baseline, seconds, rounds=3):
    print("write-ahead log cost: ingest, 16 peers, Hopper-sized batches, samples-per-insert 0.05, alternating")
    rates = {"without the log": [], "with the log": []}
    for _ in range(rounds):
        for name, directory in (("without the log", baseline), ("with the log", bin_dir)):
            rate, _, _ = ingest(directory, 16, seconds, 0.05)
            rates[name].append(rate)
    for name, values in rates.items():
        print(f"   {name:16s} {np.median(values):9.0f} transitions/s (median of {', '.join(f'{v:.0f}' for v in values)})")
    ratio = np.median(rates["with the log"]) / np.median(rates["without the log"])
    print(f"   with / without: {ratio:.2f}x")


def serving(bin_dir, seconds, rounds):
    print("learner pinned to core 0 at samples-per-insert 1, 16 peers pinned to core 1, against its solo update rate")
    solo, served = [], []
    for _ in range(rounds):
        solo.append(single_process_update_rate(bin_dir, cpus={0}))
        _, updates_per_second, _ = ingest(bin_dir, 16, seconds, 1, learner_cpus={0}, peer_cpus={1})
        served.append(updates_per_second)
        stats = ingest.last_stats
        print(f"   round: {updates_per_second:.1f} updates/s; training thread waited for inserts "
              f"{stats['sample_blocked_seconds']:.1f} s of {stats['elapsed_seconds']:.1f} s; "
              f"peers waited (TRY_LATER) {stats['try_later']} times")
    print(f"   solo (meow-bench meow, core 0): {np.median(solo):6.1f} updates/s "
          f"(median of {', '.join(f'{v:.1f}' for v in solo)})")
    print(f"   serving 16 peers:               {np.median(served):6.1f} updates/s "
          f"(median of {', '.join(f'{v:.1f}' for v in served)})")
    print(f"   serving / solo: {np.median(served) / np.median(solo):.2f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--wal-baseline", metavar="DIR", help="only compare ingest with DIR/meow-learner (no log)")
    parser.add_argument("--serving", action="store_true", help="only the pinned learner-while-serving comparison")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bin_dir = Path(args.bin)
    seconds = 5 if args.quick else 10
    if args.serving:
        serving(bin_dir, seconds, args.rounds)
        return
    if args.wal_baseline:
        wal_cost(bin_dir, Path(args.wal_baseline), seconds)
        return
    print("1. ingest, Hopper-sized batches (256 x (obs 11, act 3)) while the learner trains (batch 256)")
    for samples_per_insert in (1, 0.05):
        for peers in (1, 4, 16):
            rate, updates_per_second, updates = ingest(bin_dir, peers, seconds, samples_per_insert)
            print(f"   samples-per-insert {samples_per_insert:4}: {peers:2d} peers: {rate:9.0f} transitions/s ingested; "
                  f"learner {updates_per_second:6.1f} updates/s ({updates} updates)")
    reference = single_process_update_rate(bin_dir)
    print(f"   reference, same run: single-process Hopper update (meow-bench meow): {reference:6.1f} updates/s")
    print("2. weights pull latency (whole policy, one peer)")
    for env, obs, act, act_bound in (("hopper", 11, 3, 1.0), ("humanoid", 376, 17, 0.4)):
        size, p50, p99 = weights_latency(bin_dir, env, obs, act, act_bound, 50 if args.quick else 200)
        print(f"   {env:9s} {size / 1024:7.0f} KiB: p50 {p50:6.2f} ms, p99 {p99:6.2f} ms")
    print("3. end-to-end env steps/s, Pendulum, learning starts 1000, one update per step")
    steps = 4000 if args.quick else 8000
    single = end_to_end(bin_dir, steps, 0)
    distributed = end_to_end(bin_dir, steps, 2)
    print(f"   single process: {single:7.0f} steps/s;  learner + 2 actor processes: {distributed:7.0f} steps/s "
          f"({steps} steps)")


if __name__ == "__main__":
    main()
