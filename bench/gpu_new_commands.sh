#!/usr/bin/env bash
# On the GPU machine: CUDA against CPU for snr, path-patch and eap on the shipped model (the
# largest |difference| of every numeric dataset, beside the largest |value|), with wall times.
# Builds headscope into build-gpu-dist (gpu_build_targets).
# Results and logs under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-/tmp/headscope-gpu}
mkdir -p "$OUT"
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh
H=build-gpu-dist/cli/headscope
gpu_build_targets "$OUT" headscope || exit 1
M=zoo/models/needle-4x8
for d in cpu cuda; do
  /usr/bin/time -f "snr $d %e s" timeout 60 $H snr $M --task niah --n 10 --length 1024 --device $d --out $OUT/snr_$d.h5 --json > $OUT/snr_$d.json 2>$OUT/snr_$d.err; echo "snr $d exit $?"; tail -1 $OUT/snr_$d.err
  /usr/bin/time -f "path-patch $d %e s" timeout 120 $H path-patch $M --task colors --iterative --top-fraction 0.125 --device $d --out $OUT/pp_$d.h5 --json > $OUT/pp_$d.json 2>$OUT/pp_$d.err; echo "path-patch $d exit $?"; tail -1 $OUT/pp_$d.err
done
python3 - <<PY
import h5py, numpy as np
def cmp(name, group):
    a = h5py.File(f"$OUT/{name}_cpu.h5")[group]; b = h5py.File(f"$OUT/{name}_cuda.h5")[group]
    def visit(n, x):
        if isinstance(x, h5py.Dataset) and x.dtype.kind in "fiu":
            y = b[n][()] if n in b else None
            if y is None or y.shape != x.shape:
                print(name, n, "shape", x.shape, None if y is None else y.shape); return
            v = x[()].astype(float); y = y.astype(float); m = np.isfinite(v) & np.isfinite(y)
            if m.any():
                print(name, n, x.shape, "max|diff|=%.3g" % np.max(np.abs(v[m]-y[m])), "max|x|=%.3g" % np.max(np.abs(v[m])))
    a.visititems(visit)
cmp("snr", "/analyses/sparsity_snr")
for g in list(h5py.File("$OUT/pp_cpu.h5")["/analyses/circuits"]):
    cmp("pp", "/analyses/circuits/" + g)
PY
for d in cpu cuda; do
  /usr/bin/time -f "eap $d %e s" timeout 120 $H eap $M --task ioi --n 32 --method eap-ig --device $d --out $OUT/eap_$d.h5 --json > $OUT/eap_$d.json 2>$OUT/eap_$d.err; echo "eap $d exit $?"; tail -2 $OUT/eap_$d.err
done
python3 - <<PY
import h5py, numpy as np
a = h5py.File("$OUT/eap_cpu.h5"); b = h5py.File("$OUT/eap_cuda.h5")
for g in a["/analyses/circuits"]:
    for k in ("scores", "faithfulness/score"):
        n = f"/analyses/circuits/{g}/{k}"
        if n in a and n in b:
            x, y = a[n][()], b[n][()]
            print("eap", n, "max|diff|=%.3g" % np.max(np.abs(x - y)), "max|x|=%.3g" % np.max(np.abs(x)))
PY
