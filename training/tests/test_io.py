import json
import os

import pytest
import torch

import make_fixtures
from conftest import run
from scaip import ModelConfigError, load_model, save_model
from scaip.safetensors import SafetensorsError, dumps, load_file, loads


def test_safetensors_round_trip(tmp_path):
    tensors = {"a.weight": torch.randn(3, 4), "scale": torch.tensor(0.25), "d": torch.randn(2, dtype=torch.float64),
               "idx": torch.arange(5)}
    path = tmp_path / "t.safetensors"
    path.write_bytes(dumps(tensors, {"format": "pt"}))
    back = load_file(path)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape and torch.equal(back[k], v)
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert (8 + header_len) % 8 == 0
    header = json.loads(raw[8:8 + header_len])
    assert header["scale"] == {"dtype": "F32", "shape": [], "data_offsets": header["scale"]["data_offsets"]}


def test_safetensors_errors_name_the_problem():
    good = dumps({"w": torch.ones(4)})
    with pytest.raises(SafetensorsError, match="too short"):
        loads(b"123")
    with pytest.raises(SafetensorsError, match="exceeds"):
        loads(good[:20])
    bad = bytearray(good)
    header_len = int.from_bytes(good[:8], "little")
    text = bytes(bad[8:8 + header_len]).replace(b'"F32"', b'"F64"')
    with pytest.raises(SafetensorsError, match="'w'"):
        loads(good[:8] + text + good[8 + header_len:])


def test_save_load_model_round_trip(tmp_path, small_model):
    model = small_model(seed=21, use_lae=True, use_erope=True)
    save_model(model, tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "weights.safetensors"]
    loaded = load_model(tmp_path / "m")
    assert loaded.config == model.config
    s = make_fixtures.molecule(1, 3)
    a, b = run(model, [s]), run(loaded, [s])
    # Weights were float32-rounded by randomize(), so storing float32 loses nothing.
    assert torch.equal(a["energy"], b["energy"]) and torch.equal(a["forces"], b["forces"])
    f32 = load_model(tmp_path / "m" / "model.json", dtype=torch.float32)
    assert next(f32.parameters()).dtype == torch.float32


def test_model_json_errors(tmp_path, small_model):
    model = small_model(seed=22)
    save_model(model, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())
    cfg["architecture"]["hiden_size"] = 3
    (tmp_path / "m" / "model.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match="hiden_size"):
        load_model(tmp_path / "m")
    del cfg["architecture"]["hiden_size"]
    cfg["architecture"]["use_erope"] = True  # weights lack radial_weight
    (tmp_path / "m" / "model.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="radial_weight"):
        load_model(tmp_path / "m")
    cfg["architecture"]["use_erope"] = False
    cfg["architecture"]["hidden_size"] = 32
    cfg["architecture"]["lae_frequency_list"] = [6, 4, 2, 2, 2]
    (tmp_path / "m" / "model.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="shape"):
        load_model(tmp_path / "m")


def test_state_dict_keys_follow_the_reference(small_model):
    model = small_model(forces="direct", use_erope=True)
    keys = set(model.state_dict())
    assert "backbone.input_block.charge_embedding.rand_emb.weight" in keys
    assert "backbone.transformer_blocks.1.node_attention.radial_weight" in keys
    assert "backbone.transformer_blocks.0.edge_ffn.ffn.1.0.weight" in keys
    assert "output_heads.omol_energy.energy_ffn.1.0.bias" in keys
    assert "output_heads.forces.force_ffn.1.0.weight" in keys
    assert all(k.startswith(("backbone.", "output_heads.")) for k in keys)
