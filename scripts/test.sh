#!/usr/bin/env bash
# The test command: sets up (scripts/setup.sh builds `headscope`), builds the test suites and the
# rest, then runs every test suite, and the numeric suites (label `numeric`) a second time under
# OpenBLAS's Prescott kernels: another summation order, so a tolerance tuned to this CPU's
# kernels fails here instead of on a user's machine (docs/DEVELOPING.md, Tolerances).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
echo "headscope tests: building the test suites, benchmarks and kernels ($(date +%T))"
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
echo "headscope tests: numeric suites again, OpenBLAS kernels for Prescott ($(date +%T))"
# The suites labelled `numeric` in tests/CMakeLists.txt, one process each (ctest starts LibTorch
# once per test: ~6 minutes instead of ~2).
for suite in core kernels hooks model analyses zoo; do
  [[ -x build/tests/${suite}_tests ]] || continue
  (cd build && OPENBLAS_CORETYPE=Prescott "tests/${suite}_tests" --gtest_brief=1)
done
