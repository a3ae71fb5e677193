"""Autograd forces and strain stress against finite differences, batching, invariances."""
import math

import numpy as np
import pytest
import torch

import make_fixtures
from conftest import assert_forces_and_stress_match_fd, energy_of, run


def water_cluster(seed=3, n_mol=3, **kw):
    return make_fixtures.molecule(seed, n_mol, **kw)


def water_box(seed=4, n_mol=6):
    return make_fixtures.periodic(seed, [[6.4, 0.0, 0.0], [1.1, 6.2, 0.0], [-0.7, 0.9, 5.8]], n_mol)


def test_forces_match_finite_differences(small_model):
    model = small_model(seed=5, use_lae=True, use_erope=True)
    s = water_cluster()
    forces = run(model, [s], stress=False)["forces"]
    pos = np.array(s["positions"])
    h = 1e-5
    worst = 0.0
    for atom in range(pos.shape[0]):
        for axis in range(3):
            plus, minus = pos.copy(), pos.copy()
            plus[atom, axis] += h
            minus[atom, axis] -= h
            fd = -(energy_of(model, dict(s, positions=plus)) - energy_of(model, dict(s, positions=minus))) / (2 * h)
            worst = max(worst, abs(fd - float(forces[atom, axis])))
    assert worst <= 1e-7 * float(forces.abs().max())


def test_periodic_forces_and_stress_match_finite_differences(small_model):
    model = small_model(seed=6, use_lae=True, use_erope=True)
    s = water_box(n_mol=4)
    stress = assert_forces_and_stress_match_fd(model, s)
    assert torch.allclose(stress, stress.T, atol=1e-14)


def test_batch_equals_each_alone(small_model):
    model = small_model(seed=7, use_lae=True, use_erope=True)
    systems = [water_cluster(8, 2), water_box(9, 4), water_cluster(10, 3, charge=1, spin=2)]
    batched = run(model, systems)
    start = 0
    for i, s in enumerate(systems):
        alone = run(model, [s])
        n = len(s["numbers"])
        assert abs(float(batched["energy"][i] - alone["energy"][0])) <= 1e-12 * abs(float(alone["energy"][0]))
        assert (batched["forces"][start:start + n] - alone["forces"]).abs().max() <= 1e-12
        if any(s["pbc"]):
            assert (batched["stress"][i] - alone["stress"][0]).abs().max() <= 1e-14
        else:
            assert not bool(batched["stress_valid"][i])
        start += n


def test_translation_invariance(small_model):
    model = small_model(seed=11, use_lae=True, use_erope=True)
    s = water_cluster()
    shifted = dict(s, positions=(np.array(s["positions"]) + [3.7, -1.2, 20.5]).tolist())
    a, b = run(model, [s], stress=False), run(model, [shifted], stress=False)
    assert abs(float(a["energy"][0] - b["energy"][0])) <= 1e-12 * abs(float(a["energy"][0]))
    assert (a["forces"] - b["forces"]).abs().max() <= 1e-12
    # Periodic: any translation (positions are wrapped inside the model).
    box = water_box()
    moved = dict(box, positions=(np.array(box["positions"]) + [0.37, -1.21, 2.05]).tolist())
    a, b = run(model, [box]), run(model, [moved])
    assert abs(float(a["energy"][0] - b["energy"][0])) <= 1e-12 * abs(float(a["energy"][0]))
    assert (a["forces"] - b["forces"]).abs().max() <= 1e-12
    assert (a["stress"] - b["stress"]).abs().max() <= 1e-14


def test_energy_is_not_rotation_invariant(small_model):
    # Raw SH into a Linear layer: the reference model is orientation dependent; so must we be.
    model = small_model(seed=12)
    s = water_cluster()
    c, sn = math.cos(0.7), math.sin(0.7)
    rot = np.array([[c, -sn, 0], [sn, c, 0], [0, 0, 1]])
    rotated = dict(s, positions=(np.array(s["positions"]) @ rot.T).tolist())
    assert abs(energy_of(model, s) - energy_of(model, rotated)) > 1e-6


def test_direct_head_and_normalisation(small_model):
    refs = [0.0] + [-float(z) * 1.5 for z in range(1, 20)]
    norm = {"energy_scale": 2.5, "energy_shift": 0.75, "element_references": refs}
    plain_model = small_model(seed=13, forces="direct")
    scaled = small_model(seed=13, forces="direct", normalization=norm)
    s = water_cluster()
    a, b = run(plain_model, [s]), run(scaled, [s])
    assert "stress" not in a
    assert torch.equal(a["energy_raw"], b["energy_raw"])
    expected = 2.5 * float(a["energy_raw"][0]) + 0.75 + sum(refs[z] for z in s["numbers"])
    assert abs(float(b["energy"][0]) - expected) <= 1e-12 * abs(expected)
    assert torch.allclose(b["forces"], 2.5 * a["forces"], rtol=1e-14, atol=1e-15)


def test_float32_close_to_float64(small_model):
    model = small_model(seed=14, use_lae=True, use_erope=True)
    s = water_box()
    ref = run(model, [s])
    out = run(model.float(), [s])
    assert abs(float(out["energy"][0]) - float(ref["energy"][0])) <= 1e-5 * abs(float(ref["energy"][0]))
    assert (out["forces"].double() - ref["forces"]).abs().max() <= 1e-4 * float(ref["forces"].abs().max())


def test_bad_inputs_are_named(small_model):
    model = small_model()
    s = water_cluster()
    with pytest.raises(ValueError, match="charge"):
        run(model, [dict(s, charge=150)])
    with pytest.raises(ValueError, match="atomic number"):
        run(model, [dict(s, numbers=[120] + s["numbers"][1:])])
    with pytest.raises(ValueError, match="structure 0"):
        run(model, [dict(s, numbers=s["numbers"][:-1])])
