#!/usr/bin/env bash
# Issue 17, point 6: `headscope record` of a zoo model on the CPU against its PyTorch peer
# (bench/cpu_peer_forward.py: the same forward in PyTorch 1.13), side by side in one run.
# For each length T, REPEATS rounds, each running one after another:
#   none   headscope record --attention none   (the plain forward; no logits, as the peer)
#   stats  headscope record --attention stats  (defaults: --topk 8, --stats-block-size 64)
#   peer   /usr/bin/python3 bench/cpu_peer_forward.py (one forward per process), under the heap
#          policy headscope sets itself (bench/cpu_heap_policy.sh; docs/PERFORMANCE.md, "The
#          CPU path").
# headscope's times are whole processes (start, model load, forward, HDF5 file); the peer's is
# its forward alone (its own timer; Python's start and `import torch` left out), so ratios
# favour the peer. Peak RSS of every process from /usr/bin/time. The host is shared: the load
# average is recorded before every round, and medians are reported.
# One JSON line per T on stdout:
#   {"T", "threads", "repeats", "none_s", "stats_s", "peer_s", "peer_process_s" (medians),
#    "none_rss_mib", "stats_rss_mib", "peer_rss_mib" (largest), "none_over_peer" (headscope's
#    process against the peer's forward alone), "none_over_peer_process" (process against
#    process), "stats_over_none", "none_cpu_over_peer_process_cpu", "none_cpu_s", "stats_cpu_s", "peer_process_cpu_s" (user + system
#    seconds of the whole process, medians: less swayed by the other work on the host than wall
#    time), "loadavg" (1-minute, before each round), "peer_attention"}
# Usage: bench/cpu_record_vs_torch.sh [HEADSCOPE] (default build/cli/headscope);
#        LENGTHS (2048,4096,8192,16384), REPEATS (3), THREADS (1), MODEL (zoo/models/needle-4x8).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/cpu_heap_policy.sh
source bench/cpu_heap_policy.sh
hs=$(realpath "${1:-build/cli/headscope}")
model=${MODEL:-zoo/models/needle-4x8}
repeats=${REPEATS:-3}
threads=${THREADS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
largest() { sort -g | tail -1; }

timed() {  # label, command...: appends "seconds rss_kib cpu_seconds" to $work/label
  local label=$1
  shift
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/$label.out" 2>"$work/$label.err" ||
    { echo "{\"error\": \"$label failed: $(tail -1 "$work/$label.err")\"}"; return 1; }
  awk '{ print $1, $2, $3 + $4 }' "$work/time" >>"$work/$label"
}

IFS=, read -ra lengths <<<"${LENGTHS:-2048,4096,8192,16384}"
for n in "${lengths[@]}"; do
  # The peer's token ids: i mod 256.
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", (i ? "," : ""), i % 256; print "" }' \
    >"$work/tokens.txt"
  rm -f "$work/none" "$work/stats" "$work/peer" "$work/peer_forward"
  loads=()
  for ((r = 0; r < repeats; r++)); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    for mode in none stats; do
      timed "$mode" "$hs" record "$model" --tokens-file "$work/tokens.txt" --attention "$mode" \
        --allow-long-context --threads "$threads" --quiet --force --out "$work/$mode.h5" ||
        continue 3
    done
    timed peer env "${cpu_heap_policy[@]}" \
      /usr/bin/python3 bench/cpu_peer_forward.py "$model" --tokens "$n" --repeats 1 \
      --threads "$threads" || continue 2
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_s"])' \
      <"$work/peer.out" >>"$work/peer_forward"
  done
  none=$(cut -d' ' -f1 "$work/none" | median)
  stats=$(cut -d' ' -f1 "$work/stats" | median)
  peer=$(median <"$work/peer_forward")
  peer_process=$(cut -d' ' -f1 "$work/peer" | median)
  none_cpu=$(cut -d' ' -f3 "$work/none" | median)
  stats_cpu=$(cut -d' ' -f3 "$work/stats" | median)
  peer_cpu=$(cut -d' ' -f3 "$work/peer" | median)
  awk -v n="$n" -v th="$threads" -v rp="$repeats" -v none="$none" -v stats="$stats" \
    -v peer="$peer" -v pp="$peer_process" -v loads="$(IFS=,; echo "${loads[*]}")" \
    -v nr="$(cut -d' ' -f2 "$work/none" | largest)" -v sr="$(cut -d' ' -f2 "$work/stats" | largest)" \
    -v pr="$(cut -d' ' -f2 "$work/peer" | largest)" -v nc="$none_cpu" -v sc="$stats_cpu" -v pc="$peer_cpu" \
    'BEGIN { printf "{\"T\": %d, \"threads\": %d, \"repeats\": %d, \"none_s\": %s, \"stats_s\": %s, ", n, th, rp, none, stats
             printf "\"peer_s\": %.3f, \"peer_process_s\": %s, \"none_rss_mib\": %.1f, \"stats_rss_mib\": %.1f, ", peer, pp, nr / 1024, sr / 1024
             printf "\"peer_rss_mib\": %.1f, \"none_over_peer\": %.3f, \"none_over_peer_process\": %.3f, ", pr / 1024, none / peer, none / pp
             printf "\"stats_over_none\": %.3f, \"none_cpu_over_peer_process_cpu\": %.3f, ", stats / none, nc / pc
             printf "\"none_cpu_s\": %s, \"stats_cpu_s\": %s, \"peer_process_cpu_s\": %s, ", nc, sc, pc
             printf "\"loadavg\": [%s], \"peer_attention\": \"chunked\"}\n", loads }'
done
