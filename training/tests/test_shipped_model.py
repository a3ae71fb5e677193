"""Every shipped model in public/models loads with the reference model and reproduces, on its held-out frame
(test/fixtures/shipped/<dir>.case.json, written at export), the energy and forces recorded at export time; its
metrics.json holds the required fields and its index entry exists."""
import json
import os

import numpy as np
import pytest
import torch
from conftest import REPO, run

from scaip.io import load_model

MODELS = os.path.join(REPO, "public", "models")
CASES = os.path.join(REPO, "test", "fixtures", "shipped")


def _index():
    path = os.path.join(MODELS, "index.json")
    if not os.path.exists(path):
        return {"default": None, "models": []}
    with open(path) as f:
        return json.load(f)


SHIPPED = [m["dir"] for m in _index()["models"]]


def test_index_names_an_existing_default():
    index = _index()
    if not index["models"]:
        pytest.skip("no model shipped yet")
    assert index["default"] in SHIPPED
    for m in index["models"]:
        assert set(m) == {"dir", "name", "description"}
        assert os.path.isfile(os.path.join(MODELS, m["dir"], "model.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_reproduces_heldout_frame(name):
    model_dir = os.path.join(MODELS, name)
    with open(os.path.join(CASES, f"{name}.case.json")) as f:
        case = json.load(f)
    model = load_model(model_dir, dtype=torch.float64)
    inp = case["inputs"]
    out = run(model, [dict(inp, positions=np.array(inp["positions"]))])
    want = case["outputs"]
    assert abs(float(out["energy"][0]) - want["energy"]) < 1e-9 * max(1.0, abs(want["energy"]))
    np.testing.assert_allclose(out["forces"].detach().numpy(), np.array(want["forces"]), rtol=0, atol=1e-9)
    if want["stress"] is not None:
        np.testing.assert_allclose(out["stress"][0].detach().numpy(), np.array(want["stress"]), rtol=0, atol=1e-10)
    # and the model is a trained one: close to its teacher on this unseen frame (loose bound, the card has the MAE)
    n = len(inp["numbers"])
    teacher = case["teacher"]
    with open(os.path.join(model_dir, "metrics.json")) as f:
        metrics = json.load(f)
    e_err = abs(want["energy"] - teacher["energy"]) / n * 1000
    f_mae = float(np.abs(np.array(want["forces"]) - np.array(teacher["forces"])).mean()) * 1000
    assert e_err < 10 * metrics["energy_mae_meV_per_atom"] + 1.0
    assert f_mae < 3 * metrics["force_mae_meV_per_A"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_metrics_and_card(name):
    model_dir = os.path.join(MODELS, name)
    with open(os.path.join(model_dir, "metrics.json")) as f:
        metrics = json.load(f)
    for key in ("energy_mae_meV_per_atom", "force_mae_meV_per_A", "n_test_frames", "n_parameters"):
        assert key in metrics, key
    assert metrics["n_test_frames"] > 0
    assert metrics["energy_mae_meV_per_atom"] > 0 and metrics["force_mae_meV_per_A"] > 0
    with open(os.path.join(model_dir, "card.md")) as f:
        card = f.read()
    assert f"{metrics['force_mae_meV_per_A']:.1f}" in card  # the card states the measured number
