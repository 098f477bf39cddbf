"""Checks a `headscope record` file against a transformers reference with plain h5py/numpy.

usage: record_roundtrip.py RECORDING.h5 REFERENCE.safetensors N_LAYERS SCALE QK_REL WINDOW
Exit 0 when every /runs/<b>/blocks.<l>.attn.hook_pattern equals attn.<l>[b] within the bound of
two float32 softmaxes of scores computed from the recorded q and k (blocks.<l>.attn.hook_q/k,
or hook_rot_q/k), as tests/support/attention_bounds.h derives it: QK_REL is the relative error
q and k carry per layer (comma-separated), SCALE the attention scale, WINDOW the sliding window
(0: none). With HEADSCOPE_TOLERANCE_REPORT set, prints each check's largest error/bound ratio.
"""
import json
import os
import struct
import sys

import h5py
import numpy as np

U = 2.0**-24  # float32's unit roundoff


def gamma(n):
    return n * U / (1.0 - n * U)


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


def pattern_bound(q, k, scale, rel, window):
    """Bound on |p - p'| of two float32 computations from q [T, H, D] and k [T, Hkv, D]."""
    q = q.astype(np.float64).transpose(1, 0, 2)
    k = np.repeat(k.astype(np.float64).transpose(1, 0, 2), q.shape[0] // k.shape[1], axis=0)
    seq, dim = q.shape[1], q.shape[2]
    i, j = np.arange(seq)[:, None], np.arange(seq)[None, :]
    allowed = (j <= i) & ((j > i - window) if window else True)
    s = np.where(allowed, scale * q @ k.transpose(0, 2, 1), 0.0)
    # Score errors: D products and the scale, and q and k's own relative error.
    e = np.where(allowed, (gamma(dim + 1) + 2 * rel) * scale * (np.abs(q) @ np.abs(k).transpose(0, 2, 1)), 0.0)
    top = np.where(allowed, s, -np.inf).max(-1, keepdims=True)
    lse = top + np.log(np.where(allowed, np.exp(s - top), 0.0).sum(-1, keepdims=True))
    p = np.where(allowed, np.exp(s - lse), 0.0)
    n = allowed.sum(-1, keepdims=True)
    rho = np.expm1(e + e.max(-1, keepdims=True)) + U * (2 * np.abs(s) + 2 * np.abs(lse) + np.log(n)) + gamma(n + 4)
    return 2.0 * p * np.where(allowed, rho, 0.0)


def main():
    recording, reference, n_layers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    scale, window = float(sys.argv[4]), int(sys.argv[6])
    rel = [float(r) for r in sys.argv[5].split(",")]
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
                prefix = f"blocks.{layer}.attn.hook_" + ("rot_" if f"blocks.{layer}.attn.hook_rot_q" in run else "")
                bound = pattern_bound(run[prefix + "q"][()], run[prefix + "k"][()], scale, rel[layer], window)
                err = np.abs(pattern.astype(np.float64) - expected)
                ratio = float(np.max(np.where(bound > 0, err / np.where(bound > 0, bound, 1.0), np.where(err > 0, np.inf, 0.0))))
                if os.environ.get("HEADSCOPE_TOLERANCE_REPORT"):
                    print(f"tolerance record_roundtrip run {b} layer {layer}: error/bound {ratio:.3g}")
                assert ratio <= 1.0, f"run {b} layer {layer}: error/bound {ratio}"
    print("ok")


if __name__ == "__main__":
    main()
