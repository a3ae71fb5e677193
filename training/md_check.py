"""Short NVT stability check of a shipped water model (PyTorch, float32, Langevin BAOAB at 0.5 fs).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/md_check.py --model public/models/water-spcfw-small --steps 400

Starts from the first frame of a held-out 64-molecule test trajectory and reports the temperature, the potential
energy, the shortest and longest O-H distance and the largest force along the way. "Stable" here means: no
molecule breaks (O-H within 0.8-1.3 Å), no atoms collapse onto each other, temperature stays near the target.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from ase import units

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from datasets import load_dataset  # noqa: E402
from evaluate import load_for_eval  # noqa: E402
from train import make_batch, predict  # noqa: E402

MASSES = {1: 1.008, 8: 15.9994}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="shipped model directory")
    src.add_argument("--run", help="training run directory (EMA weights of its checkpoint)")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--dt-fs", type=float, default=0.5)
    ap.add_argument("--temperature", type=float, default=300.0)
    ap.add_argument("--friction-per-fs", type=float, default=0.01)
    ap.add_argument("--out", help="write the summary JSON here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_for_eval(run=args.run, model_dir=args.model)
    test = [t for t in load_dataset("water")["test"] if t.group == "w64"]
    s = test[0].structure(0)
    n = len(s["numbers"])
    mass = np.array([MASSES[int(z)] for z in s["numbers"]])[:, None]  # amu
    rng = np.random.default_rng(0)
    kT = units.kB * args.temperature
    dt = args.dt_fs * units.fs
    gamma = args.friction_per_fs / units.fs
    c1 = np.exp(-gamma * dt)
    c2 = np.sqrt((1 - c1 * c1) * kT / mass)
    pos = s["positions"].copy()
    vel = rng.normal(size=pos.shape) * np.sqrt(kT / mass)
    vel -= (mass * vel).sum(0) / mass.sum()
    cell = s["cell"]

    def forces(p):
        out = predict(model, make_batch([dict(s, positions=p)]))
        return out["forces"].detach().double().numpy(), float(out["energy"][0])

    f, e = forces(pos)
    log = []
    t0 = time.time()
    for step in range(1, args.steps + 1):
        vel += 0.5 * dt * f / mass
        pos += 0.5 * dt * vel
        vel = c1 * vel + c2 * rng.normal(size=vel.shape)
        pos += 0.5 * dt * vel
        f, e = forces(pos)
        vel += 0.5 * dt * f / mass
        if step % 20 == 0 or step == args.steps:
            x = pos.reshape(-1, 3, 3)
            dv = x[:, 1:] - x[:, :1]
            dv -= np.round(dv @ np.linalg.inv(cell)) @ cell
            oh = np.linalg.norm(dv, axis=-1)
            temp = float((mass * vel ** 2).sum() / (3 * n - 3) / units.kB)
            rec = {"step": step, "time_fs": step * args.dt_fs, "T_K": temp, "E_pot_eV": e,
                   "OH_min_A": float(oh.min()), "OH_max_A": float(oh.max()), "F_max_eV_A": float(np.abs(f).max())}
            log.append(rec)
            print(json.dumps(rec), flush=True)
    oh_ok = all(0.8 < r["OH_min_A"] and r["OH_max_A"] < 1.3 for r in log)
    summary = {"model": args.model or args.run, "steps": args.steps, "dt_fs": args.dt_fs, "simulated_fs": args.steps * args.dt_fs,
               "thermostat": f"Langevin BAOAB {args.friction_per_fs}/fs at {args.temperature} K",
               "mean_T_K_second_half": float(np.mean([r["T_K"] for r in log[len(log) // 2:]])),
               "molecules_intact": oh_ok, "wall_s": round(time.time() - t0, 1), "log": log}
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(summary, fh, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "log"}))


if __name__ == "__main__":
    main()
