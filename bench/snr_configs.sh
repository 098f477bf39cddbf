#!/usr/bin/env bash
# The causal check of issue 14 (docs/SNR.md, "Causal check"): needle accuracy against kept
# fraction on the shipped model for
#   snr      per-head block sizes and top-k from `sparse-config --from-snr` (SNR file alone),
#   snr+ret  the same with retrieval scores in the file (heads that never retrieve stream),
#   random   that config's head configs moved to random heads (same cost, seeded by SEED),
#   global   every head block_sparse with one block size B and top-k k (GLOBAL, B:k pairs),
# the SNR configs at several recall targets (a config within 5% of dense is not evaluated).
# Prints one JSON line per evaluated config. CPU by default: about 8 minutes of CPU time with
# the defaults (20 wall on a busy two-core machine).
#
#   bench/snr_configs.sh > bench/results/snr_configs_needle_cpu.jsonl
#   GLOBAL= RECALLS=0.5 bench/snr_configs.sh      # one target, no global configs
#   LENGTH=1024 N=32 DEVICE=cuda DTYPE=bf16 BLOCKS=64,128,256 GLOBAL="64:1 64:2 128:1" \
#     bench/snr_configs.sh      # the CUDA kernel takes block sizes that are multiples of 64
# PY names the Python with json (default /usr/bin/python3; the GPU machine's is python3).
set -euo pipefail
cd "$(dirname "$0")/.."
H=${H:-build/cli/headscope}
MODEL=${MODEL:-zoo/models/needle-4x8}
LENGTH=${LENGTH:-512}            # SNR samples, kept fractions and evaluation
SNR_N=${SNR_N:-10}               # SNR samples (seed 0)
N=${N:-16}                       # evaluation samples (seed SEED, held out from the SNR's)
SEED=${SEED:-1}
RECALLS=${RECALLS:-"0.9 0.5 0.25"}
BUDGET=${BUDGET:-0.5}
GLOBAL=${GLOBAL-"64:1 64:2 64:3 16:4 16:8"}
RANDOM_CONFIGS=${RANDOM_CONFIGS:-2}
DEVICE=${DEVICE:-cpu}
DTYPE=${DTYPE:-auto}
BLOCKS=${BLOCKS:-16,32,64,128}   # SNR block sizes, the choices of --from-snr
PY=${PY:-/usr/bin/python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

$H snr "$MODEL" --task niah --n "$SNR_N" --length "$LENGTH" --block-sizes "$BLOCKS" \
  --topk-blocks 1,2,4,8 --device "$DEVICE" --quiet --out "$WORK/snr.h5" >/dev/null
cp "$WORK/snr.h5" "$WORK/snr_ret.h5"
$H retrieval "$MODEL" --length "$LENGTH" --depth 0,0.25,0.5,0.75,1 --device "$DEVICE" --quiet \
  --append --out "$WORK/snr_ret.h5" >/dev/null

# One sparse-eval of DIR; prints its rows other than dense as JSON lines tagged with FAMILY and
# the recall target (the random twins as family "random").
evaluate() {
  local dir=$1 family=$2 recall=$3 random=$4
  $H sparse-eval "$MODEL" --config "$dir" --task niah --n "$N" --length "$LENGTH" --seed "$SEED" \
    --random-configs "$random" --device "$DEVICE" --dtype "$DTYPE" --quiet \
    --export-json "$dir/eval.json"
  "$PY" - "$dir" "$family" "$recall" <<'PY'
import json, sys
d, family, recall = sys.argv[1], sys.argv[2], float(sys.argv[3])
config = json.load(open(d + "/sparse_config.json"))
kinds = [h["kind"] for layer in config["heads"] for h in layer]
blocks = sorted({(h["block_size"], h["topk_blocks"]) for layer in config["heads"] for h in layer
                 if h["kind"] == "block_sparse"})
for row in json.load(open(d + "/eval.json"))["rows"]:
    if row["config"] == "dense":
        continue
    print(json.dumps({
        "family": "random" if row["config"].startswith("random") else family,
        "of": family, "recall_target": recall, "config": row["config"],
        "length": row["length"], "samples": row["samples"],
        "kept_fraction": round(row["kept_fraction"], 4), "accuracy": row["accuracy"],
        "token_accuracy": round(row["token_accuracy"], 4),
        "full_heads": kinds.count("full"), "streaming_heads": kinds.count("streaming"),
        "block_sparse_heads": kinds.count("block_sparse"), "block_topk": blocks}), flush=True)
PY
}

# A config of the model's shape with every head block_sparse(B, k).
write_global() {
  "$PY" - "$1" "$2" "$3" "$WORK/cfg_snr_ret_${RECALLS%% *}/sparse_config.json" <<'PY'
import json, os, sys
out, block, k, ref = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.load(open(sys.argv[4]))
os.makedirs(out, exist_ok=True)
head = {"kind": "block_sparse", "block_size": block, "topk_blocks": k}
json.dump({"format": "headscope-sparse", "version": 1, "n_layers": ref["n_layers"],
           "n_heads": ref["n_heads"], "heads": [[head] * ref["n_heads"]] * ref["n_layers"],
           "parameters": {"global_block_size": block, "topk_blocks": k}},
          open(out + "/sparse_config.json", "w"))
PY
}

for recall in $RECALLS; do
  for family in snr_ret snr; do
    dir="$WORK/cfg_${family}_$recall"
    $H sparse-config --from-snr "$WORK/$family.h5" --recall "$recall" --budget "$BUDGET" \
      --quiet --out "$dir"
    kept=$("$PY" -c "import json; print(json.load(open('$dir/sparse_config.json'))['parameters']['kept_fraction'])")
    "$PY" -c "import sys; sys.exit(float('$kept') > 0.95)" || continue
    evaluate "$dir" "${family/_ret/+ret}" "$recall" "$RANDOM_CONFIGS"
  done
done
for pair in $GLOBAL; do
  dir="$WORK/global_${pair/:/_}"
  write_global "$dir" "${pair%%:*}" "${pair##*:}"
  evaluate "$dir" global 0 0
done
