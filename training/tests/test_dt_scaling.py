"""training/dt_scaling.py: on a surface with no jumps the Verlet energy error is O(dt²), so halving the time step
divides the RMS of E_tot about its fit by ~4. A single water molecule in vacuum keeps one graph (every pair inside
the cutoff), so the shipped model's function is smooth along its trajectory and the measurement must show 4×."""
import os

import torch
from ase.io import read

from dt_scaling import dt_scaling
from evaluate import load_for_eval

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_smooth_trajectory_gives_the_dt_squared_ratio():
    model, _ = load_for_eval(model_dir=os.path.join(ROOT, "public", "models", "water-spcfw-small"), dtype=torch.float64)
    atoms = read(os.path.join(ROOT, "public", "systems", "water.xyz"))
    rows = dt_scaling(model, atoms, [0.5, 0.25, 0.125], duration_fs=12.0, thermalise_steps=40, temperature=300.0, seed=1)
    assert [r["steps"] for r in rows] == [24, 48, 96]
    for r in rows[1:]:
        assert 3.8 < r["rms_ratio_vs_previous"] < 4.2, rows
    # the continuity residual is O(dt³) per step on a smooth surface: ~8× smaller per halving
    assert rows[0]["max_jump_meV"] / rows[2]["max_jump_meV"] > 50, rows
