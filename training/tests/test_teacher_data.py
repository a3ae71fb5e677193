"""The teacher-data pipeline (LAMMPS -> npz) on tiny runs: vacuum clusters against a direct SPC/Fw evaluation
(bonds + angles + LJ + Coulomb between molecules), and a periodic box's bookkeeping."""
import os
import shutil
import sys

import numpy as np
import pytest
import torch
from conftest import TRAINING

sys.path.insert(0, os.path.join(TRAINING, "data"))
import make_water  # noqa: E402
from lammps_util import KCAL_PER_MOL_TO_EV, load_frames  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(make_water.__dict__.get("LMP", "/usr/bin/lmp")) and
                                shutil.which("lmp") is None, reason="LAMMPS (lmp) not installed")
COULOMB = 332.06371  # kcal/mol Å / e^2, LAMMPS `real` units


def spcfw_energy(pos, n_mol):
    """Direct SPC/Fw energy (kcal/mol) of molecules O,H,H,O,H,H,... in vacuum, no cutoff."""
    x = pos.reshape(n_mol, 3, 3)
    e = torch.zeros((), dtype=pos.dtype)
    for m in range(n_mol):
        o, h1, h2 = x[m]
        for h in (h1, h2):
            e = e + make_water.K_BOND * (torch.linalg.norm(h - o) - make_water.R_OH) ** 2
        cos = torch.dot(h1 - o, h2 - o) / (torch.linalg.norm(h1 - o) * torch.linalg.norm(h2 - o))
        e = e + make_water.K_ANGLE * (torch.arccos(cos) - np.radians(make_water.THETA_HOH)) ** 2
    q = torch.tensor([make_water.Q_O, make_water.Q_H, make_water.Q_H], dtype=pos.dtype)
    for a in range(n_mol):
        for b in range(a + 1, n_mol):
            r_oo = torch.linalg.norm(x[a, 0] - x[b, 0])
            sr6 = (make_water.SIG_OO / r_oo) ** 6
            e = e + 4 * make_water.EPS_OO * (sr6 * sr6 - sr6)
            for i in range(3):
                for j in range(3):
                    e = e + COULOMB * q[i] * q[j] / torch.linalg.norm(x[a, i] - x[b, j])
    return e


def test_vacuum_cluster_matches_direct_spcfw(tmp_path, monkeypatch):
    monkeypatch.setattr(make_water, "WATER_DIR", str(tmp_path / "out"))
    spec = dict(id="vac3_test", kind="vacuum", n_mol=3, temperature=250, seed=7, equil_steps=200, stride=20,
                n_frames=5, split="test")
    make_water.generate(spec, str(tmp_path / "work"))
    d = load_frames(str(tmp_path / "out" / "vac3_test.npz"))
    assert d["positions"].shape == (5, 9, 3)
    assert list(d["numbers"]) == [8, 1, 1] * 3
    assert not d["pbc"].any()
    for i in range(5):
        pos = torch.tensor(d["positions"][i], dtype=torch.float64, requires_grad=True)
        e = spcfw_energy(pos, 3)
        (grad,) = torch.autograd.grad(e, pos)
        assert abs(float(e) * KCAL_PER_MOL_TO_EV - d["energy"][i]) < 2e-5  # positions stored as float32
        np.testing.assert_allclose(-grad.numpy() * KCAL_PER_MOL_TO_EV, d["forces"][i], atol=2e-3)


def test_periodic_box_bookkeeping(tmp_path, monkeypatch):
    monkeypatch.setattr(make_water, "WATER_DIR", str(tmp_path / "out"))
    spec = dict(id="w64_test", kind="periodic", n_mol=64, temperature=300, density=1.0, seed=9, equil_steps=100,
                stride=10, n_frames=3, split="test")
    make_water.generate(spec, str(tmp_path / "work"))
    d = load_frames(str(tmp_path / "out" / "w64_test.npz"))
    length = make_water.box_length(64, 1.0)
    assert d["pbc"].all()
    np.testing.assert_allclose(d["cell"], np.repeat(np.eye(3)[None] * length, 3, 0), rtol=1e-9)
    # LAMMPS wraps atoms only when it rebuilds neighbour lists, so an atom may sit slightly outside the cell
    assert d["positions"].min() > -1.0 and d["positions"].max() < length + 1.0
    np.testing.assert_allclose(d["forces"].sum(axis=1), 0.0, atol=1e-3)  # Newton's third law incl. PPPM
    per_molecule = d["energy"] / 64 / KCAL_PER_MOL_TO_EV
    assert np.all((per_molecule > -13) & (per_molecule < -5)), per_molecule  # liquid SPC/Fw is about -10
    # O-H bonds intact: every H within 1.3 Å of its own O (minimum image)
    x = d["positions"][0].reshape(64, 3, 3)
    dv = x[:, 1:] - x[:, :1]
    dv -= length * np.round(dv / length)
    assert np.linalg.norm(dv, axis=-1).max() < 1.3


def test_active_learning_labels_reproduce_the_teacher(tmp_path, monkeypatch):
    """active_learning.label (a LAMMPS rerun of given frames) gives the teacher's own energies and forces back for
    frames the teacher produced, including frames with atoms outside the box."""
    import active_learning
    monkeypatch.setattr(make_water, "WATER_DIR", str(tmp_path / "out"))
    spec = dict(id="w64_al_test", kind="periodic", n_mol=64, temperature=300, density=1.0, seed=4, equil_steps=100,
                stride=10, n_frames=3, split="train")
    make_water.generate(spec, str(tmp_path / "work"))
    d = load_frames(str(tmp_path / "out" / "w64_al_test.npz"))
    frames = d["positions"].astype(np.float64)
    frames[:, 0] += d["cell"][0][0, 0]  # one atom a whole box away: labels must not depend on the image
    (tmp_path / "label").mkdir()
    pos, frc, energy = active_learning.label(d["numbers"], frames, d["cell"][0], str(tmp_path / "label"))
    np.testing.assert_allclose(energy, d["energy"], atol=1e-4)  # eV, of ~ -27 eV
    np.testing.assert_allclose(frc, d["forces"], atol=1e-3)
    assert pos.shape == frames.shape
