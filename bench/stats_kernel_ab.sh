#!/usr/bin/env bash
# On the GPU machine: the one-pass statistics kernel of this tree against another tree's
# (BASE: a directory holding that tree's kernels/, e.g. made on the host with
# `git archive main kernels | tar -x -C bench/ab_base`), built with nvcc alone
# (bench/stats_kernel_harness.cu, sm_90a; about 100 s, both in parallel) and timed alternately,
# ROUNDS times, at LENGTHS. VARIANTS: more trees, "label=dir ...", timed in the same rounds.
# JSON lines on stdout; builds under $OUT (or /tmp), with ptxas's register and spill report in
# each build log. STAGE=build or STAGE=run does only that half (build while the machine is busy,
# time once it is idle).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
command -v nvcc >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"
work=${OUT:-/tmp}/stats_kernel_ab
mkdir -p "$work"
build() {  # LABEL ROOT
  local flags=(-O3 -std=c++17 -arch="${ARCH:-sm_90a}" -I"$2")
  nvcc "${flags[@]}" -Xptxas=-v -c "$2/kernels/cuda/attention_stats_kernel.cu" \
    -o "$work/$1_kernel.o" &&
    nvcc "${flags[@]}" bench/stats_kernel_harness.cu "$work/$1_kernel.o" -o "$work/$1"
}
labels=(this)
roots=(.)
[[ -n "${BASE:-}" ]] && labels+=(base) && roots+=("$BASE")
for variant in ${VARIANTS:-}; do
  labels+=("${variant%%=*}")
  roots+=("${variant#*=}")
done
if [[ "${STAGE:-}" != run ]]; then
  for i in "${!labels[@]}"; do
    build "${labels[$i]}" "${roots[$i]}" >"$work/build_${labels[$i]}.log" 2>&1 &
  done
  wait
fi
[[ "${STAGE:-}" == build ]] && exit 0
for label in "${labels[@]}"; do
  [[ -x "$work/$label" ]] || { echo "stats_kernel_ab: $label did not build" >&2; tail "$work/build_$label.log" >&2; exit 1; }
done
for _ in $(seq "${ROUNDS:-2}"); do
  for T in ${LENGTHS:-32768 131072}; do
    for label in "${labels[@]}"; do
      "$work/$label" "$label" "$T" "${TOPK:-8}" $(( T > 65536 ? 3 : 10 ))
    done
  done
done
