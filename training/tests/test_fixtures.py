"""The committed fixtures in test/fixtures/ are what the reference model computes (and what the generator writes)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import FIXTURES, TRAINING, run
from scaip import load_model

with open(os.path.join(FIXTURES, "index.json")) as f:
    INDEX = json.load(f)
NAMES = [c["name"] for c in INDEX["cases"]]


def rel_err(got, want):
    got, want = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(want, dtype=torch.float64)
    return float((got - want).abs().max() / want.abs().max().clamp_min(1e-300))


SHIPPED = "shipped"


def test_index_covers_every_flag():
    flags = [c["flags"] for c in INDEX["cases"]]
    for key in ("use_lae", "use_erope", "use_node_attention", "periodic"):
        assert {f[key] for f in flags} == {True, False}, key
    assert any(f["forces"] == "direct" for f in flags)
    assert any(f["normalized"] for f in flags)
    assert any(f["charge"] != 0 and f["spin"] != 1 for f in flags)
    assert any(f["pbc"] == [True, True, False] for f in flags)
    # `shipped/` holds held-out frames of the shipped models, written by training/export.py, not by make_fixtures.py
    assert sorted(n for n in os.listdir(FIXTURES) if n != SHIPPED) == sorted(NAMES + ["index.json"])
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(FIXTURES) for f in fs)
    assert total < 4.5e6


@pytest.mark.parametrize("name", NAMES)
def test_fixture_reproduces(name):
    case_dir = os.path.join(FIXTURES, name)
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    model = load_model(case_dir)
    out = run(model, [case["inputs"]], intermediates=True)
    want = case["outputs"]
    assert abs(float(out["energy"][0]) - want["energy"]) <= 1e-9 * abs(want["energy"])
    assert abs(float(out["energy_raw"][0]) - want["energy_raw"]) <= 1e-9 * abs(want["energy_raw"])
    assert rel_err(out["forces"], want["forces"]) <= 1e-9
    if want["stress"] is None:
        assert not any(case["inputs"]["pbc"]) or model.direct_forces
    else:
        assert rel_err(out["stress"][0], want["stress"]) <= 1e-9
    inter, mine = case["intermediates"], out["intermediates"]
    graph, layout = mine["graph"], mine["layout"]
    assert layout["num_slots"] == inter["num_slots"]
    edges = torch.tensor(inter["edges"], dtype=torch.float64)
    order = torch.argsort(layout["src_flat"])
    assert torch.equal(edges[:, 0].long(), graph["center"][order])
    assert torch.equal(edges[:, 1].long(), graph["neighbor"][order])
    assert torch.equal(edges[:, 2:5].long(), graph["shift"][order])
    assert (edges[:, 5] - graph["env"][order]).abs().max() < 1e-13
    assert (edges[:, 6] - edges[:, 5]).abs().max() < 1e-12  # in/out envelopes of a slot agree (symmetric graph)
    for key in ("boo", "input_node", "energy_per_atom"):
        got = out["energy_per_atom"] if key == "energy_per_atom" else mine[key]
        assert (got.detach() - torch.tensor(inter[key], dtype=torch.float64)).abs().max() < 1e-12, key
    for got, ref in zip(mine["layer_node_states"], inter["layer_node_states"]):
        assert (got - torch.tensor(ref, dtype=torch.float64)).abs().max() < 1e-12


def test_generator_is_deterministic(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(TRAINING, "make_fixtures.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    for d, dirs, files in os.walk(FIXTURES):
        if d == FIXTURES:
            dirs[:] = [x for x in dirs if x != SHIPPED]
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), FIXTURES)
            with open(os.path.join(d, f), "rb") as a, open(os.path.join(tmp_path, rel), "rb") as b:
                old, new = a.read(), b.read()
            if old != new:
                # pytest.fail, not assert: pytest's diff of two large byte strings takes many minutes
                at = next((i for i, (x, y) in enumerate(zip(old, new)) if x != y), min(len(old), len(new)))
                pytest.fail(f"{rel}: regenerated file differs from the committed one at byte {at} "
                            f"(committed {old[max(0, at - 40):at + 40]!r}, regenerated {new[max(0, at - 40):at + 40]!r})")
