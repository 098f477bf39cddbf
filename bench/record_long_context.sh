#!/usr/bin/env bash
# Memory and time of `headscope record` as the context grows: attention statistics (linear in T)
# against full maps (quadratic), side by side in one run. Prints one JSON object per line:
#   {"mode": "stats", "tokens": 32768, "seconds": ..., "peak_rss_mb": ..., "file_mb": ...}
# usage: bench/record_long_context.sh [BUILD_DIR] [MODEL]   (defaults: build, the llama fixture)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
model=${2:-tests/fixtures/hf-tiny/llama}
hs="$build/cli/headscope"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tokens_file() {  # a deterministic sequence of $1 ids below 512 (the fixture's vocabulary)
  awk -v n="$1" 'BEGIN { s = 1; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; printf "%s%d", (i ? "," : ""), s % 512 } print "" }' > "$work/t$1.txt"
  echo "$work/t$1.txt"
}

measure() {  # mode tokens
  local mode=$1 n=$2 f
  f=$(tokens_file "$n")
  /usr/bin/time -f "%e %M" -o "$work/time" "$hs" record "$model" --tokens-file "$f" \
    --attention "$mode" --store-dtype f16 --allow-long-context --quiet --force --out "$work/r.h5"
  read -r seconds rss_kb < "$work/time"
  awk -v m="$mode" -v n="$n" -v s="$seconds" -v rss="$rss_kb" -v bytes="$(stat -c %s "$work/r.h5")" \
    'BEGIN { printf "{\"mode\": \"%s\", \"tokens\": %d, \"seconds\": %s, \"peak_rss_mb\": %.1f, \"file_mb\": %.1f}\n", m, n, s, rss / 1024, bytes / 1048576 }'
}

for n in 1024 2048 4096; do
  measure full "$n"
  measure stats "$n"
done
for n in 8192 16384 32768; do
  measure stats "$n"
done
