"""Exit 0 when the recording B (the main file of a distributed `headscope record`) holds the
runs of the recording A of one process: every run B holds is its own group with A's datasets,
scales and attributes, opens in xarray with named dimensions, and /runs@missing_runs lists
exactly the runs of A that B does not hold. Prints each difference.
Usage: same_recording.py A.h5 B.h5 [--missing N]
  --missing N   exactly N runs are missing (a rank died); default 0"""
import argparse
import sys

import h5py
import numpy as np
import xarray as xr

from same_analysis import group_differences


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--missing", type=int, default=0)
    args = parser.parse_args()
    differences = []
    with h5py.File(args.a, "r") as a, h5py.File(args.b, "r") as b:
        runs_a, runs_b = sorted(a["runs"], key=int), sorted(b["runs"], key=int)
        for key in ("headscope_format", "model_family", "n_layers", "n_heads", "vocab_size"):
            if not np.array_equal(a.attrs[key], b.attrs[key]):
                differences.append(f"root@{key}: {a.attrs[key]!r} vs {b.attrs[key]!r}")
        missing = sorted(int(i) for i in b["runs"].attrs.get("missing_runs", []))
        if len(missing) != args.missing:
            differences.append(f"/runs@missing_runs: {missing}, expected {args.missing} runs")
        if sorted(set(runs_b) | {str(i) for i in missing}, key=int) != runs_a or (
            set(runs_b) & {str(i) for i in missing}
        ):
            differences.append(f"runs {runs_b} and missing {missing} are not A's runs {runs_a}")
        for name in runs_b:
            link = b["runs"].get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                differences.append(f"/runs/{name}: {type(link).__name__}, not a group of B")
            if name in a["runs"]:
                differences += group_differences(a, b, f"runs/{name}")
    for name in runs_b:
        with xr.open_dataset(args.b, group=f"runs/{name}", engine="h5netcdf") as run:
            if "head" not in run.dims or "query" not in run.dims:
                differences.append(f"xarray /runs/{name}: dimensions {dict(run.dims)}")
    for d in differences:
        print(d)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
