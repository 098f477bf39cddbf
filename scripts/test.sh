#!/usr/bin/env bash
# The test command: sets up (scripts/setup.sh builds `headscope`), builds the test suites and the
# rest, then runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "headscope tests: building the test suites, benchmarks and kernels ($(date +%T))"
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
