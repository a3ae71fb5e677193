import json

import torch

import make_random_model
from conftest import run
import make_fixtures
from scaip import load_model
from scaip.model import AllScAIP


def test_md_NeNo_preset_is_the_released_configuration():
    model = AllScAIP(make_random_model.preset_config("md_NeNo", "m"))
    arch = model.config["architecture"]
    assert (arch["hidden_size"], arch["num_layers"], arch["num_heads"], arch["knn_k"], arch["knn_candidates"]) == (640, 10, 10, 30, 50)
    assert (arch["cutoff"], arch["rbf_size"], arch["sh_lmax"], arch["boo_lmax"], arch["max_num_elements"]) == (6.0, 512, 5, 9, 110)
    assert arch["use_node_attention"] and not arch["use_lae"] and not arch["use_erope"] and arch["use_charge_spin"]
    counts = make_random_model.parameter_counts(model)
    # allscaip-architecture.md §3: 85,150,130 backbone parameters (checked against fairchem's key list), head 0.822 M
    assert counts["backbone"] == 85_150_130
    assert round((counts["total"] - counts["backbone"]) / 1e3) == 822


def test_tiny_preset_goes_through_the_converter(tmp_path):
    config, counts = make_random_model.make("tiny_NeNo", tmp_path / "out", seed=3)
    with open(tmp_path / "out" / "model.json") as f:
        written = json.load(f)
    assert written["provenance"]["converter"] == "training/convert_checkpoint.py"
    assert written["provenance"]["weights"] == "ema_state_dict"
    want = make_random_model.preset_config("tiny_NeNo", "x")["architecture"]
    for key in ("hidden_size", "num_layers", "num_heads", "knn_k", "knn_candidates", "rbf_size", "sh_lmax", "boo_lmax",
                "use_node_attention", "use_lae", "use_erope", "use_charge_spin", "cutoff", "max_num_elements"):
        assert written["architecture"][key] == want[key], key
    assert written["elements"] == list(range(1, make_random_model.OMOL_ELEMENTS + 1))
    converted = load_model(tmp_path / "out")
    assert sum(p.numel() for p in converted.parameters()) == counts["total"]
    # the converted weights are the random model's (same seed, same randomisation)
    original = AllScAIP(make_random_model.preset_config("tiny_NeNo", "x")).double()
    make_fixtures.randomize(original, 3)
    s = make_fixtures.molecule(2, 3)
    a, b = run(original, [s]), run(converted.double(), [s])
    assert torch.allclose(a["energy"], b["energy"], rtol=1e-6) and torch.allclose(a["forces"], b["forces"], rtol=1e-5, atol=1e-6)
