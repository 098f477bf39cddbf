#!/usr/bin/env bash
# On the GPU machine: `headscope retrieval` under torchrun, one rank per GPU (Gloo carries the
# results, each rank computes on the GPU of its LOCAL_RANK; with one GPU, two ranks share
# cuda:0), against one process on one GPU: the files must be equal
# (tests/cli/same_analysis.py) and the JSON line gives both wall times.
# Builds headscope and dist_tests against PyTorch's LibTorch (bench/gpu_env.sh; needs .deps/).
# Logs and summary.txt under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
build=build-gpu-dist
note() { echo "$*" | tee -a "$summary"; }

# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
nvidia-smi --query-gpu=name --format=csv,noheader 2>&1 | tee -a "$summary"
gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | wc -l)
gpu_unpack_deps || exit 1
start=$(date +%s)
gpu_configure "$out/configure.log" "$build" -DHEADSCOPE_CUDA_ARCHITECTURES=90a \
  -DCMAKE_CUDA_FLAGS=--threads=0 || { tail -20 "$out/configure.log"; exit 1; }
grep -i "gloo" "$out/configure.log" | tee -a "$summary"
cmake --build "$build" -j"$(nproc)" --target headscope dist_tests >"$out/build.log" 2>&1
note "build: exit $? in $(( $(date +%s) - start )) s"
grep -E "error|FAILED" "$out/build.log" | head -30 | tee -a "$summary"
"$build/tests/dist_tests" --gtest_brief=1 >"$out/dist_tests.log" 2>&1
note "dist_tests: exit $?"
tail -3 "$out/dist_tests.log" | tee -a "$summary"

cli=$build/cli/headscope
model=zoo/models/needle-4x8
grid=(--length "${LENGTHS:-256,512,1024}" --depth 0,0.25,0.5,0.75,1 --max-new-tokens 16 --quiet)
timed() {  # label, command...: runs it, notes exit status and seconds, prints the seconds
  local label=$1 t0 status
  shift
  t0=$(date +%s%N)
  "$@" >"$out/$label.log" 2>&1
  status=$?
  local s
  # Milliseconds in bash arithmetic, printed as seconds (the GPU image has no bc).
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  s=$(printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )))
  note "$label: exit $status in $s s"
  [[ $status -eq 0 ]] || tail -15 "$out/$label.log" | tee -a "$summary"
  echo "$s" >"$out/$label.seconds"
}
timed single_gpu "$cli" retrieval "$model" --out "$out/single.h5" --device cuda "${grid[@]}"
for ranks in 2 $(( gpus > 2 ? gpus : 2 )); do
  [[ -e "$out/ranks$ranks.h5" ]] && continue
  device=cuda
  (( ranks <= gpus )) || device=cuda:0
  timed "torchrun_$ranks" torchrun --nproc-per-node "$ranks" --master-port $(( 29600 + ranks )) \
    --no-python "$cli" retrieval "$model" --out "$out/ranks$ranks.h5" --device "$device" "${grid[@]}"
  python3 tests/cli/same_analysis.py "$out/single.h5" "$out/ranks$ranks.h5" \
    /analyses/retrieval_heads >"$out/same_$ranks.log" 2>&1
  note "same file as one process ($ranks ranks): exit $? $(head -3 "$out/same_$ranks.log")"
  echo "{\"command\": \"retrieval\", \"grid\": \"${grid[*]}\", \"ranks\": $ranks, \"gpus\": $gpus, \"single_s\": $(cat "$out/single_gpu.seconds"), \"ranks_s\": $(cat "$out/torchrun_$ranks.seconds")}" |
    tee -a "$out/distributed.jsonl"
done
timed cpu_torchrun_2 torchrun --nproc-per-node 2 --master-port 29650 --no-python "$cli" retrieval \
  "$model" --out "$out/cpu2.h5" --length 64,96 --depth 0,1 --max-new-tokens 8 --quiet
echo "==== summary"
cat "$summary"
