"""evaluate.py on the organics data set: one headline over every held-out frame of the trained molecules, its
groups beside it, and the molecules never trained on reported apart (issue 16's metrics.json)."""
import os
import sys

import numpy as np
import pytest
import torch
from conftest import TRAINING

sys.path.insert(0, os.path.join(TRAINING, "data"))
import make_organics  # noqa: E402
from datasets import load_organics  # noqa: E402
from evaluate import evaluate  # noqa: E402
from fast_graph import FastAllScAIP  # noqa: E402
from train import PRESETS, fit_normalization, model_config  # noqa: E402


@pytest.fixture(scope="module")
def organics(tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    org = os.path.join(root, "organics")
    old = make_organics.ORG_DIR
    make_organics.ORG_DIR = org
    try:
        make_organics.unpack()
        make_organics.write_index(make_organics.molecule_specs())
    finally:
        make_organics.ORG_DIR = old
    return load_organics(str(root))


def test_trained_and_heldout_molecules_are_reported_apart(organics):
    torch.manual_seed(0)
    preset = PRESETS["organics-small"]
    max_z = int(max(int(t.numbers.max()) for t in organics["train"])) + 1
    config = model_config(preset, fit_normalization(organics["train"], max_z))
    config["architecture"].update(preset["arch_flags"])
    model = FastAllScAIP(config).float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    every = 5  # one test frame per trained molecule (4 test frames each), 6 per held-out molecule
    res = evaluate(model, "organics", every, rot_frames=1, data=organics)
    assert res["main_group"] == "trained_molecules"
    groups = {k: v for k, v in res["groups"].items() if k != "trained_molecules"}
    # the headline pools exactly the groups' frames
    assert res["groups"]["trained_molecules"]["n_frames"] == sum(v["n_frames"] for v in groups.values())
    assert set(groups) <= {"neutral", "charged", "radical", "dimer"}
    heldout = res["heldout_molecules"]
    assert set(heldout["molecules"]) == {t.name.split("/")[0] for t in organics["test_mol"]}
    assert heldout["all"]["n_frames"] == sum(v["n_frames"] for v in heldout["molecules"].values())
    trained = {n.split("/")[0] for n in res["groups"]["trained_molecules"]["trajectories"]}
    assert not trained & set(heldout["molecules"]), "a held-out molecule was evaluated as trained"
    assert res["rotational_variance"]["force_std_meV_per_A"] >= 0
    for v in list(groups.values()) + [heldout["all"]]:
        assert np.isfinite(v["force_mae_meV_per_A"]) and v["force_mae_meV_per_A"] > 0
