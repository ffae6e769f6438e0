#!/usr/bin/env bash
# MEow on Gymnasium Hopper-v4 through the simulator bridge: learning-quality benchmark.
#
# For each seed: a meow-learner with the paper's Hopper preset (--env hopper) and one
# `python -m meow_client.gym` bridge that steps Hopper-v4 (one environment, as the paper). The
# bridge runs in segments up to each checkpoint (default 50k, 100k, 200k env steps); between
# segments nothing is inserted, so the rate limiter (one update per env step) holds the policy
# still while a second bridge evaluates it deterministically: 10 episodes, reset seeds 0-9,
# mean actions (--deterministic; these episodes stay out of replay and out of the curves).
#
#   benchmarks/hopper.sh                        # 3 seeds in parallel, logs under /tmp/hopper-bench
#   SEEDS="1" CHECKPOINTS="50000" benchmarks/hopper.sh
#
# Results: $OUT/results.tsv (seed, env steps, mean and std of the 10 evaluation returns, wall
# seconds), each learner's metrics.csv (charts/episodic_return, losses) and logs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-/tmp/hopper-bench}"
BIN="${BIN:-$ROOT/.build/release}"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
ENV_ID="${ENV_ID:-Hopper-v4}"
PRESET="${PRESET:-hopper}"
SEEDS="${SEEDS:-1 2 3}"
CHECKPOINTS="${CHECKPOINTS:-50000 100000 200000}"
BASE_PORT="${BASE_PORT:-7760}"
EXTRA_LEARNER_ARGS="${EXTRA_LEARNER_ARGS:-}"
mkdir -p "$OUT"
[ -f "$OUT/results.tsv" ] || printf 'env\tseed\tenv_steps\teval_mean\teval_std\twall_seconds\n' > "$OUT/results.tsv"

run_seed() {
    local seed=$1 port=$((BASE_PORT + $1))
    local dir="$OUT/$PRESET-seed$seed" url="tcp://127.0.0.1:$((BASE_PORT + $1))"
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    "$BIN/meow-learner" --env "$PRESET" --seed "$seed" --listen "$url" --run-dir "$dir" \
        --eval-every 0 $EXTRA_LEARNER_ARGS > "$dir/learner.log" 2>&1 &
    local learner=$!
    trap 'kill $learner 2>/dev/null || true' RETURN
    local began done=0
    began=$(date +%s)
    for target in $CHECKPOINTS; do
        "$PY" -m meow_client.gym --env "$ENV_ID" --connect "$url" --steps $((target - done)) \
            --seed $((1000 * seed + done)) --timeout 60 --quiet \
            --report-json "$dir/train-$target.json" >> "$dir/bridge.log" 2>&1
        done=$target
        "$PY" -m meow_client.gym --env "$ENV_ID" --connect "$url" --episodes 10 --seed 0 \
            --deterministic --timeout 60 --quiet --report-json "$dir/eval-$target.json" >> "$dir/bridge.log" 2>&1
        "$PY" - "$dir/eval-$target.json" "$ENV_ID" "$seed" "$target" "$began" >> "$OUT/results.tsv" <<'EOF'
import json, sys, time
import numpy as np
report = json.load(open(sys.argv[1]))
returns = np.array(report["returns"])
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{sys.argv[4]}\t{returns.mean():.1f}\t{returns.std():.1f}\t{time.time() - float(sys.argv[5]):.0f}")
EOF
    done
}

for seed in $SEEDS; do
    run_seed "$seed" &
done
wait
cat "$OUT/results.tsv"
