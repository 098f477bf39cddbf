"""Loads a headscope-written checkpoint with Hugging Face transformers and compares logits and
tokenization with headscope's own, on the machine that has transformers (the GPU machine).

usage: python3 bench/hf_parity.py MODEL_DIR HEADSCOPE_BINARY OUT_JSON
Prints and writes JSON: max |logits_hf - logits_headscope| in float32 over a few sequences, and
whether tokenizers' encoding of sample texts equals headscope's.
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast


def headscope_logits(binary, model_dir, ids, work):
    tokens_file = os.path.join(work, "tokens.txt")
    with open(tokens_file, "w") as f:
        for row in ids:
            f.write(",".join(str(int(t)) for t in row) + "\n")
    out = os.path.join(work, "logits.h5")
    subprocess.run([binary, "record", model_dir, "--tokens-file", tokens_file, "--out", out,
                    "--attention", "none", "--save-logits", "--dtype", "f32", "--force",
                    "--quiet", "--allow-long-context"], check=True)
    with h5py.File(out, "r") as f:
        return [f["runs"][str(i)]["logits"][()] for i in range(len(ids))]


def main():
    model_dir, binary, out_json = sys.argv[1], sys.argv[2], sys.argv[3]
    model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32,
                                             attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(0)
    ids = [torch.randint(0, vocab, (n,), generator=gen) for n in (16, 200, 1000)]
    with tempfile.TemporaryDirectory() as work:
        ours = headscope_logits(binary, model_dir, ids, work)
    worst = 0.0
    with torch.no_grad():
        for row, mine in zip(ids, ours):
            theirs = model(row.unsqueeze(0)).logits[0].numpy()
            worst = max(worst, float(np.abs(theirs - mine).max()))
    result = {"model": model_dir, "max_abs_logit_diff_f32": worst,
              "lengths": [len(r) for r in ids]}
    tok_path = os.path.join(model_dir, "tokenizer.json")
    if os.path.exists(tok_path):
        tok = PreTrainedTokenizerFast(tokenizer_file=tok_path)
        texts = ["when mary and john went to the store , john gave a drink to",
                 "on the table i see a red cup and a blue pen ."]
        same = []
        for text in texts:
            mine = subprocess.run([binary, "tokenize", model_dir, "--text", text, "--json"],
                                  check=True, capture_output=True, text=True).stdout
            same.append(json.loads(mine)["ids"] == tok.encode(text))
        result["tokenizer_matches"] = same
    print(json.dumps(result))
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
