#!/usr/bin/env bash
# On the GPU machine: the CUDA tests of both kernel paths. Builds kernels_tests and hooks_tests
# against PyTorch's LibTorch (bench/gpu_env.sh; needs .deps/, docs/DEVELOPING.md) for the
# default architectures, 80;90a (a Hopper GPU runs the wgmma code), and runs every kernels test
# and the *_CUDA tests of hooks, model (pipeline placement) and dist (NCCL). Then it rebuilds the kernels for 80 alone: a Hopper GPU has no
# machine code in that build and runs the driver's compilation of its compute_80 PTX, the
# mma.sync path an A100 runs, and the kernels' *_CUDA tests run again. With FALLBACK=1 last a
# build for 80-real (no binary a Hopper GPU can run): the dispatch must route to the reference,
# so only the tests that assert the kernels take the inputs fail, and no test reports a CUDA
# error. Logs and summary.txt (printed last) under $OUT; ARCHS overrides the first build's list.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
build=build-gpu-test
note() { echo "$*" | tee -a "$summary"; }

# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>&1 | tee -a "$summary"
nvcc --version | tail -1 | tee -a "$summary"
gpu_unpack_deps || exit 1

# Configures $build for the architectures $1 and builds the targets after it; logs under $out.
build_for() {
  local archs=$1 tag=${1//;/_} start
  shift
  start=$(date +%s)
  # nvcc compiles the architectures of one file in parallel threads.
  if ! gpu_configure "$out/configure_$tag.log" "$build" -DHEADSCOPE_CUDA_ARCHITECTURES="$archs" \
      -DCMAKE_CUDA_FLAGS=--threads=0; then
    tail -20 "$out/configure_$tag.log"
    note "configure for $archs: FAILED"
    return 1
  fi
  cmake --build "$build" -j"$(nproc)" --target "$@" >"$out/build_$tag.log" 2>&1
  local status=$?
  note "build for $archs ($*): exit $status in $(( $(date +%s) - start )) s"
  grep -E "error|FAILED" "$out/build_$tag.log" | head -30 | tee -a "$summary"
  # Which machine code and PTX the kernels carry, and whether the Hopper code uses wgmma.
  local lib="$build/kernels/libheadscope_cuda_kernels.a"
  cuobjdump -lelf -lptx "$lib" 2>&1 | sed 's/^.*: */  /' | tee -a "$summary"
  note "  wgmma (HGMMA) instructions in the sm_90a code: $(cuobjdump -sass -arch sm_90a "$lib" 2>/dev/null | grep -c HGMMA)"
  return $status
}

# Runs a test executable with a gtest filter, within $3 seconds; the summary gets the outcome.
run_tests() {
  local exe=$1 filter=$2 limit=$3 log start
  log="$out/$(basename "$exe")_${4:-run}.log"
  start=$(date +%s)
  timeout "$limit" "$build/tests/$exe" --gtest_filter="$filter" >"$log" 2>&1
  note "$exe $filter (${4:-run}): exit $? in $(( $(date +%s) - start )) s"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |^\[  FAILED  \] .*\.|Failure|CUDA error|error:" "$log" |
    head -40 | tee -a "$summary"
}

archs=${ARCHS:-80;90a}
if build_for "$archs" kernels_tests hooks_tests model_tests dist_tests; then
  run_tests kernels_tests '*' 300 "${archs//;/_}"
  run_tests hooks_tests '*_CUDA*' 200 "${archs//;/_}"
  # Layers placed over devices against one device; NCCL in a group of one process.
  run_tests model_tests '*_CUDA*' 200 "${archs//;/_}"
  run_tests dist_tests '*_CUDA*' 100 "${archs//;/_}"
fi

if build_for 80 kernels_tests; then
  run_tests kernels_tests '*_CUDA*' 300 80_ptx
fi

if [[ -n "${FALLBACK:-}" ]] && build_for 80-real kernels_tests; then
  run_tests kernels_tests '*_CUDA*' 120 80_real
fi

echo "==== summary"
cat "$summary"
