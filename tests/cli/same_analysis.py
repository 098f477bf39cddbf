"""Exit 0 when two HDF5 files hold the same group: every dataset equal (values, dtype, shape,
dimension scales by name), every attribute equal. Prints each difference.
Usage: same_analysis.py A.h5 B.h5 GROUP"""
import sys

import h5py
import numpy as np

# Dimension-scale bookkeeping: object references, equal only within one file; the scales
# themselves are compared by name below.
OBJECT_REFERENCES = {"DIMENSION_LIST", "REFERENCE_LIST"}


def same_values(x, y):
    """Equal values, NaN equal to NaN (a float that is undefined in both files)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "fc" and y.dtype.kind in "fc":
        return np.array_equal(x, y, equal_nan=True)
    return np.array_equal(x, y)


def scale_names(dataset):
    return [[scale.name for scale in dim.values()] for dim in dataset.dims]


def group_differences(a, b, group, ignored=()):
    """The differences between group `group` of open files a and b; attributes named in
    `ignored` are not compared."""
    differences = []

    def compare_attrs(name, x, y):
        keys_x = sorted(set(x.attrs) - set(ignored))
        keys_y = sorted(set(y.attrs) - set(ignored))
        if keys_x != keys_y:
            differences.append(f"{name}: attributes {keys_x} vs {keys_y}")
            return
        for key in keys_x:
            if key in OBJECT_REFERENCES:
                continue
            if not same_values(x.attrs[key], y.attrs[key]):
                differences.append(f"{name}@{key}: {x.attrs[key]!r} vs {y.attrs[key]!r}")

    names = []
    a[group].visit(names.append)
    other = []
    b[group].visit(other.append)
    if sorted(names) != sorted(other):
        differences.append(f"{group}: members differ: {sorted(set(names) ^ set(other))}")
    compare_attrs(group, a[group], b[group])
    for name in names:
        x, y = a[group][name], b[group].get(name)
        if y is None:
            continue
        compare_attrs(f"{group}/{name}", x, y)
        if isinstance(x, h5py.Dataset):
            if x.dtype != y.dtype or x.shape != y.shape:
                differences.append(f"{group}/{name}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
            elif not same_values(x[()], y[()]):
                differences.append(f"{group}/{name}: values differ")
            elif scale_names(x) != scale_names(y):
                differences.append(f"{group}/{name}: scales {scale_names(x)} vs {scale_names(y)}")
    return differences


def main(a_path, b_path, group):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        # `seconds` (path-patch's wall time) differs between any two runs.
        differences = group_differences(a, b, group, ignored=("seconds",))
    for d in differences:
        print(d)
    return 1 if differences else 0

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
