"""Reading the public-code golden cases (../shared/reference/allscaip-golden/*.json) into our format."""
import json

import torch


def config_from_golden(golden):
    """model.json dict equivalent to a golden case's fairchem backbone/head config."""
    bc = golden["backbone_config"]
    (head_name,) = golden["heads_config"].keys()
    return {
        "format": "scaip-web-model",
        "format_version": 1,
        "name": golden["case"],
        "version": "1.0.0",
        "description": "public-code golden case: " + golden["case"],
        "provenance": {
            "source": "allscaip-golden (random weights, outputs computed by the public fairchem code)",
            "fairchem_commit": golden["source"]["fairchem_commit"],
            "e3nn_commit": golden["source"]["e3nn_commit"],
            "weights_seed": golden.get("weights_seed"),
        },
        "weights_file": "weights.safetensors",
        "architecture": {
            "hidden_size": bc["hidden_size"],
            "num_layers": bc["num_layers"],
            "num_heads": bc["atten_num_heads"],
            "max_num_elements": bc["max_num_elements"],
            "cutoff": float(bc["max_radius"]),
            "knn_k": bc["knn_k"],
            "knn_soft": bc["knn_soft"],
            "knn_sigmoid_scale": float(bc["knn_sigmoid_scale"]),
            "knn_lse_scale": float(bc["knn_lse_scale"]),
            "knn_candidates": bc["knn_k"] + 20,
            "rbf_size": bc["edge_distance_expansion_size"],
            "sh_lmax": bc["edge_direction_expansion_size"] - 1,
            "boo_lmax": bc["node_direction_expansion_size"] - 1,
            "ffn_multiplier": bc["ffn_hidden_layer_multiplier"],
            "output_multiplier": bc["output_hidden_layer_multiplier"],
            "use_node_attention": bc["use_node_path"],
            "use_lae": bc["use_freq_mask"],
            "lae_frequency_list": list(bc["freequency_list"]),
            "use_erope": bc["use_sincx_mask"],
            "erope_num_freq": bc["attn_num_freq"],
            "use_charge_spin": True,
            "rmsnorm_eps": 1.1920928955078125e-07,
        },
        "heads": {
            "forces": "conservative",
            "energy_prefix": f"output_heads.{head_name}.head.",
            "force_prefix": None,
            "regress_stress": bool(bc["regress_stress"]),
        },
        "normalization": {"energy_scale": 1.0, "energy_shift": 0.0, "element_references": None},
    }


def tensor(entry, dtype=torch.float64):
    data = [float(x) if not isinstance(x, str) else float(x) for x in entry["data"]]
    return torch.tensor(data, dtype=dtype).reshape(entry["shape"])


def state_dict_from_golden(golden, dtype=torch.float64):
    return {key: tensor(v, dtype) for key, v in golden["state_dict"].items()}


def structure_from_golden(golden):
    inp = golden["inputs"]
    return {
        "numbers": inp["atomic_numbers"],
        "positions": inp["pos"],
        "cell": inp["cell"],
        "pbc": inp["pbc"],
        "charge": inp["charge"],
        "spin": inp["spin"],
    }


def load_golden(path):
    with open(path) as f:
        return json.load(f)
