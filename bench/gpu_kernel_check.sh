#!/usr/bin/env bash
# On the GPU machine, a kernel change checked in one short call (about 4 minutes cold): the
# *_CUDA kernel tests of the wgmma (90a) and mma.sync (90) builds, and the statistics kernel
# timed against other trees with bench/stats_kernel_ab.sh (BASE, default bench/ab_base, and
# VARIANTS; on the host: `mkdir -p bench/ab_base && git archive main kernels | tar -x -C
# bench/ab_base`); ptxas's register report in ptxas.txt.
# Needs .deps/ (docs/DEVELOPING.md). Results under $OUT. EXTRA_TARGETS: more targets for
# build-gpu-dist, built alongside, so a following bench call on the warm machine starts at once.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
base=${BASE:-bench/ab_base}
mkdir -p "$out"
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
nvidia-smi -L
start=$(date +%s)
gpu_unpack_deps || exit 1
# The mma.sync build (90) beside the shared wgmma one (gpu_build_targets: build-gpu-dist, 90a).
build_90() {
  gpu_configure "$out/build-gpu-90.build.log" build-gpu-90 -DHEADSCOPE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_CUDA_FLAGS=--threads=0 &&
    cmake --build build-gpu-90 -j"$(nproc)" --target kernels_tests >>"$out/build-gpu-90.build.log" 2>&1
  echo "build-gpu-90 build: exit $?"
}
kernel_tests() {
  timeout 60 "$1/tests/kernels_tests" --gtest_filter='*CUDA*:*Cuda*' >"$out/$1.tests.log" 2>&1
  echo "$1 kernels_tests: exit $?"
  grep -E "^\[  (PASSED|FAILED|SKIPPED)|FAILED  \]" "$out/$1.tests.log" | head -20
}
# shellcheck disable=SC2086 # EXTRA_TARGETS is a list of target names
gpu_build_targets "$out" kernels_tests ${EXTRA_TARGETS:-} &
pid_a=$!
build_90 &
pid_b=$!
ab=()
[[ -d "$base/kernels" ]] && ab=(BASE="$base")
# The harness builds stay in /tmp: a run brings back only a few files.
harness_out=/tmp
OUT=$harness_out env ${ab[@]+"${ab[@]}"} STAGE=build bash bench/stats_kernel_ab.sh 2>"$out/ab.err" &
pid_ab=$!
wait "$pid_a"
kernel_tests build-gpu-dist
wait "$pid_ab"
OUT=$harness_out env ${ab[@]+"${ab[@]}"} STAGE=run bash bench/stats_kernel_ab.sh >"$out/ab.jsonl" 2>>"$out/ab.err"
grep -H "Compiling entry\|Used\|spill" "$harness_out"/stats_kernel_ab/build_*.log >"$out/ptxas.txt"
cat "$out/ab.jsonl"
wait "$pid_b"
kernel_tests build-gpu-90
echo "all: $(( $(date +%s) - start )) s"
