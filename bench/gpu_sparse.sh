#!/usr/bin/env bash
# On the GPU machine, kernel 2 alone: configure as bench/gpu_build.sh does (bench/gpu_env.sh)
# but build only kernels_tests and sparse_attention_bench, run the *Sparse*CUDA* tests, time the
# sparse kernel against dense SDPA (sparse_bench.jsonl: T = 4K..32K, H = 32, D = 128, kept
# 10-50%) and FlexAttention on the same masks (flex_bench.jsonl), all within BUDGET seconds
# (default 190).
# Needs .deps/ (docs/DEVELOPING.md). Results under $OUT; sparse_summary.txt, printed last, holds
# the table.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
deadline=$(( $(date +%s) + ${BUDGET:-190} ))
left() { echo $(( deadline - $(date +%s) )); }
summary="$out/sparse_summary.txt"
: >"$summary"
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
gpu_unpack_deps || exit 1
gpu_configure "$out/sparse_configure.log" || { tail -20 "$out/sparse_configure.log"; exit 1; }
start=$(date +%s)
cmake --build build-gpu -j"$(nproc)" --target kernels_tests sparse_attention_bench \
  >"$out/sparse_build.log" 2>&1
echo "build: exit $? in $(( $(date +%s) - start )) s" | tee -a "$summary"
grep -E "error|FAILED" "$out/sparse_build.log" | head -20 | tee -a "$summary"

timeout $(( $(left) > 60 ? 60 : ($(left) > 10 ? $(left) : 10) )) build-gpu/tests/kernels_tests --gtest_filter='*Sparse*CUDA*' \
  >"$out/sparse_tests.log" 2>&1
grep -E "^\[  (FAILED|PASSED) |Failure|error|Expected|Which is|seed|head " "$out/sparse_tests.log" |
  head -40 | tee -a "$summary"

# Our kernel gets a third of what is left (it needs a few seconds), FlexAttention the rest
# (torch.compile per length and mask function dominates).
# shellcheck disable=SC2086
timeout $(( $(left) / 3 > 15 ? $(left) / 3 : 15 )) build-gpu/bench/sparse_attention_bench \
  ${LENGTHS:-4096 8192 16384 32768} >"$out/sparse_bench.jsonl" 2>>"$summary"
flex_time=$(( $(left) - 5 ))
if (( flex_time > 10 )); then
  # shellcheck disable=SC2086
  timeout "$flex_time" python3 bench/sparse_flex.py ${FLEX_LENGTHS:-32768 8192} \
    >"$out/flex_bench.jsonl" 2>"$out/flex.log"
  echo "flexattention: exit $? (124: stopped at the time budget)" >>"$summary"
  grep -E "Error|error" "$out/flex.log" | tail -3 >>"$summary"
else
  echo "flexattention: skipped, no time left" >>"$summary"
fi
python3 - "$out" <<'PY' >>"$summary" 2>&1
import json, sys
d = sys.argv[1]
def rows(name):
    try:
        return [json.loads(l) for l in open(d + "/" + name) if l.startswith("{")]
    except OSError:
        return []
flex = {(r["T"], r["config"]): r for r in rows("flex_bench.jsonl")}
print("%7s %-8s %6s %9s %9s %9s %9s %s" % ("T", "config", "kept", "sdpa_ms", "ours_ms",
                                           "flex_ms", "target", "verdict"))
for r in rows("sparse_bench.jsonl"):
    f = flex.get((r["T"], r["config"]), {})
    fm = f.get("flex_ms", -1)
    ok = 0 < r["ours_ms"] <= r["target_ms"] and (fm < 0 or r["ours_ms"] <= fm)
    print("%7d %-8s %6.3f %9.3f %9.3f %9.3f %9.3f %s" % (r["T"], r["config"], r["kept"],
          r["sdpa_ms"], r["ours_ms"], fm, r["target_ms"], "meets" if ok else "misses"))
PY
cat "$summary"
