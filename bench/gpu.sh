#!/usr/bin/env bash
# On the GPU machine: build (bench/gpu_build.sh, BUILD_ONLY=1), run the CUDA kernel tests,
# compare `headscope record --attention stats` on CUDA and CPU for the fixture models, time the
# attention-statistics kernels against fused attention (attention_bench.jsonl), and
# `headscope record` against transformers on a Llama-3-8B-shaped random-weight model
# (e2e.jsonl). Everything goes under $OUT (8 files at most come back); summary.txt, printed
# last, holds the tables. STAGES picks parts: build,test,record,bench,e2e, and sparse (not by
# default: the sparse kernel against SDPA, sparse_bench.jsonl, and FlexAttention, flex_bench.jsonl;
# bench/gpu_sparse.sh runs it alone) and forward (not by default: headscope's plain forward
# against transformers' on the same shape, forward.jsonl; FWD_LENGTHS, FWD_LAYERS, FWD_BUDGET).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/headscope-gpu}
stages=${STAGES:-build,test,record,bench,e2e}
lengths=${LENGTHS:-4096 8192 16384 32768 65536 131072}
mkdir -p "$out"
# Seconds the whole script may take (the device call's limit, less a margin); e2e gets the rest.
deadline=$(( $(date +%s) + ${BUDGET:-400} ))
work=/tmp/headscope-gpu-work
mkdir -p "$work"
summary="$out/summary.txt"
: >"$summary"
has() { [[ ",$stages," == *",$1,"* ]]; }

# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh  # PATH (nvcc), LD_LIBRARY_PATH (.deps), gpu_unpack_deps, gpu_configure

if has build; then
  BUILD_ONLY=1 bash bench/gpu_build.sh || exit 1
  # Ninja stops at the first failing target; build everything else that still can.
  cmake --build build-gpu -j"$(nproc)" -- -k 0 2>&1 | grep -E "error|FAILED" | head -20 |
    tee -a "$summary"
  grep -E "headscope: CUDA" "$out/configure.log" build-gpu/CMakeCache.txt 2>/dev/null | head -2
fi
hs=build-gpu/cli/headscope

if has test; then
  timeout 120 build-gpu/tests/kernels_tests --gtest_filter='*Cuda*:*CUDA*' 2>&1 |
    tee "$out/kernels_cuda_tests.log" | grep -E "^\[  (FAILED|PASSED) |FAILED|Failure|error" |
    head -40 | tee -a "$summary"
  timeout 120 build-gpu/tests/core_tests --gtest_filter='*RandomWeights*' 2>&1 | tail -3 |
    tee -a "$summary"
fi

if has record; then
  # Same tokens on both devices (120: the fixtures have 128 positions), bf16 compute so the
  # kernels (not the float32 fallback) run on CUDA.
  tokens=$(python3 -c 'import random; random.seed(0); print(",".join(str(random.randrange(3, 500)) for _ in range(120)))')
  for fam in llama qwen2 qwen3 mistral gpt2 gpt_neox; do
    for dev in cuda cpu; do
      $hs record tests/fixtures/hf-tiny/$fam --tokens "$tokens" --attention stats --device $dev \
        --dtype bf16 --quiet --allow-long-context --out "$work/rec_${fam}_$dev.h5" --force \
        2>&1 | tail -2
    done
  done
  python3 - "$work" <<'PY' 2>&1 | tee "$out/record_compare.txt" >>"$summary"
import sys, glob, h5py, numpy as np
d = sys.argv[1]
for cuda in sorted(glob.glob(d + "/rec_*_cuda.h5")):
    fam = cuda.split("rec_")[1][:-8]
    try:
        a = h5py.File(cuda)["runs/0/attention_stats"]
        b = h5py.File(cuda.replace("_cuda.h5", "_cpu.h5"))["runs/0/attention_stats"]
    except Exception as e:
        print(fam, "missing:", e); continue
    row = [fam]
    for name in ("entropy", "sink_mass", "local_mass", "max_prob", "topk_prob"):
        row.append("%s %.1e" % (name, np.abs(a[name][()] - b[name][()]).max()))
    row.append("argmax agree %.4f" % (a["argmax"][()] == b["argmax"][()]).mean())
    bm = max(np.abs(a["block_mass"][k][()] - b["block_mass"][k][()]).max() for k in a["block_mass"])
    row.append("block_mass %.1e" % bm)
    print("record cuda vs cpu:", " | ".join(row))
PY
fi

if has bench; then
  # shellcheck disable=SC2086
  timeout 150 build-gpu/bench/attention_stats_bench $lengths 2>>"$summary" |
    tee "$out/attention_bench.jsonl" >/dev/null
fi

