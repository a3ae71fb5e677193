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
    assert "stress" not in d  # no cell: the teacher has no stress here
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
    assert d["stress"].shape == (3, 3, 3)
    np.testing.assert_array_equal(d["stress"], np.swapaxes(d["stress"], 1, 2))
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
    pos, frc, energy, stress = active_learning.label(d["numbers"], frames, d["cell"][0], str(tmp_path / "label"))
    np.testing.assert_allclose(energy, d["energy"], atol=1e-4)  # eV, of ~ -27 eV
    np.testing.assert_allclose(frc, d["forces"], atol=1e-3)
    # stress: positions are stored as float32; the teacher's stress spread is ~3e-4 eV/Å³ (~500 bar)
    np.testing.assert_allclose(stress, d["stress"], atol=2e-6)
    assert pos.shape == frames.shape

    # NPT samples: each frame its own cell. The middle frame's box (and its molecules) scaled by 1 %: label_cells
    # must give that frame its own box's labels and keep the others' and the frame order
    cells = np.repeat(d["cell"][:1], 3, 0).astype(np.float64)
    scaled = frames.copy()
    scaled[1] *= 1.01
    cells[1] *= 1.01
    (tmp_path / "cells").mkdir()
    (tmp_path / "alone").mkdir()
    _, frc_c, energy_c, stress_c = active_learning.label_cells(d["numbers"], scaled, cells, str(tmp_path / "cells"))
    _, frc_1, energy_1, stress_1 = active_learning.label(d["numbers"], scaled[1:2], cells[1], str(tmp_path / "alone"))
    np.testing.assert_allclose(energy_c[[0, 2]], energy[[0, 2]], atol=1e-8)
    np.testing.assert_allclose(frc_c[[0, 2]], frc[[0, 2]], atol=1e-8)
    np.testing.assert_allclose(energy_c[1], energy_1[0], atol=1e-8)
    np.testing.assert_allclose(stress_c[1], stress_1[0], atol=1e-12)
    assert abs(energy_c[1] - energy[1]) > 1e-2  # the scaled box is a different state (eV)


def teacher_energy_and_stress(pos, length, strain_command, workdir, pair_modify=""):
    """The periodic teacher's energy (eV) and virial stress (eV/Å³) of one frame in a cubic box, after
    `strain_command` (a LAMMPS change_box, affine with remap). The PPPM mesh and splitting parameter are pinned to
    the values LAMMPS picks for 1e-5 in the 64-molecule box at 1.0 g/cm³, so that strained and unstrained energies
    come from one and the same k-space discretisation."""
    from lammps_util import read_thermo, run_lammps, virial_stress
    os.makedirs(workdir, exist_ok=True)
    wrapped = pos - np.floor(pos / length) * length
    make_water.write_data(os.path.join(workdir, "data.lmp"), list(wrapped.reshape(-1, 3, 3)), [(0.0, length)] * 3)
    # kspace_style is restated after the strain because PPPM must be redefined once a box turns triclinic
    script = (make_water.PERIODIC_SETUP + strain_command + "\nkspace_style pppm 1.0e-5\n"
              + "kspace_modify gewald 0.52112945 mesh 20 20 20 order 5\n" + pair_modify + "\n"
              + make_water.VIRIAL_COMPUTE
              + f"thermo_style custom {make_water.VIRIAL_THERMO} vol\nthermo_modify format float %.15g\nrun 0\n")
    run_lammps(script, workdir)
    t = read_thermo(os.path.join(workdir, "log.lammps"), ("PotEng", "Volume") + make_water.VIRIAL_COLUMNS)
    return (float(t["PotEng"][0]) * KCAL_PER_MOL_TO_EV,
            virial_stress([t[c] for c in make_water.VIRIAL_COLUMNS])[0], float(t["Volume"][0]))


