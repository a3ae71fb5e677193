"""Smooth-surface signature of a model: how NVE energy fluctuations scale with the time step (float64).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/dt_scaling.py --model public/models/water-spcfw-small \
        --start public/systems/water64_box.xyz --out dt_scaling.json

Thermalises with Langevin BAOAB (0.5 fs, 300 K), then runs velocity Verlet NVE from that one state at each
time step of --dt-fs over the same --duration-fs and reports, per step size, the RMS of E_tot about its linear fit
and the largest per-step energy-continuity residual ΔE_pot + ½(F_n + F_{n+1})·Δx. On a smooth surface the
Verlet energy error is O(dt²): halving dt divides the RMS by ~4. A surface with jumps (an edge entering the graph
changing the energy by a finite step) adds a random walk of those jumps that does not shrink with dt, so the ratio
falls towards 1. Everything runs in float64 (model and positions), so float32 round-off is not what is measured.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from ase import units
from ase.io import read

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from drift_report import drift_stats  # noqa: E402
from evaluate import load_for_eval  # noqa: E402
from model_md import ModelMD  # noqa: E402


def nve_from(md, state, dt_fs, duration_fs):
    """Velocity Verlet from `state` for duration_fs; E_tot per step and continuity residuals (eV)."""
    md.restore(state)
    steps = int(round(duration_fs / dt_fs))
    t, e_tot, e_kin, jumps = [0.0], [md.e + md.kinetic()], [md.kinetic()], []
    for step in range(1, steps + 1):
        pos0, f0, e0 = md.pos.copy(), md.f, md.e
        md.verlet(dt_fs * units.fs)
        jumps.append((md.e - e0) + 0.5 * float(((f0 + md.f) * (md.pos - pos0)).sum()))
        t.append(step * dt_fs / 1000)
        e_tot.append(md.e + md.kinetic())
        e_kin.append(md.kinetic())
    return np.array(t), np.array(e_tot), np.array(e_kin), np.abs(np.array(jumps))


def dt_scaling(model, atoms, dts_fs, duration_fs, thermalise_steps, temperature, seed, log=None):
    """One rows entry per time step: RMS of E_tot about its linear fit (meV/atom), continuity residuals (meV), and
    the RMS ratio to the previous (longer) step, all NVE runs starting from one thermalised state."""
    cell = atoms.cell.array if atoms.pbc.any() else np.zeros((3, 3))
    md = ModelMD(model, atoms.numbers, atoms.get_positions(), cell, seed, temperature)
    for _ in range(thermalise_steps):
        md.baoab(0.5 * units.fs, 0.01 / units.fs)
    state = md.state()
    rows = []
    for dt_fs in dts_fs:
        t, e_tot, e_kin, jumps = nve_from(md, state, dt_fs, duration_fs)
        s = drift_stats(t, e_tot, e_kin, len(atoms))
        rows.append({"dt_fs": dt_fs, "steps": len(t) - 1, "rms_about_fit_meV_per_atom": s["rms_Etot_about_fit_meV_atom"],
                     "max_jump_meV": float(jumps.max() * 1000), "mean_jump_meV": float(jumps.mean() * 1000)})
        if len(rows) > 1:
            rows[-1]["rms_ratio_vs_previous"] = rows[-2]["rms_about_fit_meV_per_atom"] / rows[-1]["rms_about_fit_meV_per_atom"]
        if log:
            log(rows[-1])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="model directory (model.json + weights)")
    src.add_argument("--run", help="training run directory (EMA weights of its checkpoint)")
    ap.add_argument("--start", required=True, help="start structure (extXYZ with a cell)")
    ap.add_argument("--dt-fs", default="0.25,0.125,0.0625", help="comma-separated NVE time steps, fs")
    ap.add_argument("--duration-fs", type=float, default=40.0)
    ap.add_argument("--thermalise-steps", type=int, default=200, help="BAOAB steps at 0.5 fs before NVE")
    ap.add_argument("--temperature", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", help="write the numbers here (JSON)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_for_eval(run=args.run, model_dir=args.model, dtype=torch.float64)
    atoms = read(args.start)
    t0 = time.time()
    rows = dt_scaling(model, atoms, [float(x) for x in args.dt_fs.split(",")], args.duration_fs,
                      args.thermalise_steps, args.temperature, args.seed, log=lambda r: print(json.dumps(r), flush=True))
    n = len(atoms)
    out = {"model": args.model or args.run, "start": args.start, "atoms": n, "duration_fs": args.duration_fs,
           "thermalise": f"{args.thermalise_steps} BAOAB steps at 0.5 fs, 0.01/fs, {args.temperature} K, seed {args.seed}",
           "precision": "float64", "rows": rows, "wall_s": round(time.time() - t0, 1)}
    print(json.dumps(out, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
