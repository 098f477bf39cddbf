#!/usr/bin/env bash
# On the GPU machine: build headscope against the LibTorch inside PyTorch 2.x, run every test
# (the *_CUDA ones included) and record on the GPU; BUILD_ONLY=1 stops after the build.
# Libraries missing there come from .deps/ (bench/gpu_env.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
} 2>&1 | tee "$out/env.txt"

# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
# A warm machine keeps both; start clean so the probe in gpu_env.sh decides.
rm -rf "$HEADSCOPE_DEPS" build-gpu
echo "system gtest: $(gpu_system_gtest | grep . || echo none); headers: $(ls -d /usr/include/gtest /usr/local/include/gtest 2>/dev/null)" | tee -a "$out/env.txt"
gpu_unpack_deps || exit 1
gpu_configure "$out/configure.log" || { tail -20 "$out/configure.log"; exit 1; }
tail -5 "$out/configure.log"
start=$(date +%s)
cmake --build build-gpu -j"$(nproc)" 2>&1 | tee "$out/build.log" | grep -E "error|FAILED" | head -30
echo "build seconds: $(( $(date +%s) - start ))" | tee -a "$out/env.txt"
[[ -n "${BUILD_ONLY:-}" ]] && exit 0
ctest --test-dir build-gpu --output-on-failure -j8 2>&1 | tee "$out/ctest.log" | tail -15
# The CUDA tests by name, so the log shows they ran rather than skipped.
build-gpu/tests/model_tests --gtest_filter='*_CUDA*' 2>&1 | tee "$out/cuda_tests.log" | tail -4

hs=build-gpu/cli/headscope
$hs record tests/fixtures/hf-tiny/qwen3 --tokens 5,17,300,42,7,99,1,2,3 --device cuda \
  --out "$out/qwen3_cuda.h5" --save-logits 2>&1 | tee -a "$out/env.txt"
$hs record tests/fixtures/hf-tiny/qwen3 --tokens 5,17,300,42,7,99,1,2,3 --device cpu \
  --out "$out/qwen3_cpu.h5" --save-logits 2>&1 | tee -a "$out/env.txt"
python3 - "$out" <<'PY' 2>&1 | tee -a "$out/env.txt"
import sys, h5py, numpy as np
d = sys.argv[1]
a, b = h5py.File(d + "/qwen3_cuda.h5"), h5py.File(d + "/qwen3_cpu.h5")
for name in a["runs/0"]:
    if name in ("tokens", "token_text"):
        continue
    print(name, "max |cuda - cpu| =", float(np.abs(a["runs/0"][name][()] - b["runs/0"][name][()]).max()))
PY
