"""architecture.erope_smooth_minimum_image and architecture.knn_candidate_margin (docs/model-format.md).

Flags off are the reference (test_golden.py, test_fixtures.py). Here: parsing and defaults; the smooth periodic
pair distance against its definition (periodic, symmetric, the chord in orthogonal cells, close to the minimum
image at short range, rotating positions and cell together changes nothing and rotates its gradient); model forces
and stress with it against finite differences; the force across half the box (kink with the minimum image, smooth
with the flag); and the energy across a candidate swap at the truncation boundary (jump with a tight budget,
continuous with the margin).
"""
import math

import numpy as np
import pytest
import torch

import make_fixtures
from conftest import assert_forces_and_stress_match_fd, energy_of, run
from scaip.config import ModelConfigError, validate_config
from scaip.graph import smooth_pair_distance
from scaip.model import AllScAIP

TRICLINIC = [[6.4, 0.0, 0.0], [1.1, 6.2, 0.0], [-0.7, 0.9, 5.8]]


def model_with(seed, arch=None, **config_kw):
    config = make_fixtures.make_config("t", "t", **config_kw)
    config["architecture"].update(arch or {})
    model = AllScAIP(config).double()
    make_fixtures.randomize(model, seed)
    return model


def edge_set(model, structure):
    g = run(model, [structure], forces=False, stress=False, intermediates=True)["intermediates"]["graph"]
    return {(int(a), int(b), *map(int, s)) for a, b, s in zip(g["center"], g["neighbor"], g["shift"])}


def min_image_distance(pos, cell):
    d = pos[None, :, :] - pos[:, None, :]
    best = None
    for shift in np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing="ij")).reshape(3, -1).T:
        r = np.linalg.norm(d + shift @ cell, axis=-1)
        best = r if best is None else np.minimum(best, r)
    return best


# ----------------------------------------------------------------------------- parsing

def test_flags_default_off_and_margin_is_checked():
    config = make_fixtures.make_config("t", "t", knn_k=10, candidates=16)
    for key in ("erope_smooth_minimum_image", "knn_candidate_margin"):
        config["architecture"].pop(key, None)
        assert validate_config(config)["architecture"][key] is False
        bad = dict(config, architecture=dict(config["architecture"], **{key: 1}))
        with pytest.raises(ModelConfigError, match=key):
            validate_config(bad)
    # 16 candidates < 2 * 10: the margin cannot be guaranteed
    config["architecture"]["knn_candidate_margin"] = True
    with pytest.raises(ModelConfigError, match="knn_candidate_margin"):
        validate_config(config)
    config["architecture"]["knn_candidates"] = 20
    assert validate_config(config)["architecture"]["knn_candidate_margin"] is True


# ----------------------------------------------------------------------------- the smooth pair distance

def test_smooth_distance_definition():
    rng = np.random.RandomState(3)
    cell = torch.tensor(TRICLINIC, dtype=torch.float64)
    pbc = torch.tensor([True, True, True])
    pos = torch.tensor(rng.uniform(0, 1, (7, 3)), dtype=torch.float64) @ cell
    r = smooth_pair_distance(pos, cell, pbc)
    assert torch.all(r.diagonal() == 0)
    assert torch.allclose(r, r.T, rtol=0, atol=1e-13)
    # the formula, written out per pair
    inv = np.linalg.inv(TRICLINIC)
    c = np.array(TRICLINIC)
    for i, j in [(0, 1), (2, 5), (6, 3)]:
        s = (pos[j] - pos[i]).numpy() @ inv
        w = (8 * np.sin(2 * np.pi * s) - np.sin(4 * np.pi * s)) / (12 * np.pi)
        h = np.sin(np.pi * s) ** 2 * (3 + np.sin(np.pi * s) ** 2) / (3 * np.pi ** 2) - w ** 2
        want = math.sqrt(np.sum((w @ c) ** 2) + np.sum(h * np.sum(c * c, axis=1)))
        assert abs(float(r[i, j]) - want) <= 1e-13
    # exactly periodic: moving atoms by lattice vectors changes nothing
    shifted = pos + torch.tensor(rng.randint(-2, 3, (7, 3)), dtype=torch.float64) @ cell
    assert torch.allclose(smooth_pair_distance(shifted, cell, pbc), r, rtol=0, atol=1e-12)
    tiny = torch.tensor([[0.0, 0.0, 0.0], [0.05, -0.03, 0.02]], dtype=torch.float64) + pos[0]
    assert abs(float(smooth_pair_distance(tiny, cell, pbc)[0, 1]) - math.sqrt(0.05**2 + 0.03**2 + 0.02**2)) < 1e-9


