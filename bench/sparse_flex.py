#!/usr/bin/env python3
"""PyTorch FlexAttention on the masks of bench/sparse_attention_bench.cpp, in the same run.

For each length T (causal, bf16, B = 1, H = 32 heads and kv heads, head dim 128): dense SDPA
and compiled flex_attention at the configs the C++ benchmark times (block-sparse with block 128
and top-k sized for kept fractions 10/25/50%, the same selection rule: block-mean q . k, stable
descending order; streaming with sink 128 and a window sized likewise). The block masks are built
from block-level kept/full maps (BlockMask.from_kv_blocks), so flex skips every dropped block and
masks only the partial ones, as our kernel does. One JSON object per line on stdout.
  sparse_flex.py [--heads 32] [--dim 128] [--reps 5] T...
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

BLOCK = 128
SINK = 128


def kept_block(seq, topk):
    i = np.arange(seq, dtype=np.int64)
    a = i // BLOCK
    kept = np.minimum(topk, a) * BLOCK + i - a * BLOCK + 1
    return kept.sum() / (seq * (seq + 1) / 2)


def kept_stream(seq, window):
    i = np.arange(seq, dtype=np.int64)
    kept = np.minimum(i + 1, window) + np.minimum(SINK, np.maximum(0, i + 1 - window))
    return kept.sum() / (seq * (seq + 1) / 2)


def topk_for(seq, fraction):
    k = 0
    while kept_block(seq, k) < fraction:
        k += 1
    return k


def window_for(seq, fraction):
    lo, hi = 1, seq
    while lo < hi:
        mid = (lo + hi) // 2
        if kept_stream(seq, mid) < fraction:
            lo = mid + 1
        else:
            hi = mid
    return lo


def selected_blocks(q, k, topk):
    """bool [B, H, nb, nb]: earlier key blocks each query block reads (kernels/sparse_attention.h)."""
    b, h, t, d = q.shape
    nb = (t + BLOCK - 1) // BLOCK
    pad = nb * BLOCK - t
    counts = torch.clamp(t - torch.arange(nb, device=q.device) * BLOCK, max=BLOCK).float()
    qm = F.pad(q.float(), (0, 0, 0, pad)).view(b, h, nb, BLOCK, d).sum(3) / counts.view(1, 1, nb, 1)
    km = F.pad(k.float(), (0, 0, 0, pad)).view(b, h, nb, BLOCK, d).sum(3) / counts.view(1, 1, nb, 1)
    a = torch.arange(nb, device=q.device).view(nb, 1)
    c = torch.arange(nb, device=q.device).view(1, nb)
    earlier = c < a
    scores = (qm @ km.transpose(2, 3)).masked_fill(~earlier, float("-inf"))
    order = scores.sort(dim=-1, descending=True, stable=True).indices
    rank = torch.empty_like(order).scatter_(-1, order, torch.arange(nb, device=q.device).expand_as(order))
    return earlier & (rank < topk)


def block_mask_from(full, partial, seq, mask_mod):
    """BlockMask from bool [B, H, nq, nkv] maps of wholly kept and partly kept blocks."""
    from torch.nn.attention.flex_attention import BlockMask

    nkv = full.shape[-1]
    cols = torch.arange(nkv, device=full.device, dtype=torch.int32)

    def compact(m):
        num = m.sum(-1, dtype=torch.int32)
        idx = torch.where(m, cols, torch.full_like(cols, nkv)).sort(-1).values
        return num, torch.where(idx == nkv, torch.zeros_like(idx), idx).to(torch.int32).contiguous()

    kv_num, kv_idx = compact(partial)
    full_num, full_idx = compact(full)
    return BlockMask.from_kv_blocks(kv_num, kv_idx, full_num, full_idx, BLOCK_SIZE=BLOCK,
                                    mask_mod=mask_mod)


def causal(b, h, qi, ki):
    return ki <= qi


# The streaming window lives in a tensor written in place before each config: one mask function
# for every window, so torch.compile compiles flex once per mask function and length.
WINDOW = torch.zeros((), dtype=torch.int64, device="cuda" if torch.cuda.is_available() else "cpu")


def stream(b, h, qi, ki):
    return (ki <= qi) & ((ki < SINK) | (qi - ki < WINDOW))


def time_ms(fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("lengths", type=int, nargs="+")
    args = ap.parse_args()
    from torch.nn.attention.flex_attention import flex_attention

    flex = torch.compile(flex_attention, dynamic=False)
    dev = "cuda"
    h, d = args.heads, args.dim
    scale = d ** -0.5
    for seq in args.lengths:
        torch.manual_seed(0)
        q, k, v = (torch.randn(1, h, seq, d, device=dev, dtype=torch.bfloat16) for _ in range(3))
        nb = (seq + BLOCK - 1) // BLOCK
        qb = torch.arange(nb, device=dev).view(nb, 1)
        kb = torch.arange(nb, device=dev).view(1, nb)
        sdpa_ms = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale),
                          args.reps)

        configs = [("full", 1.0, (kb < qb).expand(1, h, nb, nb), (kb == qb).expand(1, h, nb, nb), causal, 0)]
        for f in (0.1, 0.25, 0.5):
            topk = topk_for(seq, f)
            sel = selected_blocks(q, k, topk)
            configs.append(("block%d" % round(f * 100), kept_block(seq, topk), sel,
                            (kb == qb).expand(1, h, nb, nb), causal, 0))
            window = window_for(seq, f)

            # Block (a, c) of rows [a·B, a·B + B) and keys [c·B, c·B + B).
            lo_q, hi_q, lo_k, hi_k = qb * BLOCK, qb * BLOCK + BLOCK - 1, kb * BLOCK, kb * BLOCK + BLOCK - 1
            any_kept = (lo_k <= hi_q) & ((lo_k < SINK) | (hi_k > lo_q - window))
            all_kept = (hi_k <= lo_q) & ((hi_k < SINK) | (lo_k > hi_q - window))
            configs.append(("stream%d" % round(f * 100), kept_stream(seq, window),
                            all_kept.expand(1, h, nb, nb), (any_kept & ~all_kept).expand(1, h, nb, nb),
                            stream, window))

        for name, kept, full, partial, mask_mod, window in configs:
            WINDOW.fill_(window)
            row = {"T": seq, "heads": h, "dim": d, "config": name, "kept": round(float(kept), 4),
                   "sdpa_ms": round(sdpa_ms, 4)}
            try:
                bm = block_mask_from(full.contiguous(), partial.contiguous(), seq, mask_mod)
                t0 = time.time()
                out = flex(q, k, v, block_mask=bm, scale=scale)
                torch.cuda.synchronize()
                row["first_call_s"] = round(time.time() - t0, 2)
                if name == "full":
                    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
                    row["max_err_vs_sdpa"] = float((out.float() - ref.float()).abs().max())
                row["flex_ms"] = round(time_ms(lambda: flex(q, k, v, block_mask=bm, scale=scale), args.reps), 4)
            except Exception as e:  # noqa: BLE001 - report and go on with the next config
                row["error"] = str(e).replace("\n", " ")[:200]
            print(json.dumps(row), flush=True)
        del q, k, v
        torch.cuda.empty_cache()


if __name__ == "__main__":
    sys.exit(main())
