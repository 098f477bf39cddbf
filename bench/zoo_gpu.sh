#!/usr/bin/env bash
# On the GPU machine: build, train one or more recipes side by side within a time budget,
# score each on held-out samples (another seed) and check the first against transformers.
#   RECIPES (default needle-4x8): recipe names or .json paths, trained concurrently
#   TRAIN_SECONDS (default 360): wall-clock budget for training; steps are sized from a probe
#   INIT_<n> (optional): model directory the n-th recipe (0-based) starts from (zoo train --init)
# Results: $OUT/<recipe>.tar.gz holding <recipe>/model/ (bf16 checkpoint), eval.jsonl, train.log
# (one archive each: the device tool returns few files); $OUT/hf_parity.json for the first recipe.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/headscope-zoo}
mkdir -p "$out"
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
gpu_build_targets "$out" headscope || exit 1
hs=build-gpu-dist/cli/headscope
read -r -a recipes <<< "${RECIPES:-needle-4x8}"

name_of() { basename "$1" .json; }
init_args() { local v="INIT_$1"; [[ -n "${!v:-}" ]] && echo "--init ${!v}"; }

start=$(date +%s.%N)
for i in "${!recipes[@]}"; do
  $hs zoo train "${recipes[$i]}" --out "/tmp/probe-$i" --device cuda --steps 200 --quiet &
done
wait
probe=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
steps=$(awk -v p="$probe" -v b="${TRAIN_SECONDS:-360}" 'BEGIN { printf "%d", 200 * b / p }')
echo "probe: 200 steps of ${#recipes[@]} concurrent runs in ${probe}s -> $steps steps each"

for i in "${!recipes[@]}"; do
  r=${recipes[$i]}
  d="$out/$(name_of "$r")"
  mkdir -p "$d"
  echo "probe: ${probe}s for 200 steps -> $steps steps $(init_args "$i")" > "$d/train.log"
  # shellcheck disable=SC2046
  $hs zoo train "$r" --out "$d/model" --device cuda --steps "$steps" --save-dtype bf16 \
    $(init_args "$i") 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | grep -v '^train ' | tail -60 \
    >> "$d/train.log" &
done
wait

for r in "${recipes[@]}"; do
  d="$out/$(name_of "$r")"
  {
    for len in 128 256 512 1024; do
      $hs zoo eval "$d/model" --task niah --n 100 --length "$len" --seed 9001 --device cuda --json
    done
    for task in ioi colors induction; do
      $hs zoo eval "$d/model" --task "$task" --n 200 --seed 9001 --device cuda --json
    done
  } > "$d/eval.jsonl" &
done
wait
for r in "${recipes[@]}"; do
  echo "== $(name_of "$r")"; tail -8 "$out/$(name_of "$r")/train.log"; cat "$out/$(name_of "$r")/eval.jsonl"
done
python3 bench/hf_parity.py "$out/$(name_of "${recipes[0]}")/model" "$hs" "$out/hf_parity.json"
for r in "${recipes[@]}"; do
  n=$(name_of "$r")
  rm -rf "$out/$n/model/checkpoints"
  tar -czf "$out/$n.tar.gz" -C "$out" "$n" && rm -rf "${out:?}/$n"
done
