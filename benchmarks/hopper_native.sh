#!/usr/bin/env bash
# MEow on the built-in Hopper-v4 (MuJoCo stepped natively by `meow train`): learning-quality benchmark.
#
# One single-process run per seed with the paper's Hopper preset: deterministic evaluation of 10
# episodes (reset seeds 0-9) every EVAL_EVERY env steps, written as Test/return to each run's
# metrics.csv. Bounded (STEPS per seed) and resumable: a run directory that already holds a
# checkpoint is continued with `meow train --resume`, a finished one (summary.json) is skipped, so
# the script can be stopped at any time and started again.
#
#   benchmarks/hopper_native.sh                          # seeds 1-5, 200k steps, 2 at a time
#   SEEDS="1 2 3" STEPS=100000 PARALLEL=1 benchmarks/hopper_native.sh
#   ENV=walker2d SEEDS=1 benchmarks/hopper_native.sh     # another task, same protocol
#
# Then: .venv/bin/python benchmarks/plot_learning.py runs/bench-native/hopper-seed* --out hopper.png
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/.build/release}"
ENV="${ENV:-hopper}"
OUT="${OUT:-$ROOT/runs/bench-native}"
SEEDS="${SEEDS:-1 2 3 4 5}"
STEPS="${STEPS:-200000}"
EVAL_EVERY="${EVAL_EVERY:-10000}"
PARALLEL="${PARALLEL:-2}"
mkdir -p "$OUT"

run_seed() {
    local seed=$1 dir="$OUT/$ENV-seed$1"
    if [ -f "$dir/summary.json" ]; then
        echo "$ENV seed $seed: finished earlier ($dir/summary.json)"
        return
    fi
    if [ -e "$dir/checkpoints/latest" ]; then
        echo "$ENV seed $seed: resuming $dir"
        "$BIN/meow" train --resume "$dir" --quiet >> "$dir/train.log" 2>&1
    else
        echo "$ENV seed $seed: starting $dir"
        mkdir -p "$dir"
        "$BIN/meow" train --env "$ENV" --seed "$seed" --steps "$STEPS" --eval-every "$EVAL_EVERY" \
            --eval-episodes 10 --run-dir "$dir" --overwrite --quiet >> "$dir/train.log" 2>&1
    fi
    echo "$ENV seed $seed: $(tail -n 3 "$dir/train.log" | head -n 1)"
}

running=0
for seed in $SEEDS; do
    run_seed "$seed" &
    running=$((running + 1))
    if [ "$running" -ge "$PARALLEL" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
