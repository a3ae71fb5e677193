"""architecture.boo_envelope_weighted: the envelope-weighted BOO mean (docs/model-format.md).

Flag off is the reference (test_golden.py, test_fixtures.py); here: the flag's parsing, the weighted mean
against its formula, autograd forces/stress against finite differences, and energy continuity where an
edge leaves the graph (at the cutoff and at a soft-kNN rank boundary), which the plain mean lacks.
"""
import numpy as np
import pytest
import torch

import make_fixtures
from conftest import run
from scaip.config import ModelConfigError, validate_config
from scaip.sh import spherical_harmonics


def energy_of(model, structure):
    return float(run(model, [structure], forces=False, stress=False)["energy"][0])


def edge_set(model, structure):
    g = run(model, [structure], forces=False, stress=False, intermediates=True)["intermediates"]["graph"]
    return {(int(a), int(b), *map(int, s)) for a, b, s in zip(g["center"], g["neighbor"], g["shift"])}


def test_flag_defaults_off_and_is_checked():
    config = make_fixtures.make_config("t", "t")
    del config["architecture"]["boo_envelope_weighted"]
    assert validate_config(config)["architecture"]["boo_envelope_weighted"] is False
    config["architecture"]["boo_envelope_weighted"] = 1
    with pytest.raises(ModelConfigError, match="boo_envelope_weighted"):
        validate_config(config)


def test_weighted_mean_formula(small_model):
    model = small_model(seed=21, knn_k=8, candidates=12, boo_envelope_weighted=True)
    s = make_fixtures.molecule(25, 4)
    inter = run(model, [s], forces=False, stress=False, intermediates=True)["intermediates"]
    g = inter["graph"]
    x = g["env"].numpy()
    w = np.exp(-x * x / (1 - x * x))
    lmax = model.arch["boo_lmax"]
    disp = g["disp"]
    unit = disp / disp.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    y = spherical_harmonics(lmax, unit).numpy()
    n = len(s["numbers"])
    want = np.zeros((n, lmax + 1))
    for a in range(n):
        rows = (g["center"] == a).numpy()
        assert np.isclose(w[rows].max(), 1.0)  # the self slot
        m = (w[rows, None] * y[rows]).sum(0) / w[rows].sum()
        for deg in range(lmax + 1):
            part = m[deg * deg:(deg + 1) * (deg + 1)] / np.sqrt(2 * deg + 1)
            want[a, deg] = np.sqrt(max((part ** 2).sum(), 1e-6))
    assert np.abs(inter["boo"].numpy() - want).max() <= 1e-14
    # and it is not the plain mean
    plain = small_model(seed=21, knn_k=8, candidates=12)
    other = run(plain, [s], forces=False, stress=False, intermediates=True)["intermediates"]["boo"]
    assert (other - inter["boo"]).abs().max() > 1e-3


def test_forces_and_stress_match_finite_differences(small_model):
    h = 1e-5
    cases = [
        (small_model(seed=22, knn_k=8, candidates=12, use_lae=True, use_erope=True, boo_envelope_weighted=True),
         make_fixtures.molecule(27, 3)),
        (small_model(seed=23, knn_k=10, candidates=16, use_lae=True, use_erope=True, boo_envelope_weighted=True),
         make_fixtures.periodic(28, [[6.4, 0.0, 0.0], [1.1, 6.2, 0.0], [-0.7, 0.9, 5.8]], 4)),
    ]
    for model, s in cases:
        out = run(model, [s])
        forces = out["forces"]
        pos = np.array(s["positions"])
        for atom, axis in [(0, 0), (1, 2), (4, 1), (7, 0), (8, 2)]:
            plus, minus = pos.copy(), pos.copy()
            plus[atom, axis] += h
            minus[atom, axis] -= h
            fd = -(energy_of(model, dict(s, positions=plus)) - energy_of(model, dict(s, positions=minus))) / (2 * h)
            assert abs(fd - float(forces[atom, axis])) <= 1e-7 * float(forces.abs().max()), (atom, axis)
        if s["cell"] is None:
            continue
        stress, cell = out["stress"][0], np.array(s["cell"])
        volume = abs(np.linalg.det(cell))
        for i, j in [(0, 0), (1, 2), (0, 2)]:
            eps = np.zeros((3, 3))
            eps[i, j] = eps[j, i] = h / 2 if i != j else h
            e = [energy_of(model, dict(s, positions=(pos @ (np.eye(3) + sg * eps)).tolist(),
                                       cell=(cell @ (np.eye(3) + sg * eps)).tolist())) for sg in (1, -1)]
            fd = (e[0] - e[1]) / (2 * h) / volume
            assert abs(fd - float(stress[i, j])) <= 1e-7 * float(stress.abs().max()), (i, j)


def crossing(model, s, atom, direction, lo, hi):
    """Bisect the displacement t of `atom` along `direction` at which the edge set changes."""
    def at(t):
        pos = np.array(s["positions"])
        pos[atom] += t * np.asarray(direction)
        return dict(s, positions=pos.tolist())
    before = edge_set(model, at(lo))
    assert edge_set(model, at(hi)) != before
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if edge_set(model, at(mid)) == before:
            lo = mid
        else:
            hi = mid
    return lo, at