def test_smooth_distance_tracks_the_minimum_image_at_short_range():
    # r~ = r (1 + O(s^4)): in a ~12.4 Å cell (64 waters) measured 0.03 % up to 1 Å, 0.5 % up to 2 Å, 2.4 % up to 3 Å
    rng = np.random.RandomState(4)
    cell = np.array([[12.4, 0, 0], [1.5, 12.2, 0], [-0.8, 1.1, 12.3]])
    pos = rng.uniform(0, 1, (200, 3)) @ cell
    r = smooth_pair_distance(torch.tensor(pos), torch.tensor(cell), torch.tensor([True] * 3)).numpy()
    ref = min_image_distance(pos, cell)
    rel = np.abs(r - ref) / np.where(ref > 0, ref, 1)
    for bound, tol in [(1.0, 5e-4), (2.0, 6e-3), (3.0, 3e-2)]:
        near = (ref > 0) & (ref < bound)
        assert near.sum() > 5 and rel[near].max() < tol, (bound, rel[near].max())


def test_smooth_distance_orthogonal_cell_is_per_axis_and_open_axes_are_plain():
    lengths = np.array([7.0, 8.5, 9.0])
    cell = torch.tensor(np.diag(lengths), dtype=torch.float64)
    pos = torch.tensor([[0.3, 0.2, 0.1], [6.1, 4.0, 2.2]], dtype=torch.float64)
    d = (pos[1] - pos[0]).numpy()
    sn2 = np.sin(np.pi * d / lengths) ** 2
    per_axis = lengths ** 2 * sn2 * (3 + sn2) / (3 * np.pi ** 2)  # (L s)^2 up to O(s^6), periodic
    r = smooth_pair_distance(pos, cell, torch.tensor([True, True, True]))
    assert abs(float(r[0, 1]) - np.sqrt(per_axis.sum())) <= 1e-13
    # a non-periodic axis keeps the plain Cartesian component
    mixed = np.sqrt(per_axis[:2].sum() + d[2] ** 2)
    r = smooth_pair_distance(pos, cell, torch.tensor([True, True, False]))
    assert abs(float(r[0, 1]) - mixed) <= 1e-13
    r = smooth_pair_distance(pos, cell, torch.tensor([False, False, False]))
    assert abs(float(r[0, 1]) - np.linalg.norm(d)) <= 1e-13