if has sparse; then
  # shellcheck disable=SC2086
  timeout 60 build-gpu/bench/sparse_attention_bench ${SPARSE_LENGTHS:-4096 8192 16384 32768} \
    2>>"$summary" >"$out/sparse_bench.jsonl"
  timeout 120 python3 bench/sparse_flex.py ${FLEX_LENGTHS:-32768 8192} >"$out/flex_bench.jsonl" \
    2>/dev/null
  cat "$out/flex_bench.jsonl" >>"$summary"
fi

if has forward; then
  # headscope's plain forward against transformers' (SDPA), Llama-3-8B shape with FWD_LAYERS
  # layers, bf16, random weights: one process per side over every length, shortest first, so
  # the time budget (FWD_BUDGET, half each) cuts the longest. Both sides' rows in forward.jsonl.
  fwd=build-gpu/bench/forward_bench
  if [[ ! -x $fwd ]]; then
    if [[ ! -f build-gpu/build.ninja ]]; then
      if ! { gpu_unpack_deps && gpu_configure "$work/forward_configure.log"; }; then
        tail -5 "$work/forward_configure.log" 2>/dev/null | tee -a "$summary"
      fi
    fi
    cmake --build build-gpu -j"$(nproc)" --target forward_bench 2>&1 | grep -E "error|FAILED" |
      head -10 | tee -a "$summary"
  fi
  cfg=$work/llama3-8b-shape
  python3 bench/llama_shape.py "$cfg" >/dev/null
  fwd_layers=${FWD_LAYERS:-4}
  read -ra fwd_lengths <<<"${FWD_LENGTHS:-4096 8192 16384 32768 65536}"
  fwd_end=$(( $(date +%s) + ${FWD_BUDGET:-240} ))
  (( fwd_end > deadline )) && fwd_end=$deadline
  half=$(( (fwd_end - $(date +%s)) / 2 ))
  (( half < 30 )) && half=30
  timeout "$half" "$fwd" "$cfg" --device cuda --layers "$fwd_layers" --repeats 5 \
    "${fwd_lengths[@]}" >"$work/forward_hs.jsonl" 2>"$work/forward_hs.log"
  hs_status=$?
  left=$(( fwd_end - $(date +%s) ))
  (( left < 30 )) && left=30
  PYTHONUNBUFFERED=1 timeout "$left" python3 bench/forward_transformers.py "$cfg" --device cuda \
    --layers "$fwd_layers" --repeats 5 "${fwd_lengths[@]}" >"$work/forward_hf.jsonl" \
    2>"$work/forward_hf.log"
  hf_status=$?
  echo "forward: headscope exit $hs_status, transformers exit $hf_status (124: time budget)" |
    tee -a "$summary"
  for log in "$work/forward_hs.log" "$work/forward_hf.log"; do
    [[ -s $log ]] && tail -3 "$log" | sed "s|^|$(basename "$log"): |" | tee -a "$summary"
  done
  cat "$work/forward_hs.jsonl" "$work/forward_hf.jsonl" >"$out/forward.jsonl"
  python3 - "$out/forward.jsonl" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
hs, hf = {}, {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        (hs if "headscope_ms" in r else hf)[r["T"]] = r
try:
    import transformers
    version = transformers.__version__
except ImportError:
    version = "?"
print("plain forward, batch 1, logits at every position (transformers %s, SDPA)" % version)
print("%7s %6s %5s %13s %16s %7s %10s %10s  %s" % ("T", "layers", "dtype", "headscope_ms",
      "transformers_ms", "hs/hf", "hs_GiB", "hf_GiB", "errors"))
for t in sorted(set(hs) | set(hf)):
    a, b = hs.get(t, {}), hf.get(t, {})
    ms_a, ms_b = a.get("headscope_ms", -1), b.get("transformers_ms", -1)
    ratio = "%.3f" % (ms_a / ms_b) if ms_a > 0 and ms_b > 0 else "-"
    errors = "; ".join(e for e in (a.get("error", "not run"), b.get("error", "not run")) if e)
    r = a or b
    print("%7d %6s %5s %13.2f %16.2f %7s %10.2f %10.2f  %s" % (t, r.get("layers"), r.get("dtype"),
          ms_a, ms_b, ratio, a.get("peak_gib", -1), b.get("peak_gib", -1), errors[:120]))
PY
fi

if has e2e; then
  left=$(( deadline - $(date +%s) ))
  (( left < 20 )) && left=20
  PYTHONUNBUFFERED=1 timeout "$left" python3 bench/record_vs_transformers.py \
    --headscope "$hs" --out "$out/e2e.jsonl" --layers 4 \
    --transformers ${HF_LENGTHS:-2048 4096 8192 16384 32768} --headscope-only ${HS_LENGTHS:-131072} \
    2>&1 | tail -12 >>"$summary"
fi
cat "$summary"
