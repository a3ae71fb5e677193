"""The public-code golden cases (energies, forces, stress, intermediates) in float64 and float32."""
import glob
import os

import pytest
import torch

from conftest import GOLDEN_DIR, run
from scaip.golden import config_from_golden, load_golden, state_dict_from_golden, structure_from_golden, tensor
from scaip.model import AllScAIP, erope_omega

CASES = sorted(glob.glob(os.path.join(GOLDEN_DIR, "case*.json")))
_cache = {}


def golden(path):
    if path not in _cache:
        _cache[path] = load_golden(path)
    return _cache[path]


def model_for(g, dtype):
    model = AllScAIP(config_from_golden(g)).to(dtype)
    model.load_state_dict(state_dict_from_golden(g, dtype), strict=True)
    return model


def test_four_cases_present():
    assert len(CASES) == 4


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:5] for p in CASES])
def test_float64_outputs(path):
    g = golden(path)
    out = run(model_for(g, torch.float64), [structure_from_golden(g)], intermediates=True)
    ref = g["outputs"]
    e_ref = ref["energy"]["data"][0]
    assert abs(float(out["energy"][0]) - e_ref) <= 1e-9 * abs(e_ref)
    f_ref = tensor(ref["forces"])
    assert (out["forces"] - f_ref).abs().max() <= 1e-9 * f_ref.abs().max()
    if "stress" in ref:
        s_ref = tensor(ref["stress"]).reshape(3, 3)
        assert (out["stress"][0] - s_ref).abs().max() <= 1e-9 * s_ref.abs().max()
    inter, mine = g["intermediates"], out["intermediates"]
    assert (mine["boo"] - tensor(inter["boo_node_direction_expansion"])).abs().max() < 1e-12
    assert (mine["input_node"] - tensor(inter["input_block_output_node_slot0"])).abs().max() < 1e-12
    for got, want in zip(mine["layer_node_states"], inter["layer_outputs_node_slot0"]):
        assert (got - tensor(want)).abs().max() < 1e-12
    assert (out["energy_per_atom"] - tensor(inter["energy_per_atom"])).abs().max() < 1e-12
    # Graph: same edge count per atom and the same envelope coordinates, slot by slot.
    layout = mine["layout"]
    assert layout["num_slots"] == inter["num_slots_K"]
    counts = tensor(inter["edges_per_atom_including_self"]).long()
    assert torch.equal(layout["src_count"], counts)
    k = layout["num_slots"]
    n = counts.shape[0]
    src_env = torch.full((n * k,), float("inf"), dtype=torch.float64)
    src_env = src_env.index_copy(0, layout["src_flat"], mine["graph"]["env"]).view(n, k)
    valid = tensor(inter["valid_slot_mask"]).bool()
    assert (src_env[valid] - tensor(inter["src_env"])[valid]).abs().max() < 1e-14


def test_erope_omega_is_float32_rounded():
    g = golden(CASES[0])
    want = tensor(g["intermediates"]["erope_omega"])
    assert torch.equal(erope_omega(32).double(), want)


@pytest.mark.parametrize("path", CASES[:2], ids=["case1", "case2"])
def test_float32_model_close_to_deployed_precision(path):
    g = golden(path)
    out = run(model_for(g, torch.float32), [structure_from_golden(g)])
    ref = g["output_variants"]["float32"]
    e_ref = ref["energy"]["data"][0]
    assert abs(float(out["energy"][0]) - e_ref) <= 1e-5 * abs(e_ref)
    f_ref = tensor(ref["forces"])
    assert (out["forces"].double() - f_ref).abs().max() <= 1e-4 * f_ref.abs().max()
