"""transformers' plain forward on a model of a config.json's shape with random weights: the
transformers side of bench/forward_bench, same arguments and JSON fields.

For each length T, batch 1, under torch.inference_mode with use_cache=False: warm-up forwards,
then the median of the timed repeats, each ending with torch.cuda.synchronize on CUDA. One JSON
object per length on stdout:
  T, layers, device, dtype, transformers_ms, peak_gib, attn, logits, logits_dtype, error
peak_gib: torch.cuda.max_memory_allocated over this length's forwards, weights included (-1 on
the CPU). logits: "all" (every position, as headscope computes them) or "last" (--last-logits,
logits_to_keep=1: what a plain forward could cost without the full-vocabulary projection).
error: "" or why this length failed (out of memory, ...); the next length still runs.

  python3 bench/forward_transformers.py CONFIG_DIR --device cuda --layers 4 4096 8192
"""
import argparse
import gc
import inspect
import json
import statistics
import sys
import time

import torch

from llama_shape import checkpoint_dtype, transformers_model

DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32, "f16": torch.float16}
LABELS = {v: k for k, v in DTYPES.items()}


def logits_kwargs(model, last_logits):
    """use_cache=False (no KV cache to build), plus the argument that keeps only the last
    position's logits when asked; its name changed across transformers versions."""
    kwargs = {"use_cache": False}
    if last_logits:
        params = inspect.signature(model.forward).parameters
        name = next((n for n in ("logits_to_keep", "num_logits_to_keep") if n in params), None)
        if name is None:
            raise SystemExit("--last-logits: this transformers has no logits_to_keep argument")
        kwargs[name] = 1
    return kwargs


def measure(model, seq, vocab, device, args, kwargs):
    cuda = device.type == "cuda"
    row = {"transformers_ms": -1.0, "peak_gib": -1.0, "logits_dtype": "", "error": ""}
    gen = torch.Generator().manual_seed(seq)
    try:
        ids = torch.randint(0, vocab, (1, seq), generator=gen).to(device)
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        with torch.inference_mode():
            for _ in range(args.warmup):
                model(ids, **kwargs)
            if cuda:
                torch.cuda.synchronize(device)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                out = model(ids, **kwargs)
                if cuda:
                    torch.cuda.synchronize(device)
                times.append((time.perf_counter() - start) * 1e3)
                row["logits_dtype"] = LABELS.get(out.logits.dtype, str(out.logits.dtype))
                del out
        row["transformers_ms"] = round(statistics.median(times), 3)
        if cuda:
            row["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
    except Exception as e:  # torch.OutOfMemoryError and any other failure of this length
        row["error"] = " ".join(str(e).split())[:300] or type(e).__name__
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config_dir")
    ap.add_argument("lengths", type=int, nargs="+")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--dtype", default="auto", choices=["auto"] + list(DTYPES))
    ap.add_argument("--layers", type=int, help="override the config's num_hidden_layers")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    ap.add_argument("--last-logits", action="store_true",
                    help="logits of the last position only (logits_to_keep=1)")
    args = ap.parse_args()
    for name, low in (("layers", 1), ("repeats", 1), ("warmup", 0)):
        value = getattr(args, name)
        if value is not None and value < low:
            ap.error("--%s: expected an integer >= %d, got %d" % (name, low, value))
    if any(t < 1 for t in args.lengths):
        ap.error("lengths: expected integers >= 1, got %s" % args.lengths)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this torch sees no CUDA device")

    device = torch.device(args.device)
    dtype = checkpoint_dtype(args.config_dir, device) if args.dtype == "auto" else DTYPES[args.dtype]
    model = transformers_model(args.config_dir, args.attn, dtype, device, args.layers)
    kwargs = logits_kwargs(model, args.last_logits)
    layers = model.config.num_hidden_layers
    for seq in args.lengths:
        row = {"T": seq, "layers": layers, "device": args.device, "dtype": LABELS[dtype],
               "attn": args.attn, "logits": "last" if args.last_logits else "all"}
        row.update(measure(model, seq, model.config.vocab_size, device, args, kwargs))
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
