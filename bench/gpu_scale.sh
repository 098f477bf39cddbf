#!/usr/bin/env bash
# On the GPU machine, issue 17's end-to-end goal: `headscope record --random-weights` of the
# Llama-3-8B shape (LAYERS, default 32, bf16) with --attention stats and --attention none, and
# transformers' SDPA forward of the same model, at LENGTHS (default 32768 65536 131072), in one
# run (bench/record_vs_transformers.py, e2e.jsonl; BASELINE: another headscope binary whose stats
# run is timed beside this build's; STATS_VARIANTS: further stats runs, record
# options separated by ';', e.g. "--compression none;--compression deflate:1"; HEADSCOPE_ONLY:
# lengths without transformers, e.g. 262144); then the chunk writer on this machine's
# cores (store_write.json). Builds into build-gpu-dist
# (gpu_build_targets). STAGES picks parts: build,e2e,store. Results under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
stages=${STAGES:-build,e2e,store}
mkdir -p "$out"
has() { [[ ",$stages," == *",$1,"* ]]; }
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
build=build-gpu-dist
if has build; then
  gpu_build_targets "$out" headscope store_write_bench || exit 1
fi
if has e2e; then
  read -ra lengths <<<"${LENGTHS:-32768 65536 131072}"
  read -ra only <<<"${HEADSCOPE_ONLY:-}"
  IFS=';' read -ra variants <<<"${STATS_VARIANTS:-}"
  PYTHONUNBUFFERED=1 python3 bench/record_vs_transformers.py --headscope "$build/cli/headscope" \
    --out "$out/e2e.jsonl" --layers "${LAYERS:-32}" --skip-eager --transformers "${lengths[@]}" \
    ${BASELINE:+--baseline "$BASELINE"} --headscope-only ${only[@]+"${only[@]}"} \
    --stats-variants ${variants[@]+"${variants[@]}"} \
    2>&1 | tail -12
fi
if has store; then
  timeout 120 "$build/bench/store_write_bench" --tokens 131072 --heads 32 \
    --threads 1,4,"$(nproc)" --compression deflate:4,deflate:1,none --repeats 1 --dir /tmp \
    >"$out/store_write.json" 2>"$out/store_write.err"
  echo "store_write_bench: exit $?"
  cat "$out/store_write.json"
fi
