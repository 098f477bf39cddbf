#!/usr/bin/env bash
# The test command: sets up and builds (scripts/setup.sh), then runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
