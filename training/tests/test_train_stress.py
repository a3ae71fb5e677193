"""Stress in training (train.py): rotated stress targets, the loss's stress against a finite-strain derivative of
the model's energy, and a few optimiser steps on the stress term alone that lower it."""
import numpy as np
import torch
from ase import Atoms
from ase.calculators.lj import LennardJones

import make_fixtures
from fast_graph import FastAllScAIP
from train import loss_terms, make_batch, random_rotation


def lj_frames(n_frames, seed=0):
    """Small periodic argon-like boxes labelled by ASE's (rotation invariant) Lennard-Jones with its stress."""
    rng = np.random.default_rng(seed)
    cell = np.array([[6.2, 0.0, 0.0], [0.7, 5.9, 0.0], [-0.4, 0.5, 6.4]])
    grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], dtype=float) / 2
    frames = []
    for _ in range(n_frames):
        frac = grid + rng.normal(scale=0.04, size=grid.shape)
        atoms = Atoms("Ar8", scaled_positions=frac, cell=cell * rng.uniform(0.95, 1.05), pbc=True)
        atoms.calc = LennardJones(sigma=2.6, epsilon=0.01, rc=5.0, smooth=True)
        frames.append(dict(numbers=atoms.numbers, positions=atoms.positions, cell=np.array(atoms.cell),
                           pbc=np.array([True] * 3), energy=float(atoms.get_potential_energy()),
                           forces=atoms.get_forces(), stress=atoms.get_stress(voigt=False)))
    return frames


def small_model(seed=0, **flags):
    config = make_fixtures.make_config("test", "stress loss test", knn_k=12, candidates=24, use_lae=True,
                                       use_erope=True, **flags)
    model = FastAllScAIP(config).double()
    make_fixtures.randomize(model, seed)
    return model


def test_rotated_stress_target_is_the_teachers_stress_of_the_rotated_frame():
    s = lj_frames(1)[0]
    R = random_rotation(torch.Generator().manual_seed(3))
    b = make_batch([s], [R], dtype=torch.float64)
    rotated = Atoms(numbers=s["numbers"], positions=b["pos"].numpy(), cell=b["cell"][0].numpy(), pbc=True)
    rotated.calc = LennardJones(sigma=2.6, epsilon=0.01, rc=5.0, smooth=True)
    np.testing.assert_allclose(b["stress"][0].numpy(), rotated.get_stress(voigt=False), atol=1e-12)
    assert bool(b["stress_mask"][0])
    no_stress = make_batch([dict(s, stress=None)], [R], dtype=torch.float64)
    assert not bool(no_stress["stress_mask"][0])


def test_loss_stress_is_the_finite_strain_derivative_of_the_energy():
    """The stress in the loss is (1/V)·∂E/∂ε (ASE's sign), for a normal and a shear strain, with the smooth flag
    the retraining turns on."""
    model = small_model(boo_envelope_weighted=True)
    s = lj_frames(1, seed=4)[0]
    b = make_batch([s], dtype=torch.float64)
    terms = loss_terms(model, b, scale=1.0, stress=True)
    stress = terms["out"]["stress"][0].detach().numpy()
    vol = abs(np.linalg.det(s["cell"]))

    def energy(eps):
        strained = dict(s, positions=s["positions"] + s["positions"] @ eps, cell=s["cell"] + s["cell"] @ eps)
        bb = make_batch([strained], dtype=torch.float64)
        out = model.compute(bb["numbers"], bb["pos"], bb["cell"], bb["pbc"], bb["charge"], bb["spin"], bb["natoms"],
                            forces=False, stress=False)
        return float(out["energy"][0])

    h = 1e-5
    for i, j in [(0, 0), (0, 1), (1, 2)]:
        eps = np.zeros((3, 3))
        eps[i, j] = eps[j, i] = h / 2 if i != j else h
        fd = (energy(eps) - energy(-eps)) / (2 * h) / vol
        # a symmetric shear ε_ij = ε_ji = h/2 couples to σ_ij + σ_ji
        expected = stress[i, j] if i == j else 0.5 * (stress[i, j] + stress[j, i])
        assert abs(fd - expected) < 1e-7 * np.abs(stress).max() + 1e-12, (i, j, fd, expected)
    # the loss term is the per-atom virial error in energy_scale units
    per_atom = (stress - s["stress"]) * vol / len(s["numbers"])
    np.testing.assert_allclose(float(terms["loss_s"]), np.mean(per_atom ** 2), rtol=1e-10)


def test_stress_loss_trains():
    """A few Adam steps on the stress term alone lower it on the frames it is trained on."""
    torch.manual_seed(0)
    model = small_model(seed=1)
    frames = lj_frames(4, seed=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for step in range(60):
        b = make_batch([frames[step % 4]], dtype=torch.float64)
        terms = loss_terms(model, b, scale=1.0, stress=True)
        opt.zero_grad()
        terms["loss_s"].backward()
        opt.step()
        history.append(float(terms["loss_s"]))
    per_pass = np.array(history).reshape(-1, 4).mean(axis=1)  # one pass over the 4 frames
    assert np.all(np.diff(per_pass) < 0), per_pass
    assert per_pass[-1] < 0.4 * per_pass[0], per_pass  # measured: 6.9e-4 -> 2.2e-4


def test_frames_without_stress_add_no_stress_loss():
    model = small_model()
    s = lj_frames(1)[0]
    terms = loss_terms(model, make_batch([dict(s, stress=None)], dtype=torch.float64), scale=1.0, stress=True)
    assert terms["s_err"] is None and float(terms["loss_s"]) == 0.0


def test_evaluate_reports_stress_and_pressure_errors_in_their_units():
    """evaluate.group_errors: stress component MAE in meV/Å³ and the virial pressure error in bar, on the frames
    with a teacher stress; frames without one add nothing to them."""
    from evaluate import group_errors
    from train import predict

    class Frames:  # the part of datasets.Trajectory that group_errors reads
        def __init__(self, structures):
            self.structures, self.n_atoms = structures, len(structures[0]["numbers"])

        def structure(self, i):
            return self.structures[i]

    model = small_model(seed=2).float()
    frames = lj_frames(2, seed=5)
    frames.append(dict(frames[0], stress=None))
    result = group_errors(model, [Frames(frames)], [(0, 0), (0, 1), (0, 2)])
    ds = []
    for s in frames[:2]:
        b = make_batch([s])
        ds.append(predict(model, b, stress=True)["stress"][0].detach().double().numpy() - s["stress"])
    bar = 1e5 / 1.602176634e11  # eV/Å³
    assert result["n_frames"] == 3
    np.testing.assert_allclose(result["stress_mae_meV_per_A3"], 1000 * np.mean([np.abs(d).mean() for d in ds]),
                               rtol=1e-5)
    np.testing.assert_allclose(result["pressure_error_mean_bar"], np.mean([-np.trace(d) / 3 for d in ds]) / bar,
                               rtol=1e-5)
