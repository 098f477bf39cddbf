#!/usr/bin/env bash
# Issue 17, point 6, forward against forward: headscope's plain forward in process
# (bench/forward_bench: random weights of the model's shape, bf16, logits at every position)
# against bench/cpu_peer_forward.py's (the zoo model's own weights, bf16 as stored, no logits),
# both on one thread and under the same heap policy (bench/cpu_heap_policy.sh),
# taking turns per length. Neither side counts process start or loading; the load average
# follows each pair. JSON lines on stdout, the two sides' own rows.
# Usage: bench/cpu_forward_vs_torch.sh [BUILD] (default build); LENGTHS (2048 4096 8192 16384),
#        REPEATS (3), MODEL (zoo/models/needle-4x8).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}
model=${MODEL:-zoo/models/needle-4x8}
# shellcheck source=bench/cpu_heap_policy.sh
source bench/cpu_heap_policy.sh
export OMP_NUM_THREADS=1 "${cpu_heap_policy[@]}"
for T in ${LENGTHS:-2048 4096 8192 16384}; do
  "$build/bench/forward_bench" "$model" --device cpu --dtype bf16 --repeats "${REPEATS:-3}" \
    --warmup 1 "$T" || exit 1
  /usr/bin/python3 bench/cpu_peer_forward.py "$model" --tokens "$T" --repeats "${REPEATS:-3}" \
    --threads 1 || exit 1
  echo "{\"T\": $T, \"loadavg\": $(cut -d' ' -f1 /proc/loadavg)}"
done
