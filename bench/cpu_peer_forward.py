"""The PyTorch peer of `headscope record --attention none` on the CPU: the plain forward of a
Llama-shaped checkpoint (the zoo models) in PyTorch 1.13, written the way a CPU user would,
reading model.safetensors directly (8-byte little-endian header length, JSON header, raw data).

Same computation as headscope's CPU forward: weights in their stored dtype (bf16), RMSNorm in
float32, rotate-half rotary, causal attention with the softmax in float32, SwiGLU MLP, the
final norm and no logits (record without --save-logits computes none).

Attention (--attention):
  chunked: queries in blocks of --chunk against the keys they can see (torch.baddbmm, softmax,
           torch.bmm): memory linear in T. The fastest torch 1.13 offers on the CPU at these
           lengths, and the only one that fits 16K+ tokens here.
  sdpa:    torch.nn.functional._scaled_dot_product_attention(is_causal=True), 1.13's private
           math path: one [H, T, T] map per layer (quadratic memory).

One JSON object on stdout: T, attention, threads, seconds (every repeat), median_s, peak_rss_mib.

  /usr/bin/python3 bench/cpu_peer_forward.py zoo/models/needle-4x8 --tokens 8192 --repeats 3
"""
import argparse
import json
import resource
import statistics
import struct
import time

import torch
import torch.nn.functional as F

DTYPES = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        raw = bytearray(data[begin:end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[meta["dtype"]]).view(meta["shape"])
    return tensors


def rms_norm(x, w, eps):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return xf.to(x.dtype) * w


def rotary_tables(seq, d_head, theta, dtype):
    inv = 1.0 / (theta ** (torch.arange(0, d_head, 2, dtype=torch.float32) / d_head))
    angles = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
    angles = torch.cat([angles, angles], -1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate(x, cos, sin):  # x: [H, T, D]
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


def chunked_attention(q, k, v, scale, chunk):
    heads, seq, _ = q.shape
    out = torch.empty_like(q)
    for start in range(0, seq, chunk):
        rows = min(chunk, seq - start)
        keys = start + rows
        scores = torch.bmm(q[:, start:keys], k[:, :keys].transpose(1, 2)).float() * scale
        qpos = torch.arange(start, keys).unsqueeze(1)
        scores.masked_fill_(torch.arange(keys).unsqueeze(0) > qpos, float("-inf"))
        probs = torch.softmax(scores, -1).to(q.dtype)
        out[:, start:keys] = torch.bmm(probs, v[:, :keys])
    return out


def forward(w, cfg, tokens, attention, chunk):
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d_head = cfg.get("head_dim", cfg["hidden_size"] // heads)
    eps = cfg["rms_norm_eps"]
    seq = tokens.numel()
    x = w["model.embed_tokens.weight"][tokens]
    cos, sin = rotary_tables(seq, d_head, cfg.get("rope_theta", 10000.0), x.dtype)
    scale = d_head**-0.5
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(seq, heads, d_head).transpose(0, 1)
        k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(seq, kv_heads, d_head).transpose(0, 1)
        v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(seq, kv_heads, d_head).transpose(0, 1)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if kv_heads != heads:
            k = k.repeat_interleave(heads // kv_heads, 0)
            v = v.repeat_interleave(heads // kv_heads, 0)
        if attention == "sdpa":
            z, _ = F._scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            z = chunked_attention(q.contiguous(), k.contiguous(), v.contiguous(), scale, chunk)
        x = x + F.linear(z.transpose(0, 1).reshape(seq, heads * d_head), w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"]))
        x = x + F.linear(gate * F.linear(h, w[p + "mlp.up_proj.weight"]), w[p + "mlp.down_proj.weight"])
    return rms_norm(x, w["model.norm.weight"], eps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attention", choices=["chunked", "sdpa"], default="chunked")
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--dtype", choices=["stored", "f32"], default="stored",
                    help="compute dtype: the checkpoint's (bf16) or float32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(f"{a.model_dir}/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(f"{a.model_dir}/model.safetensors")
    if a.dtype == "f32":
        w = {name: t.float() for name, t in w.items()}
    # The same token ids as the headscope side: i mod 256 (byte tokens).
    tokens = torch.arange(a.tokens) % 256
    times = []
    with torch.inference_mode():
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            forward(w, cfg, tokens, a.attention, a.chunk)
            times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"T": a.tokens, "attention": a.attention, "chunk": a.chunk, "dtype": a.dtype,
                      "threads": a.threads, "seconds": times,
                      "median_s": statistics.median(times), "peak_rss_mib": round(peak, 1)}))


if __name__ == "__main__":
    main()
