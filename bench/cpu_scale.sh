#!/usr/bin/env bash
# Issue 16's CPU scaling table: one `headscope retrieval` scan on zoo/models/needle-4x8 run by one
# process (one thread, and one per core) and by torchrun on 2 CPU processes over Gloo (each with
# its default share of the cores, cores / 2), REPEATS times each.
# Prints one JSON line per configuration: wall seconds of every repeat and their median, the
# host's cores and its load average before and after (other work on the host skews the times),
# and whether the distributed file equals the one-process file (tests/cli/same_analysis.py).
# Usage: bench/cpu_scale.sh [HEADSCOPE] (default build/cli/headscope); LENGTHS, REPEATS, OUT.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
cli=$(realpath "${1:-build/cli/headscope}")
out=${OUT:-/tmp/headscope-cpu-scale}
repeats=${REPEATS:-3}
mkdir -p "$out"
grid="--length ${LENGTHS:-128,256,384} --depth 0,0.25,0.5,0.75,1 --max-new-tokens 8 --quiet"
read -ra grid_args <<<"$grid"
model=zoo/models/needle-4x8
cores=$(nproc)
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ','; }

# torchrun 1.13 takes options that abbreviate its own even after the program, so it runs a
# script (docs/DISTRIBUTED.md); --redirects/--tee: Python 3.11 breaks their default.
launch() {  # ranks, output file
  printf '#!/bin/sh\nexec %s retrieval %s --out %s %s\n' "$cli" "$model" "$2" "$grid" \
    >"$out/launch.sh"
  chmod +x "$out/launch.sh"
  torchrun --nproc_per_node "$1" --master_port $((29700 + RANDOM % 200)) --redirects 1 --tee 1 \
    --log_dir "$out/logs" --no_python "$out/launch.sh" >"$out/torchrun.log" 2>&1
}

run_config() {  # label, processes, threads per process, command...
  local label=$1 processes=$2 threads=$3 times=() before after status=0
  shift 3
  before=$(load)
  for ((i = 0; i < repeats; i++)); do
    rm -f "$out/$label.h5"
    rm -rf "$out/logs"
    local t0
    t0=$(date +%s.%N)
    "$@" || status=$?
    times+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  done
  after=$(load)
  local same=null
  if [[ $label != single_* ]]; then
    /usr/bin/python3 tests/cli/same_analysis.py "$out/single_1thread.h5" "$out/$label.h5" \
      /analyses/retrieval_heads >"$out/same_$label.log" 2>&1 && same=true || same=false
  fi
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  printf '{"command": "retrieval", "model": "%s", "grid": "%s", "processes": %d, ' \
    "$model" "$grid" "$processes"
  printf '"threads_per_process": %d, "cores": %d, "exit": %d, "seconds": [%s], ' \
    "$threads" "$cores" "$status" "$(IFS=,; echo "${times[*]}")"
  printf '"median_s": %s, "loadavg_before": [%s], "loadavg_after": [%s], ' \
    "$median" "$before" "$after"
  printf '"same_file_as_one_process": %s}\n' "$same"
}

run_config single_1thread 1 1 env OMP_NUM_THREADS=1 "$cli" retrieval "$model" \
  --out "$out/single_1thread.h5" "${grid_args[@]}"
run_config single_all 1 "$cores" "$cli" retrieval "$model" --out "$out/single_all.h5" \
  --threads "$cores" "${grid_args[@]}"
run_config torchrun_2 2 $((cores / 2 > 0 ? cores / 2 : 1)) launch 2 "$out/torchrun_2.h5"
