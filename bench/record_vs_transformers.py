"""headscope record --attention stats --device cuda against transformers on the same
random-weight model shape (Llama-3-8B per layer, fewer layers so a run fits the time budget).

For each length: transformers eager forward with output_attentions=True (time, peak memory,
until it runs out of memory), transformers SDPA forward (no maps), and `headscope record`
with --attention stats (and each --stats-variants option set; --baseline: the same with another
build) and --attention none (wall time
of the whole command, peak GPU memory polled with nvidia-smi, the process's peak resident host
memory, the file's size). One JSON object per line to --out; a table to stdout.

  python3 bench/record_vs_transformers.py --headscope build-gpu/cli/headscope --out e2e.jsonl \
      --layers 4 --transformers 2048 4096 8192 16384 32768 --headscope-only 131072
"""
import argparse
import json
import os
import random
import subprocess
import tempfile
import threading
import time

import torch

from llama_shape import transformers_model, write_config


class GpuMemoryPoller:
    """Largest nvidia-smi memory.used (MiB) seen while the block runs."""

    def __enter__(self):
        self.peak, self.stop = 0, False
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()
        return self

    def poll(self):
        while not self.stop:
            try:
                used = subprocess.run(["nvidia-smi", "--query-gpu=memory.used",
                                       "--format=csv,noheader,nounits"], capture_output=True,
                                      text=True, timeout=5).stdout.split()
                self.peak = max(self.peak, int(used[0]))
            except Exception:
                pass
            time.sleep(0.2)

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()


def time_transformers(model, seq, output_attentions):
    ids = torch.randint(3, 1000, (1, seq), device="cuda")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    try:
        with torch.no_grad():
            model(ids[:, :128], output_attentions=output_attentions)  # warm-up
            torch.cuda.synchronize()
            start = time.perf_counter()
            out = model(ids, output_attentions=output_attentions)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - start
        del out
        return {"s": round(seconds, 4), "peak_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2)}
    except torch.OutOfMemoryError:
        return {"s": None, "peak_gb": None, "error": "out of memory"}
    finally:
        torch.cuda.empty_cache()


def time_headscope(binary, config_dir, seq, attention, block_size, workdir, extra=()):
    tokens = os.path.join(workdir, "tokens_%d.txt" % seq)
    rng = random.Random(seq)
    with open(tokens, "w") as f:
        f.write(",".join(str(rng.randrange(3, 1000)) for _ in range(seq)) + "\n")
    out = os.path.join(workdir, "rec_%d_%s.h5" % (seq, attention))
    cmd = [binary, "record", config_dir, "--random-weights", "--tokens-file", tokens,
           "--attention", attention, "--stats-block-size", str(block_size), "--device", "cuda",
           "--allow-long-context", "--force", "--out", out] + list(extra)
    log = os.path.join(workdir, "record.log")
    with GpuMemoryPoller() as mem, open(log, "w") as log_file:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
        # wait4 gives this child's own peak resident memory (kB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status)
    with open(log) as f:
        output = f.read()
    result = {"s": round(seconds, 3), "peak_gpu_mib": mem.peak,
              "peak_host_mib": round(usage.ru_maxrss / 1024)}
    # record's summary says where the statistics writer's time went (storage or compute).
    for line in output.splitlines():
        if line.startswith("statistics writer:"):
            result["writer"] = line[len("statistics writer:"):].strip()
    if os.path.exists(out):
        result["file_mb"] = round(os.path.getsize(out) / 1e6, 1)
        os.remove(out)
    if returncode != 0:
        result["error"] = output.strip()[-300:]
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--headscope", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--block-size", type=int, default=128)
    ap.add_argument("--transformers", type=int, nargs="*", default=[])
    ap.add_argument("--headscope-only", type=int, nargs="*", default=[])
    ap.add_argument("--stats-variants", nargs="*", default=[],
                    help="further --attention stats runs, each with these record options "
                         "(one string each, e.g. '--compression none'); keys hs_stats[OPTIONS]")
    ap.add_argument("--baseline",
                    help="another headscope binary (e.g. main's build) whose --attention stats "
                         "run is timed beside --headscope's; key hs_stats_baseline")
    ap.add_argument("--skip-eager", action="store_true",
                    help="no output_attentions=True runs (they run out of memory past 8K)")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="hs-e2e-")
    config_dir = write_config(os.path.join(workdir, "llama3-8b-shape"), args.layers)

    rows = []
    eager = sdpa = None
    if args.transformers and not args.skip_eager:
        eager = transformers_model(config_dir, "eager", torch.bfloat16, "cuda")
    eager_oom = False
    for seq in args.transformers + args.headscope_only:
        row = {"T": seq, "layers": args.layers, "block_size": args.block_size}
        if seq in args.transformers and eager is not None:
            row["hf_eager_attn"] = ({"s": None, "error": "out of memory at a shorter length"}
                                    if eager_oom else time_transformers(eager, seq, True))
            eager_oom = eager_oom or row["hf_eager_attn"].get("error") is not None
        if args.baseline:
            row["hs_stats_baseline"] = time_headscope(args.baseline, config_dir, seq, "stats",
                                                      args.block_size, workdir)
        row["hs_stats"] = time_headscope(args.headscope, config_dir, seq, "stats",
                                         args.block_size, workdir)
        for variant in args.stats_variants:
            row["hs_stats[%s]" % variant] = time_headscope(
                args.headscope, config_dir, seq, "stats", args.block_size, workdir,
                variant.split())
        row["hs_none"] = time_headscope(args.headscope, config_dir, seq, "none",
                                        args.block_size, workdir)
        rows.append(row)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    if args.transformers:
        del eager
        torch.cuda.empty_cache()
        sdpa = transformers_model(config_dir, "sdpa", torch.bfloat16, "cuda")
        for row in rows:
            if row["T"] in args.transformers:
                row["hf_sdpa"] = time_transformers(sdpa, row["T"], False)
                with open(args.out, "a") as f:
                    f.write(json.dumps({"T": row["T"], "hf_sdpa": row["hf_sdpa"]}) + "\n")

    def cell(d, key):
        v = d.get(key, {}) if d else {}
        return "-" if v.get("s") is None else "%.2f" % v["s"]

    print("%8s %12s %12s %10s %10s %10s %12s" % ("T", "hf_eager_s", "hf_eager_GB", "hf_sdpa_s",
                                                 "hs_stats_s", "hs_none_s", "hs_stats_MiB"))
    for r in rows:
        eager_gb = r.get("hf_eager_attn", {}).get("peak_gb")
        print("%8d %12s %12s %10s %10s %10s %12s" % (
            r["T"], cell(r, "hf_eager_attn"), "-" if eager_gb is None else eager_gb,
            cell(r, "hf_sdpa"), cell(r, "hs_stats"), cell(r, "hs_none"),
            r["hs_stats"].get("peak_gpu_mib")))


if __name__ == "__main__":
    main()