def test_smooth_distance_rotates_with_positions_and_cell():
    rng = np.random.RandomState(5)
    cell = torch.tensor(TRICLINIC, dtype=torch.float64)
    pbc = torch.tensor([True, True, True])
    pos = torch.tensor(rng.uniform(0, 1, (6, 3)), dtype=torch.float64) @ cell
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = torch.tensor(rot, dtype=torch.float64)
    omega = torch.tensor([0.3, 0.9, 2.1], dtype=torch.float64)

    def energy_and_forces(p, c):
        p = p.clone().requires_grad_(True)
        r = smooth_pair_distance(p, c, pbc)
        e = torch.sin(r[:, :, None] * omega).sum() + (r ** 2).sum()  # any smooth function of the distances
        return float(e), -torch.autograd.grad(e, p)[0]

    e0, f0 = energy_and_forces(pos, cell)
    e1, f1 = energy_and_forces(pos @ rot, cell @ rot)
    assert abs(e0 - e1) <= 1e-11 * abs(e0)
    assert torch.allclose(f1, f0 @ rot, rtol=0, atol=1e-11)
    # the model with the flag: its ERoPE distances are rotation invariant (its SH features are not: spec §1.0)
    model = model_with(7, {"erope_smooth_minimum_image": True}, use_erope=True)
    s = make_fixtures.periodic(8, TRICLINIC, 3)
    p = np.array(s["positions"])
    c = np.array(s["cell"])
    d0 = run(model, [s], forces=False, stress=False, intermediates=True)["intermediates"]["graph"]["dist_pairwise"]
    s_rot = dict(s, positions=(p @ rot.numpy()).tolist(), cell=(c @ rot.numpy()).tolist())
    d1 = run(model, [s_rot], forces=False, stress=False, intermediates=True)["intermediates"]["graph"]["dist_pairwise"]
    assert torch.allclose(d0, d1, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- in the model

def test_flag_changes_only_periodic_systems():
    on = model_with(9, {"erope_smooth_minimum_image": True}, use_erope=True, use_lae=True)
    off = model_with(9, {}, use_erope=True, use_lae=True)
    mol = make_fixtures.molecule(10, 3)
    assert energy_of(on, mol) == energy_of(off, mol)
    box = make_fixtures.periodic(11, TRICLINIC, 4)
    assert abs(energy_of(on, box) - energy_of(off, box)) > 1e-6


def test_forces_and_stress_match_finite_differences():
    model = model_with(12, {"erope_smooth_minimum_image": True, "knn_candidate_margin": True},
                       use_erope=True, use_lae=True, knn_k=8, candidates=16)
    s = make_fixtures.periodic(13, TRICLINIC, 4)
    assert_forces_and_stress_match_fd(model, s)


def half_box_scan(model, step, points=6):
    """Force on atom 2 while its x-distance to atom 0 crosses half of a 14 Å cubic box (no edge changes)."""
    base = np.array([[2.0, 2.0, 2.0], [3.0, 3.5, 2.0], [9.0, 2.4, 2.3]])
    structure = {"numbers": [8, 1, 10], "cell": (np.eye(3) * 14.0).tolist(), "pbc": [True] * 3,
                 "charge": 0, "spin": 1}
    forces, energies, edges = [], [], set()
    for t in (np.arange(points) - (points - 1) / 2) * step:  # symmetric about the crossing, never on it
        pos = base.copy()
        pos[2, 0] += t
        s = dict(structure, positions=pos.tolist())
        out = run(model, [s], stress=False)
        forces.append(out["forces"][2].numpy())
        energies.append(float(out["energy"][0]))
        edges.add(frozenset(edge_set(model, s)))
    assert len(edges) == 1  # only the ERoPE pair distance changes across the scan
    return np.array(forces), np.array(energies)


def test_force_is_continuous_across_half_the_box_only_with_the_flag():
    jumps = {}
    for flag in (False, True):
        model = model_with(14, {"erope_smooth_minimum_image": flag}, use_erope=True, use_lae=True)
        coarse, e_coarse = half_box_scan(model, 1e-3)
        fine, e_fine = half_box_scan(model, 1e-4)
        d_coarse = np.abs(np.diff(coarse, axis=0)).max()
        d_fine = np.abs(np.diff(fine, axis=0)).max()
        jumps[flag] = (d_coarse, d_fine, np.abs(fine).max())
        # the energy is continuous either way
        assert np.abs(np.diff(e_fine)).max() < 0.2 * np.abs(np.diff(e_coarse)).max()
    d_coarse, d_fine, scale = jumps[False]
    assert d_fine > 1e-3 * scale and d_fine > 0.9 * d_coarse  # a finite step in the force
    d_coarse, d_fine, _ = jumps[True]
    assert d_fine < 0.15 * d_coarse  # differences shrink linearly with the step
    assert d_fine < 1e-3 * jumps[False][1]


def shell_structure(seed=15, n_shell=24):
    """A Ne atom with a shell of Ne at 2.9-3.3 Å: its row holds more candidates than the budget, and near ties
    in distance lower the soft ranks so the truncation boundary falls among the edges."""
    rng = np.random.RandomState(seed)
    golden = math.pi * (3 - math.sqrt(5))
    pts = []
    for i in range(n_shell):
        z = 1 - 2 * (i + 0.5) / n_shell
        rho = math.sqrt(1 - z * z)
        pts.append([rho * math.cos(golden * i), rho * math.sin(golden * i), z])
    radii = rng.uniform(2.9, 3.3, n_shell)
    pos = np.concatenate([np.zeros((1, 3)), np.array(pts) * radii[:, None]])
    return {"numbers": [10] * (n_shell + 1), "positions": pos.tolist(), "cell": None, "pbc": [False] * 3,
            "charge": 0, "spin": 1}


def swap_scan(model, structure, step, points=6):
    """Energies while the first candidate dropped from atom 0's row moves through the last one kept."""
    pos = np.array(structure["positions"])
    r = np.linalg.norm(pos, axis=1)
    order = np.argsort(r)  # order[0] is atom 0 itself
    budget = model.arch["knn_candidates"]
    last_kept, first_dropped = order[budget - 1], order[budget]
    energies, edges = [], []
    for t in (np.arange(points) - (points - 1) / 2) * step:
        p = pos.copy()
        p[first_dropped] *= (r[last_kept] + t) / r[first_dropped]
        s = dict(structure, positions=p.tolist())
        energies.append(energy_of(model, s))
        edges.append(edge_set(model, s))
    return np.array(energies), edges


def test_energy_is_continuous_across_a_candidate_swap_only_with_the_margin():
    s = shell_structure()
    off = model_with(16, {}, knn_k=10, candidates=14)
    e_coarse, _ = swap_scan(off, s, 1e-4)
    e_fine, edges = swap_scan(off, s, 1e-5)
    assert edges[0] != edges[-1]  # an edge changes identity at the swap
    jump = np.abs(np.diff(e_fine)).max()
    assert jump > 1e-4 and jump > 0.9 * np.abs(np.diff(e_coarse)).max()  # a finite step in the energy
    on = model_with(16, {"knn_candidate_margin": True}, knn_k=10, candidates=20)
    e_coarse, _ = swap_scan(on, s, 1e-4)
    e_fine, edges = swap_scan(on, s, 1e-5)
    assert all(e == edges[0] for e in edges)
    assert np.abs(np.diff(e_fine)).max() < 0.15 * np.abs(np.diff(e_coarse)).max()
    assert np.abs(np.diff(e_fine)).max() < 1e-3 * jump


def test_fast_graph_model_agrees_with_the_flags_on():
    from fast_graph import FastAllScAIP

    arch = {"erope_smooth_minimum_image": True, "knn_candidate_margin": True}
    ref = model_with(17, arch, use_erope=True, use_lae=True, knn_k=8, candidates=16)
    fast = FastAllScAIP(ref.config).double()
    fast.load_state_dict(ref.state_dict())
    s = make_fixtures.periodic(18, TRICLINIC, 4)
    a, b = run(ref, [s]), run(fast, [s])
    assert abs(float(a["energy"][0] - b["energy"][0])) <= 1e-12 * abs(float(a["energy"][0]))
    assert torch.allclose(a["forces"], b["forces"], rtol=0, atol=1e-12)
    assert torch.allclose(a["stress"], b["stress"], rtol=0, atol=1e-12)
