"""model.json limits in the PyTorch reader (issue 12): the same numeric bounds as the TypeScript loader, and a
weights_file that must be a plain file name next to model.json."""
import json

import pytest

import make_fixtures
from scaip import ModelConfigError, load_model
from scaip.config import validate_config


def base():
    return make_fixtures.make_config("limits", "limits test")


@pytest.mark.parametrize("section,key,value", [
    ("architecture", "num_layers", 10 ** 9), ("architecture", "hidden_size", 1 << 20), ("architecture", "cutoff", 1000.0),
    ("architecture", "knn_k", 5000), ("architecture", "rbf_size", 10 ** 6), ("architecture", "rmsnorm_eps", 0.5),
    ("normalization", "energy_scale", 1e300), ("normalization", "energy_scale", -1.0),
])
def test_out_of_range_fields_are_refused(section, key, value):
    cfg = base()
    cfg[section][key] = value
    with pytest.raises(ModelConfigError, match=f"{section}.{key}: .* outside the range"):
        validate_config(cfg)


@pytest.mark.parametrize("name", ["../outside.safetensors", "/etc/passwd", "w/x.safetensors", "..", "a\\\\b", ""])
def test_weights_file_must_be_a_plain_name(tmp_path, name):
    cfg = base()
    cfg["weights_file"] = name
    (tmp_path / "model.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match="weights_file"):
        load_model(tmp_path)


def test_the_md_neno_sizes_pass():
    cfg = base()
    cfg["architecture"].update(hidden_size=640, num_layers=10, num_heads=10, knn_k=30, knn_candidates=50, rbf_size=512,
                               sh_lmax=5, boo_lmax=9, erope_num_freq=32, use_lae=False, cutoff=6.0)
    assert validate_config(cfg)["architecture"]["hidden_size"] == 640
