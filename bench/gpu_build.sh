#!/usr/bin/env bash
# On the GPU machine: build headscope against the LibTorch inside PyTorch 2.x, run every test
# (the *_CUDA ones included) and record on the GPU; BUILD_ONLY=1 stops after the build.
# Libraries missing there (PCRE2, utf8proc, HDF5, ...) come as Debian .deb files in .deps/
# (see docs/DEVELOPING.md), unpacked into a prefix.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/headscope-gpu}
mkdir -p "$out"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
} 2>&1 | tee "$out/env.txt"

prefix=/tmp/headscope-deps
rm -rf "$prefix" build-gpu  # a warm machine keeps both; start clean so the probe below decides
mkdir -p "$prefix"
# A GoogleTest already on the machine wins: its headers would otherwise meet the .deb's
# library of another version (mismatched class layouts crash at test start).
system_gtest=$(find /usr/lib /usr/local/lib /usr/lib64 -name 'libgtest.*' 2>/dev/null | head -1)
echo "system gtest: ${system_gtest:-none}; headers: $(ls -d /usr/include/gtest /usr/local/include/gtest 2>/dev/null)" | tee -a "$out/env.txt"
for deb in .deps/*.deb; do
  case "$deb" in *libgtest-dev*|*libgmock-dev*) [[ -n "$system_gtest" ]] && continue ;; esac
  dpkg -x "$deb" "$prefix"
done
lib="$prefix/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$lib:$lib/hdf5/serial:${LD_LIBRARY_PATH:-}"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')

# Without a system GoogleTest library, the unpacked headers must shadow any stray system ones.
gtest_flags=()
[[ -z "$system_gtest" ]] && gtest_flags=("-DCMAKE_CXX_FLAGS=-I$prefix/usr/include")
set -o pipefail
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" -DCMAKE_CUDA_ARCHITECTURES=90 \
  "${gtest_flags[@]}" \
  2>&1 | tee "$out/configure.log" | tail -5 || exit 1
start=$(date +%s)
cmake --build build-gpu -j"$(nproc)" 2>&1 | tee "$out/build.log" | grep -E "error|FAILED" | head -30
echo "build seconds: $(( $(date +%s) - start ))" | tee -a "$out/env.txt"
[[ -n "${BUILD_ONLY:-}" ]] && exit 0
ctest --test-dir build-gpu --output-on-failure -j8 2>&1 | tee "$out/ctest.log" | tail -15
# The CUDA tests by name, so the log shows they ran rather than skipped.
build-gpu/tests/hooks_tests --gtest_filter='*_CUDA*' 2>&1 | tee "$out/cuda_tests.log" | tail -4

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