def jump_and_slope(model, s, atom, direction, lo, hi):
    """|E(t*+ε) - E(t*-ε)| for ε = 1e-10 Å at the edge-set change, and the largest neighbour difference on grids."""
    t0, at = crossing(model, s, atom, direction, lo, hi)
    jump = abs(energy_of(model, at(t0 + 1e-10)) - energy_of(model, at(t0 - 1e-10)))
    steps = []
    for step in (1e-3, 1e-4):
        grid = t0 + step * (np.arange(-4, 5) + 0.5)
        e = [energy_of(model, at(t)) for t in grid]
        steps.append(float(np.abs(np.diff(e)).max()))
    return jump, steps


def cutoff_case():
    # two waters and a Ne atom that leaves atom 0's cutoff sphere along +x (few atoms: ranks stay far below k)
    s = make_fixtures.molecule(29, 2)
    pos = np.array(s["positions"])
    ne = pos[0] + [5.75, 0.0, 0.0]
    return dict(s, numbers=s["numbers"] + [10], positions=pos.tolist() + [ne.tolist()]), 6, [1.0, 0.0, 0.0]


def rank_case():
    # knn_k 4: atom 6 moving away from atom 0 changes who is among the soft 4 nearest, far inside the cutoff
    s = make_fixtures.molecule(30, 3)
    pos = np.array(s["positions"])
    far = pos[6] - pos[0]
    return s, 6, (far / np.linalg.norm(far)).tolist()


@pytest.mark.parametrize("which", ["cutoff", "rank"])
def test_energy_continuous_where_an_edge_leaves(small_model, which):
    if which == "cutoff":
        s, atom, direction = cutoff_case()
        kw, lo, hi = dict(knn_k=30, candidates=50), 0.0, 0.4
    else:
        s, atom, direction = rank_case()
        kw, lo, hi = dict(knn_k=4, candidates=50), 0.0, 3.0
    smooth = small_model(seed=31, use_lae=True, use_erope=True, boo_envelope_weighted=True, **kw)
    plain = small_model(seed=31, use_lae=True, use_erope=True, **kw)
    if which == "rank":
        # the edge that leaves does so through its rank (its distance is well inside the cutoff)
        t0, at = crossing(smooth, s, atom, direction, lo, hi)
        changed = edge_set(smooth, at(t0)) ^ edge_set(smooth, at(t0 + 1e-6))
        pos = np.array(at(t0)["positions"])
        assert changed and all(np.linalg.norm(pos[b] - pos[a]) < 0.85 * 6.0 for a, b, *_ in changed)
    jump_on, steps_on = jump_and_slope(smooth, s, atom, direction, lo, hi)
    jump_off, steps_off = jump_and_slope(plain, s, atom, direction, lo, hi)
    # flag on: no jump beyond |F|·2e-10 and rounding, and grid differences shrink with the step (|ΔE| ~ |F|·step)
    assert jump_on <= 1e-10
    assert steps_on[1] <= 0.15 * steps_on[0]
    # flag off (the reference): a finite jump that does not shrink with the step
    assert jump_off >= 1e-6
    assert steps_off[1] >= jump_off * 0.99
    assert jump_off >= 100 * steps_on[1]


def test_training_and_export_keep_the_flag(small_model, tmp_path):
    import train
    from fast_graph import FastAllScAIP
    from scaip.io import load_model, save_model

    assert train.arch_override("boo_envelope_weighted=true") == ("boo_envelope_weighted", True)
    with pytest.raises(SystemExit, match="JSON"):
        train.arch_override("boo_envelope_weighted=yes")
    model = small_model(seed=32, knn_k=8, candidates=12, use_lae=True, use_erope=True, boo_envelope_weighted=True)
    # the training model (fast graph builder) computes the same thing
    fast = FastAllScAIP(model.config).double()
    fast.load_state_dict(model.state_dict())
    s = make_fixtures.periodic(33, [[6.4, 0.0, 0.0], [1.1, 6.2, 0.0], [-0.7, 0.9, 5.8]], 4)
    a, b = run(model, [s]), run(fast, [s])
    assert abs(float(a["energy"][0] - b["energy"][0])) <= 1e-12 * abs(float(a["energy"][0]))
    assert (a["forces"] - b["forces"]).abs().max() <= 1e-12
    # written with the flag, read back with it; a model without it writes no key (files as before the flag)
    save_model(model, tmp_path / "on")
    assert load_model(tmp_path / "on").arch["boo_envelope_weighted"] is True
    save_model(small_model(seed=32), tmp_path / "off")
    assert "boo_envelope_weighted" not in (tmp_path / "off" / "model.json").read_text()
    assert load_model(tmp_path / "off").arch["boo_envelope_weighted"] is False


def test_float32_close_to_float64(small_model):
    # training and the PyTorch MD run in float32: the weights (exp of a large negative number near x = 1) stay benign
    model = small_model(seed=34, knn_k=10, candidates=16, use_lae=True, use_erope=True, boo_envelope_weighted=True)
    s = make_fixtures.periodic(35, [[6.4, 0.0, 0.0], [1.1, 6.2, 0.0], [-0.7, 0.9, 5.8]], 6)
    ref = run(model, [s])
    out = run(model.float(), [s])
    assert abs(float(out["energy"][0]) - float(ref["energy"][0])) <= 1e-5 * abs(float(ref["energy"][0]))
    assert (out["forces"].double() - ref["forces"]).abs().max() <= 1e-4 * float(ref["forces"].abs().max())
    assert torch.isfinite(out["stress"]).all()
