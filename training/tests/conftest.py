import os
import sys

import pytest
import torch

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

SHARED = os.path.join(os.path.dirname(REPO), "shared", "reference")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/reference"
GOLDEN_DIR = os.path.join(SHARED, "allscaip-golden")
FIXTURES = os.path.join(REPO, "test", "fixtures")

torch.set_num_threads(1)


@pytest.fixture
def small_model():
    """Factory: a float64 random-weight model from make_fixtures' config builder."""
    import make_fixtures
    from scaip.model import AllScAIP

    def build(seed=0, **flags):
        config = make_fixtures.make_config("test", "test model", **flags)
        model = AllScAIP(config).double()
        make_fixtures.randomize(model, seed)
        return model

    return build


def run(model, structures, **kw):
    from scaip.model import batch_structures

    b = batch_structures(structures, dtype=next(model.parameters()).dtype)
    return model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"], **kw)


def energy_of(model, structure):
    return float(run(model, [structure], forces=False, stress=False)["energy"][0])


def assert_forces_and_stress_match_fd(model, s, h=1e-5, rel=1e-7):
    """Autograd forces (a few components) and stress (every symmetric strain) against central differences of E."""
    import numpy as np

    out = run(model, [s])
    forces, stress = out["forces"], out["stress"][0]
    pos, cell = np.array(s["positions"]), np.array(s["cell"])
    for atom, axis in [(0, 0), (1, 2), (5, 1), (11, 0)]:
        plus, minus = pos.copy(), pos.copy()
        plus[atom, axis] += h
        minus[atom, axis] -= h
        fd = -(energy_of(model, dict(s, positions=plus)) - energy_of(model, dict(s, positions=minus))) / (2 * h)
        assert abs(fd - float(forces[atom, axis])) <= rel * float(forces.abs().max()), (atom, axis)
    volume = abs(np.linalg.det(cell))
    for i, j in [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]:
        eps = np.zeros((3, 3))
        eps[i, j] = eps[j, i] = h / 2 if i != j else h
        e = []
        for sign in (1, -1):
            deform = np.eye(3) + sign * eps
            e.append(energy_of(model, dict(s, positions=(pos @ deform).tolist(), cell=(cell @ deform).tolist())))
        # dE/dε_ij for the symmetric strain, per volume (reference sign, no minus).
        fd = (e[0] - e[1]) / (2 * h) / volume
        assert abs(fd - float(stress[i, j])) <= rel * float(stress.abs().max()), (i, j)
    return stress
