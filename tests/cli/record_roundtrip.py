"""Checks a `headscope record` file against a transformers reference with plain h5py/numpy.

usage: record_roundtrip.py RECORDING.h5 REFERENCE.safetensors N_LAYERS
Exit 0 when every /runs/<b>/blocks.<l>.attn.hook_pattern equals attn.<l>[b] within 1e-4.
"""
import json
import struct
import sys

import h5py
import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=types[info["dtype"]]).reshape(info["shape"])
    return out


def main():
    recording, reference, n_layers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ref = read_safetensors(reference)
    with h5py.File(recording, "r") as f:
        assert f.attrs["headscope_format"] == 1, dict(f.attrs)
        assert f.attrs["n_layers"] == n_layers
        for b in range(ref["input_ids"].shape[0]):
            run = f["runs"][str(b)]
            tokens = run["tokens"][()]
            assert tokens.dtype == np.int32, tokens.dtype
            assert (tokens == ref["input_ids"][b]).all(), "tokens differ"
            for layer in range(n_layers):
                pattern = run[f"blocks.{layer}.attn.hook_pattern"][()]
                expected = ref[f"attn.{layer}"][b]
                assert pattern.shape == expected.shape, (pattern.shape, expected.shape)
                err = float(np.abs(pattern - expected).max())
                assert err < 1e-4, f"run {b} layer {layer}: max abs diff {err}"
    print("ok")


if __name__ == "__main__":
    main()
