import json
import subprocess
import sys

import pytest
import torch

import convert_checkpoint
import make_fixtures
from conftest import TRAINING, run
from scaip import load_model
from scaip.checkpoint_shape import CHECKPOINT_MODULE, write_checkpoint_like


def released_like(small_model, **flags):
    refs = [0.0] + [-10.0 * z - 0.125 for z in range(1, 20)]
    return small_model(seed=31, normalization={"energy_scale": 1.433569, "energy_shift": 0.0,
                                               "element_references": refs}, **flags)


def test_round_trip_conservative(tmp_path, small_model):
    model = released_like(small_model, use_lae=True, use_erope=True)
    ckpt = write_checkpoint_like(model, tmp_path / "ckpt.pt")
    assert CHECKPOINT_MODULE not in sys.modules  # loading must work without the class
    raw = ckpt.read_bytes()
    assert b"MLIPInferenceCheckpoint" in raw
    proc = subprocess.run([sys.executable, f"{TRAINING}/convert_checkpoint.py", str(ckpt), str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    converted = load_model(tmp_path / "out")
    cfg = converted.config
    assert cfg["architecture"] == model.config["architecture"]
    assert cfg["heads"] == model.config["heads"]
    assert cfg["normalization"] == model.config["normalization"]
    for s in (make_fixtures.molecule(2, 3), make_fixtures.periodic(3, [[6.5, 0, 0], [0, 6.6, 0], [0, 0, 6.7]], 4)):
        a, b = run(model, [s]), run(converted, [s])
        assert torch.equal(a["energy"], b["energy"]) and torch.equal(a["forces"], b["forces"])


def test_round_trip_direct_head(tmp_path, small_model):
    model = released_like(small_model, forces="direct")
    ckpt = write_checkpoint_like(model, tmp_path / "d.pt")
    config = convert_checkpoint.convert(str(ckpt), str(tmp_path / "out"))
    assert config["heads"]["forces"] == "direct"
    assert config["heads"]["force_prefix"] == "output_heads.forces."
    converted = load_model(tmp_path / "out")
    s = make_fixtures.molecule(4, 3)
    a, b = run(model, [s]), run(converted, [s])
    assert torch.equal(a["energy"], b["energy"]) and torch.equal(a["forces"], b["forces"])


def test_uses_ema_weights(tmp_path, small_model):
    model = released_like(small_model)
    ckpt = write_checkpoint_like(model, tmp_path / "c.pt")
    convert_checkpoint.convert(str(ckpt), str(tmp_path / "raw"), use_ema=False)
    s = make_fixtures.molecule(5, 2)
    assert not torch.equal(run(model, [s])["energy"], run(load_model(tmp_path / "raw"), [s])["energy"])


def test_bad_checkpoints_are_reported(tmp_path, small_model):
    model = released_like(small_model)
    ckpt = tmp_path / "c.pt"
    write_checkpoint_like(model, ckpt)
    loaded = convert_checkpoint.load_checkpoint(str(ckpt))
    assert type(loaded).__name__ == "MLIPInferenceCheckpoint"
    loaded.model_config["backbone"]["hidden_size"] = 24
    torch.save(convert_checkpoint.plain(loaded), tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="shape"):
        convert_checkpoint.convert(str(tmp_path / "bad.pt"), str(tmp_path / "o"))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert convert_checkpoint.main([str(tmp_path / "junk.pt"), str(tmp_path / "o2")]) == 1


def test_elements_come_from_the_non_zero_element_references(tmp_path, small_model):
    refs = [0.0] * 20
    refs[1], refs[6], refs[8] = -13.6, -1029.5, -2041.8
    model = small_model(seed=31, normalization={"energy_scale": 1.0, "energy_shift": 0.0, "element_references": refs})
    config = convert_checkpoint.convert(str(write_checkpoint_like(model, tmp_path / "e.pt")), str(tmp_path / "out"))
    assert config["elements"] == [1, 6, 8]
    with open(tmp_path / "out" / "model.json") as f:
        assert list(json.load(f))[:8] == ["format", "format_version", "name", "version", "description", "provenance",
                                          "weights_file", "elements"]
    # without references nothing says which elements the model knows: the field is left out (= unknown)
    assert convert_checkpoint.elements_from_references(None, 20) is None
    assert convert_checkpoint.elements_from_references([0.0, 0.0], 20) is None


def test_exporter_lists_the_training_elements():
    import export
    from datasets import Trajectory
    import numpy as np
    def traj(name, numbers):
        n = len(numbers)
        return Trajectory(name, "g", {"numbers": np.array(numbers), "positions": np.zeros((1, n, 3)),
                                      "energy": np.zeros(1), "forces": np.zeros((1, n, 3)), "cell": None,
                                      "pbc": [False] * 3, "meta": {}})
    trajs = [traj("a", [8, 1, 1]), traj("b", [11, 17])]
    assert export.trained_elements(trajs) == [1, 8, 11, 17]
    cfg = export.with_elements({"format": "f", "weights_file": "w", "architecture": {}}, [1, 8])
    assert list(cfg) == ["format", "weights_file", "elements", "architecture"] and cfg["elements"] == [1, 8]