def test_teacher_stress_is_the_strain_derivative_of_its_energy(tmp_path, monkeypatch):
    """The stored stress (ASE sign, eV/Å³, virial only: no kinetic term) is (1/V)·∂E/∂ε of the teacher's energy.

    Checked by central differences of affine strains of one MD frame, a normal strain (x scaled by 1 ± h) and a
    shear (tilt xy = ±h·L_y, i.e. x' = x + h·y), with bonds, angles, LJ and PPPM. Two parts of the teacher are
    not differentiable frame by frame and are checked on their own: the Coulomb lookup tables (pair_modify
    table 0 makes the real-space energy and virial exact) and the LJ tail. LAMMPS's tail pressure is the
    thermodynamic one, −dE_tail/dV plus the impulse of the LJ cut at 6 Å, (2π/3)·ρ_O²·r_c³·u(r_c) (g(r_c) = 1):
    the pressure a smooth model's E(V) should reproduce, and the one the teacher's own NPT runs on. The strains
    are small enough (1e-6) that no O–O pair crosses the cut."""
    from lammps_util import ATM_TO_EV_PER_A3
    monkeypatch.setattr(make_water, "WATER_DIR", str(tmp_path / "out"))
    spec = dict(id="w64_strain_test", kind="periodic", n_mol=64, temperature=300, density=1.0, seed=5,
                equil_steps=200, stride=10, n_frames=2, split="test")
    make_water.generate(spec, str(tmp_path / "work"))
    d = load_frames(str(tmp_path / "out" / "w64_strain_test.npz"))
    length = float(d["cell"][-1][0, 0])
    pos = d["positions"][-1].astype(np.float64)

    e0, s0, vol = teacher_energy_and_stress(pos, length, "", str(tmp_path / "s0"))
    np.testing.assert_allclose(s0, d["stress"][-1], atol=3e-6)  # the label (float32 positions, automatic PPPM)
    assert abs(e0 - d["energy"][-1]) < 2e-3
    assert np.abs(s0).max() > 5e-4  # a liquid frame: stress components of a thousand bar and more

    exact = "pair_modify tail no table 0"
    h = 1e-6
    tilt = "change_box all triclinic\nchange_box all xy final {} remap units box"
    energies = {name: teacher_energy_and_stress(pos, length, cmd, str(tmp_path / name), exact)[0] for name, cmd in [
        ("xp", f"change_box all x scale {1 + h} remap"), ("xm", f"change_box all x scale {1 - h} remap"),
        ("tp", tilt.format(h * length)), ("tm", tilt.format(-h * length))]}
    s_exact = teacher_energy_and_stress(pos, length, "", str(tmp_path / "exact"), exact)[1]
    fd_xx = (energies["xp"] - energies["xm"]) / (2 * h) / vol
    fd_xy = (energies["tp"] - energies["tm"]) / (2 * h) / vol
    scale = np.abs(s_exact).max()
    assert abs(fd_xx - s_exact[0, 0]) < 1e-4 * scale, (fd_xx, s_exact[0, 0])
    assert abs(fd_xy - s_exact[0, 1]) < 1e-4 * scale, (fd_xy, s_exact[0, 1])

    # the tail: isotropic, E_tail/V (= −dE_tail/dV) plus the impulse of the cut, both from the O–O pair density
    s_tail = teacher_energy_and_stress(pos, length, "", str(tmp_path / "tail"), "pair_modify table 0")[1]
    rho_o, rc = 64 / vol, make_water.LJ_CUT_PERIODIC
    sr6 = (make_water.SIG_OO / rc) ** 6
    u_rc = 4 * make_water.EPS_OO * (sr6 * sr6 - sr6) * KCAL_PER_MOL_TO_EV
    sr3, sig3 = sr6 ** 0.5, make_water.SIG_OO ** 3
    e_tail = (8 / 3) * np.pi * 64 * rho_o * make_water.EPS_OO * sig3 * (sr3 ** 3 / 3 - sr3) * KCAL_PER_MOL_TO_EV
    p_tail = e_tail / vol + (2 * np.pi / 3) * rho_o ** 2 * rc ** 3 * u_rc
    np.testing.assert_allclose(s_tail - s_exact, -p_tail * np.eye(3), atol=1e-9)
    assert abs(p_tail / ATM_TO_EV_PER_A3 + 916) < 5  # atm: twice E_tail/V, so the impulse matters
    # the lookup tables LAMMPS uses by default change the stress by only a few tens of bar
    assert np.abs(s0 - s_tail).max() < 1e-4

    # the sign that matters for NPT: a denser box pushes outwards more, i.e. its ASE stress is more negative
    # (the virial part alone is a tension here, ~ +N·k_B·T/V: the kinetic pressure is not in it)
    traces = {}
    for rho, seed in [(0.9, 6), (1.1, 7)]:
        make_water.generate(dict(spec, id=f"w64_rho{rho}", density=rho, seed=seed), str(tmp_path / "work"))
        traces[rho] = np.trace(load_frames(str(tmp_path / "out" / f"w64_rho{rho}.npz"))["stress"], axis1=1, axis2=2)
    assert traces[1.1].mean() < traces[0.9].mean() - 1e-3, traces
