"""training/fast_graph.py must give exactly the reference model's outputs (it only skips autograd on pairs
that can never become edges)."""
import numpy as np
import torch
from conftest import run

from fast_graph import FastAllScAIP


def _water_box(seed, n_mol=8, length=6.2):
    rng = np.random.default_rng(seed)
    pos = []
    grid = [(i, j, k) for i in range(2) for j in range(2) for k in range(2)][:n_mol]
    for g in grid:
        o = (np.array(g) + 0.5) * length / 2 + rng.normal(0, 0.2, 3)
        pos += [o, o + [0.96, 0.1, 0.0], o + [-0.2, 0.93, 0.1]]
    cell = np.diag([length, length * 1.05, length * 0.97]) + np.array([[0, 0, 0], [0.4, 0, 0], [0.2, -0.3, 0]])
    return {"numbers": [8, 1, 1] * n_mol, "positions": np.array(pos), "cell": cell, "pbc": [True] * 3,
            "charge": 0, "spin": 1}


def _cluster(seed):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-3, 3, size=(9, 3))
    return {"numbers": [8, 1, 1] * 3, "positions": pos, "cell": None, "pbc": [False] * 3, "charge": 0, "spin": 1}


def _fast_copy(model):
    fast = FastAllScAIP(model.config).double()
    fast.load_state_dict(model.state_dict())
    return fast


def test_fast_graph_matches_reference_periodic_and_vacuum(small_model):
    for flags in ({}, {"use_lae": True, "use_erope": True}, {"use_node_attention": False},
                  {"knn_k": 8, "candidates": 12, "use_lae": True, "use_erope": True}):
        ref = small_model(seed=3, **flags)
        fast = _fast_copy(ref)
        structures = [_water_box(1), _cluster(2)]
        want = run(ref, structures)
        got = run(fast, structures)
        torch.testing.assert_close(got["energy"], want["energy"], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(got["forces"], want["forces"], rtol=1e-9, atol=1e-10)
        torch.testing.assert_close(got["stress"], want["stress"], rtol=1e-9, atol=1e-10)


def test_fast_graph_same_edges(small_model):
    ref = small_model(seed=4, use_lae=True, use_erope=True)
    fast = _fast_copy(ref)
    want = run(ref, [_water_box(5)], intermediates=True)["intermediates"]["graph"]
    got = run(fast, [_water_box(5)], intermediates=True)["intermediates"]["graph"]
    for key in ("center", "neighbor", "shift"):
        assert torch.equal(got[key], want[key]), key
    torch.testing.assert_close(got["env"], want["env"], rtol=0, atol=1e-12)
    torch.testing.assert_close(got["dist_pairwise"], want["dist_pairwise"], rtol=0, atol=1e-12)


def test_fast_graph_float32_matches_float64_on_md_frames_of_the_water_box():
    """The float32 fast path (model_md.py, validate_water.py) must compute the float64 function to float32
    round-off on MD frames of the shipped default model's 64-water box. Its self-loop slot once carried the
    ~1e6 unit-vector gradient in float32 (forces 5e-3 eV/Å RMS off float64), which showed up as NVE drift."""
    import os

    from ase import units
    from ase.io import read
    from conftest import REPO
    from evaluate import load_for_eval
    from model_md import ModelMD
    from train import make_batch, predict

    model_dir = os.path.join(REPO, "public", "models", "water-spcfw-small")
    m32, _ = load_for_eval(model_dir=model_dir, dtype=torch.float32)
    m64, _ = load_for_eval(model_dir=model_dir, dtype=torch.float64)
    atoms = read(os.path.join(REPO, "public", "systems", "water64_box.xyz"))
    md = ModelMD(m32, atoms.numbers, atoms.get_positions(), atoms.cell.array, seed=11, temperature=300.0)
    frames = []
    for step in range(1, 7):  # velocity Verlet on the float32 path itself, 1 fs steps at 300 K
        md.verlet(1.0 * units.fs)
        if step % 3 == 0:
            frames.append((md.pos.copy(), md.f.copy()))
    for pos, f32 in frames:
        s = dict(numbers=md.numbers, positions=pos, cell=md.cell, pbc=np.array([True] * 3), energy=0.0,
                 forces=np.zeros_like(pos))
        f64 = predict(m64, make_batch([s], dtype=torch.float64))["forces"].detach().numpy()
        err = f32 - f64
        rms = float(np.sqrt((err ** 2).mean()))
        assert rms <= 1e-4, f"float32 forces {rms:.2e} eV/Å RMS off float64 (max {np.abs(err).max():.2e})"
        assert np.abs(err).max() <= 1e-3
