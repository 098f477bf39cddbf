#!/usr/bin/env bash
# On the GPU machine: build, train the shipped recipe within a time budget, score it on
# held-out samples (another seed) and check it against Hugging Face transformers.
#   TRAIN_SECONDS (default 360): wall-clock budget for training; steps are sized from a probe.
# Results under $OUT: model/ (bf16 checkpoint), eval.jsonl, hf_parity.json, train.log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/headscope-zoo}
mkdir -p "$out"
BUILD_ONLY=1 bash bench/gpu_build.sh || exit 1
lib=/tmp/headscope-deps/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH="$lib:$lib/hdf5/serial:${LD_LIBRARY_PATH:-}"
hs=build-gpu/cli/headscope
recipe=${RECIPE:-needle-4x8}

start=$(date +%s.%N)
$hs zoo train "$recipe" --out /tmp/probe --device cuda --steps 200 --quiet || exit 1
probe=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
steps=$(awk -v p="$probe" -v b="${TRAIN_SECONDS:-360}" 'BEGIN { printf "%d", 200 * b / p }')
echo "probe: 200 steps in ${probe}s -> training $steps steps" | tee "$out/train.log"

$hs zoo train "$recipe" --out "$out/model" --device cuda --steps "$steps" --save-dtype bf16 \
  2>&1 | tr '\r' '\n' | grep -v '^\s*$' | tail -60 >> "$out/train.log"
for task in niah ioi colors induction; do
  $hs zoo eval "$out/model" --task "$task" --n 200 --seed 9001 --device cuda --json \
    | tee -a "$out/eval.jsonl"
done
python3 bench/hf_parity.py "$out/model" "$hs" "$out/hf_parity.json"
