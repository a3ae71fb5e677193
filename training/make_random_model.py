"""Write a random-weight model with a released AllScAIP configuration, through the checkpoint converter.

    /usr/bin/python3 training/make_random_model.py --preset md_NeNo --out DIR [--seed 0] [--count-only]

The model is built with the preset's architecture (shared/reference/allscaip-architecture.md §3), given
random weights, written as a file shaped like a released fairchem inference checkpoint (fairchem's key
names, EMA weights, `model_config` with fairchem's backbone keys; scaip/checkpoint_shape.py) and converted
by convert_checkpoint.py, which reads the configuration back from that file. So the result is what a user
with the real checkpoint gets, with random numbers in place of trained ones: for memory and speed work on
the real sizes without the gated weights. --count-only prints the configuration and parameter count
without writing the weights' file.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import convert_checkpoint  # noqa: E402
import make_fixtures  # noqa: E402
from scaip.checkpoint_shape import write_checkpoint_like  # noqa: E402
from scaip.model import AllScAIP  # noqa: E402

# Backbones of the released configurations (allscaip-architecture.md §3; fairchem configs/allscaip/.../backbone).
# Common to all: cutoff 6 Å, k 30 (+20 low-memory candidates), soft kNN 0.2 Å / τ 0.1, RBF 512, SH lmax 5,
# BOO lmax 9, FFN ×2, output MLP ×2, 110 elements, 32 ERoPE frequencies, LAE list [20, 10, 4, 10, 20],
# charge and spin embeddings (OMol).
COMMON = {
    "max_num_elements": 110, "cutoff": 6.0, "knn_k": 30, "knn_soft": True, "knn_sigmoid_scale": 0.2,
    "knn_lse_scale": 0.1, "knn_candidates": 50, "rbf_size": 512, "sh_lmax": 5, "boo_lmax": 9,
    "ffn_multiplier": 2, "output_multiplier": 2, "use_node_attention": True, "lae_frequency_list": [20, 10, 4, 10, 20],
    "erope_num_freq": 32, "use_charge_spin": True, "rmsnorm_eps": 1.1920928955078125e-07,
}
PRESETS = {
    # HF checkpoints "85M": 85,150,130 backbone parameters + 0.822 M energy head
    "md_NeNo": {**COMMON, "hidden_size": 640, "num_layers": 10, "num_heads": 10, "use_lae": False, "use_erope": False},
    # GDrive "35M"
    "sm_NeAnNoSi": {**COMMON, "hidden_size": 512, "num_layers": 6, "num_heads": 8, "use_lae": True, "use_erope": True},
    # the md_NeNo layout at a size a test converts in seconds (head dim 8, LAE list for it)
    "tiny_NeNo": {**COMMON, "hidden_size": 32, "num_layers": 2, "num_heads": 4, "rbf_size": 32, "use_lae": False,
                  "use_erope": False, "lae_frequency_list": [3, 2, 1, 1, 1]},
}
# OMol25 covers H..Bi (Z 1-83): random non-zero reference energies there, so the converter lists those elements.
OMOL_ELEMENTS = 83


def preset_config(preset, name):
    config = make_fixtures.make_config(name, f"random weights, {preset} configuration (not a trained model)")
    arch = dict(PRESETS[preset])
    for flag in ("boo_envelope_weighted", "erope_smooth_minimum_image", "knn_candidate_margin"):
        arch[flag] = False  # the released models predate these options
    config["architecture"] = arch
    refs = [0.0] * arch["max_num_elements"]
    for z in range(1, OMOL_ELEMENTS + 1):
        refs[z] = -13.6 * z ** 1.3 - 0.125  # made up, roughly the size of real ones
    config["normalization"] = {"energy_scale": 1.433569, "energy_shift": 0.0, "element_references": refs}
    return config


def parameter_counts(model):
    backbone = sum(p.numel() for n, p in model.named_parameters() if n.startswith("backbone."))
    return {"backbone": backbone, "total": sum(p.numel() for p in model.parameters())}


def make(preset, out_dir, seed=0, name=None):
    """Random model → checkpoint-shaped file → convert_checkpoint → out_dir. Returns (config, parameter counts)."""
    name = name or f"random-{preset}"
    model = AllScAIP(preset_config(preset, name))
    make_fixtures.randomize(model, seed)
    counts = parameter_counts(model)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, f"{name}.pt")
        write_checkpoint_like(model, ckpt)
        del model
        config = convert_checkpoint.convert(ckpt, out_dir, name=name,
                                            description=f"random weights with the released {preset} configuration, "
                                                        "made by training/make_random_model.py through the checkpoint "
                                                        "converter; not a trained model")
    return config, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--out", help="directory for model.json + weights.safetensors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="model name (default random-<preset>)")
    parser.add_argument("--count-only", action="store_true", help="print the configuration and parameter count only")
    args = parser.parse_args(argv)
    if args.count_only:
        model = AllScAIP(preset_config(args.preset, args.name or f"random-{args.preset}"))  # weights in RAM only
        print(json.dumps({"architecture": model.config["architecture"], "parameters": parameter_counts(model)}, indent=2))
        return 0
    if not args.out:
        parser.error("--out is required (or --count-only)")
    config, counts = make(args.preset, args.out, args.seed, args.name)
    print(f"wrote {args.out}: {config['name']}, {counts['total']:,} parameters ({counts['backbone']:,} backbone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
