#!/usr/bin/env bash
# On the GPU machine: the activation-patching sweep benchmark (bench/patching_bench.cpp) on CUDA,
# built against PyTorch's LibTorch (bench/gpu_env.sh, .deps/). The shipped zoo model (batched
# sweep against the one-forward-per-head loop, on the GPU and on this host's CPU cores), then a
# random Llama-3-8B-shaped model in bf16 on 128-token pairs, the shape of the target "every head
# of a 32 x 32 model over 100 pairs in under a minute" (PAIRS_8B pairs, default 4, extrapolated
# by samples_per_s). One JSON line per run in $OUT/patching.jsonl.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
gpu_build_targets "$out" patching_bench || exit 1

bench() {
  echo "patching_bench $*" | tee -a "$out/env.txt"
  build-gpu-dist/bench/patching_bench "$@" | tee -a "$out/patching.jsonl"
}
bench --device cuda --pairs 100 --length 128
bench --device cpu --pairs 20 --length 128 --naive-pairs 2
bench --random-weights --llama3-8b --device cuda --dtype bf16 --pairs "${PAIRS_8B:-4}" \
  --length 128 --naive-pairs 1 --repeats 1
