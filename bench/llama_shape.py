"""The random-weight model shape the transformers comparisons share: Llama 3 8B per
layer, written as a config.json that both headscope (`record --random-weights`,
bench/forward_bench) and transformers (`from_config`) build a model from, with no weights
downloaded.

  python3 bench/llama_shape.py DIR [--layers N]   # writes DIR/config.json
"""
import argparse
import json
import os

LLAMA3_8B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
    "head_dim": 128, "vocab_size": 128256, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "max_position_embeddings": 131072, "hidden_act": "silu", "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": 128001,
    "attention_bias": False, "mlp_bias": False, "num_hidden_layers": 32,
}


def write_config(directory, layers=None):
    """Writes directory/config.json of the Llama-3-8B shape (`layers` overrides the 32 layers)
    and returns the directory."""
    os.makedirs(directory, exist_ok=True)
    config = dict(LLAMA3_8B)
    if layers is not None:
        config["num_hidden_layers"] = layers
    tmp = os.path.join(directory, "config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(config, f, indent=1)
    os.replace(tmp, os.path.join(directory, "config.json"))
    return directory


def checkpoint_dtype(config_dir, device):
    """The dtype headscope computes a checkpoint of this config in: its own, except float16,
    which runs in float32 on the CPU (core/model/random_weights.h, checkpoint_compute_dtype)."""
    import torch
    with open(os.path.join(config_dir, "config.json")) as f:
        config = json.load(f)
    name = config.get("dtype") or config.get("torch_dtype") or "float32"
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(name, torch.float32)
    if dtype == torch.float16 and torch.device(device).type == "cpu":
        return torch.float32
    return dtype


def transformers_model(config_dir, attn, dtype, device, layers=None):
    """A transformers causal LM of config_dir/config.json with random weights, built directly on
    `device` in `dtype`, in eval mode. attn: "eager" or "sdpa"; layers overrides the config's."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.from_pretrained(config_dir)
    if layers is not None:
        config.num_hidden_layers = layers
        if getattr(config, "layer_types", None):
            config.layer_types = config.layer_types[:layers]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, attn_implementation=attn)
    finally:
        torch.set_default_dtype(previous)
    # from_config prefers the config's own dtype over the default one in some versions.
    return model.to(dtype).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--layers", type=int, help="layers (default: Llama 3 8B's 32)")
    args = ap.parse_args()
    if args.layers is not None and args.layers < 1:
        ap.error("--layers: expected an integer >= 1, got %d" % args.layers)
    print(os.path.join(write_config(args.directory, args.layers), "config.json"))


if __name__ == "__main__":
    main()
